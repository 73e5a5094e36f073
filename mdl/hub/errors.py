"""Errors of remote hubs: distinct, typed, each one a :class:`~mdl.errors.HubError`.

A checksum mismatch is :class:`mdl.errors.IntegrityError`, the same as for a local hub.

>>> try:
...     mdl.pull("qm9-gap-nn-0000", hub="hf://mdl-zoo/registry")    # doctest: +SKIP
... except HubUnreachableError:
...     ...
"""

from __future__ import annotations

from mdl.errors import HubError


class HubUnreachableError(HubError):
    """The Hub server cannot be reached (connection refused, timed out, network down)."""


class RepositoryNotFoundError(HubError):
    """The repository does not exist on the Hub, or this token cannot see it."""


class RevisionNotFoundError(HubError):
    """The repository exists but not the requested revision (branch, tag or commit)."""


class EntryNotFoundError(HubError):
    """The repository and revision exist but not the requested file."""


class OfflineError(HubError):
    """Offline (``HF_HUB_OFFLINE=1``) and what was asked for is not in the local cache."""


class HubConflictError(HubError):
    """A branch moved while publishing (someone else committed first); re-reading and retrying resolves it."""
