"""Checks of user input in one place: targets, parameters, raw strings; problems grouped by cause.

Every public entry point (:func:`mdl.transfer`, :func:`mdl.screen`, :func:`mdl.finetune`,
:meth:`TransferModel.fit <mdl.transfer_learning.TransferModel.fit>`, the descriptors' ``transform``) calls these
before any costly work, so a bad input fails at once with an :class:`~mdl.errors.InvalidInputError`
that names the parameter or the rows and says what is accepted.

>>> check_targets([1.0, 2.5, 4.0], n_rows=3, multi_output=False, allow_constant=False)
array([1. , 2.5, 4. ])
>>> check_number(-5, "epochs", low=1)
Traceback (most recent call last):
mdl.errors.InvalidInputError: epochs must be an integer >= 1, got -5

The module imports only numpy: ``mdl search`` loads it without scikit-learn's import cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from mdl.config import LIMITS, limit
from mdl.errors import InvalidInputError

__all__ = [
    "MATERIALS", "check_choice", "check_cv", "check_freeze", "check_groups", "check_input_lengths", "check_known",
    "check_layers", "check_material", "check_number", "check_targets", "group_by_cause", "n_inputs", "split_rows",
    "summary_by_cause",
]

#: The kinds of material a zoo model is trained on (a closed choice: the ``material`` of every index row).
MATERIALS = ("molecule", "polymer", "inorganic")


# -- targets -------------------------------------------------------------------------------------
def check_targets(y: Any, n_rows: int | None = None, *, multi_output: bool = True, min_rows: int = 1,
                  allow_constant: bool = True) -> np.ndarray:
    """Targets as a float array, refused with the offending rows when they cannot be learnt from.

    Parameters
    ----------
    y : one target per row (list, array, Series, or any object numpy reads through ``__array__``), or with
        ``multi_output`` a (rows, properties) table where NaN marks a missing label.
    n_rows : the number of inputs ``y`` must match (None: not checked).
    multi_output : accept a 2-D table; otherwise a (n, 1) column is flattened and wider tables refused.
    min_rows : fewest rows accepted.
    allow_constant : accept a target whose values are all equal (nothing to learn or score).

    Returns
    -------
    numpy.ndarray of float64, 1-D (or 2-D with ``multi_output``).

    Raises
    ------
    InvalidInputError
        no ``y`` (None), a single value, non-numeric entries (their rows), NaN or infinite values (their rows),
        a length other than ``n_rows``, fewer than ``min_rows`` rows, a constant target.

    Examples
    --------
    >>> check_targets(["a"] * 3)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: targets must be numbers; 3 are not (e.g. 'a' in row 0) [rows: 0, 1, 2]
    >>> check_targets(3.0)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: y must hold one target per row (a list, array or Series), got a single float: 3.0
    >>> check_targets(None)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: fit requires y to be passed, but the target y is None (give one target per row)
    """
    if y is None:  # scikit-learn's wording, which its estimator checks look for
        raise InvalidInputError("fit requires y to be passed, but the target y is None (give one target per row)")
    if not hasattr(y, "__len__") and hasattr(y, "__array__"):  # array-like through __array__ alone
        y = np.asarray(y)
    if isinstance(y, (str, bytes)) or getattr(y, "ndim", 1) == 0 or not hasattr(y, "__len__"):
        raise InvalidInputError(f"y must hold one target per row (a list, array or Series), got a single "
                                f"{type(y).__name__}: {y!r}")
    try:
        values = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        values = _not_numbers(y)
    if values.ndim == 2 and values.shape[1] == 1 and not multi_output:
        values = values[:, 0]
    if values.ndim > (2 if multi_output else 1):
        accepted = "a column or a (rows, properties) table" if multi_output else "one column of targets"
        raise InvalidInputError(f"y must be {accepted}, got shape {values.shape}")
    if n_rows is not None and len(values) != n_rows:
        raise InvalidInputError(f"X has {n_rows} rows but y has {len(values)}")
    if len(values) < max(min_rows, 1):
        raise InvalidInputError(f"y has {len(values)} rows; at least {max(min_rows, 1)} are needed")
    if values.ndim == 1:
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InvalidInputError(f"targets contain NaN or infinite values ({bad.size} of {len(values)})",
                                    rows=bad.tolist())
    else:
        bad = np.flatnonzero(np.isinf(values).any(axis=1) | np.isnan(values).all(axis=1))
        if bad.size:
            raise InvalidInputError("target rows with infinite values or no label at all", rows=bad.tolist())
    if not allow_constant and values.ndim == 1 and np.ptp(values) == 0:
        raise InvalidInputError(f"the target is constant (every value is {values[0]:g}): there is nothing to learn "
                                "or score")
    return values


def _not_numbers(y: Any) -> np.ndarray:
    """Raise naming the entries of ``y`` that are not numbers (or the ragged shape)."""
    items = list(y.tolist() if hasattr(y, "tolist") else y)
    bad = []
    for row, item in enumerate(items):
        try:
            np.asarray(item, dtype=np.float64)
        except (TypeError, ValueError):
            bad.append(row)
    if not bad:  # each entry is numeric on its own: rows of different lengths
        raise InvalidInputError("y has rows of different lengths: give one value per row, or a rectangular table")
    raise InvalidInputError(f"targets must be numbers; {len(bad)} are not (e.g. {items[bad[0]]!r} in row {bad[0]})",
                            rows=bad)


def n_inputs(X: Any) -> int | None:
    """The number of rows of ``X``.

    Parameters
    ----------
    X : object
        A matrix, table or sequence of raw inputs.

    Returns
    -------
    int or None
        Its rows, None when it has no length (a single string is not a sequence of inputs).

    Examples
    --------
    >>> n_inputs(["CCO", "CC"]), n_inputs(np.zeros((4, 2))), n_inputs("CCO")
    (2, 4, None)
    """
    if isinstance(X, (str, bytes)):
        return None
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        return None


# -- parameters ----------------------------------------------------------------------------------
def check_number(value: Any, name: str, *, integer: bool = True, low: float | None = None,
                 high: float | None = None, low_open: bool = False, high_open: bool = False,
                 optional: bool = False) -> Any:
    """A numeric parameter: an integer (or a finite real number) inside the given bounds.

    Booleans are refused (``True`` is not a number of epochs).

    Parameters
    ----------
    value : object
        The parameter.
    name : str
        Its name, for the error.
    integer : bool
        Require an integer (else a finite real number).
    low, high : float, optional
        Bounds.
    low_open, high_open : bool
        Exclude the bound itself.
    optional : bool
        Let None through.

    Returns
    -------
    int, float or None
        The value as ``int`` or ``float`` (None when optional and None).

    Raises
    ------
    InvalidInputError
        Naming the parameter and what is accepted.

    Examples
    --------
    >>> check_number(0.01, "lr", integer=False, low=0, low_open=True)
    0.01
    >>> check_number(0, "lr", integer=False, low=0, low_open=True)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: lr must be a finite number > 0, got 0
    """
    if value is None and optional:
        return None
    kind = Integral if integer else Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and not integer:
        ok = math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise InvalidInputError(f"{name} must be {_accepted(integer, low, high, low_open, high_open, optional)}, "
                                f"got {value!r}")
    return int(value) if integer else float(value)


def _accepted(integer: bool, low: float | None, high: float | None, low_open: bool, high_open: bool,
              optional: bool) -> str:
    what = "an integer" if integer else "a finite number"
    if low is not None and high is not None:
        what += f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        what += f" {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        what += f" {'<' if high_open else '<='} {high:g}"
    return what + (" or None" if optional else "")


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """One of ``choices``.

    Parameters
    ----------
    value : object
        The parameter.
    name : str
        Its name, for the error.
    choices : sequence
        What is accepted.

    Returns
    -------
    object
        ``value``.

    Raises
    ------
    InvalidInputError
        Listing the choices.

    Examples
    --------
    >>> check_choice("knn", "stage1", ("ridge+knn", "ridge", "knn"))
    'knn'
    """
    if isinstance(value, Iterable) and not isinstance(value, str) or value not in choices:
        raise InvalidInputError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_known(value: Any, name: str, choices: Sequence[str] | Mapping[str, str]) -> str:
    """A closed choice given as a name: case, spaces, hyphens and underscores do not matter.

    Parameters
    ----------
    value : object
        The parameter.
    name : str
        Its name, for the error.
    choices : sequence of str, or mapping of str to str
        The names accepted (lower case, words apart by single spaces), or each accepted name mapped to
        the value it stands for (aliases).

    Returns
    -------
    str
        The choice (for a mapping, the value its name stands for).

    Raises
    ------
    InvalidInputError
        For anything else, listing the names accepted.

    Examples
    --------
    >>> check_known("Random_Forest", "model_type", {"rf": "rf", "random forest": "rf"})
    'rf'
    >>> check_known("crystal", "material", MATERIALS)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: unknown material 'crystal'; use one of 'inorganic', 'molecule', 'polymer'
    """
    names = choices if isinstance(choices, Mapping) else {c: c for c in choices}
    key = " ".join(value.lower().replace("_", " ").replace("-", " ").split()) if isinstance(value, str) else None
    if key not in names:
        raise InvalidInputError(f"unknown {name} {value!r}; use one of {', '.join(map(repr, sorted(names)))}")
    return names[key]


def check_material(material: Any) -> str | None:
    """A material filter: one of :data:`MATERIALS` (any case), or None for every material.

    Parameters
    ----------
    material : object
        The filter.

    Returns
    -------
    str or None
        The material in lower case; None for None.

    Raises
    ------
    InvalidInputError
        For anything else, listing the materials.

    Examples
    --------
    >>> check_material("Inorganic"), check_material(None)
    ('inorganic', None)
    """
    return None if material is None else check_known(material, "material", MATERIALS)


def check_cv(cv: Any, n_samples: int | None = None, *, optional: bool = False) -> int | None:
    """Cross-validation folds: an integer >= 2 and no more than ``n_samples``.

    Parameters
    ----------
    cv : object
        The folds.
    n_samples : int, optional
        The samples to split.
    optional : bool
        None and 0 mean "no cross-validation".

    Returns
    -------
    int or None
        The folds; None for no cross-validation.

    Raises
    ------
    InvalidInputError
        For anything else, or more folds than samples.

    Examples
    --------
    >>> check_cv(5, n_samples=3)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: 3 samples are fewer than the 5 cross-validation folds
    """
    if optional and (cv is None or (isinstance(cv, Integral) and not isinstance(cv, bool) and cv == 0)):
        return None
    try:
        cv = check_number(cv, "cv", low=2)
    except InvalidInputError:
        raise InvalidInputError(f"cv must be an integer >= 2{' (0 or None: no cross-validation)' if optional else ''}"
                                f", got {cv!r}") from None
    if n_samples is not None and n_samples < cv:
        raise InvalidInputError(f"{n_samples} samples are fewer than the {cv} cross-validation folds")
    return cv


def check_groups(groups: Any, n_samples: int, cv: int) -> np.ndarray | None:
    """Group labels of grouped cross-validation: one per sample, at least ``cv`` distinct ones.

    Parameters
    ----------
    groups : array-like or None
        The labels, None for ungrouped cross-validation.
    n_samples : int
        The samples.
    cv : int
        The folds.

    Returns
    -------
    numpy.ndarray or None
        The labels as an array.

    Raises
    ------
    InvalidInputError
        For a wrong length or too few groups.

    Examples
    --------
    >>> check_groups([0, 0, 1, 1], 4, cv=3)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: 2 distinct groups are fewer than the 3 folds of grouped cross-validation
    """
    if groups is None:
        return None
    labels = np.asarray(groups)
    if labels.ndim != 1 or len(labels) != n_samples:
        raise InvalidInputError(f"groups must hold one label per sample ({n_samples}), got shape {labels.shape}")
    distinct = len(np.unique(labels))
    if distinct < cv:
        raise InvalidInputError(f"{distinct} distinct groups are fewer than the {cv} folds of grouped "
                                "cross-validation")
    return labels


def check_layers(layers: Any, n_hidden: int | None = None, model: str = "") -> Any:
    """Hidden layers picked as neural descriptors: an index, a non-empty list of indices, or "all".

    Parameters
    ----------
    layers : int, sequence of int or "all"
        The pick.
    n_hidden : int, optional
        The source network's depth: every index must then lie in ``[-n_hidden, n_hidden)``.
    model : str
        The network, named in the error.

    Returns
    -------
    int, sequence of int or "all"
        ``layers``.

    Raises
    ------
    InvalidInputError
        For anything else, or an index out of range.

    Examples
    --------
    >>> check_layers([-2, -1], 3)
    [-2, -1]
    >>> check_layers(99, 3, model="qm9-gap-nn-0000")
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: layers=99: hidden layer 99 out of range: network qm9-gap-nn-0000 has 3 hidden layers (use -3..2, a list of them, or 'all')
    """
    accepted = "an index of a hidden layer (-1: the last), a list of indices, or 'all'"
    if isinstance(layers, str):
        if layers != "all":
            raise InvalidInputError(f"layers must be {accepted}; got {layers!r}")
        return layers
    picks = [layers] if isinstance(layers, Integral) else layers
    try:
        picks = list(picks)
    except TypeError:
        raise InvalidInputError(f"layers must be {accepted}; got {layers!r}") from None
    if not picks or any(isinstance(i, bool) or not isinstance(i, Integral) for i in picks):
        raise InvalidInputError(f"layers must be {accepted}; got {layers!r}")
    if n_hidden is not None:
        for i in picks:
            if not -n_hidden <= i < n_hidden:
                owner = f"network {model}" if model else "the network"
                raise InvalidInputError(f"layers={layers!r}: hidden layer {i} out of range: {owner} has {n_hidden} "
                                        f"hidden layers (use {-n_hidden}..{n_hidden - 1}, a list of them, or 'all')")
    return layers


def check_freeze(freeze: Any, n_hidden: int | None = None) -> int | str:
    """Leading hidden layers kept frozen when fine-tuning: "all" or an integer in ``[0, n_hidden]``.

    Parameters
    ----------
    freeze : int or "all"
        The layers to freeze.
    n_hidden : int, optional
        The network's depth.

    Returns
    -------
    int or str
        The number of frozen layers when ``n_hidden`` is known, else ``freeze`` itself.

    Raises
    ------
    InvalidInputError
        For anything else.

    Examples
    --------
    >>> check_freeze("all", 3), check_freeze(1, 3)
    (3, 1)
    """
    if isinstance(freeze, str) and freeze == "all":
        return n_hidden if n_hidden is not None else freeze
    top = n_hidden if n_hidden is not None else math.inf
    if isinstance(freeze, bool) or not isinstance(freeze, Integral) or not 0 <= freeze <= top:
        span = f"in [0, {n_hidden}]" if n_hidden is not None else "(an integer >= 0)"
        raise InvalidInputError(f"freeze must be 'all' or a number of leading hidden layers {span}, got {freeze!r}")
    return int(freeze)


# -- raw inputs ----------------------------------------------------------------------------------
def check_input_lengths(items: Sequence[Any], what: str = "SMILES", limit_name: str = "smiles_length") -> None:
    """Refuse raw strings longer than the limit ``limit_name`` of :data:`mdl.config.LIMITS`.

    Parsers cost more than linear time in the length of one input (RDKit's Morgan generator on a
    100,000-character SMILES takes ~6.6 GB), so over-long strings are refused before any parsing,
    naming their rows and the setting that raises the limit.

    Parameters
    ----------
    items : sequence
        Raw inputs (only strings and bytes are measured).
    what : str
        What they are, for the error.
    limit_name : str
        The key of :data:`mdl.config.LIMITS`.

    Raises
    ------
    InvalidInputError
        Naming the rows and the setting.

    Examples
    --------
    >>> check_input_lengths(["CCO", "C" * 5000])
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: SMILES longer than 2000 characters (raise MDL_MAX_SMILES_LENGTH to accept them) [rows: 1]
    """
    most = limit(limit_name)
    long = [row for row, item in enumerate(items) if isinstance(item, (str, bytes)) and len(item) > most]
    if long:
        raise InvalidInputError(f"{what} longer than {most} characters (raise {LIMITS[limit_name][0]} to accept them)",
                                rows=long)


# -- many problems, grouped by cause ---------------------------------------------------------------
def split_rows(exc: BaseException) -> tuple[str, list[int]]:
    """The cause and the rows of an error.

    Parameters
    ----------
    exc : BaseException
        The error.

    Returns
    -------
    tuple of (str, list of int)
        The message without its row list (an :class:`InvalidInputError`'s), and the rows.

    Examples
    --------
    >>> split_rows(InvalidInputError("invalid SMILES", rows=[2, 5]))
    ('invalid SMILES', [2, 5])
    """
    text, rows = str(exc), list(getattr(exc, "rows", []) or [])
    cut = text.rfind(" [rows: ")
    return (text[:cut] if rows and cut >= 0 else text), rows


def group_by_cause(problems: Mapping[str, tuple[str, Sequence[int]]]) -> list[dict[str, Any]]:
    """Problems of many items (sources, models...) grouped by cause, most frequent first.

    Parameters
    ----------
    problems : mapping of str to (str, sequence of int)
        Item → (cause, rows).

    Returns
    -------
    list of dict
        ``{"cause", "items", "rows"}`` per cause: its items in their order, the sorted union of their
        rows (plain and JSON-able).

    Examples
    --------
    >>> group_by_cause({"a": ("bad", [1]), "b": ("worse", []), "c": ("bad", [2, 1])})
    [{'cause': 'bad', 'items': ['a', 'c'], 'rows': [1, 2]}, {'cause': 'worse', 'items': ['b'], 'rows': []}]
    """
    groups: dict[str, dict[str, Any]] = {}
    for item, (cause, rows) in problems.items():
        group = groups.setdefault(cause, {"cause": cause, "items": [], "rows": set()})
        group["items"].append(item)
        group["rows"].update(int(r) for r in rows)
    ordered = sorted(groups.values(), key=lambda g: -len(g["items"]))  # stable: first seen first among ties
    return [{**g, "rows": sorted(g["rows"])} for g in ordered]


def summary_by_cause(groups: Sequence[Mapping[str, Any]], noun: str = "source", examples: int = 3) -> str:
    """One line per cause: how many items, the cause, a few of them and of their rows.

    Parameters
    ----------
    groups : sequence of mappings
        From :func:`group_by_cause`.
    noun : str
        What the items are.
    examples : int
        Items shown per cause.

    Returns
    -------
    str
        The lines.

    Examples
    --------
    >>> print(summary_by_cause(group_by_cause({f"m{i}": ("bad descriptor", range(250)) for i in range(66)})))
    66 sources: bad descriptor (rows 0, 1, 2, 3, 4, … 250 in all; e.g. m0, m1, m2, …)
    """
    lines = []
    for group in groups:
        items, rows = group["items"], group["rows"]
        shown = ", ".join(map(str, items[:examples])) + (", …" if len(items) > examples else "")
        where = ""
        if rows:
            where = "rows " + ", ".join(map(str, rows[:5])) + (f", … {len(rows)} in all" if len(rows) > 5 else "")
            where += "; "
        plural = noun if len(items) == 1 else f"{noun}s"
        lines.append(f"{len(items)} {plural}: {group['cause']} ({where}e.g. {shown})" if len(items) > 1
                     else f"{len(items)} {plural}: {group['cause']} ({where}{shown})")
    return "\n".join(lines)
