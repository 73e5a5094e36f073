"""Read any model folder that mdl writes, telling the kinds apart by the record each one keeps.

A source model (pulled, published or built) keeps ``config.json``; a transfer model ``transfer.json``; a
stacked, profile or mean model ``stack.json``, ``profile.json``, ``mean.json``; an ensemble one
``member-*`` folder per member. Scratch and fine-tuned models are source-model folders whose card says what
they are. :func:`load_saved` reads whichever it finds, with the checks of that kind's own ``load``.

Examples
--------
>>> saved_kind("/nonexistent")
Traceback (most recent call last):
mdl.errors.InvalidInputError: /nonexistent is not a folder
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdl.errors import InvalidInputError
from mdl.store.names import CONFIG

if TYPE_CHECKING:
    from mdl.hub import Hub

#: The record file of each saved kind other than a source model, and the class that reads it.
RECORDS = {"transfer.json": "transfer", "stack.json": "stacked", "profile.json": "profile", "mean.json": "mean"}
#: What each kind is, in words, for messages.
DESCRIPTIONS = {
    "source": "a source model (a zoo model, as pulled or built)",
    "transfer": "a transfer model (a source's features and a head, as `mdl transfer --out` saves it)",
    "stacked": "a stacked transfer model (a head on several sources' predictions)",
    "profile": "a profile model (a head on every screened source's prediction)",
    "mean": "a mean of board rows",
    "ensemble": "an ensemble of transfer models",
}


def saved_kind(folder: str | Path) -> str:
    """What a saved model folder holds, from its record file alone (nothing is loaded).

    Parameters
    ----------
    folder : str or Path
        A folder written by a model's ``save``.

    Returns
    -------
    str
        "source", "transfer", "stacked", "profile", "mean" or "ensemble" (scratch and fine-tuned models are
        saved as source models).

    Raises
    ------
    InvalidInputError
        When ``folder`` is not a folder, or holds none of the record files.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "transfer.json").write_text("{}")
    ...     saved_kind(folder)
    'transfer'
    """
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise InvalidInputError(f"{folder} is not a folder")
    for record, kind in RECORDS.items():
        if (path / record).is_file():
            return kind
    if (path / CONFIG).is_file():
        return "source"
    if any(p.is_dir() for p in path.glob("member-*")):
        return "ensemble"
    raise InvalidInputError(f"{folder} holds no saved model (none of {CONFIG}, {', '.join(RECORDS)} or member-* "
                            "folders): save one with `mdl transfer --out`, `mdl screen --save-best` or `model.save()`")


def load_saved(folder: str | Path, hub: str | Path | Hub | None = None) -> Any:
    """Load a saved model of any kind, verified as that kind's ``load`` does.

    Parameters
    ----------
    folder : str or Path
        A folder written by a model's ``save``.
    hub : str, Path, Hub or None
        Where profile and mean models find the sources they name (default: the default hub).

    Returns
    -------
    estimator
        A fitted model with ``predict``: :class:`~mdl.models.source.SourceModel` (zoo, scratch and fine-tuned
        models are saved as source models), :class:`~mdl.transfer_learning.TransferModel`,
        :class:`~mdl.transfer_learning.StackedTransferModel`,
        :class:`~mdl.transfer_learning.ProfileModel`, :class:`~mdl.transfer_learning.MeanModel` or
        :class:`~mdl.transfer_learning.TransferEnsemble`.

    Raises
    ------
    InvalidInputError
        When the folder holds no saved model.
    ModelFormatError, IntegrityError
        When it holds one that does not verify.

    Examples
    --------
    >>> model = load_saved("my-model")        # doctest: +SKIP
    >>> model.predict(["CCO", "c1ccccc1"])    # doctest: +SKIP
    """
    from mdl import transfer_learning as tl
    from mdl.models.source import SourceModel

    kind = saved_kind(folder)
    if kind == "source":
        return SourceModel.load(folder)
    if kind in ("profile", "mean"):
        return (tl.ProfileModel if kind == "profile" else tl.MeanModel).load(folder, hub=hub)
    return {"transfer": tl.TransferModel, "stacked": tl.StackedTransferModel,
            "ensemble": tl.TransferEnsemble}[kind].load(folder)
