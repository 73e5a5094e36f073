"""Seeing a screening result: the board's figures, a Markdown report, and the files of ``--out``.

>>> board = mdl.screen(smiles, y, material="molecule")     # doctest: +SKIP
>>> board.plot()                                           # doctest: +SKIP
>>> write_report(board, "screen-out")                      # doctest: +SKIP

The parity figure shows the out-of-fold predictions of the model handed back (``board.best``) beside
those of the best scratch row. The transferability figure follows Figure 2a of Yamada et al. (2019):
each source's own held-out test accuracy (R², unit-free so sources of different properties share one
axis) against its transfer error on the target — the first-stage error (3-NN, or ridge) for every
screened source, the head's CV error for the ``top_k`` — with the scratch baselines as horizontal lines.
Both are plain :class:`matplotlib.figure.Figure` objects (no pyplot state, any backend);
:meth:`Leaderboard.plot <mdl.screening.leaderboard.Leaderboard.plot>` returns them and
:func:`write_report` saves them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mdl.validation import summary_by_cause

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DPI", "FIGURES", "figure", "markdown_report", "parity_panels", "write_report"]

#: The figures of a board, by name (:meth:`Leaderboard.plot <mdl.screening.leaderboard.Leaderboard.plot>`).
FIGURES = ("parity", "transferability")
#: Resolution of the PNG files :func:`write_report` writes.
DPI = 120
_ZOO_KINDS = ("transfer", "stacked", "profile", "mean")


def figure(board: pd.DataFrame, kind: str = "parity", unit: str = "") -> Figure:
    """One figure of a screening, by name.

    Parameters
    ----------
    board : Leaderboard
        A screening result (with ``predictions``, ``screened`` and ``info``).
    kind : {"parity", "transferability"}, default "parity"
        See :meth:`Leaderboard.plot <mdl.screening.leaderboard.Leaderboard.plot>`.
    unit : str, optional
        The target's unit, for axes and legends.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> figure(board, "transferability").savefig("transferability.png")     # doctest: +SKIP
    """
    return _parity(board, unit) if kind == "parity" else _transferability(board, unit)


def parity_panels(board: pd.DataFrame) -> list[tuple[str, str]]:
    """The rows of the parity figure, each with what it is: the row handed back, then the row it is set beside.

    That is the best scratch row, or, when the board hands back that row, the best row using the zoo
    (none when the board has no such row).

    Parameters
    ----------
    board : Leaderboard
        A screening result.

    Returns
    -------
    list of (candidate, description)

    Examples
    --------
    >>> from mdl.screening.leaderboard import Leaderboard
    >>> board = Leaderboard({"candidate": ["m", "scratch-rf[x]"], "kind": ["mean", "scratch"]})
    >>> board.info = {"selected": {"candidate": "m", "kind": "mean"}}
    >>> parity_panels(board)
    [('m', 'handed back (board.best), a mean row'), ('scratch-rf[x]', 'the best scratch row')]
    >>> board.info = {"selected": {"candidate": "scratch-rf[x]", "kind": "scratch"}}
    >>> parity_panels(board)[1]
    ('m', 'the best row using the zoo, a mean row')
    """
    selected = board.info["selected"]
    panels = [(selected["candidate"], f"handed back (board.best), a {selected['kind']} row")]
    scratch = board.loc[board["kind"] == "scratch", "candidate"]
    zoo = board.loc[board["kind"].isin(_ZOO_KINDS), ["candidate", "kind"]]
    if len(scratch) and scratch.iloc[0] != selected["candidate"]:
        panels.append((scratch.iloc[0], "the best scratch row"))
    elif len(zoo):
        panels.append((zoo.iloc[0, 0], f"the best row using the zoo, a {zoo.iloc[0, 1]} row"))
    return panels


def _parity(board: pd.DataFrame, unit: str) -> Figure:
    """Out-of-fold predictions against the truth: one panel per row of :func:`parity_panels`, same axes."""
    from matplotlib.figure import Figure

    preds = board.predictions
    y = preds["y"].to_numpy()
    panels = parity_panels(board)
    values = np.concatenate([y, *(preds[label].to_numpy() for label, _ in panels)])
    lo, hi = float(values.min()), float(values.max())
    fig = Figure(figsize=(4.6 * len(panels), 4.8), layout="constrained")
    axes = fig.subplots(1, len(panels), sharex=True, sharey=True, squeeze=False)[0]
    in_unit = f" ({unit})" if unit else ""
    for ax, (label, role), color in zip(axes, panels, ("C0", "0.45")):
        ax.scatter(y, preds[label], s=14, color=color,
                   label=f"{label}: MAE {_mae(board, label):.3g}{' ' + unit if unit else ''}")
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="measured = predicted")
        ax.set_title(role, fontsize=9)
        ax.set_xlabel(f"measured{in_unit}")
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel(f"predicted, out of fold{in_unit}")
    fig.suptitle(f"{board.info['cv']}-fold CV predictions (the same folds for every row)", fontsize=10)
    return fig


def _transferability(board: pd.DataFrame, unit: str) -> Figure:
    """Each source's own test R² against its transfer error on the target (Figure 2a style)."""
    from matplotlib.figure import Figure

    screened = board.screened
    score = "ridge_mae" if board.info.get("stage1") == "ridge" else "knn_mae"
    stage = "ridge" if score == "ridge_mae" else "3-NN"
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    properties = sorted(screened["source_property"].unique())
    for i, prop in enumerate(properties[:10]):
        part = screened[screened["source_property"] == prop]
        ax.scatter(part["source_test_r2"], part[score], s=10, alpha=0.6, color=f"C{i}",
                   label=f"{prop} (first stage, {stage})")
    if len(properties) > 10:
        part = screened[~screened["source_property"].isin(properties[:10])]
        ax.scatter(part["source_test_r2"], part[score], s=10, alpha=0.6, color="0.5", label="other sources")
    top = screened[screened["head_mae"].notna()]
    ax.scatter(top["source_test_r2"], top["head_mae"], s=40, marker="*", color="k",
               label=f"top {len(top)}: {board.info['head']} head, {board.info['cv']}-fold CV")
    for j, row in enumerate(board[board["kind"] == "scratch"].itertuples()):
        ax.axhline(row.mae, ls="--", lw=1, color=f"C{(j + 3) % 10}", label=f"{row.candidate}: {row.mae:.3g}")
    ax.set_xlabel("source model: R² on its own held-out test split")
    ax.set_ylabel(f"transfer MAE on the target{f' ({unit})' if unit else ''}")
    ax.set_title("transferability of the screened sources")
    ax.legend(fontsize=7, loc="best")
    return fig


