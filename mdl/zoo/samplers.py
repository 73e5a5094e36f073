"""Random hyperparameter "setups" of the source-model families (Yamada et al. 2019).

Each source model draws its own hyperparameters from a seeded generator, so a recipe's seed fixes
every model it yields.

>>> import numpy as np
>>> sample("rf", "rf1", np.random.default_rng(0), n_features=500)["n_estimators"] in range(100, 801)
True
"""

from __future__ import annotations

import difflib
import math
from typing import Any

import numpy as np

from mdl.config import limit
from mdl.errors import RecipeError

#: The paper's ranges. Integers are inclusive [low, high]; floats are [low, high).
SETUPS: dict[str, dict[str, dict[str, Any]]] = {
    "nn": {
        "nn1": {"n_layers": (3, 4), "first": (50, 400), "last": (10, 30)},
        "nn2": {"n_layers": (3, 4), "first": (50, 1640), "last": (10, 30)},
        "nn3": {"n_layers": (3, 6), "first": (20, 348), "last": (5, 30)},
        # ElemNet-style deep stack on element fractions (Jha et al. 2018 used 17 layers, 1024 -> 32)
        "elemnet": {"n_layers": (8, 12), "first": (384, 1024), "last": (32, 64)},
    },
    "rf": {
        "rf1": {"n_estimators": (100, 800), "max_features": (20, 100)},
        "rf2": {"n_estimators": (50, 500), "max_features": (50, 500)},
    },
    "gb": {
        "gb1": {"learning_rate": (0.1, 1.0), "max_depth": (3, 10), "n_estimators": (50, 200)},
    },
    "en": {
        "en1": {"l1_ratio": (0.0, 1.0), "log10_alpha": (-4.0, 0.0)},
    },
    # compact CGCNNs (Xie & Grossman 2018 used 3 convolutions of 64, 8 Å and 12 neighbours); pooling
    # is drawn as an index into mdl.models.gnn.POOLINGS (0 mean, 1 sum)
    "gnn": {
        "gnn1": {"n_conv": (2, 4), "width": (32, 96), "head_width": (32, 128), "n_gaussians": (24, 48),
                 "cutoff": (5.0, 8.0), "max_neighbors": (8, 16), "log10_lr": (-3.0, -2.3), "pooling": (0, 1)},
    },
}

DEFAULT_SETUP = {"nn": "nn1", "rf": "rf1", "gb": "gb1", "en": "en1", "gnn": "gnn1"}

#: Deepest gradient-boosted tree a recipe may ask for (a tree of depth d has up to 2**d leaves).
MAX_DEPTH = 32


def _draw(rng: np.random.Generator, bounds: tuple) -> float | int:
    low, high = bounds
    if isinstance(low, int) and isinstance(high, int):
        return int(rng.integers(low, high + 1))
    return float(rng.uniform(low, high))


def pyramid(rng: np.random.Generator, n_layers: int, first: int, last: int) -> list[int]:
    """Hidden widths shrinking geometrically from ``first`` to ``last`` (with random jitter).

    Parameters
    ----------
    rng : numpy.random.Generator
        The draw.
    n_layers : int
        How many widths.
    first, last : int
        The widths of the first and last hidden layer.

    Returns
    -------
    list of int
        The widths, non-increasing.

    Examples
    --------
    >>> widths = pyramid(np.random.default_rng(0), 3, 256, 16)
    >>> len(widths), widths == sorted(widths, reverse=True)
    (3, True)
    """
    if n_layers == 1:
        return [first]
    ratios = np.sort(rng.uniform(0.0, 1.0, size=n_layers - 2))[::-1]
    inner = [int(round(last + (first - last) * r)) for r in ratios]
    widths = [first, *inner, last]
    return [max(w, last) for w in widths]


def range_bounds() -> dict[str, tuple[float, float]]:
    """The values a recipe may give each hyperparameter range, both ends inclusive (widths, layers and
    trees follow :func:`mdl.config.limit`).

    >>> range_bounds()["l1_ratio"]
    (0.0, 1.0)
    """
    return {"n_layers": (1, limit("layers")), "first": (1, limit("width")), "last": (1, limit("width")),
            "n_estimators": (1, limit("trees")), "max_features": (1, limit("width")), "max_depth": (1, MAX_DEPTH),
            "learning_rate": (0.0, 1.0), "l1_ratio": (0.0, 1.0), "log10_alpha": (-10.0, 10.0),
            "n_conv": (1, limit("layers")), "width": (1, limit("width")), "head_width": (1, limit("width")),
            "n_gaussians": (1, limit("width")), "cutoff": (1.0, 12.0), "max_neighbors": (1, limit("neighbors")),
            "log10_lr": (-6.0, 0.0), "pooling": (0, 1)}


