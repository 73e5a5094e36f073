"""Publishing into a hub folder: the writing half of :class:`~mdl.hub.local.LocalHub`.

Every model is staged in a folder named by the publisher's process; then, under the hub's file lock,
the staging folders of publishers that are gone are removed, the new models moved into place (recorded
first in a journal) and the index replaced atomically; the model sets' metadata files are derived from
the index after it is replaced. A publish killed at any moment leaves no model in the index that is
not completely on disk, and the next publish cleans up what it left (:mod:`mdl.hub.local_upkeep`).

>>> LocalPublishing.__subclasses__()[0].__name__   # doctest: +SKIP
'LocalHub'
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock
from tqdm.auto import tqdm

from mdl.errors import HubError
from mdl.hub.index import COLUMNS, index_row, new_index_rows
from mdl.hub.local_upkeep import HOST, JOURNAL, STAGING, LocalUpkeep, atomic_write, read_if_present
from mdl.hub.modelset import INDEX, MODELSET, modelset_record, record_meta
from mdl.hub.staging import stage
from mdl.hub.index_checks import check_name
from mdl.store.loader import StoredModel

__all__ = ["LocalPublishing"]


class LocalPublishing(LocalUpkeep):
    """The publishing methods of :class:`~mdl.hub.local.LocalHub`, which gives them ``root`` and ``index()``."""

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
        atomic_write(self.root / INDEX, lambda p: index[COLUMNS].to_parquet(p, index=False))

    @contextmanager
    def _staging(self) -> Iterator[Path]:
        """A staging folder named by this process (so a later publish can tell when it is stale)."""
        root = self.root / STAGING
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"publish-{os.getpid()}-{HOST}-", dir=root))
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
            record = read_if_present(self.root / modelset / MODELSET)
            if meta and {**record_meta(record), **meta} != record_meta(record):
                # the new metadata first, still listing the indexed models: it agrees with the index now
                atomic_write(self.root / modelset / MODELSET, lambda p: Path(p).write_bytes(
                    modelset_record(modelset, old, {**record_meta(record), **meta})))
            new = pd.DataFrame(new_rows, columns=COLUMNS)
            updated = pd.concat([index, new], ignore_index=True) if len(index) else new
            self.write_index(updated)
            self.sync_metadata(updated, {modelset: meta})
