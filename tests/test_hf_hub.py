"""The Hugging Face Hub path, tested against a real Hub-compatible server on loopback.

olah (the project's ``dev`` extra) serves git repositories from a temporary folder through the Hub's
HTTP API; the official ``huggingface_hub`` client downloads from it. olah has no write endpoints, so
publishing goes into the repositories it serves (``GitRepoWriter``, the same commit operations the
Hub's commit API receives) and everything is read back through the server.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("olah", reason="olah (pip install -e '.[dev]') runs the loopback Hub server these tests need")
if shutil.which("git") is None:
    pytest.skip("git is needed to write the repositories the loopback server serves", allow_module_level=True)

from hubserver import HubServer, RequestCounter, free_port  # noqa: E402

import mdl  # noqa: E402
from mdl.cli import main  # noqa: E402
from mdl.errors import HubError, IntegrityError, ModelNotFoundError  # noqa: E402
from mdl.hub import HFHub, LocalHub, open_hub  # noqa: E402
from mdl.hub.errors import (  # noqa: E402
    EntryNotFoundError,
    HubUnreachableError,
    OfflineError,
    RepositoryNotFoundError,
)
from mdl.hub.hf_commits import HF_COLUMNS, RemoteFile, commit_operations, git_blob_id, model_files  # noqa: E402
from mdl.hub.index import index_row  # noqa: E402
from mdl.hub.maintenance import check_hub  # noqa: E402
from mdl.hub.mirror import mirror  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with HubServer(tmp_path_factory.mktemp("olah")) as running:
        yield running


@pytest.fixture
def address(server, tmp_path, monkeypatch, request):
    """A fresh registry address (own org) on the loopback server, with HF_ENDPOINT and an own HF cache."""
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    for name in ("HF_HUB_OFFLINE", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return f"hf://t{hashlib.sha1(request.node.name.encode()).hexdigest()[:10]}/registry"


def _copy(model, model_id):
    return type(model)(model_id=model_id, estimator=model.estimator, descriptor=model.descriptor,
                       columns=model.columns, info=model.info)


def test_addresses_dispatch_to_the_right_hub(tmp_path):
    hub = open_hub("hf://mdl-zoo/registry@v1.0")
    assert isinstance(hub, HFHub) and (hub.org, hub.registry, hub.revision) == ("mdl-zoo", "registry", "v1.0")
    assert not hub.pinned and open_hub(f"hf://a/b@{'0' * 40}").pinned
    assert open_hub(hub) is hub and open_hub("hf://mdl-zoo/registry@v1.0") is hub
    assert isinstance(open_hub(f"file://{tmp_path}"), LocalHub) and isinstance(open_hub(tmp_path), LocalHub)
    for bad in ("hf://only-org", "hf://a/b/c", "s3://bucket/zoo"):
        with pytest.raises(HubError, match="address"):
            open_hub(bad)
    with pytest.raises(HubError, match="read-only"):
        hub.publish([], modelset="x")


def test_commit_operations_of_a_batch(tmp_path, sources):
    """What a publish sends through HfApi.create_commit: one CommitOperationAdd per new or changed file."""
    rows = [index_row(m, "t-gap", f"models/{m.model_id}", m.save(tmp_path / m.model_id)) for m in sources.values()]
    files = {**model_files(rows, tmp_path), "README.md": b"---\nlibrary_name: mdl\n---\n", "modelset.json": b"{}"}
    operations = commit_operations(files)
    assert [op.path_in_repo for op in operations] == sorted(files)
    for row in rows:
        for name, sha in json.loads(row["files"]).items():
            op = next(o for o in operations if o.path_in_repo == f"models/{row['model_id']}/{name}")
            assert op.upload_info.sha256.hex() == sha
    # resuming: files already in the repository with the same content (by git blob id or LFS sha256) are not sent
    weights = f"models/{rows[0]['model_id']}/weights.safetensors"
    existing = {"README.md": RemoteFile(git_blob_id(files["README.md"])),
                weights: RemoteFile(None, json.loads(rows[0]["files"])["weights.safetensors"]),
                "modelset.json": RemoteFile(git_blob_id(b"{ }"))}
    sent = [op.path_in_repo for op in commit_operations(files, existing)]
    assert "README.md" not in sent and weights not in sent and "modelset.json" in sent
    assert len(sent) == len(files) - 2


class RecordingWriter:
    """Stands in for HfApi: records the calls and commits into the server's git repositories."""

    def __init__(self, writer, fail_registry_commits=0):
        self.writer, self.calls, self.fail = writer, [], fail_registry_commits

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))
        return self.writer.create_repo(repo_id, **kw)

    def create_commit(self, repo_id, operations, **kw):
        operations = list(operations)
        self.calls.append(("create_commit", repo_id, [op.path_in_repo for op in operations], kw))
        if repo_id.endswith("/registry") and self.fail:
            self.fail -= 1
            raise KeyboardInterrupt("interrupted before the index commit")
        return self.writer.create_commit(repo_id, operations, **kw)

    def commits(self, repo_id):
        return [c for c in self.calls if c[0] == "create_commit" and c[1] == repo_id]


