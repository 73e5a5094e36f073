"""The data set fetcher (mdl.datasets.remote) against a file server on loopback: download once into the cache,
checksums refused before anything is cached, one clear error for an unreachable address, the mirror setting
first, offline means offline; and the table of pinned files against the shipped files and the mirror."""

from __future__ import annotations

import hashlib
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mdl import datasets
from mdl.datasets import crystals, polymers
from mdl.datasets.remote import FILES, SHIPPED, DataFile, available, fetch
from mdl.errors import DataUnavailableError

from conftest import needs_shared

NC = SHIPPED / "polymers" / "transpolymer_Nc" / "Nc.csv"
NC_SHA = hashlib.sha256(NC.read_bytes()).hexdigest()


class _Server:
    """A static file server on 127.0.0.1 that records the paths it was asked for."""

    def __init__(self, root: Path):
        requests: list[str] = []

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

        self.requests = requests
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@pytest.fixture
def server(tmp_path):
    """A loopback server of a copy of the shipped Nc.csv, started on a free port and stopped after the test."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "Nc.csv").write_bytes(NC.read_bytes())
    srv = _Server(root)
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join()


@pytest.fixture
def online(tmp_path, monkeypatch):
    """No mirror, an empty cache of this test's own, downloads allowed; returns the cache folder."""
    monkeypatch.delenv("MDL_SHARED_DATA", raising=False)
    monkeypatch.setenv("MDL_DATA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MDL_DATA_OFFLINE", "0")
    return tmp_path / "cache"


def _entry(url: str, sha256: str = NC_SHA) -> DataFile:
    # a folder nothing ships, so the package's own copy cannot answer
    return DataFile("polymers/loopback_Nc", "Nc.csv", sha256, "0" * 40, url, "a loopback test server")


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_file_is_downloaded_once_verified_and_then_read_from_the_cache(server, online, monkeypatch):
    entry = _entry(f"{server.url}/Nc.csv")
    assert not available("polymers/transpolymer_Egc", "Egc.csv")  # nothing cached, no mirror: a download
    path = fetch(entry)
    assert path == online / "polymers" / "loopback_Nc" / "Nc.csv"
    assert path.read_bytes() == NC.read_bytes() and server.requests == ["/Nc.csv"]
    assert fetch(entry) == path and server.requests == ["/Nc.csv"]  # the cached copy verifies: no request
    monkeypatch.setenv("MDL_DATA_OFFLINE", "1")
    assert fetch(entry) == path and server.requests == ["/Nc.csv"]  # offline, the cache still answers


def test_a_wrong_checksum_is_refused_and_nothing_is_cached(server, online):
    with pytest.raises(DataUnavailableError, match="does not match its pinned sha256") as err:
        fetch(_entry(f"{server.url}/Nc.csv", sha256="0" * 64))
    assert server.requests == ["/Nc.csv"] and _files(online) == []
    assert err.value.dataset == "polymers/loopback_Nc" and err.value.setting == "MDL_SHARED_DATA"


def test_an_unreachable_address_is_one_clear_error_naming_the_set_and_the_setting(online):
    with socket.socket() as sock:  # a loopback port that was free a moment ago and now has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/Nc.csv"
    with pytest.raises(DataUnavailableError) as err:
        fetch(_entry(url))
    message = str(err.value)
    assert "\n" not in message and message.startswith("polymers/loopback_Nc: Nc.csv could not be downloaded")
    assert url in message and "MDL_SHARED_DATA" in message
    assert (err.value.dataset, err.value.url, err.value.setting) == ("polymers/loopback_Nc", url, "MDL_SHARED_DATA")
    assert isinstance(err.value, FileNotFoundError) and _files(online) == []


def test_a_missing_file_on_the_server_is_refused_too(server, online):
    with pytest.raises(DataUnavailableError, match="could not be downloaded .*HTTPError"):
        fetch(_entry(f"{server.url}/missing.csv"))
    assert server.requests == ["/missing.csv"] and _files(online) == []


