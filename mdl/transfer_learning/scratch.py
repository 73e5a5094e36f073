"""Models trained from scratch on a raw descriptor: the baselines every transfer must beat, usable as models.

A leaderboard's scratch rows are these; when no transfer beats them by more than the noise of its own
cross-validation, ``board.best`` is one of them. A fitted scratch model is a :class:`SourceModel`
underneath (descriptor spec, kept columns, estimator), so it saves and loads with the same checks.

>>> from mdl.descriptors import get_descriptor
>>> spec = get_descriptor("maccs").spec
>>> model = ScratchModel(spec, "rf").fit(["CCO", "CCCO", "CCCCO", "c1ccccc1", "CC(=O)O"], [1.0, 2, 3, 4, 5])
>>> model.predict(["CCO"]).shape
(1,)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from mdl.descriptors import DescriptorSpec, from_spec
from mdl.errors import MDLError, ModelFormatError
from mdl.models.source import SourceModel
from mdl.transfer_learning.model import varying_columns
from mdl.validation import check_choice, check_targets, n_inputs

#: The scratch learners: a random forest and gradient boosting.
SCRATCH = ("rf", "gb")


def make_scratch(kind: str, random_state: int = 0) -> BaseEstimator:
    """An unfitted scratch learner.

    Parameters
    ----------
    kind : {"rf", "gb"}
        Random forest (500 trees, every feature at each split: scikit-learn's plain forest), or gradient
        boosting: xgboost (400 trees of depth 6, learning rate 0.05, storable, one thread: its OpenMP threads
        stall on a busy machine) where installed, else scikit-learn's. ``tools/bench_transfer.py`` uses the
        same learners as its scratch baselines, so a board that hands back scratch matches them.
    random_state : int, default 0

    Returns
    -------
    BaseEstimator

    Examples
    --------
    >>> type(make_scratch("rf")).__name__
    'RandomForestRegressor'
    """
    check_choice(kind, "scratch model", SCRATCH)
    if kind == "rf":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=500, n_jobs=-1, random_state=random_state)
    try:
        from xgboost import XGBRegressor
    except ImportError:
        from sklearn.ensemble import GradientBoostingRegressor

        return GradientBoostingRegressor(n_estimators=300, learning_rate=0.05, max_depth=3, subsample=0.8,
                                         max_features=0.3, random_state=random_state)
    return XGBRegressor(n_estimators=400, learning_rate=0.05, max_depth=6, subsample=0.8, colsample_bytree=0.5,
                        tree_method="hist", n_jobs=1, random_state=random_state)


class ScratchModel(RegressorMixin, BaseEstimator):
    """A random forest or gradient boosting trained from scratch on the non-constant columns of a descriptor.

    ``fit`` and ``predict`` take raw inputs (SMILES, formulas, structures) or a ready matrix of the
    descriptor (as :meth:`SourceModel.descriptor_matrix`).

    Parameters
    ----------
    descriptor : DescriptorSpec or dict
        The descriptor spec (or its dict) that featurises raw inputs.
    model : {"rf", "gb"}
        The learner.
    random_state : int, default 0
        Seed of the learner.

    Examples
    --------
    >>> board.model("scratch-rf[morgan]").predict(["CCO"])   # doctest: +SKIP
    """

    def __init__(self, descriptor: DescriptorSpec | dict, model: str = "rf", random_state: int = 0):
        self.descriptor = descriptor
        self.model = model
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ScratchModel:
        """Fit the learner on the non-constant descriptor columns of ``X``.

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix
        y : array-like of shape (n_samples,)

        Returns
        -------
        ScratchModel
            ``self``, with ``model_`` (a SourceModel) set.
        """
        check_choice(self.model, "model", SCRATCH)
        y = check_targets(y, n_inputs(X), multi_output=False, allow_constant=False)
        spec = self.descriptor if isinstance(self.descriptor, DescriptorSpec) else from_spec(self.descriptor).spec
        model = SourceModel(f"scratch-{self.model}-{spec.name}", make_scratch(self.model, self.random_state),
                            spec, np.arange(spec.width), {"family": self.model, "material": spec.material})
        D = model.descriptor_matrix(X)
        model.columns = varying_columns(D)
        model.estimator.fit(D[:, model.columns], y)
        self.model_, self.n_features_in_ = model, len(model.columns)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions on raw inputs or a ready descriptor matrix.

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict(X), dtype=float)

    def save(self, folder: str | Path) -> Path:
        """Write the fitted model into ``folder`` (the source-model format: JSON, safetensors, sha256).

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        Path
            ``folder``.

        Raises
        ------
        MDLError
            For scikit-learn's gradient boosting (no xgboost installed), which has no safe format.
        """
        check_is_fitted(self, "model_")
        folder = Path(folder).expanduser()
        try:
            self.model_.save(folder)
        except TypeError as exc:  # scikit-learn's gradient boosting (no xgboost installed) has no safe format
            raise MDLError(f"cannot save {self.model_.model_id}: {exc}") from None
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> ScratchModel:
        """Read a model written by :meth:`save`, with the checks of :meth:`SourceModel.load`.

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        ScratchModel

        Raises
        ------
        ModelFormatError
            For a model whose family is not a scratch learner.
        """
        source = SourceModel.load(folder)
        family = source.info.get("family")
        if family not in SCRATCH:
            raise ModelFormatError(f"expected one of {SCRATCH}", model=source.model_id, file="config.json",
                                   field="info.family")
        model = cls(source.descriptor, family)
        model.model_, model.n_features_in_ = source, len(source.columns)
        return model
