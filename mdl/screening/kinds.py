"""The kinds of board row: each one object that builds its candidates, scores them, names them and refits them.

:data:`KINDS` is the one table of them, in the order rows are built. A new kind of row is one
:class:`RowKind` subclass added to it: the second stage (:func:`~mdl.screening.candidates.second_stage`),
the pick (:func:`~mdl.screening.candidates.choose`, by :attr:`RowKind.tier`: :func:`tiers`), the board's columns and
``estimate`` and :meth:`Leaderboard.model <mdl.screening.leaderboard.Leaderboard.model>` ask it.

* ``transfer`` rows: a source's transfer features alone (``features="hidden"``), or joined to the raw
  descriptor (``"joined"``: nothing a scratch model sees is thrown away);
* a ``stacked`` row: the raw descriptor joined with the predictions of the top sources (those sharing the
  best source's descriptor);
* ``profile`` rows: the predictions of every screened source as the descriptor
  (:mod:`mdl.transfer_learning.profile`), one row per head of :data:`PROFILE_HEADS`, and one per raw
  descriptor joined to the profile (``features="profile+raw"``, an ``svr`` head with a kernel per block);
* ``scratch`` rows: a random forest and gradient boosting on the raw descriptor alone;
* ``mean`` rows (:mod:`mdl.transfer_learning.mean`): the best profile row with the best scratch row, every
  profile row, and every profile row with the best scratch row, averaged; built after the others are
  scored, and scored exactly from their members' out-of-fold predictions.

>>> list(KINDS), tiers()
(['transfer', 'stacked', 'profile', 'scratch', 'mean'], (('scratch',), ('mean',), ('profile',), ('transfer', 'stacked')))
>>> CANDIDATES
('hidden', 'joined', 'stacked', 'profile')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone

from mdl.models.source import SourceModel
from mdl.screening.context import Candidate, ScreenContext, StageInputs
from mdl.transfer_learning.cv import Splits, fold_scores
from mdl.transfer_learning.heads import make_head
from mdl.transfer_learning.mean import MeanModel, mean_rows
from mdl.transfer_learning.model import FEATURES, TransferModel, varying_columns
from mdl.transfer_learning.profile import PROFILE_HEADS, ProfileModel
from mdl.transfer_learning.scratch import SCRATCH, ScratchModel, make_scratch
from mdl.transfer_learning.stacking import StackedTransferModel

__all__ = ["CANDIDATES", "KINDS", "RowKind", "head_name", "main_scores", "model_of", "source_row", "tiers"]


class RowKind:
    """One kind of board row. Subclasses set the class attributes and implement :meth:`build`,
    :meth:`describe`, :meth:`estimate` and :meth:`refit`. The second stage cross-validates a kind's
    ``learner`` on its ``F``, and :meth:`held_out` refits it, unless the kind is ``derived`` (built from the
    other rows' results), which then implements :meth:`score` (and :meth:`held_out` if it has no learner)."""

    #: the ``kind`` column's value
    name: ClassVar[str]
    #: the values of ``features=`` that ask for rows of this kind
    modes: ClassVar[tuple[str, ...]] = ()
    #: the tier of :func:`~mdl.screening.candidates.choose`: lower tiers involve less choosing
    tier: ClassVar[int]
    #: built from the scored rows of the other kinds (after them), not from the inputs alone
    derived: ClassVar[bool] = False

    def build(self, inputs: StageInputs, scored: Sequence[Candidate] = (),
              mae: Mapping[str, float] | None = None) -> list[Candidate]:
        """This kind's candidates for the chosen sources of ``inputs``.

        Parameters
        ----------
        inputs : StageInputs
            What the second stage builds from: the chosen sources, their features, the raw descriptors.
        scored : sequence of Candidate
            The rows scored before (for a derived kind, such as ``mean``).
        mae : mapping of str to float, optional
            Their CV MAE by label.

        Returns
        -------
        list of Candidate
            The rows to score.
        """
        raise NotImplementedError

    def score(self, c: Candidate, y: np.ndarray, splits: Splits, rows: np.ndarray | None,
              oof: Mapping[str, np.ndarray]) -> tuple[dict[str, Any], np.ndarray]:
        """CV scores and out-of-fold predictions of a derived row ``c`` (the rows of the other kinds are scored
        together, by cross-validating each one's ``learner`` on its ``F``: :func:`~mdl.transfer_learning.cv.cv_runs`).

        Parameters
        ----------
        c : Candidate
            The row.
        y : numpy.ndarray
            The target on ``rows``.
        splits : Splits
            The folds, indexing ``rows``.
        rows : numpy.ndarray or None
            The rows of ``c``'s features to use (None: every row).
        oof : mapping of str to numpy.ndarray
            The out-of-fold predictions of the rows scored before, by label.

        Returns
        -------
        scores : dict
            MAE, RMSE, R² and their spread over the folds.
        oof : numpy.ndarray
            The out-of-fold predictions.
        """
        raise NotImplementedError

    def held_out(self, c: Candidate, by_label: Mapping[str, Candidate], y: np.ndarray, train: np.ndarray,
                 test: np.ndarray) -> np.ndarray:
        """Predictions for ``test`` of ``c`` fitted on ``train`` (nested CV's refit in an outer fold).

        Parameters
        ----------
        c : Candidate
            The row.
        by_label : mapping of str to Candidate
            Every row of the board by label (a derived row refits its members).
        y : numpy.ndarray
            The target.
        train, test : numpy.ndarray
            Row indices.

        Returns
        -------
        numpy.ndarray
            The predictions for ``test``.
        """
        return clone(c.learner).fit(c.F[train], y[train]).predict(c.F[test])

    def describe(self, c: Candidate, names: Mapping[str, str], head: str | BaseEstimator,
                 stage1_of: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """The board columns that say what the row is (its source, descriptor, head).

        Parameters
        ----------
        c : Candidate
            The row.
        names : mapping of str to str
            Every label's display name.
        head : str or BaseEstimator
            The screen's head.
        stage1_of : mapping of str to numpy.ndarray
            The first stage's errors of each source.

        Returns
        -------
        dict
            Column name to value.
        """
        raise NotImplementedError

    def estimate(self, cv_name: str) -> str:
        """What the row's CV error is (the board's ``estimate`` column).

        Parameters
        ----------
        cv_name : str
            The folds' name ("5-fold CV").

        Returns
        -------
        str
        """
        raise NotImplementedError

    def refit(self, c: Candidate, context: ScreenContext) -> BaseEstimator:
        """The user-facing model of ``c``, fitted on every screened row.

        Parameters
        ----------
        c : Candidate
            The row.
        context : ScreenContext
            What the screen computed (features, results, settings).

        Returns
        -------
        BaseEstimator
            A fitted model with ``predict`` and ``save``.
        """
        raise NotImplementedError


_NO_SOURCE = {"source_test_mae": np.nan, "source_test_r2": np.nan, "ridge_mae": np.nan, "knn_mae": np.nan}


class TransferKind(RowKind):
    """A source's transfer features, alone or joined to the raw descriptor, and the head."""

    name, modes, tier = "transfer", FEATURES, 3

    def build(self, inputs: StageInputs, scored: Sequence[Candidate] = (),
              mae: Mapping[str, float] | None = None) -> list[Candidate]:
        out = []
        seed, head = inputs.settings.random_state, inputs.settings.head
        for s in inputs.chosen:
            key = s.descriptor.fingerprint()
            for mode in inputs.settings.modes:
                if mode == "hidden":
                    out.append(Candidate(s.model_id, self.name, mode, inputs.hidden[s.model_id],
                                         make_head(head, seed), key, [s]))
                elif mode == "joined" and key in inputs.raw:  # a graph source has no raw columns to join
                    out.append(Candidate(f"{s.model_id}+{s.descriptor.name}", self.name, mode,
                                         np.hstack([inputs.hidden[s.model_id], inputs.raw[key]]),
                                         make_head(head, seed), key, [s]))
        return out

    def describe(self, c: Candidate, names: Mapping[str, str], head: str | BaseEstimator,
                 stage1_of: Mapping[str, np.ndarray]) -> dict[str, Any]:
        first = stage1_of[c.sources[0].model_id]
        return {**source_row(c.sources[0]), "ridge_mae": first[0], "knn_mae": first[2], "head": head_name(head)}

    def estimate(self, cv_name: str) -> str:
        return f"{cv_name}; source chosen by these folds, so the top rows are optimistic"

    def refit(self, c: Candidate, context: ScreenContext) -> BaseEstimator:
        # a transfer row's model keeps the scores of the very CV the board ran (same rows, folds and head)
        settings = context.settings
        D = context.X if c.sources[0].takes_graphs else context.matrices[c.spec_key]  # graphs: the user's inputs
        return TransferModel.from_cv_scores(context.results[c.label], D, context.y, context.groups,
                                            source=c.sources[0], head=settings.head, layers=settings.layers,
                                            cv=context.cv, hub=context.hub, random_state=settings.random_state,
                                            features=c.features)


class StackedKind(RowKind):
    """The raw descriptor joined with the predictions of the top sources that read it, and the head."""

    name, modes, tier = "stacked", ("stacked",), 3

    def build(self, inputs: StageInputs, scored: Sequence[Candidate] = (),
              mae: Mapping[str, float] | None = None) -> list[Candidate]:
        settings = inputs.settings
        stackable = [s for s in inputs.chosen if s.descriptor.fingerprint() in inputs.raw]
        if not (settings.stack and "stacked" in settings.modes and stackable):
            return []
        key = stackable[0].descriptor.fingerprint()
        members = [s for s in stackable if s.descriptor.fingerprint() == key][:settings.stack]
        F = np.hstack([inputs.raw[key], *(inputs.predictions[s.model_id] for s in members)])
        return [Candidate(f"stack[{len(members)}]+{stackable[0].descriptor.name}", self.name, "stacked", F,
                          make_head(settings.head, settings.random_state), key, members)]

    def describe(self, c: Candidate, names: Mapping[str, str], head: str | BaseEstimator,
                 stage1_of: Mapping[str, np.ndarray]) -> dict[str, Any]:
        return {"model_id": c.label, "source_property": "; ".join(dict.fromkeys(
                    p for s in c.sources for p in s.properties)),
                "source_material": c.sources[0].descriptor.material, "source_family": "",
                "descriptor": c.sources[0].descriptor.name, **_NO_SOURCE, "head": head_name(head)}

    def estimate(self, cv_name: str) -> str:
        return f"{cv_name}; sources chosen by these folds, so optimistic"

    def refit(self, c: Candidate, context: ScreenContext) -> BaseEstimator:
        return StackedTransferModel(c.sources, head=context.settings.head, hub=context.hub,
                                    random_state=context.settings.random_state) \
            .fit(context.matrices[c.spec_key], context.y)


class ProfileKind(RowKind):
    """Every screened source's prediction as the descriptor (alone, or joined to a raw descriptor)."""

    name, modes, tier = "profile", ("profile",), 2

    def build(self, inputs: StageInputs, scored: Sequence[Candidate] = (),
              mae: Mapping[str, float] | None = None) -> list[Candidate]:
        if inputs.profile is None or "profile" not in inputs.settings.modes:
            return []
        seed, n = inputs.settings.random_state, len(inputs.profile_sources)
        F = inputs.profile[:, varying_columns(inputs.profile)]
        out = [Candidate(f"profile[{n}]-{short}", self.name, "profile", F, make_head(short, seed), "",
                         list(inputs.profile_sources), head=short) for short in PROFILE_HEADS]
        for key in inputs.raw:  # the profile adds to the raw descriptor; the svr head weighs the two blocks
            out.append(Candidate(f"profile[{n}]+{_spec_label(key, inputs.names)}-svr", self.name, "profile+raw",
                                 np.hstack([F, inputs.raw[key]]), make_head("svr", seed).set_params(split=F.shape[1]),
                                 key, list(inputs.profile_sources), head="svr"))
        return out

    def describe(self, c: Candidate, names: Mapping[str, str], head: str | BaseEstimator,
                 stage1_of: Mapping[str, np.ndarray]) -> dict[str, Any]:
        return {"model_id": c.label, "source_property": f"{len(c.sources)} sources",
                "source_material": "; ".join(dict.fromkeys(s.descriptor.material for s in c.sources)),
                "source_family": "", "source_test_mae": np.nan,
                "descriptor": f"prediction profile + {names[c.spec_key]}" if c.spec_key else "prediction profile",
                "source_test_r2": np.nan, "ridge_mae": np.nan, "knn_mae": np.nan, "head": head_name(c.head)}

    def estimate(self, cv_name: str) -> str:
        return f"{cv_name}; every screened source, no selection of sources (one of {len(PROFILE_HEADS) + 1} " \
               "heads or features)"

    def refit(self, c: Candidate, context: ScreenContext) -> BaseEstimator:
        # on the screen's own profile of the inputs: the sources run once
        return ProfileModel.from_profile(c.sources, context.profile,
                                         context.matrices[c.spec_key] if c.spec_key else None, context.y,
                                         head=c.head, hub=context.hub, random_state=context.settings.random_state,
                                         join=c.spec_key or None)


class ScratchKind(RowKind):
    """A random forest or gradient boosting on a raw descriptor alone: the fair reference."""

    name, tier = "scratch", 0

    def build(self, inputs: StageInputs, scored: Sequence[Candidate] = (),
              mae: Mapping[str, float] | None = None) -> list[Candidate]:
        if not inputs.settings.baselines:
            return []
        return [Candidate(f"scratch-{short}[{_spec_label(key, inputs.names)}]", self.name, "raw", D,
                          make_scratch(short, inputs.settings.random_state), key, scratch=short)
                for key, D in inputs.raw.items() for short in SCRATCH]

    def describe(self, c: Candidate, names: Mapping[str, str], head: str | BaseEstimator,
                 stage1_of: Mapping[str, np.ndarray]) -> dict[str, Any]:
        return {"model_id": c.label, "source_property": "", "source_material": "", "source_family": "",
                "descriptor": names[c.spec_key], **_NO_SOURCE,
                "head": "random forest" if c.scratch == "rf" else "gradient boosting"}

    def estimate(self, cv_name: str) -> str:
        return f"{cv_name}; no selection (fair reference)"

    def refit(self, c: Candidate, context: ScreenContext) -> BaseEstimator:
        return ScratchModel(context.specs[c.spec_key], c.scratch, context.settings.random_state) \
            .fit(context.matrices[c.spec_key], context.y)


class MeanKind(RowKind):
    """The mean of profile rows, with or without the best scratch row (:func:`mean_rows`)."""

    name, tier, derived = "mean", 1, True

    def build(self, inputs: StageInputs, scored: Sequence[Candidate] = (),
              mae: Mapping[str, float] | None = None) -> list[Candidate]:
        by_label = {c.label: c for c in scored}
        return [Candidate(label, self.name, "mean", np.empty((0, 0)), by_label[members[0]].learner, "",
                          by_label[members[0]].sources, members=members)
                for label, members in mean_rows({c.label: c.kind for c in scored}, mae or {}).items()]

    def score(self, c: Candidate, y: np.ndarray, splits: Splits, rows: np.ndarray | None,
              oof: Mapping[str, np.ndarray]) -> tuple[dict[str, Any], np.ndarray]:
        # exact and free: the mean of the members' out-of-fold predictions
        mean = np.mean([oof[label] for label in c.members], axis=0)
        return {"folds": len(splits), **fold_scores(y, mean, splits)}, mean

    def held_out(self, c: Candidate, by_label: Mapping[str, Candidate], y: np.ndarray, train: np.ndarray,
                 test: np.ndarray) -> np.ndarray:
        return np.mean([KINDS[by_label[m].kind].held_out(by_label[m], by_label, y, train, test) for m in c.members],
                       axis=0)

    def describe(self, c: Candidate, names: Mapping[str, str], head: str | BaseEstimator,
                 stage1_of: Mapping[str, np.ndarray]) -> dict[str, Any]:
        return {"model_id": c.label, "source_property": f"mean of {', '.join(c.members)}",
                "source_material": "", "source_family": "", "descriptor": "", **_NO_SOURCE, "head": "mean"}

    def estimate(self, cv_name: str) -> str:
        return f"{cv_name}; exact (the mean of its rows' out-of-fold predictions); no choice of source"

    def refit(self, c: Candidate, context: ScreenContext) -> BaseEstimator:
        return MeanModel.from_fitted([model_of(label, context) for label in c.members])


#: Every kind of row, by name, in the order a board's rows are built.
KINDS: dict[str, RowKind] = {kind.name: kind for kind in (TransferKind(), StackedKind(), ProfileKind(),
                                                          ScratchKind(), MeanKind())}
#: Feature sets screening can compare (``features=``): "hidden" and "joined" transfer rows, a "stacked" row,
#: "profile" rows.
CANDIDATES = tuple(mode for kind in KINDS.values() for mode in kind.modes)


def tiers() -> tuple[tuple[str, ...], ...]:
    """Kinds of row in the order :func:`~mdl.screening.candidates.choose` admits them (by :attr:`RowKind.tier`,
    read from :data:`KINDS` at each call): each must beat the pick so far beyond the CV noise.

    Returns
    -------
    tuple of tuple of str
        Kind names, one tuple per tier, the tier of least choosing first.
    """
    return tuple(tuple(name for name, kind in KINDS.items() if kind.tier == tier)
                 for tier in sorted({kind.tier for kind in KINDS.values()}))


def model_of(label: str, context: ScreenContext) -> BaseEstimator:
    """The fitted model of a board row, fitted once on every screened row (then kept in ``context.fitted``).

    Parameters
    ----------
    label : str
        A candidate label of ``context``.
    context : ScreenContext

    Returns
    -------
    BaseEstimator
    """
    if label not in context.fitted:
        candidate = context.candidates[label]
        context.fitted[label] = KINDS[candidate.kind].refit(candidate, context)
    return context.fitted[label]


def _spec_label(key: str, names: Mapping[str, str]) -> str:
    """A descriptor's name in a row label, with its fingerprint's start when two specs share the name."""
    return names[key] if list(names.values()).count(names[key]) == 1 else f"{names[key]}:{key[:6]}"


def head_name(head: str | BaseEstimator) -> str:
    """How a head is named in a board: its short name, or its class name.

    Parameters
    ----------
    head : str or BaseEstimator

    Returns
    -------
    str

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> head_name("rf"), head_name(Ridge())
    ('rf', 'Ridge')
    """
    return head if isinstance(head, str) else type(head).__name__


def source_row(s: SourceModel) -> dict[str, Any]:
    """The columns of a board row (and of ``screened``) that describe a source: id, property, test metrics.

    Parameters
    ----------
    s : SourceModel

    Returns
    -------
    dict
    """
    metrics = s.info.get("metrics", {}) or {}
    return {
        "model_id": s.model_id,
        "source_property": "; ".join(s.properties),
        "source_material": s.info.get("material", s.descriptor.material),
        "source_family": s.family,
        "descriptor": s.descriptor.name,
        "source_test_mae": _num(metrics.get("mae")),
        "source_test_r2": _num(metrics.get("r2")),
    }


def main_scores(scores: Mapping[str, Any]) -> dict[str, float]:
    """The score columns of a board row: MAE (and its spread over folds), RMSE, R².

    Parameters
    ----------
    scores : dict
        CV scores (:func:`mdl.transfer_learning.cv.cv_run`).

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> main_scores({"mae": 1.0, "mae_std": 0.1, "rmse": 1.2, "r2": 0.5, "folds": 5})
    {'mae': 1.0, 'mae_std': 0.1, 'rmse': 1.2, 'r2': 0.5}
    """
    return {"mae": scores["mae"], "mae_std": scores["mae_std"], "rmse": scores["rmse"], "r2": scores["r2"]}


def _num(value: Any) -> float:
    return float(value) if value is not None else float("nan")