def _setup(family: str, setup: str | None) -> dict[str, tuple]:
    if family not in SETUPS:
        raise RecipeError(f"unknown model family {family!r}; known: {sorted(SETUPS)}")
    setup = setup or DEFAULT_SETUP[family]
    if setup not in SETUPS[family]:
        raise RecipeError(f"unknown setup {setup!r} for family {family!r}; known: {sorted(SETUPS[family])}")
    return SETUPS[family][setup]


def range_problems(family: str, setup: str | None, overrides: dict) -> dict[str, str]:
    """What is wrong with each override of a setup's ranges.

    Parameters
    ----------
    family : str
        The model family.
    setup : str or None
        Its setup (the family default if None).
    overrides : dict
        Hyperparameter → ``[low, high]``.

    Returns
    -------
    dict of str to str
        Hyperparameter → the problem; empty when there is none.

    Examples
    --------
    >>> range_problems("rf", "rf1", {"n_estimators": [500, 10], "max_feature": [5, 9]})
    {'n_estimators': 'expected [low, high] with 1 <= low <= high <= 100000, got [500, 10]', \
'max_feature': "not a hyperparameter of setup 'rf1'; did you mean 'max_features'? known: max_features, n_estimators"}
    """
    known, bounds = _setup(family, setup), range_bounds()
    problems = {}
    for key, value in overrides.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ";"
            problems[key] = f"not a hyperparameter of setup {setup or DEFAULT_SETUP[family]!r}{hint} " \
                            f"known: {', '.join(sorted(known))}"
            continue
        low, high = bounds[key]
        numbers = isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
        if not numbers:
            problems[key] = f"expected a range [low, high] of two finite numbers, got {value!r}"
        elif isinstance(known[key][0], int) and not all(float(v).is_integer() for v in value):
            problems[key] = f"expected whole numbers, got {value!r}"
        elif not low <= value[0] <= value[1] <= high:
            problems[key] = f"expected [low, high] with {low} <= low <= high <= {high}, got {value!r}"
    return problems


def ranges(family: str, setup: str | None = None, overrides: dict | None = None) -> dict[str, tuple]:
    """The ranges of a family's setup, with ``overrides`` applied.

    Parameters
    ----------
    family : str
        The model family.
    setup : str, optional
        Its setup (the family default if None).
    overrides : dict, optional
        Hyperparameter → ``[low, high]``, checked by :func:`range_problems`.

    Returns
    -------
    dict of str to tuple
        Hyperparameter → its range.

    Raises
    ------
    RecipeError
        For an unknown family or setup, or a bad override.

    Examples
    --------
    >>> ranges("gb", None, {"max_depth": [3, 6]})["max_depth"]
    (3, 6)
    """
    out = dict(_setup(family, setup))
    problems = range_problems(family, setup, overrides or {})
    if problems:
        raise RecipeError("; ".join(f"{family}.{key}: {problem}" for key, problem in problems.items()))
    for key, value in (overrides or {}).items():
        out[key] = tuple(type(out[key][0])(v) for v in value)
    return out


def sample(
    family: str,
    setup: str | None,
    rng: np.random.Generator,
    n_features: int,
    overrides: dict | None = None,
) -> dict[str, Any]:
    """Draw one model's hyperparameters.

    Parameters
    ----------
    family : str
        The model family.
    setup : str or None
        Its setup (the family default if None).
    rng : numpy.random.Generator
        The draw.
    n_features : int
        The model's input columns (bounds the widths and features drawn).
    overrides : dict, optional
        Hyperparameter → ``[low, high]``.

    Returns
    -------
    dict
        The hyperparameters.

    Examples
    --------
    >>> sorted(sample("rf", None, np.random.default_rng(0), 100))
    ['max_features', 'n_estimators']
    """
    r = ranges(family, setup, overrides)
    if family == "nn":
        n_layers = int(_draw(rng, r["n_layers"]))
        first = int(_draw(rng, r["first"]))
        last = int(_draw(rng, r["last"]))
        return {"hidden": pyramid(rng, n_layers, max(first, last), last)}
    if family == "rf":
        return {
            "n_estimators": int(_draw(rng, r["n_estimators"])),
            "max_features": min(int(_draw(rng, r["max_features"])), n_features),
        }
    if family == "gb":
        return {key: _draw(rng, bounds) for key, bounds in r.items()}
    if family == "gnn":
        hp = {key: _draw(rng, r[key]) for key in ("n_conv", "width", "head_width", "n_gaussians", "max_neighbors")}
        return {**hp, "cutoff": round(float(_draw(rng, r["cutoff"])), 2), "lr": float(10 ** _draw(rng, r["log10_lr"])),
                "pooling": ("mean", "sum")[int(_draw(rng, r["pooling"]))]}
    return {"l1_ratio": float(_draw(rng, r["l1_ratio"])), "alpha": float(10 ** _draw(rng, r["log10_alpha"]))}
