"""Screening many zoo models as sources for one small target, fast and with honest numbers.

>>> board = mdl.screen(smiles, y, property="gap", material="molecule", top_k=10)    # doctest: +SKIP
>>> board[["model_id", "kind", "mae", "estimate"]].head()                      # doctest: +SKIP
>>> board.best.predict(["CCO"])                                                # doctest: +SKIP
>>> board.ensemble(5).predict(["CCO"], return_std=True)                       # doctest: +SKIP

How it works, in two stages:

1. **Features.** Sources are grouped by descriptor spec, so each descriptor is computed once for the
   target. Networks of one group that have the same depth run in one batched forward pass: their
   weights are zero-padded to the widest member (padded units are exactly zero after the ReLU and
   feed nothing downstream, so the padding changes no number). Other families give their kept
   descriptor columns plus their own prediction (:func:`mdl.transfer_learning.source_features`).
2. **Ranking, then heads.** Every source is scored on its standardised transfer features by
   closed-form ridge regression — exact leave-one-out errors from the hat matrix (or exact k-fold
   errors when ``groups`` is given) over a small grid of penalties, all from one SVD — and by exact
   leave-one-out (or k-fold) 3-nearest-neighbour regression, a local score that follows forest heads
   far better than the linear one (Spearman 0.70 against 0.40 with random-forest CV errors over 300
   QM9 networks on a critical-temperature target; the mean of both ranks put the best source first).
   Only the ``top_k`` best by the mean rank run the chosen head with full cross-validation, on the
   same folds as the baselines trained from scratch on the raw descriptors. The ``profile`` rows use
   every screened source at once: their predictions are the descriptor of a support-vector and a
   ridge head (:mod:`~mdl.transfer_learning.profile`), which involves no choice of source at all.

The result is a :class:`Leaderboard`, a DataFrame subclass sorted best first. Its ``estimate``
column says what each number is: the CV error of the source picked as best is optimistically
biased (it won a contest on those very folds); ``nested=True`` adds a ``select-then-fit`` row
with the nested-CV error of the whole procedure, the number to quote.

The stages live in their own modules: :mod:`~mdl.screening.sources` (which sources, their descriptors),
:mod:`~mdl.screening.ranking` (the first stage), :mod:`~mdl.screening.kinds` (the kinds of row: each builds,
scores, names and refits its own), :mod:`~mdl.screening.candidates` (the second stage and the pick),
:mod:`~mdl.screening.nested` (the honest error), :mod:`~mdl.screening.context` (the typed state they share),
:mod:`~mdl.screening.leaderboard` and :mod:`~mdl.screening.report` (the result), and
:mod:`~mdl.screening.pipeline` (:func:`screen`, the stages in order). The estimators a board hands back
live in :mod:`mdl.transfer_learning`. Names are loaded on first use (they need torch), so that
``import mdl`` stays light.
"""

from mdl.lazy import lazy_names

_HOMES = {
    "screen": "pipeline", "Leaderboard": "leaderboard", "ScreenContext": "context", "Settings": "context",
    "KINDS": "kinds", "RowKind": "kinds", "SkippedSourcesWarning": "sources", "write_report": "report",
}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_names(__name__, {name: f"{__name__}.{module}" for name, module in _HOMES.items()})