def _mae(board: pd.DataFrame, candidate: str) -> float:
    return float(board.loc[board["candidate"] == candidate, "mae"].iloc[0])


def _table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.4g}" if isinstance(v, float) and np.isfinite(v) else
                 ("" if isinstance(v, float) else str(v).replace("|", "\\|")) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_report(board: pd.DataFrame, title: str = "Source screening", images: dict[str, str] | None = None,
                    unit: str | None = None) -> str:
    """A short Markdown report: setup, the row handed back and why, the board's short view, skipped sources.

    Parameters
    ----------
    board : Leaderboard
        A screening result.
    title : str, default "Source screening"
    images : dict of str to str, optional
        Relative paths of the plots to embed, by caption.
    unit : str, optional
        The target's unit, in the table's error headers (default ``board.info["unit"]``).

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> print(markdown_report(mdl.screen(smiles, y, property="gap")))   # doctest: +SKIP
    """
    info = board.info
    selected = info["selected"]
    best = selected["candidate"]
    zoo = board[board["kind"].isin(["transfer", "stacked", "profile", "mean"])]
    scratch = board[board["kind"] == "scratch"]
    lines = [f"# {title}", "",
             f"- Target: {info['n_samples']} samples; {info['cv']}-fold {'grouped ' if info['grouped'] else ''}"
             f"cross-validation, the same folds for every row.",
             f"- Sources: {info['n_sources']} found, {info['n_screened']} screened, {info['n_skipped']} skipped; "
             f"first stage: {info['first_stage']}; the top {info['top_k']} got the {info['head']} head.",
             f"- Time: {info['timings']['total']:.1f} s.", ""]
    lines += [f"Handed back as `board.best`: **{best}** ({selected['kind']}) — CV MAE {_mae(board, best):.4g}; "
              f"{selected['reason']}.", ""]
    if len(zoo) and len(scratch):
        top, ref = zoo.iloc[0], scratch.iloc[0]
        change = top["mae"] / ref["mae"] - 1
        lines += [f"Best row using the zoo: {top['candidate']} — CV MAE {top['mae']:.4g} against {ref['mae']:.4g} "
                  f"for the best scratch baseline ({ref['candidate']}): {100 * abs(change):.1f}% "
                  f"{'lower' if change < 0 else 'higher'} MAE"
                  f"{'' if change < 0 else ' — transfer does not beat training from scratch here'}.", ""]
    nested = info.get("nested")
    if nested:
        lines += [f"Honest estimate of *choosing the best of {info['n_screened']} sources and fitting it*: nested CV "
                  f"MAE **{nested['mae']:.4g}** (RMSE {nested['rmse']:.4g}, R² {nested['r2']:.3f}); sources "
                  f"picked in the outer folds: {', '.join(nested['selected_per_fold'])}.", ""]
    else:
        lines += ["The best source's CV error is optimistic: it won a contest on these very folds. Run with "
                  "`nested=True` (CLI `--nested`) for the honest error of the select-then-fit procedure.", ""]
    lines += ["## Leaderboard", "", _table(board.summary("short", unit)), "", "What the numbers are:", ""]
    lines += [f"- `{kind}`: {text}" for kind, text in board.drop_duplicates("kind")[["kind", "estimate"]]
              .itertuples(index=False)]
    lines += ["- Every column (the first-stage errors `ridge_mae`, `knn_mae` that ranked the sources, each source's "
              "own test metrics, `rmse`): `leaderboard.csv`, or `board.summary(\"all\")`.", ""]
    if info.get("skipped_by_cause"):
        lines += ["## Skipped sources", "", "By cause (how many sources, a few of their ids and rows):", ""]
        lines += [f"- {line}" for line in summary_by_cause(info["skipped_by_cause"]).splitlines()] + [""]
    for name, file in (images or {}).items():
        lines += [f"## {name}", "", f"![{name}]({file})", ""]
    return "\n".join(lines)


