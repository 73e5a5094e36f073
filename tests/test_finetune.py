"""Fine-tuning zoo networks on small real targets, saving them safely and publishing them back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

import mdl
from mdl import datasets
from mdl.errors import InvalidInputError
from mdl.transfer_learning import FineTunedModel, TransferModel, to_source_model

FAST = {"epochs": 40, "patience": 8, "batch_size": 16}


def _hidden(net):
    """Copies of a NeuralNetRegressor's hidden-layer weights."""
    return [layer.weight.detach().numpy().copy() for layer in net.module_.hidden]


@pytest.fixture(scope="module")
def lumo():
    """A related target on other molecules: QM9 LUMO energies of 150 molecules."""
    return datasets.load("qm9").xy("lumo", limit=150, seed=7)


@pytest.mark.parametrize("freeze, frozen", [(2, [True, True, False]), ("all", [True, True, True]),
                                            (0, [False, False, False])])
def test_freeze_keeps_the_first_layers_and_reinitialises_the_output(sources, target, freeze, frozen):
    smiles, y = target
    before = _hidden(sources["nn"].estimator)
    model = FineTunedModel(sources["nn"], freeze=freeze, **FAST).fit(smiles, y)
    after = _hidden(model.estimator_)
    assert [np.array_equal(a, b) for a, b in zip(before, after)] == frozen
    assert [np.array_equal(a, b) for a, b in zip(before, _hidden(sources["nn"].estimator))] == [True] * 3  # source untouched
    assert model.estimator_.module_.output.weight.shape == (1, 16)
    assert model.predict(smiles[:4]).shape == (4,)


def test_early_stopping_restores_the_best_epoch(sources, target):
    smiles, y = target
    model = FineTunedModel(sources["nn"], freeze=0, epochs=200, patience=5, lr=3e-3).fit(smiles, y)
    curve = model.loss_curve_
    assert len(curve) < 200 and model.best_epoch_ == int(np.argmin(curve)) + 1
    rows = model.validation_rows_
    net = model.estimator_
    F = sources["nn"].features([smiles[i] for i in rows])
    scaled = (net.predict(F) - net.y_mean_[0]) / net.y_scale_[0]
    target_scaled = (y[rows] - net.y_mean_[0]) / net.y_scale_[0]
    assert float(np.mean((scaled - target_scaled) ** 2)) == pytest.approx(min(curve), rel=1e-4)


def test_fine_tuning_learns_a_related_target_in_cross_validation(sources, lumo):
    smiles, y = lumo
    model = FineTunedModel(sources["nn"], freeze=1, **FAST)
    assert clone(model).get_params()["freeze"] == 1
    mae = -cross_val_score(model, np.array(smiles, dtype=object), y, cv=3, scoring="neg_mean_absolute_error")
    baseline = np.abs(y - y.mean()).mean()
    assert mae.mean() < 0.8 * baseline


def test_saved_in_the_source_model_format_and_published_back(sources, target, hub, tmp_path):
    smiles, y = target
    model = mdl.finetune("t-gap-nn-0000", smiles, y, freeze=1, hub=_hub_with(hub, sources), **FAST)
    files = model.save(tmp_path / "ft")
    assert sorted(files) == ["config.json", "weights.safetensors"]  # JSON + safetensors, nothing pickled
    card = json.loads((tmp_path / "ft" / "config.json").read_text())["info"]
    assert card["transferred"] is True and card["source_model"] == "t-gap-nn-0000"
    assert card["transfer"]["frozen_layers"] == 1 and card["transfer"]["output_layer"] == "re-initialised"
    again = FineTunedModel.load(tmp_path / "ft")
    np.testing.assert_allclose(again.predict(smiles[:10]), model.predict(smiles[:10]), rtol=1e-6)
    zoo_model = model.to_source_model("t-tc-ft-0000", info={"property": "critical_temperature", "unit": "K"})
    mdl.publish(zoo_model, modelset="t-tc", hub=hub, progress=False)
    row = mdl.search(property="critical temperature", hub=hub).iloc[0]
    assert row["model_id"] == "t-tc-ft-0000" and row["source_model"] == "t-gap-nn-0000"
    pulled = mdl.pull("t-tc-ft-0000", hub=hub)
    np.testing.assert_allclose(pulled.predict(smiles[:10]), model.predict(smiles[:10]), rtol=1e-6)


