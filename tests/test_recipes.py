"""Recipes are checked as a whole before any data is read: bounds, unknown keys, names, every problem at
once; `mdl zoo build` fails loudly; the sources stay valid Python 3.10."""

from __future__ import annotations

import ast
import copy
import sys
import time
from pathlib import Path

import pytest

import mdl.descriptors
from mdl import datasets
from mdl.cli import main
from mdl.errors import RecipeError
from mdl.zoo import load_recipes, parse_recipe, reference_folders, registry_path
from mdl.zoo import recipe_schema

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def recipe(**changes) -> dict:
    """A small valid recipe; ``changes`` set ``table__key`` (``families__nn__epochs``) to a value."""
    data = {
        "modelset": {"name": "t-recipe", "license": "MIT"},
        "data": {"loader": "qm9", "property": "homo", "limit": 200, "seed": 0},
        "descriptor": {"name": "morgan", "params": {"radius": 2, "n_bits": 512, "counts": True}},
        "selection": {"max_columns": 128},
        "families": {"nn": {"count": 2, "epochs": 10}, "rf": {"count": 1, "ranges": {"n_estimators": [10, 20]}}},
    }
    data = copy.deepcopy(data)
    for dotted, value in changes.items():
        *tables, key = dotted.split("__")
        table = data
        for name in tables:
            table = table.setdefault(name, {})
        table[key] = value
    return data


def problems(data: dict) -> list[str]:
    """The problem lines of an invalid recipe."""
    with pytest.raises(RecipeError) as err:
        parse_recipe(data, "r.toml")
    return str(err.value).splitlines()


@pytest.mark.parametrize("changes, field, says", [
    ({"families__nn__count": 1_000_000_000}, "families.nn.count", "less than or equal to 10000"),
    ({"families__nn__count": -1}, "families.nn.count", "greater than or equal to 0"),
    ({"families__nn__epochs": -5}, "families.nn.epochs", "greater than or equal to 1"),
    ({"families__nn__epochs": 100_001}, "families.nn.epochs", "less than or equal to 100000"),
    ({"families__nn__lr": 0.0}, "families.nn.lr", "greater than 0"),
    ({"families__nn__lr": 11}, "families.nn.lr", "less than or equal to 10"),
    ({"families__nn__lr": float("nan")}, "families.nn.lr", "finite"),
    ({"families__nn__batch_size": True}, "families.nn.batch_size", "valid integer"),
    ({"families__nn__patience": -1}, "families.nn.patience", "greater than or equal to 0"),
    ({"families__rf__min_samples_leaf": 0}, "families.rf.min_samples_leaf", "greater than or equal to 1"),
    ({"families__nn__ranges": {"first": [50, 10**7]}}, "families.nn.ranges.first", "<= 65536"),
    ({"families__nn__ranges": {"n_layers": [1, 1000]}}, "families.nn.ranges.n_layers", "<= 64"),
    ({"families__rf__ranges": {"n_estimators": ["a", "b"]}}, "families.rf.ranges.n_estimators", "two finite numbers"),
    ({"families__gb": {"count": 1, "ranges": {"max_depth": [2.5, 3]}}}, "families.gb.ranges.max_depth", "whole"),
    ({"descriptor__params": {"n_bits": 1_000_000_000}}, "descriptor.params.n_bits", "at most 65536"),
    ({"selection__max_columns": 10**6}, "selection.max_columns", "MDL_MAX_WIDTH"),
    ({"selection__max_zero_fraction": 1.5}, "selection.max_zero_fraction", "less than or equal to 1"),
    ({"split__test_size": 1.0}, "split.test_size", "less than 1"),
    ({"data__limit": 0}, "data.limit", "greater than or equal to 1"),
    ({"data__seed": -1}, "data.seed", "greater than or equal to 0"),
    ({"data__seed": 2**40}, "data.seed", "less than or equal to"),
    ({"modelset__license": "MIT\nnot: yaml"}, "modelset.license", "pattern"),
    ({"families__nn__hidden": []}, "families.nn.hidden", "at least 1 item"),
    ({"families__nn__hidden": [512, 0]}, "families.nn.hidden.1", "greater than or equal to 1"),
    ({"families__nn__hidden": [10**6]}, "families.nn.hidden.0", "at most 65536 (MDL_MAX_WIDTH"),
    ({"families__nn__hidden": [8] * 65}, "families.nn.hidden", "at most 64 hidden layers"),
    ({"families__nn__hidden": [512.0]}, "families.nn.hidden.0", "valid integer"),
    ({"families__nn__hidden": [64], "families__nn__setup": "nn2"}, "families.nn.setup", "give one or the other"),
    ({"families__nn__target_clip": 0.0}, "families.nn.target_clip", "greater than 0"),
    ({"families__nn__target_clip": 101.0}, "families.nn.target_clip", "less than or equal to 100"),
    ({"families__nn__target_clip": float("inf")}, "families.nn.target_clip", "finite"),
])
def test_out_of_bounds_fields_are_refused_at_parse_time_naming_file_and_field(changes, field, says):
    start = time.perf_counter()
    (line,) = problems(recipe(**changes))
    assert line.startswith(f"r.toml: {field}: ") and says in line
    assert time.perf_counter() - start < 5  # refused at once, not after allocating or training


