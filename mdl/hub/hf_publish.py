"""Publishing into a zoo on a Hugging Face Hub: the writing half of :class:`~mdl.hub.hf.HFHub`.

``HfApi.create_repo(exist_ok=True)`` and ``HfApi.create_commit`` send ``CommitOperationAdd`` lists
(:mod:`mdl.hub.hf_commits`, pure): one commit per batch of models in the model set's repository (files
already there unchanged are not sent again, so an interrupted publish resumes), then one commit of the
registry index, refused and retried if the registry moved meanwhile. A
:class:`~mdl.hub.gitrepo.GitRepoWriter` can stand in for ``HfApi``.

>>> HFPublishing.__subclasses__()[0].__name__   # doctest: +SKIP
'HFHub'
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from mdl.errors import HubError
from mdl.hub.card import model_card
from mdl.hub.errors import HubConflictError, OfflineError, RepositoryNotFoundError
from mdl.hub.hf_commits import HF_COLUMNS, CommitWriter, commit_operations, empty_hf_index, model_files, registry_card
from mdl.hub.hf_errors import translate
from mdl.hub.hf_settings import DEFAULT_BRANCH, HubSettings
from mdl.hub.index import COLUMNS, index_row, new_index_rows
from mdl.hub.modelset import INDEX, MODELSET, README, modelset_record, read_modelset
from mdl.hub.staging import stage
from mdl.hub.index_checks import check_name
from mdl.store.loader import StoredModel

__all__ = ["HFPublishing"]


class HFPublishing:
    """The publishing methods of :class:`~mdl.hub.hf.HFHub`, which gives them its address (``org``,
    ``registry``, ``revision``, ``writer``) and its reading half: ``settings()``, ``_api``, ``_listing``,
    ``_download``, ``_remote_files``, ``_read_index_at`` and ``_remember``.
    """

    def _writer(self, settings: HubSettings) -> CommitWriter:
        return self.writer if self.writer is not None else self._api(settings)

    def _write(self, settings: HubSettings, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:
            raise translate(exc, what, settings) from exc

    def _head(self, settings: HubSettings, writer: CommitWriter, repo_id: str) -> tuple[str, frozenset[str]]:
        """(commit, files) at the default branch, creating the repository if it does not exist."""
        try:
            return self._listing(settings, repo_id, DEFAULT_BRANCH)
        except RepositoryNotFoundError:
            self._write(settings, f"creating {repo_id}", lambda: writer.create_repo(repo_id, exist_ok=True))
            return self._listing(settings, repo_id, DEFAULT_BRANCH)

    def publish(self, models: Sequence[StoredModel], modelset: str, meta: dict | None = None,
                progress: bool = True, commit_size: int = 256) -> list[str]:
        """Publish models into ``<org>/<modelset>`` and the registry index.

        One commit per ``commit_size`` models in the model set's repository, then one commit of the
        index. Re-publishing an identical model is a no-op; a different model under an existing id is
        refused before anything is sent. A publish interrupted after the model commit resumes without
        sending the files again.

        Parameters
        ----------
        models : sequence of SourceModel
            The models.
        modelset : str
            The set (and repository) to publish into.
        meta : dict, optional
            Metadata merged into the set's ``modelset.json``.
        progress : bool
            Show progress bars.
        commit_size : int
            Models per commit.

        Returns
        -------
        list of str
            The models' ids.

        Raises
        ------
        HubError
            For an invalid or duplicate id, a read-only address, or an id already published with other content.
        OfflineError
            Offline.
        HubConflictError
            When the registry kept moving while publishing.
        """
        models = list(models)
        ids = [check_name("model id", m.model_id) for m in models]
        if len(set(ids)) != len(ids):
            raise HubError("duplicate model ids in one publish")

        def save(staging: Path) -> list[dict[str, Any]]:
            rows = []
            for model in tqdm(models, desc=f"saving {modelset}", disable=not progress, unit="model"):
                files = model.save(staging / model.model_id)
                rows.append(index_row(model, modelset, f"models/{model.model_id}", files))
            return rows

        return self._publish(save, ids, modelset, meta, progress, commit_size)

    def publish_files(self, models: Mapping[str, Mapping[str, bytes]], modelset: str, meta: dict | None = None,
                      progress: bool = True, commit_size: int = 256) -> list[str]:
        """Publish models given as their files, sent verbatim after each has been loaded from them.

        Parameters
        ----------
        models : mapping of str to mapping of str to bytes
            ``{model id: {file name: bytes}}``, as :meth:`model_bytes` returns them.
        modelset : str
            The set (and repository) to publish into.
        meta : dict, optional
            Metadata merged into the set's ``modelset.json``.
        progress : bool
            Show progress bars.
        commit_size : int
            Models per commit.

        Returns
        -------
        list of str
            The models' ids.
        """
        return self._publish(lambda staging: stage(models, staging, modelset, lambda model_id: f"models/{model_id}"),
                             list(models), modelset, meta, progress, commit_size)

    def _publish(self, save: Callable[[Path], list[dict[str, Any]]], ids: list[str], modelset: str,
                 meta: dict | None, progress: bool, commit_size: int) -> list[str]:
        """Stage the models (``save`` writes them into a folder and returns their index rows), push
        them and commit the index."""
        check_name("model set", modelset)
        if modelset == self.registry:
            raise HubError(f"model set {modelset!r} would share the registry's repository {self.registry_id}",
                           hub=self.address)
        if self.revision not in (None, DEFAULT_BRANCH):
            raise HubError(f"{self.address} is read-only: publish to hf://{self.registry_id}", hub=self.address)
        settings = self.settings()
        if settings.offline:
            raise OfflineError("cannot publish offline (HF_HUB_OFFLINE=1)", hub=self.address)
        writer = self._writer(settings)
        with tempfile.TemporaryDirectory(prefix="mdl-publish-") as tmp:
            staging = Path(tmp)
            rows = save(staging)
            for _attempt in range(4):
                reg_commit, index = self._registry_head(settings, writer)
                new_rows = new_index_rows(index, rows, modelset)
                if not new_rows:
                    self._remember(settings, reg_commit, index)
                    return ids
                try:
                    revisions = self._push_models(settings, writer, modelset, new_rows, index, meta or {}, staging,
                                                  commit_size, progress)
                    new_frame = pd.DataFrame(
                        [{**r, "repo_id": f"{self.org}/{modelset}", "revision": revisions[r["model_id"]]}
                         for r in new_rows], columns=HF_COLUMNS)
                    updated = pd.concat([index, new_frame], ignore_index=True) if len(index) else new_frame
                    buffer = io.BytesIO()
                    updated.to_parquet(buffer, index=False)
                    operations = commit_operations({INDEX: buffer.getvalue(),
                                                    README: registry_card(self.org, self.registry, updated)})
                    info = self._write(settings, f"committing the index of {self.registry_id}",
                                       lambda: writer.create_commit(
                                           self.registry_id, operations, parent_commit=reg_commit,
                                           revision=DEFAULT_BRANCH,
                                           commit_message=f"index: {len(new_rows)} model(s) of {modelset}"))
                except HubConflictError:
                    continue  # someone else committed first: read again, merge, resume
                self._remember(settings, info.oid, updated)
                return ids
        raise HubConflictError(f"the registry {self.registry_id} kept moving while publishing; try again",
                               hub=self.address)

    def _registry_head(self, settings: HubSettings, writer: Any) -> tuple[str, pd.DataFrame]:
        commit, listing = self._head(settings, writer, self.registry_id)
        if INDEX not in listing:
            return commit, empty_hf_index()
        _, frame = self._read_index_at(settings, commit)
        return commit, frame

    def _push_models(self, settings: HubSettings, writer: CommitWriter, modelset: str, rows: list[dict],
                     index: pd.DataFrame, meta: dict, staging: Path, commit_size: int,
                     progress: bool) -> dict[str, str]:
        """Commit the models (in batches of ``commit_size``), the card and modelset.json; returns
        each model's commit."""
        repo_id = f"{self.org}/{modelset}"
        head, listing = self._head(settings, writer, repo_id)
        old_meta = {}
        if MODELSET in listing:
            old = read_modelset(Path(self._download(settings, repo_id, MODELSET, head)).read_bytes(), repo_id)
            old_meta, listed = old["meta"], set(old["models"])
            lost = sorted(listed - set(index.loc[index["modelset"] == modelset, "model_id"])
                          - {r["model_id"] for r in rows})
            if lost:  # the registry's index was lost or rolled back: never start it afresh over them
                raise HubError(f"{repo_id} holds {len(lost)} model(s) that the index of {self.registry_id} does not "
                               f"list ({', '.join(lost[:3])}{' …' if len(lost) > 3 else ''}): the index was lost "
                               "or rolled back; restore it (e.g. mirror from a copy) before publishing; nothing "
                               "was changed")
        record = {**old_meta, **meta}
        set_rows = pd.concat([index[index["modelset"] == modelset][COLUMNS], pd.DataFrame(rows, columns=COLUMNS)],
                             ignore_index=True)
        documents = {README: model_card(modelset, set_rows, record).encode(),
                     MODELSET: modelset_record(modelset, set_rows, record)}
        wanted = [*model_files(rows, staging), *documents]
        existing = self._remote_files(settings, repo_id, head, [p for p in wanted if p in listing])
        revisions: dict[str, str] = {}
        batches = [rows[i:i + commit_size] for i in range(0, len(rows), max(1, commit_size))]
        for number, batch in enumerate(tqdm(batches, desc=f"pushing {modelset}", unit="commit",
                                            disable=not progress or len(batches) < 2)):
            files: dict[str, Path | bytes] = dict(model_files(batch, staging))
            if number == len(batches) - 1:
                files.update(documents)
            operations = commit_operations(files, existing)
            if operations:
                message = f"{modelset}: {len(batch)} model(s) {batch[0]['model_id']} … {batch[-1]['model_id']}"
                parent = head
                info = self._write(settings, f"committing to {repo_id}", lambda: writer.create_commit(
                    repo_id, operations, commit_message=message, parent_commit=parent, revision=DEFAULT_BRANCH))
                head = info.oid
            revisions.update({row["model_id"]: head for row in batch})
        return revisions
