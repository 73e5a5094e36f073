"""The schema of a stored estimator: its config and arrays are checked before anything is built.

:func:`check_estimator` runs before :func:`mdl.models.state.from_state` hands a single number to
torch, scikit-learn or xgboost. It checks types, bounds (:data:`mdl.config.LIMITS`: ``width``,
``layers``, ``parameters``, ``trees``, ``tree_nodes``, ``tree_depth``), that the config agrees with the
shapes of the arrays (a config cannot make the loader allocate more than the weights file holds),
that tree tables are well formed (children inside their tree and after their parent, so no cycle;
every node but the root has exactly one parent; leaves marked ``-1``/``-1``; features inside the
recorded width; finite thresholds and values; ``max_depth`` as recorded) and that every constructor
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge, RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from mdl.config import LIMITS, limit
from mdl.errors import ModelFormatError
from mdl.models.gnn import POOLINGS, GraphNetRegressor
from mdl.models.graph_batch import MAX_Z
from mdl.models.nn import NeuralNetRegressor
from mdl.models.sklearn_private import NODE_DTYPE, TREE_LEAF, TREE_UNDEFINED, InvalidParameterError, validate_params
from mdl.models.svr import KernelSVR

CONFIG, WEIGHTS = "config.json", "weights.safetensors"
_STEP_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_MAX_STEPS = 8
_MAX_SVR_SETTINGS = 64  # kernel expansions one KernelSVR averages
_MAX_STRING = 1_000


@dataclass(frozen=True)
class Where:
    """Where a stored estimator sits, for error messages.

    Attributes
    ----------
    model : str
        The model's id.
    file : str
        The file (``config.json`` by default).
    prefix : str
        The field prefix of the estimator inside the config (a pipeline step's, a stack's member).

    Examples
    --------
    >>> str(Where("m-0").inside("steps.0.").error("alpha", "must be finite"))
    'model m-0: config.json: steps.0.alpha: must be finite'
    """

    model: str = ""
    file: str = CONFIG
    prefix: str = ""

    def error(self, field: str, message: str, file: str | None = None) -> ModelFormatError:
        """The error for a field of this estimator.

        Parameters
        ----------
        field : str
            The field, after the prefix.
        message : str
            What is wrong.
        file : str, optional
            Another file than :attr:`file` (the weights).

        Returns
        -------
        ModelFormatError
            Naming the model, the file and the prefixed field.
        """
        return ModelFormatError(message, model=self.model, file=file or self.file, field=self.prefix + field)

    def inside(self, prefix: str) -> Where:
        """The place of a nested estimator.

        Parameters
        ----------
        prefix : str
            Appended to the field prefix.

        Returns
        -------
        Where
            The same model and file.
        """
        return Where(self.model, self.file, self.prefix + prefix)


# -- scalars --------------------------------------------------------------------------------------
def whole(value: Any, field: str, where: Where, low: int, high: int, setting: str = "") -> int:
    """A whole number from a stored config, bounded.

    Parameters
    ----------
    value : object
        The stored value.
    field : str
        Its field.
    where : Where
        The estimator.
    low, high : int
        Bounds (inclusive).
    setting : str
        A key of :data:`mdl.config.LIMITS` whose variable raises ``high``, named in the error.

    Returns
    -------
    int
        ``value`` as an int.

    Raises
    ------
    ModelFormatError
        For anything else.

    Examples
    --------
    >>> whole(3.0, "n", Where("m-0"), 1, 2)
    Traceback (most recent call last):
    mdl.errors.ModelFormatError: model m-0: config.json: n: expected a whole number, got float 3.0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise where.error(field, f"expected a whole number, got {_short(value)}")
    if not low <= value <= high:
        hint = f" ({LIMITS[setting][0]})" if setting else ""
        raise where.error(field, f"{value} is outside [{low}, {high}]{hint}")
    return int(value)


