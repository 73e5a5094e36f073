"""Settings read from the environment, in one place."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the default hub (a folder path, ``file://`` URL or ``hf://`` address).
HUB_ENV = "MDL_HUB"
#: Environment variable naming the folder of extra data sets (``../shared/data`` by default).
SHARED_DATA_ENV = "MDL_SHARED_DATA"


def default_hub() -> str:
    """The hub used when none is given: ``$MDL_HUB`` or ``~/.cache/mdl/hub``."""
    return os.environ.get(HUB_ENV) or str(Path.home() / ".cache" / "mdl" / "hub")


def shared_data_dir() -> Path:
    """Folder of the extra data sets: ``$MDL_SHARED_DATA``, else the first ``shared/data`` found
    beside the current directory or this package's checkout."""
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for base in (Path.cwd(), *Path.cwd().parents, here, *here.parents):
        for candidate in (base / "shared" / "data", base.parent / "shared" / "data"):
            if candidate.is_dir():
                return candidate
    raise FileNotFoundError(
        f"extra data sets not found: set {SHARED_DATA_ENV} to the folder holding polymers/ and crystals/"
    )