def test_publish_is_batched_resumable_and_idempotent(server, address, sources):
    writer = RecordingWriter(server.writer, fail_registry_commits=1)
    hub = HFHub(address, writer=writer)
    org = hub.org
    with pytest.raises(KeyboardInterrupt):
        mdl.publish(list(sources.values()), modelset="t-gap", hub=hub, meta={"license": "CC-BY-4.0"})
    assert {c[1] for c in writer.calls if c[0] == "create_repo"} == {f"{org}/registry", f"{org}/t-gap"}
    [(_, _, paths, kw)] = writer.commits(f"{org}/t-gap")  # one commit for the whole batch
    assert sorted(paths) == sorted(["README.md", "modelset.json", *[
        f"models/{m.model_id}/{name}" for m in sources.values() for name in ("config.json", "weights.safetensors")]])
    assert kw["parent_commit"] and kw["revision"] == "main"
    assert len(HFHub(address).index()) == 0  # interrupted: nothing in the index yet

    assert mdl.publish(list(sources.values()), modelset="t-gap", hub=hub) == ["t-gap-nn-0000", "t-gap-rf-0000"]
    assert len(writer.commits(f"{org}/t-gap")) == 1  # resumed: the model files were not sent again
    [_, (_, _, paths, kw)] = writer.commits(f"{org}/registry")
    assert paths == ["README.md", "index.parquet"] and kw["parent_commit"]
    commit = hub.index_commit
    assert mdl.publish(sources["nn"], modelset="t-gap", hub=hub) == ["t-gap-nn-0000"]
    assert len(writer.calls) == 5 and hub.index_commit == commit  # idempotent: no commit at all
    with pytest.raises(HubError, match="already published"):
        mdl.publish(_copy(sources["rf"], "t-gap-nn-0000"), modelset="t-gap", hub=hub)
    assert HFHub(address).index_commit == commit


@pytest.fixture
def published(server, address, sources):
    hub = HFHub(address, writer=server.writer)
    mdl.publish(list(sources.values()), modelset="t-gap", hub=hub, meta={"license": "CC-BY-4.0"})
    return hub


def test_search_pull_transfer_through_the_server(published, address, sources, qm9_gap):
    from huggingface_hub import hf_hub_download

    from mdl import datasets

    hits = mdl.search(property="homo-lumo", hub=address)  # HF_ENDPOINT from the environment
    assert sorted(hits["model_id"]) == ["t-gap-nn-0000", "t-gap-rf-0000"] and list(hits.columns) == HF_COLUMNS
    row = hits.set_index("model_id").loc["t-gap-nn-0000"]
    assert row["repo_id"] == f"{published.org}/t-gap" and row["path"] == "models/t-gap-nn-0000"
    assert len(row["revision"]) == 40 and set(json.loads(row["files"])) == {"config.json", "weights.safetensors"}
    pulled = mdl.pull(hits, hub=address)
    smiles = qm9_gap[0][:20]
    for model in pulled:
        np.testing.assert_allclose(model.predict(smiles), sources[model.family].predict(smiles), rtol=1e-6)
    homo = datasets.load("qm9").xy("homo", limit=60, seed=7)  # a property the sources were not trained on
    transferred = mdl.transfer("t-gap-nn-0000", homo[0], homo[1], head="ridge", cv=2, hub=address)
    assert np.isfinite(transferred.cv_scores_["mae"])
    card = Path(hf_hub_download(row["repo_id"], "README.md", revision=row["revision"],
                                endpoint=os.environ["HF_ENDPOINT"])).read_text()
    assert card.startswith("---\nlibrary_name: mdl\nlicense: CC-BY-4.0") and "model-index:" in card
    assert "- property:gap" in card and "- material:molecule" in card and "- qm9" in card
    modelset = json.loads(Path(hf_hub_download(row["repo_id"], "modelset.json", revision=row["revision"],
                                               endpoint=os.environ["HF_ENDPOINT"])).read_text())
    assert modelset["models"]["t-gap-nn-0000"]["files"] == json.loads(row["files"])
    with pytest.raises(ModelNotFoundError):
        mdl.pull("nope", hub=address)


