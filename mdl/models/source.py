"""A source model of the zoo: descriptor spec + kept columns + fitted estimator + its card.

>>> model = SourceModel.load("~/.cache/mdl/hub/qm9-homo/models/qm9-homo-nn-0000")  # doctest: +SKIP
>>> model.predict(["CCO", "c1ccccc1"])                                                # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from mdl.descriptors import DescriptorSpec, from_spec
from mdl.errors import DescriptorMismatchError, InvalidInputError
from mdl.models.nn import NeuralNetRegressor
from mdl.models.state import from_state, to_state
from mdl.models.storage import read_files, write_files

FAMILIES = ("nn", "rf", "gb", "en")


@dataclass
class SourceModel:
    """A fitted zoo model and everything needed to use it on raw inputs.

    ``info`` is the model's card: family, material, property (or properties), unit, dataset and
    its hash, hyperparameters, split, test metrics, library versions.
    """

    model_id: str
    estimator: BaseEstimator
    descriptor: DescriptorSpec
    columns: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        return str(self.info.get("family", "nn" if self.is_network else "?"))

    @property
    def is_network(self) -> bool:
        return isinstance(self.estimator, NeuralNetRegressor)

    @property
    def properties(self) -> list[str]:
        """The property (or, for a multi-property network, the properties) the model predicts."""
        return list(self.info.get("properties") or [str(self.info.get("property", ""))])

    @property
    def column_names(self) -> list[str]:
        return [self.descriptor.columns[i] for i in self.columns]

    # -- inputs --------------------------------------------------------------------------------
    def descriptor_matrix(self, X: Any) -> np.ndarray:
        """The full descriptor matrix of ``X``: raw inputs are featurised with the recorded spec;
        a ready matrix (array or DataFrame) is checked against the spec's width and column names."""
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.descriptor.columns if c not in X.columns]
            if missing:
                raise DescriptorMismatchError(
                    f"descriptor columns missing for model {self.model_id} ({self.descriptor.name}): "
                    f"{missing[:5]}{' …' if len(missing) > 5 else ''} ({len(missing)} of {self.descriptor.width})"
                )
            return _check_finite(X[list(self.descriptor.columns)].to_numpy(dtype=float))
        array = X if isinstance(X, np.ndarray) else None
        if array is not None and array.ndim == 2 and np.issubdtype(array.dtype, np.number):
            if array.shape[1] != self.descriptor.width:
                raise DescriptorMismatchError(
                    f"descriptor width mismatch for model {self.model_id}: expected {self.descriptor.width} "
                    f"columns of {self.descriptor.name!r}, got {array.shape[1]}"
                )
            return _check_finite(array.astype(float))
        if isinstance(X, (str, bytes)) or not isinstance(X, (Sequence, np.ndarray, pd.Series, pd.Index)):
            X = [X]
        return from_spec(self.descriptor).transform(list(X))

    def features(self, X: Any) -> np.ndarray:
        """The model's input: the descriptor restricted to the model's kept columns."""
        return self.descriptor_matrix(X)[:, self.columns]

    # -- outputs -------------------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        return self.estimator.predict(self.features(X))

    def neural_descriptors(self, X: Any, layers: int | Sequence[int] | str = -1) -> np.ndarray:
        """Hidden-layer activations of a network source (its output layer is never run)."""
        if not self.is_network:
            raise TypeError(f"model {self.model_id} is a {self.family!r} model, not a network")
        return self.estimator.hidden_features(self.features(X), layers)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: str | Path) -> dict[str, str]:
        """Write the model into ``folder``; returns {file name: sha256}."""
        config, arrays, blobs = to_state(self.estimator)
        record = {
            "model_id": self.model_id,
            "estimator": config,
            "descriptor": self.descriptor.to_dict(),
            "info": _clean(self.info),
        }
        arrays = {f"estimator.{k}": v for k, v in arrays.items()}
        arrays["columns"] = np.asarray(self.columns, dtype=np.int64)
        return write_files(Path(folder).expanduser(), record, arrays, blobs)

    @classmethod
    def load(cls, folder: str | Path, hashes: dict[str, str] | None = None) -> SourceModel:
        """Read a model written by :meth:`save`, verifying ``hashes`` when given."""
        record, arrays, blobs = read_files(Path(folder).expanduser(), hashes)
        est_arrays = {k[len("estimator."):]: v for k, v in arrays.items() if k.startswith("estimator.")}
        return cls(
            model_id=record["model_id"],
            estimator=from_state(record["estimator"], est_arrays, blobs),
            descriptor=DescriptorSpec.from_dict(record["descriptor"]),
            columns=np.asarray(arrays["columns"], dtype=np.int64),
            info=record["info"],
        )


def _check_finite(matrix: np.ndarray) -> np.ndarray:
    bad = np.flatnonzero(~np.isfinite(matrix).all(axis=1))
    if bad.size:
        raise InvalidInputError("descriptor matrix has NaN or infinite values", rows=bad.tolist())
    return matrix


def _clean(value: Any) -> Any:
    """JSON-ready copy of a card: numpy scalars to Python, NaN to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
