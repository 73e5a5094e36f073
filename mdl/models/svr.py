"""Support-vector regression with its own small grid search, stored as its kernel expansion.

:class:`KernelSVR` fits scikit-learn's :class:`~sklearn.svm.SVR` (RBF kernel, epsilon-insensitive loss,
robust to a few wild labels) on a standardised target, choosing ``C`` and ``gamma`` by cross-validated
mean absolute error, and then keeps only what a prediction needs: the support vectors, their dual
coefficients, the intercept and ``gamma``. Those few arrays are stored and read back as plain numbers
(:mod:`mdl.models.state`), so nothing of libsvm's private state is ever rebuilt from a file.

It expects standardised columns (put a :class:`~sklearn.preprocessing.StandardScaler` before it):
``gamma`` is chosen among multiples of ``1 / n_features``.

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
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.svm import SVR
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["KernelSVR"]


class KernelSVR(RegressorMixin, BaseEstimator):
    """RBF support-vector regression on a standardised target, ``C`` and ``gamma`` chosen by CV.

    Parameters
    ----------
    C : sequence of float, default (0.3, 1, 3, 10)
        Regularisation values tried (on the standardised target).
    gamma : sequence of float, default (0.3, 1, 3)
        Kernel widths tried, as multiples of ``1 / n_features``.
    epsilon : float, default 0.1
        Width of the insensitive tube, in standard deviations of the target.
    cv : int, default 5
        Folds of the grid search (shuffled; fewer when there are fewer rows).
    random_state : int, default 0
        Seed of the grid search's folds.

    Attributes
    ----------
    support_vectors_ : ndarray of shape (n_support, n_features)
    dual_coef_ : ndarray of shape (n_support,)
    intercept_, gamma_, C_, y_mean_, y_scale_ : float
        The expansion: ``predict(X) = y_mean_ + y_scale_ * (K(X, support_vectors_) @ dual_coef_ + intercept_)``
        with ``K`` the RBF kernel of width ``gamma_``.

    Examples
    --------
    >>> X = np.linspace(0, 1, 30)[:, None]; model = KernelSVR(C=[1.0], gamma=[1.0]).fit(X, np.sin(3 * X[:, 0]))
    >>> model.support_vectors_.shape[1]
    1
    """

    def __init__(self, C: Sequence[float] = (0.3, 1.0, 3.0, 10.0), gamma: Sequence[float] = (0.3, 1.0, 3.0),
                 epsilon: float = 0.1, cv: int = 5, random_state: int = 0):
        self.C = C
        self.gamma = gamma
        self.epsilon = epsilon
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> KernelSVR:
        """Choose ``C`` and ``gamma`` by CV mean absolute error, refit on every row, keep the expansion.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        KernelSVR
            ``self``, fitted.
        """
        X, y = validate_data(self, X, y, dtype=float, y_numeric=True)
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        z = (y - self.y_mean_) / self.y_scale_
        grid = {"C": [float(c) for c in self.C], "gamma": [float(g) / X.shape[1] for g in self.gamma]}
        folds = min(int(self.cv), len(y))
        search = GridSearchCV(SVR(kernel="rbf", epsilon=float(self.epsilon)), grid, scoring="neg_mean_absolute_error",
                              cv=KFold(folds, shuffle=True, random_state=self.random_state)).fit(X, z)
        svr = search.best_estimator_
        self.support_vectors_ = np.asarray(svr.support_vectors_, dtype=float)
        self.dual_coef_ = np.asarray(svr.dual_coef_, dtype=float).ravel()
        self.intercept_ = float(np.ravel(svr.intercept_)[0])
        self.gamma_ = float(svr.gamma)
        self.C_ = float(svr.C)
        return self

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
        kernel = rbf_kernel(X, self.support_vectors_, gamma=self.gamma_)
        return self.y_mean_ + self.y_scale_ * (kernel @ self.dual_coef_ + self.intercept_)
