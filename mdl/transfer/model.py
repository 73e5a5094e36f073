"""Transfer from a zoo model: neural descriptors (or a source's prediction) plus a fitted head.

>>> model = TransferModel("qm9-gap-nn-0003", head="rf").fit(smiles, y)   # doctest: +SKIP
>>> model.cv_scores_["mae"], model.predict(["CCO"])                      # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import GroupKFold, KFold, cross_validate
from sklearn.utils.validation import check_is_fitted

from mdl.errors import InvalidInputError
from mdl.models.source import SourceModel
from mdl.models.state import from_state, to_state
from mdl.models.storage import read_files, sha256_file, verify, write_files
from mdl.models.train import check_targets
from mdl.transfer.heads import make_head

MANIFEST = "manifest.json"
_SCORING = {"mae": "neg_mean_absolute_error", "rmse": "neg_root_mean_squared_error", "r2": "r2"}


def source_features(source: SourceModel, X: Any, layers: int | Sequence[int] | str = -1) -> np.ndarray:
    """Transfer features of ``X``: a network's hidden activations, or for other families the kept
    descriptor columns with the source's prediction as one extra column."""
    if source.is_network:
        return source.neural_descriptors(X, layers)
    features = source.features(X)
    return np.column_stack([features, source.estimator.predict(features)])


def cross_validated(head: BaseEstimator, F: np.ndarray, y: np.ndarray, cv: int, groups: Any = None,
                    random_state: int = 0) -> dict[str, Any]:
    """k-fold (or grouped k-fold) CV metrics of ``head`` on features ``F``: mean, std, per fold."""
    n = len(y)
    if cv < 2:
        raise InvalidInputError(f"cv must be at least 2, got {cv}")
    if n < cv:
        raise InvalidInputError(f"{n} samples are fewer than the {cv} cross-validation folds")
    if np.ptp(y) == 0:
        raise InvalidInputError("the target is constant: there is nothing to learn or score")
    splitter = GroupKFold(n_splits=cv) if groups is not None else KFold(cv, shuffle=True, random_state=random_state)
    result = cross_validate(head, F, y, cv=splitter, groups=groups, scoring=_SCORING)
    scores: dict[str, Any] = {"folds": cv, "grouped": groups is not None}
    for name in _SCORING:
        values = result[f"test_{name}"] * (-1 if name != "r2" else 1)
        scores[name], scores[f"{name}_std"], scores[f"{name}_folds"] = float(values.mean()), float(values.std()), values.tolist()
    return scores


class TransferModel(BaseEstimator, RegressorMixin):
    """A scikit-learn regressor that reuses a zoo model as a frozen featurizer.

    Parameters
    ----------
    source : model id in ``hub`` or a loaded :class:`SourceModel`.
    head : "rf" (default), "ridge", "mlp" or a scikit-learn regressor.
    layers : hidden layers used as neural descriptors (-1: last hidden layer; list; "all").
    cv : folds of the cross-validation reported in ``cv_scores_`` (0 or None: skip).
    hub : where to find ``source`` (default hub when None).
    """

    def __init__(self, source: str | SourceModel, head: str | BaseEstimator = "rf",
                 layers: int | Sequence[int] | str = -1, cv: int | None = 5, hub: Any = None,
                 random_state: int = 0):
        self.source = source
        self.head = head
        self.layers = layers
        self.cv = cv
        self.hub = hub
        self.random_state = random_state

    def _source_model(self) -> SourceModel:
        if isinstance(self.source, SourceModel):
            return self.source
        from mdl.hub import open_hub

        return open_hub(self.hub).load(self.source)

    def transform(self, X: Any) -> np.ndarray:
        """The transfer features the head sees."""
        check_is_fitted(self, "source_")
        return source_features(self.source_, X, self.layers)

    def fit(self, X: Any, y: Any, groups: Any = None) -> TransferModel:
        self.source_ = self._source_model()
        F = source_features(self.source_, X, self.layers)
        y = check_targets(y, len(F))
        if y.ndim != 1:
            raise InvalidInputError(f"y must be one column of targets, got shape {y.shape}")
        self.n_features_in_ = F.shape[1]
        if self.cv:
            self.cv_scores_ = cross_validated(make_head(self.head, self.random_state), F, y, self.cv, groups,
                                              self.random_state)
        self.head_ = make_head(self.head, self.random_state).fit(F, y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "head_")
        return self.head_.predict(self.transform(X))

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write source, head and metadata into ``folder`` (safetensors + JSON, sha256 manifest)."""
        check_is_fitted(self, "head_")
        folder = Path(folder).expanduser()
        hashes = {f"source/{k}": v for k, v in self.source_.save(folder / "source").items()}
        config, arrays, blobs = to_state(self.head_)
        hashes.update({f"head/{k}": v for k, v in write_files(folder / "head", config, arrays, blobs).items()})
        record = {"source_id": self.source_.model_id, "layers": self.layers,
                  "head": self.head if isinstance(self.head, str) else type(self.head).__name__,
                  "cv": self.cv, "random_state": self.random_state,
                  "cv_scores": getattr(self, "cv_scores_", None), "n_features_in": self.n_features_in_}
        (folder / "transfer.json").write_text(json.dumps(record, indent=1))
        hashes["transfer.json"] = sha256_file(folder / "transfer.json")
        (folder / MANIFEST).write_text(json.dumps(hashes, indent=1, sort_keys=True))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TransferModel:
        """Read a model written by :meth:`save`, verifying every file's sha256."""
        folder = Path(folder).expanduser()
        hashes = json.loads((folder / MANIFEST).read_text())
        verify(folder, hashes)
        record = json.loads((folder / "transfer.json").read_text())
        source = SourceModel.load(folder / "source")
        config, arrays, blobs = read_files(folder / "head")
        head = from_state(config, arrays, blobs)
        model = cls(source=record["source_id"], head=record["head"] if record["head"] in ("rf", "ridge", "mlp")
                    else head, layers=record["layers"], cv=record["cv"], random_state=record["random_state"])
        model.source_, model.head_, model.n_features_in_ = source, head, record["n_features_in"]
        if record["cv_scores"] is not None:
            model.cv_scores_ = record["cv_scores"]
        return model
