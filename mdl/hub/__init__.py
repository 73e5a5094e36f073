"""Hubs: where zoo models live. A local folder is the embedded default.

>>> hub = open_hub()            # $MDL_HUB or ~/.cache/mdl/hub
>>> hub = open_hub("file:///srv/zoo")
"""

from __future__ import annotations

from pathlib import Path

from mdl.config import default_hub
from mdl.errors import HubError
from mdl.hub.local import LocalHub

__all__ = ["LocalHub", "open_hub"]

_OPEN: dict[str, LocalHub] = {}


def open_hub(address: str | Path | LocalHub | None = None) -> LocalHub:
    """The hub at ``address``: a folder path or ``file://`` URL (default: ``$MDL_HUB``)."""
    if isinstance(address, LocalHub):
        return address
    address = str(address) if address is not None else default_hub()
    if address.startswith("file://"):
        address = address[len("file://"):]
    elif "://" in address:
        raise HubError(f"unsupported hub address {address!r}: use a folder path or file://")
    key = str(Path(address).expanduser().resolve())
    if key not in _OPEN:
        _OPEN[key] = LocalHub(key)
    return _OPEN[key]