def _short(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


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
        raise where.error("params", f"expected a JSON object, got {_short(params)}")
    for key, value in params.items():
        if key not in _known_params(cls):
            raise where.error(f"params.{key}", f"not a parameter of {cls.__name__}")
        if not _json_value(value):
            raise where.error(f"params.{key}", f"not a JSON scalar or list of scalars: {_short(value)}")
    jobs = params.get("n_jobs")
    if jobs is not None:
        whole(jobs, "params.n_jobs", where, -1, 256)
    try:
        validate_params(cls, params)
    except InvalidParameterError as exc:
        raise where.error("params", str(exc)) from None
    return params


def _keys(config: Any, where: Where, required: set[str], optional: Sequence[str] = ("blobs",)) -> dict:
    if not isinstance(config, dict):
        raise where.error("", f"expected a JSON object, got {_short(config)}")
    missing, extra = required - set(config), set(config) - required - set(optional)
    if missing or extra:
        raise where.error(min(missing or extra), "missing" if missing else "unexpected key")
    return config


# -- arrays ---------------------------------------------------------------------------------------
def array(arrays: dict[str, np.ndarray], name: str, where: Where, shape: tuple[int | None, ...],
          kind: str = "f") -> np.ndarray:
    """A stored array, with its shape and dtype checked.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        The weights file's tensors.
    name : str
        The tensor.
    where : Where
        The estimator.
    shape : tuple of (int or None)
        The shape (None: any length).
    kind : str
        The dtype kind: 'f' float (finite values), 'i' integer.

    Returns
    -------
    numpy.ndarray
        ``arrays[name]``.

    Raises
    ------
    ModelFormatError
        When it is missing, of another shape or kind, or not finite.
    """
    value = arrays.get(name)
    if value is None:
        raise where.error(name, "array missing", WEIGHTS)
    if value.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, value.shape)):
        wanted = tuple("any" if s is None else s for s in shape)
        raise where.error(name, f"shape {value.shape}, expected {wanted}".replace("'", ""), WEIGHTS)
    if kind == "f" and value.dtype.kind != "f" or kind == "i" and value.dtype.kind not in "iu":
        raise where.error(name, f"dtype {value.dtype}, expected {'floating' if kind == 'f' else 'integer'}", WEIGHTS)
    if kind == "f" and not np.isfinite(value).all():
        raise where.error(name, "values must be finite", WEIGHTS)
    return value


def _exact_arrays(arrays: dict[str, np.ndarray], names: set[str], where: Where) -> None:
    extra, missing = set(arrays) - names, names - set(arrays)
    if extra or missing:
        raise where.error(min(extra or missing), "unexpected array" if extra else "array missing", WEIGHTS)


# -- per class ------------------------------------------------------------------------------------
_LINEAR = {LinearRegression: (), Ridge: (), RidgeCV: ("alpha_",), ElasticNet: (), Lasso: ()}


