"""Recipes and the batch builder: validation before training, determinism, resumption."""

from __future__ import annotations

import numpy as np
import pytest

import mdl
from mdl.errors import RecipeError
from mdl.zoo import build, parse_recipe


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
    ({"descriptor__name": "nope"}, "descriptor"),
    ({"families__xx": {"count": 1}}, "families.xx"),
    ({"families__rf": {"count": 1, "ranges": {"n_estimators": [500, 10]}}}, "rf.n_estimators"),
    ({"families__nn": {"count": "many"}}, "families.nn.count"),
    ({"families__nn": {"count": 1, "colour": 3}}, "families.nn"),
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
    import importlib

    build_module = importlib.import_module("mdl.zoo.build")  # the module, not the function of that name

    real = build_module.train_source

    def flaky(*args, **kwargs):
        if kwargs["family"] == "gb":
            raise FloatingPointError("diverged")
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "train_source", flaky)
    report = build(parse_recipe(recipe()), hub=tmp_path / "h", progress=False)
    assert list(report.failed) == ["t-zoo-gb-0000"] and "diverged" in report.failed["t-zoo-gb-0000"]
    assert len(report.built) == 4


def test_every_registry_recipe_is_valid_and_ids_are_unique():
    from pathlib import Path

    from mdl import datasets
    from mdl.zoo import load_recipes

    root = Path(__file__).resolve().parent.parent / "registry"
    recipes = load_recipes(sorted(p for p in root.iterdir() if p.is_dir()))
    assert {datasets.load(r.loader, **r.loader_args).material for r in recipes} == {"molecule", "polymer", "inorganic"}
    assert len({(r.loader, r.property) for r in recipes}) >= 30  # properties covered by the zoo
    assert len({r.modelset for r in recipes}) == len(recipes)
    families = {f.family for r in recipes for f in r.families}
    assert families == {"nn", "rf", "gb", "en"}
