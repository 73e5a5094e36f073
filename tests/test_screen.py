"""Screening sources for a small real target: exact first stage, batched features, honest numbers."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor

import mdl
from mdl import datasets
from mdl.cli import main
from mdl.descriptors import get_descriptor
from mdl.errors import InvalidInputError, ModelFormatError, ModelNotFoundError
from mdl.hub import LocalHub
from mdl.models.source import SourceModel
from mdl.models.svr import KernelSVR
from mdl.models.train import train_source
from mdl.transfer_learning import TransferModel, cross_validated, make_head, source_features
from mdl.screening.candidates import choose
from mdl.screening.kinds import tiers
from mdl.screening.report import markdown_report
from mdl.transfer_learning.scratch import ScratchModel, make_scratch
from mdl.transfer_learning.mean import MeanModel
from mdl.transfer_learning.profile import PROFILE_HEADS, ProfileModel
from mdl.transfer_learning.stacking import StackedTransferModel
from mdl.models.packed_features import network_features
from mdl.transfer_learning.cv import make_splits, value_range_groups
from mdl.screening.ranking import knn_cv_errors, ridge_cv_errors
from mdl.screening.sources import SkippedSourcesWarning

QUICK = {"head": "ridge", "cv": 3, "baselines": False}


@pytest.fixture(scope="module")
def more_nets(morgan):
    """Networks of other depths and widths on the same descriptor, trained on another QM9 target."""
    smiles, y = datasets.load("qm9").xy("homo", limit=300, seed=2)
    D = morgan.transform(smiles)
    info = {"material": "molecule", "property": "homo", "unit": "eV", "dataset": "qm9"}
    return [train_source(D, y, morgan.spec, family="nn",
                         hyperparameters={"hidden": hidden, "epochs": 5}, model_id=f"t-homo-nn-{i:04d}", seed=i,
                         max_columns=cols, info=info)
            for i, (hidden, cols) in enumerate([([48, 12], 300), ([80, 40, 20, 8], 200), ([20, 10, 6], 500)])]


@pytest.fixture
def published(hub, sources, more_nets):
    mdl.publish([*sources.values(), *more_nets], modelset="t-zoo", hub=hub, progress=False)
    return hub


def test_ridge_first_stage_is_exact_leave_one_out_and_k_fold(sources, target):
    smiles, y = target
    F = source_features(sources["nn"], smiles)
    errors, alphas = ridge_cv_errors(F, y)
    scale = F.std(axis=0)
    Z = (F - F.mean(axis=0)) / np.where(scale > 1e-12, scale, 1.0)
    for a in (0, 6, 12):
        refit = [y[i] - Ridge(alpha=alphas[a]).fit(np.delete(Z, i, 0), np.delete(y, i)).predict(Z[i : i + 1])[0]
                 for i in range(len(y))]
        np.testing.assert_allclose(errors[:, a], refit, rtol=1e-6, atol=1e-6)
    folds = [test for _, test in make_splits(len(y), 4, None, 0)]
    errors, _ = ridge_cv_errors(F, y, folds)
    refit = np.empty(len(y))
    for test in folds:
        train = np.setdiff1d(np.arange(len(y)), test)
        refit[test] = y[test] - Ridge(alpha=alphas[6]).fit(Z[train], y[train]).predict(Z[test])
    np.testing.assert_allclose(errors[:, 6], refit, rtol=1e-6, atol=1e-6)


def test_knn_first_stage_is_exact_leave_one_out_and_k_fold(sources, target):
    smiles, y = target
    F = source_features(sources["nn"], smiles)
    scale = F.std(axis=0)
    Z = (F - F.mean(axis=0)) / np.where(scale > 1e-12, scale, 1.0)
    d = np.sqrt(((Z[:, None] - Z[None]) ** 2).sum(-1))

    def untied(excluded):  # rows whose 3rd and 4th neighbours are at different distances
        dist = np.sort(np.where(excluded, np.inf, d), axis=1)
        return dist[:, 3] - dist[:, 2] > 1e-6

    refit = np.array([y[i] - KNeighborsRegressor(3).fit(np.delete(Z, i, 0), np.delete(y, i)).predict(Z[i : i + 1])[0]
                      for i in range(len(y))])
    ok = untied(np.eye(len(y), dtype=bool))
    assert ok.sum() > len(y) // 2
    np.testing.assert_allclose(knn_cv_errors(F, y)[ok], refit[ok], atol=1e-6)
    folds = [test for _, test in make_splits(len(y), 4, None, 0)]
    label = np.zeros(len(y), dtype=int)
    refit = np.empty(len(y))
    for f, test in enumerate(folds):
        label[test] = f
        train = np.setdiff1d(np.arange(len(y)), test)
        refit[test] = y[test] - KNeighborsRegressor(3).fit(Z[train], y[train]).predict(Z[test])
    ok = untied(label[:, None] == label[None, :])
    np.testing.assert_allclose(knn_cv_errors(F, y, folds)[ok], refit[ok], atol=1e-6)


def test_batched_forward_pass_equals_one_network_at_a_time(sources, more_nets, target, morgan):
    smiles, _ = target
    nets = [sources["nn"], *more_nets, sources["nn"]]
    D = morgan.transform(smiles)
    for layers in (-1, "all", [0, -1]):
        batched = network_features(nets, D, layers)
        for net, F in zip(nets, batched):
            expected = source_features(net, smiles, layers)
            assert F.shape == expected.shape
            np.testing.assert_allclose(F, expected, rtol=1e-4, atol=1e-4)


def test_screen_ranks_hub_sources_and_matches_plain_transfer(published, target, morgan):
    smiles, y = target
    board = mdl.screen(smiles, y, property="gap", head="ridge", cv=3, top_k=2, hub=published)
    # the gap query finds the two gap sources (nn and rf), never the homo networks
    assert set(board.screened["model_id"]) == {"t-gap-nn-0000", "t-gap-rf-0000"}
    kinds = list(board["kind"])
    counts = [kinds.count(kind) for kind in ("transfer", "stacked", "profile", "mean", "scratch")]
    assert counts == [4, 1, len(PROFILE_HEADS) + 1, 3, 2]   # + the profile joined to the one raw descriptor
    assert board["mae"].is_monotonic_increasing and board["rank"].tolist() == list(range(1, len(board) + 1))
    assert board["candidate"].is_unique
    for row in board[board["kind"] == "transfer"].itertuples():   # same folds as a plain transfer
        plain = mdl.transfer(row.model_id, smiles, y, head="ridge", cv=3, hub=published, features=row.features)
        assert row.mae == pytest.approx(plain.cv_scores_["mae"], rel=1e-9)
        assert row.r2 == pytest.approx(plain.cv_scores_["r2"], rel=1e-9)
    D = morgan.transform(smiles)
    scratch = cross_validated(make_scratch("rf"), D[:, np.ptp(D, axis=0) > 0], y, 3)
    assert board.loc[board["candidate"] == "scratch-rf[morgan]", "mae"].item() == pytest.approx(scratch["mae"])
    assert "optimistic" in board.loc[board["kind"] == "transfer", "estimate"].iloc[0]
    selected = board.info["selected"]
    assert board.best is board.model(selected["candidate"])
    assert board.best.predict(smiles[:5]).shape == (5,)
    # the fitted model and the side tables survive slicing and sorting
    assert board.head(2).best is board.best and board.sort_values("r2").best is board.best
    assert set(board.predictions.columns) == {"y", *board["candidate"]}
    np.testing.assert_allclose(board.predictions["y"], y)


def test_mdl_screen_is_the_screening_function_itself():
    from mdl import api, screening
    from mdl.screening import pipeline

    assert mdl.screen is api.screen is screening.screen is pipeline.screen
    assert "Parameters" in mdl.screen.__doc__ and "HubNotFoundError" in mdl.screen.__doc__   # one docstring


def test_old_screening_paths_still_work_with_a_deprecation_warning():
    import importlib
    import sys

    from mdl.screening.leaderboard import Leaderboard
    from mdl.screening.report import write_report

    for old in ("screening", "leaderboard", "report", "candidates", "nested", "ranking", "sources"):
        sys.modules.pop(f"mdl.transfer_learning.{old}", None)
        with pytest.warns(DeprecationWarning, match=f"mdl.transfer_learning.{old} moved to mdl.screening"):
            importlib.import_module(f"mdl.transfer_learning.{old}")
    from mdl.transfer_learning import leaderboard, report, screening

    assert screening.screen is mdl.screen and leaderboard.Leaderboard is Leaderboard
    assert report.write_report is write_report
    with pytest.warns(DeprecationWarning, match="mdl.transfer_learning.Leaderboard moved"):
        import mdl.transfer_learning as tl
        assert tl.Leaderboard is Leaderboard


def test_a_model_built_from_scores_takes_them_from_the_same_number_of_folds(sources, target):
    """A board's transfer row hands back a model built with the scores the board ran (no second CV); fit itself
    takes no scores (scikit-learn's fit(X, y), no side channel)."""
    smiles, y = target
    scores = cross_validated(make_head("ridge"), source_features(sources["nn"], smiles), y, 3)
    model = TransferModel.from_cv_scores(scores, smiles, y, source=sources["nn"], head="ridge", cv=3)
    assert model.cv_scores_["mae"] == scores["mae"] and model.cv_scores_["grouped"] is False and model.cv == 3
    refit = TransferModel(sources["nn"], head="ridge", cv=3).fit(smiles, y)   # the same CV, run again
    assert refit.cv_scores_ == model.cv_scores_
    np.testing.assert_array_equal(refit.predict(smiles[:5]), model.predict(smiles[:5]))
    with pytest.raises(InvalidInputError, match="cv_scores must be the scores of this model's 5-fold CV"):
        TransferModel.from_cv_scores(scores, smiles, y, source=sources["nn"], head="ridge", cv=5)
    with pytest.raises(TypeError, match="cv_scores"):
        TransferModel(sources["nn"], head="ridge", cv=3).fit(smiles, y, cv_scores=scores)


def test_every_row_hands_back_a_fitted_model_that_saves_and_loads(published, target, tmp_path):
    smiles, y = target
    board = mdl.screen(smiles, y, property="gap", head="ridge", cv=3, top_k=2, hub=published, progress=False)
    loaders = {"transfer": TransferModel.load, "stacked": StackedTransferModel.load, "scratch": ScratchModel.load,
               "profile": functools.partial(ProfileModel.load, hub=published)}
    loaders["mean"] = functools.partial(MeanModel.load, hub=published)
    for row in board.itertuples():
        model = board.model(row.rank)
        assert model is board.model(row.candidate)       # fitted once, then kept
        expected = {"transfer": TransferModel, "stacked": StackedTransferModel, "scratch": ScratchModel,
                    "profile": ProfileModel, "mean": MeanModel}[row.kind]
        assert isinstance(model, expected)
        if row.kind == "transfer":
            assert model.features == row.features and model.cv_scores_["mae"] == pytest.approx(row.mae)
            assert model.cv == 3 and model.cv_scores_["folds"] == 3   # fitted with its CV, not patched after
        back = loaders[row.kind](model.save(tmp_path / f"row-{row.rank}"))
        np.testing.assert_allclose(back.predict(smiles[:6]), model.predict(smiles[:6]), rtol=1e-6)
    with pytest.raises(InvalidInputError, match="rank"):
        board.model(99)
    with pytest.raises(InvalidInputError, match="no fitted candidate"):
        board.model("no-such-row")


def test_board_best_is_scratch_unless_the_zoo_wins_beyond_the_noise(published, target):
    smiles, y = target
    board = mdl.screen(smiles, y, property="gap", head="ridge", cv=3, top_k=2, hub=published, progress=False)
    mae = dict(zip(board["candidate"], board["mae"]))
    best_scratch = board.info["best_scratch"]
    selected = board.info["selected"]
    if selected["kind"] == "scratch":
        assert selected["candidate"] == best_scratch and isinstance(board.best, ScratchModel)
    else:   # a zoo row is handed back only when it beats scratch, and the lowest row of its tier or above
        assert mae[selected["candidate"]] < mae[best_scratch]
        upto = tiers()[:next(i for i, tier in enumerate(tiers()) if selected["kind"] in tier) + 1]
        admitted = board.loc[board["kind"].isin([k for tier in upto for k in tier]), "mae"]
        assert mae[selected["candidate"]] == admitted.min()
    greedy = mdl.screen(smiles, y, property="gap", head="ridge", cv=3, top_k=2, hub=published, progress=False,
                        select="best")
    assert greedy.info["selected"]["candidate"] == greedy.loc[greedy["kind"] != "select-then-fit", "candidate"].iloc[0]


def test_choose_needs_a_lead_beyond_the_fold_noise():
    kinds = {"t": "transfer", "s": "scratch"}
    assert choose({"t": [0.5, 0.52, 0.49], "s": [1.0, 1.1, 0.95]}, kinds)[0] == "t"         # a clear lead
    assert choose({"t": [0.5, 1.5, 0.9], "s": [1.0, 1.1, 0.95]}, kinds)[0] == "s"          # a lucky fold
    assert choose({"t": [0.5, 1.5, 0.9], "s": [1.0, 1.1, 0.95]}, kinds, select="best")[0] == "t"
    assert choose({"t": [1.5, 1.6, 1.4], "s": [1.0, 1.1, 0.95]}, kinds)[0] == "s"
    assert "within the noise" in choose({"t": [0.5, 1.5, 0.9], "s": [1.0, 1.1, 0.95]}, kinds)[1]
    # tiers: a transfer row (picked among many sources) must beat a profile row that beat scratch
    kinds = {"t": "transfer", "p": "profile", "s": "scratch"}
    folds = {"s": [1.0, 1.1, 0.95], "p": [0.8, 0.85, 0.8], "t": [0.7, 0.9, 0.75]}
    label, reason = choose(folds, kinds)
    assert label == "p" and "t is ahead of p" in reason and "must lead by more" in reason
    assert choose({**folds, "t": [0.6, 0.65, 0.6]}, kinds)[0] == "t"
    assert choose(folds, kinds, select="best")[0] == "t"
    # a mean of profile rows comes before any single one: a profile row must beat it beyond the noise
    kinds = {"s": "scratch", "m": "mean", "p": "profile"}
    folds = {"s": [1.0, 1.1, 0.95], "m": [0.78, 0.9, 0.8], "p": [0.8, 0.85, 0.8]}
    label, reason = choose(folds, kinds)
    assert label == "m" and "p is ahead of m" in reason
    assert choose({**folds, "p": [0.7, 0.72, 0.71]}, kinds)[0] == "p"


def test_non_network_source_gets_its_prediction_as_a_feature(sources, target):
    smiles, y = target
    board = mdl.screen(smiles, y, sources=[sources["rf"]], top_k=1, features="hidden", **QUICK)
    plain = mdl.transfer(sources["rf"], smiles, y, head="ridge", cv=3)
    assert board.loc[0, "mae"] == pytest.approx(plain.cv_scores_["mae"])
    assert board.best.head_features(smiles).shape[1] == len(sources["rf"].columns) + 1


def test_top_k_are_the_first_stage_best_and_ensemble_has_mean_and_spread(sources, more_nets, target):
    smiles, y = target
    pool = [sources["nn"], *more_nets]
    board = mdl.screen(smiles, y, sources=pool, top_k=2, **QUICK)
    screened = board.screened
    ranks = screened["ridge_mae"].rank() + screened["knn_mae"].rank()
    assert ranks.is_monotonic_increasing      # ordered by the mean of both first-stage ranks
    by_ridge = mdl.screen(smiles, y, sources=pool, top_k=2, stage1="ridge", **QUICK).screened
    assert by_ridge["ridge_mae"].is_monotonic_increasing
    assert screened["head_mae"].notna().tolist() == [True, True, False, False]
    ensemble = board.ensemble(2)
    mean, spread = ensemble.predict(smiles[:8], return_std=True)
    members = [mdl.transfer(next(s for s in pool if s.model_id == row.model_id), smiles, y, head="ridge", cv=None,
                            features=row.features).predict(smiles[:8])
               for row in board[board["kind"] == "transfer"].head(2).itertuples()]
    np.testing.assert_allclose(mean, np.mean(members, axis=0), rtol=1e-9)
    np.testing.assert_allclose(spread, np.std(members, axis=0), rtol=1e-9, atol=1e-9)
    assert (spread > 0).any()


def test_nested_cv_of_one_source_equals_its_plain_cv(sources, more_nets, target):
    smiles, y = target
    one = mdl.screen(smiles, y, sources=[sources["nn"]], top_k=1, nested=True, features="hidden", **QUICK)
    rows = one.set_index("kind")
    assert rows.loc["select-then-fit", "mae"] == pytest.approx(rows.loc["transfer", "mae"])
    np.testing.assert_allclose(one.predictions["select-then-fit"], one.predictions["t-gap-nn-0000"])
    many = mdl.screen(smiles, y, sources=[sources["nn"], *more_nets], top_k=2, nested=True, **QUICK)
    nested = many.info["nested"]
    assert len(nested["selected_per_fold"]) == 3 and "honest" in many.set_index("kind").loc["select-then-fit", "estimate"]
    assert set(nested["selected_per_fold"]) <= set(many["candidate"])
    assert np.isfinite(many.predictions["select-then-fit"]).all()


def test_grouped_cv_holds_out_whole_groups(sources, target):
    smiles, y = target
    groups = value_range_groups(y, 4)
    assert len(np.unique(groups)) == 4
    board = mdl.screen(smiles, y, sources=[sources["nn"]], groups=groups, top_k=1, head="ridge", cv=4,
                       baselines=False, features="hidden")
    assert board.info["grouped"] and "grouped" in board.loc[0, "estimate"]
    assert "4-fold errors" in board.info["first_stage"]
    assert board.loc[0, "knn_mae"] == pytest.approx(np.abs(knn_cv_errors(
        source_features(sources["nn"], smiles), y, [test for _, test in make_splits(len(y), 4, groups, 0)])).mean())
    plain = cross_validated(make_head("ridge"), source_features(sources["nn"], smiles), y, 4, groups=groups)
    assert board.loc[0, "mae"] == pytest.approx(plain["mae"])
    with pytest.raises(InvalidInputError, match="distinct groups are fewer"):
        mdl.screen(smiles, y, sources=[sources["nn"]], groups=value_range_groups(y, 2), cv=4, baselines=False)


@pytest.fixture(scope="module")
def composition_net():
    formulas, gap = datasets.load("bandgap_expt").xy("band_gap", limit=120, seed=0)
    ef = get_descriptor("element_fraction")
    return train_source(ef.transform(formulas), gap, ef.spec, family="nn", hyperparameters={"hidden": [16, 8],
                        "epochs": 3}, model_id="t-bg-nn-0000", seed=0, info={"material": "inorganic",
                        "property": "band_gap"})


def test_sources_whose_descriptor_fails_are_reported_and_skipped(sources, composition_net, target):
    smiles, y = target
    with pytest.warns(SkippedSourcesWarning, match="t-bg-nn-0000"):
        board = mdl.screen(smiles, y, sources=[sources["nn"], composition_net], top_k=2, **QUICK)
    assert list(board.skipped) == ["t-bg-nn-0000"] and "rows" in board.skipped["t-bg-nn-0000"]
    assert board.info["n_samples"] == len(y)     # no row was dropped
    assert set(board.loc[board["kind"] == "transfer", "model_id"]) == {"t-gap-nn-0000"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedSourcesWarning)
        with pytest.raises(InvalidInputError, match="no source can be used"):
            mdl.screen(smiles, y, sources=[composition_net], **QUICK)


def test_many_skipped_sources_are_grouped_by_cause(sources, composition_net, target):
    """Many sources failing for one cause make one line with a count and a few ids, not one per source."""
    smiles, y = target
    with pytest.raises(InvalidInputError) as refused:
        get_descriptor("element_fraction").transform(smiles)
    bad_rows = refused.value.rows                                 # SMILES that are not formulas
    assert 0 < len(bad_rows) < len(y)
    net = composition_net
    copies = [SourceModel(model_id=f"t-bg-nn-{i:04d}", estimator=net.estimator, descriptor=net.descriptor,
                          columns=net.columns, info=net.info) for i in range(8)]
    with pytest.warns(SkippedSourcesWarning) as caught:
        board = mdl.screen(smiles, y, sources=[sources["nn"], *copies], top_k=1, **QUICK)
    lines = str(caught[0].message).splitlines()
    assert lines[0] == "8 of 9 sources skipped, by cause:" and len(lines) == 2
    assert lines[1].startswith("8 sources: descriptor 'element_fraction' cannot be computed for this input: ")
    assert "e.g. t-bg-nn-0000, t-bg-nn-0001, t-bg-nn-0002, …)" in lines[1] and "t-bg-nn-0003" not in lines[1]
    assert f"{len(bad_rows)} in all" in lines[1] or len(bad_rows) <= 5
    (group,) = board.info["skipped_by_cause"]
    assert group["items"] == [c.model_id for c in copies] and group["rows"] == bad_rows
    assert sorted(board.skipped) == [c.model_id for c in copies] and set(board.loc[board["kind"] == "transfer", "model_id"]) == {"t-gap-nn-0000"}
    report = markdown_report(board)
    assert report.count("- 8 sources: descriptor 'element_fraction'") == 1 and "t-bg-nn-0005" not in report
    # when every source fails, the error holds the offending rows and stays one line per cause
    with pytest.raises(InvalidInputError, match="no source can be used for this input") as err:
        mdl.screen(smiles, y, sources=copies, **QUICK)
    assert err.value.rows == bad_rows and len(str(err.value).splitlines()) == 2


def test_parameters_and_targets_are_checked_before_any_source_is_loaded(hub, target):
    """The hub is empty: a check that ran after the search would raise ModelNotFoundError instead."""
    smiles, y = target
    cases = [
        ({"y": ["a"] * len(y)}, "targets must be numbers"),
        ({"y": 3.0}, "one target per row"),
        ({"top_k": 0}, "top_k must be an integer >= 1, got 0"),
        ({"limit": -1}, "limit must be an integer >= 1 or None, got -1"),
        ({"cv": 1}, "cv must be an integer >= 2"),
        ({"head": "nonsense"}, "head must be one of"),
        ({"layers": [0.5]}, "layers must be an index"),
        ({"stage1": "svm"}, "stage1 must be one of 'ridge\\+knn', 'ridge', 'knn'; got 'svm'"),
        ({"stage1_cv": "none"}, "stage1_cv must be one of"),
        ({"groups": [0, 1] * (len(y) // 2), "cv": 3}, "2 distinct groups are fewer than the 3 folds"),
    ]
    for change, message in cases:
        args = {"y": y, **change}
        with pytest.raises(InvalidInputError, match=message):
            mdl.screen(smiles, args.pop("y"), property="gap", hub=hub, **args)
    with pytest.raises(InvalidInputError, match="unknown model_type 'foo'"):
        mdl.screen(smiles, y, model_type="foo", hub=hub)


def test_layers_out_of_range_for_a_source_name_it(sources, more_nets, target):
    smiles, y = target
    with pytest.raises(InvalidInputError, match="layers=2: .* network t-homo-nn-0000 has 2 hidden layers"):
        mdl.screen(smiles, y, sources=[sources["nn"], *more_nets], layers=2, **QUICK)


def test_bad_input_is_named(published, sources, target):
    smiles, y = target
    with pytest.raises(InvalidInputError, match="fewer than the 5"):
        mdl.screen(smiles[:4], y[:4], sources=[sources["nn"]], cv=5)
    with pytest.raises(InvalidInputError, match="constant"):
        mdl.screen(smiles, np.full(len(y), 300.0), sources=[sources["nn"]])
    with pytest.raises(ModelNotFoundError, match="matches property='viscosity'"):
        mdl.screen(smiles, y, property="viscosity", hub=published)
    with pytest.raises(InvalidInputError, match="not both"):
        mdl.screen(smiles, y, sources=[sources["nn"]], property="gap")
    with pytest.raises(InvalidInputError, match="rows but y has"):
        mdl.screen(smiles, y[:-1], sources=[sources["nn"]])
    with pytest.raises(InvalidInputError, match="top_k"):
        mdl.screen(smiles, y, sources=[sources["nn"]], top_k=0)


def test_cli_screen_writes_leaderboard_plots_and_report(published, target, tmp_path, capsys):
    smiles, y = target
    pd.DataFrame({"smiles": smiles, "tc": y}).to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "out"
    assert main(["screen", str(tmp_path / "t.csv"), "--x-col", "smiles", "--y-col", "tc", "--material", "molecule",
                 "--head", "ridge", "--cv", "3", "--top-k", "2", "--unit", "K", "--out", str(out),
                 "--hub", str(published.root)]) == 0
    printed = capsys.readouterr().out
    assert "scratch-rf[morgan]" in printed and "report.md" in printed
    board = pd.read_csv(out / "leaderboard.csv")
    assert {"model_id", "kind", "mae", "rmse", "r2", "estimate"} <= set(board.columns)
    assert len(pd.read_csv(out / "screened.csv")) == 5      # every molecule source of the hub
    for png in ("parity.png", "transferability.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text()
    assert "Handed back as `board.best`" in report and "optimistic" in report and "![" in report
    best = board.loc[board["kind"].isin(["transfer", "stacked", "profile", "mean"]), "mae"].iloc[0]
    scratch = board.loc[board["kind"] == "scratch", "mae"].iloc[0]
    assert f"{100 * abs(best / scratch - 1):.1f}% {'lower' if best < scratch else 'higher'} MAE" in report
    assert main(["screen", str(tmp_path / "t.csv"), "--x-col", "nope", "--y-col", "tc",
                 "--hub", str(published.root)]) == 2


def test_profile_rows_see_every_screened_source_prediction(published, sources, more_nets, target, morgan, tmp_path):
    smiles, y = target
    board = mdl.screen(smiles, y, material="molecule", head="ridge", cv=3, top_k=1, hub=published, progress=False,
                       features="profile")
    assert set(board["kind"]) == {"profile", "mean", "scratch"}
    assert sorted(board.loc[board["features"] == "profile", "head"]) == sorted(PROFILE_HEADS)
    label = board.loc[board["features"] == "profile", "candidate"].iloc[0]
    model = board.model(label)
    # the profile is each source's own prediction, every source of the pool (not only the top_k)
    ids = [s.model_id for s in model.sources_]
    assert sorted(ids) == sorted(board.screened["model_id"]) and len(ids) == 5
    D = morgan.transform(smiles)
    expected = np.column_stack([s.estimator.predict(D[:, s.columns]) for s in model.sources_])
    np.testing.assert_allclose(model.head_features(smiles), expected[:, model.columns_], rtol=1e-6)
    # CV of the row = the same head on that matrix, same folds (the board's profile comes from the batched
    # forward pass of the first stage: equal to each source's own predict up to float32 rounding)
    head = make_head(board.loc[board["candidate"] == label, "head"].item())
    scores = cross_validated(head, expected[:, model.columns_], y, 3)
    assert board.loc[board["candidate"] == label, "mae"].item() == pytest.approx(scores["mae"], rel=1e-4)
    # saved as ids and card fingerprints: loads from the hub, and refuses a source that changed
    folder = model.save(tmp_path / "profile")
    back = ProfileModel.load(folder, hub=published)
    np.testing.assert_allclose(back.predict(smiles[:7]), model.predict(smiles[:7]), rtol=1e-9)
    changed = dataclasses.replace(more_nets[0], info={**more_nets[0].info, "created": "2000-01-01T00:00:00"})
    other = LocalHub(tmp_path / "other")   # the same ids, one of them republished
    mdl.publish([*sources.values(), changed, *more_nets[1:]], modelset="t-zoo", hub=other, progress=False)
    with pytest.raises(ModelFormatError, match="source_cards.*t-homo-nn-0000"):
        ProfileModel.load(folder, hub=other)


def _rewrite(folder, name, record):
    """Replace a saved model's JSON record, with a matching manifest (so that only the record's checks see it)."""
    (folder / name).write_text(json.dumps(record))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_the_profile_joined_to_the_raw_descriptor_weighs_two_kernels(published, sources, more_nets, target, morgan,
                                                                     tmp_path):
    smiles, y = target
    board = mdl.screen(smiles, y, material="molecule", cv=3, top_k=1, hub=published, progress=False,
                       features="profile", baselines=False)
    row = board.loc[board["features"] == "profile+raw"].iloc[0]
    assert row.candidate == "profile[5]+morgan-svr" and row.descriptor == "prediction profile + morgan"
    model = board.model(row.candidate)
    assert model.join_ == morgan.spec.fingerprint() and isinstance(model.head_, KernelSVR)
    # the head sees the profile's varying columns, then the fingerprint's counts, split between two kernels
    D = morgan.transform(smiles)
    profile = np.column_stack([s.estimator.predict(D[:, s.columns]) for s in model.sources_])[:, model.columns_]
    np.testing.assert_allclose(model.head_features(smiles), np.hstack([profile, D[:, model.raw_columns_]]), rtol=1e-6)
    assert model.head_.split == len(model.columns_) and model.head_.counts_ == 1.0
    assert len(model.raw_columns_) == int((np.ptp(D, axis=0) > 0).sum())
    # the row's CV is that head on that matrix, same folds (up to the float32 rounding of the board's batched
    # forward pass)
    scores = cross_validated(KernelSVR(split=len(model.columns_)), model.head_features(smiles), y, 3)
    assert row.mae == pytest.approx(scores["mae"], rel=1e-4)
    # by hand, outside a board: the descriptor named by the sources' name for it
    alone = ProfileModel(list(model.sources_), join="morgan").fit(smiles, y)   # float32 rounding, as above
    np.testing.assert_allclose(alone.predict(smiles[:7]), model.predict(smiles[:7]), rtol=1e-4)
    with pytest.raises(InvalidInputError, match="join must name one descriptor the sources read \\(morgan\\)"):
        ProfileModel(list(model.sources_), join="magpie").fit(smiles, y)
    # saved with the spec's fingerprint and columns; a record whose columns pass the descriptor is refused
    folder = model.save(tmp_path / "joined")
    back = ProfileModel.load(folder, hub=published)
    np.testing.assert_allclose(back.predict(smiles[:7]), model.predict(smiles[:7]), rtol=1e-9)
    record = json.loads((folder / "profile.json").read_text())
    for change, field in (({"raw_columns": [*record["raw_columns"][:-1], 4096]}, "raw_columns"),
                          ({"join": "0123456789abcdef"}, "join"), ({"join": None}, "join")):
        _rewrite(folder, "profile.json", {**record, **change})
        with pytest.raises(ModelFormatError, match=f"profile.json: {field}"):
            ProfileModel.load(folder, hub=published)


def test_mean_rows_average_profile_and_scratch_rows_exactly(published, target):
    smiles, y = target
    board = mdl.screen(smiles, y, property="gap", head="ridge", cv=3, top_k=1, hub=published, progress=False,
                       nested=True)
    mae = dict(zip(board["candidate"], board["mae"]))
    best = {kind: board.loc[board["kind"] == kind, "candidate"].iloc[0] for kind in ("profile", "scratch")}
    profile = board.loc[board["kind"] == "profile", "candidate"].tolist()
    members = {f"mean[{best['profile']} | {best['scratch']}]": [best["profile"], best["scratch"]],
               f"mean[{len(profile)} profile rows]": profile,
               f"mean[{len(profile)} profile rows | {best['scratch']}]": [*profile, best["scratch"]]}
    assert sorted(board.loc[board["kind"] == "mean", "candidate"]) == sorted(members)
    oof = board.predictions
    for label, rows in members.items():   # exact: the mean of the members' out-of-fold predictions
        np.testing.assert_allclose(oof[label], np.mean([oof[row] for row in rows], axis=0))
        assert mae[label] <= np.mean([mae[row] for row in rows]) + 1e-12   # triangle inequality
    label = f"mean[{len(profile)} profile rows | {best['scratch']}]"
    np.testing.assert_allclose(board.model(label).predict(smiles[:5]),
                               np.mean([board.model(row).predict(smiles[:5]) for row in members[label]], axis=0))
    assert len(board.info["nested"]["selected_per_fold"]) == 3


def test_a_source_whose_output_overflows_is_left_out_of_the_profile(sources, target):
    import copy

    import torch

    smiles, y = target
    broken = copy.deepcopy(sources["nn"])
    broken.model_id = "t-gap-nn-broken"
    with torch.no_grad():   # hidden layers intact (so it ranks), outputs infinite
        broken.estimator.module_.output.weight.fill_(3e38)
    board = mdl.screen(smiles, y, sources=[sources["nn"], broken, sources["rf"]], head="ridge", cv=3, top_k=1,
                       progress=False, features="profile")
    label = board.loc[board["kind"] == "profile", "candidate"].iloc[0]
    assert label.startswith("profile[2]")
    assert [s.model_id for s in board.model(label).sources_] == ["t-gap-nn-0000", "t-gap-rf-0000"]
