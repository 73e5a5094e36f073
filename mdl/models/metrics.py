"""Regression metrics recorded for every model: MAE, RMSE, R², Pearson and Spearman r."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Score predictions on held-out data.

    Parameters
    ----------
    y_true, y_pred : numpy.ndarray
        The values and the predictions (flattened).

    Returns
    -------
    dict of str to float
        ``mae``, ``rmse``, ``r2``, ``pearson`` and ``spearman`` (the correlations NaN when either side
        is constant).

    Examples
    --------
    >>> regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))["mae"]
    0.333...
    """
    from scipy import stats  # on use: importing scipy.stats costs about half a second

    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    constant = np.ptp(y_true) == 0 or np.ptp(y_pred) == 0
    return {
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
        "r2": float(r2_score(y_true, y_pred)),
        "pearson": float("nan") if constant else float(stats.pearsonr(y_true, y_pred)[0]),
        "spearman": float("nan") if constant else float(stats.spearmanr(y_true, y_pred)[0]),
    }
