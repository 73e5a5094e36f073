"""The embedded default hub: a folder laid out as Hugging Face model repositories plus an index.

Layout::

    <root>/index.parquet                 one row per model (see mdl.hub.index.COLUMNS)
    <root>/<modelset>/README.md          model card with Hub metadata
    <root>/<modelset>/modelset.json      the set's metadata and its models' files and hashes
    <root>/<modelset>/models/<id>/…      config.json, weights.safetensors, blobs
    <root>/.staging/publish-<pid>-<host>-…/  what a running publisher is saving

This module reads; publishing (:mod:`mdl.hub.local_publish`: staged, then moved into place and indexed
under a file lock, so a publish killed at any moment leaves no model in the index that is not completely
on disk) and upkeep (:mod:`mdl.hub.local_upkeep`: what killed publishers left, metadata derived from
the index) are the class's other two halves. The index is read as untrusted
input (:mod:`mdl.hub.index_checks`), and each model's folder and files are confined to the hub before one
is opened. A hub whose index is lost or unreadable is an
error pointing at ``mdl hub repair`` (:mod:`mdl.hub.maintenance`), never silently an empty hub, and reading a
folder that does not exist is a :class:`~mdl.errors.HubNotFoundError` that creates nothing (only
publishing creates a hub). Publishers, ``check`` and ``repair`` take turns on the file lock
``<root>/.lock`` (:mod:`filelock`: ``flock`` on POSIX, ``LockFileEx`` on Windows).

>>> hub = LocalHub("/tmp/zoo")                 # doctest: +SKIP
>>> hub.publish(models, modelset="qm9-homo")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mdl.errors import HubError
from mdl.hub.index import empty_index
from mdl.hub.local_publish import LocalPublishing
from mdl.hub.local_upkeep import STAGING, read_if_present
from mdl.hub.modelset import INDEX, MODELSET, record_meta
from mdl.hub.presence import hub_not_found, model_not_found
from mdl.hub.protocol import HubKind
from mdl.hub.index_checks import check_files, check_model_id, check_name, check_path, confined, read_index
from mdl.store.files import read_verified
from mdl.store.loader import StoredModel, read_model

__all__ = ["INDEX", "STAGING", "LocalHub", "check_name"]


class LocalHub(LocalPublishing):
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
                raise HubError(f"hub {self.root} is a file, not a hub folder", hub=self.address)
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
                               f"on disk with `mdl hub repair {self.root}`", hub=self.address, file=INDEX) from None
            return empty_index()
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._cache is None or self._cache[0] != stamp:
            try:
                frame = read_index(path, f"hub {self.root}: {INDEX}")
            except HubError as exc:
                raise HubError(f"{exc}; rebuild it from the models on disk with `mdl hub repair {self.root}`",
                               hub=self.address, file=INDEX) from exc
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
        return record_meta(read_if_present(self.root / modelset / MODELSET))

    def _located(self, row: pd.Series) -> tuple[Path, dict[str, str]]:
        """A row's model folder and files map, once both are confined to the hub (nothing opened yet)."""
        model_id = row["model_id"]
        path = check_path(model_id, row["path"], f"{row['modelset']}/models/{model_id}")
        folder = confined(self.root, self.root / path, model_id, "path")
        files = check_files(model_id, row["files"], folder)
        for name in files:
            confined(self.root, folder / name, model_id, "files")
        return folder, files