def test_the_bounds_themselves_are_accepted():
    edges = recipe(families__nn__count=10_000, families__nn__epochs=100_000, families__nn__lr=10,
                   families__nn__ranges={"first": [1, 65_536], "last": [1, 1], "n_layers": [1, 64]},
                   selection__max_columns=65_536, data__seed=2**32 - 1, split__test_size=0.999)
    (parsed,) = parse_recipe(edges)
    nn = parsed.families[0]
    assert nn.count == 10_000 and nn.options == {"epochs": 100_000, "lr": 10} and parsed.seed == 2**32 - 1
    fixed = recipe(families__nn={"count": 1, "hidden": [65_536] + [1] * 63, "target_clip": 100.0})
    del fixed["data"]["limit"]  # no limit: every labelled row
    (parsed,) = parse_recipe(fixed)
    assert parsed.limit is None and parsed.families[0].options == {"hidden": [65_536] + [1] * 63, "target_clip": 100.0}


def test_the_heavy_tier_is_its_own_folder_of_full_data_fixed_width_networks():
    """registry/heavy: networks only, fixed widths, clipped targets, every row (QM9 excepted: tens of
    thousands), model set names apart from the base tier's; generalists for each material class."""
    base = load_recipes(reference_folders("base"))
    heavy = load_recipes(reference_folders("heavy"))
    assert {r.modelset for r in heavy}.isdisjoint({r.modelset for r in base})
    assert all(r.modelset.startswith("heavy-") for r in heavy)
    for r in heavy:
        (nn,) = r.families
        assert nn.family == "nn" and nn.setup is None and not nn.ranges
        assert nn.options["hidden"] == [512, 256, 128] and nn.options["target_clip"] == 5.0
        assert r.limit is None or (r.loader == "qm9" and r.limit >= 30_000), r.modelset
        assert r.max_columns is None and r.max_zero_fraction == 1.0
    multi = {r.loader: r for r in heavy if r.multi}
    assert {"chemicals", "qm9", "neurips2025_opp_train", "mp_transport"} <= set(multi)
    assert {loader: len(multi[loader].properties) for loader in ("chemicals", "qm9", "neurips2025_opp_train")} \
        == {"chemicals": 9, "qm9": 12, "neurips2025_opp_train": 5}
    assert set(multi["mp_transport"].properties) == set(datasets.properties("mp_transport"))
    singles = {(r.loader, r.properties[0]) for r in heavy if not r.multi}
    assert {("chemicals", p) for p in multi["chemicals"].properties} <= singles
    assert {("qm9", p) for p in multi["qm9"].properties} <= singles


def test_limits_follow_their_settings(monkeypatch):
    data = recipe(selection__max_columns=4096, descriptor__params={"n_bits": 4096})
    assert parse_recipe(data)[0].max_columns == 4096
    monkeypatch.setenv("MDL_MAX_WIDTH", "1024")
    lines = [line.strip() for line in problems(data)]
    assert lines[0] == "2 problems in recipes:"
    assert lines[1].startswith("r.toml: descriptor.params.n_bits: at most 1024 in size (MDL_MAX_WIDTH raises it)")
    assert lines[2] == "r.toml: selection.max_columns: at most 1024 (MDL_MAX_WIDTH raises it), got 4096"


