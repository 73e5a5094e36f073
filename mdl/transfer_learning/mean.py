"""Means of board rows: the profile rows averaged, with and without the best scratch row.

A model built on the zoo and a model trained from scratch err in different ways, and so do the profile
rows' heads (an SVR, a ridge, the profile joined to the raw descriptor), so the mean of their predictions
is often better than any one of them, and it involves no choice among them, which on ~100 rows is mostly
luck. A mean row's cross-validation error is exact and costs nothing: on the same folds, the out-of-fold
prediction of the mean is the mean of its members' out-of-fold predictions.

>>> mean_rows({"p": "profile", "q": "profile", "s": "scratch"}, {"p": 1.0, "q": 1.5, "s": 2.0})
{'mean[p | s]': ['p', 's'], 'mean[2 profile rows]': ['p', 'q'], 'mean[2 profile rows | s]': ['p', 'q', 's']}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import Tags, get_tags
from sklearn.utils.validation import check_is_fitted, column_or_1d

from mdl.errors import InvalidInputError, ModelFormatError
from mdl.hub import Hub
from mdl.store.files import read_bytes
from mdl.store.manifest import read_manifest, write_manifest
from mdl.store.parse import load_json
from mdl.transfer_learning.model import TransferModel
from mdl.transfer_learning.profile import ProfileModel
from mdl.transfer_learning.scratch import ScratchModel
from mdl.transfer_learning.stacking import StackedTransferModel

__all__ = ["MeanModel", "mean_rows"]

RECORD = "mean.json"
MAX_MEMBERS = 8


def mean_rows(kinds: Mapping[str, str], mae: Mapping[str, float]) -> dict[str, list[str]]:
    """The mean rows of a board and the rows each averages (none without a profile row and a scratch row):

    * ``mean[P | S]``: the best profile row ``P`` and the best scratch row ``S``;
    * ``mean[k profile rows]``: every profile row (the best ``MAX_MEMBERS - 1`` when there are more), when
      there are at least two;
    * ``mean[k profile rows | S]``: those and ``S``, each with the same weight.

    Parameters
    ----------
    kinds : mapping of str to str
        Each row's kind.
    mae : mapping of str to float
        Each row's CV MAE.

    Returns
    -------
    dict of str to list of str
        {label: members, best first}.
    """
    profile = sorted((label for label, k in kinds.items() if k == "profile"), key=lambda label: mae[label])
    scratch = sorted((label for label, k in kinds.items() if k == "scratch"), key=lambda label: mae[label])
    if not profile or not scratch:
        return {}
    rows = {f"mean[{profile[0]} | {scratch[0]}]": [profile[0], scratch[0]]}
    profile = profile[:MAX_MEMBERS - 1]
    if len(profile) > 1:
        rows[f"mean[{len(profile)} profile rows]"] = profile
        rows[f"mean[{len(profile)} profile rows | {scratch[0]}]"] = [*profile, scratch[0]]
    return rows


class MeanModel(RegressorMixin, BaseEstimator):
    """The mean of the predictions of several regressors (each fitted on the same rows).

    Parameters
    ----------
    models : sequence of BaseEstimator
        The members: board models (:class:`~mdl.transfer_learning.profile.ProfileModel`,
        :class:`~mdl.transfer_learning.scratch.ScratchModel`...) or any regressors on the same inputs.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(8.0)[:, None]
    >>> MeanModel([LinearRegression(), LinearRegression(fit_intercept=False)]).fit(X, 2 * X[:, 0] + 1).predict([[0.0]])
    array([0.5])
    """

    def __init__(self, models: Sequence[BaseEstimator] = ()):
        self.models = models

    @classmethod
    def from_fitted(cls, models: Sequence[BaseEstimator]) -> MeanModel:
        """The mean of models already fitted on the same rows.

        Parameters
        ----------
        models : sequence of BaseEstimator

        Returns
        -------
        MeanModel
        """
        mean = cls(list(models))
        mean.models_ = list(models)
        return mean

    def fit(self, X: Any, y: Any) -> MeanModel:
        """Fit a clone of every member on ``(X, y)``.

        Parameters
        ----------
        X : inputs every member takes
        y : array-like of shape (n_samples,)
            A (n_samples, 1) column is raveled, with scikit-learn's ``DataConversionWarning``.

        Returns
        -------
        MeanModel
            ``self``, fitted.
        """
        if not 0 < len(self.models) <= MAX_MEMBERS:
            raise InvalidInputError(f"models must list 1 to {MAX_MEMBERS} regressors, got {len(self.models)}")
        if getattr(y, "ndim", 0) == 2:  # a column: its one target, with scikit-learn's warning; wider: refused
            y = column_or_1d(y, warn=True)
        self.models_ = [clone(m).fit(X, y) for m in self.models]
        return self

    @property
    def n_features_in_(self) -> int:
        """The number of input columns, as the members count them (absent when they take raw inputs)."""
        check_is_fitted(self, "models_")
        return self.models_[0].n_features_in_

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        # the members take what every one of them takes (none known on an instance not yet initialised)
        models = getattr(self, "models", ())
        tags.input_tags.sparse = bool(models) and all(get_tags(m).input_tags.sparse for m in models)
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """The mean of the members' predictions.

        Parameters
        ----------
        X : inputs every member takes

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "models_")
        return np.mean([np.asarray(m.predict(X), dtype=float) for m in self.models_], axis=0)

    def save(self, folder: str | Path) -> Path:
        """Write every member (with its own ``save``) into ``folder/member-<i>`` and ``mean.json``.

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        Path
            ``folder``.
        """
        check_is_fitted(self, "models_")
        folder = Path(folder).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        kinds = []
        for i, member in enumerate(self.models_):
            member.save(folder / f"member-{i}")
            kinds.append(type(member).__name__)
        write_manifest(folder, {}, RECORD, {"members": kinds})
        return folder

    @classmethod
    def load(cls, folder: str | Path, hub: str | Path | Hub | None = None,
             loaders: Mapping[str, Callable[[Path], BaseEstimator]] | None = None) -> MeanModel:
        """Read a model written by :meth:`save`; each member is read by the loader of its class.

        Parameters
        ----------
        folder : str or Path
        hub : str, Path, Hub or None
            Where a profile member's sources are (default hub when None).
        loaders : mapping of str to callable, optional
            {class name: function reading a saved member folder}; by default the board's models
            (transfer, stacked, profile, scratch).

        Returns
        -------
        MeanModel

        Raises
        ------
        ModelFormatError
            For a missing or unlisted record, or a member class without a loader.
        """
        if loaders is None:
            loaders = {"TransferModel": TransferModel.load, "StackedTransferModel": StackedTransferModel.load,
                       "ScratchModel": ScratchModel.load, "ProfileModel": partial(ProfileModel.load, hub=hub)}
        folder = Path(folder).expanduser()
        name = folder.name
        parts = read_manifest(folder, RECORD, ())
        record = load_json(read_bytes(folder, RECORD, parts[""], model=name), model=name, file=RECORD)
        kinds = record.get("members") if isinstance(record, dict) else None
        if not isinstance(kinds, list) or not 0 < len(kinds) <= MAX_MEMBERS or not all(k in loaders for k in kinds):
            raise ModelFormatError(f"expected 1 to {MAX_MEMBERS} members of {sorted(loaders)}", model=name,
                                   file=RECORD, field="members")
        return cls.from_fitted([loaders[kind](folder / f"member-{i}") for i, kind in enumerate(kinds)])
