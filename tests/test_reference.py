"""The reference zoo without a clone: its recipes ship in the package (editable install and wheel alike),
build_reference builds a tier of them, reference_summary tabulates a hub, and the tool wraps both."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import shutil
import subprocess
import sys
import time
import zipfile
from importlib import resources
from pathlib import Path

import pytest

import mdl
from mdl import datasets
from mdl.errors import InvalidInputError
from mdl.zoo import BuildReport, build, build_reference, load_recipes, reference_folders, reference_summary, \
    registry_path
from mdl.zoo import reference

ROOT = Path(__file__).resolve().parent.parent


def test_every_tier_resolves_through_the_package_and_its_recipes_validate(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a data set was loaded while recipes were read")

    monkeypatch.setattr(datasets, "_load", refuse)
    package = Path(str(resources.files("mdl.registry")))
    assert package.resolve() == (ROOT / "registry").resolve()  # this checkout's registry, installed editable
    folders = {tier: reference_folders(tier) for tier in ("base", "heavy", "all")}
    assert [p.name for p in folders["all"]] == ["molecules", "polymers", "crystals", "heavy"]
    assert folders["all"] == folders["base"] + folders["heavy"]
    for folder in [*folders["all"], registry_path("starter")]:
        assert folder.parent == package and sorted(folder.glob("*.toml")), folder
        recipes = load_recipes([folder])
        assert recipes and all(Path(r.path).parent == folder for r in recipes)
    shipped = {p.name for p in package.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert shipped == {p.name for p in folders["all"]} | {"starter"}  # every folder is a tier, or the starter
    with pytest.raises(InvalidInputError, match="tier must be one of 'base', 'heavy', 'all'; got 'light'"):
        reference_folders("light")


def test_a_wheel_built_from_the_repository_ships_the_recipes_and_finds_them(tmp_path):
    """The wheel holds every recipe under mdl/registry/, and registry_path, run from the unpacked wheel
    (not this checkout), finds them there."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("mdl", "registry"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist")], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    (wheel,) = (tmp_path / "dist").glob("mdl-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    recipes = sorted(p.relative_to(ROOT / "registry").as_posix() for p in (ROOT / "registry").rglob("*.toml"))
    assert len(recipes) > 50
    assert {f"mdl/registry/{r}" for r in recipes} <= names and "mdl/registry/__init__.py" in names
    assert "mdl/zoo/reference.py" in names and not any(n.startswith("registry/") for n in names)
    assert seconds < 60, f"building the wheel took {seconds:.0f} s"
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    found = subprocess.run(
        [sys.executable, "-c", "from mdl.zoo.recipes import registry_path; print(registry_path('heavy'))"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path / "site")}, check=True, capture_output=True,
        text=True).stdout.strip()
    assert Path(found) == tmp_path / "site" / "mdl" / "registry" / "heavy"


def _tiny(recipe, **changes):
    """The recipe on 150 rows with one small model per family."""
    families = tuple(dataclasses.replace(f, count=1, options={**f.options, "epochs": 3, **(
        {"hidden": [16]} if "hidden" in f.options else {})}) if f.family == "nn" else
        dataclasses.replace(f, count=1, ranges={"n_estimators": [10, 12]}) for f in recipe.families)
    return dataclasses.replace(recipe, limit=150, families=families, **changes)


@pytest.fixture(scope="module")
def small_zoo(tmp_path_factory):
    """The starter recipes and two heavy QM9 recipes (alpha alone, and the 12-property generalist), tiny."""
    hub = tmp_path_factory.mktemp("zoo") / "hub"
    starter = [_tiny(r) for r in load_recipes([registry_path("starter")])]
    heavy = [_tiny(r) for r in load_recipes([registry_path("heavy") / "qm9.toml", registry_path("heavy") / "qm9-multi.toml"])
             if r.modelset in ("heavy-qm9-alpha", "heavy-qm9-multi")]
    report = build(starter + heavy, hub=hub, progress=False)
    assert len(report.built) == 8 and not report.failed
    return hub


def _read_table(lines: list[str], names: list[str]) -> list[dict[str, str]]:
    """The rows of a right-aligned text table (pandas' to_string) whose header names the columns ``names``."""
    ends = [lines[0].index(name) + len(name) for name in names]
    assert lines[0].split() == " ".join(names).split()
    return [{name: line[start:end].strip() for name, start, end in zip(names, [0, *ends], ends)}
            for line in lines[1:]]


