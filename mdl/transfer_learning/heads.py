"""Heads fitted on neural descriptors: random forest (default), ridge, small MLP.

>>> make_head("ridge").steps[-1][0]
'ridgecv'
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mdl.validation import check_head

HEADS = ("rf", "ridge", "mlp")


def make_head(head: str | BaseEstimator, random_state: int = 0) -> BaseEstimator:
    """An unfitted head: a name from :data:`HEADS` or any scikit-learn regressor (cloned).

    Raises InvalidInputError for anything else (see :func:`mdl.validation.check_head`).
    """
    check_head(head)
    if not isinstance(head, str):
        return clone(head)
    if head == "rf":
        return RandomForestRegressor(n_estimators=200, max_features=0.5, n_jobs=-1, random_state=random_state)
    if head == "ridge":
        return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    return make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=2000,
                                                        early_stopping=False, random_state=random_state))
