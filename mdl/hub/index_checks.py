"""What a hub may say about its models, checked before anything is followed: the index as a whole
when it is read, and each model's row before its folder is opened.

A hub is untrusted input: its publisher controls the index, the files and their hashes. So the index
is read with a bound on its row count, its columns, types and JSON cells are checked, and each row's
folder and file names are confined to the model's own folder before any file is opened.

>>> check_files("m-0", '{"config.json": "%s"}' % ("0" * 64))
{'config.json': '0000000000000000000000000000000000000000000000000000000000000000'}
>>> check_files("m-0", '{"../../secret.txt": "%s"}' % ("0" * 64))
Traceback (most recent call last):
...
mdl.errors.ModelFormatError: model m-0: index.parquet: files: '../../secret.txt' is not a plain file name
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from mdl.config import limit
from mdl.errors import HubError, ModelFormatError
from mdl.hub.index import COLUMNS, METRICS
from mdl.store.names import CONFIG, WEIGHTS

#: Columns added after the first hubs were published: an index without them reads them as empty.
OPTIONAL = ("aliases", "property_metrics")
_COUNTS = ("n_train", "n_test")
_JSON = ("descriptor_spec", "hyperparameters", "files", "property_metrics")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_name(kind: str, name: str) -> str:
    """A model id or model set name, checked: it becomes a folder name.

    Parameters
    ----------
    kind : str
        What the name is ("model id", "model set"), for the error.
    name : str
        The name.

    Returns
    -------
    str
        ``name``, unchanged.

    Raises
    ------
    HubError
        When it is not letters, digits, '.', '_' and '-' (at most 96, no ``..``).

    Examples
    --------
    >>> check_name("model id", "qm9-gap-nn-0000")
    'qm9-gap-nn-0000'
    """
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise HubError(f"invalid {kind} {name!r}: use letters, digits, '.', '_' and '-' (at most 96)")
    return name


def read_index(source: str | Path | IO[bytes], where: str, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Read and validate an index file.

    The row count is read from the Parquet footer and bounded (``MDL_MAX_MODELS``) before the table is.

    Parameters
    ----------
    source : str, Path or binary file
        The Parquet file.
    where : str
        What it is (hub and file), named in errors.
    extra : sequence of str
        Columns required besides :data:`~mdl.hub.index.COLUMNS` (a Hub registry's ``repo_id``, ``revision``).

    Returns
    -------
    pandas.DataFrame
        The index, validated by :func:`validate_index`.

    Raises
    ------
    HubError
        Naming ``where``, when the file is not a readable index or has too many rows.

    Examples
    --------
    >>> import io
    >>> read_index(io.BytesIO(b"not parquet"), "hub x")   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mdl.errors.HubError: hub x: not a readable index (...)
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.ParquetFile(source).metadata.num_rows
        if rows > limit("models"):
            raise HubError(f"{where}: {rows} rows, more than the limit of {limit('models')} models (MDL_MAX_MODELS)")
        frame = pd.read_parquet(source)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise HubError(f"{where}: not a readable index ({type(exc).__name__}: {exc})") from exc
    return validate_index(frame, where, extra)


def validate_index(frame: pd.DataFrame, where: str, extra: Sequence[str] = ()) -> pd.DataFrame:
    """The index with its columns, types, ids and JSON cells checked.

    Parameters
    ----------
    frame : pandas.DataFrame
        The index as read.
    where : str
        What it is (hub and file), named in errors.
    extra : sequence of str
        Columns required besides :data:`~mdl.hub.index.COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        The index; columns in :data:`OPTIONAL` that are missing are added empty.

    Raises
    ------
    HubError
        Naming the column and the model, for anything out of place.

    Examples
    --------
    >>> from mdl.hub.index import empty_index
    >>> validate_index(empty_index().drop(columns=["files"]), "hub x")
    Traceback (most recent call last):
    ...
    mdl.errors.HubError: hub x: index: column 'files' is missing
    """
    if len(frame) > limit("models"):
        raise HubError(f"{where}: {len(frame)} rows, more than the limit of {limit('models')} models "
                       "(MDL_MAX_MODELS)")
    frame = frame.reset_index(drop=True)
    for column in OPTIONAL:
        if column not in frame.columns:
            frame[column] = ""
    for column in [*COLUMNS, *extra]:
        if column not in frame.columns:
            raise HubError(f"{where}: index: column {column!r} is missing")
    ids = frame["model_id"].to_numpy()

    def fail(column: str, row: int, message: str) -> HubError:
        model = f"model {ids[row]!r}" if isinstance(ids[row], str) else f"row {row}"
        return HubError(f"{where}: index: {model}: {column}: {message}")

    for column in [*COLUMNS, *extra]:
        values = frame[column]
        if column in METRICS:
            if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                raise HubError(f"{where}: index: column {column!r} is not numeric ({values.dtype})")
        elif column in _COUNTS:
            if not pd.api.types.is_integer_dtype(values):
                raise HubError(f"{where}: index: column {column!r} is not whole numbers ({values.dtype})")
            if len(values) and values.min() < 0:
                raise fail(column, int(values.to_numpy().argmin()), "negative")
        elif pd.api.types.infer_dtype(values, skipna=False) not in ("string", "empty"):
            row = next(i for i, v in enumerate(values.to_numpy()) if not isinstance(v, str))
            raise fail(column, row, f"not text ({type(values.to_numpy()[row]).__name__})")
    for column, kind in (("model_id", "model id"), ("modelset", "model set")):
        for row, name in enumerate(frame[column].to_numpy()):
            try:
                check_name(kind, name)
            except HubError as exc:
                raise fail(column, row, str(exc)) from None
    duplicated = frame["model_id"].duplicated()
    if duplicated.any():
        raise fail("model_id", int(duplicated.to_numpy().argmax()), "listed more than once")
    for column in _JSON:
        for row, text in enumerate(frame[column].to_numpy()):
            if column == "property_metrics" and text == "":
                continue
            try:
                value = json.loads(text)
            except (ValueError, RecursionError) as exc:
                raise fail(column, row, f"not valid JSON ({type(exc).__name__})") from None
            if not isinstance(value, dict):
                raise fail(column, row, f"expected a JSON object, got {type(value).__name__}")
    return frame


def check_files(model_id: str, files: str | Mapping[str, Any], folder: Path | None = None) -> dict[str, str]:
    """A row's files map, checked before any file is opened.

    Parameters
    ----------
    model_id : str
        The row's model, named in errors.
    files : str or mapping
        ``{file name: sha256}``, as JSON text or a mapping.
    folder : Path, optional
        The model's folder: then a ``weights.safetensors`` in it must be listed.

    Returns
    -------
    dict of str to str
        The map, once every name is a plain file name, every hash a sha256 and ``config.json`` listed.

    Raises
    ------
    ModelFormatError
        Naming the model and the ``files`` field.

    Examples
    --------
    >>> check_files("m-0", "{}")
    Traceback (most recent call last):
    mdl.errors.ModelFormatError: model m-0: index.parquet: files: config.json is not listed
    """
    def fail(message: str) -> ModelFormatError:
        return ModelFormatError(message, model=model_id, file="index.parquet", field="files")

    try:
        mapping = json.loads(files) if isinstance(files, str) else files
    except (ValueError, RecursionError):
        raise fail("not valid JSON") from None
    if not isinstance(mapping, Mapping):
        raise fail(f"expected a JSON object, got {type(mapping).__name__}")
    for name, sha in mapping.items():
        if not isinstance(name, str) or not _FILE.match(name):
            raise fail(f"{name!r} is not a plain file name")
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise fail(f"{name}: {sha!r} is not a sha256")
    if CONFIG not in mapping:
        raise fail(f"{CONFIG} is not listed")
    if folder is not None and WEIGHTS not in mapping and (folder / WEIGHTS).exists():
        raise fail(f"{WEIGHTS} is in the model's folder but not listed")
    return dict(mapping)


def check_path(model_id: str, path: Any, expected: str) -> str:
    """A row's ``path``, if it is the folder its model id and model set give (never ``..`` or absolute).

    Parameters
    ----------
    model_id : str
        The row's model.
    path : object
        The row's ``path`` cell.
    expected : str
        The folder it must be.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    ModelFormatError
        When it is another folder.

    Examples
    --------
    >>> check_path("m-0", "s/models/m-0", "s/models/m-0")
    's/models/m-0'
    """
    if path != expected:
        raise ModelFormatError(f"{path!r} is not the model's folder {expected!r}", model=model_id,
                               file="index.parquet", field="path")
    return path


def confined(root: Path, path: Path, model_id: str, field: str) -> Path:
    """``path``, if it stays inside ``root`` once symbolic links are followed.

    Parameters
    ----------
    root : Path
        The hub's folder, resolved.
    path : Path
        A model's folder or file.
    model_id : str
        The model, named in errors.
    field : str
        The index field the path comes from, named in errors.

    Returns
    -------
    Path
        ``path`` resolved.

    Raises
    ------
    ModelFormatError
        When it leads outside ``root``.

    Examples
    --------
    >>> confined(Path("/srv/zoo"), Path("/srv/zoo/s/../../../etc"), "m-0", "path")
    Traceback (most recent call last):
    mdl.errors.ModelFormatError: model m-0: index.parquet: path: /srv/zoo/s/../../../etc leads outside the hub (/etc)
    """
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise ModelFormatError(f"{path} leads outside the hub ({resolved})", model=model_id,
                               file="index.parquet", field=field)
    return resolved


def check_model_id(model: Any, model_id: str) -> Any:
    """``model``, if the id stored inside it is the id its index row gives.

    Parameters
    ----------
    model : SourceModel
        The model as loaded.
    model_id : str
        The id its index row gives.

    Returns
    -------
    SourceModel
        ``model``.

    Raises
    ------
    ModelFormatError
        When the ids differ.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> check_model_id(SimpleNamespace(model_id="m-1"), "m-0")
    Traceback (most recent call last):
    mdl.errors.ModelFormatError: model m-0: config.json: model_id: the stored model calls itself 'm-1', its index row 'm-0'
    """
    if model.model_id != model_id:
        raise ModelFormatError(f"the stored model calls itself {model.model_id!r}, its index row {model_id!r}",
                               model=model_id, file=CONFIG, field="model_id")
    return model
