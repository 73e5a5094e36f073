"""What screening compares, and how it picks: candidate feature sets for the head, and the selection rule.

For the ``top_k`` sources of the first stage, a leaderboard holds one row per candidate:

* ``transfer`` rows: the source's transfer features alone (``features="hidden"``), or joined to the raw
  descriptor (``"joined"``: nothing a scratch model sees is thrown away);
* a ``stacked`` row: the raw descriptor joined with the predictions of the top sources (those sharing the
  best source's descriptor);
* ``profile`` rows: the predictions of every screened source as the descriptor
  (:mod:`mdl.transfer_learning.profile`), one row per head of :data:`PROFILE_HEADS`, and one per raw
  descriptor joined to the profile (``features="profile+raw"``, an ``svr`` head with a kernel per block);
* ``scratch`` rows: a random forest and gradient boosting on the raw descriptor alone;
* ``mean`` rows (:mod:`mdl.transfer_learning.mean`): the best profile row with the best scratch row, every
  profile row, and every profile row with the best scratch row, averaged; scored exactly from their
  members' out-of-fold predictions.

Every candidate is cross-validated on the same folds. :func:`choose` then picks the model to hand back,
in :data:`TIERS` by how much choosing went into a row's CV error: the best scratch row first (no choice);
then the best mean row (no choice of source, little of head) if it beats that by more than ``margin``
standard errors of their paired per-fold differences; then the best single profile row (one head picked
among several) by the same rule against the pick so far; then the best transfer or stacked row (one source
or a few picked among hundreds on these very folds, so its error is the most optimistic). With ~25
candidates scored on one set of folds, a small lead is mostly luck: on the held-out panel's saved folds
(n = 100), handing back a mean first beat picking the single row with the lowest CV error on three targets
of five, tied on one and lost on one.

>>> choose({"a": [1.0, 1.1, 0.9], "scratch-rf[x]": [1.05, 1.0, 1.0]}, {"a": "transfer", "scratch-rf[x]": "scratch"})
('scratch-rf[x]', 'training from scratch is chosen: no row using the zoo leads scratch-rf[x] by more than 1 standard error(s) of the paired fold differences; a is ahead of scratch-rf[x] by 0.0167 MAE per fold, within the noise of the folds (standard error 0.0601)')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from mdl.models.source import SourceModel
from mdl.transfer_learning.heads import make_head
from mdl.transfer_learning.model import FEATURES, transfer_features, varying_columns
from mdl.transfer_learning.mean import mean_rows
from mdl.transfer_learning.profile import PROFILE_HEADS, profile_features
from mdl.transfer_learning.scratch import SCRATCH, make_scratch
from mdl.transfer_learning.sources import group_by_spec

#: Feature sets screening can compare: "hidden" and "joined" transfer rows, a "stacked" row, "profile" rows.
CANDIDATES = (*FEATURES, "stacked", "profile")
#: Kinds of row in the order :func:`choose` admits them: each must beat the pick so far beyond the CV noise.
TIERS = (("scratch",), ("mean",), ("profile",), ("transfer", "stacked"))
#: How the model handed back is picked: "noise" (a zoo candidate must beat scratch beyond CV noise) or "best".
SELECT = ("noise", "best")


@dataclass
class Candidate:
    """One leaderboard row before scoring: its features for every row and the learner that fits them."""

    label: str
    kind: str
    features: str
    F: np.ndarray
    learner: BaseEstimator
    spec_key: str
    sources: list[SourceModel] = field(default_factory=list)
    scratch: str = ""  # the scratch learner of a scratch row ("rf" or "gb")
    head: str = ""  # the head of a profile row
    members: list[str] = field(default_factory=list)  # the rows a mean row averages


def raw_columns(matrices: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each descriptor matrix restricted to its non-constant columns (what scratch and joined rows see);
    a graph descriptor's records have no columns and are left out.

    Parameters
    ----------
    matrices : dict of str to ndarray
        Descriptor matrix of each spec fingerprint.

    Returns
    -------
    dict of str to ndarray

    Examples
    --------
    >>> raw_columns({"k": np.array([[1.0, 0.0], [2.0, 0.0]])})["k"].tolist()
    [[1.0], [2.0]]
    """
    return {key: D[:, varying_columns(D)] for key, D in matrices.items() if isinstance(D, np.ndarray)}


