"""What a person sees of a screening: the board's short view and its best row, figures, progress bars, search."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from tqdm.auto import tqdm

import mdl
from mdl.errors import InvalidInputError
from mdl.hub.index import COLUMNS as INDEX_COLUMNS
from mdl.hub.summary import BULKY_COLUMNS, search_summary
from mdl.screening import candidates, pipeline
from mdl.screening.leaderboard import BEST_MARK, COLUMNS, SHORT_COLUMNS
from mdl.screening.report import DPI, write_report


class _RecordedBar(tqdm):
    """A tqdm bar that records what it said and counted when it closes."""

    closed: list[tuple[str, float, float]] = []

    def close(self) -> None:
        if not getattr(self, "_recorded", False):
            self._recorded = True
            _RecordedBar.closed.append((self.desc, self.total, self.n))
        super().close()


@pytest.fixture(scope="module")
def screened(sources, target):
    """One small screening, its progress bars recorded (progress on)."""
    smiles, y = target
    _RecordedBar.closed = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "tqdm", _RecordedBar)     # the first stage's bar
        mp.setattr(candidates, "tqdm", _RecordedBar)   # the second stage's
        board = mdl.screen(smiles, y, sources=[sources["nn"], sources["rf"]], head="ridge", cv=3, top_k=2,
                           progress=True)
    board.info["unit"] = "K"
    return board, list(_RecordedBar.closed)


def test_the_board_shows_a_short_view_with_units_and_marks_the_best_row(screened):
    board, _ = screened
    assert list(board.columns) == list(COLUMNS)          # every column stays in the frame
    view = board.summary()
    assert list(view.columns) == ["rank", "candidate", "kind", "features", "head", "source_property", "mae (K)",
                                  "mae_std (K)", "r2", "best"]
    assert "estimate" not in view.columns and not isinstance(view, type(board))
    selected = board.info["selected"]["candidate"]
    assert view.loc[view["best"] == BEST_MARK, "candidate"].tolist() == [selected]
    assert (view["best"] == "").sum() == len(board) - 1
    assert board.model(selected) is board.best
    assert view["mae (K)"].tolist() == board["mae"].tolist()
    assert view.select_dtypes(exclude="number").map(len).max().max() <= 48     # no sentence in a cell
    full = board.summary("all")
    assert len(full.columns) == len(COLUMNS) + 1 and {"estimate", "rmse (K)", "knn_mae (K)", "source_test_mae"} \
        <= set(full.columns)
    # reordered or cut rows: the mark follows the candidate, not the position
    shuffled = board.sort_values("r2").summary()
    assert shuffled.loc[shuffled["best"] == BEST_MARK, "candidate"].tolist() == [selected]
    assert "not among these rows" in board[board["candidate"] != selected].best_line()
    with pytest.raises(InvalidInputError, match="columns"):
        board.summary("some")


def test_printing_a_board_shows_the_short_view_and_one_line_saying_why(screened):
    board, _ = screened
    lines = repr(board).splitlines()
    assert lines[0].split() == [*SHORT_COLUMNS[:6], "mae", "(K)", "mae_std", "(K)", "r2", "best"]
    assert len(lines) == len(board) + 3
    selected = board.info["selected"]
    marked = [line for line in lines[1:-2] if line.rstrip().endswith(BEST_MARK)]
    assert len(marked) == 1 and selected["candidate"] in marked[0]
    why = lines[-2]
    assert why == board.best_line()
    assert why.startswith(f"{BEST_MARK}: board.best is {selected['candidate']} (a {selected['kind']} row): ")
    verdict = selected["reason"].split("; ")[0].removeprefix(f"{selected['candidate']} ")
    assert why.endswith(verdict) and len(why) < 250
    assert board.best_line(full=True).endswith(selected["reason"])
    assert 'board.summary("all")' in lines[-1] and f"{len(board.columns)} columns" in lines[-1]
    html = board._repr_html_()
    assert html.count("<tr") == len(board) + 1 and "estimate" not in html and "board.best is" in html
    # a selection of columns is what the user asked for: pandas' own view
    picked = board[["candidate", "estimate"]]
    assert "estimate" in repr(picked) and "board.best" not in repr(picked)


def test_a_scratch_pick_says_so_in_its_first_clause():
    kinds = {"t": "transfer", "m": "mean", "s": "scratch"}
    label, reason = candidates.choose({"t": [0.5, 1.5, 0.9], "m": [0.9, 1.2, 0.9], "s": [1.0, 1.1, 0.95]}, kinds)
    assert label == "s"
    first, *closer = reason.split("; ")
    assert first.startswith("training from scratch is chosen: no row using the zoo leads s") and len(closer) == 2


def _scatter_xy(ax, i=0):
    return ax.collections[i].get_offsets()


def test_board_plot_returns_the_parity_and_transferability_figures(screened):
    board, _ = screened
    fig = board.plot()
    assert isinstance(fig, Figure) and fig.canvas.manager is None      # not held by pyplot
    best, scratch = board.info["selected"]["candidate"], board.info["best_scratch"]
    assert best != scratch       # on this target the zoo wins: the parity figure has two panels
    assert len(fig.axes) == 2
    y = board.predictions["y"].to_numpy()
    for ax, label in zip(fig.axes, (best, scratch)):
        np.testing.assert_allclose(_scatter_xy(ax), np.column_stack([y, board.predictions[label]]))
        mae = float(board.loc[board["candidate"] == label, "mae"].iloc[0])
        assert ax.get_legend().get_texts()[0].get_text() == f"{label}: MAE {mae:.3g} K"
        assert ax.get_xlabel() == "measured (K)"
    assert fig.axes[0].get_title() == f"handed back (board.best), a {board.info['selected']['kind']} row"
    assert fig.axes[1].get_title() == "the best scratch row"

    fig = board.plot("transferability")
    (ax,) = fig.axes
    first_stage = board.screened["knn_mae"].to_numpy()
    np.testing.assert_allclose(np.sort(_scatter_xy(ax)[:, 1]), np.sort(first_stage))
    top = board.screened["head_mae"].dropna().to_numpy()
    np.testing.assert_allclose(np.sort(_scatter_xy(ax, 1)[:, 1]), np.sort(top))
    levels = sorted(line.get_ydata()[0] for line in ax.lines)
    assert levels == sorted(board.loc[board["kind"] == "scratch", "mae"])
    assert ax.get_ylabel() == "transfer MAE on the target (K)"
    with pytest.raises(InvalidInputError, match="kind"):
        board.plot("histogram")


def test_write_report_saves_the_boards_own_figures_and_says_what_the_parity_row_is(screened, tmp_path):
    board, _ = screened
    files = write_report(board, tmp_path)
    for name in ("parity", "transferability"):
        buffer = io.BytesIO()
        board.plot(name).savefig(buffer, format="png", dpi=DPI)
        assert files[name].read_bytes() == buffer.getvalue()
    report = files["report"].read_text()
    selected = board.info["selected"]
    assert "best transfer model" not in report
    assert (f"## Parity: out-of-fold predictions of `board.best` ({selected['candidate']}, a {selected['kind']} row) "
            f"beside the best scratch row ({board.info['best_scratch']})") in report
    table = [line for line in report.splitlines() if line.startswith("| ")]
    assert len(table) == len(board) + 1 and "mae (K)" in table[0]
    cells = [len(re.split(r"(?<!\\)\|", line)) for line in table]        # a "|" in a label is escaped
    assert len(set(cells)) == 1
    marked = [line for line in table if BEST_MARK in line]
    assert len(marked) == 1 and selected["candidate"].replace("|", "\\|") in marked[0]


def test_each_progress_bar_counts_what_its_description_names(screened):
    board, bars = screened
    assert len(bars) == 2
    (first_desc, first_total, first_n), (cv_desc, cv_total, cv_n) = bars
    assert first_n == first_total == 2 and "2 sources ranked" in first_desc
    match = re.search(r"3-fold CV of (\d+) candidates \((.*?)\), .* \((\d+) fits\)", cv_desc)
    assert match and cv_n == cv_total == int(match.group(3)) == 3 * int(match.group(1))  # every fold of each
    cross_validated = board.loc[board["kind"] != "mean", "kind"]     # mean rows are averaged, not refitted
    assert int(match.group(1)) == len(cross_validated)
    said = {kind: int(n) for n, kind in (part.split(" ") for part in match.group(2).split(", "))}
    assert said == cross_validated.value_counts().to_dict()


def test_search_summary_shows_a_few_columns_with_units(sources, hub):
    mdl.publish(list(sources.values()), modelset="t-zoo", hub=hub, progress=False)
    hits = mdl.search(hub=hub)
    assert list(hits.columns) == INDEX_COLUMNS                        # search keeps every column for screen()
    short = search_summary(hits)
    assert list(short.columns) == ["model_id", "property", "material", "family", "descriptor", "n_train",
                                   "mae (eV)", "r2"]
    assert short["mae (eV)"].tolist() == hits["mae"].tolist()
    as_json = search_summary(hits, unit_in_header=False)
    assert list(as_json.columns) == ["model_id", "property", "unit", "material", "family", "descriptor", "n_train",
                                     "mae", "r2"]
    assert len(as_json.iloc[:1].to_json(orient="records")) < 400 < len(hits.iloc[:1].to_json(orient="records"))
    mixed = pd.concat([hits, hits.iloc[:1].assign(model_id="t-homo", property="homo", unit="Ha")])
    assert {"unit", "mae"} <= set(search_summary(mixed).columns)      # two units: a unit column, a plain header
    full = search_summary(hits, "all")
    assert set(BULKY_COLUMNS) <= set(full.columns) and len(full.columns) == len(INDEX_COLUMNS)
    assert not set(BULKY_COLUMNS) & set(short.columns)
    with pytest.raises(InvalidInputError, match="columns"):
        search_summary(hits, "most")
