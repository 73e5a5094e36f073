"""Heads fitted on neural descriptors: random forest (default), ridge, small MLP, support-vector regression.

>>> make_head("ridge").steps[-1][0]
'ridgecv'
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import RandomForestRegressor, VotingRegressor
from sklearn.linear_model import RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mdl.errors import InvalidInputError
from mdl.models.svr import KernelSVR

HEADS = ("rf", "ridge", "mlp", "svr")


def is_head_name(head: Any) -> bool:
    """Whether ``head`` names a built-in head: one of :data:`HEADS`, or several joined by "+" (their mean).

    Parameters
    ----------
    head : object

    Returns
    -------
    bool

    Examples
    --------
    >>> is_head_name("svr+ridge"), is_head_name("svr+svr"), is_head_name("forest")
    (True, False, False)
    """
    if not isinstance(head, str):
        return False
    parts = head.split("+")
    return len(set(parts)) == len(parts) and all(part in HEADS for part in parts)


def check_head(head: Any) -> str | BaseEstimator:
    """Check a head: one of :data:`HEADS`, several joined by "+" (the mean of their predictions), or a
    scikit-learn regressor (an estimator with fit and predict).

    Parameters
    ----------
    head : str or BaseEstimator
        The head to check.

    Returns
    -------
    str or BaseEstimator
        ``head`` itself.

    Raises
    ------
    InvalidInputError
        For anything else, naming the valid heads.

    Examples
    --------
    >>> check_head("nonsense")
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: head must be one of 'rf', 'ridge', 'mlp', 'svr' (or several joined by '+') or a scikit-learn regressor (an estimator with fit and predict); got 'nonsense'
    """
    if is_head_name(head):
        return head
    if not isinstance(head, (str, type)) and callable(getattr(head, "fit", None)) \
            and callable(getattr(head, "predict", None)) and callable(getattr(head, "get_params", None)):
        return head
    raise InvalidInputError(f"head must be one of {', '.join(map(repr, HEADS))} (or several joined by '+') or a "
                            f"scikit-learn regressor (an estimator with fit and predict); got {head!r}")


def make_head(head: str | BaseEstimator, random_state: int = 0) -> BaseEstimator:
    """An unfitted head: a name from :data:`HEADS` or any scikit-learn regressor (cloned).

    Parameters
    ----------
    head : str or BaseEstimator
        "rf" (100 trees: on ~100 rows a forest's CV error moves by about 1% across seeds at 100 trees and
        at 200 alike, far inside the CV's own noise; ``tools/bench_screen_zoo.py``), "ridge" (standardised, RidgeCV), "mlp" (one hidden layer of 64),
        "svr" (:class:`~mdl.models.svr.KernelSVR`, which standardises its columns), several of these joined
        by "+" (the mean of their predictions, a :class:`~sklearn.ensemble.VotingRegressor`) or a regressor.
    random_state : int, default 0
        Seed of the forest, the MLP or the SVR's grid-search folds.

    Returns
    -------
    BaseEstimator

    Raises
    ------
    InvalidInputError
        For anything else (see :func:`check_head`).

    Examples
    --------
    >>> type(make_head("rf")).__name__
    'RandomForestRegressor'
    """
    check_head(head)
    if not isinstance(head, str):
        return clone(head)
    if "+" in head:
        return VotingRegressor([(part, make_head(part, random_state)) for part in head.split("+")])
    if head == "rf":
        return RandomForestRegressor(n_estimators=100, max_features=0.5, n_jobs=-1, random_state=random_state)
    if head == "ridge":
        return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    if head == "svr":
        return KernelSVR(random_state=random_state)
    return make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=2000,
                                                        early_stopping=False, random_state=random_state))