def test_a_pinned_index_does_not_see_later_models(published, address, sources):
    first = published.index_commit
    rf = published.row("t-gap-rf-0000")
    mdl.publish(_copy(sources["rf"], "t-gap-rf-0001"), modelset="t-gap", hub=published)
    pinned = f"{address}@{first}"
    assert sorted(mdl.search(hub=pinned)["model_id"]) == ["t-gap-nn-0000", "t-gap-rf-0000"]
    assert len(mdl.search(hub=HFHub(address))) == 3
    again = HFHub(pinned).row("t-gap-rf-0000")
    assert again["revision"] == rf["revision"] and again["files"] == rf["files"]
    assert mdl.pull("t-gap-rf-0000", hub=pinned).model_id == "t-gap-rf-0000"
    with pytest.raises(ModelNotFoundError):
        mdl.pull("t-gap-rf-0001", hub=pinned)


def test_warm_pulls_and_offline_use_only_the_cache(published, address, monkeypatch):
    pinned = f"{address}@{published.index_commit}"
    HFHub(pinned).load("t-gap-nn-0000")  # cold
    with RequestCounter() as counter:
        warm = HFHub(pinned)
        assert warm.load("t-gap-nn-0000").model_id == "t-gap-nn-0000" and len(warm.index()) == 2
    assert counter.requests == []
    HFHub(address).index()  # the branch's index, cached with its ref
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with RequestCounter() as counter:
        assert len(mdl.search(hub=HFHub(address))) == 2
        assert HFHub(address).load("t-gap-nn-0000").family == "nn"
        with pytest.raises(OfflineError, match="t-gap-rf-0000 not in the cache, offline"):
            HFHub(address).load("t-gap-rf-0000")
        with pytest.raises(OfflineError, match="not in the cache, offline"):
            HFHub(address.replace("/registry", "/other")).index()
        with pytest.raises(OfflineError, match="offline"):
            HFHub(address, writer=object()).publish([], modelset="t-gap")
    assert counter.requests == []


def test_a_tampered_file_is_detected(published, address):
    HFHub(address).load("t-gap-rf-0000")
    row = published.row("t-gap-rf-0000")
    cached = Path(os.environ["HF_HUB_CACHE"]) / f"models--{published.org}--t-gap" / "snapshots" / row["revision"]
    blob = (cached / "models" / "t-gap-rf-0000" / "config.json").resolve()
    blob.write_text(blob.read_text().replace('"rf"', '"nn"', 1))
    with pytest.raises(IntegrityError, match=r"config\.json: sha256 mismatch.*t-gap-rf-0000"):
        HFHub(address).load("t-gap-rf-0000")


def test_errors_are_distinct_and_fast(server, published, address):
    missing = HFHub(address.replace("/registry", "/no-such-registry"))
    assert len(missing.index()) == 0  # nothing published there yet: what a first publish reads
    with pytest.raises(RepositoryNotFoundError, match="registry .*/no-such-registry does not exist"):
        mdl.search(hub=missing)  # a read creates nothing, and says the hub is not there
    with pytest.raises(RepositoryNotFoundError, match="does not exist"):
        check_hub(missing, progress=False)
    with pytest.raises(RepositoryNotFoundError, match="does not exist"):
        mdl.pull("t-gap-nn-0000", hub=missing)
    with pytest.raises(RepositoryNotFoundError, match="repository not found"):
        HFHub(f"{missing.address}@main").index()
    # an index that records a file the model repository does not hold
    index = published.index().copy()
    files = json.loads(index.loc[0, "files"])
    index.loc[0, "files"] = json.dumps({**files, "extra.json": "0" * 64})
    buffer = io.BytesIO()
    index.to_parquet(buffer, index=False)
    server.writer.create_commit(published.registry_id, commit_operations({"index.parquet": buffer.getvalue()}),
                                commit_message="bad index")
    with pytest.raises(EntryNotFoundError, match="extra.json"):
        HFHub(address).load(index.loc[0, "model_id"])
    start = time.monotonic()
    with pytest.raises(HubUnreachableError, match="unreachable"):
        HFHub("hf://elsewhere/registry", endpoint=f"http://127.0.0.1:{free_port()}").index()
    assert time.monotonic() - start < 5