def test_the_mirror_setting_wins_and_a_file_missing_there_is_an_error(server, online, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "polymers" / "loopback_Nc").mkdir(parents=True)
    (mirror / "polymers" / "loopback_Nc" / "Nc.csv").write_text("smiles,value\n*C*,1.5\n")
    monkeypatch.setenv("MDL_SHARED_DATA", str(mirror))
    assert fetch(_entry(f"{server.url}/Nc.csv")) == mirror / "polymers" / "loopback_Nc" / "Nc.csv"
    with pytest.raises(DataUnavailableError, match="not in the mirror .* named by MDL_SHARED_DATA") as err:
        fetch(DataFile("polymers/loopback_Nc", "other.csv", NC_SHA, "0" * 40, f"{server.url}/Nc.csv", "test"))
    assert err.value.setting == "MDL_SHARED_DATA"
    # the mirror is the only place looked at while it is set, even for the file the package ships
    datasets.clear_cache()
    with pytest.raises(DataUnavailableError, match="not in the mirror"):
        datasets.load("transpolymer_nc")
    assert server.requests == [] and _files(online) == []


def test_offline_and_not_cached_is_a_clear_error(server, online, monkeypatch):
    monkeypatch.setenv("MDL_DATA_OFFLINE", "1")
    with pytest.raises(DataUnavailableError, match="is not cached in .* MDL_DATA_OFFLINE forbids") as err:
        fetch(_entry(f"{server.url}/Nc.csv"))
    assert err.value.setting == "MDL_DATA_OFFLINE" and server.requests == []


def test_a_corrupt_cached_copy_is_downloaded_again(server, online):
    cached = online / "polymers" / "loopback_Nc" / "Nc.csv"
    cached.parent.mkdir(parents=True)
    cached.write_text("not the data")
    assert fetch(_entry(f"{server.url}/Nc.csv")).read_bytes() == NC.read_bytes()
    assert server.requests == ["/Nc.csv"]


def test_a_derived_file_comes_from_a_mirror_only(online):
    with pytest.raises(DataUnavailableError, match=r"merged from the per-trial JSON files .* set MDL_SHARED_DATA "
                                                   r"to a folder holding crystals/optimal_ptft_fe/fe_union.json"):
        fetch(FILES["crystals/optimal_ptft_fe", "fe_union.json"])


def test_the_shipped_set_loads_with_no_mirror_and_no_network(online, monkeypatch):
    monkeypatch.setenv("MDL_DATA_OFFLINE", "1")
    datasets.clear_cache()
    smiles, n = datasets.load("transpolymer_nc").xy("refractive_index")
    assert len(smiles) == 382 and 1.2 < n.min() < n.max() < 3.5  # DFT refractive indices
    assert datasets.load("transpolymer_nc").version == FILES["polymers/transpolymer_Nc", "Nc.csv"].commit
    datasets.clear_cache()


# --- the table -------------------------------------------------------------------------------------

def test_every_file_a_loader_reads_is_in_the_table():
    wanted = {(f"polymers/{s.folder}", s.file) for s in polymers._SETS.values()}
    wanted |= {(f"crystals/{s.folder}", f) for s in crystals._FORMULA_SETS.values() for f in s.files.values()}
    for s in crystals._STRUCTURE_SETS.values():
        code = s.folder.rsplit("_", 1)[1]
        wanted |= ({(f"crystals/{s.folder}", f"{code}_union.json")} if s.kind == "jarvis" else
                   {(f"crystals/{s.folder}", f"{split}.csv") for split in ("val", "test")})
    assert wanted == set(FILES)
    pinned = [f for f in FILES.values() if f.downloadable]
    assert all(f.url.startswith("https://") and f.commit in f.url for f in pinned)
    assert sorted(f.folder for f in FILES.values() if not f.downloadable) == [
        f"crystals/optimal_ptft_{p}" for p in ("bg", "ebg", "fe", "gv", "ph")]


def test_the_shipped_files_match_the_table():
    shipped = [p for p in SHIPPED.rglob("*") if p.is_file() and p.suffix == ".csv"]
    assert [p.relative_to(SHIPPED).as_posix() for p in shipped] == ["polymers/transpolymer_Nc/Nc.csv"]
    for path in shipped:
        entry = FILES[path.parent.relative_to(SHIPPED).as_posix(), path.name]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
        assert (path.parent / "SOURCE.txt").is_file() and "MIT License" in (
            path.parent / "LICENSE_TransPolymer.txt").read_text()


@needs_shared
def test_the_table_matches_the_mirror():
    from mdl.config import shared_data_dir

    mirror = shared_data_dir()
    for entry in FILES.values():
        path = mirror / entry.folder / entry.name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256, entry.label
        assert entry.commit in (mirror / entry.folder / "SOURCE.txt").read_text(), entry.label
