"""Folds and scores: the one cross-validation helper of transfer learning and screening.

Every cross-validated number of the package comes from :func:`cv_run` on folds from :func:`make_splits`:
a :class:`~mdl.transfer_learning.TransferModel`'s ``cv_scores_`` and every row of a screening leaderboard
(the same seed gives the same folds, so their numbers agree).

>>> from sklearn.linear_model import LinearRegression
>>> F = np.arange(20.0)[:, None]
>>> round(cross_validated(LinearRegression(), F, 3 * F[:, 0] + 1, cv=4)["mae"], 9)
0.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GroupKFold, KFold

from mdl.validation import check_cv, check_groups, check_number, check_targets

__all__ = ["Splits", "cross_validated", "cv_run", "fold_scores", "make_splits", "value_range_groups"]

#: (train rows, test rows) of each fold
Splits = Sequence[tuple[np.ndarray, np.ndarray]]


def value_range_groups(y: Any, n_groups: int = 5) -> np.ndarray:
    """Group labels by target quantile, for CV that measures extrapolation rather than interpolation.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The target.
    n_groups : int, default 5
        Number of value ranges.

    Returns
    -------
    ndarray of int
        The range of each row; with ``groups=`` each fold then holds out one range of values.

    Examples
    --------
    >>> value_range_groups([1.0, 5.0, 2.0, 9.0, 3.0], n_groups=2).tolist()
    [0, 1, 0, 1, 1]
    """
    y = check_targets(y, multi_output=False)
    n_groups = check_number(n_groups, "n_groups", low=1)
    edges = np.quantile(y, np.linspace(0, 1, n_groups + 1)[1:-1])
    return np.searchsorted(edges, y, side="right")


def make_splits(n: int, cv: int, groups: np.ndarray | None, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) folds every candidate is scored on: shuffled k-fold, or grouped k-fold.

    Parameters
    ----------
    n : int
        Number of rows.
    cv : int
        Number of folds.
    groups : ndarray or None
        Group labels (grouped k-fold: a group is never split) or None (shuffled k-fold).
    random_state : int
        Seed of the shuffle.

    Returns
    -------
    list of (ndarray, ndarray)

    Examples
    --------
    >>> [len(test) for _, test in make_splits(10, 3, None, 0)]
    [4, 3, 3]
    """
    if groups is not None:
        return list(GroupKFold(n_splits=cv).split(np.zeros(n), groups=groups))
    return list(KFold(cv, shuffle=True, random_state=random_state).split(np.zeros(n)))


def cv_run(head: BaseEstimator, F: np.ndarray, y: np.ndarray, splits: Splits) -> tuple[dict[str, Any], np.ndarray]:
    """Cross-validate ``head`` (cloned for each fold) on features ``F``.

    Parameters
    ----------
    head : BaseEstimator
        An unfitted scikit-learn regressor.
    F : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,)
        Target.
    splits : sequence of (train, test) index arrays
        The folds (:func:`make_splits`).

    Returns
    -------
    scores : dict
        ``folds`` and, per metric (``mae``, ``rmse``, ``r2``), its mean, ``<metric>_std`` and
        ``<metric>_folds`` (see :func:`fold_scores`).
    oof : ndarray of shape (n_samples,)
        Out-of-fold predictions.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> F = np.arange(12.0)[:, None]
    >>> scores, oof = cv_run(LinearRegression(), F, 2 * F[:, 0], make_splits(12, 3, None, 0))
    >>> scores["folds"], round(scores["mae"], 9), bool(np.allclose(oof, 2 * F[:, 0]))
    (3, 0.0, True)
    """
    oof = np.empty(len(y))
    for train, test in splits:
        oof[test] = clone(head).fit(F[train], y[train]).predict(F[test])
    return {"folds": len(splits), **fold_scores(y, oof, splits)}, oof


def fold_scores(y: np.ndarray, oof: np.ndarray, splits: Splits) -> dict[str, Any]:
    """MAE, RMSE and R² of out-of-fold predictions: per fold, their mean and standard deviation.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Target.
    oof : ndarray of shape (n_samples,)
        Out-of-fold predictions.
    splits : sequence of (train, test) index arrays
        The folds that produced ``oof``.

    Returns
    -------
    dict
        ``mae``, ``mae_std``, ``mae_folds`` and the same for ``rmse`` and ``r2`` (R² is NaN on a
        fold whose target is constant).

    Examples
    --------
    >>> splits = [(np.array([2, 3]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3]))]
    >>> fold_scores(np.array([1.0, 2, 3, 4]), np.array([1.0, 3, 3, 4]), splits)["mae_folds"]
    [0.5, 0.0]
    """
    folds: dict[str, list[float]] = {"mae": [], "rmse": [], "r2": []}
    for _, test in splits:
        err = y[test] - oof[test]
        folds["mae"].append(float(np.abs(err).mean()))
        folds["rmse"].append(float(np.sqrt((err**2).mean())))
        ss = float(((y[test] - y[test].mean()) ** 2).sum())
        folds["r2"].append(1.0 - float((err**2).sum()) / ss if ss > 0 else float("nan"))
    scores: dict[str, Any] = {}
    for name, values in folds.items():
        scores[name], scores[f"{name}_std"], scores[f"{name}_folds"] = \
            float(np.mean(values)), float(np.std(values)), values
    return scores


def cross_validated(head: BaseEstimator, F: np.ndarray, y: Any, cv: int, groups: Any = None,
                    random_state: int = 0) -> dict[str, Any]:
    """k-fold (or grouped k-fold) CV metrics of ``head`` on features ``F``, after checking the inputs.

    Parameters
    ----------
    head : BaseEstimator
        An unfitted scikit-learn regressor.
    F : ndarray of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,)
        Target (checked: finite numbers, not constant).
    cv : int
        Number of folds (at least 2, at most one per row).
    groups : array-like, optional
        Group labels for grouped k-fold.
    random_state : int, default 0
        Seed of the shuffled folds (the same seed gives a screening's folds).

    Returns
    -------
    dict
        As :func:`cv_run`'s scores, plus ``grouped``.

    Raises
    ------
    InvalidInputError
        For bad targets, ``cv`` or ``groups``, naming the parameter or rows.
    """
    y = check_targets(y, len(F), multi_output=False, allow_constant=False)
    cv = check_cv(cv, len(y))
    groups = check_groups(groups, len(y), cv)
    scores, _ = cv_run(head, F, y, make_splits(len(y), cv, groups, random_state))
    return {**scores, "grouped": groups is not None}
