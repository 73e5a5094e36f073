"""Publishing into git repositories laid out like a self-hosted Hub mirror, instead of the Hub's commit API.

A Hugging Face repository is a git repository; a self-hosted Hub-compatible server such as olah serves
local git repositories at ``<root>/models/<org>/<repo>`` through the same HTTP API that
``huggingface_hub`` downloads from, but has no write endpoints. :class:`GitRepoWriter` takes the place
of :class:`huggingface_hub.HfApi` for the two calls a publish makes (``create_repo`` and
``create_commit`` with ``CommitOperationAdd``), so the same operations land in the same layout:

>>> hub = HFHub("hf://mdl/registry", endpoint="http://127.0.0.1:8090",
...             writer=GitRepoWriter("/srv/olah/mirrors"))              # doctest: +SKIP
>>> hub.publish(models, modelset="qm9-gap")                              # doctest: +SKIP

Binary files are stored with git-lfs pointers (objects under ``.git/lfs/objects``), as the Hub stores
them; a commit is written with ``git fast-import`` and moved onto the branch with a compare-and-swap
(``git update-ref NEW OLD``), so a commit built on a stale parent is refused (:class:`HubConflictError`)
like the Hub refuses it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mdl.errors import HubError
from mdl.hub.errors import HubConflictError, RepositoryNotFoundError

_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in ("*.safetensors", "*.bin", "*.parquet", "*.npy", "*.pkl", "*.zip", "*.gz")
)
_IDENTITY = {"GIT_AUTHOR_NAME": "mdl", "GIT_AUTHOR_EMAIL": "mdl@localhost",
             "GIT_COMMITTER_NAME": "mdl", "GIT_COMMITTER_EMAIL": "mdl@localhost"}


@dataclass(frozen=True)
class GitCommitInfo:
    """What :meth:`GitRepoWriter.create_commit` returns (``oid`` as in ``huggingface_hub.CommitInfo``)."""

    oid: str
    commit_message: str


class GitRepoWriter:
    """Writes Hub commits into local git repositories under ``root`` (``models/<org>/<repo>``).

    Parameters
    ----------
    root : str or Path
        The folder a self-hosted Hub mirror serves repositories from.
    lfs : bool
        Store binary files as git-lfs pointers, as the Hub does.

    Examples
    --------
    >>> GitRepoWriter("/srv/olah").repo_path("org/set")
    PosixPath('/srv/olah/models/org/set')
    """

    def __init__(self, root: str | Path, lfs: bool = True):
        self.root = Path(root).expanduser().resolve()
        self.lfs = lfs

    def __repr__(self) -> str:
        return f"GitRepoWriter({str(self.root)!r})"

    def repo_path(self, repo_id: str) -> Path:
        """The folder of a repository.

        Parameters
        ----------
        repo_id : str
            ``<org>/<name>``.

        Returns
        -------
        Path
            ``<root>/models/<org>/<name>``.

        Raises
        ------
        HubError
            For an id that is not ``<org>/<name>``.
        """
        org, _, name = repo_id.partition("/")
        if not org or not name or "/" in name or ".." in repo_id:
            raise HubError(f"invalid repository id {repo_id!r}: use <org>/<name>")
        return self.root / "models" / org / name

    # -- the two HfApi calls a publish makes ----------------------------------------------------
    def create_repo(self, repo_id: str, *, exist_ok: bool = False, **_: object) -> str:
        """Create an empty repository with a first commit holding ``.gitattributes`` (as the Hub does).

        Parameters
        ----------
        repo_id : str
            ``<org>/<name>``.
        exist_ok : bool
            Return quietly when it exists.

        Returns
        -------
        str
            The repository's folder.

        Raises
        ------
        HubError
            When it exists and ``exist_ok`` is false.
        """
        path = self.repo_path(repo_id)
        if (path / ".git").is_dir():
            if not exist_ok:
                raise HubError(f"repository {repo_id} already exists at {path}")
            return str(path)
        path.mkdir(parents=True, exist_ok=True)
        self._git(path, "init", "-q", "-b", "main")
        self._commit(path, [(".gitattributes", _GITATTRIBUTES.encode())], "initial commit", None, "main")
        return str(path)

    def create_commit(self, repo_id: str, operations: Iterable, *, commit_message: str,
                      parent_commit: str | None = None, revision: str | None = None, **_: object) -> GitCommitInfo:
        """Commit ``CommitOperationAdd`` operations on ``revision`` (default ``main``) in one commit.

        Parameters
        ----------
        repo_id : str
            ``<org>/<name>``.
        operations : iterable of huggingface_hub.CommitOperationAdd
            The files to add or replace.
        commit_message : str
            The message.
        parent_commit : str, optional
            The commit the branch must still be at; otherwise the commit is refused and nothing changes.
        revision : str, optional
            The branch.

        Returns
        -------
        GitCommitInfo
            The new commit's id (``oid``) and message.

        Raises
        ------
        RepositoryNotFoundError
            When the repository does not exist.
        HubConflictError
            When the branch moved past ``parent_commit``.
        """
        path = self.repo_path(repo_id)
        if not (path / ".git").is_dir():
            raise RepositoryNotFoundError(f"repository {repo_id} not found under {self.root}")
        files = []
        for op in operations:
            if type(op).__name__ != "CommitOperationAdd":
                raise HubError(f"unsupported commit operation {type(op).__name__}")
            with op.as_file() as handle:
                files.append((op.path_in_repo, handle.read()))
        oid = self._commit(path, files, commit_message, parent_commit, revision or "main")
        return GitCommitInfo(oid=oid, commit_message=commit_message)

    # -- plumbing --------------------------------------------------------------------------------
    def _commit(self, path: Path, files: list[tuple[str, bytes]], message: str, parent: str | None,
                branch: str) -> str:
        ref = f"refs/heads/{branch}"
        head = self._head(path, ref)
        if parent is not None and head != parent:
            raise HubConflictError(
                f"branch {branch} of {path} moved from {parent[:12]} to {(head or 'nothing')[:12]} while publishing"
            )
        stamp = f"{int(time.time())} +0000"
        scratch = f"refs/mdl/tmp-{uuid.uuid4().hex}"
        stream = [f"commit {scratch}\n".encode(), f"author mdl <mdl@localhost> {stamp}\n".encode(),
                  f"committer mdl <mdl@localhost> {stamp}\n".encode(), *_data(message.encode())]
        if head is not None:
            stream.append(f"from {head}\n".encode())
        for name, content in files:
            if name.startswith("/") or ".." in name.split("/") or any(c in name for c in '\n"\\'):
                raise HubError(f"invalid path in repository: {name!r}")
            if self.lfs and _is_binary(content):
                content = self._store_lfs(path, content)
            stream += [f'M 100644 inline "{name}"\n'.encode(), *_data(content)]
        stream.append(b"\n")
        self._git(path, "fast-import", "--quiet", "--done", stdin=b"".join(stream) + b"done\n")
        try:
            new = self._git(path, "rev-parse", scratch).strip()
            result = subprocess.run(["git", "update-ref", "-m", message[:200], ref, new, head or ""],
                                    cwd=path, env=self._env(), capture_output=True)
            if result.returncode != 0:
                raise HubConflictError(f"branch {branch} of {path} moved while publishing: "
                                       f"{result.stderr.decode(errors='replace').strip()}")
        finally:
            subprocess.run(["git", "update-ref", "-d", scratch], cwd=path, env=self._env(), capture_output=True)
        return new

    @staticmethod
    def _store_lfs(path: Path, content: bytes) -> bytes:
        oid = hashlib.sha256(content).hexdigest()
        target = path / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{oid}.{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(content)
            os.replace(tmp, target)
        return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(content)}\n".encode()

    def _head(self, path: Path, ref: str) -> str | None:
        result = subprocess.run(["git", "rev-parse", "--verify", "-q", ref], cwd=path, env=self._env(),
                                capture_output=True)
        return result.stdout.decode().strip() if result.returncode == 0 else None

    @staticmethod
    def _env() -> dict[str, str]:
        return {**os.environ, **_IDENTITY, "GIT_TERMINAL_PROMPT": "0"}

    def _git(self, path: Path, *args: str, stdin: bytes | None = None) -> str:
        result = subprocess.run(["git", *args], cwd=path, env=self._env(), input=stdin, capture_output=True)
        if result.returncode != 0:
            raise HubError(f"git {args[0]} failed in {path}: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout.decode()


def _data(content: bytes) -> list[bytes]:
    return [f"data {len(content)}\n".encode(), content, b"\n"]


def _is_binary(content: bytes) -> bool:
    """Not UTF-8 text: stored in LFS, as the Hub does for weights and tables."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return b"\x00" in content