def write_report(board: pd.DataFrame, out: str | Path, unit: str | None = None,
                 title: str = "Source screening") -> dict[str, Path]:
    """Write leaderboard.csv, screened.csv, predictions.csv, parity.png, transferability.png, report.md.

    The PNG files are the figures of ``board.plot()`` and ``board.plot("transferability")``, at :data:`DPI`.

    Parameters
    ----------
    board : Leaderboard
        A screening result.
    out : str or Path
        The folder (created).
    unit : str, optional
        Unit of the target (default ``board.info["unit"]``; "" is the default too).
    title : str, default "Source screening"

    Returns
    -------
    dict of str to Path
        Each file written, by name.

    Examples
    --------
    >>> write_report(board, "screen-out", unit="K")["report"]          # doctest: +SKIP
    PosixPath('screen-out/report.md')
    """
    unit = unit or board.info.get("unit", "")
    out = Path(out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    files = {"leaderboard": out / "leaderboard.csv", "screened": out / "screened.csv",
             "predictions": out / "predictions.csv"}
    pd.DataFrame(board).to_csv(files["leaderboard"], index=False)
    board.screened.to_csv(files["screened"], index=False)
    board.predictions.to_csv(files["predictions"], index=False)
    for name in FIGURES:
        files[name] = out / f"{name}.png"
        board.plot(name, unit).savefig(files[name], dpi=DPI)
    selected, beside = board.info["selected"], parity_panels(board)[1:]
    parity = (f"Parity: out-of-fold predictions of `board.best` ({selected['candidate']}, a {selected['kind']} row)"
              + "".join(f" beside {role} ({label})" for label, role in beside))
    files["report"] = out / "report.md"
    files["report"].write_text(markdown_report(board, title, {parity: "parity.png",
                                                              "Transferability of the screened sources":
                                                              "transferability.png"}, unit))
    return files
