"""Support-vector regression on one or two blocks of columns, stored as its kernel expansion.

:class:`KernelSVR` standardises its columns, fits scikit-learn's :class:`~sklearn.svm.SVR` (epsilon-insensitive
loss, robust to a few wild labels) on a standardised target with a precomputed kernel, chooses its
hyperparameters by cross-validated mean absolute error, and then keeps only what a prediction needs: the
support vectors, their dual coefficients, the intercept, the kernel's settings and the column scaling.
Those few arrays are stored and read back as plain numbers (:mod:`mdl.models.state`), so nothing of
libsvm's private state is ever rebuilt from a file.

With ``split`` the columns form two blocks (a prediction profile, then a raw descriptor) and the kernel is
``w * rbf(first block) + (1 - w) * k(second block)``, where ``k`` is the min-max (Tanimoto) kernel when the
second block holds fingerprint bits or counts (every value a non-negative whole number) and an RBF kernel
otherwise; the weight ``w`` is chosen by
CV with the rest, so the fit decides how much of each block to use (``w = 1``: the first block alone;
``w = 0``: the descriptor alone).

With ~100 rows the CV errors of neighbouring settings differ by less than their noise, so the model keeps
the ``average`` settings with the lowest CV error and predicts the mean of their fits (one kernel expansion
each, over the union of their support vectors): on the held-out panel of ``tools/bench_transfer.py`` this
beat the single best setting on the molecular targets, where picking one of 52 settings chased noise.

>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(60, 4)); y = X[:, 0] ** 2 + 0.1 * rng.normal(size=60)
>>> model = KernelSVR().fit(X, y)
>>> float(np.abs(model.predict(X) - y).mean()) < float(np.abs(y - y.mean()).mean())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics.pairwise import euclidean_distances, manhattan_distances
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.svm import SVR
from sklearn.utils.validation import check_is_fitted, validate_data

from mdl.errors import InvalidInputError

__all__ = ["CLIP", "KernelSVR", "minmax"]

#: Standardised columns are clipped at this many standard deviations, so that one wild input (a source
#: predicting far outside its range) cannot dominate a kernel.
CLIP = 10.0


def minmax(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The min-max (Tanimoto) similarity of every row of ``A`` with every row of ``B``: for fingerprint counts,
    ``sum(min(a, b)) / sum(max(a, b))``, which for 0/1 bits is ``|a & b| / |a | b|``.

    Parameters
    ----------
    A : ndarray of shape (n, m), non-negative
    B : ndarray of shape (k, m), non-negative

    Returns
    -------
    ndarray of shape (n, k)
        Similarities in [0, 1]; 0 for two empty rows.

    Examples
    --------
    >>> minmax(np.array([[1.0, 1, 0]]), np.array([[1.0, 0, 1], [0.0, 0, 0]])).round(3).tolist()
    [[0.333, 0.0]]
    >>> minmax(np.array([[2.0, 1]]), np.array([[1.0, 1]])).round(3).tolist()
    [[0.667]]
    """
    apart = manhattan_distances(A, B)  # sum |a - b|; min = (a + b - |a - b|) / 2, max = (a + b + |a - b|) / 2
    total = A.sum(axis=1)[:, None] + B.sum(axis=1)[None, :]
    return np.divide(total - apart, total + apart, out=np.zeros_like(apart), where=total + apart > 0)


