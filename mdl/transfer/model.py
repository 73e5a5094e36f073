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

from mdl.errors import InvalidInputError, ModelFormatError
from mdl.models.parse import load_json
from mdl.models.source import SourceModel
from mdl.models.state import from_state, to_state
from mdl.models.storage import (
    check_manifest,
    read_bytes,
    read_files,
    sha256_file,
    write_files,
)
from mdl.models.train import check_targets
from mdl.transfer.heads import make_head

MANIFEST = "manifest.json"
RECORD = "transfer.json"
_RECORD_KEYS = {"source_id", "layers", "head", "cv", "random_state", "cv_scores", "n_features_in"}
_SCORING = {"mae": "neg_mean_absolute_error", "rmse": "neg_root_mean_squared_error", "r2": "r2"}


def source_features(source: SourceModel, X: Any, layers: int | Sequence[int] | str = -1) -> np.ndarray:
    """Transfer features of ``X``: a network's hidden activations, or for other families the kept
    descriptor columns with the source's prediction as one extra column."""
    if source.is_network:
        return source.neural_descriptors(X, layers)
    features = source.features(X)
    return np.column_stack([features, source.check_output(source.estimator.predict(features), "predictions")])


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
        predictions = self.head_.predict(self.transform(X))
        if not np.isfinite(predictions).all():
            raise ModelFormatError("predictions are not finite for finite features", model=self.source_.model_id,
                                   file="head")
        return predictions

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
        """Read a model written by :meth:`save`. ``manifest.json`` lists every file with its sha256
        (``transfer.json``, ``source/…``, ``head/…``); only those files are read, each once, with the
        same bounds and schema checks as a model pulled from a hub (ModelFormatError otherwise)."""
        folder = Path(folder).expanduser()
        name = folder.name
        manifest = load_json(read_bytes(folder, MANIFEST, model=name), model=name, file=MANIFEST)
        if not isinstance(manifest, dict):
            raise ModelFormatError("expected a JSON object", model=name, file=MANIFEST)
        parts: dict[str, dict[str, str]] = {"source": {}, "head": {}, "": {}}
        for key, digest in manifest.items():
            part, _, file = key.rpartition("/") if isinstance(key, str) else ("?", "", "")
            if part not in parts or (part == "" and file != RECORD):
                raise ModelFormatError("expected transfer.json, source/<file> or head/<file>", model=name,
                                       file=MANIFEST, field=str(key)[:80])
            parts[part][file] = digest
        for part in parts.values():
            check_manifest(part, model=name, file=MANIFEST)
        if RECORD not in parts[""]:
            raise ModelFormatError("not listed in the manifest", model=name, file=RECORD)
        record = load_json(read_bytes(folder, RECORD, parts[""], model=name), model=name, file=RECORD)
        source = SourceModel.load(folder / "source", parts["source"])
        config, arrays, blobs = read_files(folder / "head", parts["head"], model=f"{name}/head")
        head = from_state(config, arrays, blobs, model=f"{name}/head")
        _check_record(record, source, head, name)
        model = cls(source=record["source_id"], head=record["head"] if record["head"] in ("rf", "ridge", "mlp")
                    else head, layers=record["layers"], cv=record["cv"], random_state=record["random_state"])
        model.source_, model.head_, model.n_features_in_ = source, head, record["n_features_in"]
        if record["cv_scores"] is not None:
            model.cv_scores_ = record["cv_scores"]
        return model


def _check_record(record: Any, source: SourceModel, head: BaseEstimator, name: str) -> None:
    """``transfer.json`` against the source and head it joins: keys, types, layers and widths."""
    def fail(field: str, message: str) -> ModelFormatError:
        return ModelFormatError(message, model=name, file=RECORD, field=field)

    if not isinstance(record, dict) or set(record) != _RECORD_KEYS:
        raise fail("", f"expected the keys {sorted(_RECORD_KEYS)}")
    if record["source_id"] != source.model_id:
        raise fail("source_id", f"{str(record['source_id'])[:80]!r}, but the source is {source.model_id!r}")
    if not isinstance(record["head"], str) or len(record["head"]) > 100:
        raise fail("head", "expected a short name")
    for key in ("cv", "random_state", "n_features_in"):
        value = record[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32):
            raise fail(key, f"expected a whole number, got {str(value)[:40]}")
    if record["cv_scores"] is not None and not isinstance(record["cv_scores"], dict):
        raise fail("cv_scores", "expected a JSON object or null")
    layers = record["layers"]
    if not (layers == "all" or isinstance(layers, int) and not isinstance(layers, bool) or isinstance(layers, list)
            and 0 < len(layers) <= 64 and all(isinstance(i, int) and not isinstance(i, bool) for i in layers)):
        raise fail("layers", "expected a layer index, a list of indices or 'all'")
    if source.is_network:
        try:
            width = len(source.estimator.hidden_names(layers))
        except ValueError as exc:
            raise fail("layers", str(exc)) from None
    else:
        width = len(source.columns) + 1
    if record["n_features_in"] != width or head.n_features_in_ != width:
        raise fail("n_features_in", f"{record['n_features_in']} (head: {head.n_features_in_}), but the source "
                                    f"gives {width} transfer features")
