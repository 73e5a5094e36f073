"""Seeing a screening result: leaderboard CSV, parity and transferability plots, a Markdown report.

>>> board = mdl.screen(smiles, y, material="molecule")     # doctest: +SKIP
>>> write_report(board, "screen-out")                      # doctest: +SKIP

The transferability plot follows Figure 2a of Yamada et al. (2019): each source's own held-out test
accuracy (R², unit-free so sources of different properties share one axis) against its transfer
error on the target — the first-stage error (3-NN, or ridge) for every screened source, the head's CV error for
the ``top_k`` — with the scratch baselines as horizontal lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mdl.validation import summary_by_cause

__all__ = ["markdown_report", "parity_plot", "transferability_plot", "write_report"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def parity_plot(board: pd.DataFrame, path: str | Path, unit: str = "") -> Path:
    """Plot the out-of-fold predictions of the best transfer model (and the best scratch baseline) against y.

    Parameters
    ----------
    board : Leaderboard
        A screening result (with ``predictions``).
    path : str or Path
        The PNG written.
    unit : str, optional
        Unit of the target, for the axes.

    Returns
    -------
    Path
        ``path``.
    """
    plt = _pyplot()
    preds = board.predictions
    y = preds["y"].to_numpy()
    best = board.info["selected"]["candidate"]
    scratch = board.loc[board["kind"] == "scratch", "candidate"]
    fig, ax = plt.subplots(figsize=(5.2, 5))
    if len(scratch) and scratch.iloc[0] != best:
        base = scratch.iloc[0]
        ax.scatter(y, preds[base], s=14, c="0.7", label=f"{base} (MAE {_mae(board, base):.3g})")
    ax.scatter(y, preds[best], s=16, c="C0", label=f"{best} (MAE {_mae(board, best):.3g})")
    lo, hi = float(min(y.min(), preds[best].min())), float(max(y.max(), preds[best].max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    label = f" ({unit})" if unit else ""
    ax.set_xlabel(f"measured{label}")
    ax.set_ylabel(f"predicted, out of fold{label}")
    ax.set_title(f"the model handed back: {board.info['cv']}-fold CV predictions")
    ax.legend(fontsize=7, loc="upper left")
    return _save(fig, path)


def transferability_plot(board: pd.DataFrame, path: str | Path) -> Path:
    """Plot each source's own test R² against its transfer error on the target (Figure 2a style).

    Parameters
    ----------
    board : Leaderboard
        A screening result (with ``screened``).
    path : str or Path
        The PNG written.

    Returns
    -------
    Path
        ``path``.
    """
    plt = _pyplot()
    screened = board.screened
    score = "ridge_mae" if board.info.get("stage1") == "ridge" else "knn_mae"
    stage = "ridge" if score == "ridge_mae" else "3-NN"
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
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
        ax.axhline(row.mae, ls="--", lw=1, color=f"C{(j + 3) % 10}", label=f"{row.model_id}: {row.mae:.3g}")
    ax.set_xlabel("source model: R² on its own held-out test split")
    ax.set_ylabel("transfer MAE on the target")
    ax.set_title("transferability of the screened sources")
    ax.legend(fontsize=7, loc="best")
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)
    return Path(path)


def _mae(board: pd.DataFrame, candidate: str) -> float:
    return float(board.loc[board["candidate"] == candidate, "mae"].iloc[0])


def _table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.4g}" if isinstance(v, float) and np.isfinite(v) else ("" if isinstance(v, float) else str(v))
                 for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_report(board: pd.DataFrame, title: str = "Source screening", images: dict[str, str] | None = None) -> str:
    """A short Markdown report: setup, leaderboard, what each number means, skipped sources by cause.

    Parameters
    ----------
    board : Leaderboard
        A screening result.
    title : str, default "Source screening"
    images : dict of str to str, optional
        Relative paths of the plots to embed, by name ("parity", "transferability").

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> print(markdown_report(mdl.screen(smiles, y, property="gap")))   # doctest: +SKIP
    """
    info = board.info
    shown = board[["rank", "candidate", "kind", "features", "source_property", "source_test_r2", "head", "ridge_mae",
                   "knn_mae", "mae", "mae_std", "rmse", "r2"]]
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
    lines += ["## Leaderboard", "", _table(shown), "", "What the numbers are:", ""]
    lines += [f"- `{kind}`: {text}" for kind, text in board.drop_duplicates("kind")[["kind", "estimate"]]
              .itertuples(index=False)]
    lines += ["- `ridge_mae`, `knn_mae`: first-stage errors (closed-form ridge, 3-nearest neighbours) used only "
              "to rank the sources.", ""]
    if info.get("skipped_by_cause"):
        lines += ["## Skipped sources", "", "By cause (how many sources, a few of their ids and rows):", ""]
        lines += [f"- {line}" for line in summary_by_cause(info["skipped_by_cause"]).splitlines()] + [""]
    for name, file in (images or {}).items():
        lines += [f"## {name}", "", f"![{name}]({file})", ""]
    return "\n".join(lines)


def write_report(board: pd.DataFrame, out: str | Path, unit: str = "", title: str = "Source screening") -> dict[str, Path]:
    """Write leaderboard.csv, screened.csv, predictions.csv, parity.png, transferability.png, report.md.

    Parameters
    ----------
    board : Leaderboard
        A screening result.
    out : str or Path
        The folder (created).
    unit : str, optional
        Unit of the target.
    title : str, default "Source screening"

    Returns
    -------
    dict of str to Path
        Each file written, by name.
    """
    out = Path(out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    files = {"leaderboard": out / "leaderboard.csv", "screened": out / "screened.csv",
             "predictions": out / "predictions.csv"}
    pd.DataFrame(board).to_csv(files["leaderboard"], index=False)
    board.screened.to_csv(files["screened"], index=False)
    board.predictions.to_csv(files["predictions"], index=False)
    files["parity"] = parity_plot(board, out / "parity.png", unit)
    files["transferability"] = transferability_plot(board, out / "transferability.png")
    files["report"] = out / "report.md"
    files["report"].write_text(markdown_report(board, title, {"Parity plot of the best transfer model": "parity.png",
                                                              "Transferability": "transferability.png"}))
    return files
