"""Each fast path of screening equals the straightforward one on small real data (issue: zoo scale).

* the second stage's fits shared out over worker processes (:func:`cv_runs`) give the numbers of
  :func:`cv_run` one candidate at a time (to the last bit, but for the order in which a threaded forest
  adds its trees);
* the profile read off the first stage's forward pass (:attr:`Ranking.outputs`) equals every source's own
  ``predict``: to the last bits for trees, to float32 rounding for networks (batched products sum in another order);
* ``MDL_WORKERS`` sets the worker count, and a bad value names the variable.
"""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from tqdm import tqdm

from mdl.config import workers
from mdl.models.svr import KernelSVR
from mdl.screening.ranking import rank_sources
from mdl.transfer_learning.cv import cv_run, cv_runs, make_splits
from mdl.transfer_learning.heads import make_head
from mdl.transfer_learning.scratch import make_scratch


def test_fits_shared_over_processes_equal_one_by_one(sources, target, morgan):
    smiles, y = target
    D = morgan.transform(smiles)
    D = D[:, np.ptp(D, axis=0) > 0]
    hidden = sources["nn"].neural_descriptors(smiles)
    runs = [(make_head("rf", 3), hidden), (make_scratch("rf", 0), D), (make_scratch("gb", 0), D),
            (KernelSVR(split=hidden.shape[1]), np.hstack([hidden, D])), (make_head("ridge"), hidden)]
    splits = make_splits(len(y), 5, None, 0)
    bar = tqdm(total=len(runs) * len(splits), file=io.StringIO())
    shared = cv_runs(runs, y, splits, n_jobs=2, bar=bar)
    assert bar.n == len(runs) * len(splits)
    for (head, F), (scores, oof) in zip(runs, shared):
        alone_scores, alone_oof = cv_run(head, F, y, splits)
        np.testing.assert_allclose(oof, alone_oof, rtol=1e-12)  # a threaded forest adds its trees in another order
        assert scores["mae_folds"] == pytest.approx(alone_scores["mae_folds"], rel=1e-12)
    # one process gives the same numbers too
    np.testing.assert_array_equal(cv_runs(runs[:1], y, splits, n_jobs=1)[0][1], shared[0][1])


def test_a_forest_fit_in_a_worker_is_single_threaded_and_unchanged(target, morgan):
    smiles, y = target
    D = morgan.transform(smiles)
    splits = make_splits(len(y), 3, None, 1)
    threaded = RandomForestRegressor(20, n_jobs=-1, random_state=5)
    [(_, oof)] = cv_runs([(threaded, D)], y, splits, n_jobs=2)
    np.testing.assert_allclose(oof, cv_run(RandomForestRegressor(20, n_jobs=1, random_state=5), D, y, splits)[1], rtol=1e-12)
    assert threaded.n_jobs == -1  # the caller's head is not changed


@pytest.mark.parametrize("layers", [-1, [0, -1]])
def test_profile_from_the_first_stage_equals_each_sources_predict(sources, more_sources, target, morgan, layers):
    smiles, y = target
    pool = [sources["nn"], sources["rf"], *more_sources]
    D = morgan.transform(smiles)
    key = morgan.spec.fingerprint()
    ranking = rank_sources({key: pool}, {key: D}, y, None, [], method="ridge+knn", layers=layers, batched=True,
                           skipped={}, bar=tqdm(disable=True), outputs=True)
    assert list(ranking.outputs) == [s.model_id for s in ranking.usable]
    for s in pool:
        expected = np.asarray(s.estimator.predict(D[:, s.columns]), dtype=float).reshape(len(D), -1)
        if s.is_network:
            np.testing.assert_allclose(ranking.outputs[s.model_id], expected, rtol=1e-5, atol=1e-5 * np.abs(y).max())
        else:
            np.testing.assert_allclose(ranking.outputs[s.model_id], expected, rtol=1e-12)  # threads' order
    # without outputs asked, none are kept
    assert rank_sources({key: pool}, {key: D}, y, None, [], method="ridge", layers=-1, batched=True, skipped={},
                        bar=tqdm(disable=True)).outputs == {}


