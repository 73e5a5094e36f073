"""The local hub: layout, index, search, verified pulls, atomic and idempotent publishing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mdl
from mdl.errors import HubError, IntegrityError, ModelNotFoundError
from mdl.hub import LocalHub, open_hub
from mdl.hub.index import COLUMNS
from mdl.models.source import SourceModel


def test_publish_lays_out_a_hub_repository_and_indexes_every_model(hub, sources):
    ids = mdl.publish(list(sources.values()), modelset="t-gap", hub=hub, meta={"license": "CC-BY-4.0"})
    assert ids == ["t-gap-nn-0000", "t-gap-rf-0000"]
    folder = hub.root / "t-gap"
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: mdl") and "model-index:" in card and "property:gap" in card
    modelset = json.loads((folder / "modelset.json").read_text())
    assert set(modelset["models"]) == set(ids)
    index = pd.read_parquet(hub.root / "index.parquet")
    assert list(index.columns) == COLUMNS and len(index) == 2
    row = index.set_index("model_id").loc["t-gap-nn-0000"]
    assert row["family"] == "nn" and row["material"] == "molecule" and row["n_train"] == 320
    files = json.loads(row["files"])
    assert all((hub.root / row["path"] / name).is_file() for name in files)
    assert json.loads(row["descriptor_spec"])["width"] == 1024


def test_search_filters_and_aliases(hub, sources):
    mdl.publish(list(sources.values()), modelset="t-gap", hub=hub)
    assert len(mdl.search(property="GAP", hub=hub)) == 2
    assert len(mdl.search(property="homo-lumo", hub=hub)) == 2  # alias, punctuation-insensitive
    assert len(mdl.search(property="band gap", hub=hub)) == 0
    assert mdl.search(model_type="random forest", hub=hub)["model_id"].tolist() == ["t-gap-rf-0000"]
    assert len(mdl.search(material="inorganic", hub=hub)) == 0
    best = mdl.search(hub=hub, sort_by="mae")
    assert best["mae"].is_monotonic_increasing
    assert len(mdl.search(min_r2=2.0, hub=hub)) == 0
    assert len(mdl.search(hub=hub, limit=1)) == 1


def test_search_puts_models_named_by_the_query_first(hub, sources):
    """"homo" is a whole word of the gap models' alias "HOMO-LUMO gap": HOMO models still come first."""
    rf = sources["rf"]
    worse = {**rf.info["metrics"], "r2": rf.info["metrics"]["r2"] - 0.5}
    homo = SourceModel("t-homo-rf-0000", rf.estimator, rf.descriptor, rf.columns,
                       {**rf.info, "property": "homo", "aliases": ["HOMO energy"], "metrics": worse})
    mdl.publish([*sources.values(), homo], modelset="t-qm9", hub=hub)
    assert mdl.search(property="homo", hub=hub)["model_id"].tolist()[0] == "t-homo-rf-0000"
    assert mdl.search(property="HOMO energy", hub=hub)["model_id"].tolist() == ["t-homo-rf-0000"]
    assert sorted(mdl.search(property="gap", hub=hub)["model_id"]) == ["t-gap-nn-0000", "t-gap-rf-0000"]


def test_pull_verifies_and_caches(hub, sources, qm9_gap):
    mdl.publish(sources["nn"], modelset="t-gap", hub=hub)
    model = mdl.pull("t-gap-nn-0000", hub=hub)
    assert mdl.pull(["t-gap-nn-0000"], hub=hub)[0] is model  # served from the cache
    np.testing.assert_allclose(model.predict(qm9_gap[0][:20]), sources["nn"].predict(qm9_gap[0][:20]), rtol=1e-6)
    with pytest.raises(ModelNotFoundError, match="no model 'nope'"):
        mdl.pull("nope", hub=hub)


