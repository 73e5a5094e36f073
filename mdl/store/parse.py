"""Parsers for untrusted bytes: JSON with a depth bound, and safetensors with a checked header.

Nothing here trusts the input: sizes, nesting, dtypes, shapes and byte ranges are checked before
anything is allocated from them, and every failure is a :class:`~mdl.errors.ModelFormatError` that
names the model and the file (a ``RecursionError`` or a bare ``ValueError`` never escapes).

>>> load_json(b'{"a": [1, 2]}', model="m-0", file="config.json")
{'a': [1, 2]}
>>> load_json(b"[" * 100 + b"]" * 100, model="m-0", file="config.json")
Traceback (most recent call last):
mdl.errors.ModelFormatError: model m-0: config.json: JSON nested 100 levels deep (limit 64, MDL_MAX_JSON_DEPTH)
"""

from __future__ import annotations

import json
import math
import re
import struct
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_safetensors_bytes

from mdl.config import LIMITS, limit
from mdl.errors import ModelFormatError

#: safetensors dtype codes accepted in a model's weights (no object, no complex, no big-endian)
DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN, _CLOSE = np.zeros(256, np.int8), np.zeros(256, np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_CLOSE[[ord("]"), ord("}")]] = 1


def _setting(name: str) -> str:
    return LIMITS[name][0]


def json_depth(data: bytes) -> int:
    """Deepest nesting of ``[``/``{`` in a JSON text, brackets inside strings ignored.

    Parameters
    ----------
    data : bytes
        The JSON text.

    Returns
    -------
    int
        The depth (0 for a scalar).

    Examples
    --------
    >>> json_depth(b'{"a": [1, {"b": "[[["}]}')
    3
    """
    if b"\\" in data:  # escaped quotes: cut the strings out (slower, and rare in model files)
        data = _STRING.sub(b'""', data)
    codes = np.frombuffer(data, dtype=np.uint8)
    if codes.size == 0:
        return 0
    outside = (np.cumsum(codes == ord('"')) & 1) == 0  # an odd number of quotes so far: inside a string
    steps = (_OPEN[codes].astype(np.int64) - _CLOSE[codes]) * outside
    return int(np.cumsum(steps).max(initial=0))


def load_json(data: bytes, *, model: str = "", file: str = "") -> Any:
    """Parse a JSON document after checking its size (``json_mb``) and depth (``json_depth``).

    Parameters
    ----------
    data : bytes
        The document.
    model, file : str
        Named in errors.

    Returns
    -------
    object
        The parsed document.

    Raises
    ------
    ModelFormatError
        When it is too large, too deep or not JSON.

    Examples
    --------
    >>> load_json(b'{"a": [1, 2]}', model="m-0", file="config.json")
    {'a': [1, 2]}
    """
    if len(data) > limit("json_mb") << 20:
        raise ModelFormatError(f"{len(data)} bytes exceed the JSON size limit of {limit('json_mb')} MiB "
                               f"({_setting('json_mb')})", model=model, file=file)
    brackets = data.count(b"[") + data.count(b"{")  # fewer than the limit cannot nest deeper: no scan
    depth = json_depth(data) if brackets > limit("json_depth") else 0
    if depth > limit("json_depth"):
        raise ModelFormatError(f"JSON nested {depth} levels deep (limit {limit('json_depth')}, "
                               f"{_setting('json_depth')})", model=model, file=file)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFormatError(f"not valid JSON ({type(exc).__name__}: {exc})", model=model, file=file) from None


def safetensors_header(data: bytes, *, model: str = "", file: str = "") -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
    """The tensors a safetensors file declares, after checking the header.

    The header length is bounded (``json_mb``), every dtype must be one of :data:`DTYPES`, every
    shape must be a list of non-negative whole numbers whose byte size equals its ``data_offsets``
    range, and the ranges must tile the data section exactly (no gap, no overlap, nothing past the end).

    Parameters
    ----------
    data : bytes
        The file.
    model, file : str
        Named in errors.

    Returns
    -------
    dict of str to (numpy.dtype, tuple of int)
        ``{name: (dtype, shape)}``.

    Raises
    ------
    ModelFormatError
        Naming what is wrong.

    Examples
    --------
    >>> import numpy as np; from safetensors.numpy import save
    >>> safetensors_header(save({"w": np.zeros((2, 3), np.float32)}))
    {'w': (dtype('float32'), (2, 3))}
    """
    def fail(message: str, field: str = "") -> ModelFormatError:
        return ModelFormatError(message, model=model, file=file, field=field)

    if len(data) < 8:
        raise fail(f"{len(data)} bytes: too short for a safetensors file")
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(len(data) - 8, limit("json_mb") << 20):
        raise fail(f"header length {size} exceeds the file ({len(data)} bytes) or the JSON size limit")
    header = load_json(bytes(data[8 : 8 + size]), model=model, file=file)
    if not isinstance(header, dict):
        raise fail("header is not a JSON object")
    header.pop("__metadata__", None)
    body = len(data) - 8 - size
    declared, ranges = {}, []
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise fail("expected keys dtype, shape, data_offsets", name)
        dtype = DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
        if dtype is None:
            raise fail(f"dtype {entry['dtype']!r} is not one of {sorted(DTYPES)}", name)
        shape, offsets = entry["shape"], entry["data_offsets"]
        if not (isinstance(shape, list) and len(shape) <= 8 and all(_whole(n) for n in shape)):
            raise fail(f"shape {str(shape)[:80]} is not a list of at most 8 non-negative whole numbers", name)
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_whole(n) for n in offsets)
                and offsets[0] <= offsets[1] <= body):
            raise fail(f"data_offsets {str(offsets)[:80]} are not a range inside the {body} data bytes", name)
        if math.prod(shape) * dtype.itemsize != offsets[1] - offsets[0]:
            raise fail(f"shape {shape} of {entry['dtype']} needs {math.prod(shape) * dtype.itemsize} bytes, "
                       f"data_offsets give {offsets[1] - offsets[0]}", name)
        declared[name] = (dtype, tuple(shape))
        ranges.append((offsets[0], offsets[1], name))
    end = 0
    for start, stop, name in sorted(ranges):
        if start != end:
            raise fail(f"data_offsets start at {start}, expected {end} (gap or overlap)", name)
        end = stop
    if end != body:
        raise fail(f"tensors cover {end} of the {body} data bytes")
    return declared


def load_safetensors(data: bytes, *, model: str = "", file: str = "") -> dict[str, np.ndarray]:
    """Check the header with :func:`safetensors_header`, then let safetensors read the tensors.

    Parameters
    ----------
    data : bytes
        The file.
    model, file : str
        Named in errors.

    Returns
    -------
    dict of str to numpy.ndarray
        The tensors.

    Raises
    ------
    ModelFormatError
        Naming what is wrong.

    Examples
    --------
    >>> import numpy as np; from safetensors.numpy import save
    >>> load_safetensors(save({"b": np.arange(3)}))["b"].tolist()
    [0, 1, 2]
    """
    declared = safetensors_header(data, model=model, file=file)
    try:
        arrays = load_safetensors_bytes(bytes(data))
    except SafetensorError as exc:
        raise ModelFormatError(f"unreadable safetensors data ({exc})", model=model, file=file) from None
    if {k: (v.dtype, v.shape) for k, v in arrays.items()} != declared:
        raise ModelFormatError("tensors read differ from the header", model=model, file=file)
    return arrays


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 62