def _hub_with(hub, sources):
    mdl.publish(sources["nn"], modelset="t-gap", hub=hub, progress=False)
    return hub


def test_linear_transfer_head_folds_exactly_into_a_zoo_network(sources, target, hub):
    smiles, y = target
    transfer = TransferModel(sources["nn"], head="ridge", cv=None).fit(smiles, y)
    zoo_model = to_source_model(transfer, "t-tc-tl-0000", info={"property": "critical_temperature"})
    np.testing.assert_allclose(zoo_model.predict(smiles), transfer.predict(smiles), rtol=1e-4)
    assert zoo_model.info["transferred"] and zoo_model.info["source_model"] == "t-gap-nn-0000"
    mdl.publish(zoo_model, modelset="t-tc", hub=hub, progress=False)
    np.testing.assert_allclose(mdl.pull("t-tc-tl-0000", hub=hub).predict(smiles[:5]), transfer.predict(smiles[:5]),
                               rtol=1e-4)
    forest = TransferModel(sources["nn"], head="rf", cv=None).fit(smiles, y)
    with pytest.raises(TypeError, match="linear head"):
        to_source_model(forest, "t-tc-tl-0001")


def test_bad_input_is_named(sources, target):
    smiles, y = target
    with pytest.raises(InvalidInputError, match="needs a network source"):
        FineTunedModel(sources["rf"]).fit(smiles, y)
    with pytest.raises(InvalidInputError, match=r"freeze must be 'all' or .* \[0, 3\]"):
        FineTunedModel(sources["nn"], freeze=4).fit(smiles, y)
    with pytest.raises(InvalidInputError, match="constant"):
        FineTunedModel(sources["nn"]).fit(smiles, np.ones(len(y)))
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(InvalidInputError, match="rows: 3"):
        FineTunedModel(sources["nn"]).fit(smiles, bad)
    with pytest.raises(InvalidInputError, match="not a fine-tuned network"):
        FineTunedModel.from_source_model(sources["nn"])


def test_parameters_are_checked_before_the_source_is_loaded(hub, target):
    """The hub is empty: a check that ran after loading would raise ModelNotFoundError instead."""
    smiles, y = target
    cases = [
        ({"epochs": -5}, "epochs must be an integer >= 1, got -5"),
        ({"epochs": 2.5}, "epochs must be an integer >= 1, got 2.5"),
        ({"lr": 0}, "lr must be a finite number > 0, got 0"),
        ({"lr": float("inf")}, "lr must be a finite number > 0, got inf"),
        ({"weight_decay": -1e-3}, "weight_decay must be a finite number >= 0"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"patience": None}, "patience must be an integer >= 1, got None"),
        ({"validation_fraction": 1.0}, r"validation_fraction must be a finite number in \[0, 1\)"),
        ({"freeze": "some"}, "freeze must be 'all' or a number of leading hidden layers"),
    ]
    for params, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            mdl.finetune("no-such-model", smiles, y, hub=hub, **params)
    with pytest.raises(InvalidInputError, match="targets must be numbers"):
        mdl.finetune("no-such-model", smiles, ["a"] * len(y), hub=hub)
    with pytest.raises(InvalidInputError, match="at least 2 are needed"):
        mdl.finetune("no-such-model", smiles[:1], y[:1], hub=hub)


def test_divergence_names_the_learning_rate(sources, target):
    smiles, y = target
    with pytest.raises(InvalidInputError, match=r"diverged at epoch \d+ .* lower lr \(now 1e\+30\)"):
        FineTunedModel(sources["nn"], lr=1e30, epochs=5, patience=5).fit(smiles, y * 1e30)
