"""The manifest format of saved estimators (transfer, profile, stacked, mean models): a JSON record and
``manifest.json``, every file of the folder with its sha256, sub-folders (``head/``, ``source/``) listed as
``<folder>/<file>``. Reading goes through the manifest: only what it lists is read, each file verified.

>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as tmp:
...     folder = Path(tmp) / "m"; folder.mkdir()
...     write_manifest(folder, {}, "record.json", {"random_state": 3})
...     parts, record = read_record(folder, "record.json", {"random_state"}, ())
>>> record, sorted(parts[""])
({'random_state': 3}, ['record.json'])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mdl.errors import ModelFormatError
from mdl.store.files import check_manifest, read_bytes, sha256_file
from mdl.store.names import MANIFEST
from mdl.store.parse import load_json

__all__ = ["MANIFEST", "read_manifest", "read_record", "write_manifest"]


def write_manifest(folder: Path, hashes: dict[str, str], record_name: str, record: dict[str, Any]) -> None:
    """Write ``record_name`` (JSON) and ``manifest.json``: every file of the folder with its sha256.

    Parameters
    ----------
    folder : Path
        The saved model's folder.
    hashes : dict of str to str
        sha256 of every file already written, by relative path.
    record_name : str
        File name of the record.
    record : dict
        The record (JSON-able).
    """
    (folder / record_name).write_text(json.dumps(record, indent=1))
    hashes = {**hashes, record_name: sha256_file(folder / record_name)}
    (folder / MANIFEST).write_text(json.dumps(hashes, indent=1, sort_keys=True))


def read_manifest(folder: Path, record_name: str, parts: Sequence[str]) -> dict[str, dict[str, str]]:
    """``manifest.json`` of a saved transfer model, split by sub-folder; only what it lists is read afterwards.

    Parameters
    ----------
    folder : Path
        The saved model's folder.
    record_name : str
        File name of the record (listed under "").
    parts : sequence of str
        The sub-folders allowed.

    Returns
    -------
    dict
        {part: {file: sha256}}, the record file under "".

    Raises
    ------
    ModelFormatError
        For any other entry, a name that is not plain, or a missing record.
    """
    name = folder.name
    manifest = load_json(read_bytes(folder, MANIFEST, model=name), model=name, file=MANIFEST)
    if not isinstance(manifest, dict):
        raise ModelFormatError("expected a JSON object", model=name, file=MANIFEST)
    split: dict[str, dict[str, str]] = {part: {} for part in ("", *parts)}
    for key, digest in manifest.items():
        part, _, file = key.rpartition("/") if isinstance(key, str) else ("?", "", "")
        if part not in split or (part == "" and file != record_name):
            raise ModelFormatError(f"expected {record_name} or <folder>/<file> with a folder of {sorted(parts)}",
                                   model=name, file=MANIFEST, field=str(key)[:80])
        split[part][file] = digest
    for files in split.values():
        check_manifest(files, model=name, file=MANIFEST)
    if record_name not in split[""]:
        raise ModelFormatError("not listed in the manifest", model=name, file=record_name)
    return split


def read_record(folder: Path, record_name: str, keys: set[str], parts: Sequence[str]
                ) -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    """A saved model's verified manifest and its JSON record, which must hold exactly ``keys``, with a
    ``random_state`` (when among them) that is a whole number in [0, 2**32).

    Parameters
    ----------
    folder : Path
        The saved model's folder.
    record_name : str
        File name of the record.
    keys : set of str
        The record's keys.
    parts : sequence of str
        The sub-folders the manifest may list (:func:`read_manifest`).

    Returns
    -------
    parts : dict
        {part: {file: sha256}}, as :func:`read_manifest`.
    record : dict

    Raises
    ------
    ModelFormatError
        Naming the file and the field.
    """
    name = folder.name
    split = read_manifest(folder, record_name, parts)
    record = load_json(read_bytes(folder, record_name, split[""], model=name), model=name, file=record_name)
    if not isinstance(record, dict) or set(record) != keys:
        raise ModelFormatError(f"expected the keys {sorted(keys)}", model=name, file=record_name)
    seed = record.get("random_state", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ModelFormatError("expected a whole number", model=name, file=record_name, field="random_state")
    return split, record