def _linear(cls: type) -> Callable[[dict, dict, dict, Where], int]:
    def check(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
        _keys(config, where, {"class", "params", "n_features_in"})
        check_params(cls, config["params"], where)
        n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
        _exact_arrays(arrays, {"coef_", "intercept_", *_LINEAR[cls]}, where)
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


def _scaler(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    _keys(config, where, {"class", "params", "n_features_in"})
    params = check_params(StandardScaler, config["params"], where)
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    _exact_arrays(arrays, set(arrays) & {"mean_", "scale_", "var_", "n_samples_seen_"}, where)
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


def _mlp(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    _keys(config, where, {"class", "params", "n_features_in", "n_layers", "n_outputs", "out_activation"})
    check_params(MLPRegressor, config["params"], where)
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    n_layers = whole(config["n_layers"], "n_layers", where, 2, limit("layers") + 2, "layers")
    n_outputs = whole(config["n_outputs"], "n_outputs", where, 1, limit("width"), "width")
    if config["out_activation"] != "identity":
        raise where.error("out_activation", f"expected 'identity', got {_short(config['out_activation'])}")
    _exact_arrays(arrays, {f"{k}.{i}" for i in range(n_layers - 1) for k in ("coef", "intercept")}, where)
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


def _network(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    _keys(config, where, {"class", "params", "network"})
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
    _keys(config, where, {"hidden", "n_features_in", "n_outputs"}, optional=tuple(names - {"hidden"}))
    hidden = config["hidden"]
    if not isinstance(hidden, list) or not 1 <= len(hidden) <= limit("layers"):
        raise where.error("hidden", f"expected a list of 1 to {limit('layers')} widths (MDL_MAX_LAYERS), "
                                    f"got {_short(hidden)}")
    widths = [whole(h, f"hidden.{i}", where, 1, limit("width"), "width") for i, h in enumerate(hidden)]
    n_in = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    n_out = whole(config["n_outputs"], "n_outputs", where, 1, limit("width"), "width")
    for key in ("epochs", "batch_size", "patience"):
        if key in config:
            whole(config[key], key, where, 0 if key == "epochs" else 1, 10**9)
    for key in ("lr", "weight_decay", "validation_fraction"):
        if key in config and (isinstance(config[key], bool) or not isinstance(config[key], (int, float))
                              or not math.isfinite(config[key]) or config[key] < 0):
            raise where.error(key, f"expected a non-negative finite number, got {_short(config[key])}")
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
    _exact_arrays(arrays, set(expected), arrays_at)
    for name, shape in expected.items():  # compared with the stored shapes before torch allocates
        if array(arrays, name, arrays_at, shape).dtype != np.float32:
            raise arrays_at.error(name, f"dtype {arrays[name].dtype}, expected float32", WEIGHTS)
    for name in ("x_scale", "y_scale"):
        if (arrays[name] == 0).any():
            raise arrays_at.error(name, "values must be non-zero", WEIGHTS)


def _graph_network(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    _keys(config, where, {"class", "params", "network"})
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
    _keys(config, where, {*names, "n_outputs", "r_max"}, optional=())
    width = whole(config["width"], "width", where, 1, limit("width"), "width")
    n_conv = whole(config["n_conv"], "n_conv", where, 1, limit("layers"), "layers")
    head = whole(config["head_width"], "head_width", where, 1, limit("width"), "width")
    gaussians = whole(config["n_gaussians"], "n_gaussians", where, 1, limit("width"), "width")
    n_out = whole(config["n_outputs"], "n_outputs", where, 1, limit("width"), "width")
    if config["pooling"] not in POOLINGS:
        raise where.error("pooling", f"expected one of {POOLINGS}, got {_short(config['pooling'])}")
    r_max = config["r_max"]
    if isinstance(r_max, bool) or not isinstance(r_max, (int, float)) or not 1 <= r_max <= 64:
        raise where.error("r_max", f"expected a distance in [1, 64] Å, got {_short(r_max)}")
    for key in ("epochs", "batch_size", "patience"):
        whole(config[key], key, where, 0 if key == "epochs" else 1, 10**9)
    for key in ("lr", "weight_decay", "validation_fraction"):
        if isinstance(config[key], bool) or not isinstance(config[key], (int, float)) or not (
                math.isfinite(config[key]) and config[key] >= 0):
            raise where.error(key, f"expected a non-negative finite number, got {_short(config[key])}")
    if config["random_state"] is not None:
        whole(config["random_state"], "random_state", where, 0, 2**32 - 1)
    cutoff, neighbors = config["cutoff"], config["max_neighbors"]
    if cutoff is not None and (isinstance(cutoff, bool) or not isinstance(cutoff, (int, float)) or not 1 <= cutoff <= 64):
        raise where.error("cutoff", f"expected null or a distance in [1, 64] Å, got {_short(cutoff)}")
    if neighbors is not None:
        whole(neighbors, "max_neighbors", where, 1, limit("neighbors"), "neighbors")
    clip = config["target_clip"]
    if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip > 0):
        raise where.error("target_clip", f"expected null or a positive number, got {_short(clip)}")
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
    _exact_arrays(arrays, set(expected), arrays_at)
    for name, shape in expected.items():  # compared with the stored shapes before torch allocates
        if array(arrays, name, arrays_at, shape).dtype != np.float32:
            raise arrays_at.error(name, f"dtype {arrays[name].dtype}, expected float32", WEIGHTS)
    if (arrays["y_scale"] == 0).any():
        raise arrays_at.error("y_scale", "values must be non-zero", WEIGHTS)


def _forest(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    _keys(config, where, {"class", "params", "n_features_in", "n_outputs", "max_features"})
    params = check_params(RandomForestRegressor, config["params"], where)
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    n_outputs = whole(config["n_outputs"], "n_outputs", where, 1, 1)
    _exact_arrays(arrays, {"node_count", "max_depth", "values", *(f"nodes.{f}" for f in NODE_DTYPE.names)}, where)
    counts = array(arrays, "node_count", where, (None,), "i").astype(np.int64)  # uint64 would mix into floats
    n_trees = whole(len(counts), "node_count", where, 1, limit("trees"), "trees")
    if params.get("n_estimators", 100) != n_trees:
        raise where.error("params.n_estimators", f"{params.get('n_estimators', 100)}, but node_count lists "
                                                 f"{n_trees} trees")
    features = config["max_features"]
    if not isinstance(features, list) or len(features) != n_trees:
        raise where.error("max_features", f"expected a list of {n_trees} whole numbers")
    for i, value in enumerate(features):
        whole(value, f"max_features.{i}", where, 1, limit("width"))
    check_trees(arrays, counts, n, n_outputs, where)
    return n


def check_trees(arrays: dict[str, np.ndarray], counts: np.ndarray, n_features: int, n_outputs: int,
                where: Where) -> None:
    """Node tables of a forest, all trees concatenated (see the module docstring for what is checked).

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        The node tables.
    counts : numpy.ndarray
        Nodes per tree.
    n_features, n_outputs : int
        The forest's inputs and outputs.
    where : Where
        The estimator.

    Raises
    ------
    ModelFormatError
        Naming the tree and field that are malformed.
    """
    if (counts < 1).any() or (counts > limit("tree_nodes")).any():
        raise where.error("node_count", f"each tree needs 1 to {limit('tree_nodes')} nodes", WEIGHTS)
    total = int(counts.sum())
    if total > limit("tree_nodes"):
        raise where.error("node_count", f"{total} nodes exceed the limit {limit('tree_nodes')} "
                                        "(MDL_MAX_TREE_NODES)", WEIGHTS)
    n_trees = len(counts)
    depths = array(arrays, "max_depth", where, (n_trees,), "i")
    for field in NODE_DTYPE.names:  # the tables must be exactly as long as node_count says
        kind = "f" if NODE_DTYPE[field].kind == "f" else "i"
        array(arrays, f"nodes.{field}", where, (total,), kind)
    array(arrays, "values", where, (total, n_outputs, 1))
    left = arrays["nodes.left_child"].astype(np.int64, copy=False)
    right = arrays["nodes.right_child"].astype(np.int64, copy=False)
    feature = arrays["nodes.feature"].astype(np.int64, copy=False)
    starts = np.cumsum(counts) - counts
    offset = np.repeat(starts, counts)  # each node's tree, as the index of its root
    end = offset + np.repeat(counts, counts)
    index = np.arange(total)

    def first(bad: np.ndarray) -> str:
        node = int(np.flatnonzero(bad)[0])
        return f"node {node - int(offset[node])} of tree {int(np.searchsorted(starts, node, 'right')) - 1}"

    leaf = left == TREE_LEAF
    if (leaf != (right == TREE_LEAF)).any():
        raise where.error("nodes.right_child", f"{first(leaf != (right == TREE_LEAF))}: a leaf has both children "
                                               f"{TREE_LEAF}, an inner node none", WEIGHTS)
    inner = ~leaf
    left_at, right_at = left + offset, right + offset  # children as indices into the concatenated tables
    for name, child, at in (("nodes.left_child", left, left_at), ("nodes.right_child", right, right_at)):
        bad = inner & ((at <= index) | (at >= end))
        if bad.any():
            raise where.error(name, f"{first(bad)}: child {int(child[bad][0])} is not inside its tree after "
                                    "its parent", WEIGHTS)
    bad = inner & ((feature < 0) | (feature >= n_features)) | leaf & (feature != TREE_UNDEFINED)
    if bad.any():
        raise where.error("nodes.feature", f"{first(bad)}: feature {int(feature[bad][0])} outside [0, {n_features}) "
                                           f"(leaves: {TREE_UNDEFINED})", WEIGHTS)
    missing = arrays["nodes.missing_go_to_left"]
    if missing.min() < 0 or missing.max() > 1:
        raise where.error("nodes.missing_go_to_left", "values must be 0 or 1", WEIGHTS)
    if (arrays["nodes.n_node_samples"] < 0).any():
        raise where.error("nodes.n_node_samples", "values must be non-negative", WEIGHTS)
    if (depths < 0).any() or (depths > limit("tree_depth")).any():
        raise where.error("max_depth", f"depths must be in [0, {limit('tree_depth')}] (MDL_MAX_TREE_DEPTH)", WEIGHTS)
    level = np.zeros(total, np.int32)
    frontier, depth, visits = starts, 0, n_trees
    while True:  # breadth first from the roots: one vectorised step per level
        frontier = frontier[inner[frontier]]
        if not frontier.size:
            break
        depth += 1
        if depth > limit("tree_depth"):
            raise where.error("max_depth", f"a tree is deeper than {limit('tree_depth')} (MDL_MAX_TREE_DEPTH)",
                              WEIGHTS)
        frontier = np.concatenate([left_at[frontier], right_at[frontier]])
        level[frontier] = depth
        visits += frontier.size
    # children come after their parent, so no root is anyone's child; when the walk reaches every other
    # node and makes no more visits than there are nodes, each node but the root has exactly one parent
    reached = np.count_nonzero(level)
    if visits != total or reached != total - n_trees:
        orphan = level == 0
        orphan[starts] = False
        problem = f"{first(orphan)} has no parent" if orphan.any() else "a node has two parents"
        raise where.error("nodes.left_child", f"{problem} (each node but the root needs exactly one)", WEIGHTS)
    actual = np.maximum.reduceat(level, starts)
    if (actual != depths).any():
        i = int(np.flatnonzero(actual != depths)[0])
        raise where.error("max_depth", f"tree {i} is {int(actual[i])} deep, recorded {int(depths[i])}", WEIGHTS)


def _xgboost(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    from mdl.models.booster import check_booster, xgb_regressor_class

    _keys(config, where, {"class", "params", "n_features_in"})
    params = check_params(xgb_regressor_class(), config["params"], where)
    if params.get("device") not in (None, "cpu"):
        raise where.error("params.device", f"expected null or 'cpu', got {_short(params['device'])}")
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    _exact_arrays(arrays, set(), where)
    if set(blobs) != {"booster.json"}:
        raise where.error("blobs", f"expected exactly the blob booster.json, got {sorted(blobs)}")
    check_booster(blobs["booster.json"], n, Where(where.model, "booster.json"))  # its own document
    return n


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
            raise inner.error("name", f"expected a unique {key[:-1]} name (letters, digits, _), got {_short(name)}")
        names.add(name)
        widths.append(check_estimator({k: v for k, v in part.items() if k != "name"},
                                      {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)},
                                      {k[len(prefix):]: v for k, v in blobs.items() if k.startswith(prefix)},
                                      where=inner))
        if widths[-1] != widths[0]:
            raise inner.error("n_features_in", f"{widths[-1]}, but the {what}'s input has {widths[0]} columns")
    return widths


def _pipeline(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    _keys(config, where, {"class", "params", "steps"})
    steps = config["steps"]
    if isinstance(steps, list):  # checked before any step is built
        for i, step in enumerate(steps[:-1]):
            if isinstance(step, dict) and step.get("class") != "StandardScaler":
                raise where.inside(f"steps.{i}.").error("class", f"only StandardScaler may come before the last "
                                                                 f"step, got {_short(step.get('class'))}")
    return _parts(config, "steps", arrays, blobs, where, "pipeline")[0]


def _voting(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    _keys(config, where, {"class", "params", "members", "n_features_in"})
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    if _parts(config, "members", arrays, blobs, where, "mean of estimators")[0] != n:
        raise where.error("n_features_in", f"{n}, but the members take another width")
    return n


def _kernel_svr(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    _keys(config, where, {"class", "params", "n_features_in"})
    params = check_params(KernelSVR, config["params"], where)
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    split = params.get("split")
    if split is not None:
        whole(split, "params.split", where, 1, n - 1)
    settings, scalars = ("intercept_", "gamma_", "weight_", "C_"), ("counts_", "y_mean_", "y_scale_")
    _exact_arrays(arrays, {"center_", "scale_", "support_vectors_", "dual_coef_", *settings, *scalars}, where)
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


def _chgnet(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    from mdl.models.foundation_schema import check_chgnet  # it builds on this module

    return check_chgnet(config, arrays, blobs, where)


_CHECKS: dict[str, Callable[[dict, dict, dict, Where], int]] = {
    **{cls.__name__: _linear(cls) for cls in _LINEAR},
    "StandardScaler": _scaler,
    "MLPRegressor": _mlp,
    "RandomForestRegressor": _forest,
    "NeuralNetRegressor": _network,
    "GraphNetRegressor": _graph_network,
    "XGBRegressor": _xgboost,
    "Pipeline": _pipeline,
    "CHGNetFeaturizer": _chgnet,
    "KernelSVR": _kernel_svr,
    "VotingRegressor": _voting,
}


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
    where = where or Where(model)
    if not isinstance(config, dict):
        raise where.error("", f"expected a JSON object, got {_short(config)}")
    name = config.get("class")
    if not isinstance(name, str) or name not in _CHECKS:
        raise where.error("class", f"{_short(name)} is not a storable class ({', '.join(sorted(_CHECKS))})")
    if name not in ("Pipeline", "VotingRegressor", "XGBRegressor") and blobs:
        raise where.error("blobs", f"a {name} has no blobs, got {sorted(blobs)}")
    return _CHECKS[name]({k: v for k, v in config.items() if k != "blobs"}, arrays, blobs, where)
