"""Files of a stored estimator: ``config.json``, ``weights.safetensors`` and raw blobs, with sha256.

Every write returns the sha256 of each file; every read can verify them and raises
:class:`~mdl.errors.IntegrityError` naming the file that does not match.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from mdl.errors import IntegrityError

CONFIG = "config.json"
WEIGHTS = "weights.safetensors"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_files(folder: Path, config: dict, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> dict[str, str]:
    """Write config, arrays and blobs into ``folder``; returns {file name: sha256}."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {**config, "blobs": sorted(blobs)}
    (folder / CONFIG).write_text(json.dumps(config, indent=1, sort_keys=True, default=_json_default))
    if arrays:
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(folder / WEIGHTS))
    for name, data in blobs.items():
        (folder / name).write_bytes(data)
    return {path.name: sha256_file(path) for path in sorted(folder.iterdir()) if path.is_file()}


def verify(folder: Path, hashes: dict[str, str]) -> None:
    """Check every recorded file exists and matches its sha256."""
    for name, expected in hashes.items():
        path = folder / name
        if not path.is_file():
            raise IntegrityError(f"{path}: file is missing")
        actual = sha256_file(path)
        if actual != expected:
            raise IntegrityError(
                f"{path}: sha256 mismatch (recorded {expected[:12]}…, found {actual[:12]}…); "
                "the file is corrupted or was changed after publishing"
            )


def read_files(folder: Path, hashes: dict[str, str] | None = None) -> tuple[dict, dict[str, np.ndarray], dict[str, bytes]]:
    """Read what :func:`write_files` wrote, verifying ``hashes`` first when given."""
    if hashes is not None:
        verify(folder, hashes)
    try:
        config = json.loads((folder / CONFIG).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise IntegrityError(f"{folder / CONFIG}: unreadable model config ({exc})") from exc
    arrays = load_file(str(folder / WEIGHTS)) if (folder / WEIGHTS).is_file() else {}
    blobs = {name: (folder / name).read_bytes() for name in config.get("blobs", [])}
    return config, arrays, blobs


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