def test_every_problem_is_reported_at_once_with_the_nearest_name():
    data = recipe(data__limt=5, modelset__licence="MIT", descriptor__params={"radus": 2},
                  families__nn__count=1_000_000_000, families__nn__epochs=-5, families__nn__ranges={"n_layer": [1, 2]},
                  families__rf__setup="rf3", families__xx={"count": 1}, evil__payload=1)
    lines = problems(data)
    assert len(lines) == 1 + 9 and lines[0] == "9 problems in recipes:"
    expected = {
        "data.limt": "unknown key; did you mean 'limit'?",
        "modelset.licence": "did you mean 'license'?",
        "descriptor.params.radus": "did you mean 'radius'?",
        "families.nn.count": "less than or equal to 10000",
        "families.nn.epochs": "greater than or equal to 1",
        "families.nn.ranges.n_layer": "did you mean 'n_layers'?",
        "families.rf.setup": "did you mean 'rf2'?",
        "families.xx": "unknown family; known: en, gb, gnn, nn, rf",
        "evil": "unknown section; known: data, descriptor, families, modelset, selection, split",
    }
    for field, says in expected.items():
        assert any(line.startswith(f"  r.toml: {field}: ") and says in line for line in lines), field


def test_properties_and_loader_arguments_are_checked_against_what_the_loader_declares():
    lines = problems(recipe(data__property=None, data__properties=["homo", "lumoo", "homo"], data__args={"limit": 5}))
    assert any("data.properties: 'lumoo': unknown property of 'qm9'; did you mean 'lumo'?" in line for line in lines)
    assert any("data.properties: listed more than once: ['homo']" in line for line in lines)
    assert any("data.args.limit: loader 'qm9' takes no 'limit'" in line for line in lines)
    assert problems(recipe(data__properties=["homo"]))[0].endswith("give either property or properties (a list), "
                                                                   "not both or neither")
    (parsed,) = parse_recipe(recipe(data__loader="cdvae_perov5", data__property="indirect_band_gap",
                                    data__args={"limit": 300, "seed": 1}))
    assert parsed.loader_args == {"limit": 300, "seed": 1}


def test_nothing_is_loaded_while_a_recipe_is_checked(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a data set was loaded during validation")

    monkeypatch.setattr(datasets, "_load", refuse)
    monkeypatch.setenv("MDL_SHARED_DATA", str(tmp_path))  # no shared data set could load anyway
    recipes = load_recipes([*reference_folders("all"), registry_path("starter")])
    assert len(recipes) > 50 and {r.loader for r in recipes} >= {"qm9", "transpolymer_egc", "cdvae_carbon24"}
    assert len({r.modelset for r in recipes}) == len(recipes)


def test_names_and_the_ids_made_from_them_pass_the_hub_rule_up_front():
    for bad in ("../escape", "a/b", "", "-x", "a" * 97):
        assert any(line.startswith("r.toml: modelset.name: ") for line in problems(recipe(modelset__name=bad)))
    long_name = recipe(modelset__name="a" * 90)
    del long_name["families"]["rf"]
    (line,) = problems(long_name)  # the set name fits, "-nn-0001" makes the id too long
    assert line.startswith("r.toml: modelset.name: invalid model id") and "a" * 90 + "-nn-0001" in line
    per_property = recipe(modelset__name="p" * 83, data__property=None, data__properties=["homo", "zpve"])
    del per_property["families"]["rf"]
    assert [r.modelset for r in parse_recipe(per_property)] == ["p" * 83 + "-homo", "p" * 83 + "-zpve"]
    per_property["data"]["properties"] = ["homo", "alpha"]  # 96 characters with "-nn-0001"; "-alpha" one more
    (line,) = problems(per_property)
    assert line.startswith("r.toml: modelset.name: invalid model id") and "p" * 83 + "-alpha-nn-0001" in line


def test_whatever_the_descriptor_raises_becomes_a_recipe_error_naming_it(monkeypatch):
    real = mdl.descriptors.get_descriptor

    def out_of_memory(name, **params):
        if params:
            raise MemoryError()  # str() is empty
        return real(name)

    monkeypatch.setattr(mdl.descriptors, "get_descriptor", out_of_memory)
    assert problems(recipe()) == ["r.toml: descriptor.params: MemoryError"]


def test_multi_property_recipes_need_networks_and_two_properties():
    multi = recipe(data__property=None, data__properties=["homo", "lumo"], data__multi=True)
    assert problems(multi) == ["r.toml: data.multi: multi-property training needs networks only (families.nn or gnn)"]
    del multi["families"]["rf"]
    (parsed,) = parse_recipe(multi)
    assert parsed.multi and parsed.modelset == "t-recipe" and parsed.target == ["homo", "lumo"]
    multi["data"]["properties"] = ["homo"]
    assert problems(multi) == ["r.toml: data.multi: list at least two properties for multi-property training"]


def test_load_recipes_reports_every_file_and_ids_made_twice(tmp_path):
    good = (registry_path("starter") / "qm9-alpha.toml").read_text()
    (tmp_path / "a.toml").write_text(good)
    (tmp_path / "b.toml").write_text(good.replace("[data]", "[data]\nlimt = 5"))
    (tmp_path / "c.toml").write_text(good.replace('"starter-qm9-alpha"', '"other"'))
    (tmp_path / "d.toml").write_text(good.replace("[families.nn]", "[families.nn]\ncount = 3"))  # not TOML
    (tmp_path / "twin").mkdir()
    (tmp_path / "twin" / "a.toml").write_text(good)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecipeError) as err:
        load_recipes([tmp_path, tmp_path / "twin", tmp_path / "empty"])
    lines = [line.strip() for line in str(err.value).splitlines()]
    assert lines[0] == "4 problems in recipes:"
    assert lines[1].startswith(f"{tmp_path}/b.toml: data.limt: unknown key; did you mean 'limit'?")
    assert lines[2].startswith(f"{tmp_path}/d.toml: cannot read recipe (TOMLDecodeError")
    assert lines[3] == f"{tmp_path}/empty: no *.toml recipe in this folder"
    assert lines[4].startswith(f"{tmp_path}/twin/a.toml: modelset.name: model set 'starter-qm9-alpha' makes the "
                               f"same model ids as {tmp_path}/a.toml")