def build_candidates(chosen: Sequence[SourceModel], hidden: dict[str, np.ndarray], raw: dict[str, np.ndarray],
                     names: dict[str, str], predictions: dict[str, np.ndarray], *, modes: Sequence[str], stack: int,
                     baselines: bool, head: Any, random_state: int, profile: np.ndarray | None = None,
                     profile_sources: Sequence[SourceModel] = ()) -> list[Candidate]:
    """The candidates of one screening (or of one outer fold of its nested CV).

    Parameters
    ----------
    chosen : sequence of SourceModel
        The sources of the second stage, best first.
    hidden : dict of str to ndarray
        Each chosen source's transfer features (every row), by model id.
    raw : dict of str to ndarray
        Each descriptor spec's varying columns (:func:`raw_columns`).
    names : dict of str to str
        Each spec's descriptor name.
    predictions : dict of str to ndarray
        Each chosen source's predictions (all outputs), for the stacked row.
    modes : sequence of str
        Feature sets of :data:`CANDIDATES` to build.
    stack : int
        Sources the stacked row joins (0: none).
    baselines : bool
        Add the scratch rows.
    head : str or BaseEstimator
        Head of transfer and stacked rows.
    random_state : int
        Seed of the heads.
    profile : ndarray of shape (n_samples, outputs), optional
        The prediction profile of ``profile_sources`` (:func:`mdl.transfer_learning.profile.profile_features`),
        for the profile rows (none when None).
    profile_sources : sequence of SourceModel
        The sources of ``profile``.

    Returns
    -------
    list of Candidate
    """
    out = []
    for s in chosen:
        key = s.descriptor.fingerprint()
        for mode in modes:
            if mode == "hidden":
                out.append(Candidate(s.model_id, "transfer", mode, hidden[s.model_id], make_head(head, random_state),
                                     key, [s]))
            elif mode == "joined" and key in raw:  # a graph source has no raw columns to join
                out.append(Candidate(f"{s.model_id}+{s.descriptor.name}", "transfer", mode,
                                     np.hstack([hidden[s.model_id], raw[key]]), make_head(head, random_state), key, [s]))
    stackable = [s for s in chosen if s.descriptor.fingerprint() in raw]
    if stack and "stacked" in modes and stackable:
        key = stackable[0].descriptor.fingerprint()
        members = [s for s in stackable if s.descriptor.fingerprint() == key][:stack]
        F = np.hstack([raw[key], *(predictions[s.model_id] for s in members)])
        out.append(Candidate(f"stack[{len(members)}]+{stackable[0].descriptor.name}", "stacked", "stacked", F,
                             make_head(head, random_state), key, members))
    if profile is not None and "profile" in modes:
        F = profile[:, varying_columns(profile)]
        for short in PROFILE_HEADS:
            out.append(Candidate(f"profile[{len(profile_sources)}]-{short}", "profile", "profile", F,
                                 make_head(short, random_state), "", list(profile_sources), head=short))
        for key in raw:  # the profile adds to the raw descriptor; the svr head weighs the two blocks
            out.append(Candidate(f"profile[{len(profile_sources)}]+{_spec_label(key, names)}-svr", "profile",
                                 "profile+raw", np.hstack([F, raw[key]]),
                                 make_head("svr", random_state).set_params(split=F.shape[1]), key,
                                 list(profile_sources), head="svr"))
    if baselines:
        for key in raw:
            for short in SCRATCH:
                out.append(Candidate(f"scratch-{short}[{_spec_label(key, names)}]", "scratch", "raw", raw[key],
                                     make_scratch(short, random_state), key, scratch=short))
    return out


def _spec_label(key: str, names: dict[str, str]) -> str:
    """A descriptor's name in a row label, with its fingerprint's start when two specs share the name."""
    return names[key] if list(names.values()).count(names[key]) == 1 else f"{names[key]}:{key[:6]}"


def mean_candidates(candidates: Sequence[Candidate], mae: dict[str, float]) -> list[Candidate]:
    """The ``mean`` rows of scored candidates (:func:`mdl.transfer_learning.mean.mean_rows`; none without a
    profile row and a scratch row).

    Parameters
    ----------
    candidates : sequence of Candidate
    mae : dict of str to float
        Each candidate's CV MAE.

    Returns
    -------
    list of Candidate
        Their ``members`` are the labels averaged; they have no features or learner of their own.
    """
    by_label = {c.label: c for c in candidates}
    return [Candidate(label, "mean", "mean", np.empty((0, 0)), by_label[members[0]].learner, "",
                      by_label[members[0]].sources, members=members)
            for label, members in mean_rows({c.label: c.kind for c in candidates}, mae).items()]


