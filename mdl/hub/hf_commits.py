"""What a publish to a Hub sends, built without any request: the commit operations (files not already
there with the same content), the files of the models, the registry's card and its index columns.

>>> [op.path_in_repo for op in commit_operations({"b.json": b"{}", "a.json": b"[]"})]
['a.json', 'b.json']
>>> commit_operations({"a.json": b"[]"}, {"a.json": RemoteFile(git_blob_id(b"[]"))})
[]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from mdl.config import LIBRARY_NAME
from mdl.hub.index import COLUMNS, empty_index

__all__ = ["HF_COLUMNS", "CommitWriter", "RemoteFile", "commit_operations", "empty_hf_index", "git_blob_id",
           "model_files", "registry_card"]

#: Index columns on a Hub: the local ones plus the model's repository and the commit it was published at.
HF_COLUMNS = [*COLUMNS, "repo_id", "revision"]


class CommitWriter(Protocol):
    """What sends a publish's commits: ``huggingface_hub.HfApi``, or a
    :class:`~mdl.hub.gitrepo.GitRepoWriter` for the git repositories of a self-hosted mirror.

    Examples
    --------
    >>> from mdl.hub.gitrepo import GitRepoWriter
    >>> writer: CommitWriter = GitRepoWriter("/srv/olah")
    """

    def create_repo(self, repo_id: str, *, exist_ok: bool = False) -> object:
        """Create a repository.

        Parameters
        ----------
        repo_id : str
            ``<org>/<name>``.
        exist_ok : bool
            Return quietly when it exists.

        Returns
        -------
        object
            Where it is (unused).
        """

    def create_commit(self, repo_id: str, operations: Iterable[Any], *, commit_message: str,
                      parent_commit: str | None = None, revision: str | None = None) -> Any:
        """Commit operations on a branch, refused when the branch moved past ``parent_commit``.

        Parameters
        ----------
        repo_id : str
            ``<org>/<name>``.
        operations : iterable of CommitOperationAdd
            The files.
        commit_message : str
            The message.
        parent_commit : str, optional
            The commit the branch must still be at.
        revision : str, optional
            The branch.

        Returns
        -------
        object
            The commit, its id as ``oid``.
        """


@dataclass(frozen=True)
class RemoteFile:
    """A file already in a repository.

    Attributes
    ----------
    blob_id : str or None
        Its git blob id.
    lfs_sha256 : str or None
        Its sha256 when it is stored in LFS.

    Examples
    --------
    >>> RemoteFile(git_blob_id(b"x")).matches(b"x"), RemoteFile(None, "0" * 64).matches(b"x")
    (True, False)
    """

    blob_id: str | None
    lfs_sha256: str | None = None

    def matches(self, content: bytes) -> bool:
        """Whether the file holds ``content``.

        Parameters
        ----------
        content : bytes
            What would be sent.

        Returns
        -------
        bool
            True when its sha256 (LFS) or git blob id equals the content's.

        Examples
        --------
        >>> RemoteFile(None).matches(b"")
        False
        """
        if self.lfs_sha256:
            return hashlib.sha256(content).hexdigest() == self.lfs_sha256
        return self.blob_id is not None and git_blob_id(content) == self.blob_id


def git_blob_id(content: bytes) -> str:
    """The id git gives a file's content (the Hub's ``blob_id`` of a non-LFS file).

    Parameters
    ----------
    content : bytes
        The file's content.

    Returns
    -------
    str
        The sha1 of ``blob <size>\\0<content>``, hex.

    Examples
    --------
    >>> git_blob_id(b"")
    'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def commit_operations(files: Mapping[str, Path | str | bytes],
                      existing: Mapping[str, RemoteFile] | None = None) -> list:
    """What a (resumed) publish has to send.

    Parameters
    ----------
    files : mapping of str to path or bytes
        Path in the repository → local file or content.
    existing : mapping of str to RemoteFile, optional
        What the repository already holds.

    Returns
    -------
    list of huggingface_hub.CommitOperationAdd
        One for every file not already in the repository with the same content, sorted by path.

    Examples
    --------
    >>> len(commit_operations({"a": b"1"}, {"a": RemoteFile(git_blob_id(b"2"))}))
    1
    """
    from huggingface_hub import CommitOperationAdd

    existing = existing or {}
    operations = []
    for path_in_repo in sorted(files):
        source = files[path_in_repo]
        content = source if isinstance(source, bytes) else Path(source).read_bytes()
        remote = existing.get(path_in_repo)
        if remote is not None and remote.matches(content):
            continue
        operations.append(CommitOperationAdd(path_in_repo=path_in_repo,
                                             path_or_fileobj=content if isinstance(source, bytes) else str(source)))
    return operations


def model_files(rows: Sequence[Mapping[str, Any]], staging: Path) -> dict[str, Path]:
    """Where each file of each model goes in the model set's repository.

    Parameters
    ----------
    rows : sequence of mappings
        Index rows (``model_id``, ``path``, ``files``).
    staging : Path
        The folder the models were saved into (``<staging>/<model id>/<file>``).

    Returns
    -------
    dict of str to Path
        Path in the repository → staged file.

    Examples
    --------
    >>> model_files([{"model_id": "m", "path": "models/m", "files": '{"config.json": "ab"}'}], Path("/s"))
    {'models/m/config.json': PosixPath('/s/m/config.json')}
    """
    return {f"{row['path']}/{name}": staging / row["model_id"] / name
            for row in rows for name in json.loads(row["files"])}


def registry_card(org: str, registry: str, index: pd.DataFrame) -> bytes:
    """The registry's ``README.md``: one line per model set.

    Parameters
    ----------
    org, registry : str
        The registry's organisation and repository.
    index : pandas.DataFrame
        The registry's index (``HF_COLUMNS``).

    Returns
    -------
    bytes
        Markdown with Hub metadata.

    Examples
    --------
    >>> b"0 models" in registry_card("org", "registry", empty_hf_index())
    True
    """
    sets = index.groupby("modelset", sort=True)
    lines = ["---", f"library_name: {LIBRARY_NAME}", "tags:", "- mdl", "- mdl-registry", "---", "",
             f"# mdl registry `{org}/{registry}`", "",
             f"{len(index)} models in {index['modelset'].nunique()} model sets. `index.parquet` records for each "
             "model its repository, folder, the commit it was published at and every file's sha256.", "",
             "| model set | repository | models | material | properties |", "|---|---|---|---|---|"]
    for name, rows in sets:
        props = sorted({p for value in rows["property"] for p in str(value).split("; ") if p})
        lines.append(f"| {name} | {rows['repo_id'].iloc[0]} | {len(rows)} | "
                     f"{', '.join(sorted(set(rows['material'])))} | {', '.join(props)} |")
    lines += ["", f"Search and pull with `mdl.search(..., hub=\"hf://{org}/{registry}\")`.", ""]
    return "\n".join(lines).encode()


def empty_hf_index() -> pd.DataFrame:
    """A registry index without rows.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`HF_COLUMNS`, typed.

    Examples
    --------
    >>> list(empty_hf_index().columns) == HF_COLUMNS
    True
    """
    index = empty_index()
    for column in ("repo_id", "revision"):
        index[column] = pd.Series(dtype="object")
    return index
