"""A local hub as untrusted input: confinement, index validation, check and repair, crash-safe
publishing (publishers killed with SIGKILL) and mirrors that copy bytes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

import mdl
from mdl.cli import main
from mdl.errors import HubError, HubNotFoundError, IntegrityError
from mdl.hub import Hub, LocalHub, open_hub
from mdl.hub.maintenance import check_hub, repair_hub
from mdl.hub.local_upkeep import HOST as _HOST
from mdl.hub.mirror import mirror

NN, RF = "t-gap-nn-0000", "t-gap-rf-0000"


@pytest.fixture
def published(tmp_path, sources):
    hub = LocalHub(tmp_path / "hub")
    mdl.publish(list(sources.values()), modelset="t-gap", hub=hub, meta={"license": "CC-BY-4.0"}, progress=False)
    return hub


def _edit_index(hub: LocalHub, model_id: str, **values) -> LocalHub:
    """Write changed cells into the index file as a hostile publisher would; a fresh hub object reads it."""
    frame = pd.read_parquet(hub.root / "index.parquet")
    for column, value in values.items():
        frame.loc[frame["model_id"] == model_id, column] = value
    frame.to_parquet(hub.root / "index.parquet", index=False)
    return LocalHub(hub.root)


def _files(hub: LocalHub, model_id: str) -> dict[str, str]:
    return json.loads(hub.row(model_id)["files"])


# -- confinement ---------------------------------------------------------------------------------
def test_a_row_whose_path_leaves_its_folder_is_refused_unopened(published, tmp_path):
    outside = tmp_path / "outside"
    shutil.copytree(published.root / "t-gap" / "models" / RF, outside)
    for path in ("../outside", str(outside), f"t-gap/models/{NN}"):
        with pytest.raises(IntegrityError, match=rf"model {RF}: index.parquet: path: .* is not the model's folder"):
            _edit_index(published, RF, path=path).load(RF)


def test_a_model_folder_symlinked_outside_the_hub_is_refused(published, tmp_path):
    folder = published.root / "t-gap" / "models" / RF
    shutil.move(folder, tmp_path / "elsewhere")
    folder.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(IntegrityError, match=rf"model {RF}: index.parquet: path: .* leads outside the hub"):
        LocalHub(published.root).load(RF)


def test_files_maps_must_name_plain_files_and_list_what_the_model_needs(published, tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    files = _files(published, RF)
    sha = hashlib.sha256(b"secret").hexdigest()
    cases = {
        json.dumps({**files, "../../../../secret.txt": sha}): "'../../../../secret.txt' is not a plain file name",
        json.dumps({**files, "/": sha}): "'/' is not a plain file name",
        json.dumps({**files, str(tmp_path / "secret.txt"): sha}): "is not a plain file name",
        json.dumps({}): "config.json is not listed",
        json.dumps({"config.json": files["config.json"]}): "weights.safetensors is in the model's folder but not",
        json.dumps({**files, "config.json": "abc"}): "'abc' is not a sha256",
    }
    for value, message in cases.items():
        with pytest.raises(IntegrityError, match=rf"model {RF}: index.parquet: files: .*{message}"):
            _edit_index(published, RF, files=value).load(RF)


def test_a_model_that_calls_itself_by_another_id_is_refused(published):
    folder = published.root / "t-gap" / "models"
    shutil.rmtree(folder / RF)
    shutil.copytree(folder / NN, folder / RF)
    hub = _edit_index(published, RF, files=published.row(NN)["files"])
    with pytest.raises(IntegrityError, match=rf"model {RF}: config.json: model_id: the stored model calls itself "
                                             rf"'{NN}'"):
        hub.load(RF)


# -- the index as a whole ------------------------------------------------------------------------
def test_an_unreadable_or_invalid_index_is_a_hub_error_pointing_at_repair(published, monkeypatch):
    good = (published.root / "index.parquet").read_bytes()
    for content in (good[: len(good) // 2], b"garbage" * 100, b""):
        (published.root / "index.parquet").write_bytes(content)
        with pytest.raises(HubError, match=r"index.parquet: not a readable index .*`mdl hub repair "):
            LocalHub(published.root).index()
    frame = pd.read_parquet(io.BytesIO(good))
    broken = {
        "column 'files' is missing": frame.drop(columns=["files"]),
        f"model '{RF}': model_id: listed more than once": frame.assign(model_id=[RF, RF]),
        f"model '{RF}': hyperparameters: not valid JSON": frame.assign(hyperparameters=["{}", "{nope"]),
        f"model '{NN}': descriptor_spec: expected a JSON object": frame.assign(descriptor_spec=["[1]", "{}"]),
        "model '../x': model_id: invalid model id": frame.assign(model_id=["../x", RF]),
        f"model '{NN}': path: not text": frame.assign(path=[3, 4]),
        "column 'n_train' is not whole numbers": frame.assign(n_train=["1", "2"]),
    }
    for message, bad in broken.items():
        bad.to_parquet(published.root / "index.parquet", index=False)
        with pytest.raises(HubError, match=rf"index: {message}.*mdl hub repair"):
            LocalHub(published.root).index()
    (published.root / "index.parquet").write_bytes(good)
    monkeypatch.setenv("MDL_MAX_MODELS", "1")
    with pytest.raises(HubError, match="2 rows, more than the limit of 1 models"):
        LocalHub(published.root).index()


def test_an_empty_hub_is_ok_and_says_how_to_fill_it(tmp_path):
    (tmp_path / "empty").mkdir()
    report = check_hub(tmp_path / "empty", progress=False)
    assert report.ok and report.empty and report.models == 0
    assert "holds no model yet" in str(report) and "make demo" in str(report) and str(report).endswith("  ok")
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == [".lock"]


def test_check_and_repair_of_a_hub_that_does_not_exist_create_nothing(tmp_path):
    for run in (check_hub, repair_hub):
        with pytest.raises(HubNotFoundError, match=f"hub {tmp_path / 'nohub'} does not exist .*make demo"):
            run(tmp_path / "nohub", progress=False)
    assert list(tmp_path.iterdir()) == []
    assert main(["hub", "check", "--hub", str(tmp_path / "nohub")]) == 2
    assert list(tmp_path.iterdir()) == []


def test_a_lost_index_is_rebuilt_by_repair_never_by_a_publish(published, sources, capsys):
    record = (published.root / "t-gap" / "modelset.json").read_bytes()
    before = pd.read_parquet(published.root / "index.parquet")
    (published.root / "index.parquet").unlink()
    with pytest.raises(HubError, match="index.parquet is missing but the hub holds 2 model folder.*mdl hub repair"):
        LocalHub(published.root).index()
    extra = type(sources["rf"])(model_id="t-gap-rf-0001", estimator=sources["rf"].estimator,
                                descriptor=sources["rf"].descriptor, columns=sources["rf"].columns,
                                info=sources["rf"].info)
    with pytest.raises(HubError, match="mdl hub repair"):
        mdl.publish(extra, modelset="t-gap", hub=LocalHub(published.root), progress=False)
    assert (published.root / "t-gap" / "modelset.json").read_bytes() == record
    assert not (published.root / "index.parquet").exists()

    assert main(["hub", "check", "--hub", str(published.root), "--quiet"]) == 2
    assert "index.parquet is missing" in capsys.readouterr().out
    assert main(["hub", "repair", "--hub", str(published.root), "--quiet"]) == 0
    assert "index rebuilt" in capsys.readouterr().out
    hub = LocalHub(published.root)
    pd.testing.assert_frame_equal(hub.index().sort_values("model_id").reset_index(drop=True),
                                  before.sort_values("model_id").reset_index(drop=True))
    assert hub.modelset_meta("t-gap") == {"license": "CC-BY-4.0"}
    assert main(["hub", "check", "--hub", str(published.root), "--quiet"]) == 0
    assert hub.load(RF).model_id == RF


def test_check_reports_and_repair_fixes_orphans_staging_and_metadata(published, sources, tmp_path):
    root = published.root
    # an orphan that verifies (a model folder the index does not have), one that does not, stale staging
    sources["rf"].__class__(model_id="t-gap-rf-0002", estimator=sources["rf"].estimator,
                            descriptor=sources["rf"].descriptor, columns=sources["rf"].columns,
                            info=sources["rf"].info).save(root / "t-gap" / "models" / "t-gap-rf-0002")
    (root / "t-gap" / "models" / "t-gap-junk").mkdir()
    (root / "t-gap" / "models" / "t-gap-junk" / "config.json").write_text("{")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (root / ".staging" / f"publish-{dead.pid}-elsewhere-x").mkdir(parents=True)
    (root / ".staging" / "publish-old").mkdir()
    (root / ".staging" / f"publish-{dead.pid}-{_HOST}-x").mkdir()
    # metadata listing a model the index does not have
    record = json.loads((root / "t-gap" / "modelset.json").read_text())
    record["models"]["t-gap-ghost"] = {"path": "models/t-gap-ghost", "files": {}}
    (root / "t-gap" / "modelset.json").write_text(json.dumps(record))
    (root / "t-gap" / "README.md").write_text("# a card listing nothing\n")
    # a tampered model in the index
    config = root / "t-gap" / "models" / NN / "config.json"
    config.write_text(config.read_text() + " ")

    report = check_hub(root, progress=False)
    assert not report.ok and report.models == 2 and list(report.broken) == [NN]
    assert "sha256 mismatch" in report.broken[NN]
    assert report.orphans == ["t-gap/models/t-gap-junk", "t-gap/models/t-gap-rf-0002"]
    assert sorted(report.stale) == [f".staging/publish-{dead.pid}-{_HOST}-x", ".staging/publish-old"]
    assert report.metadata == ["t-gap: modelset.json lists 1 model(s) the index does not have: t-gap-ghost",
                               f"t-gap: README.md lacks 2 model(s) of the index: {NN}, {RF}"]

    repaired = repair_hub(root, progress=False)
    assert not repaired.rebuilt and repaired.indexed == ["t-gap-rf-0002"] and repaired.metadata == ["t-gap"]
    assert list(repaired.unverifiable) == ["t-gap/models/t-gap-junk"]
    assert (root / "t-gap" / "models" / "t-gap-junk").is_dir()  # left in place
    assert (root / ".staging" / f"publish-{dead.pid}-elsewhere-x").is_dir()  # another host's: cannot tell
    after = check_hub(root, progress=False)
    assert after.orphans == ["t-gap/models/t-gap-junk"] and list(after.broken) == [NN]
    assert not after.stale and not after.metadata
    assert LocalHub(root).load("t-gap-rf-0002").model_id == "t-gap-rf-0002"
    assert set(json.loads((root / "t-gap" / "modelset.json").read_text())["models"]) == {NN, RF, "t-gap-rf-0002"}


# -- publishers killed at any moment ---------------------------------------------------------------
_PUBLISHERS = textwrap.dedent("""
    import os, sys
    from dataclasses import replace
    from mdl.hub import LocalHub
    from mdl.models import SourceModel
    base = SourceModel.load(sys.argv[1])
    pids = []
    for root in sys.argv[2:]:  # one publisher per hub, forked once the imports are done
        pid = os.fork()
        if pid == 0:
            hub = LocalHub(root)
            for i in range(10**6):
                hub.publish([replace(base, model_id=f"t-kill-{i}-{j}") for j in range(3)], modelset="t-kill",
                            meta={"license": "CC0-1.0"}, progress=False)
            os._exit(0)
        pids.append(pid)
    print(*pids, flush=True)
    for pid in pids:  # reap them once killed, so that their process ids are gone
        os.waitpid(pid, 0)
