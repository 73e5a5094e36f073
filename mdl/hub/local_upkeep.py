"""Upkeep of a hub folder: what is on disk besides the index, what killed publishers left, and the model
sets' metadata files derived from the index. :func:`~mdl.hub.maintenance.check_hub` and
:func:`~mdl.hub.maintenance.repair_hub` use it, and so does every publish (which cleans up after dead
publishers and re-derives metadata that disagrees with the index).

>>> _is_stale("publish-1-otherhost-abc"), _is_stale("leftover")
(False, True)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from mdl.hub.card import disagreement, model_card
from mdl.hub.modelset import INDEX, MODELSET, README, modelset_record, record_meta

__all__ = ["HOST", "JOURNAL", "STAGING", "LocalUpkeep", "atomic_write", "read_if_present"]

STAGING = ".staging"
#: This machine, as a publisher's staging folder names it.
HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64] or "host"
_STAGED = re.compile(r"^publish-(?P<pid>[0-9]+)-(?P<host>[A-Za-z0-9._]+)-")
#: In a staging folder: the model folders its publisher is moving into place (see ``LocalPublishing._commit``).
JOURNAL = ".moved.json"  # a dot first: no model id can be this name
_MOVED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/models/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


class LocalUpkeep:
    """The upkeep methods of :class:`~mdl.hub.local.LocalHub`, which gives them ``root`` and ``index()``."""

    root: Path

    def model_sets(self) -> list[str]:
        """Names of the model set folders on disk (holding a ``modelset.json`` or a ``models`` folder).

        Returns
        -------
        list of str
            Sorted names.
        """
        if not self.root.is_dir():
            return []
        return [p.name for p in sorted(self.root.iterdir()) if p.is_dir() and not p.name.startswith(".")
                and ((p / MODELSET).is_file() or (p / "models").is_dir())]

    def model_folders(self) -> list[tuple[str, str]]:
        """Every model folder on disk, indexed or not.

        Returns
        -------
        list of tuple of (str, str)
            (model set, folder name), sorted.
        """
        out = []
        for modelset in self.model_sets():
            models = self.root / modelset / "models"
            if models.is_dir():
                out += [(modelset, p.name) for p in sorted(models.iterdir()) if p.is_dir()]
        return out

    def stale_staging(self) -> list[Path]:
        """What killed publishers left.

        Staging folders whose publisher is gone (on this host with no such process, or not named by a
        process at all: left by an older mdl), and the temporary files of atomic writes (written only
        under the lock, so any found while holding it is stale).

        Returns
        -------
        list of Path
            The folders and files.
        """
        folder = self.root / STAGING
        staged = [p for p in sorted(folder.iterdir()) if _is_stale(p.name)] if folder.is_dir() else []
        written = [*self.root.glob(f".{INDEX}.*.tmp"), *(p for s in self.model_sets()
                                                         for p in (self.root / s).glob(".*.tmp"))]
        return staged + sorted(written)

    def remove_stale_staging(self, index: pd.DataFrame | None) -> list[Path]:
        """Remove what killed publishers left (hold :meth:`locked`).

        Given the ``index``, the model folders a killed publisher had moved into place but not indexed
        are removed too (they were never published); without it (the index is lost) they are left to be
        re-indexed.

        Parameters
        ----------
        index : pandas.DataFrame or None
            The index, None when it is lost.

        Returns
        -------
        list of Path
            What was removed.
        """
        stale = self.stale_staging()
        published = set(index["path"]) if index is not None else None
        for path in stale:
            if published is not None:
                for moved in sorted(_journal(path) - published):
                    target = self.root / moved
                    if target.is_dir() and not target.is_symlink() and target.resolve().is_relative_to(self.root):
                        shutil.rmtree(target)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return stale

    def metadata_problems(self, index: pd.DataFrame) -> dict[str, list[str]]:
        """How the model sets' ``modelset.json`` and ``README.md`` disagree with the index.

        Parameters
        ----------
        index : pandas.DataFrame
            The index.

        Returns
        -------
        dict of str to list of str
            For each set (in ``index`` or on disk) that disagrees: how.
        """
        out = {}
        for modelset in sorted(set(index["modelset"]) | set(self.model_sets())):
            record, card = read_if_present(self.root / modelset / MODELSET), read_if_present(self.root / modelset / README)
            problems = disagreement(modelset, index[index["modelset"] == modelset], record,
                                    None if card is None else card.decode(errors="replace"))
            if problems:
                out[modelset] = problems
        return out

    def sync_metadata(self, index: pd.DataFrame, metas: Mapping[str, dict] | None = None) -> list[str]:
        """Rewrite model sets' metadata files from the index (hold :meth:`locked`).

        Parameters
        ----------
        index : pandas.DataFrame
            The index.
        metas : mapping of str to dict, optional
            Metadata to merge into these sets' records; they are rewritten whether or not they disagree.

        Returns
        -------
        list of str
            The sets rewritten: those in ``metas`` and every one whose files disagree with the index.
        """
        metas = metas or {}
        rewritten = sorted(set(self.metadata_problems(index)) | set(metas))
        for modelset in rewritten:
            meta = {**record_meta(read_if_present(self.root / modelset / MODELSET)), **metas.get(modelset, {})}
            self._write_metadata(modelset, index[index["modelset"] == modelset], meta)
        return rewritten

    def _uncommitted(self) -> set[str]:
        """Model folders that publishers (running or killed) moved into place before writing the index."""
        folder = self.root / STAGING
        return set().union(*(_journal(p) for p in folder.iterdir())) if folder.is_dir() else set()

    def _write_metadata(self, modelset: str, rows: pd.DataFrame, meta: dict) -> None:
        folder = self.root / modelset
        atomic_write(folder / MODELSET, lambda p: Path(p).write_bytes(modelset_record(modelset, rows, meta)))
        if len(rows):
            atomic_write(folder / README, lambda p: Path(p).write_text(model_card(modelset, rows, meta)))
        else:  # a set the index has no model of: no card
            (folder / README).unlink(missing_ok=True)


def _is_stale(name: str) -> bool:
    match = _STAGED.match(name)
    if match is None:
        return True
    if match["host"] != HOST:
        return False  # another machine's publisher: whether it runs cannot be told from here
    pid = int(match["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return False


def _journal(staging: Path) -> set[str]:
    """The model folders (``<set>/models/<id>``) a publisher recorded before moving them into place;
    empty when it recorded none or died while recording (then it had moved nothing)."""
    try:
        paths = json.loads((staging / JOURNAL).read_text())
    except (OSError, ValueError, RecursionError):
        return set()
    if not isinstance(paths, list):
        return set()
    return {p for p in paths if isinstance(p, str) and _MOVED.match(p) and ".." not in p}


def read_if_present(path: Path) -> bytes | None:
    """A file's bytes, None when there is no such file.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    bytes or None
        Its content.
    """
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Write through a temporary sibling then rename, so readers never see a partial file.

    Parameters
    ----------
    path : Path
        The file.
    write : callable
        Writes the content into the path it is given.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
