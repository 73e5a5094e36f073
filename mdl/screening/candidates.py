"""The second stage of screening: the candidates of the chosen sources, scored on the same folds, and the pick.

:func:`second_stage` serves the screen (every row, the board's folds) and each outer fold of its nested CV
(the outer-training rows, inner folds): the kinds of :data:`~mdl.screening.kinds.KINDS` build the candidates
from one :class:`~mdl.screening.context.StageInputs` (:func:`stage_inputs`), each kind scores its own, and
:func:`choose` picks the one to hand back.

Every candidate is cross-validated on the same folds. :func:`choose` then picks the model to hand back, in the
tiers of :func:`~mdl.screening.kinds.tiers`, by how much choosing went into a row's CV error: the best scratch
row first (no choice); then the best mean row (no choice of source, little of head) if it beats that by more
than ``margin`` standard errors of their paired per-fold differences; then the best single profile row (one
head picked among several) by the same rule against the pick so far; then the best transfer or stacked row
(one source or a few picked among hundreds on these very folds, so its error is the most optimistic). With ~25
candidates scored on one set of folds, a small lead is mostly luck: on the held-out panel's saved folds (n =
100), handing back a mean first beat picking the single row with the lowest CV error on three targets of five,
tied on one and lost on one.

>>> choose({"a": [1.0, 1.1, 0.9], "scratch-rf[x]": [1.05, 1.0, 1.0]}, {"a": "transfer", "scratch-rf[x]": "scratch"})
('scratch-rf[x]', 'training from scratch is chosen: no row using the zoo leads scratch-rf[x] by more than 1 standard error(s) of the paired fold differences; a is ahead of scratch-rf[x] by 0.0167 MAE per fold, within the noise of the folds (standard error 0.0601)')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mdl.models.source import SourceModel
from mdl.screening.context import Candidate, Settings, StageInputs
from mdl.screening.kinds import KINDS, head_name, tiers
from mdl.transfer_learning.cv import Splits, cv_runs
from mdl.transfer_learning.loading import group_by_spec
from mdl.transfer_learning.model import transfer_features, varying_columns
from mdl.transfer_learning.profile import profile_features

__all__ = ["SELECT", "Scored", "choose", "cv_counts", "hidden_features", "raw_columns", "second_stage",
           "source_predictions", "stage_inputs"]

#: How the model handed back is picked: "noise" (a zoo candidate must beat scratch beyond CV noise) or "best".
SELECT = ("noise", "best")


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
        Each candidate's kind (a name of :data:`~mdl.screening.kinds.KINDS`).
    select : {"noise", "best"}
        "noise": the tiers of :func:`~mdl.screening.kinds.tiers`, each row admitted only by beating the pick so far
        by more than
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
    for tier in tiers()[1:]:
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


def stage_inputs(chosen: Sequence[SourceModel], matrices: dict[str, Any], raw: dict[str, np.ndarray],
                 names: dict[str, str], settings: Settings, *, hidden: dict[str, np.ndarray],
                 predictions: dict[str, np.ndarray], profile: np.ndarray | None = None,
                 profile_sources: Sequence[SourceModel] = ()) -> StageInputs:
    """What the candidates of ``chosen`` are built from, computing only the features not yet in the caches.

    Parameters
    ----------
    chosen : sequence of SourceModel
        The sources of the second stage, best first.
    matrices : dict of str to ndarray
        Descriptor matrix of each spec fingerprint.
    raw, names : dict
        Each spec's varying columns (:func:`raw_columns`) and descriptor name.
    settings : Settings
    hidden : dict of str to ndarray
        Transfer features by model id, filled here as they are computed (:func:`hidden_features`).
    predictions : dict of str to ndarray
        Source predictions by model id, filled here for the stacked row (:func:`source_predictions`).
    profile : ndarray, optional
        The prediction profile of ``profile_sources``, for the profile rows (none when None).
    profile_sources : sequence of SourceModel

    Returns
    -------
    StageInputs
    """
    features = hidden_features(chosen, matrices, settings.layers, settings.batched, hidden)
    if "stacked" in settings.modes and settings.stack:
        predictions.update(source_predictions([s for s in chosen if s.model_id not in predictions], matrices))
    return StageInputs(list(chosen), features, raw, names, predictions, settings, profile, list(profile_sources))


@dataclass
class Scored:
    """The second stage's result: every candidate, its CV scores and out-of-fold predictions, and the pick.

    Attributes
    ----------
    candidates : list of Candidate
        In the order built (the derived kinds, e.g. mean rows, last).
    results : dict of str to dict
        CV scores by label (:func:`mdl.transfer_learning.cv.cv_run`).
    oof : dict of str to ndarray
        Out-of-fold predictions by label.
    selected : str
        The label :func:`choose` picks.
    reason : str
        Why.
    """

    candidates: list[Candidate]
    results: dict[str, dict[str, Any]]
    oof: dict[str, np.ndarray]
    selected: str
    reason: str


def second_stage(inputs: StageInputs, y: np.ndarray, splits: Splits, rows: np.ndarray | None = None,
                 progress: bool = False) -> Scored:
    """Build every kind's candidates, score each on the same folds, and pick one.

    Parameters
    ----------
    inputs : StageInputs
        Features of every row of the target.
    y : ndarray
        The target on ``rows``.
    splits : sequence of (train, test)
        Folds, as indices into ``rows``.
    rows : ndarray, optional
        The rows scored (nested CV: an outer-training part); None: every row.
    progress : bool, default False
        Show a bar that counts the fits (every fold of every candidate; the fits of the candidates that
        are not derived run side by side in worker processes, :func:`~mdl.transfer_learning.cv.cv_runs`).

    Returns
    -------
    Scored
    """
    candidates = [c for kind in KINDS.values() if not kind.derived for c in kind.build(inputs)]
    fits = len(candidates) * len(splits)
    with tqdm(total=fits, unit="fit", disable=not progress,
              desc=f"screening: {len(splits)}-fold CV of {cv_counts(candidates)}, "
                   f"{head_name(inputs.settings.head)} head on transfer rows ({fits} fits)") as bar:
        scored = cv_runs([(c.learner, c.F if rows is None else c.F[rows]) for c in candidates], y, splits, bar=bar)
    results = {c.label: r for c, (r, _) in zip(candidates, scored)}
    oof = {c.label: o for c, (_, o) in zip(candidates, scored)}
    for kind in KINDS.values():
        if kind.derived:
            built = kind.build(inputs, candidates, {label: r["mae"] for label, r in results.items()})
            for c in built:
                results[c.label], oof[c.label] = kind.score(c, y, splits, rows, oof)
            candidates += built
    selected, reason = choose({c.label: results[c.label]["mae_folds"] for c in candidates},
                              {c.label: c.kind for c in candidates}, inputs.settings.select, inputs.settings.margin)
    return Scored(candidates, results, oof, selected, reason)


def cv_counts(candidates: Sequence[Candidate]) -> str:
    """What the second stage cross-validates, counted by kind of row (the progress bar's description).

    Parameters
    ----------
    candidates : sequence of Candidate

    Returns
    -------
    str

    Examples
    --------
    >>> rows = [Candidate(label, kind, "", np.zeros(0), None, "") for label, kind in
    ...         [("a", "transfer"), ("b", "transfer"), ("scratch-rf[x]", "scratch")]]
    >>> cv_counts(rows)
    '3 candidates (2 transfer, 1 scratch)'
    """
    kinds = pd.Series([c.kind for c in candidates], dtype=object).value_counts(sort=False)
    return f"{len(candidates)} candidates ({', '.join(f'{n} {kind}' for kind, n in kinds.items())})"
