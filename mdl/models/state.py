"""Fitted estimators as plain data: a JSON config, named numeric arrays and raw text blobs.

Only the classes registered here in :mod:`mdl.store.registry` (each with its check, writer and
builder; the one list of storable classes) can be stored, and loading rebuilds them from numbers
alone, so nothing read back ever executes code (no pickle, no joblib, no ``torch.load``). Before
anything is built, the class's check (:func:`mdl.store.registry.check_stored`) checks the config
against the arrays.

>>> from sklearn.linear_model import Ridge
>>> import numpy as np
>>> X = np.eye(3); est = Ridge().fit(X, [1.0, 2.0, 3.0])
>>> config, arrays, blobs = to_state(est)
>>> np.allclose(from_state(config, arrays, blobs).predict(X), est.predict(X))
True
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestRegressor, VotingRegressor
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge, RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils import Bunch

from mdl.errors import ModelFormatError
from mdl.models.booster import check_xgb_regressor
from mdl.models.forest_schema import check_forest
from mdl.models.foundation import CHGNetFeaturizer
from mdl.models.foundation_schema import check_chgnet
from mdl.models.gnn import GraphNetRegressor
from mdl.models.nn import NeuralNetRegressor
from mdl.models.stored_schema import (
    LINEAR,
    check_graph_network_estimator,
    check_kernel_svr,
    check_mlp,
    check_network_estimator,
    check_pipeline,
    check_scaler,
    check_voting,
    linear_check,
)
from mdl.models.sklearn_private import NODE_DTYPE, build_tree, tree_state
from mdl.models.svr import KernelSVR
from mdl.store.fields import Where
from mdl.store.registry import State, Storable, build_stored, check_stored, register, storable_for


def _json_params(est: BaseEstimator) -> dict[str, Any]:
    """The estimator's own parameters, keeping only JSON-able values."""
    params = {}
    for key, value in est.get_params(deep=False).items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, tuple):
            value = list(value)
        try:
            json.dumps(value)
        except TypeError:
            continue
        params[key] = value
    return params


# -- linear models and scalers: a few named arrays ------------------------------------------------
_ATTRS: dict[type, tuple[str, ...]] = {
    LinearRegression: ("coef_", "intercept_"),
    Ridge: ("coef_", "intercept_"),
    RidgeCV: ("coef_", "intercept_", "alpha_"),
    ElasticNet: ("coef_", "intercept_"),
    Lasso: ("coef_", "intercept_"),
    StandardScaler: ("mean_", "scale_", "var_", "n_samples_seen_"),
    KernelSVR: ("center_", "scale_", "support_vectors_", "dual_coef_", "intercept_", "gamma_", "weight_", "counts_",
                "C_", "y_mean_", "y_scale_"),
}


def _attrs_to(est: BaseEstimator) -> State:
    arrays = {name: np.asarray(getattr(est, name), dtype=float) for name in _ATTRS[type(est)]
              if getattr(est, name) is not None}
    return {"n_features_in": int(est.n_features_in_)}, arrays, {}


def _attrs_from(cls: type) -> Callable[[dict, dict, dict, str], BaseEstimator]:
    def build(config: dict, arrays: dict, blobs: dict, model: str) -> BaseEstimator:
        est = cls(**config["params"])
        for name in _ATTRS[cls]:
            value = arrays.get(name)
            if value is None:
                setattr(est, name, None)
            else:
                setattr(est, name, value.item() if value.ndim == 0 else value)
        est.n_features_in_ = config["n_features_in"]
        return est
    return build


# -- MLP heads ------------------------------------------------------------------------------------
def _mlp_to(est: MLPRegressor) -> State:
    arrays = {f"coef.{i}": c for i, c in enumerate(est.coefs_)}
    arrays.update({f"intercept.{i}": b for i, b in enumerate(est.intercepts_)})
    config = {"n_features_in": int(est.n_features_in_), "n_layers": int(est.n_layers_),
              "n_outputs": int(est.n_outputs_), "out_activation": est.out_activation_}
    return config, arrays, {}


def _mlp_from(config: dict, arrays: dict, blobs: dict, model: str) -> MLPRegressor:
    est = MLPRegressor(**config["params"])
    n = config["n_layers"] - 1
    est.coefs_ = [arrays[f"coef.{i}"] for i in range(n)]
    est.intercepts_ = [arrays[f"intercept.{i}"] for i in range(n)]
    est.n_layers_, est.n_outputs_ = config["n_layers"], config["n_outputs"]
    est.out_activation_, est.n_features_in_ = config["out_activation"], config["n_features_in"]
    return est


