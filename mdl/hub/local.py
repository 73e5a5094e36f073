"""The embedded default hub: a folder laid out as Hugging Face model repositories plus an index.

Layout::

    <root>/index.parquet                 one row per model (see mdl.hub.index.COLUMNS)
    <root>/<modelset>/README.md          model card with Hub metadata
    <root>/<modelset>/modelset.json      the set's metadata and its models' files and hashes
    <root>/<modelset>/models/<id>/…      config.json, weights.safetensors, blobs

Publishing stages every model in a temporary folder, then, under a file lock, moves the models
into place and replaces the index atomically: an interrupted publish leaves no model in the
index that is not completely on disk, and concurrent publishers lose nothing.

>>> hub = LocalHub("/tmp/zoo")                 # doctest: +SKIP
>>> hub.publish(models, modelset="qm9-homo")   # doctest: +SKIP
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from tqdm.auto import tqdm

from mdl.errors import HubError, ModelNotFoundError
from mdl.hub.card import model_card
from mdl.hub.index import COLUMNS, empty_index, index_row, new_index_rows

if TYPE_CHECKING:  # loaded on use (it needs torch)
    from mdl.models.source import SourceModel

INDEX = "index.parquet"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise HubError(f"invalid {kind} {name!r}: use letters, digits, '.', '_' and '-' (at most 96)")
    return name


class LocalHub:
    """A zoo in a local folder (created on first publish)."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self._cache: tuple[int, pd.DataFrame] | None = None
        self._models: dict[tuple[str, str], SourceModel] = {}

    def __repr__(self) -> str:
        return f"LocalHub({str(self.root)!r})"

    @property
    def address(self) -> str:
        return str(self.root)

    # -- reading -------------------------------------------------------------------------------
    def index(self) -> pd.DataFrame:
        """The index (cached until the file changes)."""
        path = self.root / INDEX
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            return empty_index()
        if self._cache is None or self._cache[0] != stamp:
            self._cache = (stamp, pd.read_parquet(path))
        return self._cache[1]

    def row(self, model_id: str) -> pd.Series:
        index = self.index()
        hits = index.index[index["model_id"] == model_id]
        if len(hits) == 0:
            raise ModelNotFoundError(f"no model {model_id!r} in hub {self.address}")
        return index.loc[hits[0]]

    def load(self, model_id: str) -> SourceModel:
        """Load and verify a model; served from memory when already loaded and unchanged."""
        row = self.row(model_id)
        key = (model_id, row["files"])
        if key not in self._models:
            from mdl.models.source import SourceModel

            self._models[key] = SourceModel.load(self.root / row["path"], json.loads(row["files"]))
        return self._models[key]

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def publish(
        self,
        models: Sequence[SourceModel],
        modelset: str,
        meta: dict | None = None,
        progress: bool = True,
    ) -> list[str]:
        """Publish models into ``modelset``; returns their ids.

        Re-publishing an identical model is a no-op; a different model under an existing id is
        refused (:class:`HubError`) before anything changes.
        """
        check_name("model set", modelset)
        models = list(models)
        ids = [check_name("model id", m.model_id) for m in models]
        if len(set(ids)) != len(ids):
            raise HubError("duplicate model ids in one publish")
        staging_root = self.root / ".staging"
        staging_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="publish-", dir=staging_root))
        try:
            rows = []
            for model in tqdm(models, desc=f"saving {modelset}", disable=not progress, unit="model"):
                files = model.save(staging / model.model_id)
                rows.append(index_row(model, modelset, f"{modelset}/models/{model.model_id}", files))
            with self._locked():
                index = self._read_index_locked()
                new_rows = new_index_rows(index, rows, modelset)
                for row in new_rows:
                    target = self.root / row["path"]
                    if target.exists():  # left over by an interrupted publish: not in the index
                        shutil.rmtree(target)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staging / row["model_id"], target)
                updated = pd.concat([index, pd.DataFrame(new_rows, columns=COLUMNS)], ignore_index=True) \
                    if new_rows else index
                if new_rows:
                    self._write_modelset(modelset, updated, meta or {})
                    _atomic_write(self.root / INDEX, lambda p: updated.to_parquet(p, index=False))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return ids

    def _read_index_locked(self) -> pd.DataFrame:
        path = self.root / INDEX
        return pd.read_parquet(path) if path.exists() else empty_index()

    def _write_modelset(self, modelset: str, index: pd.DataFrame, meta: dict) -> None:
        folder = self.root / modelset
        rows = index[index["modelset"] == modelset]
        meta_path = folder / "modelset.json"
        old = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        record = {**old.get("meta", {}), **meta}
        body = {
            "modelset": modelset,
            "meta": record,
            "models": {r.model_id: {"path": r.path[len(modelset) + 1:], "files": json.loads(r.files)}
                       for r in rows.itertuples()},
        }
        _atomic_write(meta_path, lambda p: Path(p).write_text(json.dumps(body, indent=1, sort_keys=True)))
        _atomic_write(folder / "README.md", lambda p: Path(p).write_text(model_card(modelset, rows, record)))


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary sibling then rename, so readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
