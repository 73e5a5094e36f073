"""Settings, in one place: every environment variable mdl reads, its version, and the limits on input.

As in ``huggingface_hub.constants``, each variable is named here once, with its default; unlike
those constants, the values are read when a call needs them (:func:`environment`, :func:`limit`), so a
process (a test, a notebook) that changes a variable sees the change at its next call. Nothing else in
mdl reads ``os.environ``.

========================  =========================================================================
``MDL_HUB``               the default hub (a folder path, ``file://`` URL or ``hf://`` address)
``MDL_SHARED_DATA``       a local mirror of the extra data sets, laid out like ``shared/data`` (none)
``MDL_DATA_CACHE``        where downloaded data set files are kept (``~/.cache/mdl/data``)
``MDL_DATA_OFFLINE``      never download a data set file, read only mirror, package and cache (off)
``MDL_HUB_RETRIES``       how often a Hub metadata request is retried (2)
``MDL_WORKERS``           processes that share a screening's model fits (one per usable CPU core)
``MDL_SCREEN_CACHE_MB``   memory of screening's per-row cache of descriptors and graph features (1024; 0: off)
``MDL_MAX_*``             the bounds on untrusted input (:data:`LIMITS`)
``HF_ENDPOINT``           the Hub server (``huggingface_hub``'s default)
``HF_TOKEN``              the Hub token (none)
``HF_HUB_CACHE``          the Hugging Face cache folder (else ``$HF_HOME/hub``, else the client's)
``HF_HUB_OFFLINE``        read only from the cache (the client's default)
``HF_HUB_ETAG_TIMEOUT``   seconds a Hub metadata request may take (10)
========================  =========================================================================

>>> isinstance(environment().hub_retries, int)
True
>>> VERSION.count(".") >= 1
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["DATA_CACHE_ENV", "DATA_OFFLINE_ENV", "HUB_ENV", "HUB_RETRIES_ENV", "LIBRARY_NAME", "LIMITS",
           "SCREEN_CACHE_ENV", "SHARED_DATA_ENV", "VERSION", "WORKERS_ENV", "Environment", "data_cache_dir", "default_hub", "environment",
           "limit", "shared_data_dir", "workers"]

#: Environment variable naming the default hub (a folder path, ``file://`` URL or ``hf://`` address).
HUB_ENV = "MDL_HUB"
#: Environment variable naming a local mirror of the extra data sets (laid out like ``shared/data``; no default).
SHARED_DATA_ENV = "MDL_SHARED_DATA"
#: Environment variable naming the cache of downloaded data set files (``~/.cache/mdl/data`` by default).
DATA_CACHE_ENV = "MDL_DATA_CACHE"
#: Environment variable that, when true ("1", "ON", "YES", "TRUE"), forbids downloading data set files.
DATA_OFFLINE_ENV = "MDL_DATA_OFFLINE"
#: Environment variable setting how often a Hub metadata request is retried.
HUB_RETRIES_ENV = "MDL_HUB_RETRIES"
#: Environment variable setting how many processes share a screening's model fits (1: none, all in this one).
WORKERS_ENV = "MDL_WORKERS"
#: Environment variable bounding screening's per-row cache, in MiB (0 turns it off).
SCREEN_CACHE_ENV = "MDL_SCREEN_CACHE_MB"
_PACKAGE = Path(__file__).resolve().parent


def _version() -> str:
    """The package version: its installed metadata, else ``pyproject.toml`` beside a source checkout
    (the one place it is written)."""
    try:
        return metadata.version(LIBRARY_NAME)
    except metadata.PackageNotFoundError:
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib
        with open(_PACKAGE.parent / "pyproject.toml", "rb") as handle:
            return tomllib.load(handle)["project"]["version"]


#: The library's name: its distribution's, and the ``library_name`` of Hub cards and of the client's user agent.
LIBRARY_NAME = "mdl"
#: The version of mdl, from the package metadata (``mdl.__version__``).
VERSION = _version()


@dataclass(frozen=True)
class Environment:
    """The environment variables mdl reads, as they are now (None where unset or empty).

    Attributes
    ----------
    hub : str or None
        ``MDL_HUB``.
    shared_data : str or None
        ``MDL_SHARED_DATA``.
    data_cache : str or None
        ``MDL_DATA_CACHE``.
    data_offline : bool
        ``MDL_DATA_OFFLINE`` (same true values as ``HF_HUB_OFFLINE``); False when unset.
    hub_retries : int
        ``MDL_HUB_RETRIES`` (2 when unset).
    workers : int or None
        ``MDL_WORKERS``; None when unset (:func:`workers` then uses every usable CPU core).
    screen_cache_mb : float
        ``MDL_SCREEN_CACHE_MB`` (1024 when unset; 0: no cache).
    hf_endpoint, hf_token, hf_hub_cache, hf_home : str or None
        ``HF_ENDPOINT``, ``HF_TOKEN``, ``HF_HUB_CACHE``, ``HF_HOME``.
    hf_offline : bool or None
        ``HF_HUB_OFFLINE`` ("1", "ON", "YES", "TRUE" in any case is true); None when unset.
    hf_etag_timeout : float
        ``HF_HUB_ETAG_TIMEOUT`` in seconds (10 when unset).

    Examples
    --------
    >>> Environment.read({"HF_HUB_OFFLINE": "yes", "MDL_HUB_RETRIES": "5"}).hf_offline
    True
    """

    hub: str | None
    shared_data: str | None
    data_cache: str | None
    data_offline: bool
    hub_retries: int
    workers: int | None
    screen_cache_mb: float
    hf_endpoint: str | None
    hf_token: str | None
    hf_hub_cache: str | None
    hf_home: str | None
    hf_offline: bool | None
    hf_etag_timeout: float

    @classmethod
    def read(cls, env: Mapping[str, str]) -> Environment:
        """Read every variable from ``env`` (a mapping such as ``os.environ``).

        Parameters
        ----------
        env : mapping of str to str
            The environment to read.

        Returns
        -------
        Environment
            The values, each parsed to its type.

        Raises
        ------
        ValueError
            Naming the variable, when a number is not one.

        Examples
        --------
        >>> Environment.read({}).hf_etag_timeout
        10.0
        """
        def text(name: str) -> str | None:
            value = env.get(name)
            return value if value else None

        def number(name: str, kind: type[int] | type[float], default: float) -> float:
            value = text(name)
            try:
                return kind(value) if value is not None else default
            except ValueError:
                raise ValueError(f"{name}={value!r}: expected a {'whole ' if kind is int else ''}number") from None

        def flag(name: str) -> bool | None:
            value = env.get(name)
            return None if value is None else value.strip().upper() in {"1", "ON", "YES", "TRUE"}

        return cls(
            hub=text(HUB_ENV),
            shared_data=text(SHARED_DATA_ENV),
            data_cache=text(DATA_CACHE_ENV),
            data_offline=bool(flag(DATA_OFFLINE_ENV)),
            hub_retries=int(number(HUB_RETRIES_ENV, int, 2)),
            workers=int(number(WORKERS_ENV, int, 0)) if text(WORKERS_ENV) else None,
            screen_cache_mb=max(0.0, float(number(SCREEN_CACHE_ENV, float, 1024))),
            hf_endpoint=text("HF_ENDPOINT"),
            hf_token=text("HF_TOKEN"),
            hf_hub_cache=text("HF_HUB_CACHE"),
            hf_home=text("HF_HOME"),
            hf_offline=flag("HF_HUB_OFFLINE"),
            hf_etag_timeout=float(number("HF_HUB_ETAG_TIMEOUT", float, 10)),
        )


def environment() -> Environment:
    """The settings of the process environment, read now.

    Returns
    -------
    Environment
        Every variable mdl reads, parsed.

    Examples
    --------
    >>> environment().hub_retries >= 0
    True
    """
    return Environment.read(os.environ)


def default_hub() -> str:
    """The hub used when none is given.

    Returns
    -------
    str
        ``$MDL_HUB``, else ``~/.cache/mdl/hub``.

    Examples
    --------
    >>> isinstance(default_hub(), str)
    True
    """
    return environment().hub or str(Path.home() / ".cache" / "mdl" / "hub")


def workers() -> int:
    """How many processes share a screening's model fits.

    Returns
    -------
    int
        ``$MDL_WORKERS``, else the CPU cores this process may use; at least 1.

    Raises
    ------
    ValueError
        When ``MDL_WORKERS`` is not a whole number >= 1.

    Examples
    --------
    >>> workers() >= 1
    True
    """
    chosen = environment().workers
    if chosen is not None and chosen < 1:
        raise ValueError(f"{WORKERS_ENV}={chosen}: must be at least 1")
    if chosen is not None:
        return chosen
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def shared_data_dir() -> Path | None:
    """The local mirror of the extra data sets: ``$MDL_SHARED_DATA``, and nothing else (no folder is guessed).

    Returns
    -------
    Path or None
        The folder the variable names (laid out like ``shared/data``: ``polymers/<set>/``,
        ``crystals/<set>/``), or None when it is unset.

    Examples
    --------
    >>> shared_data_dir() is None or isinstance(shared_data_dir(), Path)
    True
    """
    folder = environment().shared_data
    return Path(folder) if folder else None


def data_cache_dir() -> Path:
    """Where downloaded data set files are kept.

    Returns
    -------
    Path
        ``$MDL_DATA_CACHE``, else ``~/.cache/mdl/data``.

    Examples
    --------
    >>> data_cache_dir().is_absolute() or environment().data_cache is not None
    True
    """
    folder = environment().data_cache
    return Path(folder) if folder else Path.home() / ".cache" / "mdl" / "data"


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
    "cif_length": ("MDL_MAX_CIF_LENGTH", 1_000_000, "characters of one CIF or POSCAR text or file input"),
    "sites": ("MDL_MAX_SITES", 1_000, "sites (atoms) of one crystal structure input"),
    "models": ("MDL_MAX_MODELS", 10_000_000, "rows of a hub index"),
}


def limit(name: str) -> int:
    """The limit called ``name``: its environment variable, else its default.

    Parameters
    ----------
    name : str
        A key of :data:`LIMITS`, e.g. ``"layers"``.

    Returns
    -------
    int
        The bound, at least 1.

    Raises
    ------
    ValueError
        When the variable is set to something other than a whole number >= 1.

    Examples
    --------
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