# -- random forests: every tree's node table, concatenated ----------------------------------------
def _forest_to(est: RandomForestRegressor) -> State:
    states = [tree_state(tree.tree_) for tree in est.estimators_]
    nodes = np.concatenate([s["nodes"] for s in states])
    arrays = {f"nodes.{field}": np.ascontiguousarray(nodes[field]) for field in NODE_DTYPE.names}
    arrays["values"] = np.concatenate([s["values"] for s in states])
    arrays["node_count"] = np.array([s["node_count"] for s in states], dtype=np.int64)
    arrays["max_depth"] = np.array([s["max_depth"] for s in states], dtype=np.int64)
    config = {"n_features_in": int(est.n_features_in_), "n_outputs": int(est.n_outputs_),
              "max_features": [int(t.max_features_) for t in est.estimators_]}
    return config, arrays, {}


def _forest_from(config: dict, arrays: dict, blobs: dict, model: str) -> RandomForestRegressor:
    est = RandomForestRegressor(**config["params"])
    n_features, n_outputs = config["n_features_in"], config["n_outputs"]
    nodes = np.empty(int(arrays["node_count"].sum()), dtype=NODE_DTYPE)
    for field in NODE_DTYPE.names:
        nodes[field] = arrays[f"nodes.{field}"]
    values = np.ascontiguousarray(arrays["values"], dtype=np.float64)
    trees, start = [], 0
    for count, depth, max_features in zip(arrays["node_count"], arrays["max_depth"], config["max_features"]):
        tree = build_tree(n_features, n_outputs, {"max_depth": int(depth), "node_count": int(count),
                                                  "nodes": nodes[start : start + count],
                                                  "values": values[start : start + count]})
        member = DecisionTreeRegressor(max_features=est.max_features)
        member.tree_, member.n_outputs_, member.n_features_in_ = tree, n_outputs, n_features
        member.max_features_ = max_features
        trees.append(member)
        start += count
    est.estimators_, est.n_outputs_, est.n_features_in_ = trees, n_outputs, n_features
    est.estimator_ = DecisionTreeRegressor()
    return est


# -- gradient boosting: xgboost's own JSON model format -------------------------------------------
def _xgb_to(est: Any) -> State:
    raw = bytes(est.get_booster().save_raw(raw_format="json"))
    return {"n_features_in": int(est.n_features_in_)}, {}, {"booster.json": raw}


def _xgb_from(config: dict, arrays: dict, blobs: dict, model: str) -> Any:
    import xgboost

    est = xgboost.XGBRegressor(**config["params"])
    try:  # the booster passed check_booster; xgboost still has the last word on its own format
        est.load_model(bytearray(blobs["booster.json"]))
        est.predict(np.zeros((1, config["n_features_in"])))
    except (xgboost.core.XGBoostError, ValueError, TypeError) as exc:
        raise ModelFormatError(f"refused by xgboost ({str(exc).splitlines()[0][:200]})", model=model,
                               file="booster.json") from None
    return est


# -- our network and pipelines --------------------------------------------------------------------
def _net_to(est: NeuralNetRegressor) -> State:
    config, arrays = est.to_state()
    return {"network": config}, arrays, {}


def _net_from(config: dict, arrays: dict, blobs: dict, model: str) -> NeuralNetRegressor:
    return NeuralNetRegressor.from_state(config["network"], arrays)


def _chgnet_to(est: CHGNetFeaturizer) -> State:
    model_args, arrays = est.to_state()
    return {"model_args": model_args}, arrays, {}


def _chgnet_from(config: dict, arrays: dict, blobs: dict, model: str) -> CHGNetFeaturizer:
    return CHGNetFeaturizer.from_weights(config["model_args"], arrays, **config["params"])


def _graph_net_to(est: GraphNetRegressor) -> State:
    config, arrays = est.to_state()
    return {"network": config}, arrays, {}


def _graph_net_from(config: dict, arrays: dict, blobs: dict, model: str) -> GraphNetRegressor:
    return GraphNetRegressor.from_state(config["network"], arrays)


def _parts_to(named: list[tuple[str, BaseEstimator]], key: str) -> tuple[list[dict], dict, dict]:
    """Named sub-estimators (a pipeline's steps, a mean's members) as configs, with their arrays and blobs
    under ``<key>.<i>.``."""
    configs, arrays, blobs = [], {}, {}
    for i, (name, part) in enumerate(named):
        config, sub_arrays, sub_blobs = to_state(part)
        configs.append({"name": name, **config})
        arrays.update({f"{key}.{i}.{k}": v for k, v in sub_arrays.items()})
        blobs.update({f"{key}.{i}.{k}": v for k, v in sub_blobs.items()})
    return configs, arrays, blobs


