"""Addresses of Hub registries (``hf://<org>/<registry>[@revision]``) and how to reach the Hub: the
endpoint, token, cache, offline switch, timeout and retries, resolved at call time from explicit values
or the environment (:func:`mdl.config.environment`).

>>> parse_address("hf://mdl-zoo/registry@v1")
('mdl-zoo', 'registry', 'v1')
>>> is_commit("0" * 40), is_commit("main")
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mdl.config import LIBRARY_NAME, VERSION, environment
from mdl.errors import HubError

__all__ = ["CLIENT", "DEFAULT_BRANCH", "HubSettings", "is_commit", "parse_address"]

#: The branch a registry and its model sets are published to.
DEFAULT_BRANCH = "main"
#: How mdl names itself to ``huggingface_hub`` (its user agent), in every request.
CLIENT = {"library_name": LIBRARY_NAME, "library_version": VERSION}

_ADDRESS = re.compile(r"^hf://(?P<org>[A-Za-z0-9][A-Za-z0-9._-]*)/(?P<repo>[A-Za-z0-9][A-Za-z0-9._-]*)"
                      r"(?:@(?P<rev>[^\s@]+))?/?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def parse_address(address: str) -> tuple[str, str, str | None]:
    """Split a registry address.

    Parameters
    ----------
    address : str
        ``hf://org/registry[@revision]``.

    Returns
    -------
    tuple of (str, str, str or None)
        The organisation, the registry repository and the revision (None when not given).

    Raises
    ------
    HubError
        When ``address`` is not such an address.

    Examples
    --------
    >>> parse_address("hf://org/registry")
    ('org', 'registry', None)
    """
    match = _ADDRESS.match(str(address))
    if match is None:
        raise HubError(f"invalid Hub address {address!r}: use hf://<org>/<registry-repo>[@revision]")
    return match["org"], match["repo"], match["rev"]


def is_commit(revision: str | None) -> bool:
    """Whether ``revision`` is a full commit hash (40 lower-case hex digits), which pins what it names.

    Parameters
    ----------
    revision : str or None
        A commit, tag or branch.

    Returns
    -------
    bool
        True for a full commit hash.

    Examples
    --------
    >>> is_commit(None)
    False
    """
    return bool(revision) and _COMMIT.match(revision) is not None


@dataclass(frozen=True)
class HubSettings:
    """Where and how to reach the Hub, for one call.

    Attributes
    ----------
    endpoint : str
        The server's URL, without a trailing slash.
    token : str or None
        The access token.
    cache_dir : str
        The Hugging Face cache folder (absolute).
    offline : bool
        Read only from the cache.
    timeout : float
        Seconds one metadata request may take.
    retries : int
        How often a metadata request is retried on network errors and 5xx answers.

    Examples
    --------
    >>> HubSettings.resolve(endpoint="http://127.0.0.1:1/", timeout=2).endpoint
    'http://127.0.0.1:1'
    """

    endpoint: str
    token: str | None
    cache_dir: str
    offline: bool
    timeout: float
    retries: int

    @classmethod
    def resolve(cls, endpoint: str | None = None, token: str | None = None, cache_dir: str | Path | None = None,
                timeout: float | None = None, retries: int | None = None) -> HubSettings:
        """The settings now: each value given here, else its environment variable, else the client's default.

        Parameters
        ----------
        endpoint, token, cache_dir, timeout, retries : optional
            Override ``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_CACHE`` (or ``$HF_HOME/hub``),
            ``HF_HUB_ETAG_TIMEOUT`` and ``MDL_HUB_RETRIES``.

        Returns
        -------
        HubSettings
            The resolved settings.

        Examples
        --------
        >>> HubSettings.resolve(retries=0).retries
        0
        """
        from huggingface_hub import constants

        env = environment()
        endpoint = endpoint or env.hf_endpoint or constants.ENDPOINT
        if cache_dir is None:
            if env.hf_hub_cache:
                cache_dir = env.hf_hub_cache
            elif env.hf_home:
                cache_dir = Path(env.hf_home) / "hub"
            else:
                cache_dir = constants.HF_HUB_CACHE
        return cls(
            endpoint=endpoint.rstrip("/"),
            token=token or env.hf_token,
            cache_dir=str(Path(cache_dir).expanduser().resolve()),
            offline=env.hf_offline if env.hf_offline is not None else bool(constants.HF_HUB_OFFLINE),
            timeout=float(timeout if timeout is not None else env.hf_etag_timeout),
            retries=int(retries if retries is not None else env.hub_retries),
        )
