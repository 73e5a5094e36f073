"""The schema of the stored estimators of scikit-learn and mdl's own networks: per family, the check run
before anything is built (the field primitives they use are :mod:`mdl.store.fields`; forests are checked
in :mod:`mdl.models.forest_schema`, xgboost boosters in :mod:`mdl.models.booster`, the foundation source in
:mod:`mdl.models.foundation_schema`; :mod:`mdl.models.state` registers each with its class).

:func:`check_estimator` runs before :func:`mdl.models.state.from_state` hands a single number to
torch, scikit-learn or xgboost. It checks types, bounds (:data:`mdl.config.LIMITS`: ``width``,
``layers``, ``parameters``, ``trees``, ``tree_nodes``, ``tree_depth``), that the config agrees with the
shapes of the arrays (a config cannot make the loader allocate more than the weights file holds),
that tree tables are well formed and that every constructor
parameter is a known one with a JSON value of an accepted type. A failure is a
:class:`~mdl.errors.ModelFormatError` naming the model, the file and the field.

>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from mdl.models.state import to_state
>>> config, arrays, blobs = to_state(Ridge().fit(np.eye(3), [1.0, 2.0, 3.0]))
>>> check_estimator(config, arrays, blobs, model="m-0")
3
>>> arrays["coef_"] = np.ones(4)
>>> check_estimator(config, arrays, blobs, model="m-0")
Traceback (most recent call last):
mdl.errors.ModelFormatError: model m-0: weights.safetensors: coef_: shape (4,), expected (3,)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge, RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from mdl.config import limit
from mdl.models.gnn import POOLINGS, GraphNetRegressor
from mdl.models.graph_batch import MAX_Z
from mdl.models.nn import NeuralNetRegressor
from mdl.models.sklearn_private import InvalidParameterError, validate_params
from mdl.models.svr import KernelSVR
from mdl.store.fields import Where, array, exact_arrays, expect_keys, short, whole
from mdl.store.names import WEIGHTS
from mdl.store.registry import check_stored

_STEP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_MAX_STEPS = 8
_MAX_SVR_SETTINGS = 64  # kernel expansions one KernelSVR averages
_MAX_STRING = 1_000


def _json_value(value: Any, depth: int = 0) -> bool:
    """A constructor parameter value: None, bool, number, short string, or a short list of those."""
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= _MAX_STRING
    if isinstance(value, list) and depth < 2:
        return len(value) <= limit("width") and all(_json_value(v, depth + 1) for v in value)
    return False


@cache
def _known_params(cls: type) -> frozenset[str]:
    return frozenset(cls().get_params(deep=False))


def check_params(cls: type, params: Any, where: Where) -> dict[str, Any]:
    """Constructor parameters of a class: known names, JSON values, and scikit-learn's own constraints.

    Parameters
    ----------
    cls : type
        The estimator class.
    params : object
        The stored parameters.
    where : Where
        The estimator.

    Returns
    -------
    dict
        The parameters.

    Raises
    ------
    ModelFormatError
        Naming the parameter that is unknown or invalid.
    """
    if not isinstance(params, dict):
        raise where.error("params", f"expected a JSON object, got {short(params)}")
    for key, value in params.items():
        if key not in _known_params(cls):
            raise where.error(f"params.{key}", f"not a parameter of {cls.__name__}")
        if not _json_value(value):
            raise where.error(f"params.{key}", f"not a JSON scalar or list of scalars: {short(value)}")
    jobs = params.get("n_jobs")
    if jobs is not None:
        whole(jobs, "params.n_jobs", where, -1, 256)
    try:
        validate_params(cls, params)
    except InvalidParameterError as exc:
        raise where.error("params", str(exc)) from None
    return params


# -- per class ------------------------------------------------------------------------------------
#: The linear models storable, with their fitted scalars beside ``coef_`` and ``intercept_``.
LINEAR = {LinearRegression: (), Ridge: (), RidgeCV: ("alpha_",), ElasticNet: (), Lasso: ()}


def linear_check(cls: type) -> Callable[[dict, dict, dict, Where], int]:
    """The check of a stored linear model of class ``cls`` (one of :data:`LINEAR`).

    Parameters
    ----------
    cls : type
        The class.

    Returns
    -------
    callable
        ``check(config, arrays, blobs, where) -> n_features_in``.
    """
    def check(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
        expect_keys(config, where, {"class", "params", "n_features_in"})
        check_params(cls, config["params"], where)
        n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
        exact_arrays(arrays, {"coef_", "intercept_", *LINEAR[cls]}, where)
        array(arrays, "coef_", where, (n,))
        if arrays["intercept_"].shape not in ((), (1,)):
            raise where.error("intercept_", f"shape {arrays['intercept_'].shape}, expected () or (1,)", WEIGHTS)
        array(arrays, "intercept_", where, arrays["intercept_"].shape)
        if cls is RidgeCV and arrays["alpha_"].shape not in ((), (1,)):
            raise where.error("alpha_", f"shape {arrays['alpha_'].shape}, expected () or (1,)", WEIGHTS)
        if cls is RidgeCV:
            array(arrays, "alpha_", where, arrays["alpha_"].shape)
        return n
    return check


def check_scaler(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    """Check a stored StandardScaler; registered for its class in :mod:`mdl.models.state`.

    Parameters
    ----------
    config, arrays, blobs, where
        As :func:`mdl.store.registry.check_stored` passes them.

    Returns
    -------
    int
        Its input width.
    """
    expect_keys(config, where, {"class", "params", "n_features_in"})
    params = check_params(StandardScaler, config["params"], where)
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    exact_arrays(arrays, set(arrays) & {"mean_", "scale_", "var_", "n_samples_seen_"}, where)
    for name, needed in (("mean_", params.get("with_mean", True)), ("scale_", params.get("with_std", True))):
        if needed or name in arrays:
            array(arrays, name, where, (n,))
    if "scale_" in arrays and (arrays["scale_"] == 0).any():
        raise where.error("scale_", "values must be non-zero", WEIGHTS)
    if "var_" in arrays:
        array(arrays, "var_", where, (n,))
    if "n_samples_seen_" in arrays and arrays["n_samples_seen_"].shape not in ((), (1,), (n,)):
        raise where.error("n_samples_seen_", f"shape {arrays['n_samples_seen_'].shape}, expected (), (1,) or "
                                             f"({n},)", WEIGHTS)
    return n


def check_mlp(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    """Check a stored MLPRegressor head; registered for its class in :mod:`mdl.models.state`.

    Parameters
    ----------
    config, arrays, blobs, where
        As :func:`mdl.store.registry.check_stored` passes them.

    Returns
    -------
    int
        Its input width.
    """
    expect_keys(config, where, {"class", "params", "n_features_in", "n_layers", "n_outputs", "out_activation"})
    check_params(MLPRegressor, config["params"], where)
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    n_layers = whole(config["n_layers"], "n_layers", where, 2, limit("layers") + 2, "layers")
    n_outputs = whole(config["n_outputs"], "n_outputs", where, 1, limit("width"), "width")
    if config["out_activation"] != "identity":
        raise where.error("out_activation", f"expected 'identity', got {short(config['out_activation'])}")
    exact_arrays(arrays, {f"{k}.{i}" for i in range(n_layers - 1) for k in ("coef", "intercept")}, where)
    width, total = n, 0
    for i in range(n_layers - 1):
        last = i == n_layers - 2
        coef = array(arrays, f"coef.{i}", where, (width, n_outputs if last else None))
        array(arrays, f"intercept.{i}", where, (coef.shape[1],))
        total += coef.size + coef.shape[1]
        width = coef.shape[1]
    if total > limit("parameters"):
        raise where.error("coef", f"{total} weights exceed the limit {limit('parameters')} (MDL_MAX_PARAMETERS)",
                          WEIGHTS)
    return n


def check_network_estimator(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    """Check a stored NeuralNetRegressor; registered for its class in :mod:`mdl.models.state`.

    Parameters
    ----------
    config, arrays, blobs, where
        As :func:`mdl.store.registry.check_stored` passes them.

    Returns
    -------
    int
        Its input width.
    """
    expect_keys(config, where, {"class", "params", "network"})
    check_params(NeuralNetRegressor, config["params"], where)
    check_network(config["network"], arrays, where)
    return int(config["network"]["n_features_in"])


def check_network(config: Any, arrays: dict[str, np.ndarray], where: Where, field: str = "network.") -> None:
    """A :class:`~mdl.models.nn.NeuralNetRegressor` state: parameters, widths and every weight's shape.

    Parameters
    ----------
    config : object
        The network's config.
    arrays : dict of str to numpy.ndarray
        The weights.
    where : Where
        Locates the arrays.
    field : str
        Where the config sits inside the estimator's config.

    Raises
    ------
    ModelFormatError
        Naming the field or tensor out of bounds or shape.
    """
    arrays_at, where = where, where.inside(field)
    names = _known_params(NeuralNetRegressor)
    expect_keys(config, where, {"hidden", "n_features_in", "n_outputs"}, optional=tuple(names - {"hidden"}))
    hidden = config["hidden"]
    if not isinstance(hidden, list) or not 1 <= len(hidden) <= limit("layers"):
        raise where.error("hidden", f"expected a list of 1 to {limit('layers')} widths (MDL_MAX_LAYERS), "
                                    f"got {short(hidden)}")
    widths = [whole(h, f"hidden.{i}", where, 1, limit("width"), "width") for i, h in enumerate(hidden)]
    n_in = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    n_out = whole(config["n_outputs"], "n_outputs", where, 1, limit("width"), "width")
    for key in ("epochs", "batch_size", "patience"):
        if key in config:
            whole(config[key], key, where, 0 if key == "epochs" else 1, 10**9)
    for key in ("lr", "weight_decay", "validation_fraction"):
        if key in config and (isinstance(config[key], bool) or not isinstance(config[key], (int, float))
                              or not math.isfinite(config[key]) or config[key] < 0):
            raise where.error(key, f"expected a non-negative finite number, got {short(config[key])}")
    if config.get("random_state") is not None:
        whole(config["random_state"], "random_state", where, 0, 2**32 - 1)
    layers = [n_in, *widths]
    expected = {f"module.hidden.{i}.weight": (b, a) for i, (a, b) in enumerate(pairwise(layers))}
    expected.update({f"module.hidden.{i}.bias": (b,) for i, b in enumerate(layers[1:])})
    expected.update({"module.output.weight": (n_out, layers[-1]), "module.output.bias": (n_out,),
                     "x_mean": (n_in,), "x_scale": (n_in,), "y_mean": (n_out,), "y_scale": (n_out,)})
    total = sum(math.prod(s) for s in expected.values())
    if total > limit("parameters"):
        raise where.error("hidden", f"{total} weights exceed the limit {limit('parameters')} (MDL_MAX_PARAMETERS)")
    exact_arrays(arrays, set(expected), arrays_at)
    for name, shape in expected.items():  # compared with the stored shapes before torch allocates
        if array(arrays, name, arrays_at, shape).dtype != np.float32:
            raise arrays_at.error(name, f"dtype {arrays[name].dtype}, expected float32", WEIGHTS)
    for name in ("x_scale", "y_scale"):
        if (arrays[name] == 0).any():
            raise arrays_at.error(name, "values must be non-zero", WEIGHTS)


def check_graph_network_estimator(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    """Check a stored GraphNetRegressor; registered for its class in :mod:`mdl.models.state`.

    Parameters
    ----------
    config, arrays, blobs, where
        As :func:`mdl.store.registry.check_stored` passes them.

    Returns
    -------
    int
        Its input width (0: it reads graphs).
    """
    expect_keys(config, where, {"class", "params", "network"})
    check_params(GraphNetRegressor, config["params"], where)
    check_graph_network(config["network"], arrays, where)
    return 0


def check_graph_network(config: Any, arrays: dict[str, np.ndarray], where: Where, field: str = "network.") -> None:
    """A :class:`~mdl.models.gnn.GraphNetRegressor` state: sizes within :data:`~mdl.config.LIMITS` (``width``
    for widths and Gaussians, ``layers`` for convolutions), pooling, distance range, and every weight's shape.

    Parameters
    ----------
    config : object
        The stored network config: the params, ``n_outputs`` and ``r_max``.
    arrays : dict of str to numpy.ndarray
        The stored weights, ``y_mean`` and ``y_scale``.
    where : Where
        The model being read, for error messages.
    field : str, default "network."
        The prefix of the field names in error messages.

    Raises
    ------
    ModelFormatError
        For a missing or unknown key, a value out of bounds, or an array missing, unexpected or of the
        wrong shape.
    """
    arrays_at, where = where, where.inside(field)
    names = _known_params(GraphNetRegressor)
    expect_keys(config, where, {*names, "n_outputs", "r_max"}, optional=())
    width = whole(config["width"], "width", where, 1, limit("width"), "width")
    n_conv = whole(config["n_conv"], "n_conv", where, 1, limit("layers"), "layers")
    head = whole(config["head_width"], "head_width", where, 1, limit("width"), "width")
    gaussians = whole(config["n_gaussians"], "n_gaussians", where, 1, limit("width"), "width")
    n_out = whole(config["n_outputs"], "n_outputs", where, 1, limit("width"), "width")
    if config["pooling"] not in POOLINGS:
        raise where.error("pooling", f"expected one of {POOLINGS}, got {short(config['pooling'])}")
    r_max = config["r_max"]
    if isinstance(r_max, bool) or not isinstance(r_max, (int, float)) or not 1 <= r_max <= 64:
        raise where.error("r_max", f"expected a distance in [1, 64] Å, got {short(r_max)}")
    for key in ("epochs", "batch_size", "patience"):
        whole(config[key], key, where, 0 if key == "epochs" else 1, 10**9)
    for key in ("lr", "weight_decay", "validation_fraction"):
        if isinstance(config[key], bool) or not isinstance(config[key], (int, float)) or not (
                math.isfinite(config[key]) and config[key] >= 0):
            raise where.error(key, f"expected a non-negative finite number, got {short(config[key])}")
    if config["random_state"] is not None:
        whole(config["random_state"], "random_state", where, 0, 2**32 - 1)
    cutoff, neighbors = config["cutoff"], config["max_neighbors"]
    if cutoff is not None and (isinstance(cutoff, bool) or not isinstance(cutoff, (int, float)) or not 1 <= cutoff <= 64):
        raise where.error("cutoff", f"expected null or a distance in [1, 64] Å, got {short(cutoff)}")
    if neighbors is not None:
        whole(neighbors, "max_neighbors", where, 1, limit("neighbors"), "neighbors")
    clip = config["target_clip"]
    if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip > 0):
        raise where.error("target_clip", f"expected null or a positive number, got {short(clip)}")
    expected: dict[str, tuple[int, ...]] = {"module.embed.weight": (MAX_Z + 1, width)}
    for i in range(n_conv):
        expected.update({f"module.convs.{i}.node.weight": (4 * width, width), f"module.convs.{i}.node.bias":
                         (4 * width,), f"module.convs.{i}.edge.weight": (2 * width, gaussians),
                         f"module.convs.{i}.norm.weight": (width,),
                         f"module.convs.{i}.norm.bias": (width,)})
    expected.update({"module.head.weight": (head, width), "module.head.bias": (head,),
                     "module.output.weight": (n_out, head), "module.output.bias": (n_out,),
                     "y_mean": (n_out,), "y_scale": (n_out,)})
    total = sum(math.prod(s) for s in expected.values())
    if total > limit("parameters"):
        raise where.error("width", f"{total} weights exceed the limit {limit('parameters')} (MDL_MAX_PARAMETERS)")
    exact_arrays(arrays, set(expected), arrays_at)
    for name, shape in expected.items():  # compared with the stored shapes before torch allocates
        if array(arrays, name, arrays_at, shape).dtype != np.float32:
            raise arrays_at.error(name, f"dtype {arrays[name].dtype}, expected float32", WEIGHTS)
    if (arrays["y_scale"] == 0).any():
        raise arrays_at.error("y_scale", "values must be non-zero", WEIGHTS)


def _parts(config: dict, key: str, arrays: dict, blobs: dict, where: Where, what: str) -> list[int]:
    """Check the named sub-estimators of a pipeline (``key="steps"``) or a mean (``"members"``): a short
    list, unique plain names, every array and blob belonging to one; returns each one's input width."""
    parts = config[key]
    if not isinstance(parts, list) or not 1 <= len(parts) <= _MAX_STEPS:
        raise where.error(key, f"expected a list of 1 to {_MAX_STEPS} {key}")
    if config["params"] != {}:
        raise where.error("params", f"a stored {what} has no parameters of its own")
    prefixes = [f"{key}.{i}." for i in range(len(parts))]
    stray = [k for k in (*arrays, *blobs) if not k.startswith(tuple(prefixes))]
    if stray:
        raise where.error(stray[0], f"belongs to no {key[:-1]}", WEIGHTS if stray[0] in arrays else CONFIG)
    names, widths = set(), []
    for part, prefix in zip(parts, prefixes):
        inner = where.inside(prefix)
        name = part.get("name") if isinstance(part, dict) else None
        if not isinstance(name, str) or not _STEP_NAME.fullmatch(name) or "__" in name or name in names:
            raise inner.error("name", f"expected a unique {key[:-1]} name (letters, digits, _), got {short(name)}")
        names.add(name)
        widths.append(check_stored({k: v for k, v in part.items() if k != "name"},
                                      {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)},
                                      {k[len(prefix):]: v for k, v in blobs.items() if k.startswith(prefix)},
                                      where=inner))
        if widths[-1] != widths[0]:
            raise inner.error("n_features_in", f"{widths[-1]}, but the {what}'s input has {widths[0]} columns")
    return widths