def _parts_from(configs: list[dict], key: str, arrays: dict, blobs: dict,
                model: str) -> list[tuple[str, BaseEstimator]]:
    """The named sub-estimators stored by :func:`_parts_to`."""
    parts = []
    for i, config in enumerate(configs):
        prefix = f"{key}.{i}."
        sub_arrays = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        sub_blobs = {k[len(prefix):]: v for k, v in blobs.items() if k.startswith(prefix)}
        parts.append((config["name"], build_stored(config, sub_arrays, sub_blobs, model)))
    return parts


def _pipeline_to(est: Pipeline) -> State:
    steps, arrays, blobs = _parts_to(est.steps, "steps")
    return {"steps": steps}, arrays, blobs


def _pipeline_from(config: dict, arrays: dict, blobs: dict, model: str) -> Pipeline:
    return Pipeline(_parts_from(config["steps"], "steps", arrays, blobs, model))


def _voting_to(est: VotingRegressor) -> State:
    members, arrays, blobs = _parts_to([(name, fitted) for (name, _), fitted in zip(est.estimators, est.estimators_)],
                                       "members")
    return {"members": members, "n_features_in": int(est.n_features_in_)}, arrays, blobs


def _voting_from(config: dict, arrays: dict, blobs: dict, model: str) -> VotingRegressor:
    fitted = _parts_from(config["members"], "members", arrays, blobs, model)
    est = VotingRegressor(fitted)
    est.estimators_ = [member for _, member in fitted]
    est.named_estimators_ = Bunch(**dict(fitted))  # n_features_in_ is read from the members
    return est


def _register() -> None:
    """Register every storable class, once: its check, its writer and its builder."""
    checks = {StandardScaler: check_scaler, KernelSVR: check_kernel_svr, **{cls: linear_check(cls) for cls in LINEAR}}
    for cls in _ATTRS:
        register(Storable(cls.__name__, checks[cls], _attrs_to, _attrs_from(cls), cls))
    register(Storable("MLPRegressor", check_mlp, _mlp_to, _mlp_from, MLPRegressor))
    register(Storable("RandomForestRegressor", check_forest, _forest_to, _forest_from, RandomForestRegressor))
    register(Storable("NeuralNetRegressor", check_network_estimator, _net_to, _net_from, NeuralNetRegressor))
    register(Storable("GraphNetRegressor", check_graph_network_estimator, _graph_net_to, _graph_net_from,
                      GraphNetRegressor))
    register(Storable("CHGNetFeaturizer", check_chgnet, _chgnet_to, _chgnet_from, CHGNetFeaturizer))
    register(Storable("Pipeline", check_pipeline, _pipeline_to, _pipeline_from, Pipeline, params=False, blobs=True))
    register(Storable("VotingRegressor", check_voting, _voting_to, _voting_from, VotingRegressor, params=False,
                      blobs=True))
    # xgboost is optional: matched by name
    register(Storable("XGBRegressor", check_xgb_regressor, _xgb_to, _xgb_from, blobs=True))


_register()


def to_state(est: BaseEstimator) -> State:
    """Describe a fitted estimator as (config, arrays, blobs).

    Parameters
    ----------
    est : sklearn.base.BaseEstimator
        A fitted estimator of a class with a codec.

    Returns
    -------
    tuple of (dict, dict of str to numpy.ndarray, dict of str to bytes)
        What :func:`~mdl.store.files.write_files` writes.

    Raises
    ------
    TypeError
        For other classes.
    """
    entry = storable_for(est)
    config, arrays, blobs = entry.save(est)
    params = _json_params(est) if entry.params else {}
    return {"class": entry.name, "params": params, **config}, arrays, blobs


def from_state(config: dict, arrays: dict[str, np.ndarray], blobs: dict[str, bytes], *,
               model: str = "", prefix: str = "") -> BaseEstimator:
    """Rebuild an estimator stored by :func:`to_state`, once its class's check
    (:func:`~mdl.store.registry.check_stored`) has accepted it.

    Parameters
    ----------
    config : dict
        The estimator's config.
    arrays : dict of str to numpy.ndarray
        Its weights.
    blobs : dict of str to bytes
        Its other files.
    model : str
        Named in errors.
    prefix : str
        Field prefix of a nested estimator, named in errors.

    Returns
    -------
    sklearn.base.BaseEstimator
        The fitted estimator.

    Raises
    ------
    ModelFormatError
        Naming ``model``, the file and the field.
    """
    check_stored(config, arrays, blobs, Where(model, prefix=prefix))
    return build_stored(config, arrays, blobs, model)