def hidden_features(sources: Sequence[SourceModel], matrices: dict[str, np.ndarray], layers: Any, batched: bool,
                    cache: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Transfer features of ``sources`` on every row, each computed once across calls through ``cache``.

    Parameters
    ----------
    sources : sequence of SourceModel
    matrices : dict of str to ndarray
        Descriptor matrix of each spec fingerprint.
    layers, batched
        As for :func:`mdl.transfer_learning.model.transfer_features`.
    cache : dict
        {model id: features}, filled as features are computed.

    Returns
    -------
    dict of str to ndarray
        By model id.
    """
    missing = [s for s in sources if s.model_id not in cache]
    for key, group in group_by_spec(missing).items():
        for s, F in zip(group, transfer_features(group, matrices[key], layers, batched)):
            cache[s.model_id] = F
    return {s.model_id: cache[s.model_id] for s in sources}


def source_predictions(sources: Sequence[SourceModel], matrices: dict[str, np.ndarray],
                       known: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Each source's predictions (every output as a column) from its spec's descriptor matrix; graph
    sources, which the stacked row cannot join (it is built on one descriptor's raw columns), are left out.

    Parameters
    ----------
    sources : sequence of SourceModel
    matrices : dict of str to ndarray
        Descriptor matrix of each spec fingerprint.
    known : dict of str to ndarray, optional
        Predictions already computed (a screening's profile columns), by model id: not computed again.

    Returns
    -------
    dict of str to ndarray
        By model id.
    """
    known = known or {}
    return {s.model_id: known[s.model_id] if s.model_id in known else profile_features([s], matrices)
            for s in sources if not s.takes_graphs}


def choose(fold_mae: dict[str, Sequence[float]], kinds: dict[str, str], select: str = "noise",
           margin: float = 1.0) -> tuple[str, str]:
    """The label of the candidate to hand back, and why (see the module docstring).

    Parameters
    ----------
    fold_mae : dict of str to sequence of float
        Each candidate's MAE per fold (the same folds for all).
    kinds : dict of str to str
        Each candidate's kind ("transfer", "stacked", "profile", "mean", "scratch").
    select : {"noise", "best"}
        "noise": the tiers of :data:`TIERS`, each row admitted only by beating the pick so far by more than
        ``margin`` standard errors of their paired fold differences; "best": the lowest mean MAE.
    margin : float, default 1.0

    Returns
    -------
    label : str
    reason : str
        Why: its first clause (up to the first ``"; "``) is the verdict, one line; the clauses after it are
        the closer calls turned down (a row ahead of the pick, but within the noise of the folds).
    """
    mean = {label: float(np.mean(v)) for label, v in fold_mae.items()}
    best = min(mean, key=mean.get)
    scratch = [label for label in mean if kinds[label] == "scratch"]
    if not scratch:
        return best, "lowest cross-validated MAE (no scratch baseline was run)"
    if kinds[best] == "scratch":
        return best, "lowest cross-validated MAE: no candidate using the zoo beat training from scratch"
    if select == "best":
        return best, "lowest cross-validated MAE"
    pick, reasons = min(scratch, key=mean.get), []
    for tier in TIERS[1:]:
        rows = [label for label in mean if kinds[label] in tier]
        challenger = min(rows, key=mean.get) if rows else None
        if challenger is None or mean[challenger] >= mean[pick]:
            continue
        diff = np.asarray(fold_mae[pick], dtype=float) - np.asarray(fold_mae[challenger], dtype=float)
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("inf")
        lead = float(diff.mean())
        if lead > margin * se:
            reasons = [f"{challenger} beats {pick} by {lead:.3g} MAE per fold, more than {margin:g} standard "
                       f"error(s) ({se:.3g}) of the paired fold differences"]
            pick = challenger
        else:
            reasons.append(f"{challenger} is ahead of {pick} by {lead:.3g} MAE per fold, within the noise of the "
                           f"folds (standard error {se:.3g})")
    if kinds[pick] == "scratch":
        return pick, "; ".join([f"training from scratch is chosen: no row using the zoo leads {pick} by more than "
                                f"{margin:g} standard error(s) of the paired fold differences", *reasons])
    return pick, "; ".join(reasons) + (": a row that picks among many sources must lead by more"
                                       if len(reasons) > 1 else "")
