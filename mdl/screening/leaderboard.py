"""The result of a screening: the :class:`Leaderboard` table, the models behind its rows, and ensembles.

A board carries a :class:`~mdl.screening.context.ScreenContext`, from which the row's kind
(:data:`~mdl.screening.kinds.KINDS`) fits the model behind any row, once.

>>> board = mdl.screen(smiles, y, property="gap", top_k=10)                 # doctest: +SKIP
>>> board.best.predict(["CCO"])                                             # doctest: +SKIP
>>> board.ensemble(5).predict(["CCO"], return_std=True)                     # doctest: +SKIP
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from mdl.errors import InvalidInputError, MDLError
from mdl.screening.context import ScreenContext
from mdl.screening.kinds import model_of
from mdl.screening.report import FIGURES, figure
from mdl.transfer_learning.ensemble import TransferEnsemble
from mdl.validation import check_choice, check_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["BEST_MARK", "COLUMNS", "SHORT_COLUMNS", "UNIT_COLUMNS", "Leaderboard"]

#: Every column of a board, in order (:func:`mdl.screen` makes them all).
COLUMNS = ("rank", "model_id", "source_property", "source_material", "source_family", "descriptor",
           "source_test_mae", "source_test_r2", "ridge_mae", "knn_mae", "head", "candidate", "kind", "features",
           "mae", "mae_std", "rmse", "r2", "estimate")
#: The columns a board shows (:meth:`Leaderboard.summary`): the candidate label names its source and features.
SHORT_COLUMNS = ("rank", "candidate", "kind", "features", "head", "source_property", "mae", "mae_std", "r2")
#: Columns in the target's unit: their headers name it in a view (a source's own test MAE is in its unit).
UNIT_COLUMNS = ("mae", "mae_std", "rmse", "ridge_mae", "knn_mae")
#: The mark of the row ``board.best`` is, in the ``best`` column of a view.
BEST_MARK = "◀ best"
_CELL = 48  # the longest text cell of the short view (a mean row's source_property lists its members)
_LINE = 150  # the longest one-line reason under a view


class Leaderboard(pd.DataFrame):
    """The screening result: one row per candidate, best (lowest ``mae``) first.

    Rows: ``kind="transfer"`` (a source's transfer features, alone or joined to the raw descriptor, + the
    head), ``"stacked"`` (the raw descriptor + the top sources' predictions), ``"profile"`` (every screened
    source's prediction as the descriptor, :class:`ProfileModel`), ``"mean"`` (means of profile rows, with or
    without the best scratch row, :class:`MeanModel`), ``"scratch"`` (baselines on
    the raw descriptor) and, with ``nested=True``, ``"select-then-fit"`` (the whole procedure).
    ``estimate`` says how each row's numbers were obtained.

    Attributes
    ----------
    best : BaseEstimator
        The fitted model of the row the board recommends (``info["selected"]`` says which and why: the
        tiers of :func:`~mdl.screening.candidates.choose`, where a row is admitted only by beating
        the pick so far beyond the fold noise); :meth:`model` fits any other row.
    screened : DataFrame
        Every source's first-stage scores, source metrics and head MAE if run.
    predictions : DataFrame
        Out-of-fold predictions of every scored row (columns: ``candidate`` labels), with ``y``.
    skipped : dict
        {model id: why it could not be used} (``info["skipped_by_cause"]`` groups them by cause).
    info : dict
        Folds, timings, nested-CV details (plain, JSON-able); ``info["unit"]``, the target's unit ("" until
        set, e.g. ``board.info["unit"] = "K"``), names the unit in views and figures.

    All are kept through slicing, sorting and copies (pandas ``_metadata``). :meth:`ensemble` combines
    the top transfer models into one predictor with a mean and a spread.

    Printed (``repr``, and a notebook's HTML), a board shows :meth:`summary`: the :data:`SHORT_COLUMNS`
    with the unit in the error headers (``info["unit"]``), the row ``best`` is marked, and one line
    under it saying why (:meth:`best_line`); ``summary("all")`` shows every column, ``plot()`` the
    parity of the model handed back beside the best scratch row.
    """

    _metadata = ["best", "screened", "predictions", "skipped", "info", "_context"]

    @property
    def _constructor(self) -> type:
        return Leaderboard

    def model(self, row: int | str) -> BaseEstimator:
        """The fitted model of a row, fitted once on every screened row, then kept.

        Parameters
        ----------
        row : int or str
            Its ``rank`` (1 is the top row) or its ``candidate`` label.

        Returns
        -------
        BaseEstimator
            A :class:`TransferModel` (with the row's CV scores as ``cv_scores_``),
            :class:`StackedTransferModel`, :class:`ProfileModel`, :class:`MeanModel` or :class:`ScratchModel`:
            a user who follows the board never
            refits a baseline by hand.

        Raises
        ------
        InvalidInputError
            For a rank or label the board does not have (or the select-then-fit row, an estimate).
        MDLError
            When the board carries no fitted context (read back from a CSV file).

        Examples
        --------
        >>> board.model(1).predict(["CCO"])                       # doctest: +SKIP
        >>> board.model("scratch-gb[morgan]").save("gb-baseline")   # doctest: +SKIP
        """
        context = self._context_or_fail()
        labels = self["candidate"].tolist() if "candidate" in self.columns else []
        if isinstance(row, (int, np.integer)) and not isinstance(row, bool):
            ranks = self["rank"].tolist()
            if row not in ranks:
                raise InvalidInputError(f"no row of rank {row}; ranks run from {min(ranks)} to {max(ranks)}")
            row = labels[ranks.index(row)]
        if row not in context.candidates:
            raise InvalidInputError(f"no fitted candidate {row!r} on this board (the select-then-fit row is an "
                                    f"estimate, not a model); candidates: {', '.join(map(str, labels[:10]))}")
        return model_of(row, context)

    def summary(self, columns: str = "short", unit: str | None = None) -> pd.DataFrame:
        """The board as a plain table to read: the short or the full set of columns, units, the best row marked.

        Parameters
        ----------
        columns : {"short", "all"}, default "short"
            "short": :data:`SHORT_COLUMNS` (text cells cut to a few words; ``estimate``, a sentence on
            every row, left out); "all": every column of the board.
        unit : str, optional
            The target's unit, named in the headers of :data:`UNIT_COLUMNS` (``"mae (K)"``); default
            ``info["unit"]``, none when that is empty.

        Returns
        -------
        DataFrame
            A plain DataFrame (not a :class:`Leaderboard`), with a last column ``best`` holding
            :data:`BEST_MARK` on the row ``board.best`` is and "" elsewhere.

        Examples
        --------
        >>> board = Leaderboard({"rank": [1, 2], "candidate": ["p", "scratch-rf[x]"], "mae": [1.5, 1.7],
        ...                      "estimate": ["a sentence", "another"]})
        >>> board.info = {"selected": {"candidate": "scratch-rf[x]"}, "unit": "K"}
        >>> view = board.summary()
        >>> list(view.columns), view["best"].tolist()
        (['rank', 'candidate', 'mae (K)', 'best'], ['', '◀ best'])
        >>> list(board.summary("all").columns)
        ['rank', 'candidate', 'mae (K)', 'estimate', 'best']
        """
        check_choice(columns, "columns", ("short", "all"))
        info = getattr(self, "info", None) or {}
        unit = info.get("unit", "") if unit is None else unit
        view = pd.DataFrame(self).reset_index(drop=True)
        if columns == "short":
            view = view[[c for c in SHORT_COLUMNS if c in view.columns]].copy()
            for c in view.columns:
                if not pd.api.types.is_numeric_dtype(view[c]):
                    view[c] = view[c].map(lambda v: v[:_CELL - 1] + "…" if isinstance(v, str) and len(v) > _CELL
                                          else v)
        selected = info.get("selected", {}).get("candidate")
        marks = self["candidate"] == selected if "candidate" in self.columns else np.zeros(len(self), bool)
        view["best"] = np.where(np.asarray(marks), BEST_MARK, "")
        return view.rename(columns={c: f"{c} ({unit})" for c in UNIT_COLUMNS if unit})

    def best_line(self, full: bool = False) -> str:
        """Which row ``board.best`` is, and why, in one line (or with every closer call turned down).

        Parameters
        ----------
        full : bool, default False
            The whole reason of :func:`~mdl.screening.candidates.choose` rather than its verdict.

        Returns
        -------
        str

        Examples
        --------
        >>> board = Leaderboard({"candidate": ["p"], "kind": ["profile"]})
        >>> board.info = {"selected": {"candidate": "p", "kind": "profile", "reason": "p beats s; q is ahead of p"}}
        >>> board.best_line()
        '◀ best: board.best is p (a profile row): beats s'
        >>> board.best_line(full=True)
        '◀ best: board.best is p (a profile row): p beats s; q is ahead of p'
        """
        selected = (getattr(self, "info", None) or {}).get("selected")
        if not selected:
            return "this board does not say which row is best (no info['selected'])"
        label, reason = selected["candidate"], selected.get("reason", "")
        if not full:  # the verdict, without repeating the label it starts with
            reason = reason.split("; ")[0].removeprefix(f"{label} ")
            reason = reason if len(reason) <= _LINE else reason[:_LINE - 1] + "…"
        shown = "candidate" in self.columns and (self["candidate"] == label).any()
        return (f"{BEST_MARK}: board.best is {label} (a {selected.get('kind', '?')} row"
                f"{'' if shown else ', not among these rows'}): {reason}")

    def plot(self, kind: str = "parity", unit: str | None = None) -> Figure:  # type: ignore[override]
        """A figure of the screening (pandas' own plotting stays at ``pd.DataFrame(board).plot``).

        Parameters
        ----------
        kind : {"parity", "transferability"}, default "parity"
            "parity": the out-of-fold predictions of the model handed back (``board.best``) against the
            truth, beside those of the best scratch row (or, when ``best`` is that row, of the best row
            using the zoo), MAE in each legend; "transferability": each screened source's own test R²
            against its transfer error on the target, the scratch rows as lines (Yamada et al. 2019, Fig. 2a).
        unit : str, optional
            The target's unit, for the axes and legends (default ``info["unit"]``).

        Returns
        -------
        matplotlib.figure.Figure
            Not attached to pyplot: ``fig.savefig(path)`` writes it, a notebook shows it.

        Examples
        --------
        >>> board.plot().savefig("parity.png")              # doctest: +SKIP
        >>> board.plot("transferability")                   # doctest: +SKIP
        """
        check_choice(kind, "kind", FIGURES)
        return figure(self, kind, (getattr(self, "info", None) or {}).get("unit", "") if unit is None else unit)

    def __repr__(self) -> str:
        if not self._viewable():
            return super().__repr__()
        table = self.summary().to_string(index=False, float_format=_fmt, na_rep="")
        return f"{table}\n{self.best_line()}\n{self._more()}"

    def _repr_html_(self) -> str | None:
        if not self._viewable():
            return super()._repr_html_()
        table = self.summary().to_html(index=False, float_format=_fmt, na_rep="")
        return f"{table}<p>{html.escape(self.best_line())}<br>{html.escape(self._more())}</p>"

    def _viewable(self) -> bool:
        """Whether this is a whole board (every column: not a selection of some) with a pick to mark."""
        info = getattr(self, "info", None)
        return len(self) > 0 and isinstance(info, dict) and "selected" in info and set(COLUMNS) <= set(self.columns)

    def _more(self) -> str:
        return (f'[{len(self)} rows × {len(self.columns)} columns; every column: board.summary("all"); the full '
                'reason: board.best_line(full=True); plots: board.plot(), board.plot("transferability")]')

    def _context_or_fail(self) -> ScreenContext:
        context = getattr(self, "_context", None)
        if context is None:
            raise MDLError("this leaderboard carries no fitted context (was it read from a CSV file?)")
        return context

    def ensemble(self, k: int = 5) -> TransferEnsemble:
        """The ``k`` best transfer rows as one fitted :class:`TransferEnsemble` (mean and spread).

        Parameters
        ----------
        k : int, default 5
            Number of transfer rows, best first.

        Returns
        -------
        TransferEnsemble

        Raises
        ------
        MDLError
            When the board has no transfer row or no fitted context.
        """
        k = check_number(k, "k", low=1)
        self._context_or_fail()
        labels = self.loc[self["kind"] == "transfer", "candidate"].tolist()[:k]
        if not labels:
            raise MDLError("no transfer row to build an ensemble from")
        return TransferEnsemble.from_models([self.model(label) for label in labels])


def _fmt(value: float) -> str:
    return f"{value:.4g}"
