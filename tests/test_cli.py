"""The command line is a thin layer over the library: search, pull, transfer, zoo build, publish."""

from __future__ import annotations

import subprocess
import sys

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


def test_search_loads_neither_torch_nor_the_descriptors(tmp_path, hub, sources):
    """`mdl search` answers in well under a second: the library imports the heavy parts on use."""
    mdl.publish(sources["rf"], modelset="t-gap", hub=hub)
    code = ("import sys, mdl, mdl.cli; assert mdl.cli.main(['search', '--property', 'gap', '--hub', sys.argv[1]]) == 0; "
            "assert {'screen', 'SourceModel', 'TransferModel'} <= set(dir(mdl)); "  # tab completion sees them
            "print(sorted(m for m in ('torch', 'scipy.stats', 'rdkit', 'pymatgen.core') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code, str(hub.root)], capture_output=True, text=True, check=True)
    assert "t-gap-rf-0000" in run.stdout and run.stdout.strip().endswith("[]")
    # and what is imported on use is there when asked for
    assert mdl.SourceModel.load is not None and callable(mdl.screen) and mdl.TransferModel.__name__ == "TransferModel"
