"""The schema of a stored CHGNet foundation source, checked before torch builds anything real.

:func:`check_chgnet` accepts only the known ``CHGNet`` constructor arguments (:data:`ARGS`), each of
the expected type and inside its bounds, then builds the module on torch's meta device (no memory,
no numbers) and requires the stored arrays to be exactly its state_dict: same names, same shapes,
float32, finite. Only then may :meth:`~mdl.models.foundation.CHGNetFeaturizer.from_weights` build it.

>>> from mdl.store.fields import Where
>>> check_args({"n_conv": 4, "atom_fea_dim": 64}, Where("m-0"))
{'n_conv': 4, 'atom_fea_dim': 64}
>>> check_args({"n_conv": 400}, Where("m-0"))
Traceback (most recent call last):
mdl.errors.ModelFormatError: model m-0: config.json: model_args.n_conv: 400 is outside [1, 16]
>>> check_args({"composition_model": {"__class__": "os.system"}}, Where("m-0"))
Traceback (most recent call last):
mdl.errors.ModelFormatError: model m-0: config.json: model_args.composition_model: expected one of ['MPtrj', None], got dict {'__class__': 'os.system'}
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from mdl.config import limit
from mdl.models.stored_schema import check_params
from mdl.store.fields import Where, array, expect_keys, short, whole
from mdl.store.names import WEIGHTS

_DIM = (1, 512)
#: Every CHGNet argument a stored model may set: (kind, bounds or choices).
ARGS: dict[str, tuple[str, Any]] = {
    "atom_fea_dim": ("int", _DIM), "bond_fea_dim": ("int", _DIM), "angle_fea_dim": ("int", _DIM),
    "atom_conv_hidden_dim": ("int", _DIM), "bond_conv_hidden_dim": ("int", _DIM),
    "angle_layer_hidden_dim": ("int", (0, _DIM[1])),
    "num_radial": ("int", (1, 128)), "num_angular": ("int", (1, 128)), "n_conv": ("int", (1, 16)),
    "mlp_hidden_dims": ("dims", (1, 8)),
    "composition_model": ("choice", ("MPtrj", None)),
    "update_bond": ("bool", None), "update_angle": ("bool", None), "mlp_first": ("bool", None),
    "is_intensive": ("bool", None), "learnable_rbf": ("bool", None), "mlp_out_bias": ("bool", None),
    "read_out": ("choice", ("ave", "sum")),
    "non_linearity": ("choice", ("silu", "relu", "tanh", "gelu")),
    "gMLP_norm": ("choice", ("layer", "batch", None)), "readout_norm": ("choice", ("layer", "batch", None)),
    "graph_converter_algorithm": ("choice", ("fast", "legacy")),
    "atom_graph_cutoff": ("number", (0.5, 10.0)), "bond_graph_cutoff": ("number", (0.5, 10.0)),
    "cutoff_coeff": ("number", (1.0, 64.0)),
    "conv_dropout": ("number", (0.0, 0.99)), "mlp_dropout": ("number", (0.0, 0.99)),
    "version": ("version", None),
}
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


def check_args(args: Any, where: Where, field: str = "model_args.") -> dict[str, Any]:
    """CHGNet constructor arguments: known names only, each of its kind and inside its bounds.

    Parameters
    ----------
    args : object
        The stored ``model_args`` (a JSON object is expected).
    where : Where
        The model being read, for error messages.
    field : str, default "model_args."
        The prefix of the field names in error messages.

    Returns
    -------
    dict
        ``args`` itself, checked.

    Raises
    ------
    ModelFormatError
        For a non-object, an unknown argument, a value of the wrong kind or outside its bounds, or a
        ``bond_graph_cutoff`` above ``atom_graph_cutoff``.
    """
    if not isinstance(args, dict):
        raise where.error(field.rstrip("."), f"expected a JSON object, got {short(args)}")
    for key, value in args.items():
        if key not in ARGS:
            raise where.error(field + str(key)[:60], "not a CHGNet argument this loader accepts")
        kind, bounds = ARGS[key]
        name = field + key
        if kind == "int":
            whole(value, name, where, *bounds)
        elif kind == "dims":
            if not isinstance(value, list) or not bounds[0] <= len(value) <= bounds[1]:
                raise where.error(name, f"expected a list of {bounds[0]} to {bounds[1]} widths, got {short(value)}")
            for i, width in enumerate(value):
                whole(width, f"{name}.{i}", where, *_DIM)
        elif kind == "bool" and not isinstance(value, bool):
            raise where.error(name, f"expected true or false, got {short(value)}")
        elif kind == "choice" and (not isinstance(value, (str, type(None))) or value not in bounds):
            raise where.error(name, f"expected one of {list(bounds)}, got {short(value)}")
        elif kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))
                                   or not math.isfinite(value) or not bounds[0] <= value <= bounds[1]):
            raise where.error(name, f"expected a number in [{bounds[0]}, {bounds[1]}], got {short(value)}")
        elif kind == "version" and not (isinstance(value, str) and _VERSION.fullmatch(value)):
            raise where.error(name, f"expected a short version name, got {short(value)}")
    if args.get("bond_graph_cutoff", 3) > args.get("atom_graph_cutoff", 6):
        raise where.error(field + "bond_graph_cutoff", "must not exceed atom_graph_cutoff")
    return args


def expected_shapes(args: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the state_dict of ``CHGNet(**args)``, built on the meta device (no memory).

    Parameters
    ----------
    args : dict
        Checked CHGNet constructor arguments (see :func:`check_args`).

    Returns
    -------
    dict of str to tuple of int
        Each ``module.``-prefixed array name and its shape.
    """
    from mdl.models.foundation import build_chgnet

    module = build_chgnet(args, device="meta")
    return {f"module.{k}": tuple(v.shape) for k, v in module.state_dict().items()}