def check_pipeline(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    """Check a stored Pipeline (a StandardScaler at most before its last step); registered for its class in :mod:`mdl.models.state`.

    Parameters
    ----------
    config, arrays, blobs, where
        As :func:`mdl.store.registry.check_stored` passes them.

    Returns
    -------
    int
        Its input width.
    """
    expect_keys(config, where, {"class", "params", "steps"})
    steps = config["steps"]
    if isinstance(steps, list):  # checked before any step is built
        for i, step in enumerate(steps[:-1]):
            if isinstance(step, dict) and step.get("class") != "StandardScaler":
                raise where.inside(f"steps.{i}.").error("class", f"only StandardScaler may come before the last "
                                                                 f"step, got {short(step.get('class'))}")
    return _parts(config, "steps", arrays, blobs, where, "pipeline")[0]


def check_voting(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    """Check a stored VotingRegressor (a mean of estimators); registered for its class in :mod:`mdl.models.state`.

    Parameters
    ----------
    config, arrays, blobs, where
        As :func:`mdl.store.registry.check_stored` passes them.

    Returns
    -------
    int
        Its input width.
    """
    expect_keys(config, where, {"class", "params", "members", "n_features_in"})
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    if _parts(config, "members", arrays, blobs, where, "mean of estimators")[0] != n:
        raise where.error("n_features_in", f"{n}, but the members take another width")
    return n


def check_kernel_svr(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    """Check a stored KernelSVR; registered for its class in :mod:`mdl.models.state`.

    Parameters
    ----------
    config, arrays, blobs, where
        As :func:`mdl.store.registry.check_stored` passes them.

    Returns
    -------
    int
        Its input width.
    """
    expect_keys(config, where, {"class", "params", "n_features_in"})
    params = check_params(KernelSVR, config["params"], where)
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    split = params.get("split")
    if split is not None:
        whole(split, "params.split", where, 1, n - 1)
    settings, scalars = ("intercept_", "gamma_", "weight_", "C_"), ("counts_", "y_mean_", "y_scale_")
    exact_arrays(arrays, {"center_", "scale_", "support_vectors_", "dual_coef_", *settings, *scalars}, where)
    array(arrays, "center_", where, (n,))
    if not (array(arrays, "scale_", where, (n,)) > 0).all():
        raise where.error("scale_", "must be positive", WEIGHTS)
    support = array(arrays, "support_vectors_", where, (None, n))
    coef = array(arrays, "dual_coef_", where, (None, len(support)))
    if not 0 < len(coef) <= _MAX_SVR_SETTINGS:
        raise where.error("dual_coef_", f"{len(coef)} settings, expected 1 to {_MAX_SVR_SETTINGS}", WEIGHTS)
    for name in settings:
        array(arrays, name, where, (len(coef),))
    for name in scalars:
        if arrays[name].shape not in ((), (1,)):
            raise where.error(name, f"shape {arrays[name].shape}, expected () or (1,)", WEIGHTS)
        array(arrays, name, where, arrays[name].shape)
    for name in ("gamma_", "C_", "y_scale_"):
        if not (arrays[name] > 0).all():
            raise where.error(name, "must be positive", WEIGHTS)
    weight = arrays["weight_"]
    if not ((0 <= weight) & (weight <= 1)).all() or (split is None and (weight != 1).any()):
        raise where.error("weight_", "must be in [0, 1] (1 without a split)", WEIGHTS)
    if arrays["counts_"] not in (0, 1):
        raise where.error("counts_", "must be 0 or 1", WEIGHTS)
    return n


def check_estimator(config: Any, arrays: dict[str, np.ndarray], blobs: dict[str, bytes], *, model: str = "",
                    where: Where | None = None) -> int:
    """Check a stored estimator (config, arrays, blobs as :func:`~mdl.models.state.to_state` gives them).

    Parameters
    ----------
    config : object
        The stored config (a JSON object with the estimator's ``class``).
    arrays : dict of str to numpy.ndarray
        The stored arrays.
    blobs : dict of str to bytes
        The stored blobs (only a Pipeline or an XGBRegressor has any).
    model : str, default ""
        The model's name, for error messages (when ``where`` is not given).
    where : Where, optional
        Where the estimator is read, for error messages.

    Returns
    -------
    int
        The number of input columns it expects (0 for a graph network or the foundation source).

    Raises
    ------
    ModelFormatError
        Naming model, file and field of the first problem.
    """
    return check_stored(config, arrays, blobs, where or Where(model))
