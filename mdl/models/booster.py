"""The schema of a stored xgboost booster (its own JSON model format), checked before xgboost reads it.

Only single-target ``gbtree`` regression boosters are accepted. Per tree: every array as long as
``num_nodes`` says; leaves marked ``-1``/``-1``; children inside the tree and after their parent
(so no cycle) with each node but the root having exactly one parent, recorded in ``parents``;
``split_indices`` inside ``[0, num_feature)``; finite ``split_conditions``, ``base_weights``,
``loss_changes`` and ``sum_hessian``; numerical splits only. Overall: ``num_feature`` equal to the
model's input width, ``num_trees`` equal to the number of trees, trees and nodes bounded
(``MDL_MAX_TREES``, ``MDL_MAX_TREE_NODES``), no booster attributes that xgboost's scikit-learn
wrapper would turn into Python attributes.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np

from mdl.config import limit
from mdl.errors import ModelFormatError
from mdl.models.stored_schema import check_params
from mdl.store.fields import Where, exact_arrays, expect_keys, short, whole
from mdl.store.parse import load_json

_ROOT_PARENT = 2_147_483_647  # xgboost's "no parent" marker
_OBJECTIVES = ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:squaredlogerror")
_NODE_ARRAYS = ("left_children", "right_children", "parents", "split_indices", "split_conditions",
                "default_left", "base_weights", "loss_changes", "sum_hessian", "split_type")
_INTEGER_ARRAYS = ("left_children", "right_children", "parents", "split_indices", "default_left", "split_type")


def xgb_regressor_class() -> type:
    """``xgboost.XGBRegressor`` (xgboost is optional: imported on use)."""
    try:
        from xgboost import XGBRegressor
    except ImportError:
        raise ModelFormatError("a gradient-boosting model needs xgboost, which is not installed") from None
    return XGBRegressor


def _get(node: Any, key: str, where: Where, field: str, kind: type | tuple[type, ...]) -> Any:
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise where.error(f"{field}{key}", f"expected {getattr(kind, '__name__', 'a value')}, got "
                                           f"{type(value).__name__}")
    return value


def _number(text: Any, where: Where, field: str, low: int, high: int) -> int:
    """xgboost writes its integer parameters as strings ("5")."""
    if not isinstance(text, str) or not text.isdigit() or len(text) > 12:
        raise where.error(field, f"expected a whole number in a string, got {str(text)[:40]!r}")
    return whole(int(text), field, where, low, high)


def _numbers(tree: dict, key: str, where: Where, field: str, n: int) -> np.ndarray:
    values = tree.get(key)
    try:
        array = np.array(values) if isinstance(values, list) else None
    except (ValueError, OverflowError):  # ragged nesting
        array = None
    kinds = "iu" if key in _INTEGER_ARRAYS else "iuf"
    if array is None or array.ndim != 1 or len(array) != n or (n and array.dtype.kind not in kinds):
        raise where.error(f"{field}{key}", f"expected a list of {n} {'whole ' if kinds == 'iu' else ''}numbers")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise where.error(f"{field}{key}", "values must be finite")
    return array


def _check_tree(tree: Any, i: int, n_features: int, where: Where) -> int:
    field = f"learner.gradient_booster.model.trees.{i}."
    if not isinstance(tree, dict) or tree.get("id") != i:
        raise where.error(f"{field}id", f"expected tree id {i}")
    param = _get(tree, "tree_param", where, field, dict)
    n = _number(param.get("num_nodes"), where, f"{field}tree_param.num_nodes", 1, limit("tree_nodes"))
    if _number(param.get("num_feature"), where, f"{field}tree_param.num_feature", 0, 1 << 40) != n_features:
        raise where.error(f"{field}tree_param.num_feature", f"expected {n_features}")
    if param.get("num_deleted") != "0" or param.get("size_leaf_vector") not in ("0", "1"):
        raise where.error(f"{field}tree_param", "deleted nodes and vector leaves are not supported")
    a = {key: _numbers(tree, key, where, field, n) for key in _NODE_ARRAYS}
    for key in ("categories", "categories_nodes", "categories_segments", "categories_sizes"):
        if tree.get(key, []) != []:
            raise where.error(f"{field}{key}", "categorical splits are not supported")
    left, right, index = a["left_children"], a["right_children"], np.arange(n)
    leaf = left == -1
    if (leaf != (right == -1)).any():
        raise where.error(f"{field}right_children", "a leaf has both children -1, an inner node none")
    inner = ~leaf
    for key, child in (("left_children", left), ("right_children", right)):
        if (inner & ((child <= index) | (child >= n))).any():
            raise where.error(f"{field}{key}", "a child is not inside the tree after its parent")
    children = np.concatenate([left[inner], right[inner]]).astype(np.int64)
    if (np.bincount(children, minlength=n)[1:] != 1).any() or (children == 0).any():
        raise where.error(f"{field}left_children", "each node but the root needs exactly one parent")
    expected = np.full(n, _ROOT_PARENT, np.int64)
    expected[children] = np.concatenate([index[inner], index[inner]])
    if (a["parents"] != expected).any():
        raise where.error(f"{field}parents", "do not match the children")
    if ((a["split_indices"] < 0) | (a["split_indices"] >= n_features)).any():
        raise where.error(f"{field}split_indices", f"outside [0, {n_features})")
    if not np.isin(a["default_left"], (0, 1)).all() or (a["split_type"] != 0).any():
        raise where.error(f"{field}split_type", "only numerical splits (split_type 0, default_left 0/1)")
    return n


def check_booster(data: bytes, n_features: int, where: Where) -> None:
    """Check the JSON text of an xgboost booster before xgboost reads it.

    Parameters
    ----------
    data : bytes
        The booster's JSON.
    n_features : int
        The input columns of the model it belongs to.
    where : Where
        The model and file, named in errors.

    Raises
    ------
    ModelFormatError
        Naming the field that is malformed or out of bounds.
    """
    root = load_json(data, model=where.model, file=where.file)
    learner = _get(root, "learner", where, "", dict)
    version = root.get("version")
    if not (isinstance(version, list) and len(version) == 3 and all(isinstance(v, int) for v in version)):
        raise where.error("version", "expected [major, minor, patch]")
    param = _get(learner, "learner_model_param", where, "learner.", dict)
    field = "learner.learner_model_param."
    if _number(param.get("num_feature"), where, f"{field}num_feature", 0, 1 << 40) != n_features:
        raise where.error(f"{field}num_feature", f"{param.get('num_feature')}, but the model has {n_features} inputs")
    if param.get("num_class", "0") != "0" or param.get("num_target", "1") != "1":
        raise where.error(f"{field}num_target", "only single-target regression is supported")
    base = param.get("base_score")
    try:
        scores = [float(x) for x in str(base).strip("[]").split(",")]
    except ValueError:
        scores = []
    if len(scores) != 1 or not all(math.isfinite(x) for x in scores):
        raise where.error(f"{field}base_score", f"expected one finite number, got {str(base)[:40]!r}")
    attributes = _get(learner, "attributes", where, "learner.", dict)
    if not set(attributes) <= {"best_iteration", "best_score"} or not all(
            isinstance(v, str) and len(v) < 40 for v in attributes.values()):
        raise where.error("learner.attributes", "only best_iteration and best_score (short strings) are accepted")
    for key in ("feature_names", "feature_types"):
        names = learner.get(key, [])
        if not isinstance(names, list) or len(names) not in (0, n_features) or not all(
                isinstance(x, str) and len(x) < 256 for x in names):
            raise where.error(f"learner.{key}", f"expected a list of 0 or {n_features} short strings")
    objective = _get(learner, "objective", where, "learner.", dict)
    if objective.get("name") not in _OBJECTIVES:
        raise where.error("learner.objective.name", f"expected one of {_OBJECTIVES}")
    booster = _get(learner, "gradient_booster", where, "learner.", dict)
    if booster.get("name") != "gbtree":
        raise where.error("learner.gradient_booster.name", "only 'gbtree' boosters are supported")
    model = _get(booster, "model", where, "learner.gradient_booster.", dict)
    field = "learner.gradient_booster.model."
    trees = _get(model, "trees", where, field, list)
    n_trees = whole(len(trees), f"{field}trees", where, 0, limit("trees"), "trees")
    gbtree = _get(model, "gbtree_model_param", where, field, dict)
    if _number(gbtree.get("num_trees"), where, f"{field}gbtree_model_param.num_trees", 0, limit("trees")) != n_trees:
        raise where.error(f"{field}gbtree_model_param.num_trees", f"expected {n_trees}, the number of trees")
    _number(gbtree.get("num_parallel_tree", "1"), where, f"{field}gbtree_model_param.num_parallel_tree", 1,
            max(n_trees, 1))
    if model.get("tree_info") != [0] * n_trees:
        raise where.error(f"{field}tree_info", f"expected {n_trees} zeros (single target)")
    indptr = model.get("iteration_indptr", [0, n_trees])
    if not (isinstance(indptr, list) and indptr and indptr[0] == 0 and indptr[-1] == n_trees
            and all(isinstance(x, int) and not isinstance(x, bool) for x in indptr)
            and all(a <= b for a, b in pairwise(indptr))):
        raise where.error(f"{field}iteration_indptr", f"expected a non-decreasing list from 0 to {n_trees}")
    cats = model.get("cats", {})
    if not isinstance(cats, dict) or any(v != [] for v in cats.values()):
        raise where.error(f"{field}cats", "categorical features are not supported")
    total = 0
    for i, tree in enumerate(trees):
        total += _check_tree(tree, i, n_features, where)
        if total > limit("tree_nodes"):
            raise where.error(f"{field}trees", f"more than {limit('tree_nodes')} nodes (MDL_MAX_TREE_NODES)")


def check_xgb_regressor(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    """Check a stored XGBRegressor: its parameters (CPU only) and its one blob, ``booster.json``
    (:func:`check_booster`).

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
    params = check_params(xgb_regressor_class(), config["params"], where)
    if params.get("device") not in (None, "cpu"):
        raise where.error("params.device", f"expected null or 'cpu', got {short(params['device'])}")
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    exact_arrays(arrays, set(), where)
    if set(blobs) != {"booster.json"}:
        raise where.error("blobs", f"expected exactly the blob booster.json, got {sorted(blobs)}")
    check_booster(blobs["booster.json"], n, Where(where.model, "booster.json"))  # its own document
    return n
