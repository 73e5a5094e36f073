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


# -- limits on untrusted input --------------------------------------------------------------------
#: Bounds applied to everything read from a hub or a saved model, and to user inputs that cost memory
#: super-linearly. Each is raised (or lowered) by its environment variable, e.g. ``MDL_MAX_FILE_MB=4096``.
LIMITS: dict[str, tuple[str, int, str]] = {
    "file_mb": ("MDL_MAX_FILE_MB", 2048, "size of one model file (weights, blobs), MiB"),
    "json_mb": ("MDL_MAX_JSON_MB", 64, "size of one JSON file (config, manifest, modelset, booster), MiB"),
    "json_depth": ("MDL_MAX_JSON_DEPTH", 64, "nesting depth of a JSON document"),
    "width": ("MDL_MAX_WIDTH", 65_536, "columns of a descriptor, or units of one network layer"),
    "layers": ("MDL_MAX_LAYERS", 64, "hidden layers of a network"),
    "neighbors": ("MDL_MAX_NEIGHBORS", 64, "neighbours per atom of a crystal graph"),
    "parameters": ("MDL_MAX_PARAMETERS", 200_000_000, "weights of one network"),
    "tree_nodes": ("MDL_MAX_TREE_NODES", 50_000_000, "nodes of all trees of one forest or booster"),
    "trees": ("MDL_MAX_TREES", 100_000, "trees of one forest or booster"),
    "tree_depth": ("MDL_MAX_TREE_DEPTH", 4_096, "depth of one tree of a forest or booster"),
    "smiles_length": ("MDL_MAX_SMILES_LENGTH", 2_000, "characters of one SMILES or formula input"),
    "cif_length": ("MDL_MAX_CIF_LENGTH", 1_000_000, "characters of one CIF text input"),
    "models": ("MDL_MAX_MODELS", 10_000_000, "rows of a hub index"),
}


def limit(name: str) -> int:
    """The limit called ``name`` (see :data:`LIMITS`): its environment variable, else the default.

    >>> limit("layers") >= 1
    True
    """
    variable, default, what = LIMITS[name]
    text = os.environ.get(variable)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{variable}={text!r}: expected a whole number ({what})") from None
    if value < 1:
        raise ValueError(f"{variable}={text!r}: must be at least 1 ({what})")
    return value