""")


def test_publishers_killed_at_any_moment_leave_a_right_index_and_the_next_publish_cleans_up(tmp_path, sources):
    """Four publishers, killed (SIGKILL) after different delays, so at different stages: wherever
    each stopped, the index is readable and every model in it verifies; after one more publish (or
    a repair) the check is clean."""
    sources["rf"].save(tmp_path / "model")
    delays = {"fresh": 0.05, "a": 0.15, "b": 0.3, "c": 0.5}
    hubs = {name: LocalHub(tmp_path / name) for name in delays}
    for name, hub in hubs.items():
        if name != "fresh":  # an existing hub; "fresh" is killed during its very first publishes
            mdl.publish(sources["nn"], modelset="t-gap", hub=hub, progress=False)
    parent = subprocess.Popen([sys.executable, "-c", _PUBLISHERS, str(tmp_path / "model"),
                               *(str(hub.root) for hub in hubs.values())], stdout=subprocess.PIPE, text=True)
    pids = dict(zip(hubs, map(int, parent.stdout.readline().split())))
    start = time.monotonic()
    for name in sorted(delays, key=delays.get):
        time.sleep(max(0.0, start + delays[name] - time.monotonic()))
        os.kill(pids[name], signal.SIGKILL)
    assert parent.wait(timeout=60) == 0
    parent.stdout.close()
    base = type(sources["rf"]).load(tmp_path / "model")
    for name, hub in hubs.items():
        report = check_hub(hub, progress=False)
        assert report.index_error == "" and report.broken == {}, (name, str(report))
        if name == "c":
            repair_hub(hub, progress=False)
        else:
            hub.publish([type(base)(model_id=f"t-after-{name}", estimator=base.estimator, descriptor=base.descriptor,
                                    columns=base.columns, info=base.info)], modelset="t-kill", progress=False)
        after = check_hub(hub, progress=False)
        assert after.ok, (name, str(report), str(after))
        if hub.index()["model_id"].str.startswith("t-kill-").any():  # the set's metadata survived the kill
            assert hub.modelset_meta("t-kill") == {"license": "CC0-1.0"}


# -- mirrors copy bytes ----------------------------------------------------------------------------
def test_mirror_copies_the_published_bytes_verbatim(published, tmp_path):
    """A model whose config.json another writer formatted differently (here: compact JSON) keeps its
    bytes and hashes at the destination; re-saving it would change both."""
    config = published.root / "t-gap" / "models" / RF / "config.json"
    config.write_text(json.dumps(json.loads(config.read_text())))
    files = {**_files(published, RF), "config.json": hashlib.sha256(config.read_bytes()).hexdigest()}
    source = _edit_index(published, RF, files=json.dumps(files, sort_keys=True))
    repair_hub(source, progress=False)  # the metadata follows the index
    assert check_hub(source, progress=False).ok

    report = mirror(source, tmp_path / "copy", progress=False)
    assert sorted(report.copied) == [NN, RF]
    copy = LocalHub(tmp_path / "copy")
    for model_id in (NN, RF):
        assert _files(copy, model_id) == _files(source, model_id)
        for name in _files(source, model_id):
            assert (copy.root / "t-gap" / "models" / model_id / name).read_bytes() == \
                (source.root / "t-gap" / "models" / model_id / name).read_bytes()
    assert copy.modelset_meta("t-gap") == {"license": "CC-BY-4.0"}
    assert check_hub(copy, progress=False).ok
    again = mirror(source, copy, progress=False)
    assert again.copied == [] and sorted(again.skipped) == [NN, RF]


def test_mirror_refuses_a_source_file_that_does_not_verify(published, tmp_path):
    weights = published.root / "t-gap" / "models" / NN / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    with pytest.raises(IntegrityError, match=rf"model {NN}: .*weights.safetensors: sha256 mismatch"):
        mirror(published, tmp_path / "copy", [NN], progress=False)
    assert len(LocalHub(tmp_path / "copy").index()) == 0


class _Forwarding:
    """A hub of a kind mdl does not know, that forwards only the Hub protocol: no folder, no ``root``."""

    kind = "forwarding"
    _PROTOCOL = {"index", "row", "load", "load_many", "model_bytes", "modelset_meta", "publish", "publish_files"}

    def __init__(self, hub: LocalHub):
        self._hub = hub

    @property
    def address(self) -> str:
        return f"forwarding:{self._hub.address}"

    def __getattr__(self, name: str):
        if name not in self._PROTOCOL:
            raise AttributeError(name)
        return getattr(self._hub, name)


def test_mirror_needs_nothing_but_the_hub_protocol(published, tmp_path):
    source, target = _Forwarding(published), _Forwarding(LocalHub(tmp_path / "copy"))
    assert isinstance(source, Hub) and isinstance(published, Hub) and not isinstance(published.root, Hub)
    assert open_hub(source) is source
    assert sorted(mirror(source, target, progress=False).copied) == [NN, RF]
    copy = LocalHub(tmp_path / "copy")
    assert _files(copy, NN) == _files(published, NN) and copy.modelset_meta("t-gap") == {"license": "CC-BY-4.0"}
    loaded = copy.load_many([RF, NN])
    assert [m.model_id for m in loaded] == [RF, NN] and loaded[1] is copy.load(NN)
    with pytest.raises(HubError, match="same hub"):
        mirror(source, _Forwarding(published), progress=False)


def test_a_model_set_record_is_read_as_untrusted_input(published, monkeypatch):
    record = published.root / "t-gap" / "modelset.json"
    record.write_bytes(b'{"meta": ' + b"[" * 100 + b"]" * 100 + b"}")  # deeper than MDL_MAX_JSON_DEPTH
    assert published.modelset_meta("t-gap") == {}
    report = check_hub(published, progress=False)
    assert report.metadata == ["t-gap: modelset.json is unreadable (ModelFormatError)"]
    assert repair_hub(published, progress=False).metadata == ["t-gap"]
    assert check_hub(published, progress=False).ok and set(json.loads(record.read_text())["models"]) == {NN, RF}
