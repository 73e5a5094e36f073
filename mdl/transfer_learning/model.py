"""Transfer from a zoo model: neural descriptors (or a source's prediction) plus a fitted head.

>>> model = TransferModel("qm9-gap-nn-0003", head="rf", cv=5).fit(smiles, y)   # doctest: +SKIP
>>> model.cv_scores_["mae"], model.predict(["CCO"])                            # doctest: +SKIP
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.utils.validation import check_is_fitted

from mdl.errors import InvalidInputError, ModelFormatError
from mdl.hub import Hub
from mdl.models.packed_features import network_features
from mdl.models.source import SourceModel
from mdl.models.state import from_state, to_state
from mdl.store.files import read_bytes, read_files, write_files
from mdl.store.manifest import read_manifest, write_manifest
from mdl.store.parse import load_json
from mdl.transfer_learning.cv import cross_validated
from mdl.transfer_learning.heads import check_head, is_head_name, make_head
from mdl.validation import (
    check_choice,
    check_cv,
    check_groups,
    check_layers,
    check_targets,
    n_inputs,
)

RECORD = "transfer.json"
_RECORD_KEYS = {"source_id", "layers", "head", "cv", "random_state", "cv_scores", "n_features_in"}
_JOINED_KEYS = {"features", "raw_columns"}  # written since transfers could join the raw descriptor


#: What a transfer head sees: the source's own features alone, or joined to the raw descriptor.
FEATURES = ("hidden", "joined")


def source_features(source: SourceModel, X: Any, layers: int | Sequence[int] | str = -1) -> np.ndarray:
    """Transfer features of ``X``: a network's hidden activations, or for other families the kept
    descriptor columns with the source's prediction as one extra column.

    Parameters
    ----------
    source : SourceModel
    X : raw inputs or a ready descriptor matrix
    layers : int, sequence of int or "all", default -1
        Hidden layers of a network source.

    Returns
    -------
    ndarray of shape (n_samples, n_features)

    Examples
    --------
    >>> source_features(mdl.pull("qm9-gap-nn-0001"), ["CCO"]).shape   # doctest: +SKIP
    (1, 32)
    """
    if source.is_network:
        return source.neural_descriptors(X, layers)
    features = source.features(X)
    return np.column_stack([features, source.check_output(source.estimator.predict(features), "predictions")])


def transfer_features(sources: Sequence[SourceModel], D: np.ndarray, layers: int | Sequence[int] | str = -1,
                      batched: bool = True) -> list[np.ndarray]:
    """:func:`source_features` of several sources sharing one descriptor spec, from its matrix ``D``.

    Parameters
    ----------
    sources : sequence of SourceModel
        Sources of one descriptor spec, of any family.
    D : ndarray of shape (n_samples, width), or list
        Their descriptor matrix, or for graph sources the graph descriptor's records of the inputs.
    layers : int, sequence of int or "all", default -1
        Hidden layers of the networks.
    batched : bool, default True
        Networks of equal depth in one padded forward pass (:func:`mdl.models.packed_features.network_features`).

    Returns
    -------
    list of ndarray
        Each source's transfer features, in the order of ``sources``.
    """
    if sources and sources[0].takes_graphs:  # D is the graph descriptor's records: each network reads them
        return [s.check_output(s.estimator.hidden_features(D, layers), "hidden layers") for s in sources]
    out: list[np.ndarray | None] = [None] * len(sources)
    nets = [i for i, s in enumerate(sources) if s.is_network]
    for i, F in zip(nets, network_features([sources[i] for i in nets], D, layers, batched)):
        out[i] = F
    for i, s in enumerate(sources):
        if not s.is_network:
            kept = D[:, s.columns]
            out[i] = np.column_stack([kept, _predict_in_this_thread(s.estimator, kept)])
    return out  # type: ignore[return-value]


def _predict_in_this_thread(estimator: Any, X: np.ndarray) -> np.ndarray:
    """A source's predictions without a thread pool: on the few hundred rows of a screening, starting one
    costs more than the threads save. A forest's trees are summed here in their order, as scikit-learn's
    forest does with one job (the same numbers, without its per-tree dispatch); another estimator with
    ``n_jobs`` predicts from a shallow copy with ``n_jobs=1``."""
    if isinstance(estimator, (RandomForestRegressor, ExtraTreesRegressor)) and hasattr(estimator, "estimators_"):
        X32 = np.asarray(X, dtype=np.float32)
        total = estimator.estimators_[0].predict(X32, check_input=False).astype(np.float64)
        for tree in estimator.estimators_[1:]:
            total += tree.predict(X32, check_input=False)
        return total / len(estimator.estimators_)
    if getattr(estimator, "n_jobs", 1) not in (1, None) and isinstance(estimator, BaseEstimator):
        estimator = copy.copy(estimator)
        estimator.n_jobs = 1
    return estimator.predict(X)


def varying_columns(D: np.ndarray) -> np.ndarray:
    """Indices of the columns of ``D`` that are not constant (the raw columns a joined head sees).

    Parameters
    ----------
    D : ndarray of shape (n_samples, width)

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> varying_columns(np.array([[0.0, 1.0, 2.0], [0.0, 3.0, 2.0]])).tolist()
    [1]
    """
    return np.flatnonzero(np.ptp(D, axis=0) > 0) if len(D) else np.arange(0)


class TransferModel(RegressorMixin, BaseEstimator):
    """A scikit-learn regressor that reuses a zoo model as a frozen featurizer.

    Parameters
    ----------
    source : str or SourceModel
        Model id in ``hub`` or a loaded model.
    head : str or BaseEstimator, default "rf"
        "rf", "ridge", "mlp", "svr" or a scikit-learn regressor.
    layers : int, sequence of int or "all", default -1
        Hidden layers used as neural descriptors (-1: the last).
    cv : int or None, default None
        Folds of a cross-validation of the head that :meth:`fit` runs and reports in ``cv_scores_``; None
        (or 0) runs none, so that fitting is one fit of the head, as scikit-learn's ``cross_val_score`` and
        ``GridSearchCV`` expect of an estimator.
    hub : str, Path, Hub or None
        Where to find ``source`` (default hub when None).
    random_state : int, default 0
        Seed of the folds and the head.
    features : {"hidden", "joined"}
        "hidden": the source's transfer features alone (a network's hidden layers; another family's kept
        columns and prediction); "joined": those joined to every non-constant column of the source's raw
        descriptor, so the head loses nothing a model from scratch would see.

    Examples
    --------
    >>> model = TransferModel("qm9-gap-nn-0003", head="rf", cv=5).fit(smiles, y)   # doctest: +SKIP
    >>> model.cv_scores_["mae"], model.predict(["CCO"])                            # doctest: +SKIP
    """

    def __init__(self, source: str | SourceModel, head: str | BaseEstimator = "rf",
                 layers: int | Sequence[int] | str = -1, cv: int | None = None, hub: str | Path | Hub | None = None,
                 random_state: int = 0, features: str = "hidden"):
        self.source = source
        self.head = head
        self.layers = layers
        self.cv = cv
        self.hub = hub
        self.random_state = random_state
        self.features = features

    def _source_model(self) -> SourceModel:
        if isinstance(self.source, SourceModel):
            return self.source
        from mdl.hub import open_hub

        return open_hub(self.hub).load(self.source)

    def head_features(self, X: Any) -> np.ndarray:
        """The transfer features the head sees (not named ``transform``: this is a regressor, and
        :class:`~mdl.transfer_learning.featurizer.NeuralDescriptors` is the feature step of a pipeline).

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self, "source_")
        return self._features(X)

    def _features(self, X: Any, fit: bool = False) -> np.ndarray:
        if self.features == "hidden":
            return source_features(self.source_, X, self.layers)
        D = self.source_.descriptor_matrix(X)
        if fit:
            self.raw_columns_ = varying_columns(D)
        return np.hstack([source_features(self.source_, D, self.layers), D[:, self.raw_columns_]])

    def fit(self, X: Any, y: Any, groups: Any = None) -> TransferModel:
        """Fit the head on the transfer features of ``X``, and cross-validate it when ``cv`` asks.

        Parameters, targets and groups are checked before the source is loaded or any descriptor
        computed.

        Parameters
        ----------
        X : raw inputs (SMILES, formulas, structures) or a ready descriptor matrix / DataFrame
            The inputs.
        y : array-like of shape (n_samples,)
            The target.
        groups : array-like, optional
            Group labels: the CV is grouped k-fold (a group is never split).

        Returns
        -------
        TransferModel
            ``self``, with ``source_``, ``head_``, ``n_features_in_`` and, with ``cv``, ``cv_scores_``
            (cross-validated MAE, RMSE and R²: mean, std and per fold) set.

        Raises
        ------
        InvalidInputError
            For a bad parameter, target or group, naming it or the rows.

        Examples
        --------
        >>> model = TransferModel("qm9-gap-nn-0003", head="ridge", cv=5).fit(smiles, y)  # doctest: +SKIP
        >>> model.cv_scores_["mae"]                                                        # doctest: +SKIP
        """
        return self._fit(X, y, groups)

    @classmethod
    def from_cv_scores(cls, cv_scores: dict[str, Any], X: Any, y: Any, groups: Any = None,
                       **params: Any) -> TransferModel:
        """A model fitted on ``(X, y)`` whose ``cv_scores_`` are the scores of its cross-validation already
        run by the caller on the same rows and folds (as :func:`mdl.screen` has them for every row), so the
        CV does not run again.

        Parameters
        ----------
        cv_scores : dict
            The scores (as :func:`~mdl.transfer_learning.cv.cv_run` gives them); its ``folds`` must equal
            ``params["cv"]``.
        X, y, groups
            As for :meth:`fit`.
        **params
            The constructor's parameters.

        Returns
        -------
        TransferModel
            Fitted, with ``cv_scores_`` the given scores (and ``grouped``).

        Raises
        ------
        InvalidInputError
            For scores that are not of a ``cv``-fold CV, or as :meth:`fit`.

        Examples
        --------
        >>> TransferModel.from_cv_scores(scores, smiles, y, source=source, head="ridge", cv=5)  # doctest: +SKIP
        """
        return cls(**params)._fit(X, y, groups, cv_scores)

    def _fit(self, X: Any, y: Any, groups: Any, cv_scores: dict[str, Any] | None = None) -> TransferModel:
        check_head(self.head)
        check_layers(self.layers)
        check_choice(self.features, "features", FEATURES)
        y = check_targets(y, n_inputs(X), multi_output=False, allow_constant=False)
        cv = check_cv(self.cv, len(y), optional=True)
        if cv is not None:
            groups = check_groups(groups, len(y), cv)
        if cv_scores is not None and (cv is None or not isinstance(cv_scores, dict) or cv_scores.get("folds") != cv):
            raise InvalidInputError(f"cv_scores must be the scores of this model's {cv}-fold CV (a dict with "
                                    f"folds={cv}); got {str(cv_scores)[:80]}")
        self.source_ = self._source_model()
        if self.source_.is_network:
            check_layers(self.layers, self.source_.estimator.n_hidden_layers, self.source_.model_id)
        F = self._features(X, fit=True)
        y = check_targets(y, len(F), multi_output=False)
        self.n_features_in_ = F.shape[1]
        if cv_scores is not None:
            self.cv_scores_ = {**cv_scores, "grouped": groups is not None}
        elif cv is not None:
            self.cv_scores_ = cross_validated(make_head(self.head, self.random_state), F, y, cv, groups,
                                              self.random_state)
        else:
            vars(self).pop("cv_scores_", None)  # a refit without CV keeps no scores of an earlier fit
        self.head_ = make_head(self.head, self.random_state).fit(F, y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the head on the transfer features of ``X``.

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix
            As for :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples,)

        Raises
        ------
        ModelFormatError
            When the head gives non-finite predictions for finite features.
        """
        check_is_fitted(self, "head_")
        predictions = self.head_.predict(self.head_features(X))
        if not np.isfinite(predictions).all():
            raise ModelFormatError("predictions are not finite for finite features", model=self.source_.model_id,
                                   file="head")
        return predictions

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write source, head and metadata into ``folder`` (safetensors + JSON, sha256 manifest).

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
        hashes = {f"source/{k}": v for k, v in self.source_.save(folder / "source").items()}
        config, arrays, blobs = to_state(self.head_)
        hashes.update({f"head/{k}": v for k, v in write_files(folder / "head", config, arrays, blobs).items()})
        record = {"source_id": self.source_.model_id, "layers": self.layers,
                  "head": self.head if isinstance(self.head, str) else type(self.head).__name__,
                  "cv": self.cv, "random_state": self.random_state,
                  "cv_scores": getattr(self, "cv_scores_", None), "n_features_in": self.n_features_in_,
                  "features": self.features,
                  "raw_columns": getattr(self, "raw_columns_", np.arange(0)).tolist()}
        write_manifest(folder, hashes, RECORD, record)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TransferModel:
        """Read a model written by :meth:`save`.

        ``manifest.json`` lists every file with its sha256 (``transfer.json``, ``source/…``, ``head/…``);
        only those files are read, each once, with the same bounds and schema checks as a model pulled
        from a hub.

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        TransferModel

        Raises
        ------
        ModelFormatError
            For a file that is missing, unlisted, altered or out of bounds, naming the file and field.
        """
        folder = Path(folder).expanduser()
        name = folder.name
        parts = read_manifest(folder, RECORD, ("source", "head"))
        record = load_json(read_bytes(folder, RECORD, parts[""], model=name), model=name, file=RECORD)
        source = SourceModel.load(folder / "source", parts["source"])
        config, arrays, blobs = read_files(folder / "head", parts["head"], model=f"{name}/head")
        head = from_state(config, arrays, blobs, model=f"{name}/head")
        _check_record(record, source, head, name)
        model = cls(source=record["source_id"], head=record["head"] if is_head_name(record["head"])
                    else head, layers=record["layers"], cv=record["cv"], random_state=record["random_state"],
                    features=record.get("features", "hidden"))
        model.source_, model.head_, model.n_features_in_ = source, head, record["n_features_in"]
        if model.features == "joined":
            model.raw_columns_ = np.asarray(record["raw_columns"], dtype=np.int64)
        if record["cv_scores"] is not None:
            model.cv_scores_ = record["cv_scores"]
        return model


def _check_record(record: Any, source: SourceModel, head: BaseEstimator, name: str) -> None:
    """``transfer.json`` against the source and head it joins: keys, types, layers and widths."""
    def fail(field: str, message: str) -> ModelFormatError:
        return ModelFormatError(message, model=name, file=RECORD, field=field)

    if not isinstance(record, dict) or not _RECORD_KEYS <= set(record) <= _RECORD_KEYS | _JOINED_KEYS:
        raise fail("", f"expected the keys {sorted(_RECORD_KEYS)} (and {sorted(_JOINED_KEYS)})")
    features = record.setdefault("features", "hidden")
    raw = record.setdefault("raw_columns", [])
    if features not in FEATURES:
        raise fail("features", f"expected one of {FEATURES}")
    if not isinstance(raw, list) or len(raw) > source.descriptor.width or (features == "hidden" and raw) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < source.descriptor.width for i in raw) \
            or any(a >= b for a, b in zip(raw, raw[1:])):
        raise fail("raw_columns", f"expected increasing column indices below the descriptor width "
                                  f"{source.descriptor.width} (none unless features is 'joined')")
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
    width += len(raw)
    if record["n_features_in"] != width or head.n_features_in_ != width:
        raise fail("n_features_in", f"{record['n_features_in']} (head: {head.n_features_in_}), but the source "
                                    f"gives {width} transfer features")
