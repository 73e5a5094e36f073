"""Stacking: a head on the raw descriptor joined with several sources' predictions.

Where a source's hidden layer is a lossy compression of the fingerprint, its *prediction* of a related
property is one dense, informative column; stacking the predictions of the top sources onto the raw
descriptor keeps everything a scratch model sees and adds what the zoo knows.

>>> model = StackedTransferModel(["qm9-multi-nn-0000", "chemicals-logp-nn-0003"]).fit(smiles, y)  # doctest: +SKIP
>>> model.predict(["CCO"])                                                                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from mdl.errors import InvalidInputError, ModelFormatError
from mdl.hub import Hub
from mdl.models.source import SourceModel
from mdl.models.state import from_state, to_state
from mdl.store.files import read_files, write_files
from mdl.store.manifest import read_record, write_manifest
from mdl.transfer_learning.heads import check_head, is_head_name, make_head
from mdl.transfer_learning.model import varying_columns
from mdl.transfer_learning.profile import profile_features
from mdl.transfer_learning.loading import load_sources
from mdl.validation import check_targets, n_inputs

RECORD = "stack.json"
_RECORD_KEYS = {"source_ids", "head", "random_state", "raw_columns", "n_features_in"}
MAX_SOURCES = 64


def stacking_features(sources: Sequence[SourceModel], D: np.ndarray, raw_columns: np.ndarray) -> np.ndarray:
    """``D[:, raw_columns]`` joined with every output of every source's prediction from ``D``.

    Parameters
    ----------
    sources : sequence of SourceModel
        Sources of the descriptor of ``D``.
    D : ndarray of shape (n_samples, width)
        Descriptor matrix.
    raw_columns : ndarray of int
        Columns of ``D`` kept.

    Returns
    -------
    ndarray of shape (n_samples, len(raw_columns) + outputs of the sources)
    """
    return np.hstack([D[:, raw_columns], profile_features(sources, {s.descriptor.fingerprint(): D for s in sources})])


class StackedTransferModel(RegressorMixin, BaseEstimator):
    """A scikit-learn regressor on the raw descriptor plus the predictions of several zoo sources.

    Parameters
    ----------
    sources : sequence of str or SourceModel
        Model ids in ``hub`` or loaded models, all on one descriptor spec (at most :data:`MAX_SOURCES`).
    head : str or BaseEstimator, default "rf"
        "rf", "ridge", "mlp", "svr" or a scikit-learn regressor.
    hub : str, Path, Hub or None
        Where to find the sources given by id (default hub when None).
    random_state : int, default 0
        Seed of the head.

    Examples
    --------
    >>> model = StackedTransferModel(["qm9-gap-nn-0001", "qm9-homo-rf-0002"], head="rf").fit(smiles, y)  # doctest: +SKIP
    """

    def __init__(self, sources: Sequence[str | SourceModel] = (), head: str | BaseEstimator = "rf", hub: str | Path | Hub | None = None,
                 random_state: int = 0):
        self.sources = sources
        self.head = head
        self.hub = hub
        self.random_state = random_state

    def _load_sources(self) -> list[SourceModel]:
        if not 0 < len(self.sources) <= MAX_SOURCES:
            raise InvalidInputError(f"sources must list 1 to {MAX_SOURCES} models, got {len(self.sources)}")
        ids = [s for s in self.sources if not isinstance(s, SourceModel)]
        loaded = dict(zip(ids, load_sources(ids, self.hub))) if ids else {}
        models = [s if isinstance(s, SourceModel) else loaded[s] for s in self.sources]
        specs = {s.descriptor.fingerprint() for s in models}
        if len(specs) > 1:
            raise InvalidInputError("stacked sources must share one descriptor spec; got "
                                    + ", ".join(sorted({f"{s.model_id}: {s.descriptor.name}" for s in models})))
        return models

    def fit(self, X: Any, y: Any) -> StackedTransferModel:
        """Fit the head on the raw descriptor of ``X`` joined with the sources' predictions.

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix
        y : array-like of shape (n_samples,)

        Returns
        -------
        StackedTransferModel
            ``self``, fitted.

        Raises
        ------
        InvalidInputError
            For a bad head or target, no or too many sources, or sources on different descriptors.
        """
        check_head(self.head)
        y = check_targets(y, n_inputs(X), multi_output=False, allow_constant=False)
        self.sources_ = self._load_sources()
        D = self.sources_[0].descriptor_matrix(X)
        self.raw_columns_ = varying_columns(D)
        F = stacking_features(self.sources_, D, self.raw_columns_)
        self.n_features_in_ = F.shape[1]
        self.head_ = make_head(self.head, self.random_state).fit(F, y)
        return self

    def head_features(self, X: Any) -> np.ndarray:
        """The features the head sees.

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self, "head_")
        return stacking_features(self.sources_, self.sources_[0].descriptor_matrix(X), self.raw_columns_)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the head.

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        F = self.head_features(X)  # checks that the model is fitted
        return np.asarray(self.head_.predict(F), dtype=float)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the sources, the head and ``stack.json`` into ``folder``, with a sha256 manifest.

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        Path
            ``folder``.
        """
        check_is_fitted(self, "head_")
        folder = Path(folder).expanduser()
        hashes = {}
        for i, source in enumerate(self.sources_):
            hashes.update({f"source-{i:02d}/{k}": v for k, v in source.save(folder / f"source-{i:02d}").items()})
        config, arrays, blobs = to_state(self.head_)
        hashes.update({f"head/{k}": v for k, v in write_files(folder / "head", config, arrays, blobs).items()})
        record = {"source_ids": [s.model_id for s in self.sources_],
                  "head": self.head if isinstance(self.head, str) else type(self.head).__name__,
                  "random_state": self.random_state, "raw_columns": self.raw_columns_.tolist(),
                  "n_features_in": self.n_features_in_}
        write_manifest(folder, hashes, RECORD, record)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> StackedTransferModel:
        """Read a model written by :meth:`save`: only the files its manifest lists, each verified and
        checked as a hub model is; the record must agree with the sources and the head it joins.

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        StackedTransferModel

        Raises
        ------
        ModelFormatError
            For a missing, unlisted, altered or inconsistent file, naming it and the field.
        """
        folder = Path(folder).expanduser()
        name = folder.name
        parts, record = read_record(folder, RECORD, _RECORD_KEYS,
                                    ("head", *(f"source-{i:02d}" for i in range(MAX_SOURCES))))
        ids = record["source_ids"]
        if not isinstance(ids, list) or not 0 < len(ids) <= MAX_SOURCES:
            raise ModelFormatError(f"expected a list of 1 to {MAX_SOURCES} ids", model=name, file=RECORD,
                                   field="source_ids")
        sources = [SourceModel.load(folder / f"source-{i:02d}", parts.get(f"source-{i:02d}", {}), model_id=ids[i])
                   for i in range(len(ids))]
        config, arrays, blobs = read_files(folder / "head", parts["head"], model=f"{name}/head")
        head = from_state(config, arrays, blobs, model=f"{name}/head")
        width = sources[0].descriptor.width
        raw = record["raw_columns"]
        if not isinstance(raw, list) or len(raw) > width or not all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < width for i in raw):
            raise ModelFormatError(f"expected column indices below {width}", model=name, file=RECORD,
                                   field="raw_columns")
        n_outputs = sum(int(getattr(s.estimator, "n_outputs_", 1)) for s in sources)
        if record["n_features_in"] != len(raw) + n_outputs or head.n_features_in_ != record["n_features_in"]:
            raise ModelFormatError(f"{record['n_features_in']} (head: {head.n_features_in_}), but the raw columns "
                                   f"and sources give {len(raw) + n_outputs}", model=name, file=RECORD,
                                   field="n_features_in")
        model = cls(sources, head=record["head"] if is_head_name(record["head"]) else head,
                    random_state=record["random_state"])
        model.sources_ = model._load_sources()
        model.head_, model.raw_columns_ = head, np.asarray(raw, dtype=np.int64)
        model.n_features_in_ = record["n_features_in"]
        return model
