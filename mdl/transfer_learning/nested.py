"""Nested cross-validation of the whole screening procedure: the honest error of select-then-fit.

In each outer fold the two stages run again on the outer-training rows only: sources ranked by their
first-stage scores on those rows, every candidate cross-validated on inner folds of them, one picked by
the same rule as the board, refitted on them and used to predict the outer-test rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import clone

from mdl.models.source import SourceModel
from mdl.transfer_learning.candidates import (
    build_candidates,
    choose,
    hidden_features,
    mean_candidates,
    source_predictions,
)
from mdl.transfer_learning.cv import Splits, cv_run, fold_scores

__all__ = ["nested_cv"]


def nested_cv(usable: list[SourceModel], fold_keys: np.ndarray, matrices: dict[str, np.ndarray],
              raw: dict[str, np.ndarray], names: dict[str, str], y: np.ndarray, splits: Splits,
              inner: Sequence[Splits], *, top_k: int, layers: Any, batched: bool, candidates: dict[str, Any],
              select: str, margin: float, predictions: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """The nested-CV estimate of ranking + choosing among every candidate + fitting.

    Parameters
    ----------
    usable : list of SourceModel
        The sources the first stage scored.
    fold_keys : ndarray of shape (len(usable), len(splits))
        Their ranking keys on each outer fold's training rows.
    matrices, raw, names : dict
        Descriptor matrix, its varying columns and its descriptor's name, by spec fingerprint.
    y : ndarray of shape (n,)
        Targets.
    splits : sequence of (train, test)
        Outer folds.
    inner : sequence of splits
        Inner folds of each outer-training part (indices into it).
    top_k : int
        Sources that become candidates in each outer fold.
    layers, batched
        As for :func:`mdl.transfer_learning.model.transfer_features`.
    candidates : dict
        Keyword arguments of :func:`mdl.transfer_learning.candidates.build_candidates` (modes, stack,
        baselines, head, random_state).
    select, margin
        The selection rule (:func:`mdl.transfer_learning.candidates.choose`).
    predictions : dict of str to ndarray, optional
        Source predictions already computed (the screening's profile columns), by model id.

    Returns
    -------
    dict
        ``selected_per_fold``, ``oof`` (out-of-fold predictions) and their scores per outer fold
        (:func:`mdl.transfer_learning.cv.fold_scores`).
    """
    oof = np.empty(len(y))
    selected = []
    cache: dict[str, np.ndarray] = {}
    predictions = dict(predictions or {})
    for o, ((train, test), folds) in enumerate(zip(splits, inner)):
        chosen = [usable[i] for i in np.argsort(fold_keys[:, o], kind="stable")[:top_k]]
        hidden = hidden_features(chosen, matrices, layers, batched, cache)
        if "stacked" in candidates["modes"] and candidates["stack"]:
            predictions.update(source_predictions([s for s in chosen if s.model_id not in predictions], matrices))
        scored = build_candidates(chosen, hidden, raw, names, predictions, **candidates)
        runs = {c.label: cv_run(c.learner, c.F[train], y[train], folds) for c in scored}
        maes = {label: scores["mae_folds"] for label, (scores, _) in runs.items()}
        means = {c.label: c for c in mean_candidates(scored, {label: float(np.mean(m)) for label, m in maes.items()})}
        for mean_row in means.values():
            inner_oof = np.mean([runs[label][1] for label in mean_row.members], axis=0)
            maes[mean_row.label] = fold_scores(y[train], inner_oof, folds)["mae_folds"]
        label, _ = choose(maes, {c.label: c.kind for c in [*scored, *means.values()]}, select, margin)
        selected.append(label)
        members = means[label].members if label in means else [label]
        fitted = [next(c for c in scored if c.label == m) for m in members]
        oof[test] = np.mean([clone(c.learner).fit(c.F[train], y[train]).predict(c.F[test]) for c in fitted], axis=0)
    return {"selected_per_fold": selected, "oof": oof, **fold_scores(y, oof, splits)}
