"""Recipes and the batch builder: validation before training, determinism, resumption."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mdl
from mdl.errors import RecipeError
from mdl.hub import open_hub
from mdl.hub.index import search_index
from mdl.zoo import build, parse_recipe

from conftest import needs_shared


def recipe(**changes):
    data = {
        "modelset": {"name": "t-zoo", "license": "CC-BY-4.0"},
        "data": {"loader": "qm9", "property": "homo", "limit": 200, "seed": 0},
        "descriptor": {"name": "morgan", "params": {"radius": 2, "n_bits": 512, "counts": True}},
        "selection": {"max_columns": 128},
        "families": {"nn": {"count": 2, "epochs": 10}, "rf": {"count": 1, "ranges": {"n_estimators": [10, 20]}},
                     "gb": {"count": 1, "ranges": {"n_estimators": [10, 20]}}, "en": {"count": 1}},
    }
    for dotted, value in changes.items():
        table, key = dotted.split("__")
        data[table][key] = value
    return data


@pytest.mark.parametrize("changes,field", [
    ({"data__loader": "nope"}, "data.loader"),
    ({"data__property": "colour"}, "data.property"),
    ({"descriptor__name": "nope"}, "descriptor.name"),
    ({"families__xx": {"count": 1}}, "families.xx"),
    ({"families__rf": {"count": 1, "ranges": {"n_estimators": [500, 10]}}}, "families.rf.ranges.n_estimators"),
    ({"families__nn": {"count": "many"}}, "families.nn.count"),
    ({"families__nn": {"count": 1, "colour": 3}}, "families.nn.colour"),
])
def test_invalid_recipes_fail_before_training_naming_the_field(changes, field):
    with pytest.raises(RecipeError, match=field.replace(".", r"\.")):
        parse_recipe(recipe(**changes))


def test_build_is_deterministic_and_resumable(tmp_path):
    recipes = parse_recipe(recipe())
    first = build(recipes, hub=tmp_path / "a", progress=False)
    assert len(first.built) == 5 and not first.failed
    again = build(recipes, hub=tmp_path / "a", progress=False)
    assert again.built == [] and sorted(again.skipped) == sorted(first.built)
    other = build(recipes, hub=tmp_path / "b", progress=False)
    a = mdl.search(hub=tmp_path / "a", sort_by="model_id")
    b = mdl.search(hub=tmp_path / "b", sort_by="model_id")
    assert a["model_id"].tolist() == b["model_id"].tolist() == sorted(other.built)
    np.testing.assert_allclose(a["mae"], b["mae"], rtol=1e-6)
    assert set(a["family"]) == {"nn", "rf", "gb", "en"}
    assert a["hyperparameters"].tolist() == b["hyperparameters"].tolist()


def test_failed_models_are_recorded_and_the_build_goes_on(tmp_path, monkeypatch):
    from mdl.zoo import builder as build_module

    real = build_module.train_source

    def flaky(*args, **kwargs):
        if kwargs["family"] == "gb":
            raise FloatingPointError("diverged")
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "train_source", flaky)
    report = build(parse_recipe(recipe()), hub=tmp_path / "h", progress=False)
    assert list(report.failed) == ["t-zoo-gb-0000"] and "diverged" in report.failed["t-zoo-gb-0000"]
    assert len(report.built) == 4


@needs_shared
def test_a_recipe_whose_data_cannot_be_featurized_is_recorded_and_the_build_goes_on(tmp_path):
    bad = recipe(modelset__name="t-bad")
    bad["data"] = {"loader": "polyverse_bandgap_chain", "property": "band_gap_chain", "limit": 2000, "seed": 0}
    bad["descriptor"] = {"name": "morgan", "params": {"n_bits": 256, "counts": True, "polymer": True}}
    report = build([*parse_recipe(bad), *parse_recipe(recipe())], hub=tmp_path / "h", progress=False)
    assert list(report.failed) == ["t-bad/*"] and "exactly one neighbour" in report.failed["t-bad/*"]
    assert len(report.built) == 5 and mdl.search(hub=tmp_path / "h")["modelset"].unique().tolist() == ["t-zoo"]


@needs_shared
def test_every_registry_recipe_is_valid_and_ids_are_unique():
    from mdl import datasets
    from mdl.zoo import load_recipes, reference_folders, registry_path

    recipes = load_recipes([*reference_folders("all"), registry_path("starter")])
    assert {datasets.load(r.loader, **r.loader_args).material for r in recipes} == {"molecule", "polymer", "inorganic"}
    assert len({(r.loader, r.properties) for r in recipes}) >= 30  # properties covered by the zoo
    assert len({r.modelset for r in recipes}) == len(recipes)
    families = {f.family for r in recipes for f in r.families}
    assert families == {"nn", "rf", "gb", "en", "gnn"}


def test_multi_property_recipe_yields_one_searchable_network_per_model(tmp_path, target):
    data = recipe()
    data["data"] = {"loader": "qm9", "properties": ["homo", "lumo", "gap"], "multi": True, "limit": 200}
    data["families"] = {"nn": {"count": 2, "epochs": 10}}
    (parsed,) = parse_recipe(data)
    assert parsed.multi and parsed.modelset == "t-zoo"
    report = build([parsed], hub=tmp_path / "h", progress=False)
    assert len(report.built) == 2 and not report.failed
    model = mdl.pull(report.built[0], hub=tmp_path / "h")
    per_property = model.info["metrics"]["per_property"]
    assert model.predict(["CCO", "c1ccccc1"]).shape == (2, 3)
    assert set(per_property) == {"homo", "lumo", "gap"}
    for query, name in (("homo", "homo"), ("LUMO", "lumo"), ("gap", "gap")):
        hits = mdl.search(property=query, hub=tmp_path / "h").set_index("model_id")
        assert len(hits) == 2   # searchable under each property, shown with that property's own test metrics
        assert hits.loc[model.model_id, "property"] == name and hits.loc[model.model_id, "unit"] == "eV"
        assert hits.loc[model.model_id, "r2"] == pytest.approx(per_property[name]["r2"])
    alias = mdl.search(property="HOMO-LUMO gap", hub=tmp_path / "h").set_index("model_id")  # an alias of gap's
    assert alias.loc[model.model_id, "property"] == "gap"
    assert alias.loc[model.model_id, "r2"] == pytest.approx(per_property["gap"]["r2"])
    # an index published before per-property aliases were kept: names still match, an alias keeps the means
    index = open_hub(tmp_path / "h").index()
    index["property_metrics"] = [json.dumps({k: {m: v for m, v in d.items() if m != "aliases"}
                                             for k, d in json.loads(t).items()}) for t in index["property_metrics"]]
    old = search_index(index, property="HOMO-LUMO gap").set_index("model_id")
    assert old.loc[model.model_id, "r2"] == pytest.approx(model.info["metrics"]["r2"])
    assert search_index(index, property="lumo").set_index("model_id").loc[model.model_id, "property"] == "lumo"
    smiles, y = target
    assert mdl.transfer(model.model_id, smiles, y, cv=3, hub=tmp_path / "h").cv_scores_["mae"] > 0
    data["families"] = {"nn": {"count": 1}, "rf": {"count": 1}}
    with pytest.raises(RecipeError, match="data.multi"):
        parse_recipe(data)


def assert_same_models(hub_a: Path, hub_b: Path) -> None:
    """The two hubs hold the same models: hyperparameters, and test metrics up to float rounding."""
    a = mdl.search(hub=hub_a, sort_by="model_id")
    b = mdl.search(hub=hub_b, sort_by="model_id")
    assert a["model_id"].tolist() == b["model_id"].tolist()
    assert a["hyperparameters"].tolist() == b["hyperparameters"].tolist()
    for metric in ("mae", "rmse", "r2"):
        np.testing.assert_allclose(a[metric], b[metric], rtol=1e-5)


def test_worker_processes_yield_the_same_models(tmp_path):
    recipes = parse_recipe(recipe())
    alone = build(recipes, hub=tmp_path / "one", progress=False)
    spread = build(recipes, hub=tmp_path / "two", progress=False, workers=2)
    assert sorted(spread.built) == sorted(alone.built) and not spread.failed
    assert_same_models(tmp_path / "one", tmp_path / "two")
    with pytest.raises(ValueError, match="workers"):
        build(recipes, hub=tmp_path / "two", progress=False, workers=0)


def test_ray_engine_yields_the_same_models(tmp_path):
    ray = pytest.importorskip("ray", reason="the Ray engine is an optional extra")
    recipes = parse_recipe(recipe())
    local = build(recipes, hub=tmp_path / "local", progress=False)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        remote = build(recipes, hub=tmp_path / "ray", progress=False, engine="ray")
    finally:
        ray.shutdown()
    assert sorted(remote.built) == sorted(local.built) and not remote.failed
    assert_same_models(tmp_path / "local", tmp_path / "ray")


def test_network_chunks_group_similar_networks_and_even_work():
    from mdl.zoo.samplers import sample
    from mdl.models.packed_schedule import step_macs
    from mdl.zoo.builder import NETWORK_CHUNK, ModelPlan, network_chunks

    rng = np.random.default_rng(0)
    plans = [ModelPlan(f"m-nn-{i:04d}", "nn", i, sample("nn", "nn1", rng, 300)) for i in range(60)]
    plans.append(ModelPlan("m-rf-0000", "rf", 0, sample("rf", "rf1", rng, 300)))
    chunks = network_chunks(plans, 300)
    assert len(chunks) == -(-60 // NETWORK_CHUNK)
    flat = [p.model_id for c in chunks for p in c]
    assert sorted(flat) == sorted(p.model_id for p in plans if p.family == "nn")  # every network once
    first = [[p.hyperparameters["hidden"][0] for p in c] for c in chunks]
    assert all(min(a) >= max(b) for a, b in zip(first[:-1], first[1:]))  # widest first, chunks do not overlap
    work = [sum(step_macs([300, *p.hyperparameters["hidden"], 1]) for p in c) for c in chunks]
    biggest = max(step_macs([300, *p.hyperparameters["hidden"], 1]) for p in plans if p.family == "nn")
    assert max(work) - min(work) <= 2 * biggest  # cut where the work is even, not by count
    assert network_chunks(plans, 300) == chunks and network_chunks(plans[-1:], 300) == []


@needs_shared
def test_a_heavy_recipe_trains_fixed_width_networks_on_every_row(tmp_path):
    """No ``limit``: every labelled row of the data set (split into train and test); ``hidden``: every
    network has those widths and they differ by seed only; ``target_clip`` reaches the estimator; the
    index names the data set and, for a generalist, all its properties."""
    from mdl import datasets

    data = {"modelset": {"name": "t-heavy"}, "data": {"loader": "cdvae_perov5",
            "properties": ["heat_of_formation", "direct_band_gap"], "multi": True, "args": {"limit": 600}},
            "descriptor": {"name": "composition"}, "selection": {"max_zero_fraction": 1.0},
            "families": {"nn": {"count": 2, "hidden": [32, 16], "epochs": 3, "target_clip": 5.0}}}
    report = build(parse_recipe(data), hub=tmp_path / "h", progress=False)
    assert sorted(report.built) == ["t-heavy-nn-0000", "t-heavy-nn-0001"] and not report.failed
    rows = len(datasets.load("cdvae_perov5", limit=600).xy(["heat_of_formation", "direct_band_gap"])[1])
    index = mdl.search(hub=tmp_path / "h", sort_by="model_id")
    assert (index["n_train"] + index["n_test"]).tolist() == [rows, rows] and rows == 600
    assert index["dataset"].tolist() == ["cdvae_perov5"] * 2
    assert index["property"].tolist() == ["heat_of_formation; direct_band_gap"] * 2
    nets = [mdl.pull(m, hub=tmp_path / "h") for m in index["model_id"]]
    assert [json.loads(h) for h in index["hyperparameters"]] == [{"hidden": [32, 16], "epochs": 3, "target_clip": 5.0}] * 2
    assert all(list(n.estimator.hidden) == [32, 16] and n.estimator.target_clip == 5.0 for n in nets)
    assert nets[0].info["seed"] != nets[1].info["seed"]
    assert not np.allclose(nets[0].predict(["CaTiO3"]), nets[1].predict(["CaTiO3"]))
