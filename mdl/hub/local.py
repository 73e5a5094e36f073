"""The embedded default hub: a folder laid out as Hugging Face model repositories plus an index.

Layout::

    <root>/index.parquet                 one row per model (see mdl.hub.index.COLUMNS)
    <root>/<modelset>/README.md          model card with Hub metadata
    <root>/<modelset>/modelset.json      the set's metadata and its models' files and hashes
    <root>/<modelset>/models/<id>/…      config.json, weights.safetensors, blobs
    <root>/.staging/publish-<pid>-<host>-…/  what a running publisher is saving

Publishing stages every model in a folder named by the publisher's process, then, under a file lock,
removes the staging folders of publishers that are gone, moves the models into place and replaces the
index atomically; the model sets' metadata files are derived from the index after it is replaced, and
every publish re-derives those of any set that disagrees with it. So a publish killed at any moment
leaves no model in the index that is not completely on disk, and what it left behind (its staging
folder, model folders it had moved into place but not indexed, metadata one publish behind) is
cleaned up by the next publish; concurrent publishers lose nothing. The index is read as untrusted
input (:mod:`mdl.hub.validate`), and each model's folder and files are confined to the hub before one
is opened. A hub whose index is lost or unreadable is an
error pointing at ``mdl hub repair`` (:mod:`mdl.hub.check`), never silently an empty hub, and reading a
folder that does not exist is a :class:`~mdl.errors.HubNotFoundError` that creates nothing (only
publishing creates a hub). Publishers, ``check`` and ``repair`` take turns on the file lock
``<root>/.lock`` (:mod:`filelock`: ``flock`` on POSIX, ``LockFileEx`` on Windows).

>>> hub = LocalHub("/tmp/zoo")                 # doctest: +SKIP
>>> hub.publish(models, modelset="qm9-homo")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock
from tqdm.auto import tqdm

from mdl.errors import HubError
from mdl.hub.card import disagreement, model_card
from mdl.hub.index import COLUMNS, empty_index, index_row, new_index_rows
from mdl.hub.protocol import HubKind
from mdl.hub.modelset import INDEX, MODELSET, README, modelset_record, record_meta
from mdl.hub.presence import hub_not_found, model_not_found
from mdl.hub.staging import stage
from mdl.hub.validate import check_files, check_model_id, check_name, check_path, confined, read_index
from mdl.store.files import read_verified
from mdl.store.loader import StoredModel, read_model

__all__ = ["INDEX", "STAGING", "LocalHub", "check_name"]

STAGING = ".staging"
_HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64] or "host"
_STAGED = re.compile(r"^publish-(?P<pid>[0-9]+)-(?P<host>[A-Za-z0-9._]+)-")
#: In a staging folder: the model folders its publisher is moving into place (see ``_commit``).
JOURNAL = ".moved.json"  # a dot first: no model id can be this name
_MOVED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/models/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


class LocalHub:
    """A zoo in a local folder (created by the first publish, never by a read); a :class:`~mdl.hub.protocol.Hub`.

    Parameters
    ----------
    root : str or Path
        The folder.

    Examples
    --------
    >>> LocalHub("/tmp/zoo").kind
    'local'
    """

    kind: HubKind = "local"

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self._cache: tuple[tuple[int, int, int], pd.DataFrame] | None = None
        self._models: dict[tuple[str, str], StoredModel] = {}

    def __repr__(self) -> str:
        return f"LocalHub({str(self.root)!r})"

    @property
    def address(self) -> str:
        """The hub's folder, as a string.

        Returns
        -------
        str
            The resolved folder path.
        """
        return str(self.root)

    # -- reading -------------------------------------------------------------------------------
    def index(self, *, missing_ok: bool = True) -> pd.DataFrame:
        """The index, validated; cached until the file changes.

        Parameters
        ----------
        missing_ok : bool, default True
            Read a folder that does not exist as a hub without models (what a writer about to create
            it needs); False refuses it (what every read verb does).

        Returns
        -------
        pandas.DataFrame
            One row per model (the columns of :data:`mdl.hub.index.COLUMNS`); empty for a new hub.

        Raises
        ------
        HubNotFoundError
            Without ``missing_ok``, when the folder does not exist (saying how to fill a hub).
        HubError
            Pointing at ``mdl hub repair`` when the index is unreadable, or missing while the hub holds
            model sets; when the hub's path is a file.

        Examples
        --------
        >>> len(LocalHub("/nonexistent/zoo").index())
        0
        >>> LocalHub("/nonexistent/zoo").index(missing_ok=False)   # doctest: +ELLIPSIS
        Traceback (most recent call last):
        mdl.errors.HubNotFoundError: hub /nonexistent/zoo does not exist (nothing was created); fill it with ...
        """
        if not self.root.is_dir():
            if self.root.exists():
                raise HubError(f"hub {self.root} is a file, not a hub folder")
            if not missing_ok:
                raise hub_not_found(self.address)
        path = self.root / INDEX
        try:
            stat = path.stat()
        except FileNotFoundError:
            held = sorted({f"{s}/models/{m}" for s, m in self.model_folders()} - self._uncommitted())
            if held:
                raise HubError(f"hub {self.root}: {INDEX} is missing but the hub holds {len(held)} model folder(s) "
                               f"({', '.join(held[:3])}{' …' if len(held) > 3 else ''}); rebuild it from the models "
                               f"on disk with `mdl hub repair {self.root}`") from None
            return empty_index()
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._cache is None or self._cache[0] != stamp:
            try:
                frame = read_index(path, f"hub {self.root}: {INDEX}")
            except HubError as exc:
                raise HubError(f"{exc}; rebuild it from the models on disk with `mdl hub repair {self.root}`") \
                    from exc
            self._cache = (stamp, frame)
        return self._cache[1]

    def row(self, model_id: str) -> pd.Series:
        """The index row of one model.

        Parameters
        ----------
        model_id : str
            The model's id.

        Returns
        -------
        pandas.Series
            Its row.

        Raises
        ------
        HubNotFoundError
            When the hub's folder does not exist.
        EmptyHubError
            When the hub holds no model (saying how to fill it).
        ModelNotFoundError
            When the index has no such model (suggesting near ids).
        """
        index = self.index(missing_ok=False)
        hits = index.index[index["model_id"] == model_id]
        if len(hits) == 0:
            raise model_not_found(model_id, index["model_id"], self.address)
        return index.loc[hits[0]]

    def load(self, model_id: str) -> StoredModel:
        """Load and verify a model; served from memory when already loaded and unchanged.

        Parameters
        ----------
        model_id : str
            The model's id.

        Returns
        -------
        SourceModel
            The model.
        """
        row = self.row(model_id)
        key = (model_id, row["files"])
        if key not in self._models:
            self._models[key] = self.read_model(model_id)
        return self._models[key]

    def load_many(self, model_ids: Sequence[str]) -> list[StoredModel]:
        """Load several models, each as :meth:`load` does (a folder has nothing to batch).

        Parameters
        ----------
        model_ids : sequence of str
            The models' ids.

        Returns
        -------
        list of SourceModel
            The models, in the order asked.
        """
        return [self.load(model_id) for model_id in model_ids]

    def read_model(self, model_id: str) -> StoredModel:
        """Load a model from disk, never from memory.

        Only the files its row lists are read, each verified, and the model must call itself ``model_id``;
        the folder is read by the reader of :mod:`mdl.store.loader`.

        Parameters
        ----------
        model_id : str
            The model's id.

        Returns
        -------
        SourceModel
            The model.

        Raises
        ------
        IntegrityError, ModelFormatError
            Naming the model and file that do not verify or parse.
        """
        folder, files = self._located(self.row(model_id))
        return check_model_id(read_model(folder, files), model_id)

    def model_bytes(self, model_ids: Sequence[str]) -> list[dict[str, bytes]]:
        """Each model's files as published, every one verified against its sha256.

        Parameters
        ----------
        model_ids : sequence of str
            The models' ids.

        Returns
        -------
        list of dict of str to bytes
            ``{file name: bytes}`` per model, in the order asked.
        """
        out = []
        for model_id in model_ids:
            folder, files = self._located(self.row(model_id))
            out.append(read_verified(folder, files, model_id))
        return out

    def modelset_meta(self, modelset: str) -> dict:
        """The metadata recorded in a model set's ``modelset.json`` (licence, description, source…).

        Parameters
        ----------
        modelset : str
            The set's name.

        Returns
        -------
        dict
            Its metadata; empty when the record is absent or unreadable.
        """
        return record_meta(_read_bytes(self.root / modelset / MODELSET))

    def _located(self, row: pd.Series) -> tuple[Path, dict[str, str]]:
        """A row's model folder and files map, once both are confined to the hub (nothing opened yet)."""
        model_id = row["model_id"]
        path = check_path(model_id, row["path"], f"{row['modelset']}/models/{model_id}")
        folder = confined(self.root, self.root / path, model_id, "path")
        files = check_files(model_id, row["files"], folder)
        for name in files:
            confined(self.root, folder / name, model_id, "files")
        return folder, files

    # -- what is on disk -----------------------------------------------------------------------
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

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the hub's publishing lock (publishers, ``check`` and ``repair`` take turns).

        Creates the hub's folder: callers that only read check that it exists first.

        Returns
        -------
        contextlib.AbstractContextManager
            Holding the lock (the file ``<root>/.lock``) while the ``with`` block runs.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(self.root / ".lock"):  # one per call: a hub stays copyable (sklearn's clone deep-copies)
            yield

    def publish(
        self,
        models: Sequence[StoredModel],
        modelset: str,
        meta: dict | None = None,
        progress: bool = True,
    ) -> list[str]:
        """Publish models into a model set.

        Re-publishing an identical model is a no-op; a different model under an existing id is refused
        before anything changes.

        Parameters
        ----------
        models : sequence of SourceModel
            The models.
        modelset : str
            The set to publish into.
        meta : dict, optional
            Metadata merged into the set's ``modelset.json``.
        progress : bool
            Show a progress bar while saving.

        Returns
        -------
        list of str
            The models' ids.

        Raises
        ------
        HubError
            For an invalid or duplicate id, or an id already published with other content.
        """
        check_name("model set", modelset)
        models = list(models)
        ids = [check_name("model id", m.model_id) for m in models]
        if len(set(ids)) != len(ids):
            raise HubError("duplicate model ids in one publish")
        with self._staging() as staging:
            rows = []
            for model in tqdm(models, desc=f"saving {modelset}", disable=not progress, unit="model"):
                files = model.save(staging / model.model_id)
                rows.append(index_row(model, modelset, f"{modelset}/models/{model.model_id}", files))
            self._commit(staging, rows, modelset, meta or {})
        return ids

    def publish_files(self, models: Mapping[str, Mapping[str, bytes]], modelset: str, meta: dict | None = None,
                      progress: bool = True) -> list[str]:
        """Publish models given as their files, written verbatim after each has been loaded from them.

        Parameters
        ----------
        models : mapping of str to mapping of str to bytes
            ``{model id: {file name: bytes}}``, as :meth:`model_bytes` returns them.
        modelset : str
            The set to publish into.
        meta : dict, optional
            Metadata merged into the set's ``modelset.json``.
        progress : bool
            Unused here (writing files is quick); part of the hub interface.

        Returns
        -------
        list of str
            The models' ids.
        """
        check_name("model set", modelset)
        with self._staging() as staging:
            rows = stage(models, staging, modelset, lambda model_id: f"{modelset}/models/{model_id}")
            self._commit(staging, rows, modelset, meta or {})
        return list(models)

    def write_index(self, index: pd.DataFrame) -> None:
        """Replace the index atomically (hold :meth:`locked`).

        Parameters
        ----------
        index : pandas.DataFrame
            The new index.
        """
        _atomic_write(self.root / INDEX, lambda p: index[COLUMNS].to_parquet(p, index=False))

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
            record, card = _read_bytes(self.root / modelset / MODELSET), _read_bytes(self.root / modelset / README)
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
            meta = {**record_meta(_read_bytes(self.root / modelset / MODELSET)), **metas.get(modelset, {})}
            self._write_metadata(modelset, index[index["modelset"] == modelset], meta)
        return rewritten

    def _uncommitted(self) -> set[str]:
        """Model folders that publishers (running or killed) moved into place before writing the index."""
        folder = self.root / STAGING
        return set().union(*(_journal(p) for p in folder.iterdir())) if folder.is_dir() else set()

    @contextmanager
    def _staging(self) -> Iterator[Path]:
        """A staging folder named by this process (so a later publish can tell when it is stale)."""
        root = self.root / STAGING
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"publish-{os.getpid()}-{_HOST}-", dir=root))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, staging: Path, rows: list[dict[str, Any]], modelset: str, meta: dict) -> None:
        """Under the lock: clean up after dead publishers, move the new models into place, replace
        the index, then derive the metadata files from it."""
        with self.locked():
            index = self.index()  # a lost or unreadable index is an error here: never start a fresh one
            self.remove_stale_staging(index)
            new_rows = new_index_rows(index, rows, modelset)
            if not new_rows:
                self.sync_metadata(index)
                return
            # what is about to be moved into place, so that if this process dies before the index is
            # written, the next publish knows these folders were never published
            (staging / JOURNAL).write_text(json.dumps([row["path"] for row in new_rows]))
            for row in new_rows:
                target = self.root / row["path"]
                if target.exists():  # left over by an interrupted publish: not in the index
                    shutil.rmtree(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / row["model_id"], target)
            old = index[index["modelset"] == modelset]
            record = _read_bytes(self.root / modelset / MODELSET)
            if meta and {**record_meta(record), **meta} != record_meta(record):
                # the new metadata first, still listing the indexed models: it agrees with the index now
                _atomic_write(self.root / modelset / MODELSET, lambda p: Path(p).write_bytes(
                    modelset_record(modelset, old, {**record_meta(record), **meta})))
            new = pd.DataFrame(new_rows, columns=COLUMNS)
            updated = pd.concat([index, new], ignore_index=True) if len(index) else new
            self.write_index(updated)
            self.sync_metadata(updated, {modelset: meta})

    def _write_metadata(self, modelset: str, rows: pd.DataFrame, meta: dict) -> None:
        folder = self.root / modelset
        _atomic_write(folder / MODELSET, lambda p: Path(p).write_bytes(modelset_record(modelset, rows, meta)))
        if len(rows):
            _atomic_write(folder / README, lambda p: Path(p).write_text(model_card(modelset, rows, meta)))
        else:  # a set the index has no model of: no card
            (folder / README).unlink(missing_ok=True)


def _is_stale(name: str) -> bool:
    match = _STAGED.match(name)
    if match is None:
        return True
    if match["host"] != _HOST:
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


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Write through a temporary sibling then rename, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
