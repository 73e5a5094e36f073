"""A zoo on a Hugging Face Hub (or any Hub-compatible server): ``hf://<org>/<registry>[@revision]``.

Layout on the Hub::

    <org>/<registry>    index.parquet   one row per model: the columns of mdl.hub.index.COLUMNS plus
                                        ``repo_id`` and ``revision`` (the commit the model was published at);
                                        ``path`` is the model's folder inside ``repo_id`` and ``files``
                                        every file's sha256
                        README.md       what the registry holds
    <org>/<modelset>    README.md       model card with Hub metadata (library_name, license, tags, datasets,
                                        model-index with the test metrics)
                        modelset.json   the set's metadata and its models' files and hashes
                        models/<id>/…   config.json, weights.safetensors, blobs

Reading goes through ``huggingface_hub`` (``hf_hub_download``, ``snapshot_download`` with
``allow_patterns``) and its standard cache, pinned to the commit the index records, and every file's
sha256 is checked before a model is built. A model already in the cache at its commit is read without
any request; with ``HF_HUB_OFFLINE=1`` whatever was pulled before keeps working and anything else
raises :class:`~mdl.hub.errors.OfflineError`. The endpoint, token, cache folder and offline switch are
read from ``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_CACHE``/``HF_HOME`` and ``HF_HUB_OFFLINE`` when a call
is made (or given explicitly); metadata requests time out after ``HF_HUB_ETAG_TIMEOUT`` seconds (10)
and are retried ``MDL_HUB_RETRIES`` times (2) with a short backoff. The settings and addresses live in
:mod:`mdl.hub.hf_settings`, the translation of the client's errors in :mod:`mdl.hub.hf_errors`.

Publishing is the other half of the class, :class:`~mdl.hub.hf_publish.HFPublishing`: commits of the
model set's repository, then of the registry index (through ``HfApi`` or a
:class:`~mdl.hub.gitrepo.GitRepoWriter`).

>>> hub = HFHub("hf://mdl-zoo/registry")                       # doctest: +SKIP
>>> hub.index().head()                                         # doctest: +SKIP
>>> pinned = HFHub(f"hf://mdl-zoo/registry@{hub.index_commit}") # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from mdl.errors import HubError, IntegrityError, ModelFormatError
from mdl.hub.errors import (
    EntryNotFoundError,
    HubUnreachableError,
    OfflineError,
    RepositoryNotFoundError,
)
from mdl.hub.hf_commits import HF_COLUMNS, CommitWriter, RemoteFile, empty_hf_index
from mdl.hub.hf_errors import should_retry, translate
from mdl.hub.hf_settings import CLIENT, DEFAULT_BRANCH, HubSettings, is_commit, parse_address
from mdl.hub.presence import model_not_found
from mdl.hub.protocol import HubKind
from mdl.hub.hf_publish import HFPublishing
from mdl.hub.modelset import INDEX, MODELSET, read_modelset
from mdl.hub.index_checks import check_files, check_model_id, check_path, read_index
from mdl.store.files import read_verified
from mdl.store.loader import StoredModel, read_model

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")

log = logging.getLogger(__name__)


# -- the hub -------------------------------------------------------------------------------------
@dataclass
class _IndexState:
    key: tuple
    commit: str | None
    frame: pd.DataFrame
    read_at: float


class HFHub(HFPublishing):
    """A zoo on a Hugging Face Hub; a :class:`~mdl.hub.protocol.Hub`, like :class:`~mdl.hub.local.LocalHub`.

    Parameters
    ----------
    address : str
        ``hf://<org>/<registry>[@revision]``; a revision (commit, tag or branch) pins the index.
    endpoint, token, cache_dir, timeout, retries : optional
        Override ``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_CACHE``, ``HF_HUB_ETAG_TIMEOUT`` and
        ``MDL_HUB_RETRIES`` (otherwise read at each call).
    writer : HfApi or GitRepoWriter, optional
        What sends commits when publishing: ``HfApi`` (default) or a
        :class:`~mdl.hub.gitrepo.GitRepoWriter`.
    index_ttl : float
        Seconds an index read from a branch is reused before asking the Hub again (an index at a
        commit never changes).

    Examples
    --------
    >>> hub = HFHub("hf://mdl-zoo/registry@v1")
    >>> hub.kind, hub.registry_id, hub.pinned
    ('hf', 'mdl-zoo/registry', False)
    """

    kind: HubKind = "hf"

    def __init__(self, address: str, *, endpoint: str | None = None, token: str | None = None,
                 cache_dir: str | Path | None = None, timeout: float | None = None, retries: int | None = None,
                 writer: CommitWriter | None = None, index_ttl: float = 60.0):
        self.org, self.registry, self.revision = parse_address(address)
        self._overrides = {"endpoint": endpoint, "token": token, "cache_dir": cache_dir, "timeout": timeout,
                           "retries": retries}
        self.writer = writer
        self.index_ttl = index_ttl
        self._index: _IndexState | None = None
        self._models: dict[tuple, StoredModel] = {}

    def __repr__(self) -> str:
        return f"HFHub({self.address!r})"

    @property
    def address(self) -> str:
        """The registry's address, with its revision when one was given.

        Returns
        -------
        str
            ``hf://<org>/<registry>[@revision]``.
        """
        return f"hf://{self.org}/{self.registry}" + (f"@{self.revision}" if self.revision else "")

    @property
    def registry_id(self) -> str:
        """The registry's repository.

        Returns
        -------
        str
            ``<org>/<registry>``.
        """
        return f"{self.org}/{self.registry}"

    @property
    def pinned(self) -> bool:
        """True when the address names a commit: the index and every model are then fixed.

        Returns
        -------
        bool
            Whether the revision is a full commit hash.
        """
        return is_commit(self.revision)

    def settings(self) -> HubSettings:
        """Where and how to reach the Hub for a call: the overrides given, else the environment now.

        Returns
        -------
        HubSettings
            The resolved settings.
        """
        return HubSettings.resolve(**self._overrides)

    @property
    def index_commit(self) -> str | None:
        """The registry commit the index was read at (reads the index if needed).

        Returns
        -------
        str or None
            The commit, None when the registry does not exist yet.
        """
        self.index()
        return self._index.commit if self._index else None

    def refresh(self) -> None:
        """Forget the index read from a branch, so the next call asks the Hub again."""
        self._index = None

    # -- reading -------------------------------------------------------------------------------
    def index(self, *, missing_ok: bool = True) -> pd.DataFrame:
        """The registry's index, validated.

        Read at the address's revision (the default branch when none), and reused for ``index_ttl``
        seconds (for ever at a commit); from the cache without a request when pinned and cached, or offline.

        Parameters
        ----------
        missing_ok : bool, default True
            Read a registry that does not exist yet as one without models (what a publisher about to
            create it needs); False refuses it (what every read verb does).

        Returns
        -------
        pandas.DataFrame
            One row per model (:data:`~mdl.hub.hf_commits.HF_COLUMNS`); empty when the registry does not
            exist yet.

        Raises
        ------
        RepositoryNotFoundError
            Without ``missing_ok``, when the registry does not exist.
        OfflineError
            Offline, when the index is not in the cache.
        HubUnreachableError
            When the server cannot be reached and no index is cached at this revision.
        """
        settings = self.settings()
        key = (settings.endpoint, settings.cache_dir, settings.offline)
        state = self._index
        if state is None or state.key != key or not (
                self.pinned or time.monotonic() - state.read_at < self.index_ttl):
            commit, frame = self._read_index(settings, self.revision or DEFAULT_BRANCH)
            state = self._index = _IndexState(key, commit, frame, time.monotonic())
        if state.commit is None and not missing_ok:
            raise RepositoryNotFoundError(f"hub {self.address}: the registry {self.registry_id} does not exist on "
                                          f"{settings.endpoint} (nothing is published there yet)", hub=self.address)
        return state.frame

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
        ModelNotFoundError
            When the index has no such model (suggesting near ids).
        EmptyHubError
            When the registry holds no model (saying how to fill it).
        RepositoryNotFoundError
            When the registry does not exist.
        """
        index = self.index(missing_ok=False)
        hits = index.index[index["model_id"] == model_id]
        if len(hits) == 0:
            raise model_not_found(model_id, index["model_id"], self.address)
        return index.loc[hits[0]]

    def load(self, model_id: str) -> StoredModel:
        """Download (or read from the cache) and verify a model at the commit the index records.

        Parameters
        ----------
        model_id : str
            The model's id.

        Returns
        -------
        SourceModel
            The model.
        """
        return self.load_many([model_id])[0]

    def load_many(self, model_ids: Sequence[str], progress: bool = False) -> list[StoredModel]:
        """Load several models; those not cached are downloaded together, one snapshot per commit.

        Parameters
        ----------
        model_ids : sequence of str
            The models' ids.
        progress : bool
            Show a progress bar over the commits downloaded.

        Returns
        -------
        list of SourceModel
            The models, in the order asked.

        Raises
        ------
        IntegrityError
            Naming the model, the file and the cache folder to delete, when a file does not verify.
        """
        settings = self.settings()
        rows = [self.row(model_id) for model_id in model_ids]
        keys = [(settings.endpoint, settings.cache_dir, r["model_id"], r["revision"], r["files"]) for r in rows]
        todo = [r for r, k in zip(rows, keys) if k not in self._models]
        files = [_checked_files(row) for row in todo]
        folders = self._fetch(settings, todo, files, progress) if todo else []
        for row, names, folder in zip(todo, files, folders):
            key = (settings.endpoint, settings.cache_dir, row["model_id"], row["revision"], row["files"])
            try:
                self._models[key] = check_model_id(read_model(folder, names), row["model_id"])
            except IntegrityError as exc:
                raise _located(exc, row, settings, self.address) from exc
        return [self._models[k] for k in keys]

    def model_bytes(self, model_ids: Sequence[str], progress: bool = False) -> list[dict[str, bytes]]:
        """Each model's files as published, every one verified against its sha256.

        Parameters
        ----------
        model_ids : sequence of str
            The models' ids.
        progress : bool
            Show a progress bar over the commits downloaded.

        Returns
        -------
        list of dict of str to bytes
            ``{file name: bytes}`` per model, in the order asked.
        """
        settings = self.settings()
        rows = [self.row(model_id) for model_id in model_ids]
        files = [_checked_files(row) for row in rows]
        out = []
        for row, names, folder in zip(rows, files, self._fetch(settings, rows, files, progress)):
            try:
                out.append(read_verified(folder, names, row["model_id"]))
            except IntegrityError as exc:
                raise _located(exc, row, settings, self.address) from exc
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
            Its metadata, from the record at the commit of the set's last model in the index.

        Raises
        ------
        HubError
            When the index has no model of the set.
        ModelFormatError
            When the record is not a bounded JSON object.
        """
        index = self.index()
        rows = index[index["modelset"] == modelset]
        if len(rows) == 0:
            raise HubError(f"no model set {modelset!r} in hub {self.address}", hub=self.address)
        settings = self.settings()
        repo_id = rows["repo_id"].iloc[-1]
        path = self._download(settings, repo_id, MODELSET, rows["revision"].iloc[-1])
        return read_modelset(Path(path).read_bytes(), repo_id)["meta"]

    def _read_index(self, settings: HubSettings, revision: str) -> tuple[str | None, pd.DataFrame]:
        from huggingface_hub import hf_hub_download, try_to_load_from_cache

        registry = self.registry_id
        if is_commit(revision):
            cached = try_to_load_from_cache(registry, INDEX, cache_dir=settings.cache_dir, revision=revision)
            if isinstance(cached, str):
                return revision, _read_index_file(cached, registry)
        if settings.offline:
            try:
                path = hf_hub_download(registry, INDEX, revision=revision, cache_dir=settings.cache_dir,
                                       local_files_only=True)
            except Exception as exc:
                raise OfflineError(f"the index of {self.address} is not in the cache, offline (HF_HUB_OFFLINE=1); "
                                   "open it once online", hub=self.address, file=INDEX) from exc
            return _commit_of(path), _read_index_file(path, registry)
        try:
            commit, listing = self._listing(settings, registry, revision)
        except RepositoryNotFoundError:
            if self.revision is not None:
                raise
            # nothing published yet (the first publish creates it): searches find nothing, pulls say why
            log.warning("%s: the registry does not exist on %s; empty index", self.address, settings.endpoint)
            return None, empty_hf_index()
        except HubUnreachableError as unreachable:
            try:  # as huggingface_hub does: fall back to the index last read at this revision
                path = hf_hub_download(registry, INDEX, revision=revision, cache_dir=settings.cache_dir,
                                       local_files_only=True)
            except OSError:  # not in the cache (LocalEntryNotFoundError is one)
                raise unreachable from None
            log.warning("%s: Hub unreachable, using the index cached at commit %s", self.address,
                        _commit_of(path)[:12])
            return _commit_of(path), _read_index_file(path, registry)
        if INDEX not in listing:
            return commit, empty_hf_index()
        return self._read_index_at(settings, revision)

    def _read_index_at(self, settings: HubSettings, revision: str) -> tuple[str, pd.DataFrame]:
        path = self._download(settings, self.registry_id, INDEX, revision)
        return _commit_of(path), _read_index_file(path, self.registry_id)

    def _fetch(self, settings: HubSettings, rows: Sequence[pd.Series], files: Sequence[Mapping[str, str]],
               progress: bool = False) -> list[Path]:
        """The local folder of each row's model (``files``: its checked files map), downloading what
        the cache lacks; no request when all is cached."""
        from huggingface_hub import try_to_load_from_cache

        folders: list[Path | None] = []
        missing: dict[tuple[str, str], list[int]] = {}
        for i, row in enumerate(rows):
            names = list(files[i])
            cached = [try_to_load_from_cache(row["repo_id"], f"{row['path']}/{name}", cache_dir=settings.cache_dir,
                                             revision=row["revision"]) for name in names]
            if names and all(isinstance(p, str) for p in cached):
                folders.append(Path(cached[0]).parent)
            else:
                folders.append(None)
                missing.setdefault((row["repo_id"], row["revision"]), []).append(i)
        if missing and settings.offline:
            ids = [rows[i]["model_id"] for group in missing.values() for i in group]
            raise OfflineError(f"model(s) {', '.join(ids[:5])}{' …' if len(ids) > 5 else ''} not in the cache, "
                               f"offline (HF_HUB_OFFLINE=1; cache {settings.cache_dir})", hub=self.address,
                               model_id=ids[0])
        for (repo_id, revision), positions in tqdm(missing.items(), desc="downloading", unit="commit",
                                                   disable=not progress or len(missing) < 2):
            wanted = {f"{rows[i]['path']}/{name}": rows[i]["model_id"] for i in positions for name in files[i]}
            present = self._remote_files(settings, repo_id, revision, list(wanted))
            absent = [path for path in wanted if path not in present]
            if absent:
                raise EntryNotFoundError(f"{repo_id}@{revision[:12]}: {absent[0]} (model {wanted[absent[0]]})"
                                         f"{f' and {len(absent) - 1} more files' if len(absent) > 1 else ''} "
                                         f"not found on {settings.endpoint}", hub=self.address,
                                         model_id=wanted[absent[0]], file=absent[0], revision=revision)
            if len(positions) == 1:
                row = rows[positions[0]]
                paths = [self._download(settings, repo_id, f"{row['path']}/{name}", revision)
                         for name in files[positions[0]]]
                folders[positions[0]] = Path(paths[0]).parent
                continue
            snapshot = self._snapshot(settings, repo_id, revision, [f"{rows[i]['path']}/*" for i in positions])
            for i in positions:
                folders[i] = Path(snapshot) / rows[i]["path"]
        return folders  # type: ignore[return-value]

    # -- requests ------------------------------------------------------------------------------
    def _api(self, settings: HubSettings):
        from huggingface_hub import HfApi

        return HfApi(endpoint=settings.endpoint, token=settings.token, **CLIENT)

    def _request(self, settings: HubSettings, what: str, call: Callable[[Any], Any]) -> Any:
        """One metadata request with a bounded timeout, retried ``settings.retries`` times on network
        errors and 5xx answers with a short backoff."""
        api = self._api(settings)
        for attempt in range(settings.retries + 1):
            try:
                return call(api)
            except Exception as exc:
                if not should_retry(exc) or attempt == settings.retries:
                    raise translate(exc, what, settings, hub=self.address) from exc
                time.sleep(min(0.25 * 2 ** attempt, 4.0))
        raise AssertionError("unreachable")

    def _listing(self, settings: HubSettings, repo_id: str, revision: str) -> tuple[str, frozenset[str]]:
        """(commit, every file path) of a repository at a revision (one bounded request)."""
        info = self._request(settings, f"{repo_id}@{revision[:12]}",
                             lambda api: api.model_info(repo_id, revision=revision, timeout=settings.timeout))
        return info.sha, frozenset(s.rfilename for s in (info.siblings or []))

    def _download(self, settings: HubSettings, repo_id: str, filename: str, revision: str) -> str:
        from huggingface_hub import hf_hub_download

        try:
            return hf_hub_download(repo_id, filename, revision=revision, cache_dir=settings.cache_dir,
                                   endpoint=settings.endpoint, token=settings.token, etag_timeout=settings.timeout,
                                   local_files_only=settings.offline, **CLIENT)
        except Exception as exc:
            raise translate(exc, f"{repo_id}@{revision[:12]}: {filename}", settings, hub=self.address, file=filename,
                            revision=revision) from exc

    def _snapshot(self, settings: HubSettings, repo_id: str, revision: str, patterns: list[str]) -> str:
        from huggingface_hub import snapshot_download

        try:
            return snapshot_download(repo_id, revision=revision, allow_patterns=patterns,
                                     cache_dir=settings.cache_dir, endpoint=settings.endpoint, token=settings.token,
                                     etag_timeout=settings.timeout, local_files_only=settings.offline,
                                     max_workers=8, **CLIENT)
        except Exception as exc:
            raise translate(exc, f"{repo_id}@{revision[:12]}: {len(patterns)} model folder(s)", settings,
                            hub=self.address, revision=revision) from exc

    def _remote_files(self, settings: HubSettings, repo_id: str, revision: str,
                      paths: Sequence[str]) -> dict[str, RemoteFile]:
        """Which of ``paths`` the repository holds at ``revision``, with their blob ids (one bounded request).

        Asked before every download: it tells "unreachable", "repository not found" and "file not
        found" apart within the timeout and retries (the client's own download retries take ~25 s).
        This is ``HfApi.get_paths_info`` with a timeout.
        """
        from urllib.parse import quote

        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        if not paths:
            return {}

        def call(_api: Any) -> list[dict]:
            response = get_session().post(
                f"{settings.endpoint}/api/models/{repo_id}/paths-info/{quote(revision, safe='')}",
                data={"paths": list(paths), "expand": False}, timeout=settings.timeout,
                headers=build_hf_headers(token=settings.token, **CLIENT))
            hf_raise_for_status(response)
            return response.json()

        out = {}
        for info in self._request(settings, f"{repo_id}@{revision[:12]}", call):
            if info.get("type") == "file":
                lfs = info.get("lfs") or {}
                out[info["path"]] = RemoteFile(info.get("oid"), lfs.get("oid") or lfs.get("sha256"))
        return out

    def _remember(self, settings: HubSettings, commit: str | None, frame: pd.DataFrame) -> None:
        if not self.pinned:
            key = (settings.endpoint, settings.cache_dir, settings.offline)
            self._index = _IndexState(key, commit, frame, time.monotonic())


def _commit_of(path: str | Path) -> str:
    parts = Path(path).parts
    if "snapshots" in parts:
        return parts[parts.index("snapshots") + 1]
    raise HubError(f"unexpected cache path {path}")


def _read_index_file(path: str | Path, registry: str) -> pd.DataFrame:
    """A registry's index read from the cache, validated as untrusted input (the columns of a local
    index plus ``repo_id`` and ``revision``)."""
    return read_index(path, f"registry {registry}@{_commit_of(path)[:12]}: {INDEX}", extra=("repo_id", "revision"))


def _checked_files(row: pd.Series) -> dict[str, str]:
    """A registry row's files map once its repository, commit, folder and file names are checked
    (the folder is ``models/<id>``, the commit a full hash, the names plain file names)."""
    model_id = row["model_id"]
    if not _REPO_ID.match(row["repo_id"]) or ".." in row["repo_id"]:
        raise ModelFormatError(f"{row['repo_id']!r} is not a repository id", model=model_id, file=INDEX,
                               field="repo_id")
    if not is_commit(row["revision"]):
        raise ModelFormatError(f"{row['revision']!r} is not a commit hash", model=model_id, file=INDEX,
                               field="revision")
    check_path(model_id, row["path"], f"models/{model_id}")
    return check_files(model_id, row["files"])


def _located(exc: IntegrityError, row: pd.Series, settings: HubSettings, hub: str) -> IntegrityError:
    """An integrity error of a downloaded model, naming where the bytes came from and how to fetch them again."""
    origin = (f"model {row['model_id']} from {row['repo_id']}@{row['revision'][:12]}; delete it from the Hugging Face "
              f"cache ({settings.cache_dir}) to download it again")
    return IntegrityError(f"{exc} [{origin}]", hub=hub, model_id=row["model_id"], file=exc.file,
                          revision=row["revision"])
