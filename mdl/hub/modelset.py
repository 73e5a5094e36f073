"""The files every hub holds beside the models: the index's file name, and the model-set record
``modelset.json`` (the set's metadata and each model's folder and file hashes), written and read here
only.

>>> rows = pd.DataFrame({"model_id": ["m-0"], "files": ['{"config.json": "ab"}']})
>>> record = modelset_record("s", rows, {"license": "cc-by-4.0"})
>>> read_modelset(record, "s")["models"]["m-0"]["path"]
'models/m-0'
>>> record_meta(record), record_meta(None), record_meta(b"not json")
({'license': 'cc-by-4.0'}, {}, {})
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pandas as pd

from mdl.errors import ModelFormatError
from mdl.store.parse import load_json

__all__ = ["INDEX", "MODELSET", "README", "modelset_record", "read_modelset", "record_meta", "recorded_files"]

#: The index of a hub (a local folder's root, a Hub registry's repository).
INDEX = "index.parquet"
#: A model set's record: its metadata and its models' folders and file hashes.
MODELSET = "modelset.json"
#: A model set's (and a registry's) card.
README = "README.md"


def modelset_record(modelset: str, rows: pd.DataFrame, meta: dict[str, Any]) -> bytes:
    """The bytes of ``modelset.json`` for a set's index rows.

    Parameters
    ----------
    modelset : str
        The set's name.
    rows : pandas.DataFrame
        The set's index rows (``model_id`` and ``files`` are read).
    meta : dict
        The set's metadata (licence, description, source…).

    Returns
    -------
    bytes
        Sorted, indented JSON: ``{"modelset", "meta", "models": {id: {"path", "files"}}}``.

    Examples
    --------
    >>> modelset_record("s", pd.DataFrame({"model_id": [], "files": []}), {})[:14]
    b'{\\n "meta": {},'
    """
    body = {"modelset": modelset, "meta": meta,
            "models": {r.model_id: {"path": f"models/{r.model_id}", "files": json.loads(r.files)}
                       for r in rows.itertuples()}}
    return json.dumps(body, indent=1, sort_keys=True).encode()


def read_modelset(data: bytes, where: str) -> dict[str, Any]:
    """A ``modelset.json`` read as untrusted input (bounded size and depth, an object).

    Parameters
    ----------
    data : bytes
        The file's content.
    where : str
        What it is read from (the model set or repository), for errors.

    Returns
    -------
    dict
        The record; ``meta`` and ``models`` are objects (empty when absent).

    Raises
    ------
    ModelFormatError
        Naming ``where`` and the file, when it is not such a JSON object.

    Examples
    --------
    >>> read_modelset(b"[]", "s")
    Traceback (most recent call last):
    mdl.errors.ModelFormatError: model s: modelset.json: meta: expected a JSON object with 'meta' and 'models' objects
    """
    record = load_json(data, model=where, file=MODELSET)
    if not isinstance(record, dict) or not all(isinstance(record.get(k, {}), dict) for k in ("meta", "models")):
        raise ModelFormatError("expected a JSON object with 'meta' and 'models' objects", model=where, file=MODELSET,
                               field="meta")
    return {**record, "meta": record.get("meta", {}), "models": record.get("models", {})}


def record_meta(data: bytes | None) -> dict[str, Any]:
    """The ``meta`` of a ``modelset.json``, empty when it is absent or unreadable.

    Parameters
    ----------
    data : bytes or None
        The file's content, None where there is no file.

    Returns
    -------
    dict
        The set's metadata.

    Examples
    --------
    >>> record_meta(b'{"meta": {"source": "QM9"}}')
    {'source': 'QM9'}
    """
    if data is None:
        return {}
    try:
        return read_modelset(data, "modelset")["meta"]
    except ModelFormatError:
        return {}


def recorded_files(data: bytes | None, where: str) -> dict[str, Any]:
    """Model id → the files map a ``modelset.json`` records for it (still unchecked), empty when the
    file is absent or unreadable.

    Parameters
    ----------
    data : bytes or None
        The file's content, None where there is no file.
    where : str
        What it is read from, for errors.

    Returns
    -------
    dict
        ``{model id: files}``, for every entry that is an object.

    Examples
    --------
    >>> recorded_files(b'{"models": {"m-0": {"files": {"config.json": "ab"}}, "m-1": 3}}', "s")
    {'m-0': {'config.json': 'ab'}}
    """
    if data is None:
        return {}
    try:
        models = read_modelset(data, where)["models"]
    except ModelFormatError:
        return {}
    return {model_id: entry.get("files") for model_id, entry in models.items() if isinstance(entry, dict)}


def __getattr__(name: str) -> Any:
    """``read_record``, the old name of :func:`read_modelset` (it named the store's manifest reader too), served
    one release with a ``DeprecationWarning``.

    Parameters
    ----------
    name : str
        The attribute asked for.

    Returns
    -------
    Any
        :func:`read_modelset` for ``read_record``.
    """
    if name == "read_record":
        warnings.warn("mdl.hub.modelset.read_record moved to mdl.hub.modelset.read_modelset; the old name goes in the "
                      "next release of mdl", DeprecationWarning, stacklevel=2)
        return read_modelset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
