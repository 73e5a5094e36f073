"""The old import paths of screening (moved to :mod:`mdl.screening`), kept for one release with a warning."""

from __future__ import annotations

import warnings

__all__ = ["warn_moved"]


def warn_moved(old: str, new: str) -> None:
    """Warn that ``old`` (a module or name) moved to ``new`` and goes in the next release.

    Parameters
    ----------
    old, new : str
        Dotted paths.

    Examples
    --------
    >>> import pytest
    >>> with pytest.warns(DeprecationWarning, match="a.b moved to c.d"):
    ...     warn_moved("a.b", "c.d")
    """
    warnings.warn(f"{old} moved to {new}; the old path goes in the next release of mdl", DeprecationWarning,
                  stacklevel=3)
