"""Old import paths of renamed and moved modules (issue 21: names that mean one thing) still import for one
release, warn with a DeprecationWarning naming the new path, and give the very objects of the new path."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

#: old module -> (new module, names that must be the same objects under both paths)
MOVED = {
    "mdl.models.stacked": ("mdl.models.packed_training", ["NetSpec", "train_networks"]),
    "mdl.models.batched": ("mdl.models.packed_features", ["network_features", "PADDING_LIMIT"]),
    "mdl.models.samplers": ("mdl.zoo.samplers", ["sample", "SETUPS", "range_problems"]),
    "mdl.models.schema": ("mdl.models.stored_schema", ["check_estimator", "check_params", "check_network"]),
    "mdl.hub.validate": ("mdl.hub.index_checks", ["check_name", "read_index", "check_files", "confined"]),
    "mdl.hub.check": ("mdl.hub.maintenance", ["check_hub", "repair_hub", "HubReport"]),
    "mdl.zoo.schema": ("mdl.zoo.recipe_schema", ["RecipeSchema", "check_recipe", "model_id"]),
    "mdl.datasets.sources": ("mdl.datasets.files", ["package_file", "shared_data_available"]),
    "mdl.zoo.foundation": ("mdl.zoo.foundation_import", ["publish_chgnet", "MODELSET", "read_checkpoint"]),
}


def _fresh(name: str):
    sys.modules.pop(name, None)
    return importlib.import_module(name)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_imports_warns_and_gives_the_same_objects(old):
    new, names = MOVED[old]
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}; the old path goes in the next release"):
        module = _fresh(old)
    moved = importlib.import_module(new)
    for name in names:
        assert getattr(module, name) is getattr(moved, name)
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_the_split_packed_training_keeps_every_name_of_the_old_module():
    """models.stacked was split four ways and its zoo half moved up: every name it had is served."""
    from mdl.models import packed_engine, packed_schedule
    from mdl.zoo import network_sources

    with pytest.warns(DeprecationWarning):
        stacked = _fresh("mdl.models.stacked")
    assert stacked.train_network_sources is network_sources.train_network_sources
    assert stacked.step_macs is packed_schedule.step_macs
    assert stacked.SPARSE_FILL == packed_engine.SPARSE_FILL and stacked.VAL_BLOCK == packed_engine.VAL_BLOCK
    with pytest.raises(AttributeError, match="mdl.models.stacked"):
        stacked.no_such_name  # noqa: B018


def test_the_hub_s_model_set_record_reader_keeps_its_old_name():
    from mdl.hub import modelset

    with pytest.warns(DeprecationWarning, match="mdl.hub.modelset.read_record moved to mdl.hub.modelset.read_modelset"):
        old = modelset.read_record
    assert old is modelset.read_modelset


ROOT = Path(__file__).resolve().parents[1]
#: files of others that still import an old path (each warns at run time until its owner moves it); this list
#: may only shrink: an entry that no longer imports an old path fails, so that it is removed
STILL_OLD: dict[str, set[str]] = {}


def _old_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found |= {n for n in names if n in MOVED}
    return found


def test_the_library_tools_and_tests_import_the_new_paths():
    shims = {ROOT / (old.replace(".", "/") + ".py") for old in MOVED}
    files = [p for part in ("mdl", "tools", "tests") for p in (ROOT / part).rglob("*.py") if p not in shims]
    found = {str(p.relative_to(ROOT)): old for p in files if (old := _old_imports(p))}
    assert found == STILL_OLD
