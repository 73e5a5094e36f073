"""Source-model families on real data: training, held-out metrics, safe round trips, tampering."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from mdl.errors import IntegrityError, InvalidInputError, RecipeError
from mdl.models import SourceModel, train_source
from mdl.zoo.samplers import sample
from mdl.store.names import WEIGHTS


@pytest.mark.parametrize("family,hp", [
    ("nn", {"hidden": [32, 16, 8], "epochs": 20}),
    ("rf", {"n_estimators": 20, "max_features": 30}),
    ("gb", {"n_estimators": 30, "max_depth": 3, "learning_rate": 0.3}),
    ("en", {"alpha": 0.01, "l1_ratio": 0.5}),
])
def test_family_trains_scores_and_round_trips(tmp_path, qm9_gap, morgan, family, hp):
    smiles, y = qm9_gap
    D = morgan.transform(smiles)
    model = train_source(D, y, morgan.spec, family=family, hyperparameters=hp, model_id=f"m-{family}",
                         seed=3, max_columns=200, info={"property": "gap"})
    info = model.info
    assert info["n_train"] + info["n_test"] == len(y) and info["n_test"] == pytest.approx(0.2 * len(y), abs=1)
    assert set(info["metrics"]) >= {"mae", "rmse", "r2", "pearson", "spearman"}
    assert info["metrics"]["r2"] > 0.1, info["metrics"]  # learns something real about the gap
    assert len(model.columns) <= 200 and info["versions"]["scikit-learn"]
    hashes = model.save(tmp_path / "m")
    assert set(hashes) >= {"config.json"}
    loaded = SourceModel.load(tmp_path / "m", hashes)
    np.testing.assert_allclose(loaded.predict(smiles[:50]), model.predict(smiles[:50]), rtol=1e-6)
    assert loaded.descriptor == model.descriptor


def test_tampered_weights_are_detected(tmp_path, sources):
    hashes = sources["nn"].save(tmp_path / "m")
    weights = tmp_path / "m" / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        SourceModel.load(tmp_path / "m", hashes)


def test_multi_property_network_masks_missing_labels(qm9_gap, morgan):
    smiles, gap = qm9_gap
    D = morgan.transform(smiles)
    y = np.column_stack([gap, gap * 2 + 1])
    y[::3, 1] = np.nan  # a third of the second property is unlabelled
    model = train_source(D, y, morgan.spec, family="nn", hyperparameters={"hidden": [32, 16], "epochs": 20},
                         model_id="m-multi", seed=0, info={"properties": ["a", "b"]})
    assert model.predict(smiles[:5]).shape == (5, 2)
    assert set(model.info["metrics"]["per_property"]) == {"a", "b"}
    with pytest.raises(InvalidInputError, match="network"):
        train_source(D, y, morgan.spec, family="rf", hyperparameters={"n_estimators": 5, "max_features": 5},
                     model_id="x", seed=0)


def test_bad_targets_name_rows(qm9_gap, morgan):
    smiles, y = qm9_gap
    D = morgan.transform(smiles[:50])
    bad = y[:50].copy()
    bad[[4, 9]] = [np.nan, np.inf]
    with pytest.raises(InvalidInputError, match=r"rows: 4, 9"):
        train_source(D, bad, morgan.spec, family="en", hyperparameters={"alpha": 0.1, "l1_ratio": 0.5},
                     model_id="x", seed=0)
    with pytest.raises(InvalidInputError, match="49 rows|has 50 rows"):
        train_source(D, y[:49], morgan.spec, family="en", hyperparameters={"alpha": 0.1, "l1_ratio": 0.5},
                     model_id="x", seed=0)


def test_samplers_are_seeded_and_within_the_papers_ranges():
    draws = [sample("nn", "nn1", np.random.default_rng(s), 500) for s in range(50)]
    assert draws[7] == sample("nn", "nn1", np.random.default_rng(7), 500)
    for hp in draws:
        widths = hp["hidden"]
        assert 3 <= len(widths) <= 4 and widths[0] <= 400 and 10 <= widths[-1] <= 30
        assert widths == sorted(widths, reverse=True)  # a pyramid
    rf = sample("rf", "rf1", np.random.default_rng(0), n_features=60)
    assert 100 <= rf["n_estimators"] <= 800 and 20 <= rf["max_features"] <= 60
    with pytest.raises(RecipeError, match="rf.n_estimators"):
        sample("rf", "rf1", np.random.default_rng(0), 60, {"n_estimators": [0, 10]})
    with pytest.raises(RecipeError, match="gb.learning_rate"):
        sample("gb", None, np.random.default_rng(0), 60, {"learning_rate": [0.5, 2.0]})


def test_no_unsafe_load_path_in_the_package():
    root = Path(__file__).resolve().parent.parent / "mdl"
    # torch.load only with weights_only=True (the foundation import reads chgnet's packaged checkpoint so); joblib
    # only for Parallel, as scikit-learn uses it: a screening's own unfitted heads and feature arrays go to its own
    # worker processes, and nothing read from a hub or a file is ever unpickled
    pattern = re.compile(r"(import|from) (c?pickle|dill|cloudpickle)\b|import joblib\b|pickle\.loads?\(|"
                         r"joblib\.load|from joblib import (?!Parallel, delayed$)|torch\.load\((?![^)]*weights_only=True)")
    offenders = [f"{p}:{i}" for p in root.rglob("*.py") for i, line in enumerate(p.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert not offenders, offenders


def test_stored_config_is_plain_json(tmp_path, sources):
    sources["rf"].save(tmp_path / "rf")
    config = json.loads((tmp_path / "rf" / "config.json").read_text())
    assert config["estimator"]["class"] == "RandomForestRegressor"
    assert config["descriptor"]["name"] == "morgan"


def test_each_file_is_read_once_and_the_hashed_bytes_are_parsed(tmp_path, sources, monkeypatch):
    import builtins
    import io

    hashes = sources["rf"].save(tmp_path / "m")
    opened: list[str] = []
    real_open = builtins.open

    def counting_open(file, *args, **kwargs):
        if str(file).startswith(str(tmp_path)):
            opened.append(Path(file).name)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(io, "open", counting_open)  # pathlib's read_text/read_bytes
    loaded = SourceModel.load(tmp_path / "m", hashes, model_id="t-gap-rf-0000")
    assert sorted(opened) == sorted(hashes) == ["config.json", WEIGHTS]
    assert loaded.model_id == "t-gap-rf-0000"


def test_a_network_trains_on_from_another_with_its_first_layers_frozen(rng):
    from mdl.models.nn import NeuralNetRegressor

    X = rng.normal(size=(80, 6))
    base = NeuralNetRegressor(hidden=[8, 4], epochs=20, random_state=1).fit(X, X[:, 0])
    before = [W.clone() for W, _ in base.hidden_parameters()]
    tuned = NeuralNetRegressor(hidden=[8, 4], epochs=20, patience=50).fit(X, X[:, 1] - X[:, 2], start=base, frozen=1)
    after = [W for W, _ in tuned.hidden_parameters()]
    assert bool((after[0] == before[0]).all()) and not bool((after[1] == before[1]).all())
    assert all(bool((W == B).all()) for (W, _), B in zip(base.hidden_parameters(), before))  # start untouched
    np.testing.assert_array_equal(tuned.input_scaling()[0], base.input_scaling()[0])  # the start's input scaling
    assert tuned.best_epoch_ == int(np.argmin(tuned.loss_curve_)) + 1 and len(tuned.validation_rows_) == 8
    with pytest.raises(ValueError, match=r"hidden must equal the widths of the network started from, \[8, 4\]"):
        NeuralNetRegressor(hidden=[8]).fit(X, X[:, 1], start=base)