def test_server_stopped_mid_session(tmp_path, monkeypatch, sources):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with HubServer(tmp_path / "server") as server:
        hub = HFHub("hf://mid/registry", endpoint=server.endpoint, writer=server.writer)
        hub.publish(list(sources.values()), modelset="t-gap", progress=False)
        reader = HFHub("hf://mid/registry", endpoint=server.endpoint)
        assert reader.load("t-gap-nn-0000").family == "nn"
        server.stop()
        start = time.monotonic()
        with pytest.raises(HubUnreachableError, match=f"127.0.0.1:{server.port} unreachable"):
            reader.load("t-gap-rf-0000")
        assert time.monotonic() - start < 10
        fresh = HFHub("hf://mid/registry", endpoint=server.endpoint)
        assert fresh.load("t-gap-nn-0000").family == "nn"  # the cached index and model still work
        with pytest.raises(HubUnreachableError):
            fresh.load("t-gap-rf-0000")


def test_mirror_hub_to_folder_and_folder_to_hub(server, published, address, tmp_path, capsys):
    local = tmp_path / "zoo"
    assert main(["mirror", address, str(local), "--quiet"]) == 0
    assert "mirrored 2 model(s)" in capsys.readouterr().out
    copy = LocalHub(local)
    assert copy.index()["files"].tolist() == published.index()["files"].tolist()
    assert json.loads((local / "t-gap" / "modelset.json").read_text())["meta"]["license"] == "CC-BY-4.0"
    assert copy.load("t-gap-rf-0000").family == "rf" and check_hub(local, progress=False).ok
    for model_id, files in zip(["t-gap-nn-0000", "t-gap-rf-0000"], published.model_bytes(["t-gap-nn-0000",
                                                                                          "t-gap-rf-0000"])):
        assert {name: (local / "t-gap" / "models" / model_id / name).read_bytes() for name in files} == files
    report = mirror(address, local, progress=False)  # resumable: nothing left to copy
    assert report.copied == [] and len(report.skipped) == 2

    rehosted = address.replace("/registry", "-re/registry")
    assert main(["mirror", str(local), rehosted, "--model-type", "rf", "--git-dir", str(server.mirrors),
                 "--quiet"]) == 0
    back = HFHub(rehosted)
    assert back.index()["model_id"].tolist() == ["t-gap-rf-0000"]
    assert back.index()["files"].tolist() == copy.index().set_index("model_id").loc[["t-gap-rf-0000"], "files"].tolist()
    assert back.load("t-gap-rf-0000").family == "rf"
    assert main(["mirror", str(local), str(local)]) == 2


def test_default_writer_is_the_hub_commit_api(address):
    from huggingface_hub import HfApi

    hub = HFHub(address)
    writer = hub._writer(hub.settings())
    assert isinstance(writer, HfApi) and writer.endpoint == os.environ["HF_ENDPOINT"]


