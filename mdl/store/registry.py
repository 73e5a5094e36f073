"""The one registry of storable estimator classes: for each, how its stored form is checked, written and
rebuilt.

The models register their classes (:mod:`mdl.models.state`); this module holds only names and the
callables given, so the format layer imports no model code. A stored config names its class, and
nothing that is not registered is ever built.

>>> check_stored({"class": "os.system"}, {}, {}, Where("m-0"))   # doctest: +ELLIPSIS
Traceback (most recent call last):
mdl.errors.ModelFormatError: model m-0: config.json: class: str 'os.system' is not a storable class (...)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mdl.store.fields import Where, short

__all__ = ["Storable", "build_stored", "check_stored", "register", "storable_for", "storable_names"]

#: (config, arrays, blobs): an estimator as stored.
State = tuple[dict, dict[str, np.ndarray], dict[str, bytes]]


@dataclass(frozen=True)
class Storable:
    """A storable class: its stored name and the callables the models registered for it.

    Attributes
    ----------
    name : str
        The ``class`` a stored config names.
    check : callable
        ``check(config, arrays, blobs, where) -> n_features_in`` (0 for graph inputs): raises
        :class:`~mdl.errors.ModelFormatError` before anything is built.
    save : callable
        ``save(estimator) -> (config, arrays, blobs)``, the class-specific part of the config.
    load : callable
        ``load(config, arrays, blobs, model) -> estimator``, called only on a checked config.
    cls : type or None
        The class stored; None for one matched by name only (an optional dependency).
    params : bool
        Whether the estimator's constructor parameters are stored (not for a container of estimators).
    blobs : bool
        Whether it may have blobs (raw files beside the arrays).
    """

    name: str
    check: Callable[[dict, dict, dict, Where], int]
    save: Callable[[Any], State]
    load: Callable[[dict, dict, dict, str], Any]
    cls: type | None = None
    params: bool = True
    blobs: bool = False


_STORABLE: dict[str, Storable] = {}


def register(entry: Storable) -> Storable:
    """Register a storable class (once per name).

    Parameters
    ----------
    entry : Storable
        The class's callables.

    Returns
    -------
    Storable
        ``entry``.

    Raises
    ------
    ValueError
        When another entry is registered under the same name.
    """
    known = _STORABLE.setdefault(entry.name, entry)
    if known is not entry:
        raise ValueError(f"a storable class {entry.name!r} is already registered")
    return entry


def storable_names() -> list[str]:
    """The names of the registered classes.

    Returns
    -------
    list of str
        Sorted.
    """
    return sorted(_STORABLE)


def storable_for(estimator: Any) -> Storable:
    """The entry an estimator is stored by: its class's name, and the class itself when registered with one.

    Parameters
    ----------
    estimator : object
        A fitted estimator.

    Returns
    -------
    Storable
        Its entry.

    Raises
    ------
    TypeError
        For a class that is not storable.

    Examples
    --------
    >>> storable_for(object())   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    TypeError: cannot store a object: storable classes are ...
    """
    entry = _STORABLE.get(type(estimator).__name__)
    if entry is None or (entry.cls is not None and type(estimator) is not entry.cls):
        raise TypeError(f"cannot store a {type(estimator).__qualname__}: storable classes are {storable_names()}")
    return entry


def check_stored(config: Any, arrays: dict[str, np.ndarray], blobs: dict[str, bytes], where: Where) -> int:
    """Check a stored estimator with its class's registered check.

    Parameters
    ----------
    config : object
        The stored config (a JSON object naming its ``class``).
    arrays : dict of str to numpy.ndarray
        The stored arrays.
    blobs : dict of str to bytes
        The stored blobs.
    where : Where
        Where the estimator is read, for errors.

    Returns
    -------
    int
        The number of input columns it expects (0 for graph inputs).

    Raises
    ------
    ModelFormatError
        Naming model, file and field of the first problem.
    """
    if not isinstance(config, dict):
        raise where.error("", f"expected a JSON object, got {short(config)}")
    name = config.get("class")
    entry = _STORABLE.get(name) if isinstance(name, str) else None
    if entry is None:
        raise where.error("class", f"{short(name)} is not a storable class ({', '.join(storable_names())})")
    if not entry.blobs and blobs:
        raise where.error("blobs", f"a {name} has no blobs, got {sorted(blobs)}")
    return entry.check({k: v for k, v in config.items() if k != "blobs"}, arrays, blobs, where)


def build_stored(config: dict, arrays: dict[str, np.ndarray], blobs: dict[str, bytes], model: str = "") -> Any:
    """Rebuild an estimator whose stored form :func:`check_stored` accepted.

    Parameters
    ----------
    config : dict
        The config.
    arrays : dict of str to numpy.ndarray
        Its arrays.
    blobs : dict of str to bytes
        Its blobs.
    model : str
        Named in errors.

    Returns
    -------
    object
        The fitted estimator.
    """
    return _STORABLE[config["class"]].load(config, arrays, blobs, model)
