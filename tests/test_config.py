"""Settings: every environment variable is read in mdl/config.py, when a call needs it; the version
has one source (pyproject.toml, through the package metadata)."""

from __future__ import annotations

import ast
from pathlib import Path

import huggingface_hub.constants  # noqa: F401  (read here, from the real environment: it keeps what it reads)
import pytest

import mdl
from mdl.config import environment
from mdl.hub.hf_settings import CLIENT, HubSettings

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_the_one_in_pyproject():
    with open(ROOT / "pyproject.toml", "rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    assert mdl.__version__ == version == CLIENT["library_version"]


def test_hub_settings_follow_the_environment_at_each_call(monkeypatch, tmp_path):
    for name in ("HF_ENDPOINT", "HF_HUB_CACHE", "HF_TOKEN", "HF_HUB_ETAG_TIMEOUT", "MDL_HUB_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "yes")
    monkeypatch.setenv("MDL_HUB_RETRIES", "5")
    settings = HubSettings.resolve()
    assert settings.cache_dir == str(tmp_path / "home" / "hub") and settings.offline and settings.retries == 5
    assert settings.timeout == 10.0 and settings.token is None
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))      # HF_HUB_CACHE wins over HF_HOME
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
    settings = HubSettings.resolve(retries=0)                         # an explicit value wins over the variable
    assert settings.cache_dir == str(tmp_path / "cache") and not settings.offline and settings.retries == 0
    assert settings.endpoint == "http://127.0.0.1:9"
    monkeypatch.setenv("MDL_HUB", str(tmp_path / "zoo"))
    assert environment().hub == str(tmp_path / "zoo") == mdl.config.default_hub()


def test_a_setting_that_is_not_a_number_names_its_variable(monkeypatch):
    monkeypatch.setenv("MDL_HUB_RETRIES", "many")
    with pytest.raises(ValueError, match="MDL_HUB_RETRIES='many': expected a whole number"):
        environment()


def _reads_environment(node: ast.AST) -> bool:
    """``os.environ.get(...)``, ``os.environ[...]`` or ``os.getenv(...)``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        func = node.func
        if func.attr == "getenv" or (func.attr == "get" and isinstance(func.value, ast.Attribute)
                                     and func.value.attr == "environ"):
            return True
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "environ"


def test_only_the_settings_module_reads_the_environment():
    readers = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "mdl").rglob("*.py")
                     if any(_reads_environment(node) for node in ast.walk(ast.parse(path.read_text()))))
    assert readers == ["mdl/config.py"]


def test_data_settings_are_read_at_each_call_and_no_data_folder_is_guessed(monkeypatch, tmp_path):
    from mdl.config import data_cache_dir, shared_data_dir
    from mdl.datasets.files import shared_data_available

    (tmp_path / "shared" / "data" / "polymers").mkdir(parents=True)  # where the old lookup would have looked
    monkeypatch.chdir(tmp_path / "shared")
    for name in ("MDL_SHARED_DATA", "MDL_DATA_CACHE", "MDL_DATA_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    assert shared_data_dir() is None and not shared_data_available()
    assert data_cache_dir() == Path.home() / ".cache" / "mdl" / "data" and not environment().data_offline
    monkeypatch.setenv("MDL_SHARED_DATA", str(tmp_path / "shared" / "data"))
    monkeypatch.setenv("MDL_DATA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MDL_DATA_OFFLINE", "on")
    assert shared_data_dir() == tmp_path / "shared" / "data" and shared_data_available()
    assert data_cache_dir() == tmp_path / "cache" and environment().data_offline
    monkeypatch.setenv("MDL_DATA_OFFLINE", "0")
    assert not environment().data_offline
