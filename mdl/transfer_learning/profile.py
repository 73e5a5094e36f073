"""The zoo's prediction profile: what every source predicts for a sample, used as that sample's descriptor.

A network's hidden layer is one source's compression of its input, and picking the one source whose
features score best on ~100 rows mostly picks noise. The profile pools the zoo instead: each of hundreds
of sources (networks, forests, boosted trees, elastic nets, for a dozen related properties) contributes
its prediction as one column, and a smooth head (support-vector regression, ridge on the standardised
columns, or the mean of the two) learns how the target relates to all of them at once. On targets that no
source saw this beat training from scratch where single-source transfer did not (``tools/bench_transfer.py``).

With ``join`` the profile is joined by the raw descriptor the sources read (a fingerprint, a composition
vector): the profile adds to what a model trained from scratch sees instead of replacing it, and an
``svr`` head weighs the two blocks with a kernel of each (:class:`~mdl.models.svr.KernelSVR` with
``split``), the weight chosen by CV.

A :class:`ProfileModel` depends on many sources, so it is saved as their ids and card fingerprints, not as
copies: loading it reads the sources from the hub again and refuses any whose card changed since the
model was fitted.

>>> model = ProfileModel(mdl.search(material="molecule").model_id, head="svr").fit(smiles, y)  # doctest: +SKIP
>>> model.predict(["CCO"])                                                                     # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from mdl.config import limit
from mdl.errors import InvalidInputError, ModelFormatError
from mdl.hub import Hub
from mdl.models.source import SourceModel
from mdl.models.state import from_state, to_state
from mdl.models.svr import KernelSVR
from mdl.store.files import read_files, write_files
from mdl.store.manifest import read_record, write_manifest
from mdl.transfer_learning.heads import check_head, is_head_name, make_head
from mdl.transfer_learning.model import varying_columns
from mdl.transfer_learning.loading import group_by_spec, load_sources
from mdl.validation import check_targets, n_inputs

__all__ = ["PROFILE_HEADS", "ProfileModel", "card_fingerprint", "outputs_from_features", "profile_features"]

#: The heads of the profile rows a screening scores (one row each).
PROFILE_HEADS = ("svr", "ridge", "svr+ridge")
RECORD = "profile.json"
_RECORD_KEYS = {"source_ids", "source_cards", "head", "random_state", "columns", "n_outputs", "join", "raw_columns"}


def profile_features(sources: Sequence[SourceModel], matrices: dict[str, np.ndarray]) -> np.ndarray:
    """Every output of every source's prediction, one column each, in the order of ``sources``.

    Parameters
    ----------
    sources : sequence of SourceModel
        Sources on descriptor matrices (graph sources are not part of a profile).
    matrices : dict of str to ndarray
        The descriptor matrix of each source's spec fingerprint.

    Returns
    -------
    ndarray of shape (n_samples, total outputs of the sources)

    Examples
    --------
    >>> profile_features(sources, {s.descriptor.fingerprint(): D for s in sources})  # doctest: +SKIP
    """
    columns = []
    for s in sources:
        D = matrices[s.descriptor.fingerprint()]
        out = np.asarray(s.predict(D), dtype=float).reshape(len(D), -1)
        columns.append(s.check_output(out, "predictions"))
    return np.hstack(columns)


def outputs_from_features(source: SourceModel, F: np.ndarray) -> np.ndarray:
    """A source's predictions (every output a column) from its transfer features with the last hidden layer
    (:func:`~mdl.transfer_learning.model.transfer_features` with ``layers=-1``), without running it again:
    a network's output layer on them, or the prediction columns that end another family's features. A
    screening builds its profile from these.

    Parameters
    ----------
    source : SourceModel
        A source on a descriptor matrix (not a graph source).
    F : ndarray of shape (n_samples, features)
        Its transfer features with the last hidden layer.

    Returns
    -------
    ndarray of shape (n_samples, outputs)
        As :func:`profile_features` gives for ``[source]`` (a network's equal up to float32 rounding of the
        batched forward pass).

    Raises
    ------
    ModelFormatError
        When a prediction is not finite (the source is then left out of a profile).

    Examples
    --------
    >>> outputs_from_features(source, transfer_features([source], D)[0])   # doctest: +SKIP
    """
    out = source.estimator.predict_from_hidden(F) if source.is_network else F[:, len(source.columns):]
    return source.check_output(np.asarray(out, dtype=float).reshape(len(F), -1), "predictions")


def card_fingerprint(source: SourceModel) -> str:
    """sha256 of a source's card (its ``info``: data set hash, hyperparameters, metrics, creation time), which
    changes whenever the model is retrained or republished.

    Parameters
    ----------
    source : SourceModel

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> len(card_fingerprint(source))  # doctest: +SKIP
    64
    """
    return hashlib.sha256(json.dumps(source.info, sort_keys=True, default=str).encode()).hexdigest()


class ProfileModel(RegressorMixin, BaseEstimator):
    """A scikit-learn regressor on the zoo's prediction profile (every source's prediction as a column).

    Parameters
    ----------
    sources : sequence of str or SourceModel
        Model ids in ``hub`` or loaded models (at most ``MDL_MAX_WIDTH``; graph sources are refused).
    head : str or BaseEstimator, default "svr"
        A head name of :mod:`mdl.transfer_learning.heads` ("svr", "ridge", "svr+ridge"...) or a scikit-learn
        regressor; it sees the profile's varying columns.
    hub : str, Path, Hub or None
        Where sources given by id are found, now and when the saved model is loaded (default hub when None).
    random_state : int, default 0
        Seed of the head.
    join : str or None, default None
        A descriptor the sources read (its name, e.g. "morgan", or its spec fingerprint) whose non-constant
        columns are joined after the profile's; with the "svr" head the two blocks get a kernel each.

    Attributes
    ----------
    sources_ : list of SourceModel
    columns_ : ndarray of int
        The profile columns the head sees (those that varied over the training rows).
    join_ : str or None
        The spec fingerprint of the joined descriptor.
    raw_columns_ : ndarray of int
        Its columns the head sees (those that varied over the training rows; none without ``join``).

    Examples
    --------
    >>> model = ProfileModel(["qm9-gap-nn-0001", "qm9-alpha-rf-0002"], head="ridge").fit(smiles, y)  # doctest: +SKIP
    >>> model.head_features(["CCO"]).shape                                                     # doctest: +SKIP
    (1, 2)
    >>> ProfileModel(ids, head="svr", join="morgan").fit(smiles, y).predict(["CCO"])          # doctest: +SKIP
    """

    def __init__(self, sources: Sequence[str | SourceModel] = (), head: str | BaseEstimator = "svr",
                 hub: str | Path | Hub | None = None, random_state: int = 0, join: str | None = None):
        self.sources = sources
        self.head = head
        self.hub = hub
        self.random_state = random_state
        self.join = join

    def _load_sources(self) -> list[SourceModel]:
        sources = list(self.sources)
        if not 0 < len(sources) <= limit("width"):
            raise InvalidInputError(f"sources must list 1 to {limit('width')} models (MDL_MAX_WIDTH), got {len(sources)}")
        ids = [s for s in sources if not isinstance(s, SourceModel)]
        loaded = dict(zip(ids, load_sources(ids, self.hub))) if ids else {}
        models = [s if isinstance(s, SourceModel) else loaded[s] for s in sources]
        graphs = [s.model_id for s in models if s.takes_graphs]
        if graphs:
            raise InvalidInputError(f"a prediction profile is built from descriptor-matrix sources; graph sources "
                                    f"given: {', '.join(graphs[:5])}")
        return models

    def _join_key(self) -> str | None:
        """The spec fingerprint of the joined descriptor (None without ``join``)."""
        if self.join is None:
            return None
        specs = {key: group[0].descriptor.name for key, group in group_by_spec(self.sources_).items()}
        keys = [key for key, name in specs.items() if self.join in (key, name)]
        if len(keys) != 1:
            named = ", ".join(sorted(set(specs.values())))
            raise InvalidInputError(f"join must name one descriptor the sources read ({named}) or its spec "
                                    f"fingerprint ({', '.join(specs)}); {self.join!r} matches {len(keys)}")
        return keys[0]

    def _inputs(self, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """The profile of ``X`` and, with ``join``, the joined descriptor's full matrix."""
        matrices = {key: group[0].descriptor_matrix(X) for key, group in group_by_spec(self.sources_).items()}
        return profile_features(self.sources_, matrices), matrices[self.join_] if self.join_ else None

    def fit(self, X: Any, y: Any) -> ProfileModel:
        """Fit the head on the profile of ``X``.

        Parameters
        ----------
        X : raw inputs (SMILES, formulas...)
        y : array-like of shape (n_samples,)

        Returns
        -------
        ProfileModel
            ``self``, fitted.

        Raises
        ------
        InvalidInputError
            For a bad head or target, no or too many sources, a graph source, or no varying column.
        """
        check_head(self.head)
        y = check_targets(y, n_inputs(X), multi_output=False, allow_constant=False)
        self.sources_ = self._load_sources()
        self.join_ = self._join_key()
        return self.fit_profile(*self._inputs(X), y)

    @classmethod
    def from_profile(cls, sources: Sequence[SourceModel], F: np.ndarray, D: np.ndarray | None, y: np.ndarray, *,
                     head: str | BaseEstimator = "svr", hub: str | Path | Hub | None = None, random_state: int = 0,
                     join: str | None = None) -> ProfileModel:
        """A model fitted on a profile already computed from loaded ``sources`` (as a screening has it), so
        the sources do not run again.

        Parameters
        ----------
        sources : sequence of SourceModel
            The loaded sources, in the order of the profile's columns.
        F, D, y
            As for :meth:`fit_profile`.
        head, hub, random_state, join
            As for the constructor.

        Returns
        -------
        ProfileModel
            Fitted, with ``sources_`` the given models.

        Examples
        --------
        >>> model = ProfileModel.from_profile(sources, F, None, y, head="ridge")   # doctest: +SKIP
        """
        model = cls(list(sources), head=head, hub=hub, random_state=random_state, join=join)
        model.sources_ = list(sources)
        return model.fit_profile(F, D, y)

    def fit_profile(self, F: np.ndarray, D: np.ndarray | None, y: np.ndarray) -> ProfileModel:
        """Fit the head on a profile already computed from ``sources_`` (as a screening has it).

        Parameters
        ----------
        F : ndarray of shape (n_samples, outputs)
            :func:`profile_features` of ``sources_``.
        D : ndarray of shape (n_samples, width) or None
            The joined descriptor's full matrix (None without ``join``).
        y : ndarray of shape (n_samples,)

        Returns
        -------
        ProfileModel
            ``self``, fitted.
        """
        self.join_ = self._join_key()
        self.n_outputs_ = F.shape[1]
        self.columns_ = varying_columns(F)
        if not len(self.columns_):
            raise InvalidInputError("every source predicts the same value for every row: the profile has no "
                                    "varying column to fit")
        self.raw_columns_ = varying_columns(D) if self.join_ else np.zeros(0, dtype=np.int64)
        head = make_head(self.head, self.random_state)
        if isinstance(head, KernelSVR) and len(self.raw_columns_):
            head.set_params(split=len(self.columns_))
        self.head_ = head.fit(self._joined(F, D), y)
        return self

    def _joined(self, F: np.ndarray, D: np.ndarray | None) -> np.ndarray:
        return np.hstack([F[:, self.columns_], D[:, self.raw_columns_]]) if self.join_ else F[:, self.columns_]

    def head_features(self, X: Any) -> np.ndarray:
        """The columns the head sees: the profile's, then the joined descriptor's.

        Parameters
        ----------
        X : raw inputs

        Returns
        -------
        ndarray of shape (n_samples, len(columns_) + len(raw_columns_))
        """
        check_is_fitted(self, "head_")
        F, D = self._inputs(X)
        if F.shape[1] != self.n_outputs_:
            raise ModelFormatError(f"the sources give {F.shape[1]} outputs, the model was fitted on {self.n_outputs_}",
                                   model="profile", field="n_outputs")
        return self._joined(F, D)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the head.

        Parameters
        ----------
        X : raw inputs

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        F = self.head_features(X)  # checks that the model is fitted
        return np.asarray(self.head_.predict(F), dtype=float)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the head, ``profile.json`` (source ids and card fingerprints, kept columns) and a manifest.

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
        config, arrays, blobs = to_state(self.head_)
        hashes = {f"head/{k}": v for k, v in write_files(folder / "head", config, arrays, blobs).items()}
        record = {"source_ids": [s.model_id for s in self.sources_],
                  "source_cards": [card_fingerprint(s) for s in self.sources_],
                  "head": self.head if isinstance(self.head, str) else type(self.head).__name__,
                  "random_state": self.random_state, "columns": self.columns_.tolist(),
                  "n_outputs": self.n_outputs_, "join": self.join_, "raw_columns": self.raw_columns_.tolist()}
        write_manifest(folder, hashes, RECORD, record)
        return folder

    @classmethod
    def load(cls, folder: str | Path, hub: str | Path | Hub | None = None) -> ProfileModel:
        """Read a model written by :meth:`save`; its sources come from ``hub`` and must be the very models
        it was fitted with (same card fingerprints).

        Parameters
        ----------
        folder : str or Path
        hub : str, Path, Hub or None
            Where the sources are (default hub when None).

        Returns
        -------
        ProfileModel

        Raises
        ------
        ModelFormatError
            For a missing, unlisted, altered or inconsistent file, or a source whose card changed.
        """
        folder = Path(folder).expanduser()
        name = folder.name
        parts, record = read_record(folder, RECORD, _RECORD_KEYS, ("head",))
        seed = record["random_state"]
        ids, cards = record["source_ids"], record["source_cards"]
        if not isinstance(ids, list) or not 0 < len(ids) <= limit("width") or not all(isinstance(i, str) for i in ids):
            raise ModelFormatError(f"expected a list of 1 to {limit('width')} ids", model=name, file=RECORD,
                                   field="source_ids")
        if not isinstance(cards, list) or len(cards) != len(ids):
            raise ModelFormatError("expected one card fingerprint per source", model=name, file=RECORD,
                                   field="source_cards")
        n_outputs = record["n_outputs"]
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or not 0 < n_outputs <= limit("width"):
            raise ModelFormatError(f"expected a whole number in [1, {limit('width')}]", model=name, file=RECORD,
                                   field="n_outputs")
        columns = record["columns"]
        if not isinstance(columns, list) or not columns or not all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n_outputs for i in columns):
            raise ModelFormatError(f"expected column indices below {n_outputs}", model=name, file=RECORD,
                                   field="columns")
        join, raw_columns = record["join"], record["raw_columns"]
        if join is not None and not isinstance(join, str) or not isinstance(raw_columns, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < limit("width") for i in raw_columns) \
                or bool(raw_columns) != (join is not None):
            raise ModelFormatError("expected a spec fingerprint and its column indices, or null and []", model=name,
                                   file=RECORD, field="join")
        config, arrays, blobs = read_files(folder / "head", parts["head"], model=f"{name}/head")
        head = from_state(config, arrays, blobs, model=f"{name}/head")
        if getattr(head, "n_features_in_", None) != len(columns) + len(raw_columns):
            raise ModelFormatError(f"the head takes {getattr(head, 'n_features_in_', None)} columns, the record "
                                   f"keeps {len(columns) + len(raw_columns)}", model=name, file=RECORD, field="columns")
        model = cls(ids, head=record["head"] if is_head_name(record["head"]) else head, hub=hub, random_state=seed,
                    join=join)
        model.sources_ = model._load_sources()
        try:
            model.join_ = model._join_key()
        except InvalidInputError:
            raise ModelFormatError(f"no source reads the joined descriptor {join[:64]!r}", model=name, file=RECORD,
                                   field="join") from None
        if model.join_:
            width = next(s.descriptor.width for s in model.sources_ if s.descriptor.fingerprint() == model.join_)
            if any(i >= width for i in raw_columns):
                raise ModelFormatError(f"expected column indices below the descriptor's width {width}", model=name,
                                       file=RECORD, field="raw_columns")
        changed = [s.model_id for s, card in zip(model.sources_, cards) if card_fingerprint(s) != card]
        if changed:
            raise ModelFormatError(f"{len(changed)} source(s) differ from the ones this model was fitted with "
                                   f"(their cards changed on the hub): {', '.join(changed[:5])}", model=name,
                                   file=RECORD, field="source_cards")
        model.head_, model.columns_ = head, np.asarray(columns, dtype=np.int64)
        model.n_outputs_, model.raw_columns_ = n_outputs, np.asarray(raw_columns, dtype=np.int64)
        return model
