"""Packed training of many networks: each model as if trained alone, padded units inert, per-model
early stopping, multi-property masking, ordinary estimators that store and load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mdl.descriptors import DescriptorSpec
from mdl.models.nn import NeuralNetRegressor
from mdl.models.source import SourceModel
from mdl.models.packed import NetSpec, PackedMember
from mdl.models.packed_engine import Pack
from mdl.models.packed_training import train_networks
from mdl.zoo.network_sources import train_network_sources

N_ROWS, N_COLS = 260, 40


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks: one thread is fastest, and steady on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    """Sparse count-like descriptors (as fingerprints are) and a noisy target."""
    rng = np.random.default_rng(0)
    D = (rng.random((N_ROWS, N_COLS)) < 0.3) * rng.integers(1, 4, size=(N_ROWS, N_COLS))
    y = D[:, :6] @ rng.normal(size=6) + 0.2 * rng.normal(size=N_ROWS)
    return D.astype(float), y


def specs_of(n: int = 6, epochs: int = 8, **changes) -> list[NetSpec]:
    """Models of different depths, widths, column subsets and training rows."""
    rng = np.random.default_rng(1)
    hidden = [(24, 12, 6), (10, 8, 4), (30, 6, 5, 3), (16, 16, 16), (8, 4, 2, 2), (20, 5, 5)]
    out = []
    for i in range(n):
        columns = np.sort(rng.choice(N_COLS, size=int(rng.integers(20, N_COLS + 1)), replace=False))
        rows = np.sort(rng.choice(N_ROWS, size=200, replace=False))
        out.append(NetSpec(hidden=hidden[i % len(hidden)], columns=columns, rows=rows, epochs=epochs, patience=3,
                           batch_size=32, seed=100 + i, **changes))
    return out


def weights(net: NeuralNetRegressor) -> list[np.ndarray]:
    return [v.numpy() for v in net.module_.state_dict().values()]


def assert_same_net(a: NeuralNetRegressor, b: NeuralNetRegressor, X: np.ndarray, rtol: float = 1e-5) -> None:
    assert a.loss_curve_ == pytest.approx(b.loss_curve_, rel=rtol, abs=1e-7)
    for wa, wb in zip(weights(a), weights(b)):
        np.testing.assert_allclose(wa, wb, rtol=rtol, atol=rtol * np.abs(wb).max())
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=rtol, atol=rtol * np.abs(b.predict(X)).max())


@pytest.fixture(params=["dense", "sparse"])
def first_layer(request, monkeypatch):
    """The first layer read as a dense matrix, or as sparse rows (as fingerprints are read)."""
    monkeypatch.setattr("mdl.models.packed_engine.SPARSE_FILL", 0.0 if request.param == "dense" else 1.0)
    return request.param


def test_a_network_trained_in_a_group_equals_it_trained_alone_and_fit(data, first_layer):
    D, y = data
    specs = specs_of()
    grouped = train_networks(D, y, specs)
    for spec, net in zip(specs, grouped):
        X = D[:, spec.columns]
        assert isinstance(net, NeuralNetRegressor)
        assert net.n_features_in_ == len(spec.columns) and list(net.hidden) == list(spec.hidden)
        assert_same_net(net, train_networks(D, y, [spec])[0], X)
        # and what NeuralNetRegressor.fit gives on the same data (same streams; float rounding apart)
        assert_same_net(net, spec.estimator().fit(D[spec.rows][:, spec.columns], y[spec.rows]), X, rtol=1e-4)


def test_stack_size_and_memory_bound_do_not_change_results(data, first_layer):
    D, y = data
    specs = specs_of()
    free = train_networks(D, y, specs)
    # one model per stack; and waves of about one model (state of one model ~ 50k floats)
    for options in ({"max_models": 1}, {"max_models": 2}, {"max_elements": 60_000}):
        for spec, a, b in zip(specs, train_networks(D, y, specs, **options), free):
            assert_same_net(a, b, D[:, spec.columns])


def test_padded_units_and_identity_layers_are_inert(data, first_layer):
    D, y = data
    y2 = y.reshape(-1, 1).astype(np.float32)
    specs = specs_of(4)  # three and four hidden layers, different widths and inputs: one stack
    members = [PackedMember.prepare(i, s, D, y2, 1) for i, s in enumerate(specs)]
    for m in members:
        m.state = m.fresh_state(D, y2, torch.device("cpu"))
    stack = Pack(members, torch.device("cpu"))
    assert stack.depth == 4 and (stack.nz_cols is not None) == (first_layer == "sparse")
    for _ in range(4):
        stack.epoch()
    for k, m in enumerate(stack.members):
        own = m.widths_at(stack.depth)
        for layer in range(stack.depth + 1):
            identity = m.pack_layer(layer, stack.depth) is None
            for name in ("W", "bestW", "mW", "vW", "b", "bestb", "mb", "vb"):
                block = getattr(stack, name)[layer][k].clone()
                if name.endswith("W"):
                    inside = block[: own[layer], : own[layer + 1]]
                else:
                    inside = block[0, : own[layer + 1]]
                if identity:  # stays exactly the identity, with zero moments and bias
                    want = torch.eye(own[layer]) if name in ("W", "bestW") else torch.zeros_like(inside)
                    assert torch.equal(inside, want), (name, layer)
                else:
                    assert inside.abs().sum() > 0, (name, layer)
                inside.zero_()
                assert torch.count_nonzero(block) == 0, (name, layer)  # padding: exactly zero
    # the emitted estimators are the unpadded own layers, shaped as the models trained alone
    for k, spec in enumerate(specs):
        alone = NeuralNetRegressor(hidden=list(spec.hidden), epochs=0).fit(D[spec.rows][:, spec.columns], y[spec.rows])
        assert [w.shape for w in weights(stack.emit(k))] == [w.shape for w in weights(alone)]


def test_each_model_stops_early_on_its_own(data, first_layer):
    D, y = data
    base = specs_of(3, epochs=40)
    specs = [base[0].__class__(**{**base[0].__dict__, "patience": 1}),
             base[1].__class__(**{**base[1].__dict__, "patience": 50}),
             base[2].__class__(**{**base[2].__dict__, "epochs": 3})]
    nets = train_networks(D, y, specs)
    lengths = [len(n.loss_curve_) for n in nets]
    assert lengths[2] == 3 and lengths[1] == 40 and lengths[0] < 40
    for spec, net in zip(specs, nets):
        ref = spec.estimator().fit(D[spec.rows][:, spec.columns], y[spec.rows])
        assert len(net.loss_curve_) == len(ref.loss_curve_)
        # the returned weights are the best epoch's: validation loss of the returned model is the curve's minimum
        Xs = (D[spec.rows][:, spec.columns].astype(np.float32) - net.x_mean_) / net.x_scale_
        order = np.random.default_rng(spec.seed).permutation(len(spec.rows))
        val = order[: int(round(spec.validation_fraction * len(spec.rows)))]
        with torch.no_grad():
            pred = net.module_(torch.from_numpy(Xs[val])).numpy()[:, 0]
        target = (y[spec.rows][val].astype(np.float32) - net.y_mean_[0]) / net.y_scale_[0]
        assert np.mean((pred - target) ** 2) == pytest.approx(min(net.loss_curve_), rel=1e-4)


def test_multi_property_targets_mask_missing_labels(data):
    D, y = data
    rng = np.random.default_rng(5)
    Y = np.stack([y, -2 * y + rng.normal(size=len(y))], axis=1)
    Y[rng.random(Y.shape) < 0.3] = np.nan
    Y[np.isnan(Y).all(axis=1), 0] = 0.5  # every row keeps a label
    specs = specs_of(3)
    nets = train_networks(D, Y, specs)
    for spec, net in zip(specs, nets):
        assert net.n_outputs_ == 2 and net.predict(D[:, spec.columns]).shape == (N_ROWS, 2)
        assert np.all(np.isfinite(net.loss_curve_))
        assert_same_net(net, spec.estimator().fit(D[spec.rows][:, spec.columns], Y[spec.rows]), D[:, spec.columns],
                        rtol=1e-4)


def test_failures_are_isolated(data):
    D, y = data
    good, bad = specs_of(2)
    bad = NetSpec(**{**bad.__dict__, "lr": 1e30})
    invalid = {**good.__dict__, "hidden": (8, 0)}
    results = train_networks(D, y, [good, bad], errors="return")
    assert isinstance(results[0], NeuralNetRegressor) and isinstance(results[1], FloatingPointError)
    assert_same_net(results[0], train_networks(D, y, [good])[0], D[:, good.columns])
    results = train_networks(D, y, [good, invalid], errors="return")
    assert isinstance(results[0], NeuralNetRegressor) and isinstance(results[1], Exception)
    with pytest.raises(Exception, match="hidden"):
        train_networks(D, y, [good, invalid])


def test_sources_store_load_and_predict_identically(data, tmp_path):
    from types import SimpleNamespace

    D, y = data
    names = tuple(f"c{i}" for i in range(N_COLS))
    spec = DescriptorSpec("synthetic", {}, "molecule", "1", {}, N_COLS, names)
    jobs = [SimpleNamespace(model_id=f"t-nn-{i:04d}", seed=7 + i, hyperparameters={"hidden": h, "epochs": 5})
            for i, h in enumerate([[16, 8, 4], [12, 6, 3, 3]])]
    done = []
    models = train_network_sources(D, y, spec, jobs, max_columns=30, on_done=lambda i, m: done.append(i))
    assert sorted(done) == [0, 1]
    for job, model in zip(jobs, models):
        assert isinstance(model, SourceModel) and model.is_network and model.model_id == job.model_id
        assert model.info["family"] == "nn" and np.isfinite(model.info["metrics"]["mae"])
        model.save(tmp_path / job.model_id)
        loaded = SourceModel.load(tmp_path / job.model_id)
        # the card keeps how the network trained: epochs run and its validation loss curve
        training = loaded.info["training"]
        assert training["epochs_run"] == len(model.estimator.loss_curve_) == len(training["validation_loss"]) <= 5
        assert training["validation_loss"][training["best_epoch"] - 1] == min(training["validation_loss"])
        np.testing.assert_array_equal(loaded.predict(D), model.predict(D))
        np.testing.assert_array_equal(loaded.neural_descriptors(D, "all"), model.neural_descriptors(D, "all"))


def test_invalid_targets_fail_every_source_model_like_train_source(data):
    from types import SimpleNamespace

    D, y = data
    spec = DescriptorSpec("synthetic", {}, "molecule", "1", {}, N_COLS, tuple(f"c{i}" for i in range(N_COLS)))
    jobs = [SimpleNamespace(model_id=f"t-nn-{i}", seed=i, hyperparameters={"hidden": [8, 4, 2], "epochs": 2})
            for i in range(2)]
    bad = y.copy()
    bad[3] = np.nan
    results = train_network_sources(D, bad, spec, jobs)
    assert all(isinstance(r, Exception) and "NaN" in str(r) for r in results)


def test_clipped_targets_train_alike_stacked_and_alone_and_tame_outliers(data):
    """``target_clip``: the stacked trainer clips the standardised targets exactly as ``fit`` does, and
    a few wild labels then pull the network far less."""
    D, y = data
    wild = y.copy()
    wild[:4] = 1e4  # four outlier rows, > 5 sd out
    (spec,) = specs_of(n=1, epochs=6, target_clip=3.0)
    (stacked,) = train_networks(D, wild, [spec])
    X = D[:, spec.columns]
    assert stacked.target_clip == 3.0
    assert_same_net(stacked, spec.estimator().fit(D[spec.rows][:, spec.columns], wild[spec.rows]), X, rtol=1e-4)
    (plain,) = train_networks(D, wild, [specs_of(n=1, epochs=6)[0]])
    rest = np.setdiff1d(np.arange(N_ROWS), np.arange(4))
    errors = {name: np.abs(net.predict(X[rest]) - y[rest]).mean() for name, net in (("clip", stacked),
                                                                                   ("plain", plain))}
    assert errors["clip"] < errors["plain"]
    with pytest.raises(Exception, match="target_clip"):
        train_networks(D, y, [specs_of(n=1, target_clip=0.0)[0]])