def check_chgnet(config: dict, arrays: dict[str, np.ndarray], blobs: dict[str, bytes], where: Where) -> int:
    """A stored :class:`~mdl.models.foundation.CHGNetFeaturizer`: its params, model_args and every array.

    Parameters
    ----------
    config : dict
        The stored config: ``class``, ``params`` and ``model_args``.
    arrays : dict of str to numpy.ndarray
        The stored weights, each compared by name, shape and dtype (float32) with the model's.
    blobs : dict of str to bytes
        Stored blobs (none expected; unused).
    where : Where
        The model being read, for error messages.

    Returns
    -------
    int
        0, the number of descriptor columns it takes (its inputs are structures).

    Raises
    ------
    ModelFormatError
        For unknown keys or params, arguments out of bounds, more weights than ``MDL_MAX_PARAMETERS``,
        or an array missing, unexpected, or of the wrong shape or dtype.
    """
    from mdl.models.foundation import POOLINGS, CHGNetFeaturizer

    expect_keys(config, where, {"class", "params", "model_args"})
    params = check_params(CHGNetFeaturizer, config["params"], where)
    if "batch_size" in params:
        whole(params["batch_size"], "params.batch_size", where, 1, 4096)
    if params.get("pooling", "mean") not in POOLINGS:
        raise where.error("params.pooling", f"expected one of {list(POOLINGS)}, got {short(params['pooling'])}")
    args = check_args(config["model_args"], where)
    shapes = expected_shapes(args)
    total = sum(math.prod(s) for s in shapes.values())
    if total > limit("parameters"):
        raise where.error("model_args", f"{total} weights exceed the limit {limit('parameters')} (MDL_MAX_PARAMETERS)")
    extra, missing = set(arrays) - set(shapes), set(shapes) - set(arrays)
    if extra or missing:
        raise where.error(min(extra or missing), "unexpected array" if extra else "array missing", WEIGHTS)
    for name, shape in shapes.items():  # compared with the stored shapes before torch allocates
        if array(arrays, name, where, shape).dtype != np.float32:
            raise where.error(name, f"dtype {arrays[name].dtype}, expected float32", WEIGHTS)
    return 0
