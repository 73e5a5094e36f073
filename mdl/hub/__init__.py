"""Hubs: where zoo models live. A local folder is the embedded default; a Hugging Face Hub is addressed
as ``hf://<org>/<registry-repo>[@revision]`` (endpoint and token from ``HF_ENDPOINT`` / ``HF_TOKEN``).

>>> hub = open_hub()                              # $MDL_HUB or ~/.cache/mdl/hub
>>> hub = open_hub("file:///srv/zoo")
>>> hub = open_hub("hf://mdl-zoo/registry@v1")    # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from mdl.config import default_hub
from mdl.errors import HubError
from mdl.hub.hf import HFHub
from mdl.hub.local import LocalHub

__all__ = ["HFHub", "Hub", "LocalHub", "open_hub"]

#: Anything ``open_hub`` returns: the same interface (address, index, row, load, publish, and for
#: mirrors model_bytes, publish_files and modelset_meta). ``mdl.hub.check`` checks and repairs one.
Hub = LocalHub | HFHub

_OPEN: dict[object, Hub] = {}


def open_hub(address: str | Path | Hub | None = None) -> Hub:
    """The hub at ``address``: a folder path, a ``file://`` URL or ``hf://org/registry[@rev]``
    (default: ``$MDL_HUB``)."""
    if isinstance(address, (LocalHub, HFHub)):
        return address
    address = str(address) if address is not None else default_hub()
    if address.startswith("hf://"):
        key = ("hf", address, os.environ.get("HF_ENDPOINT"), os.environ.get("HF_HUB_CACHE"),
               os.environ.get("HF_HOME"))
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
