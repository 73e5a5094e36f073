"""The command line is a thin layer over the library: search, pull, transfer, zoo build, publish."""

from __future__ import annotations

import pandas as pd

import mdl
from mdl.cli import main


def test_cli_round_trip(tmp_path, hub, sources, target, capsys):
    mdl.publish(sources["nn"], modelset="t-gap", hub=hub)
    assert main(["search", "--property", "gap", "--hub", str(hub.root)]) == 0
    assert "t-gap-nn-0000" in capsys.readouterr().out
    assert main(["pull", "t-gap-nn-0000", "--hub", str(hub.root)]) == 0
    assert "verified" in capsys.readouterr().out
    smiles, y = target
    pd.DataFrame({"smiles": smiles, "tc": y}).to_csv(tmp_path / "t.csv", index=False)
    assert main(["transfer", "t-gap-nn-0000", "--data", str(tmp_path / "t.csv"), "--x-col", "smiles",
                 "--y-col", "tc", "--cv", "3", "--out", str(tmp_path / "tm"), "--hub", str(hub.root)]) == 0
    assert "3-fold CV" in capsys.readouterr().out and (tmp_path / "tm" / "manifest.json").is_file()
    assert main(["pull", "missing-id", "--hub", str(hub.root)]) == 2
    assert "no model 'missing-id'" in capsys.readouterr().err


def test_cli_publish_saved_folders(tmp_path, hub, sources, capsys):
    sources["rf"].save(tmp_path / "rf")
    assert main(["publish", str(tmp_path / "rf"), "--modelset", "mine", "--hub", str(hub.root)]) == 0
    assert mdl.search(hub=hub)["model_id"].tolist() == ["t-gap-rf-0000"]
