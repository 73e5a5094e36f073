"""What screening computes per input row, kept by content across calls: the same rows give the same numbers.

A benchmark screens the outer-training part of each fold (every row of a data set but one fold's), and a
user screens again with other settings: the descriptors of those rows, and the features of the graph
sources (a forward pass of a crystal graph network, or of a foundation model, per structure: the costly
part of a crystal screening), are the same each time. :class:`RowCache` keeps them per row, keyed by what
computes them (a spec fingerprint, a model's card fingerprint) and by the row's content (the SMILES or
formula itself, the sha256 of a structure's JSON), so that any subset of rows seen before costs a lookup.

It is bounded (``MDL_SCREEN_CACHE_MB``, default 1024; 0 turns it off) and forgets the rows used least
recently. Only raw inputs are cached: a ready descriptor matrix is its own value.

>>> cache = RowCache(max_mb=1)
>>> calls = []
>>> def compute(rows): calls.append(list(rows)); return np.array([[len(r)] for r in rows], dtype=float)
>>> cache.rows("len", ["CCO", "CC"], compute).tolist(), cache.rows("len", ["CC", "CCCC"], compute).tolist()
([[3.0], [2.0]], [[2.0], [4.0]])
>>> calls                                   # "CC" was computed once
[['CCO', 'CC'], ['CCCC']]
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mdl.config import environment

__all__ = ["RowCache", "row_keys", "screen_cache"]


def row_keys(X: Any) -> list[str] | None:
    """One content key per raw input (None when ``X`` is not raw inputs that can be keyed, e.g. a matrix).

    Parameters
    ----------
    X : sequence of str or pymatgen Structure, or a one-column table of them

    Returns
    -------
    list of str or None
        The string itself for a SMILES, formula or CIF text; the sha256 of its JSON for a structure.

    Examples
    --------
    >>> row_keys(["CCO", "CC"])
    ['s:CCO', 's:CC']
    >>> row_keys(np.zeros((2, 3))) is None
    True
    """
    if isinstance(X, pd.DataFrame):
        X = X.iloc[:, 0] if X.shape[1] == 1 else None
    if isinstance(X, (pd.Series, pd.Index)):
        X = X.tolist()
    if X is None or isinstance(X, (str, bytes)) or (isinstance(X, np.ndarray) and X.dtype != object):
        return None
    if not isinstance(X, (Sequence, np.ndarray)):
        return None
    keys = []
    for x in X:
        if isinstance(x, str):
            keys.append(f"s:{x}")
        elif hasattr(x, "lattice") and hasattr(x, "as_dict"):  # a pymatgen Structure
            text = json.dumps(x.as_dict(), sort_keys=True, default=str)
            keys.append(f"j:{hashlib.sha256(text.encode()).hexdigest()}")
        else:
            return None
    return keys


class RowCache:
    """Per-row values by (what computes them, row content), bounded in memory, least recently used first out.

    Parameters
    ----------
    max_mb : float
        The bound, in MiB of stored arrays (records: their count x 1 KiB, a rough floor); 0 stores nothing.
    """

    def __init__(self, max_mb: float):
        self.max_bytes = int(max_mb * 2**20)
        self._store: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._bytes = 0

    def rows(self, namespace: str, X: Any, compute: Callable[[Any], Any], stack: bool = True,
             keys: list[str] | None = None) -> Any:
        """The values of every row of ``X``: cached rows looked up, the others computed in one call.

        Parameters
        ----------
        namespace : str
            What computes them (a descriptor spec's fingerprint, a model's id and card fingerprint...).
        X : raw inputs
            Rows keyed by :func:`row_keys`; when they cannot be keyed, ``compute(X)`` is returned as is.
        compute : callable
            Computes the values of a list of rows: an ndarray with one row per input, or a list.
        stack : bool, default True
            The values are the rows of a matrix (stacked again), or records (a list).
        keys : list of str, optional
            The rows' :func:`row_keys`, when the caller has them already.

        Returns
        -------
        ndarray or list
            As ``compute(X)`` would give.
        """
        keys = (keys or row_keys(X)) if self.max_bytes else None
        if keys is None:
            return compute(X)
        items = list(X.iloc[:, 0] if isinstance(X, pd.DataFrame) else X)
        return self.keyed(namespace, keys, lambda idx: compute(X if idx is None else [items[i] for i in idx]), stack)

    def keyed(self, namespace: str, keys: Sequence[str], compute: Callable[[list[int] | None], Any],
              stack: bool = True) -> Any:
        """The values of rows with known content keys (:func:`row_keys`), computing only those not cached.

        Parameters
        ----------
        namespace : str
            What computes them.
        keys : sequence of str
            One per row.
        compute : callable
            ``compute(None)`` computes every row; ``compute(rows)`` the listed row positions only.
        stack : bool, default True
            As for :meth:`rows`.

        Returns
        -------
        ndarray or list
            One value per key, in order.
        """
        if not self.max_bytes:
            return compute(None)
        missing = [i for i, k in enumerate(keys) if (namespace, k) not in self._store]
        if len(missing) == len(keys):  # nothing seen: computed as asked (its errors name the user's rows)
            fresh = compute(None)
        elif missing:
            try:
                fresh = compute(missing)
            except Exception as partial:
                compute(None)  # the same error, naming the user's rows rather than the positions of the missing
                raise partial
        else:
            fresh = []
        values = dict(zip(missing, fresh))
        for i in missing:
            self._put((namespace, keys[i]), values[i])
        out = [values[i] if i in values else self._get((namespace, k)) for i, k in enumerate(keys)]
        return np.stack(out) if stack else out

    def resize(self, max_mb: float) -> None:
        """Change the bound, forgetting the least recently used rows beyond it.

        Parameters
        ----------
        max_mb : float
        """
        self.max_bytes = int(max_mb * 2**20)
        self._trim()

    def _get(self, key: tuple[str, str]) -> Any:
        self._store.move_to_end(key)
        return self._store[key]

    def _put(self, key: tuple[str, str], value: Any) -> None:
        size = value.nbytes if isinstance(value, np.ndarray) else 1024
        if key in self._store or size > self.max_bytes:
            return
        self._store[key] = value
        self._bytes += size
        self._trim()

    def _trim(self) -> None:
        while self._bytes > self.max_bytes and self._store:
            _, old = self._store.popitem(last=False)
            self._bytes -= old.nbytes if isinstance(old, np.ndarray) else 1024

    def clear(self) -> None:
        """Forget every row."""
        self._store.clear()
        self._bytes = 0


_CACHE: list[RowCache] = []


def screen_cache() -> RowCache:
    """The process's row cache of screening, bounded by ``MDL_SCREEN_CACHE_MB`` as it is now.

    Returns
    -------
    RowCache

    Examples
    --------
    >>> screen_cache() is screen_cache()
    True
    """
    size = environment().screen_cache_mb
    if not _CACHE:
        _CACHE.append(RowCache(size))
    _CACHE[0].resize(size)
    return _CACHE[0]
