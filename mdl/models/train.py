"""Training one source model: split, per-model column selection, fit, held-out test metrics.

>>> model = train_source(D, y, spec, family="rf", hyperparameters={"n_estimators": 100,
...                      "max_features": 50}, model_id="demo-rf-0000", seed=0)   # doctest: +SKIP
>>> model.info["metrics"]["r2"]                                                   # doctest: +SKIP
"""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import ElasticNet
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mdl.descriptors import DescriptorSpec
from mdl.descriptors.selection import ColumnSelector
from mdl.errors import InvalidInputError
from mdl.models.graph_batch import GraphSet
from mdl.models.metrics import regression_metrics
from mdl.models.nn import NeuralNetRegressor
from mdl.models.source import FAMILIES, SourceModel
from mdl.validation import check_targets

#: Training options that are not drawn by a sampler (epochs, leaf size...) but may be set in a recipe.
NN_DEFAULTS = {"epochs": 200, "lr": 1e-3, "batch_size": 128, "patience": 20, "weight_decay": 1e-5}
#: The same for graph networks (``lr`` is drawn by the sampler).
GNN_DEFAULTS = {"epochs": 60, "batch_size": 64, "patience": 10, "weight_decay": 0.0}


def make_estimator(family: str, hyperparameters: dict[str, Any], seed: int) -> BaseEstimator:
    """An unfitted estimator of a model family.

    Parameters
    ----------
    family : str
        "nn", "rf", "gb" or "en".
    hyperparameters : dict
        Its hyperparameters.
    seed : int
        Its random state.

    Returns
    -------
    sklearn.base.BaseEstimator
        The estimator.

    Raises
    ------
    InvalidInputError
        For an unknown family.

    Examples
    --------
    >>> type(make_estimator("rf", {"n_estimators": 5}, seed=0)).__name__
    'RandomForestRegressor'
    """
    hp = dict(hyperparameters)
    if family == "nn":
        return NeuralNetRegressor(**{**NN_DEFAULTS, **hp, "hidden": list(hp["hidden"])}, random_state=seed)
    if family == "gnn":
        from mdl.models.gnn import GraphNetRegressor

        return GraphNetRegressor(**{**GNN_DEFAULTS, **hp}, random_state=seed)
    if family == "rf":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(**{"min_samples_leaf": 2, **hp}, n_jobs=-1, random_state=seed)
    if family == "gb":
        try:
            import xgboost
        except ImportError as exc:  # optional dependency
            raise ImportError("the gradient-boosting family needs xgboost: pip install xgboost-cpu") from exc
        return xgboost.XGBRegressor(**hp, tree_method="hist", n_jobs=2, random_state=seed)
    if family == "en":
        return make_pipeline(StandardScaler(), ElasticNet(**hp, max_iter=5000, random_state=seed))
    raise InvalidInputError(f"unknown model family {family!r}; known: {list(FAMILIES)}")


def library_versions() -> dict[str, str]:
    """The versions of Python and of the libraries a model was trained with, recorded in its card.

    Returns
    -------
    dict of str to str
        Library → version, for those installed.

    Examples
    --------
    >>> "python" in library_versions()
    True
    """
    names = ("mdl", "numpy", "scikit-learn", "torch", "xgboost", "rdkit", "pymatgen")
    versions = {"python": platform.python_version()}
    for name in names:
        for dist in (name, f"{name}-cpu"):
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def train_source(
    D: np.ndarray,
    y: np.ndarray,
    spec: DescriptorSpec,
    *,
    family: str,
    hyperparameters: dict[str, Any],
    model_id: str,
    seed: int,
    test_size: float = 0.2,
    max_zero_fraction: float = 0.9,
    max_columns: int | None = None,
    info: dict[str, Any] | None = None,
) -> SourceModel:
    """Fit one source model on a full descriptor matrix and score it on a held-out split.

    Parameters
    ----------
    D : numpy.ndarray or GraphSet
        The descriptor matrix, all rows and columns (for family "gnn": the data set's packed crystal
        graphs, a :class:`~mdl.models.graph_batch.GraphSet`).
    y : numpy.ndarray
        The targets (a matrix for a multi-property network).
    spec : DescriptorSpec
        The descriptor.
    family : str
        "nn", "rf", "gb", "en" or "gnn".
    hyperparameters : dict
        Its hyperparameters.
    model_id : str
        The model's id.
    seed : int
        Draws the split, the columns and the estimator's random state.
    test_size : float
        The held-out fraction.
    max_zero_fraction : float
        Columns zero in more than this fraction of training rows are dropped.
    max_columns : int, optional
        At most this many columns are kept.
    info : dict, optional
        The card's information (material, property, unit, data set...).

    Returns
    -------
    SourceModel
        The model, its test metrics in its card.
    """
    y = check_targets(y, len(D))
    if y.ndim == 2 and family not in ("nn", "gnn"):
        raise InvalidInputError(f"multi-property training needs a network, not family {family!r}")
    if isinstance(D, GraphSet) != (family == "gnn"):
        raise InvalidInputError(f"family {family!r} needs {'crystal graphs' if family == 'gnn' else 'a descriptor matrix'}"
                                f", got {type(D).__name__}")
    if family == "gnn":  # no columns to select: a model's own split only
        train, test = train_test_split(np.arange(len(D)), test_size=test_size, random_state=seed)
        columns = np.zeros(0, dtype=np.int64)
    else:
        train, test, columns = split_and_select(D, seed, test_size=test_size, max_zero_fraction=max_zero_fraction,
                                                max_columns=max_columns)
    estimator = make_estimator(family, hyperparameters, seed)
    estimator.fit(model_rows(D, train, columns), y[train])
    return finish_source(estimator, D, y, spec, family=family, hyperparameters=hyperparameters, model_id=model_id,
                         seed=seed, train=train, test=test, columns=columns, test_size=test_size, info=info)