@pytest.fixture(scope="module")
def more_sources(qm9_gap, morgan):
    """A two-output network and an elastic net, so that every family's outputs are read off."""
    from mdl.models import train_source

    smiles, y = qm9_gap
    D = morgan.transform(smiles)
    two = np.column_stack([y, 2 * y + 1])
    info = {"material": "molecule", "property": "gap", "unit": "eV", "dataset": "qm9"}
    multi = train_source(D, two, morgan.spec, family="nn", hyperparameters={"hidden": [32, 8], "epochs": 5},
                         model_id="t-gap-nn-0009", seed=1, max_columns=200, info={**info, "property": "gap;gap2"})
    en = train_source(D, y, morgan.spec, family="en", hyperparameters={}, model_id="t-gap-en-0000", seed=0,
                      max_columns=128, info=info)
    return [multi, en]


def test_the_worker_count_follows_mdl_workers(monkeypatch):
    monkeypatch.setenv("MDL_WORKERS", "3")
    assert workers() == 3
    monkeypatch.setenv("MDL_WORKERS", "0")
    with pytest.raises(ValueError, match="MDL_WORKERS=0: must be at least 1"):
        workers()
    monkeypatch.setenv("MDL_WORKERS", "two")
    with pytest.raises(ValueError, match="MDL_WORKERS='two': expected a whole number"):
        workers()
    monkeypatch.delenv("MDL_WORKERS")
    assert workers() >= 1


def test_the_row_cache_is_bounded_and_its_errors_name_the_users_rows():
    from mdl.errors import InvalidInputError
    from mdl.screening.cache import RowCache

    cache = RowCache(max_mb=2 * 8 * 1000 / 2**20)  # room for two rows of 1,000 floats
    compute = lambda rows: np.array([[float(len(r))] * 1000 for r in rows])  # noqa: E731
    cache.rows("n", ["C", "CC", "CCC"], compute)
    assert cache._bytes <= cache.max_bytes and len(cache._store) == 2   # the least recently used went first

    def strict(rows):
        bad = [i for i, r in enumerate(rows) if r == "X"]
        if bad:
            raise InvalidInputError("cannot parse", rows=bad)
        return np.ones((len(rows), 1))

    cache = RowCache(max_mb=1)
    cache.rows("strict", ["C", "CC"], strict)
    with pytest.raises(InvalidInputError) as caught:   # the bad row is the third of the call, not the first computed
        cache.rows("strict", ["C", "CC", "X"], strict)
    assert caught.value.rows == [2]


@pytest.mark.parametrize("shape", [(4, 60, 12), (4, 60, 150)])
def test_ridge_errors_from_the_gram_matrix_equal_those_of_an_svd(shape):
    from mdl.screening.ranking import RIDGE_ALPHAS, _standardised, ridge_cv_errors

    rng = np.random.default_rng(1)
    F = rng.normal(size=shape)
    F[:, :, 0] = 2.0                  # a constant column
    F[:, :, 1] = F[:, :, 2]           # a duplicated one
    y = F[0, :, 3] + rng.normal(size=shape[1])
    errors, alphas = ridge_cv_errors(F, y)
    _, Z = _standardised(F)
    for b in range(shape[0]):        # straightforward: the hat matrix of each penalty from an SVD
        U, s, _ = np.linalg.svd(Z[b], full_matrices=False)
        keep = s**2 > 1e-10 * (s**2).max()
        U, s2 = U[:, keep], s[keep] ** 2
        for a, alpha in enumerate(alphas):
            H = np.full((shape[1], shape[1]), 1.0 / shape[1]) + (U * (s2 / (s2 + alpha))) @ U.T
            loo = (y - H @ y) / (1 - np.diag(H))
            np.testing.assert_allclose(errors[b, :, a], loo, rtol=1e-7, atol=1e-9)
    assert np.allclose(alphas, RIDGE_ALPHAS * shape[1])


def test_a_forest_source_predicts_the_same_in_the_calling_thread(sources, target, morgan):
    from mdl.transfer_learning.model import transfer_features

    smiles, _ = target
    rf = sources["rf"]
    D = morgan.transform(smiles)
    single = copy.copy(rf.estimator).set_params(n_jobs=1).predict(D[:, rf.columns])  # sklearn's own, one job
    np.testing.assert_array_equal(transfer_features([rf], D)[0][:, -1], single)
