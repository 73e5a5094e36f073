"""The format layer (mdl.store): torch-free, the one verified reader of a model folder, the one registry of
storable classes, and hubs that read models through it without importing model code."""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mdl.errors import IntegrityError, MDLError, ModelFormatError
from mdl.store import file_hashes, read_bytes, read_files, read_verified, write_files
from mdl.store.loader import read_model, use_model_reader
from mdl.store.registry import Storable, register, storable_names

PACKAGE = Path(__file__).resolve().parents[1] / "mdl"


def _run(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing imported yet) and return what it prints."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning:mdl"})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_store_and_the_hubs_loads_no_torch_and_no_model_module():
    out = _run("import sys, mdl.store, mdl.hub, mdl.hub.maintenance, mdl.hub.mirror; "
               "print('torch' in sys.modules, sorted(m for m in sys.modules if m.startswith('mdl.models')))")
    assert out == "False []"


def _imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", ["store", "hub"])
def test_no_store_or_hub_module_imports_a_model_module_lazily_or_not(package):
    offenders = {str(p.relative_to(PACKAGE)): sorted(m for m in _imports_of(p) if m.startswith("mdl.models"))
                 for p in sorted((PACKAGE / package).rglob("*.py"))}
    assert {p: m for p, m in offenders.items() if m} == {}
    store_imports = set().union(*(_imports_of(p) for p in (PACKAGE / "store").rglob("*.py")))
    assert not {m for m in store_imports if m.split(".")[0] == "torch" or m.startswith("mdl.hub")}


def test_a_hub_in_a_fresh_interpreter_reads_models_through_the_reader_the_package_root_sets(hub, sources):
    from mdl.store.loader import _reader

    assert _reader and _reader[0].__module__ == "mdl"   # set by mdl/__init__, nowhere else
    hub.publish([sources["rf"]], modelset="t-gap", progress=False)
    out = _run(f"import sys; from mdl.hub import LocalHub; hub = LocalHub({str(hub.root)!r}); "
               "loaded = 'torch' in sys.modules; model = hub.load('t-gap-rf-0000'); "
               "print(loaded, type(model).__module__, model.model_id, model.predict(['CCO']).shape)")
    assert out == "False mdl.models.source t-gap-rf-0000 (1,)"


def test_without_a_reader_a_hub_says_how_to_get_one(tmp_path):
    previous = use_model_reader(None)
    try:
        with pytest.raises(MDLError, match="no reader of model folders is set"):
            read_model(tmp_path, {"config.json": "0" * 64})
    finally:
        use_model_reader(previous)


@pytest.fixture
def folder(tmp_path) -> tuple[Path, dict[str, str]]:
    hashes = write_files(tmp_path / "m", {"class": "x"}, {"w": np.arange(3.0)}, {"notes.txt": b"hello"})
    return tmp_path / "m", hashes


def test_one_reader_for_models_and_hubs_agrees_on_the_bytes(folder):
    path, hashes = folder
    config, arrays, blobs = read_files(path, hashes, model="m-0")
    raw = read_verified(path, hashes, "m-0")
    assert config == {"class": "x", "blobs": ["notes.txt"]} and blobs == {"notes.txt": b"hello"}
    assert arrays["w"].tolist() == [0.0, 1.0, 2.0]
    assert {name: hashlib.sha256(data).hexdigest() for name, data in raw.items()} == hashes
    assert file_hashes(path, "m-0") == hashes


def test_files_that_are_not_the_recorded_ones_are_integrity_errors(folder):
    path, hashes = folder
    (path / "notes.txt").write_bytes(b"HELLO")
    for read in (lambda: read_verified(path, hashes, "m-0"), lambda: read_files(path, hashes, model="m-0")):
        with pytest.raises(IntegrityError, match="notes.txt: sha256 mismatch"):
            read()
    (path / "notes.txt").unlink()
    for read in (lambda: read_verified(path, hashes, "m-0"), lambda: read_files(path, hashes, model="m-0")):
        with pytest.raises(IntegrityError, match="notes.txt: file is missing"):
            read()
    with pytest.raises(ModelFormatError, match="notes.txt: .*file is missing"):  # no record: a format problem
        read_files(path, model="m-0")


def test_hub_bytes_are_confined_and_capped_like_model_files(folder, tmp_path, monkeypatch):
    path, hashes = folder
    outside = tmp_path / "secret"
    outside.write_bytes(b"hello")
    (path / "notes.txt").unlink()
    (path / "notes.txt").symlink_to(outside)  # same bytes, same sha256: refused for where it points
    with pytest.raises(ModelFormatError, match="links outside the model folder"):
        read_verified(path, hashes, "m-0")
    (path / "notes.txt").unlink()
    (path / "notes.txt").write_bytes(b"hello")
    big = write_files(tmp_path / "big", {}, {"w": np.zeros(150_000)}, {})   # 1.2 MB of weights
    monkeypatch.setenv("MDL_MAX_FILE_MB", "1")
    with pytest.raises(ModelFormatError, match=r"weights.safetensors: size: 1200\d+ bytes exceed the limit of 1 MiB"):
        read_verified(tmp_path / "big", big, "m-0")
    with pytest.raises(ModelFormatError, match="not listed in the file hashes"):
        read_bytes(path, "other.txt", hashes, model="m-0")


def test_every_storable_class_is_registered_once_with_its_check():
    import mdl.models.state  # noqa: F401  (registers the classes)

    assert {"Ridge", "RandomForestRegressor", "NeuralNetRegressor", "GraphNetRegressor", "XGBRegressor",
            "Pipeline", "VotingRegressor", "KernelSVR", "CHGNetFeaturizer"} <= set(storable_names())
    with pytest.raises(ValueError, match="'Ridge' is already registered"):
        register(Storable("Ridge", check=lambda *a: 0, save=lambda e: ({}, {}, {}), load=lambda *a: None))


def test_old_import_paths_still_work_and_say_where_things_moved():
    out = _run("import warnings; warnings.simplefilter('always'); "
               "import mdl.store.files as new\n"
               "with warnings.catch_warnings(record=True) as caught:\n"
               "    from mdl.models.storage import read_files, CONFIG\n"
               "    from mdl.models.parse import load_json\n"
               "    from mdl.hub.rawfiles import read_verified\n"
               "print(read_files is new.read_files, CONFIG, [str(w.message).split(';')[0] for w in caught])")
    assert out == ("True config.json ['mdl.models.storage moved to mdl.store.files', "
                   "'mdl.models.parse moved to mdl.store.parse', "
                   "'mdl.hub.rawfiles moved: read_verified and file_hashes to mdl.store.files, stage to "
                   "mdl.hub.staging']")
