"""What every hub does: the interface :class:`~mdl.hub.local.LocalHub` (a folder) and
:class:`~mdl.hub.hf.HFHub` (a Hugging Face Hub registry) implement, and all callers use.

>>> from mdl.hub import LocalHub
>>> isinstance(LocalHub("/tmp/zoo"), Hub)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from mdl.store.loader import StoredModel

if TYPE_CHECKING:  # a hub's index is a table
    import pandas as pd

__all__ = ["Hub", "HubKind"]

#: The kinds of hub: a local folder, or a registry on a Hugging Face Hub.
HubKind = Literal["local", "hf"]


@runtime_checkable
class Hub(Protocol):
    """A zoo: an index of models, the models' verified files, and publishing into model sets.

    Attributes
    ----------
    kind : {"local", "hf"}
        Where the hub lives; two hubs of one kind with one address are the same hub.

    Examples
    --------
    >>> from mdl.hub import open_hub
    >>> hub = open_hub("/tmp/zoo")
    >>> hub.kind, isinstance(hub, Hub)
    ('local', True)
    """

    kind: HubKind

    @property
    def address(self) -> str:
        """Where the hub is (a folder path, or ``hf://org/registry[@revision]``).

        Returns
        -------
        str
            An address :func:`~mdl.hub.open_hub` opens again.
        """

    def index(self, *, missing_ok: bool = True) -> pd.DataFrame:
        """The index, one validated row per model (the columns of :data:`mdl.hub.index.COLUMNS`).

        Parameters
        ----------
        missing_ok : bool, default True
            Read a hub that does not exist yet as one without models (for writers about to create it);
            False raises :class:`~mdl.errors.HubNotFoundError` (a folder) or
            :class:`~mdl.hub.errors.RepositoryNotFoundError` (a registry) instead, creating nothing.

        Returns
        -------
        pandas.DataFrame
            Every model the hub holds.
        """

    def row(self, model_id: str) -> pd.Series:
        """The index row of one model.

        Parameters
        ----------
        model_id : str
            The model's id.

        Returns
        -------
        pandas.Series
            Its row.

        Raises
        ------
        HubNotFoundError, RepositoryNotFoundError
            When the hub does not exist.
        EmptyHubError
            When it holds no model (saying how to fill it).
        ModelNotFoundError
            When the index has no such model (suggesting near ids).
        """

    def load(self, model_id: str) -> StoredModel:
        """Load one model, every file verified against its sha256.

        Parameters
        ----------
        model_id : str
            The model's id.

        Returns
        -------
        SourceModel
            The model.
        """

    def load_many(self, model_ids: Sequence[str]) -> list[StoredModel]:
        """Load several models at once (a remote hub downloads what it lacks together).

        Parameters
        ----------
        model_ids : sequence of str
            The models' ids.

        Returns
        -------
        list of SourceModel
            The models, in the order asked.
        """

    def model_bytes(self, model_ids: Sequence[str]) -> list[dict[str, bytes]]:
        """Each model's files as published, every one verified against its sha256.

        Parameters
        ----------
        model_ids : sequence of str
            The models' ids.

        Returns
        -------
        list of dict of str to bytes
            ``{file name: bytes}`` per model, in the order asked.
        """

    def modelset_meta(self, modelset: str) -> dict[str, Any]:
        """The metadata a model set's ``modelset.json`` records (licence, description, source…).

        Parameters
        ----------
        modelset : str
            The set's name.

        Returns
        -------
        dict
            Its metadata.
        """

    def publish(self, models: Sequence[StoredModel], modelset: str, meta: dict[str, Any] | None = None,
                progress: bool = True) -> list[str]:
        """Publish models into a model set; re-publishing an identical model is a no-op.

        Parameters
        ----------
        models : sequence of SourceModel
            The models.
        modelset : str
            The set to publish into.
        meta : dict, optional
            Metadata merged into the set's record.
        progress : bool
            Show a progress bar.

        Returns
        -------
        list of str
            The models' ids.

        Raises
        ------
        HubError
            When a different model is already published under one of the ids.
        """

    def publish_files(self, models: Mapping[str, Mapping[str, bytes]], modelset: str,
                      meta: dict[str, Any] | None = None, progress: bool = True) -> list[str]:
        """Publish models given as their files (as :meth:`model_bytes` returns them), verbatim.

        Parameters
        ----------
        models : mapping of str to mapping of str to bytes
            ``{model id: {file name: bytes}}``.
        modelset : str
            The set to publish into.
        meta : dict, optional
            Metadata merged into the set's record.
        progress : bool
            Show a progress bar.

        Returns
        -------
        list of str
            The models' ids.
        """
