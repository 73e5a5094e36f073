"""Translating what ``huggingface_hub`` and its transport raise into mdl's hub errors
(:mod:`mdl.hub.errors`), and telling which failures are worth retrying.

>>> settings = HubSettings("http://hub", None, "/tmp", False, 1.0, 0)
>>> type(translate(ConnectionError("refused"), "index", settings)).__name__
'HubUnreachableError'
>>> should_retry(TimeoutError())
True
"""

from __future__ import annotations

from functools import cache

from mdl.errors import HubError
from mdl.hub.errors import (
    EntryNotFoundError,
    HubConflictError,
    HubUnreachableError,
    OfflineError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from mdl.hub.hf_settings import HubSettings

__all__ = ["is_network", "should_retry", "translate"]

#: HTTP answers a metadata request is retried on.
RETRY_STATUS = (408, 429, 500, 502, 503, 504)


@cache
def _network_errors() -> tuple[type[BaseException], ...]:
    """The transport exceptions of the HTTP libraries installed (the client uses one of them)."""
    types: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module_name in ("httpx2", "httpx", "requests"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        for name in ("TransportError", "ConnectionError", "Timeout", "TimeoutException"):
            kind = getattr(module, name, None)
            if isinstance(kind, type) and issubclass(kind, BaseException):
                types.append(kind)
    return tuple(types)


def is_network(exc: BaseException) -> bool:
    """Whether ``exc`` is a transport failure (refused, reset, timed out).

    Parameters
    ----------
    exc : BaseException
        What a request raised.

    Returns
    -------
    bool
        True for a network error of the standard library or an installed HTTP client.

    Examples
    --------
    >>> is_network(ConnectionResetError()), is_network(ValueError())
    (True, False)
    """
    return isinstance(exc, _network_errors())


def _status(exc: BaseException) -> int | None:
    """The HTTP status of the response an exception carries, if any."""
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def should_retry(exc: BaseException) -> bool:
    """Whether a metadata request that raised ``exc`` may succeed when sent again.

    Parameters
    ----------
    exc : BaseException
        What the request raised.

    Returns
    -------
    bool
        True for network errors and the HTTP answers in :data:`RETRY_STATUS`.

    Examples
    --------
    >>> should_retry(KeyError("x"))
    False
    """
    return is_network(exc) or _status(exc) in RETRY_STATUS


def translate(exc: BaseException, what: str, settings: HubSettings, *, hub: str = "", file: str = "",
              revision: str = "") -> HubError:
    """The mdl error for a ``huggingface_hub`` or transport exception, carrying where it happened.

    Parameters
    ----------
    exc : BaseException
        What the client raised.
    what : str
        What was being done (named first in the message).
    settings : HubSettings
        The settings of the call (the endpoint is named; offline changes the diagnosis).
    hub, file, revision : str, optional
        Where (the fields of :class:`~mdl.errors.HubLocatedError`), set on the error where it has none.

    Returns
    -------
    HubError
        One of :mod:`mdl.hub.errors` where the failure is known (offline, unreachable, repository,
        revision or file not found, conflict), else a :class:`HubError` naming the HTTP status.

    Examples
    --------
    >>> str(translate(RuntimeError("boom"), "index", HubSettings("http://hub", None, "/tmp", False, 1.0, 0)))
    'index: RuntimeError: boom'
    >>> translate(RuntimeError("boom"), "index", HubSettings("http://hub", None, "/tmp", False, 1.0, 0),
    ...           hub="hf://org/reg", file="index.parquet").file
    'index.parquet'
    """
    error = _translate(exc, what, settings)
    for name, value in (("hub", hub), ("file", file), ("revision", revision)):
        if value and not getattr(error, name):
            setattr(error, name, value)
    return error


def _translate(exc: BaseException, what: str, settings: HubSettings) -> HubError:
    from huggingface_hub import errors as hf

    if isinstance(exc, HubError):
        return exc
    where = settings.endpoint
    if isinstance(exc, hf.OfflineModeIsEnabled):
        return OfflineError(f"{what}: not in the cache, offline (HF_HUB_OFFLINE=1)")
    if isinstance(exc, hf.RevisionNotFoundError):
        return RevisionNotFoundError(f"{what}: revision not found on {where}")
    if isinstance(exc, hf.RepositoryNotFoundError):
        return RepositoryNotFoundError(f"{what}: repository not found on {where} (or not visible with this token)")
    if isinstance(exc, hf.LocalEntryNotFoundError):
        if settings.offline:
            return OfflineError(f"{what}: not in the cache, offline (HF_HUB_OFFLINE=1)")
        cause = exc.__cause__ or exc.__context__
        if cause is not None and not is_network(cause) and _status(cause) is not None:
            return _translate(cause, what, settings)
        return HubUnreachableError(f"{what}: Hub server {where} unreachable and the file is not in the cache"
                                   + (f" ({type(cause).__name__}: {cause})" if cause is not None else ""))
    if isinstance(exc, hf.EntryNotFoundError):
        return EntryNotFoundError(f"{what}: file not found on {where}")
    if is_network(exc):
        return HubUnreachableError(f"{what}: Hub server {where} unreachable ({type(exc).__name__}: {exc})")
    status = _status(exc)
    if status in (409, 412):
        return HubConflictError(f"{what}: the branch moved meanwhile ({status})")
    if status in (401, 403):
        return HubError(f"{what}: {where} refused the request (HTTP {status}); set HF_TOKEN to a token with access")
    if status == 405:
        return HubError(f"{what}: {where} does not accept this request (HTTP 405); a read-only mirror cannot be "
                        "published to through the Hub API (publish into its git repositories with GitRepoWriter, "
                        "or `mdl mirror … --git-dir`)")
    if status is not None:
        return HubError(f"{what}: {where} answered HTTP {status}")
    return HubError(f"{what}: {type(exc).__name__}: {exc}")

