"""Models as their files' bytes: read and verified from a model folder, staged verbatim for publishing.

This is what mirroring copies: the bytes that were published, never a re-saved model, so a model
that verifies at the source verifies at the destination whatever library versions wrote or read it.
Staging still loads each model from its bytes, so nothing that does not parse is published.

>>> files = LocalHub("/srv/zoo").model_bytes(["qm9-gap-nn-0000"])[0]   # doctest: +SKIP
>>> other.publish_files({"qm9-gap-nn-0000": files}, modelset="qm9-gap")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mdl.config import limit
from mdl.errors import IntegrityError, ModelFormatError
from mdl.hub.index import index_row
from mdl.hub.validate import check_files, check_model_id, check_name


def read_verified(folder: Path, files: Mapping[str, str], model_id: str) -> dict[str, bytes]:
    """The bytes of every file of a model, each read once and checked against its sha256.

    Parameters
    ----------
    folder : Path
        The model's folder.
    files : mapping of str to str
        ``{file name: sha256}``, names already checked.
    model_id : str
        The model, named in errors.

    Returns
    -------
    dict of str to bytes
        ``{file name: bytes}``.

    Raises
    ------
    IntegrityError
        Naming the model and the file, when one is missing or its hash differs.

    Examples
    --------
    >>> read_verified(Path("/nonexistent"), {"config.json": "0" * 64}, "m-0")
    Traceback (most recent call last):
    mdl.errors.IntegrityError: model m-0: /nonexistent/config.json: file is missing
    """
    out = {}
    for name, expected in files.items():
        data = _read(folder / name, model_id)
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise IntegrityError(f"model {model_id}: {folder / name}: sha256 mismatch (recorded {expected[:12]}…, "
                                 f"found {actual[:12]}…); the file is corrupted or was changed after publishing")
        out[name] = data
    return out


def file_hashes(folder: Path, model_id: str) -> dict[str, str]:
    """The sha256 of the files in a model folder as they are now.

    Parameters
    ----------
    folder : Path
        The model's folder.
    model_id : str
        The model, named in errors.

    Returns
    -------
    dict of str to str
        ``{file name: sha256}``, sorted by name.

    Examples
    --------
    >>> file_hashes(model_folder, "qm9-gap-nn-0000")   # doctest: +SKIP
    """
    return {p.name: hashlib.sha256(_read(p, model_id)).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _read(path: Path, model_id: str) -> bytes:
    """A model file's bytes, refused unread when it is larger than ``MDL_MAX_FILE_MB``."""
    try:
        size = path.stat().st_size
        if size > limit("file_mb") << 20:
            raise ModelFormatError(f"{size} bytes, more than {limit('file_mb')} MiB (MDL_MAX_FILE_MB)",
                                   model=model_id, file=path.name, field="size")
        return path.read_bytes()
    except FileNotFoundError:
        raise IntegrityError(f"model {model_id}: {path}: file is missing") from None
    except OSError as exc:
        raise IntegrityError(f"model {model_id}: {path}: unreadable ({exc})") from exc


def stage(models: Mapping[str, Mapping[str, bytes]], staging: Path, modelset: str,
          path_of: Callable[[str], str]) -> list[dict[str, Any]]:
    """Write models' files verbatim into a staging folder and load each back from them.

    Parameters
    ----------
    models : mapping of str to mapping of str to bytes
        ``{model id: {file name: bytes}}``.
    staging : Path
        The folder (``<staging>/<model id>`` is written).
    modelset : str
        The set they are published into.
    path_of : callable
        Model id → its folder in the destination hub.

    Returns
    -------
    list of dict
        The index rows to publish.

    Raises
    ------
    ModelFormatError
        When a model does not parse, or does not call itself by its id.

    Examples
    --------
    >>> rows = stage({"m-0": files}, staging, "s", lambda m: f"s/models/{m}")   # doctest: +SKIP
    """
    from mdl.models.source import SourceModel  # on use: it needs torch

    rows = []
    for model_id, files in models.items():
        check_name("model id", model_id)
        hashes = check_files(model_id, {name: hashlib.sha256(data).hexdigest() for name, data in files.items()})
        folder = staging / model_id
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        model = check_model_id(SourceModel.load(folder, hashes), model_id)
        rows.append(index_row(model, modelset, path_of(model_id), hashes))
    return rows
