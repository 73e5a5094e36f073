"""Models given as their files' bytes, staged verbatim for publishing.

This is what mirroring copies: the bytes that were published (read and verified by
:func:`mdl.store.files.read_verified`), never a re-saved model, so a model that verifies at the source
verifies at the destination whatever library versions wrote or read it. Staging still reads each model
from its bytes (:func:`mdl.store.loader.read_model`), so nothing that does not parse is published.

>>> files = LocalHub("/srv/zoo").model_bytes(["qm9-gap-nn-0000"])[0]   # doctest: +SKIP
>>> other.publish_files({"qm9-gap-nn-0000": files}, modelset="qm9-gap")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mdl.hub.index import index_row
from mdl.hub.index_checks import check_files, check_model_id, check_name
from mdl.store.loader import read_model


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
    rows = []
    for model_id, files in models.items():
        check_name("model id", model_id)
        hashes = check_files(model_id, {name: hashlib.sha256(data).hexdigest() for name, data in files.items()})
        folder = staging / model_id
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        model = check_model_id(read_model(folder, hashes), model_id)
        rows.append(index_row(model, modelset, path_of(model_id), hashes))
    return rows
