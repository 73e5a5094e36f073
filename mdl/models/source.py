"""A source model of the zoo: descriptor spec + kept columns + fitted estimator + its card.

>>> model = SourceModel.load("~/.cache/mdl/hub/qm9-homo/models/qm9-homo-nn-0000")  # doctest: +SKIP
>>> model.predict(["CCO", "c1ccccc1"])                                                # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import math
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from mdl.descriptors import DescriptorSpec, from_spec
from mdl.descriptors.registry import check_bounds, descriptor_kind
from mdl.errors import DescriptorMismatchError, InvalidInputError, ModelFormatError
from mdl.models.hidden import HiddenLayers
from mdl.models.state import from_state, to_state
from mdl.store.files import read_files, write_files
from mdl.store.names import CONFIG, WEIGHTS

FAMILIES = ("nn", "rf", "gb", "en", "gnn")
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_RECORD = {"model_id", "estimator", "descriptor", "info", "blobs"}


@dataclass
class SourceModel:
    """A fitted zoo model and everything needed to use it on raw inputs.

    ``info`` is the model's card: family, material, property (or properties), unit, dataset and
    its hash, hyperparameters, split, test metrics, library versions. ``folder`` is where it was loaded
    from (a hub's model folder or the Hugging Face cache), None for a model built in memory.
    """

    model_id: str
    estimator: BaseEstimator
    descriptor: DescriptorSpec
    columns: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = field(default=None, compare=False, repr=False)

    @property
    def family(self) -> str:
        """The model family.

        Returns
        -------
        str
            "nn", "rf", "gb" or "en" as recorded ("?" when unknown).
        """
        return str(self.info.get("family", "nn" if self.is_network else "?"))

    @property
    def is_network(self) -> bool:
        """True for an estimator with the hidden-layer API (:class:`~mdl.models.hidden.HiddenLayers`)."""
        return isinstance(self.estimator, HiddenLayers)

    @property
    def takes_graphs(self) -> bool:
        """True when the descriptor hands the model records (graphs, structures), not a matrix."""
        return descriptor_kind(self.descriptor.name) == "graph"

    @property
    def properties(self) -> list[str]:
        """The property (or, for a multi-property network, the properties) the model predicts."""
        return list(self.info.get("properties") or [str(self.info.get("property", ""))])

    @property
    def column_names(self) -> list[str]:
        """The names of the descriptor columns the model keeps.

        Returns
        -------
        list of str
            In the order the estimator reads them.
        """
        return [self.descriptor.columns[i] for i in self.columns]

    # -- inputs --------------------------------------------------------------------------------
    def descriptor_matrix(self, X: Any) -> np.ndarray:
        """The full descriptor matrix of ``X``: raw inputs are featurised with the recorded spec;
        a ready matrix (array or DataFrame) is checked against the spec's width and column names.

        Parameters
        ----------
        X : sequence, array-like or DataFrame
            Raw inputs (a single one is taken as a list of one), or the full descriptor matrix.

        Returns
        -------
        numpy.ndarray
            (n, descriptor width).

        Raises
        ------
        InvalidInputError
            For a graph descriptor (it has no matrix), or rows with NaN or infinite values.
        DescriptorMismatchError
            For a ready matrix of another width, or a DataFrame missing descriptor columns.
        """
        if self.takes_graphs:
            raise InvalidInputError(f"model {self.model_id} reads crystal structures through the graph descriptor "
                                    f"{self.descriptor.name!r}: it has no descriptor matrix")
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

    def inputs(self, X: Any) -> Any:
        """What the estimator reads: the kept descriptor columns (matrix descriptors), or the graph
        descriptor's list of records (one per input structure).

        Parameters
        ----------
        X : sequence, array-like or DataFrame
            Raw inputs (a single one, a structure included, is taken as a list of one), or for a matrix
            descriptor the full descriptor matrix.

        Returns
        -------
        numpy.ndarray or list
            The kept columns, (n, len(columns)), or one record per input.

        Raises
        ------
        InvalidInputError
            For inputs the descriptor cannot read.
        DescriptorMismatchError
            For a ready matrix that does not match the descriptor.
        """
        if not self.takes_graphs:
            return self.descriptor_matrix(X)[:, self.columns]
        single = hasattr(X, "lattice") and hasattr(X, "sites")  # one pymatgen Structure (a Sequence of sites)
        if single or isinstance(X, (str, bytes)) or not isinstance(X, (Sequence, np.ndarray, pd.Series, pd.Index)):
            X = [X]
        return from_spec(self.descriptor).inputs(list(X))

    def features(self, X: Any) -> Any:
        """The model's input (:meth:`inputs`).

        Parameters
        ----------
        X : sequence, array-like or DataFrame
            As for :meth:`inputs`.

        Returns
        -------
        numpy.ndarray or list
            As :meth:`inputs` returns it.
        """
        return self.inputs(X)

    # -- outputs -------------------------------------------------------------------------------
    def predict(self, X: Any) -> np.ndarray:
        """Predictions for raw inputs or a descriptor matrix.

        Parameters
        ----------
        X : sequence or array-like
            Raw inputs, or the full descriptor matrix.

        Returns
        -------
        numpy.ndarray
            One prediction per row (a column per property for a multi-property network).

        Raises
        ------
        ModelFormatError
            When the model gives a non-finite number for valid input.
        """
        return self.check_output(self.estimator.predict(self.features(X)), "predictions")

    def neural_descriptors(self, X: Any, layers: int | Sequence[int] | str = -1) -> np.ndarray:
        """Hidden-layer activations of a network source (its output layer is never run).

        Parameters
        ----------
        X : sequence or array-like
            Raw inputs, or the full descriptor matrix.
        layers : int, sequence of int or "all"
            The hidden layers (see :func:`~mdl.validation.check_layers`).

        Returns
        -------
        numpy.ndarray
            The activations, layers side by side.

        Raises
        ------
        TypeError
            When the model is not a network.
        """
        if not self.is_network:
            raise TypeError(f"model {self.model_id} is a {self.family!r} model, not a network")
        return self.check_output(self.estimator.hidden_features(self.features(X), layers), "hidden layers")

    def check_output(self, values: np.ndarray, what: str) -> np.ndarray:
        """Values computed by the model from finite inputs, checked.

        Parameters
        ----------
        values : numpy.ndarray
            The values.
        what : str
            What they are, for the error.

        Returns
        -------
        numpy.ndarray
            ``values``.

        Raises
        ------
        ModelFormatError
            Naming the rows that came out NaN or infinite (the stored weights overflow: the model is
            broken, not the input).
        """
        bad = ~np.isfinite(values)
        if bad.any():
            rows = np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))
            raise ModelFormatError(f"{what} are not finite for rows {rows[:10].tolist()} of finite inputs",
                                   model=self.model_id, file=WEIGHTS)
        return values

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: str | Path) -> dict[str, str]:
        """Write the model into a folder.

        Parameters
        ----------
        folder : str or Path
            The folder.

        Returns
        -------
        dict of str to str
            ``{file name: sha256}`` of the files written.
        """
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

    def to_bytes(self) -> dict[str, bytes]:
        """The model's saved files (:meth:`save`) as bytes: how a model travels between processes (a Ray
        task, a worker), never pickled.

        Returns
        -------
        dict of str to bytes
            File name to content.

        Examples
        --------
        >>> SourceModel.from_bytes(model.to_bytes()).model_id == model.model_id   # doctest: +SKIP
        True
        """
        with tempfile.TemporaryDirectory() as tmp:
            names = self.save(tmp)
            return {name: (Path(tmp) / name).read_bytes() for name in names}

    @classmethod
    def from_bytes(cls, files: dict[str, bytes]) -> SourceModel:
        """A model from the files of :meth:`to_bytes`, each hashed as it arrives and read as :meth:`load`
        reads a folder (parsed with bounds, checked against its hash).

        Parameters
        ----------
        files : dict of str to bytes
            File name to content.

        Returns
        -------
        SourceModel

        Raises
        ------
        ModelFormatError, IntegrityError
            As :meth:`load`.
        """
        with tempfile.TemporaryDirectory() as tmp:
            hashes = {}
            for name, data in files.items():
                (Path(tmp) / name).write_bytes(data)
                hashes[name] = hashlib.sha256(data).hexdigest()
            return cls.load(tmp, hashes)

    @classmethod
    def load(cls, folder: str | Path, hashes: dict[str, str] | None = None,
             model_id: str | None = None) -> SourceModel:
        """Read a model written by :meth:`save`.

        Every file is parsed with bounds and checked against a schema before anything is built
        (:mod:`mdl.store.files`, :mod:`mdl.store.registry`).

        Parameters
        ----------
        folder : str or Path
            The folder.
        hashes : dict of str to str, optional
            The pinned manifest: only the files it lists are read, each verified.
        model_id : str, optional
            Must be the id recorded inside.

        Returns
        -------
        SourceModel
            The model.

        Raises
        ------
        ModelFormatError, IntegrityError
            Naming the model, the file and the field.
        """
        folder = Path(folder).expanduser()
        name = model_id or folder.name
        record, arrays, blobs = read_files(folder, hashes, model=name)
        descriptor = _check_record(record, name, model_id)
        name = record["model_id"]
        est_arrays = {k[len("estimator."):]: v for k, v in arrays.items() if k.startswith("estimator.")}
        stray = sorted(set(arrays) - {"columns"} - {f"estimator.{k}" for k in est_arrays})
        if stray:
            raise ModelFormatError("unexpected array", model=name, file=WEIGHTS, field=stray[0])
        estimator = from_state(record["estimator"], est_arrays, blobs, model=name, prefix="estimator.")
        graph_names = getattr(estimator, "input_descriptors", None)
        graphs = descriptor_kind(descriptor.name) == "graph"
        if graphs != (graph_names is not None) or graphs and descriptor.name not in graph_names:
            takes = f"descriptor {' or '.join(map(repr, graph_names))}" if graph_names else "a descriptor matrix"
            raise ModelFormatError(f"a {type(estimator).__name__} takes {takes}, not {descriptor.name!r}",
                                   model=name, file=CONFIG, field="descriptor.name")
        n_features = 0 if graphs else int(estimator.n_features_in_)
        columns = arrays.get("columns")
        if columns is None or columns.ndim != 1 or columns.dtype.kind not in "iu" or len(columns) != n_features:
            raise ModelFormatError(f"expected {n_features} whole-number column indices", model=name,
                                   file=WEIGHTS, field="columns")
        if len(columns) and (columns.min() < 0 or columns.max() >= descriptor.width):
            raise ModelFormatError(f"column indices must lie in [0, {descriptor.width}) (the descriptor's width)",
                                   model=name, file=WEIGHTS, field="columns")
        return cls(
            model_id=name,
            estimator=estimator,
            descriptor=descriptor,
            columns=np.asarray(columns, dtype=np.int64),
            info=record["info"],
            folder=folder,
        )


def _check_record(record: dict, name: str, model_id: str | None) -> DescriptorSpec:
    """The record's keys, id and card types; returns its descriptor spec."""
    keys = set(record)
    if keys != _RECORD:
        odd = min((keys - _RECORD) or (_RECORD - keys))
        raise ModelFormatError("unexpected key" if odd in keys else "missing", model=name, file=CONFIG, field=odd)
    recorded = record["model_id"]
    if not isinstance(recorded, str) or not _MODEL_ID.fullmatch(recorded):
        raise ModelFormatError(f"not a model id: {str(recorded)[:80]!r}", model=name, file=CONFIG, field="model_id")
    if model_id is not None and recorded != model_id:
        raise ModelFormatError(f"the file says {recorded!r}, the index {model_id!r}", model=model_id, file=CONFIG,
                               field="model_id")
    info = record["info"]
    if not isinstance(info, dict):
        raise ModelFormatError("expected a JSON object", model=recorded, file=CONFIG, field="info")
    for key, kind in (("family", str), ("property", str), ("properties", list), ("transferred", bool),
                      ("source_model", str), ("transfer", dict)):
        if key in info and info[key] is not None and not isinstance(info[key], kind):
            raise ModelFormatError(f"expected {kind.__name__}, got {type(info[key]).__name__}", model=recorded,
                                   file=CONFIG, field=f"info.{key}")
    if not all(isinstance(p, str) for p in info.get("properties") or []):
        raise ModelFormatError("expected a list of names", model=recorded, file=CONFIG, field="info.properties")
    try:
        spec = DescriptorSpec.from_dict(record["descriptor"])
        check_bounds(spec.name, spec.params)
    except (DescriptorMismatchError, InvalidInputError) as exc:
        raise ModelFormatError(str(exc), model=recorded, file=CONFIG, field="descriptor") from None
    return spec


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
