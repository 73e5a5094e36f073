"""The schema of a stored random forest: its trees' node tables are checked before scikit-learn builds them.

Every tree's table is well formed: children inside their tree and after their parent (so no cycle);
every node but the root has exactly one parent; leaves marked ``-1``/``-1``; features inside the
recorded width; finite thresholds and values; ``max_depth`` as recorded; trees and nodes bounded
(``MDL_MAX_TREES``, ``MDL_MAX_TREE_NODES``, ``MDL_MAX_TREE_DEPTH``).

>>> import numpy as np
>>> from sklearn.ensemble import RandomForestRegressor
>>> from mdl.models.state import to_state
>>> forest = RandomForestRegressor(n_estimators=2, max_depth=2, random_state=0).fit(np.eye(4), np.arange(4.0))
>>> config, arrays, blobs = to_state(forest)
>>> check_forest(config, arrays, blobs, Where("m-0"))
4
>>> arrays["nodes.left_child"][0] = 0   # the root its own child
>>> check_forest(config, arrays, blobs, Where("m-0"))
Traceback (most recent call last):
mdl.errors.ModelFormatError: model m-0: weights.safetensors: nodes.left_child: node 0 of tree 0: child 0 is not inside its tree after its parent
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from mdl.config import limit
from mdl.models.stored_schema import check_params
from mdl.models.sklearn_private import NODE_DTYPE, TREE_LEAF, TREE_UNDEFINED
from mdl.store.fields import Where, array, exact_arrays, expect_keys, whole
from mdl.store.names import WEIGHTS

__all__ = ["check_forest", "check_trees"]


def check_forest(config: dict, arrays: dict, blobs: dict, where: Where) -> int:
    """Check a stored RandomForestRegressor: its parameters, and every tree's node table (:func:`check_trees`).

    Parameters
    ----------
    config, arrays, blobs, where
        As :func:`mdl.store.registry.check_stored` passes them.

    Returns
    -------
    int
        Its input width.
    """
    expect_keys(config, where, {"class", "params", "n_features_in", "n_outputs", "max_features"})
    params = check_params(RandomForestRegressor, config["params"], where)
    n = whole(config["n_features_in"], "n_features_in", where, 1, limit("width"), "width")
    n_outputs = whole(config["n_outputs"], "n_outputs", where, 1, 1)
    exact_arrays(arrays, {"node_count", "max_depth", "values", *(f"nodes.{f}" for f in NODE_DTYPE.names)}, where)
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
    """Node tables of a forest, all trees concatenated (see the module's documentation for what is checked).

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