class KernelSVR(RegressorMixin, BaseEstimator):
    """Support-vector regression on standardised columns and target, with its settings chosen by CV.

    Parameters
    ----------
    C : sequence of float, default (0.3, 1, 3, 10)
        Regularisation values tried (on the standardised target).
    gamma : sequence of float, default (0.1, 0.3, 1)
        Widths of the RBF kernel of the first block tried, as multiples of ``1 / n_columns`` of that block.
    weight : sequence of float, default (0, 0.25, 0.5, 0.75, 1)
        Weights of the first block tried (with ``split`` only; without it the one block has weight 1).
    split : int or None, default None
        Number of leading columns in the first block; the rest form the second. None: one block.
    epsilon : float, default 0.1
        Width of the insensitive tube, in standard deviations of the target.
    cv : int, default 5
        Folds of the grid search (shuffled; fewer when there are fewer rows).
    average : int, default 5
        How many of the settings with the lowest CV error are fitted; the prediction is their mean
        (1: the best setting alone).
    random_state : int, default 0
        Seed of the grid search's folds.

    Attributes
    ----------
    center_, scale_ : ndarray of shape (n_features,)
        The column scaling (0 and 1 for the counts of a min-max block).
    support_vectors_ : ndarray of shape (n_support, n_features)
        Scaled rows: the union of the kept settings' support vectors.
    dual_coef_ : ndarray of shape (n_settings, n_support)
        One row per kept setting (0 where a row is not one of that setting's support vectors).
    intercept_, gamma_, weight_, C_ : ndarray of shape (n_settings,)
        The kept settings, best CV error first.
    y_mean_, y_scale_ : float
        ``predict(X) = y_mean_ + y_scale_ * mean over settings s of
        (K_s(scaled X, support_vectors_) @ dual_coef_[s] + intercept_[s])``.
    counts_ : float
        1 when the second block holds counts and its kernel is min-max, 0 when it is an RBF of width
        ``1 / its columns`` on standardised columns.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> bits = (rng.random((50, 16)) < 0.3).astype(float); profile = rng.normal(size=(50, 3))
    >>> y = profile[:, 0] + bits[:, :4].sum(axis=1)
    >>> model = KernelSVR(split=3).fit(np.hstack([profile, bits]), y)
    >>> model.counts_, bool(((0 <= model.weight_) & (model.weight_ <= 1)).all()), len(model.C_)
    (1.0, True, 5)
    """

    def __init__(self, C: Sequence[float] = (0.3, 1.0, 3.0, 10.0), gamma: Sequence[float] = (0.1, 0.3, 1.0),
                 weight: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0), split: int | None = None,
                 epsilon: float = 0.1, cv: int = 5, average: int = 5, random_state: int = 0):
        self.C = C
        self.gamma = gamma
        self.weight = weight
        self.split = split
        self.epsilon = epsilon
        self.cv = cv
        self.average = average
        self.random_state = random_state

    # -- the kernel ------------------------------------------------------------------------------
    def _first(self, n_features: int) -> int:
        """Columns of the first block."""
        if self.split is None:
            return n_features
        if isinstance(self.split, bool) or not isinstance(self.split, (int, np.integer)) \
                or not 0 < self.split < n_features:
            raise InvalidInputError(f"split must be a whole number of columns between 1 and {n_features - 1} "
                                    f"(the first block), got {self.split!r}")
        return int(self.split)

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        return np.clip((X - self.center_) / self.scale_, -CLIP, CLIP)

    def _second(self, A: np.ndarray, B: np.ndarray, counts: bool) -> np.ndarray:
        """The second block's kernel."""
        if counts:
            return minmax(A, B)
        return np.exp(-euclidean_distances(A, B, squared=True) / A.shape[1])

    def _kernel(self, near: np.ndarray, far: np.ndarray | None, gamma: float, weight: float) -> np.ndarray:
        """``weight * rbf + (1 - weight) * far`` from the first block's squared distances."""
        first = np.exp(-gamma * near)
        return first if far is None else weight * first + (1 - weight) * far

    # -- fit and predict -------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> KernelSVR:
        """Score every setting of ``C``, ``gamma`` (and the block weight) by CV mean absolute error and refit
        the ``average`` best on every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        KernelSVR
            ``self``, fitted.

        Raises
        ------
        InvalidInputError
            For a ``split`` that leaves a block empty, or an ``average`` below 1.
        ValueError
            For fewer than two rows ("Found array with 1 sample(s)..."), or inputs scikit-learn's
            ``validate_data`` refuses.
        """
        # two rows at least: the inner CV that chooses the settings must split them
        X, y = validate_data(self, X, y, dtype=float, y_numeric=True, ensure_min_samples=2)
        first, n_kept = self._first(X.shape[1]), self._average()
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        z = (y - self.y_mean_) / self.y_scale_
        rest = X[:, first:]
        self.counts_ = float(rest.size > 0 and bool((rest >= 0).all() and (rest == np.round(rest)).all()))
        center, scale = X.mean(axis=0), X.std(axis=0)
        scale[~(scale > 1e-12 * np.maximum(np.abs(center), 1.0))] = 1.0  # constant columns
        if self.counts_:
            center[first:], scale[first:] = 0.0, 1.0
        self.center_, self.scale_ = center, scale
        Z = self._scaled(X)
        near = euclidean_distances(Z[:, :first], squared=True)
        far = self._second(Z[:, first:], Z[:, first:], bool(self.counts_)) if first < X.shape[1] else None
        folds = list(KFold(min(int(self.cv), len(y)), shuffle=True, random_state=self.random_state).split(Z))
        weights = [float(w) for w in self.weight] if far is not None else [1.0]
        scored: list[tuple[float, float, float, float]] = []  # (CV mean absolute error, weight, gamma, C)
        for weight in weights:
            for gamma in [float(g) / first for g in self.gamma][:1 if weight == 0 else None]:
                search = GridSearchCV(SVR(kernel="precomputed", epsilon=float(self.epsilon)),
                                      {"C": [float(c) for c in self.C]}, scoring="neg_mean_absolute_error",
                                      cv=folds, refit=False).fit(self._kernel(near, far, gamma, weight), z)
                results = search.cv_results_
                scored += [(-score, weight, gamma, params["C"])
                           for score, params in zip(results["mean_test_score"], results["params"])]
        kept = sorted(scored, key=lambda s: s[0])[:n_kept]
        self.weight_, self.gamma_, self.C_ = (np.array([s[k] for s in kept]) for k in (1, 2, 3))
        fits = [SVR(kernel="precomputed", C=C, epsilon=float(self.epsilon)).fit(self._kernel(near, far, g, w), z)
                for w, g, C in zip(self.weight_, self.gamma_, self.C_)]
        support = np.unique(np.concatenate([svr.support_ for svr in fits]))
        self.dual_coef_ = np.zeros((len(fits), len(support)))
        for row, svr in zip(self.dual_coef_, fits):
            row[np.searchsorted(support, svr.support_)] = np.ravel(svr.dual_coef_)
        self.support_vectors_ = Z[support]
        self.intercept_ = np.array([float(np.ravel(svr.intercept_)[0]) for svr in fits])
        return self

    def _average(self) -> int:
        if isinstance(self.average, bool) or not isinstance(self.average, (int, np.integer)) or self.average < 1:
            raise InvalidInputError(f"average must be a whole number of settings, at least 1, got {self.average!r}")
        return int(self.average)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions from the stored kernel expansion.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "dual_coef_")
        X = validate_data(self, X, dtype=float, reset=False)
        first = self._first(X.shape[1])
        Z, S = self._scaled(X), self.support_vectors_
        near = euclidean_distances(Z[:, :first], S[:, :first], squared=True)
        far = self._second(Z[:, first:], S[:, first:], bool(self.counts_)) if first < X.shape[1] else None
        fits = [self._kernel(near, far, g, w) @ coef + b
                for w, g, coef, b in zip(self.weight_, self.gamma_, self.dual_coef_, self.intercept_)]
        return self.y_mean_ + self.y_scale_ * np.mean(fits, axis=0)
