"""The reader that turns a verified model folder into a model, set from above so the hubs import no model code.

Hubs say where a model's files are and fetch them (``folder`` and its pinned ``{file: sha256}``); what
the files mean is the models' business. The package root (``mdl/__init__.py``) sets the reader once:
a function that hands the folder to :meth:`mdl.models.source.SourceModel.load`, importing it (and
torch) only when a model is first read. A hub calls :func:`read_model`.

>>> from pathlib import Path
>>> seen = []
>>> previous = use_model_reader(lambda folder, files: seen.append((folder.name, sorted(files))) or "model")
>>> read_model(Path("/hub/s/models/m-0"), {"config.json": "0" * 64})
'model'
>>> seen
[('m-0', ['config.json'])]
>>> _ = use_model_reader(previous)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from mdl.errors import MDLError

__all__ = ["ModelReader", "StoredModel", "read_model", "use_model_reader"]

#: ``reader(folder, files) -> model``: read a model folder, every listed file verified against its sha256.
ModelReader = Callable[[Path, dict[str, str]], Any]


class StoredModel(Protocol):
    """What a hub needs of a model it publishes: its id and card, and writing its files into a folder.

    The index row also reads the model's ``descriptor``, ``family`` and ``properties``
    (:func:`mdl.hub.index.index_row`); :class:`~mdl.models.source.SourceModel` is the one implementation.
    """

    model_id: str
    info: dict[str, Any]

    def save(self, folder: str | Path) -> dict[str, str]:
        """Write the model's files into a folder.

        Parameters
        ----------
        folder : str or Path
            The folder.

        Returns
        -------
        dict of str to str
            ``{file name: sha256}`` of the files written.
        """


_reader: list[ModelReader] = []


def use_model_reader(reader: ModelReader | None) -> ModelReader | None:
    """Set the function that reads a model folder.

    Parameters
    ----------
    reader : callable or None
        ``reader(folder, files) -> model``; None unsets it.

    Returns
    -------
    callable or None
        The reader set before.
    """
    previous = _reader[0] if _reader else None
    _reader[:] = [] if reader is None else [reader]
    return previous


def read_model(folder: Path, files: Mapping[str, str]) -> Any:
    """The model in a folder, read by the reader set with :func:`use_model_reader`.

    Parameters
    ----------
    folder : Path
        The model's folder.
    files : mapping of str to str
        ``{file name: sha256}``: only these files are read, each verified.

    Returns
    -------
    object
        The model (a :class:`~mdl.models.source.SourceModel`).

    Raises
    ------
    MDLError
        When no reader is set (``import mdl`` sets it).
    ModelFormatError, IntegrityError
        From the reader, naming the model and file.
    """
    if not _reader:
        raise MDLError("no reader of model folders is set; `import mdl` sets it (mdl.store.use_model_reader)")
    return _reader[0](Path(folder), dict(files))