def test_reference_summary_tabulates_the_model_sets_and_the_heavy_tier_per_property(small_zoo):
    lines = reference_summary(small_zoo).splitlines()
    index = mdl.search(hub=small_zoo)
    table = _read_table(lines[:6], ["tier", "model set", "property", "material", "families", "models", "rows",
                                    "median R2", "best R2"])
    assert [row["model set"] for row in table] == ["heavy-qm9-alpha", "heavy-qm9-multi", "starter-chemicals-density",
                                                   "starter-chemicals-refractive-index", "starter-qm9-alpha"]
    for row in table:
        group = index[index["modelset"] == row["model set"]]
        heavy = row["model set"].startswith("heavy-")
        assert row["tier"] == ("heavy" if heavy else "base") and row["material"] == "molecule"
        assert row["property"] == group["property"].iloc[0][:40]  # a generalist's 12 names, cut
        assert row["families"] == ("nn:1" if heavy else "nn:1 rf:1") and int(row["models"]) == len(group)
        assert int(row["rows"]) == 120  # 150 rows, a fifth held out for the test metrics
        assert float(row["median R2"]) == pytest.approx(group["r2"].median(), abs=5e-4)
        assert float(row["best R2"]) == pytest.approx(group["r2"].max(), abs=5e-4)
    assert lines[6] == "8 models in 5 model sets, 1 material classes"
    assert lines[7:9] == ["", "per property: base tier (median, best test R2) beside the heavy tier's best networks"]
    per_property = _read_table(lines[9:], ["data set", "property", "base median R2", "base best R2",
                                           "heavy single R2", "heavy multi R2"])
    generalist = mdl.pull(index[index["modelset"] == "heavy-qm9-multi"]["model_id"].iloc[0], hub=small_zoo)
    scores = generalist.info["metrics"]["per_property"]
    assert [row["property"] for row in per_property] == sorted(scores) and len(scores) == 12
    starter = index[index["modelset"] == "starter-qm9-alpha"]["r2"]
    single = index[index["modelset"] == "heavy-qm9-alpha"]["r2"].iloc[0]
    for row in per_property:
        numbers = [float(row[k]) for k in ("base median R2", "base best R2", "heavy single R2", "heavy multi R2")]
        expected = [starter.median(), starter.max(), single] if row["property"] == "alpha" else [float("nan")] * 3
        assert row["data set"] == "qm9"
        assert numbers == pytest.approx([*expected, scores[row["property"]]["r2"]], abs=5e-4, nan_ok=True)


def _tool():
    spec = importlib.util.spec_from_file_location("build_reference_zoo", ROOT / "tools" / "build_reference_zoo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tool_prints_the_summary_only_without_building(small_zoo, capsys, monkeypatch):
    tool = _tool()
    monkeypatch.setattr(tool, "build_reference", None)  # calling it would raise
    tool.main(["--summary-only", "--hub", str(small_zoo)])
    assert capsys.readouterr().out == reference_summary(small_zoo) + "\n"


@pytest.mark.parametrize("tier, workers", [("base", os.cpu_count()), ("heavy", 1), ("all", os.cpu_count())])
def test_build_reference_builds_the_tier_scaled_and_imports_the_foundation_with_the_base_tier(tmp_path, monkeypatch,
                                                                                              tier, workers):
    """The tier's recipes, every family's count scaled (at least 1), the default workers, the foundation
    source with the base tier, and the report's lines (the build itself is tests/test_zoo.py's)."""
    calls = []

    def recorded(recipes, **kwargs):
        calls.append((recipes, kwargs))
        return BuildReport(built=["a-nn-0000"], skipped=["a-nn-0001"], failed={"b-rf-0000": "ValueError: nan"})

    monkeypatch.setattr(reference, "build", recorded)
    monkeypatch.setattr(reference, "publish_chgnet", lambda hub: ["chgnet-0-3-0"])
    report = build_reference(tier, hub=tmp_path, scale=0.01, progress=False)
    (recipes, kwargs), = calls
    full = load_recipes(reference_folders(tier))
    assert [r.modelset for r in recipes] == [r.modelset for r in full]
    assert [[f.count for f in r.families] for r in recipes] == \
        [[max(1, math.ceil(f.count * 0.01)) if f.count else 0 for f in r.families] for r in full]
    assert kwargs["workers"] == workers and kwargs["hub"] == tmp_path and kwargs["progress"] is False
    lines = report.lines()
    assert lines[0].startswith("built 1, already there 1, failed 1 in 0 s; peak RSS ") and lines[0].endswith(" MB")
    assert lines[1] == "  1 failed with ValueError: nan (b-rf-0000)"
    assert lines[2:] == ([] if tier == "heavy" else [f"foundation-chgnet: chgnet-0-3-0 in {report.foundation_seconds:.1f} s"])


def test_without_chgnet_the_base_tier_says_why_no_foundation_source(tmp_path, monkeypatch):
    def missing(hub):
        raise ImportError("the CHGNet foundation source needs chgnet: pip install 'mdl[crystals]'")

    monkeypatch.setattr(reference, "build", lambda recipes, **kwargs: BuildReport())
    monkeypatch.setattr(reference, "publish_chgnet", missing)
    report = build_reference("base", hub=tmp_path, workers=2, progress=False)
    assert report.foundation == [] and report.lines()[-1] == ("foundation source not imported: the CHGNet foundation "
                                                              "source needs chgnet: pip install 'mdl[crystals]'")
    with pytest.raises(InvalidInputError, match="scale"):
        build_reference("base", hub=tmp_path, scale=0)
