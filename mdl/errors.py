"""Exceptions raised by mdl: one small hierarchy so callers can catch exactly what they mean."""

from __future__ import annotations

from collections.abc import Sequence


class MDLError(Exception):
    """Base class of every error raised by mdl."""


class InvalidInputError(MDLError, ValueError):
    """User input that cannot be used (bad SMILES, unknown element, NaN target, wrong shape...).

    Parameters
    ----------
    message : str
        What is wrong and what is accepted.
    rows : sequence of int, optional
        The offending row positions, where the problem is tied to rows (kept in ``rows``, the first
        20 appended to the message).

    Examples
    --------
    >>> str(InvalidInputError("invalid SMILES", rows=[2, 5]))
    'invalid SMILES [rows: 2, 5]'
    """

    def __init__(self, message: str, rows: Sequence[int] | None = None):
        self.rows = list(rows) if rows is not None else []
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:20])
            more = f" (+{len(self.rows) - 20} more)" if len(self.rows) > 20 else ""
            message = f"{message} [rows: {shown}{more}]"
        super().__init__(message)


class DescriptorMismatchError(MDLError, ValueError):
    """A descriptor matrix or spec does not match what a model was trained on."""


class HubLocatedError(MDLError):
    """An error about something a hub holds, carrying where it happened as fields (as ``huggingface_hub``'s
    errors carry the repository and file): the base of :class:`HubError` and :class:`IntegrityError`.

    Parameters
    ----------
    message : str
        What went wrong and what to do (``str(err)`` is exactly this).
    hub : str
        The hub's address (a folder or ``hf://<org>/<registry>``), "" where unknown.
    model_id : str
        The model concerned, "" where none.
    file : str
        The file concerned (a name inside a model folder or a path in a repository), "" where none.
    revision : str
        The branch, tag or commit read, "" where none (a local hub has none).

    Examples
    --------
    >>> err = HubLocatedError("sha256 mismatch", hub="/srv/zoo", model_id="m-0", file="weights.safetensors")
    >>> str(err), err.hub, err.model_id, err.file, err.revision
    ('sha256 mismatch', '/srv/zoo', 'm-0', 'weights.safetensors', '')
    """

    def __init__(self, message: str = "", *, hub: str = "", model_id: str = "", file: str = "",
                 revision: str = ""):
        self.hub, self.model_id, self.file, self.revision = hub, model_id, file, revision
        super().__init__(message)

    def __str__(self) -> str:  # OSError would format (errno, strerror), KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class HubError(HubLocatedError):
    """A hub cannot be read or written (fields: :class:`HubLocatedError`).

    Examples
    --------
    >>> err = HubError("hub /srv/zoo is a file, not a hub folder", hub="/srv/zoo")
    >>> str(err), err.hub
    ('hub /srv/zoo is a file, not a hub folder', '/srv/zoo')
    """


class ModelNotFoundError(HubError, KeyError):
    """No model with this id in the hub (a ``KeyError``: the id is not a key of the hub's index).

    Parameters
    ----------
    message : str
        Which model, in which hub.
    suggestions : sequence of str, optional
        Near model ids the hub does hold (kept in ``suggestions``, appended to the message).
    hub, model_id, file, revision : str, optional
        Where (see :class:`HubLocatedError`).

    Examples
    --------
    >>> err = ModelNotFoundError("no model 'qm9-gap-nn-000' in hub /srv/zoo", suggestions=["qm9-gap-nn-0000"],
    ...                          hub="/srv/zoo", model_id="qm9-gap-nn-000")
    >>> str(err)
    "no model 'qm9-gap-nn-000' in hub /srv/zoo; did you mean qm9-gap-nn-0000?"
    >>> isinstance(err, KeyError), err.model_id
    (True, 'qm9-gap-nn-000')
    """

    def __init__(self, message: str, suggestions: Sequence[str] = (), *, hub: str = "", model_id: str = "",
                 file: str = "", revision: str = ""):
        self.suggestions = list(suggestions)
        if self.suggestions:
            message = f"{message}; did you mean {' or '.join(self.suggestions)}?"
        super().__init__(message, hub=hub, model_id=model_id, file=file, revision=revision)


class IntegrityError(HubLocatedError, ValueError):
    """A stored file does not match its recorded sha256 (corrupted or tampered): a ``ValueError``, as
    pooch's checksum mismatch is (fields: :class:`HubLocatedError`).

    Examples
    --------
    >>> err = IntegrityError("sha256 mismatch", model_id="m-0", file="weights.safetensors")
    >>> isinstance(err, ValueError), err.file
    (True, 'weights.safetensors')
    """


class ModelFormatError(IntegrityError):
    """A stored model's file is malformed, out of bounds or inconsistent: refused before anything is built.

    Parameters
    ----------
    message : str
        What is wrong.
    model, file, field : str
        Where the problem is (each may be empty); kept as attributes and named first in the message.

    Examples
    --------
    >>> str(ModelFormatError("must be finite", model="m-0", file="weights.safetensors", field="values"))
    'model m-0: weights.safetensors: values: must be finite'
    """

    def __init__(self, message: str, *, model: str = "", file: str = "", field: str = ""):
        self.model, self.field = model, field
        where = [f"model {model}" if model else "", file, field]
        super().__init__(": ".join([*(w for w in where if w), message]), model_id=model, file=file)


class HubNotFoundError(HubError, FileNotFoundError):
    """A local hub folder that does not exist; reading it creates nothing, the message says how to fill one.

    Examples
    --------
    >>> err = HubNotFoundError("hub /srv/nohub does not exist", hub="/srv/nohub")
    >>> isinstance(err, FileNotFoundError), str(err), err.hub
    (True, 'hub /srv/nohub does not exist', '/srv/nohub')
    """


class EmptyHubError(HubError, LookupError):
    """A hub that holds no model yet: it must be built or mirrored first, and the message says how.

    Examples
    --------
    >>> isinstance(EmptyHubError("hub /srv/zoo holds no model"), LookupError)
    True
    """


class RecipeError(MDLError, ValueError):
    """A zoo recipe is invalid; the message names the offending field."""


class DataUnavailableError(MDLError, FileNotFoundError):
    """A data set's file cannot be had: not in the mirror, not shipped, not cached, and not downloadable.

    Parameters
    ----------
    message : str
        What went wrong and what to do, on one line.
    dataset : str
        The data set (its folder, e.g. ``"polymers/transpolymer_Egc"``).
    url : str
        The file's pinned public address ("" where it has none: a file only a mirror holds).
    setting : str
        The environment variable that points at a local copy (e.g. ``"MDL_SHARED_DATA"``).

    Examples
    --------
    >>> err = DataUnavailableError("no network", dataset="polymers/transpolymer_Egc",
    ...                            url="https://example.org/Egc.csv", setting="MDL_SHARED_DATA")
    >>> str(err)
    'polymers/transpolymer_Egc: no network'
    >>> isinstance(err, FileNotFoundError), err.setting
    (True, 'MDL_SHARED_DATA')
    """

    def __init__(self, message: str, *, dataset: str, url: str = "", setting: str = ""):
        self.dataset, self.url, self.setting = dataset, url, setting
        super().__init__(f"{dataset}: {message}")

    def __str__(self) -> str:  # OSError would format (errno, strerror)
        return str(self.args[0]) if self.args else ""