def test_zoo_build_publishes_into_a_new_registry_in_batches(server, address):
    from mdl.zoo import build, parse_recipe

    recipes = parse_recipe({
        "modelset": {"name": "t-zoo", "license": "CC-BY-4.0"},
        "data": {"loader": "qm9", "property": "homo", "limit": 150, "seed": 0},
        "descriptor": {"name": "morgan", "params": {"radius": 2, "n_bits": 512, "counts": True}},
        "selection": {"max_columns": 64},
        "families": {"en": {"count": 2}, "rf": {"count": 1, "ranges": {"n_estimators": [5, 10]}}},
    })
    report = build(recipes, hub=HFHub(address, writer=server.writer), batch_size=2, progress=False)
    assert len(report.built) == 3 and not report.failed
    again = build(recipes, hub=HFHub(address, writer=server.writer), progress=False)
    assert again.built == [] and sorted(again.skipped) == sorted(report.built)
    hub = HFHub(address)
    assert sorted(hub.index()["model_id"]) == sorted(report.built)
    assert hub.index()["revision"].nunique() == 2  # two batches: two commits in the model set's repository
    assert hub.modelset_meta("t-zoo")["license"] == "CC-BY-4.0"
    assert all(model.model_id in report.built for model in hub.load_many(report.built))


def _commit_index(server, hub, index):
    buffer = io.BytesIO()
    index.to_parquet(buffer, index=False)
    server.writer.create_commit(hub.registry_id, commit_operations({"index.parquet": buffer.getvalue()}),
                                commit_message="hostile index")


def test_hostile_registry_rows_are_refused_before_anything_is_fetched(server, published, address):
    good = published.index().copy()
    row = good.set_index("model_id").loc["t-gap-rf-0000"]
    files = json.loads(row["files"])
    sha = "0" * 64
    cases = {
        "path: '../../outside' is not the model's folder": {"path": "../../outside"},
        "path: '/etc' is not the model's folder": {"path": "/etc"},
        "files: '../../../../secret.txt' is not a plain file name":
            {"files": json.dumps({**files, "../../../../secret.txt": sha})},
        "files: config.json is not listed": {"files": "{}"},
        "repo_id: '../evil' is not a repository id": {"repo_id": "../evil"},
        "revision: 'main' is not a commit hash": {"revision": "main"},
    }
    for message, values in cases.items():
        index = good.copy()
        for column, value in values.items():
            index.loc[index["model_id"] == "t-gap-rf-0000", column] = value
        _commit_index(server, published, index)
        with pytest.raises(IntegrityError, match=rf"model t-gap-rf-0000: index.parquet: {re.escape(message)}"):
            HFHub(address).load("t-gap-rf-0000")
    # a model stored under another id than its row's: its files committed under models/t-gap-zz
    nn = published.model_bytes(["t-gap-nn-0000"])[0]
    info = server.writer.create_commit(f"{published.org}/t-gap", commit_operations(
        {f"models/t-gap-zz/{name}": data for name, data in nn.items()}), commit_message="impostor")
    impostor = good[good["model_id"] == "t-gap-nn-0000"].assign(model_id="t-gap-zz", path="models/t-gap-zz",
                                                                  revision=info.oid)
    _commit_index(server, published, pd.concat([good, impostor], ignore_index=True))
    with pytest.raises(IntegrityError, match="model t-gap-zz: config.json: model_id: the stored model calls itself "
                                             "'t-gap-nn-0000'"):
        HFHub(address).load("t-gap-zz")
    # an index that is not one
    server.writer.create_commit(published.registry_id, commit_operations({"index.parquet": b"garbage" * 50}),
                                commit_message="garbage")
    with pytest.raises(HubError, match=r"registry .*/registry@[0-9a-f]{12}: index.parquet: not a readable index"):
        HFHub(address).index()


def test_hub_check_of_a_registry_verifies_every_model(published, address, capsys):
    assert main(["hub", "check", "--hub", address, "--quiet"]) == 0
    assert "2 of 2 model(s) verified" in capsys.readouterr().out
    assert main(["hub", "repair", "--hub", address, "--quiet"]) == 2
    assert "repair works on a hub folder" in capsys.readouterr().err


def test_publishing_over_a_lost_registry_index_is_refused(server, published, address, sources):
    _commit_index(server, published, published.index().iloc[:0])   # the index lost: an empty one
    hub = HFHub(address, writer=server.writer)
    with pytest.raises(HubError, match="does not list .*t-gap-nn-0000.*nothing was changed"):
        mdl.publish(_copy(sources["nn"], "t-gap-nn-0001"), modelset="t-gap", hub=hub)
    assert len(HFHub(address).index()) == 0
    # a model set the lost index never knew publishes as before
    assert mdl.publish(_copy(sources["nn"], "t-other-nn-0000"), modelset="t-other", hub=hub) == ["t-other-nn-0000"]
