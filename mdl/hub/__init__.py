"""Hubs: where zoo models live. A local folder is the embedded default; a Hugging Face Hub is addressed
as ``hf://<org>/<registry-repo>[@revision]`` (endpoint and token from ``HF_ENDPOINT`` / ``HF_TOKEN``).
Both implement :class:`Hub`.

>>> hub = open_hub()                              # $MDL_HUB or ~/.cache/mdl/hub
>>> hub = open_hub("file:///srv/zoo")
>>> hub = open_hub("hf://mdl-zoo/registry@v1")    # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from mdl.config import default_hub, environment
from mdl.errors import HubError
from mdl.hub.hf import HFHub
from mdl.hub.local import LocalHub
from mdl.hub.protocol import Hub

__all__ = ["HFHub", "Hub", "LocalHub", "open_hub"]

_OPEN: dict[object, Hub] = {}


def open_hub(address: str | Path | Hub | None = None) -> Hub:
    """The hub at ``address``, opened once per process (and per Hub endpoint and cache).

    Parameters
    ----------
    address : str, Path, Hub or None
        A folder path, a ``file://`` URL, ``hf://org/registry[@rev]``, or a hub (returned as it is);
        None for the default hub (``$MDL_HUB``, else ``~/.cache/mdl/hub``).

    Returns
    -------
    Hub
        A :class:`LocalHub` or an :class:`HFHub`.

    Raises
    ------
    HubError
        For an address with another scheme.

    Examples
    --------
    >>> open_hub("file:///tmp/zoo") is open_hub("/tmp/zoo")
    True
    """
    if isinstance(address, Hub):
        return address
    address = str(address) if address is not None else default_hub()
    if address.startswith("hf://"):
        env = environment()
        key = ("hf", address, env.hf_endpoint, env.hf_hub_cache, env.hf_home)
        if key not in _OPEN:
            _OPEN[key] = HFHub(address)
        return _OPEN[key]
    if address.startswith("file://"):
        address = address[len("file://"):]
    elif "://" in address:
        raise HubError(f"unsupported hub address {address!r}: use a folder path, file:// or hf://<org>/<registry>")
    key = str(Path(address).expanduser().resolve())
    if key not in _OPEN:
        _OPEN[key] = LocalHub(key)
    return _OPEN[key]
