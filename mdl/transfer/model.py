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

from mdl.models.source import SourceModel
from mdl.models.state import from_state, to_state
from mdl.models.storage import read_files, sha256_file, verify, write_files
from mdl.transfer.heads import make_head
from mdl.validation import check_cv, check_groups, check_head, check_layers, check_targets, n_inputs

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
    """k-fold (or grouped k-fold) CV metrics of ``head`` on features ``F``: mean, std, per fold.

    >>> from sklearn.linear_model import LinearRegression
    >>> F = np.arange(20.0)[:, None]
    >>> round(cross_validated(LinearRegression(), F, 3 * F[:, 0] + 1, cv=4)["mae"], 9)
    0.0
    """
    y = check_targets(y, len(F), multi_output=False, allow_constant=False)
    cv = check_cv(cv, len(y))
    groups = check_groups(groups, len(y), cv)
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
        """Fit the head on the transfer features of ``X`` (and cross-validate it unless ``cv`` is 0/None).

        Parameters, targets and groups are checked before the source is loaded or any descriptor
        computed: an InvalidInputError names the parameter or the rows.
        """
        check_head(self.head)
        check_layers(self.layers)
        y = check_targets(y, n_inputs(X), multi_output=False, allow_constant=False)
        cv = check_cv(self.cv, len(y), optional=True)
        if cv is not None:
            groups = check_groups(groups, len(y), cv)
        self.source_ = self._source_model()
        if self.source_.is_network:
            check_layers(self.layers, self.source_.estimator.n_hidden_layers, self.source_.model_id)
        F = source_features(self.source_, X, self.layers)
        y = check_targets(y, len(F), multi_output=False)
        self.n_features_in_ = F.shape[1]
        if cv is not None:
            self.cv_scores_ = cross_validated(make_head(self.head, self.random_state), F, y, cv, groups,
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
