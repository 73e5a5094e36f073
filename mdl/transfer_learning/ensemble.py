"""Several transfer models as one regressor: the mean of their predictions, and their spread
(:meth:`Leaderboard.ensemble <mdl.screening.leaderboard.Leaderboard.ensemble>` builds one from a board)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from mdl.errors import InvalidInputError, MDLError
from mdl.hub import Hub
from mdl.models.source import SourceModel
from mdl.transfer_learning.model import TransferModel

__all__ = ["TransferEnsemble"]


class TransferEnsemble(RegressorMixin, BaseEstimator):
    """Several transfer models as one regressor: the mean of their predictions, and their spread.

    Parameters
    ----------
    sources : sequence of str or SourceModel
        One member per source.
    head : str or BaseEstimator, default "rf"
        The head of every member.
    layers : int, sequence of int or "all", default -1
        Hidden layers used as neural descriptors.
    hub : str, Path, Hub or None
        Where ids are looked up.
    random_state : int, default 0

    Examples
    --------
    >>> ens = TransferEnsemble(["qm9-gap-nn-0001", "qm9-homo-nn-0004"], head="rf").fit(smiles, y)  # doctest: +SKIP
    >>> mean, spread = ens.predict(new_smiles, return_std=True)                                     # doctest: +SKIP
    """

    def __init__(self, sources: Sequence[str | SourceModel] = (), head: str | BaseEstimator = "rf",
                 layers: int | Sequence[int] | str = -1, hub: str | Path | Hub | None = None, random_state: int = 0):
        self.sources = sources
        self.head = head
        self.layers = layers
        self.hub = hub
        self.random_state = random_state

    @classmethod
    def from_models(cls, models: Sequence[TransferModel]) -> TransferEnsemble:
        """An ensemble of already fitted transfer models.

        Parameters
        ----------
        models : sequence of TransferModel
            Fitted members (at least one).

        Returns
        -------
        TransferEnsemble
        """
        if not models:
            raise InvalidInputError("an ensemble needs at least one model")
        first = models[0]
        ensemble = cls([m.source_ for m in models], head=first.head, layers=first.layers,
                       random_state=first.random_state)
        ensemble.members_ = list(models)
        return ensemble

    def fit(self, X: Any, y: Any) -> TransferEnsemble:
        """Fit one :class:`TransferModel` per source on ``(X, y)`` (no CV).

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix
        y : array-like of shape (n_samples,)

        Returns
        -------
        TransferEnsemble
            ``self``, with ``members_``.
        """
        if not self.sources:
            raise InvalidInputError("an ensemble needs at least one source")
        self.members_ = [TransferModel(s, head=self.head, layers=self.layers, cv=None, hub=self.hub,
                                       random_state=self.random_state).fit(X, y) for s in self.sources]
        return self

    def member_predictions(self, X: Any) -> np.ndarray:
        """Each member's prediction, descriptors computed once per spec.

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix

        Returns
        -------
        ndarray of shape (n_members, n_samples)
        """
        check_is_fitted(self, "members_")
        matrices: dict[str, np.ndarray] = {}
        out = []
        for member in self.members_:
            spec = member.source_.descriptor
            key = spec.fingerprint()
            if key not in matrices:
                matrices[key] = member.source_.descriptor_matrix(X)
            out.append(member.predict(matrices[key]))
        return np.vstack(out)

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Mean over members; with ``return_std`` also their standard deviation (the spread).

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix
        return_std : bool, default False

        Returns
        -------
        ndarray, or (mean, std) with ``return_std``
        """
        preds = self.member_predictions(X)
        mean = preds.mean(axis=0)
        return (mean, preds.std(axis=0)) if return_std else mean

    def save(self, folder: str | Path) -> Path:
        """Write each member in ``folder/member-<i>`` (the :meth:`TransferModel.save` format).

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        Path
            ``folder``.
        """
        check_is_fitted(self, "members_")
        folder = Path(folder).expanduser()
        for i, member in enumerate(self.members_):
            member.save(folder / f"member-{i:03d}")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TransferEnsemble:
        """Read an ensemble written by :meth:`save` (each member verified as by :meth:`TransferModel.load`).

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        TransferEnsemble

        Raises
        ------
        MDLError
            When ``folder`` holds no member.
        """
        folder = Path(folder).expanduser()
        paths = sorted(p for p in folder.glob("member-*") if p.is_dir())
        if not paths:
            raise MDLError(f"no ensemble members in {folder}")
        return cls.from_models([TransferModel.load(p) for p in paths])
