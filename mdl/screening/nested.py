"""Nested cross-validation of the whole screening procedure: the honest error of select-then-fit.

In each outer fold the two stages run again on the outer-training rows only: sources ranked by their
first-stage scores on those rows, every candidate cross-validated on inner folds of them by the same
second stage as the board (:func:`~mdl.screening.candidates.second_stage`), one picked by the same rule,
refitted on them and used to predict the outer-test rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mdl.models.source import SourceModel
from mdl.screening.candidates import second_stage, stage_inputs
from mdl.screening.context import StageInputs
from mdl.screening.kinds import KINDS
from mdl.transfer_learning.cv import Splits, fold_scores

__all__ = ["nested_cv"]


def nested_cv(usable: list[SourceModel], fold_keys: np.ndarray, matrices: dict[str, Any], board: StageInputs,
              y: np.ndarray, splits: Splits, inner: Sequence[Splits]) -> dict[str, Any]:
    """The nested-CV estimate of ranking + choosing among every candidate + fitting.

    Parameters
    ----------
    usable : list of SourceModel
        The sources the first stage scored.
    fold_keys : ndarray of shape (len(usable), len(splits))
        Their ranking keys on each outer fold's training rows.
    matrices : dict of str to ndarray
        Descriptor matrix of each spec fingerprint.
    board : StageInputs
        The board's own second-stage inputs: its raw columns, descriptor names, settings, profile, and the
        source predictions already computed (reused; transfer features are computed per outer fold's sources).
    y : ndarray of shape (n,)
        Targets.
    splits : sequence of (train, test)
        Outer folds.
    inner : sequence of splits
        Inner folds of each outer-training part (indices into it).

    Returns
    -------
    dict
        ``selected_per_fold``, ``oof`` (out-of-fold predictions) and their scores per outer fold
        (:func:`mdl.transfer_learning.cv.fold_scores`).
    """
    oof = np.empty(len(y))
    selected = []
    hidden = dict(board.hidden)  # features of every row: the board's chosen sources need no second pass
    predictions = dict(board.predictions)
    for o, ((train, test), folds) in enumerate(zip(splits, inner)):
        chosen = [usable[i] for i in np.argsort(fold_keys[:, o], kind="stable")[:board.settings.top_k]]
        inputs = stage_inputs(chosen, matrices, board.raw, board.names, board.settings, hidden=hidden,
                              predictions=predictions, profile=board.profile, profile_sources=board.profile_sources)
        scored = second_stage(inputs, y[train], folds, rows=train)
        selected.append(scored.selected)
        by_label = {c.label: c for c in scored.candidates}
        pick = by_label[scored.selected]
        oof[test] = KINDS[pick.kind].held_out(pick, by_label, y, train, test)
    return {"selected_per_fold": selected, "oof": oof, **fold_scores(y, oof, splits)}
