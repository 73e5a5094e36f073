"""The one bounded, verified reader (and the writer) of a model folder: ``config.json``,
``weights.safetensors`` and raw blobs, with sha256.

Every write returns the sha256 of each file. Reading is confined and bounded: with a pinned manifest
(``hashes``, {file name: sha256}) only the files it lists are read, ``config.json`` must be listed,
every blob the config names must be listed, and a ``weights.safetensors`` lying in the folder but
missing from the manifest is refused (unverified weights never load). Names must be plain file names
(no ``/``, ``..`` or absolute paths), a symbolic link may not lead out of the model folder (or, in a
Hugging Face cache, out of the repository's cache folder, whose snapshots link into ``blobs/``),
sizes are checked with ``stat`` before reading (``MDL_MAX_JSON_MB`` for JSON files,
``MDL_MAX_FILE_MB`` for the others), and each file is read once: the bytes hashed are the bytes parsed.
Failures raise :class:`~mdl.errors.IntegrityError` when the files are not the ones recorded (a sha256
mismatch, or a file the manifest lists that is missing), and :class:`~mdl.errors.ModelFormatError` for
anything else (a link out of the folder, not a regular file, over its size cap, growing while read,
unreadable), each naming the model and the file.

The hubs read models' bytes through :func:`read_verified` and :func:`file_hashes`, the models and saved
estimators through :func:`read_files` and :func:`read_bytes`: one reader, one set of errors and caps.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from mdl.config import LIMITS, limit
from mdl.errors import IntegrityError, ModelFormatError
from mdl.store.names import CONFIG, WEIGHTS
from mdl.store.parse import load_json, load_safetensors

__all__ = ["CONFIG", "WEIGHTS", "check_manifest", "file_hashes", "plain_name", "read_bytes", "read_files",
           "read_verified", "sha256_file", "verify", "write_files"]

_HEX = re.compile(r"[0-9a-f]{64}")
_MAX_FILES = 256


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in chunks.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        The hex digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_files(folder: Path, config: dict, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> dict[str, str]:
    """Write a model's config, arrays and blobs into a folder.

    Parameters
    ----------
    folder : Path
        The folder (created).
    config : dict
        Written as ``config.json``.
    arrays : dict of str to numpy.ndarray
        Written as ``weights.safetensors`` (when not empty).
    blobs : dict of str to bytes
        Written as files of those names.

    Returns
    -------
    dict of str to str
        ``{file name: sha256}`` of every file written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = {**config, "blobs": sorted(blobs)}
    (folder / CONFIG).write_text(json.dumps(config, indent=1, sort_keys=True, default=_json_default))
    if arrays:
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(folder / WEIGHTS))
    for name, data in blobs.items():
        (folder / name).write_bytes(data)
    return {path.name: sha256_file(path) for path in sorted(folder.iterdir()) if path.is_file()}


def check_manifest(hashes: object, *, model: str = "", file: str = "") -> dict[str, str]:
    """A manifest of file hashes, checked.

    Parameters
    ----------
    hashes : object
        ``{plain file name: sha256 hex}`` as read.
    model, file : str
        Named in errors.

    Returns
    -------
    dict of str to str
        ``hashes``.

    Raises
    ------
    ModelFormatError
        Naming what is wrong.

    Examples
    --------
    >>> check_manifest({"../x": "0" * 64}, model="m-0")
    Traceback (most recent call last):
    mdl.errors.ModelFormatError: model m-0: '../x': not a plain file name
    """
    if not isinstance(hashes, dict):
        raise ModelFormatError(f"file hashes must be a JSON object, got {type(hashes).__name__}", model=model,
                               file=file)
    if len(hashes) > _MAX_FILES:
        raise ModelFormatError(f"{len(hashes)} files listed (at most {_MAX_FILES})", model=model, file=file)
    for name, digest in hashes.items():
        plain_name(name, model=model)
        if not isinstance(digest, str) or not _HEX.fullmatch(digest):
            raise ModelFormatError("sha256 must be 64 lowercase hex digits", model=model, file=file or name,
                                   field=name if file else "")
    return hashes