def test_the_schema_documents_every_key():
    tables = [recipe_schema.RecipeSchema, recipe_schema.ModelSetTable, recipe_schema.DataTable,
              recipe_schema.LoaderArgs, recipe_schema.DescriptorTable, recipe_schema.SelectionTable,
              recipe_schema.SplitTable, recipe_schema.FamiliesTable, recipe_schema.NNFamily, recipe_schema.RFFamily]
    for table in tables:
        for key in table.model_fields:
            assert any(f"{a}{key}{b}" in recipe_schema.__doc__ for a, b in ("``", "[]", "[.")), key


def test_zoo_build_exits_2_on_an_invalid_recipe_before_training(tmp_path, capsys):
    bad = (registry_path("starter") / "qm9-alpha.toml").read_text().replace("epochs = 60", "epochs = -5")
    (tmp_path / "bad.toml").write_text(bad)
    assert main(["zoo", "build", str(tmp_path / "bad.toml"), "--hub", str(tmp_path / "hub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mdl: error: {tmp_path}/bad.toml: families.nn.epochs: ") and not (tmp_path / "hub").exists()


def test_zoo_build_exits_2_when_models_fail_with_one_line_per_cause(tmp_path, capsys, monkeypatch):
    from mdl.zoo import builder as build_module
    real = build_module.train_source

    def failing_en(*args, **kwargs):
        if kwargs["family"] == "en":
            raise FloatingPointError("diverged")
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "train_source", failing_en)
    text = (registry_path("starter") / "qm9-alpha.toml").read_text()
    families = text.index("[families.nn]")
    small = text[:families].replace("limit = 3000", "limit = 200") + \
        "[families.rf]\ncount = 1\nranges = { n_estimators = [10, 12] }\n[families.en]\ncount = 5\n"
    (tmp_path / "r.toml").write_text(small)
    code = main(["zoo", "build", str(tmp_path / "r.toml"), "--hub", str(tmp_path / "hub"), "--workers", "1"])
    out, err = capsys.readouterr()
    assert code == 2 and "built 1, already published 0, failed 5" in out
    lines = [line for line in err.splitlines() if "failed" in line]  # the rest is the progress bar
    assert lines[0] == ("  5 failed with FloatingPointError: diverged (starter-qm9-alpha-en-0000, "
                        "starter-qm9-alpha-en-0001, starter-qm9-alpha-en-0002, ... 2 more)")
    assert lines[1].startswith("mdl: error: 5 model(s) or recipe(s) failed") and len(lines) == 2


# --- portability ------------------------------------------------------------------------------------

def test_the_sources_are_python_3_10():
    """requires-python says 3.10: no 3.11-only syntax (``except*``...) and tomllib only with its fallback."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    assert "tomli>=1.1; python_version < '3.11'" in project["dependencies"]
    files = [p for folder in ("mdl", "tests", "tools") for p in (ROOT / folder).rglob("*.py")]
    assert len(files) > 40
    for path in files:
        source = path.read_text()
        ast.parse(source, filename=str(path), feature_version=(3, 10))
        if "import tomllib" in source:
            assert "import tomli as tomllib" in source, path
