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

import importlib
import importlib.util
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GroupKFold, KFold

from mdl.validation import check_cv, check_groups, check_number, check_targets

__all__ = ["Splits", "cross_validated", "cv_run", "cv_runs", "fold_scores", "make_splits", "value_range_groups"]

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


def cv_runs(runs: Sequence[tuple[BaseEstimator, np.ndarray]], y: np.ndarray, splits: Splits,
            n_jobs: int | None = None, bar: Any = None) -> list[tuple[dict[str, Any], np.ndarray]]:
    """:func:`cv_run` of several (head, features) pairs, every fold of every pair one fit shared out over worker
    processes: the same numbers as :func:`cv_run` one pair at a time (up to the order in which a threaded
    forest adds its trees' predictions, 1e-15 relative).

    Each fit is seeded by its head's own ``random_state``, and a fit's thread count does not change its model,
    so each worker fits single-threaded (every ``n_jobs`` parameter set to 1) and the cores are used by
    running fits side by side instead: small fits (a forest on ~100 rows) spend most of their time in
    Python, which threads cannot share.

    Parameters
    ----------
    runs : sequence of (BaseEstimator, ndarray)
        Each unfitted head and its features (n_samples, n_features).
    y : ndarray of shape (n_samples,)
        Target.
    splits : sequence of (train, test) index arrays
        The folds, the same for every pair.
    n_jobs : int, optional
        Worker processes (default :func:`mdl.config.workers`, ``MDL_WORKERS``); 1 fits in this process.
    bar : tqdm, optional
        Advanced by one as each fit is done.

    Returns
    -------
    list of (dict, ndarray)
        :func:`cv_run`'s scores and out-of-fold predictions of each pair, in order.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> F = np.arange(12.0)[:, None]
    >>> [round(s["mae"], 9) for s, _ in cv_runs([(LinearRegression(), F), (LinearRegression(), F ** 2)],
    ...                                         2 * F[:, 0], make_splits(12, 3, None, 0), n_jobs=1)][0]
    0.0
    """
    from joblib import Parallel, delayed

    from mdl.config import workers

    n_jobs = workers() if n_jobs is None else n_jobs
    tasks = [(i, test, (head, F[train], y[train], F[test])) for i, (head, F) in enumerate(runs) for train, test in splits]
    if n_jobs == 1 or len(tasks) < 2:
        predicted: Iterable[np.ndarray] = (fit_predict(*args) for _, _, args in tasks)
    else:
        predicted = Parallel(n_jobs=min(n_jobs, len(tasks)), backend="loky", return_as="generator")(
            delayed(fit_predict)(*args) for _, _, args in tasks)
    oofs = [np.empty(len(y)) for _ in runs]
    for (i, test, _), p in zip(tasks, predicted):
        oofs[i][test] = p
        if bar is not None:
            bar.update()
    return [({"folds": len(splits), **fold_scores(y, oof, splits)}, oof) for oof in oofs]


def start_workers(n_jobs: int | None = None) -> None:
    """Start the worker processes of :func:`cv_runs` in the background (returns at once), so that their
    start-up (a second or two: the interpreter, scikit-learn, xgboost) overlaps the work before the fits.

    Parameters
    ----------
    n_jobs : int, optional
        As for :func:`cv_runs`; with 1 nothing is started.

    Examples
    --------
    >>> start_workers(1)   # nothing to start
    """
    from joblib import Parallel, delayed

    from mdl.config import workers

    n_jobs = workers() if n_jobs is None else n_jobs
    if n_jobs > 1:
        modules = ["sklearn.ensemble", "xgboost", "mdl.models.svr", __name__] * n_jobs
        threading.Thread(target=Parallel(n_jobs=n_jobs, backend="loky"), args=([delayed(_load)(m) for m in modules],),
                         daemon=True).start()


def _load(module: str) -> None:
    """Import ``module`` if its package is installed (a worker's warm-up; xgboost is optional)."""
    if importlib.util.find_spec(module.partition(".")[0]) is not None:
        importlib.import_module(module)


def fit_predict(head: BaseEstimator, F_train: np.ndarray, y_train: np.ndarray, F_test: np.ndarray) -> np.ndarray:
    """Predictions for ``F_test`` of a single-threaded clone of ``head`` fitted on the training rows.

    Parameters
    ----------
    head : BaseEstimator
        Unfitted; every ``n_jobs`` parameter of the clone (nested ones too) is set to 1.
    F_train, y_train, F_test : ndarray

    Returns
    -------
    ndarray of shape (len(F_test),)

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> F = np.arange(10.0)[:, None]
    >>> fit_predict(RandomForestRegressor(5, n_jobs=-1, random_state=0), F, F[:, 0], F[:2]).shape
    (2,)
    """
    model = clone(head)
    model.set_params(**{k: 1 for k in model.get_params() if k == "n_jobs" or k.endswith("__n_jobs")})
    return np.asarray(model.fit(F_train, y_train).predict(F_test), dtype=float)


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