def plain_name(name: object, *, model: str = "") -> str:
    """``name``, if it is a plain file name inside a folder (no separators, not ``.``/``..``).

    Parameters
    ----------
    name : object
        The name.
    model : str
        Named in errors.

    Returns
    -------
    str
        ``name``.

    Raises
    ------
    ModelFormatError
        For anything else.

    Examples
    --------
    >>> plain_name("config.json")
    'config.json'
    """
    if (not isinstance(name, str) or not name or len(name) > 255 or name in (".", "..")
            or any(c in name for c in "/\\\0")):
        raise ModelFormatError("not a plain file name", model=model, file=repr(name)[:80])
    return name


def read_files(folder: Path, hashes: dict[str, str] | None = None, *,
               model: str = "") -> tuple[dict, dict[str, np.ndarray], dict[str, bytes]]:
    """Read what :func:`write_files` wrote, confined, bounded and verified.

    Without ``hashes`` (a user's own folder) the same structural checks apply. The arrays' shapes and
    values are checked later, against the config, by the check registered for the estimator's class
    (:func:`mdl.store.registry.check_stored`).

    Parameters
    ----------
    folder : Path
        The model's folder.
    hashes : dict of str to str, optional
        The pinned manifest: only listed files are read and each must match its sha256.
    model : str
        Named in errors.

    Returns
    -------
    tuple of (dict, dict of str to numpy.ndarray, dict of str to bytes)
        The config, the arrays and the blobs.

    Raises
    ------
    ModelFormatError, IntegrityError
        Naming the model and file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFormatError(f"{folder}: no such model folder", model=model)
    root = _confinement_root(folder)
    if hashes is not None:
        check_manifest(hashes, model=model)
        if CONFIG not in hashes:
            raise ModelFormatError("not listed in the file hashes (the manifest must list it)", model=model,
                                   file=CONFIG)
    config = load_json(_read(folder, root, CONFIG, hashes, model), model=model, file=CONFIG)
    if not isinstance(config, dict):
        raise ModelFormatError("expected a JSON object", model=model, file=CONFIG)
    names = config.get("blobs", [])
    if not isinstance(names, list) or len(names) > _MAX_FILES:
        raise ModelFormatError("expected a list of blob file names", model=model, file=CONFIG, field="blobs")
    for name in names:
        if plain_name(name, model=model) in (CONFIG, WEIGHTS):
            raise ModelFormatError(f"blob may not be called {name}", model=model, file=CONFIG, field="blobs")
    if hashes is not None:
        missing = [n for n in names if n not in hashes]
        if missing:
            raise ModelFormatError("not listed in the file hashes (the manifest must list every file the "
                                   "config names)", model=model, file=missing[0])
        if WEIGHTS not in hashes and (folder / WEIGHTS).exists():
            raise ModelFormatError("present but not listed in the file hashes: refusing unverified weights",
                                   model=model, file=WEIGHTS)
    wanted = WEIGHTS in hashes if hashes is not None else (folder / WEIGHTS).exists()
    if wanted:
        arrays = load_safetensors(_read(folder, root, WEIGHTS, hashes, model), model=model, file=WEIGHTS)
    else:
        arrays = {}
    blobs = {name: _read(folder, root, name, hashes, model) for name in names}
    for name in set(hashes or ()) - {CONFIG, WEIGHTS, *names}:  # listed but not parsed: still verified
        _read(folder, root, name, hashes, model)
    return config, arrays, blobs


def verify(folder: Path, hashes: dict[str, str], *, model: str = "") -> None:
    """Check that every file ``hashes`` lists is a confined, bounded plain file matching its sha256.

    Parameters
    ----------
    folder : Path
        The model's folder.
    hashes : dict of str to str
        The manifest.
    model : str
        Named in errors.

    Raises
    ------
    ModelFormatError, IntegrityError
        Naming the model and file.
    """
    folder = Path(folder)
    root = _confinement_root(folder)
    for name in check_manifest(hashes, model=model):
        _read(folder, root, name, hashes, model)


def read_bytes(folder: Path, name: str, hashes: dict[str, str] | None = None, *, model: str = "") -> bytes:
    """One file of a model folder, confined, bounded and verified, read once.

    Parameters
    ----------
    folder : Path
        The model's folder.
    name : str
        The file.
    hashes : dict of str to str, optional
        The manifest: the file must be listed, and match its sha256.
    model : str
        Named in errors.

    Returns
    -------
    bytes
        The file's content.

    Raises
    ------
    ModelFormatError, IntegrityError
        Naming the model and file.
    """
    folder = Path(folder)
    if hashes is not None and name not in hashes:
        raise ModelFormatError("not listed in the file hashes", model=model, file=name)
    return _read(folder, _confinement_root(folder), plain_name(name, model=model), hashes, model)


def read_verified(folder: Path, files: Mapping[str, str], model_id: str) -> dict[str, bytes]:
    """The bytes of every file a model's manifest lists, each read once and checked against its sha256.

    What mirroring copies: the bytes that were published, never a re-saved model.

    Parameters
    ----------
    folder : Path
        The model's folder.
    files : mapping of str to str
        ``{file name: sha256}``.
    model_id : str
        The model, named in errors.

    Returns
    -------
    dict of str to bytes
        ``{file name: bytes}``.

    Raises
    ------
    IntegrityError
        When a file is missing or its hash differs.
    ModelFormatError
        For a name that is not plain, a link out of the folder, a file over its cap or growing while read.

    Examples
    --------
    >>> read_verified(Path("/nonexistent"), {"config.json": "0" * 64}, "m-0")
    Traceback (most recent call last):
    mdl.errors.IntegrityError: model m-0: /nonexistent/config.json: file is missing
    """
    folder = Path(folder)
    hashes = check_manifest(dict(files), model=model_id)
    root = _confinement_root(folder)
    return {name: _read(folder, root, name, hashes, model_id) for name in hashes}


def file_hashes(folder: Path, model_id: str) -> dict[str, str]:
    """The sha256 of the files in a model folder as they are now, each read as :func:`read_files` reads.

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
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "config.json").write_text("{}")
    ...     file_hashes(Path(tmp), "m-0")["config.json"][:12]
    '44136fa355b3'
    """
    folder = Path(folder)
    root = _confinement_root(folder)
    return {p.name: hashlib.sha256(_read(folder, root, p.name, None, model_id)).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def _read(folder: Path, root: Path, name: str, hashes: Mapping[str, str] | None, model: str) -> bytes:
    """The bytes of ``folder/name`` after the confinement and size checks, verified against ``hashes``."""
    path = folder / name
    setting = "json_mb" if name.endswith(".json") else "file_mb"
    cap = limit(setting) << 20
    try:
        real = path.resolve(strict=True)
        if not real.is_relative_to(root):
            raise ModelFormatError(f"links outside the model folder ({real})", model=model, file=name)
        info = real.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ModelFormatError("not a regular file", model=model, file=name)
        if info.st_size > cap:
            raise ModelFormatError(f"{info.st_size} bytes exceed the limit of {limit(setting)} MiB "
                                   f"({LIMITS[setting][0]})", model=model, file=name, field="size")
        with open(real, "rb") as handle:  # one byte more than stat said: a file growing meanwhile shows
            data = handle.read(info.st_size + 1)
    except FileNotFoundError:
        if hashes is not None:  # recorded but gone: not the files that were published
            raise IntegrityError(f"model {model}: {path}: file is missing") from None
        raise ModelFormatError(f"{path}: file is missing", model=model, file=name) from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop in resolve()
        raise ModelFormatError(f"{path}: unreadable ({exc})", model=model, file=name) from None
    if len(data) > info.st_size:
        raise ModelFormatError("changed while it was read", model=model, file=name)
    if hashes is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != hashes[name]:
            raise IntegrityError(
                f"model {model}: {path}: sha256 mismatch (recorded {hashes[name][:12]}…, found {actual[:12]}…); "
                "the file is corrupted or was changed after publishing"
            )
    return data


def _confinement_root(folder: Path) -> Path:
    """The folder links may point into: the model folder itself, or for a folder inside a Hugging Face
    cache snapshot (``…/snapshots/<commit>/…``, files linked to ``…/blobs/``) the repository's cache folder."""
    real = folder.resolve()
    for parent in real.parents:
        if parent.name == "snapshots" and (parent.parent / "blobs").is_dir():
            return parent.parent
    return real


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