def model_rows(D: np.ndarray | GraphSet, rows: np.ndarray, columns: np.ndarray) -> np.ndarray | GraphSet:
    """A model's input for ``rows``: the kept ``columns`` of the matrix, or those crystal graphs.

    Parameters
    ----------
    D : numpy.ndarray or GraphSet
        The descriptor matrix, or the packed graphs.
    rows : numpy.ndarray
        Row indices.
    columns : numpy.ndarray
        Kept column indices (ignored for graphs).

    Returns
    -------
    numpy.ndarray or GraphSet
        ``D[rows][:, columns]``, or the graphs ``rows`` as a GraphSet of their own.
    """
    return D.subset(rows) if isinstance(D, GraphSet) else D[rows][:, columns]


def split_and_select(
    D: np.ndarray, seed: int, *, test_size: float = 0.2, max_zero_fraction: float = 0.9, max_columns: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A model's random split and its column selection on the training rows, both drawn from ``seed``.

    Parameters
    ----------
    D : numpy.ndarray
        The descriptor matrix.
    seed : int
        The draw.
    test_size : float
        The held-out fraction.
    max_zero_fraction : float
        Columns zero in more than this fraction of training rows are dropped.
    max_columns : int, optional
        At most this many columns are kept.

    Returns
    -------
    tuple of numpy.ndarray
        (train rows, test rows, kept columns).
    """
    rows = np.arange(len(D))
    train, test = train_test_split(rows, test_size=test_size, random_state=seed)
    selector = ColumnSelector(max_zero_fraction=max_zero_fraction, max_columns=max_columns, random_state=seed)
    selector.fit(D[train])
    return train, test, np.asarray(selector.columns_, dtype=np.int64)


def finish_source(
    estimator: BaseEstimator,
    D: np.ndarray,
    y: np.ndarray,
    spec: DescriptorSpec,
    *,
    family: str,
    hyperparameters: dict[str, Any],
    model_id: str,
    seed: int,
    train: np.ndarray,
    test: np.ndarray,
    columns: np.ndarray,
    test_size: float,
    info: dict[str, Any] | None = None,
) -> SourceModel:
    """Score a fitted estimator on its held-out rows and wrap it, with its card, as a source model.

    Parameters
    ----------
    estimator : sklearn.base.BaseEstimator
        Fitted on ``D[train][:, columns]``.
    D : numpy.ndarray or GraphSet
        The descriptor matrix (or packed crystal graphs).
    y : numpy.ndarray
        The targets.
    spec : DescriptorSpec
        The descriptor.
    family, hyperparameters, model_id, seed, test_size, info
        As given to :func:`train_source`.
    train, test, columns : numpy.ndarray
        From :func:`split_and_select`.

    Returns
    -------
    SourceModel
        The model, its test metrics in its card.
    """
    pred = estimator.predict(model_rows(D, test, columns))
    if y.ndim == 1:
        metrics = regression_metrics(y[test], pred)
    else:
        names = (info or {}).get("properties") or [f"y{i}" for i in range(y.shape[1])]
        per = {}
        for j, name in enumerate(names):
            ok = np.isfinite(y[test, j])
            per[name] = regression_metrics(y[test, j][ok], pred[ok, j]) if ok.sum() > 1 else {}
        metrics = {key: float(np.nanmean([m.get(key, np.nan) for m in per.values()])) for key in
                   ("mae", "rmse", "r2", "pearson", "spearman")}
        metrics["per_property"] = per
    card = {
        **(info or {}),
        "family": family,
        "hyperparameters": hyperparameters,
        "seed": seed,
        "split": {"method": "random", "test_size": test_size, "seed": seed},
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "n_columns": int(len(columns)),
        "metrics": metrics,
        "metrics_on": "held-out test split",
        "versions": library_versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    curve = getattr(estimator, "loss_curve_", None)
    if curve is not None:  # networks: how long they trained and their validation loss per epoch
        card["training"] = {"epochs_run": len(curve), "best_epoch": int(np.argmin(curve)) + 1 if curve else None,
                            "validation_loss": [float(v) for v in curve]}
    return SourceModel(model_id=model_id, estimator=estimator, descriptor=spec, columns=columns, info=card)
