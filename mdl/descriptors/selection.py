"""Per-model column selection (XenonPy.MDL): drop near-always-zero and constant columns, then keep a
random subset; the kept column indices belong to the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state

from mdl.errors import DescriptorMismatchError, InvalidInputError


def _matrix(X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise InvalidInputError(f"expected a non-empty 2-D descriptor matrix, got shape {X.shape}")
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if bad.size:
        raise InvalidInputError("descriptor matrix has NaN or infinite values", rows=bad.tolist())
    return X


class ColumnSelector(BaseEstimator, TransformerMixin):
    """Keep the informative columns of a descriptor matrix.

    Columns non-zero in at least ``1 - max_zero_fraction`` of the training rows and not constant are
    kept; then, if more than ``max_columns`` remain, a random subset of ``max_columns``. ``columns_``
    holds the kept indices, sorted.

    Parameters
    ----------
    max_zero_fraction : float
        The largest fraction of zeros a kept column has.
    max_columns : int, optional
        At most this many columns are kept.
    random_state : int or numpy.random.Generator, optional
        Draws that subset.

    Examples
    --------
    >>> X = np.array([[0, 1, 5, 2], [0, 1, 0, 3], [1, 1, 4, 4]])
    >>> ColumnSelector(max_zero_fraction=0.5).fit(X).columns_
    array([2, 3])
    """

    def __init__(self, max_zero_fraction: float = 0.9, max_columns: int | None = None, random_state: Any = None):
        self.max_zero_fraction = max_zero_fraction
        self.max_columns = max_columns
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> ColumnSelector:
        """Choose the columns from the training matrix.

        Parameters
        ----------
        X : array-like
            The training matrix (feature names kept if it is a DataFrame).
        y : ignored
            Accepted for scikit-learn.

        Returns
        -------
        ColumnSelector
            ``self``, fitted.
        """
        names = np.asarray(X.columns, dtype=object) if hasattr(X, "columns") else None
        X = _matrix(X)
        if not 0 <= self.max_zero_fraction <= 1:
            raise InvalidInputError(f"max_zero_fraction must be in [0, 1], got {self.max_zero_fraction}")
        if self.max_columns is not None and self.max_columns < 1:
            raise InvalidInputError(f"max_columns must be >= 1 or None, got {self.max_columns}")
        informative = ((X == 0).mean(axis=0) <= self.max_zero_fraction) & (X.max(axis=0) > X.min(axis=0))
        kept = np.flatnonzero(informative)
        if self.max_columns is not None and kept.size > self.max_columns:
            kept = check_random_state(self.random_state).choice(kept, size=self.max_columns, replace=False)
        self._set_columns(np.sort(kept), X.shape[1], names)
        return self

    @classmethod
    def from_columns(cls, indices: Sequence[int], n_features_in: int | None = None,
                     feature_names_in: Sequence[str] | None = None) -> ColumnSelector:
        """A fitted selector from stored column indices (what a model keeps).

        Parameters
        ----------
        indices : sequence of int
            The kept columns.
        n_features_in : int, optional
            The width of the matrices it selects from.
        feature_names_in : sequence of str, optional
            Their column names.

        Returns
        -------
        ColumnSelector
            The fitted selector.

        Examples
        --------
        >>> ColumnSelector.from_columns([3, 1]).transform(np.arange(8).reshape(2, 4))
        array([[1., 3.],
               [5., 7.]])
        """
        indices = np.asarray(indices, dtype=np.int64).ravel()
        if indices.size and (indices.min() < 0 or len(set(indices.tolist())) != indices.size):
            raise InvalidInputError("column indices must be distinct and non-negative")
        selector = cls()
        names = None if feature_names_in is None else np.asarray(feature_names_in, dtype=object)
        selector._set_columns(np.sort(indices), n_features_in, names)
        return selector

    def _set_columns(self, columns: np.ndarray, n_features_in: int | None, names: np.ndarray | None) -> None:
        if n_features_in is not None:
            self.n_features_in_ = n_features_in
            if columns.size and columns[-1] >= n_features_in:
                raise DescriptorMismatchError(f"column {columns[-1]} is beyond the {n_features_in} input columns")
        if names is not None:
            self.feature_names_in_ = names
        self.columns_ = columns
        self.feature_names_out_ = names[columns] if names is not None else np.array(
            [f"x{i}" for i in columns], dtype=object
        )

    def transform(self, X: Any) -> np.ndarray:
        """The kept columns of a matrix.

        Parameters
        ----------
        X : array-like
            A matrix as wide as at fit.

        Returns
        -------
        numpy.ndarray
            Its kept columns.

        Raises
        ------
        DescriptorMismatchError
            When ``X`` is not as wide as at fit.
        """
        if not hasattr(self, "columns_"):
            raise InvalidInputError("ColumnSelector is not fitted: call fit() or from_columns() first")
        X = _matrix(X)
        expected = getattr(self, "n_features_in_", None)
        if expected is not None and X.shape[1] != expected:
            raise DescriptorMismatchError(
                f"descriptor matrix has {X.shape[1]} columns, the selector expects {expected}"
            )
        if self.columns_.size and X.shape[1] <= self.columns_[-1]:
            raise DescriptorMismatchError(
                f"descriptor matrix has {X.shape[1]} columns, the selector needs column {self.columns_[-1]}"
            )
        return X[:, self.columns_]

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """Names of the kept columns.

        Parameters
        ----------
        input_features : sequence of str, optional
            Names to select from (else the names seen at fit).

        Returns
        -------
        numpy.ndarray
            The names.
        """
        if input_features is not None:
            return np.asarray(input_features, dtype=object)[self.columns_]
        return self.feature_names_out_