def test_tampered_file_in_hub_is_refused(tmp_path, sources):
    hub = open_hub(tmp_path / "h")
    mdl.publish(sources["rf"], modelset="t-gap", hub=hub)
    path = hub.root / "t-gap" / "models" / "t-gap-rf-0000" / "config.json"
    path.write_text(path.read_text().replace('"t-gap-rf-0000"', '"evil"'))
    fresh = open_hub(tmp_path / "h").__class__(tmp_path / "h")  # no in-memory cache
    with pytest.raises(IntegrityError, match="config.json"):
        fresh.load("t-gap-rf-0000")


def test_republish_is_idempotent_and_conflicts_change_nothing(hub, sources):
    mdl.publish(sources["nn"], modelset="t-gap", hub=hub)
    before = (hub.root / "index.parquet").read_bytes()
    assert mdl.publish(sources["nn"], modelset="t-gap", hub=hub) == ["t-gap-nn-0000"]
    assert (hub.root / "index.parquet").read_bytes() == before
    impostor = type(sources["rf"])(model_id="t-gap-nn-0000", estimator=sources["rf"].estimator,
                                   descriptor=sources["rf"].descriptor, columns=sources["rf"].columns,
                                   info=sources["rf"].info)
    with pytest.raises(HubError, match="already published"):
        mdl.publish(impostor, modelset="t-gap", hub=hub)
    assert (hub.root / "index.parquet").read_bytes() == before
    assert mdl.pull("t-gap-nn-0000", hub=hub).family == "nn"


def test_interrupted_publish_leaves_index_and_models_untouched(hub, sources, monkeypatch):
    mdl.publish(sources["nn"], modelset="t-gap", hub=hub)
    before = (hub.root / "index.parquet").read_bytes()

    def broken_save(self, folder):
        raise KeyboardInterrupt("interrupted while saving")

    monkeypatch.setattr(type(sources["rf"]), "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        mdl.publish(sources["rf"], modelset="t-gap", hub=hub)
    assert (hub.root / "index.parquet").read_bytes() == before
    assert not (hub.root / "t-gap" / "models" / "t-gap-rf-0000").exists()
    assert not any((hub.root / ".staging").iterdir())


def test_bad_names_and_addresses(hub, sources):
    with pytest.raises(HubError, match="invalid model set"):
        mdl.publish(sources["nn"], modelset="../escape", hub=hub)
    with pytest.raises(HubError, match="unsupported hub address"):
        open_hub("ftp://example")
    assert open_hub(f"file://{hub.root}").root == hub.root


def test_two_processes_publishing_at_once_lose_nothing(tmp_path, sources):
    import subprocess
    import sys
    import textwrap

    sources["rf"].save(tmp_path / "model")
    script = textwrap.dedent(f"""
        import sys
        from dataclasses import replace
        from mdl.hub import LocalHub
        from mdl.models import SourceModel
        base = SourceModel.load({str(tmp_path / "model")!r})
        hub = LocalHub({str(tmp_path / "shared")!r})
        tag = sys.argv[1]
        for i in range(8):
            hub.publish([replace(base, model_id=f"{{tag}}-{{i}}")], modelset=f"set-{{tag}}", progress=False)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, tag]) for tag in ("a", "b")]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    hub = LocalHub(tmp_path / "shared")
    ids = sorted(hub.index()["model_id"])
    assert ids == sorted(f"{t}-{i}" for t in "ab" for i in range(8))
    for model_id in ids:
        assert hub.load(model_id).model_id == model_id


def test_searching_never_imports_torch(hub, sources):
    """``import mdl`` and a search stay light: the hub layer imports the models (and torch) only on use."""
    import subprocess
    import sys
    from pathlib import Path

    mdl.publish(list(sources.values()), modelset="t-gap", hub=hub, progress=False)
    code = "import sys, mdl; hits = mdl.search(property='gap', hub=sys.argv[1]); print(len(hits), 'torch' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code, str(hub.root)], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PATH": ""})
    assert run.stdout.split() == ["2", "False"]
