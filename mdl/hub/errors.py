"""Errors of remote hubs: distinct, typed, each one a :class:`~mdl.errors.HubError` carrying where it
happened (``hub``, ``model_id``, ``file``, ``revision``) and, like ``huggingface_hub``'s own errors, also the
built-in exception a caller unaware of mdl would catch: a file or repository that is not there is a
``FileNotFoundError``, a server that cannot be reached (or may not be, offline) a ``ConnectionError``, a
revision that names nothing a ``LookupError``.

A checksum mismatch is :class:`mdl.errors.IntegrityError`, the same as for a local hub.

>>> try:
...     mdl.pull("qm9-gap-nn-0000", hub="hf://mdl-zoo/registry")    # doctest: +SKIP
... except HubUnreachableError:
...     ...
"""

from __future__ import annotations

from mdl.errors import HubError


class HubUnreachableError(HubError, ConnectionError):
    """The Hub server cannot be reached (connection refused, timed out, network down).

    Examples
    --------
    >>> err = HubUnreachableError("index: Hub server http://hub unreachable", hub="hf://org/registry")
    >>> isinstance(err, ConnectionError), str(err), err.hub
    (True, 'index: Hub server http://hub unreachable', 'hf://org/registry')
    """


class RepositoryNotFoundError(HubError, FileNotFoundError):
    """The repository does not exist on the Hub, or this token cannot see it.

    Examples
    --------
    >>> isinstance(RepositoryNotFoundError("repository org/set not found"), FileNotFoundError)
    True
    """


class RevisionNotFoundError(HubError, LookupError):
    """The repository exists but not the requested revision (branch, tag or commit).

    Examples
    --------
    >>> err = RevisionNotFoundError("revision not found", revision="v9")
    >>> isinstance(err, LookupError), err.revision
    (True, 'v9')
    """


class EntryNotFoundError(HubError, FileNotFoundError):
    """The repository and revision exist but not the requested file.

    Examples
    --------
    >>> err = EntryNotFoundError("org/set@abc: config.json: file not found", hub="hf://org/registry",
    ...                          model_id="set-nn-0000", file="config.json", revision="abc")
    >>> isinstance(err, FileNotFoundError), (err.model_id, err.file, err.revision)
    (True, ('set-nn-0000', 'config.json', 'abc'))
    """


class OfflineError(HubError, ConnectionError):
    """Offline (``HF_HUB_OFFLINE=1``) and what was asked for is not in the local cache (a ``ConnectionError``,
    as ``huggingface_hub``'s ``OfflineModeIsEnabled`` is).

    Examples
    --------
    >>> isinstance(OfflineError("cannot publish offline (HF_HUB_OFFLINE=1)"), ConnectionError)
    True
    """


class HubConflictError(HubError):
    """A branch moved while publishing (someone else committed first); re-reading and retrying resolves it.

    No built-in exception means this (``huggingface_hub`` raises an HTTP error for 409/412), so it is a
    :class:`~mdl.errors.HubError` only.

    Examples
    --------
    >>> HubConflictError("branch main moved", revision="main").revision
    'main'
    """
