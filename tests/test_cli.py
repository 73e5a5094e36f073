"""The command line is a thin layer over the library: search, pull, transfer, zoo build, publish; it reports
a user error in one line, never with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
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


def _mdl(*args: str, cwd: Path, code: str | None = None) -> subprocess.Popen:
    """The real command line in a fresh process (``code``: a Python program run instead of ``python -m mdl.cli``)."""
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "mdl.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(run: subprocess.Popen) -> tuple[int, str]:
    _, err = run.communicate(timeout=120)
    return run.returncode, err


def test_user_errors_are_one_line_and_exit_code_2(tmp_path, hub, sources, capsys, monkeypatch):
    mdl.publish(sources["rf"], modelset="t-gap", hub=hub, progress=False)
    root = str(hub.root)
    (tmp_path / "garbage.csv").write_bytes(b"\xff\xfe\x00\x81 not text")
    (tmp_path / "quote.csv").write_text('smiles,tc\n"CCO,1\n')
    (tmp_path / "words.csv").write_text("smiles,tc\nCCO,1.5\nCCC,high\nCCCC,2.5\n")
    (tmp_path / "numbers.csv").write_text("smiles,tc\nCCO,1.5\nCCC,2\nCCCC,2.5\n")
    screen = ("--x-col", "smiles", "--y-col", "tc", "--hub", root)
    cases = {
        ("screen", "--data", "missing.csv", *screen): "cannot read CSV file missing.csv: No such file or directory",
        ("screen", "--data", "garbage.csv", *screen): "cannot read CSV file garbage.csv: 'utf-8' codec can't decode",
        ("screen", "--data", "quote.csv", *screen): "cannot read CSV file quote.csv: Error tokenizing data",
        ("screen", "--data", ".", *screen): "cannot read CSV file .: Is a directory",
        ("screen", "--data", "words.csv", "--x-col", "smiles", "--y-col", "nope", "--hub", root):
            "column 'nope' not in words.csv",
        ("screen", *screen): "the following arguments are required: --data",
        ("search", "--material", "crystal", "--hub", root):
            "argument --material: invalid choice: 'crystal' (choose from 'molecule', 'polymer', 'inorganic')",
        ("zoo", "build", "--workers", "-2", "registry/starter"):
            "argument --workers: must be a whole number >= 1, got -2",
        ("zoo", "build"): "give recipe files or folders, or --reference for the reference zoo",
        ("zoo", "build", "--tier", "heavy", "registry/starter"): "--tier applies to --reference",
        ("screen", "--data", "numbers.csv", *screen, "--cv", "1"): "argument --cv: must be a whole number >= 2",
        ("screen", "--data", "numbers.csv", *screen, "--engine", "spark"): "argument --engine: invalid choice: 'spark'",
        ("screen", "--data", "numbers.csv", *screen, "--address", "auto"):
            "address is a Ray cluster's: give it with engine='ray'",
        ("predict", "no-such-model-folder", "--data", "numbers.csv", "--x-col", "smiles", "--hub", root):
            "no model 'no-such-model-folder'",
        ("predict", "t-gap-rf-0000", "--data", "numbers.csv", "--x-col", "smiles", "--column", "tc", "--hub", root):
            "numbers.csv already has a column 'tc'",
        ("info", "t-gap-rf-000", "--hub", root): "no model 't-gap-rf-000'",
        ("search", "--model-type", "foo", "--hub", root): "unknown model_type 'foo'; use one of",
        ("search", "--sort-by", "colour", "--hub", root): "cannot sort by 'colour'",
        ("search", "--limit", "0", "--hub", root): "argument --limit: must be a whole number >= 1, got 0",
        ("transfer", "m", "--data", "x.csv", "--x-col", "a", "--y-col", "b", "--cv", "-3"):
            "argument --cv: must be a whole number >= 0, got -3",
        ("search", "--hub", "no-such-hub"): "no-such-hub does not exist (nothing was created); fill it with",
        ("hub", "check", "--hub", "no-such-hub"): "no-such-hub does not exist (nothing was created); fill it with",
        ("zoo", "build", "nonesuch", "--hub", root): "no recipe folder 'nonesuch' in the registry; it holds",
        ("search", "--limit", "many"): "argument --limit: invalid int value: 'many' (see `mdl search --help`)",
        ("transfer", "m", "--data", "x.csv", "--x-col", "a", "--y-col", "b", "--layers", "[1,"):
            "argument --layers: expected an index such as -1",
        ("transfer", "m", "--data", "x.csv"): "the following arguments are required: --x-col, --y-col",
        ("pull", "missing-id", "--hub", root): "no model 'missing-id'",
        (): "a subcommand is needed: search, info, pull, transfer, screen, predict, zoo, publish, mirror, hub "
            "(see `mdl --help`)",
        ("hub",): "a subcommand is needed: check, repair, catalogue (see `mdl hub --help`)",
        ("zoo", "build", "--scale", "0.1", "registry/starter"): "--scale applies to --reference",
    }
    cases.update({   # these import torch first
        ("transfer", "t-gap-rf-0000", "--data", "words.csv", "--x-col", "smiles", "--y-col", "tc", "--hub", root):
            "targets must be numbers; 1 are not (e.g. 'high' in row 1) [rows: 1]",
        ("transfer", "t-gap-rf-0000", "--data", "numbers.csv", "--x-col", "smiles", "--y-col", "tc", "--cv", "9",
         "--hub", root): "3 samples are fewer than the 9 cross-validation folds",
        ("publish", "no-such-folder", "--modelset", "mine", "--hub", root): "no-such-folder",
    })
    # a few in fresh processes, as a user runs them (all at once: each pays the start-up) ...
    fresh = [("screen", "--data", "missing.csv", *screen), ("screen", "--data", "garbage.csv", *screen),
             ("search", "--limit", "many"),
             ("search", "--model-type", "foo", "--hub", root), ("pull", "missing-id", "--hub", root), ()]
    runs = {args: _mdl(*args, cwd=tmp_path) for args in fresh}
    for args in fresh:
        code, err = _finish(runs[args])
        assert (code, err.count("\n"), err.startswith("mdl: error: ")) == (2, 1, True), (args, err)
        assert cases[args] in err and "Traceback" not in err, (args, err)
    # ... and every case through the same main() in this process
    monkeypatch.chdir(tmp_path)
    for args, expected in cases.items():
        assert main(list(args)) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("mdl: error: ") and err.count("\n") == 1 and expected in err, (args, err)


def test_debug_traceback_bugs_and_ctrl_c(tmp_path, hub):
    root = str(hub.root)
    # SIGINT as a terminal delivers it, even when the tests run in a background job (which ignores it)
    patched = ("import os, signal, sys, mdl.cli as cli, mdl.cli.commands as commands; "
               "signal.signal(signal.SIGINT, signal.default_int_handler); "
               "commands._search = lambda args: {action}; sys.exit(cli.main({argv}))")
    runs = {
        "debug": _mdl("--debug", "search", "--model-type", "foo", "--hub", root, cwd=tmp_path),
        "bug": _mdl(cwd=tmp_path, code=patched.format(action="{}['x']", argv=["search"])),
        "bug with --debug": _mdl(cwd=tmp_path, code=patched.format(action="{}['x']", argv=["--debug", "search"])),
        "ctrl-c": _mdl(cwd=tmp_path, code=patched.format(action="os.kill(os.getpid(), signal.SIGINT)",
                                                          argv=["search"])),
    }
    code, err = _finish(runs["debug"])
    assert code == 2 and err.startswith("Traceback") and "InvalidInputError" in err
    assert err.splitlines()[-1].startswith("mdl: error: unknown model_type 'foo'")
    code, err = _finish(runs["bug"])
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("mdl: error: internal error, a bug in mdl (KeyError: 'x'); run again with `mdl --debug")
    code, err = _finish(runs["bug with --debug"])
    assert code == 1 and err.startswith("Traceback") and "KeyError" in err
    code, err = _finish(runs["ctrl-c"])
    assert (code, err) == (130, "mdl: error: interrupted\n")


def test_warnings_are_lines_without_source_code(tmp_path, sources, target, capsys):
    from mdl.descriptors import get_descriptor
    from mdl.models.train import train_source

    formulas = ["NaCl", "Fe2O3", "MgO", "SiO2", "Al2O3", "TiO2", "ZnO", "CaO", "GaAs", "CuO"]
    ef = get_descriptor("element_fraction")
    net = train_source(ef.transform(formulas * 3), np.arange(30.0), ef.spec, family="nn", model_id="t-ef-nn-0000",
                       seed=0, hyperparameters={"hidden": [8, 4], "epochs": 2}, info={"property": "x"})
    hub = tmp_path / "hub"
    mdl.publish([sources["nn"], net], modelset="t-mixed", hub=hub, progress=False)
    smiles, y = target
    pd.DataFrame({"smiles": smiles, "tc": y}).to_csv(tmp_path / "t.csv", index=False)
    assert main(["screen", "--data", str(tmp_path / "t.csv"), "--x-col", "smiles", "--y-col", "tc", "--head", "ridge",
                 "--cv", "3", "--top-k", "1", "--hub", str(hub)]) == 0
    err = capsys.readouterr().err
    # (other libraries may warn too, e.g. scikit-learn about joblib workers: only mdl's skip warning is checked)
    warning = [line[line.index("mdl: warning"):] if "mdl: warning" in line else line for line in err.splitlines()
               if "sources skipped" in line or line.startswith("  1 source")]
    assert warning[0] == "mdl: warning: 1 of 2 sources skipped, by cause:"
    assert warning[1].startswith("  1 source: descriptor 'element_fraction' cannot be computed")
    assert "warnings.warn" not in err and "screen.py" not in err


def _subcommands(top) -> dict[str, object]:
    """Every leaf subcommand's parser by its full name ("search", "zoo build", ...)."""
    import argparse

    found = {}

    def walk(p, prefix):
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found[prefix.strip()] = p
        for action in subs:
            for name, child in action.choices.items():
                walk(child, f"{prefix} {name}")

    walk(top, "")
    return found


def test_every_subcommand_has_help_for_each_argument_and_an_example(capsys):
    from mdl.cli import parser

    leaves = _subcommands(parser())
    assert set(leaves) == {"search", "info", "pull", "transfer", "screen", "predict", "zoo build", "publish", "mirror",
                           "hub check", "hub repair", "hub catalogue"}
    for name, sub in leaves.items():
        for action in sub._actions:
            assert action.help, (name, action.dest)
        try:
            main([*name.split(), "--help"])
        except SystemExit as exit:
            assert exit.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: mdl {name}") and "\nexamples:\n  mdl " in out, name
        if name not in ("mirror",):
            assert "--hub HUB" in out and "--quiet" in out and "--verbose" in out, name
    try:
        main(["--version"])
    except SystemExit as exit:
        assert exit.code == 0
    assert capsys.readouterr().out.strip() == f"mdl {mdl.__version__}"


def test_transfer_without_cv_then_predict_info_and_pull(tmp_path, hub, sources, target, capsys):
    mdl.publish(sources["rf"], modelset="t-gap", hub=hub, progress=False)
    root = str(hub.root)
    smiles, y = target
    pd.DataFrame({"smiles": smiles, "tc": y}).to_csv(tmp_path / "t.csv", index=False)
    assert main(["transfer", "t-gap-rf-0000", "--data", str(tmp_path / "t.csv"), "--x-col", "smiles", "--y-col",
                 "tc", "--cv", "0", "--out", str(tmp_path / "tm"), "--hub", root]) == 0
    out = capsys.readouterr().out
    assert f"fitted on {len(smiles)} samples (no cross-validation: --cv 0)" in out and "mdl predict" in out
    new = pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "CC(=O)O"], "name": ["ethanol", "benzene", "acetic acid"]})
    new.to_csv(tmp_path / "new.csv", index=False)
    # a saved transfer model (a folder) to a CSV file ...
    assert main(["predict", str(tmp_path / "tm"), "--data", str(tmp_path / "new.csv"), "--x-col", "smiles",
                 "--out", str(tmp_path / "p.csv"), "--hub", root]) == 0
    written = pd.read_csv(tmp_path / "p.csv")
    expected = mdl.TransferModel.load(tmp_path / "tm").predict(new["smiles"].tolist())
    assert list(written.columns) == ["smiles", "name", "prediction"]
    np.testing.assert_allclose(written["prediction"], expected, rtol=1e-6)
    # ... and a hub model (an id) to standard output
    capsys.readouterr()
    assert main(["predict", "t-gap-rf-0000", "--data", str(tmp_path / "new.csv"), "--x-col", "smiles",
                 "--column", "gap", "--hub", root]) == 0
    printed = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    np.testing.assert_allclose(printed["gap"], sources["rf"].predict(new["smiles"].tolist()), rtol=1e-6)
    # the card, read from the index without loading the model
    assert main(["info", "t-gap-rf-0000", "--hub", root]) == 0
    card = capsys.readouterr().out
    row = hub.row("t-gap-rf-0000")
    assert card.startswith("t-gap-rf-0000  (t-gap") and "predicts      gap (eV) of molecules" in card
    for name, digest in __import__("json").loads(row["files"]).items():
        assert f"{name}  sha256 {digest}" in card
    assert main(["info", "t-gap-rf-0000", "--json", "--hub", root]) == 0
    assert __import__("json").loads(capsys.readouterr().out)["row"]["model_id"] == "t-gap-rf-0000"
    # pull says where the verified files are
    assert main(["pull", "t-gap-rf-0000", "--hub", root]) == 0
    folder = Path(capsys.readouterr().out.split("files: ")[1].strip())
    assert (folder / "config.json").is_file() and folder.is_relative_to(hub.root)


def test_publish_refuses_a_transfer_model_folder_and_says_what_to_do(tmp_path, hub, sources, target, capsys):
    smiles, y = target
    mdl.transfer(sources["rf"], smiles, y, cv=None).save(tmp_path / "tm")
    assert main(["publish", str(tmp_path / "tm"), "--modelset", "mine", "--hub", str(tmp_path / "new-hub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mdl: error: {tmp_path / 'tm'} holds a transfer model") and err.count("\n") == 1
    assert "only source models can be published" in err and "to_source_model" in err
    assert not (tmp_path / "new-hub").exists()


def test_screen_saves_the_best_model_and_marks_it(tmp_path, hub, sources, target, capsys):
    mdl.publish([sources["nn"], sources["rf"]], modelset="t-gap", hub=hub, progress=False)
    smiles, y = target
    pd.DataFrame({"smiles": smiles, "tc": y}).to_csv(tmp_path / "t.csv", index=False)
    assert main(["screen", "--data", str(tmp_path / "t.csv"), "--x-col", "smiles", "--y-col", "tc", "--head",
                 "ridge", "--cv", "3", "--top-k", "1", "--quiet", "--save-best", str(tmp_path / "best"),
                 "--unit", "K", "--hub", str(hub.root)]) == 0
    out = capsys.readouterr().out
    assert "saved board.best to" in out and "mdl predict" in out
    from mdl.transfer_learning.saved import load_saved

    best = load_saved(tmp_path / "best", hub=hub)
    assert np.isfinite(best.predict(["CCO", "CCCCO"])).all()


def test_deprecated_positional_spellings_still_work_with_a_warning(tmp_path, hub, sources, capsys):
    mdl.publish(sources["rf"], modelset="t-gap", hub=hub, progress=False)
    assert main(["hub", "check", str(hub.root), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "mdl: warning: `mdl hub check HUB` is deprecated" in err and "--hub HUB" in err
    assert main(["hub", "check", "--hub", str(hub.root), "--quiet"]) == 0
    assert "deprecated" not in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(tmp_path, hub, sources):
    """`mdl search | head -c 10`: the reader goes away mid-output; no error line, no traceback, exit 141."""
    mdl.publish(sources["rf"], modelset="t-gap", hub=hub, progress=False)
    real = _mdl("search", "--json", "--hub", str(hub.root), cwd=tmp_path)
    assert real.stdout.read(10) == '[{"model_i' and real.communicate(timeout=120)[1] == ""
    # output longer than the pipe's buffer, so that the write itself meets the closed pipe
    long = _mdl(cwd=tmp_path, code="import sys, mdl.cli as cli, mdl.cli.commands as commands; "
                                   "commands._search = lambda args: print('x' * 10**6); "
                                   "sys.exit(cli.main(['search']))")
    long.stdout.read(10)
    long.stdout.close()
    assert (long.wait(timeout=120), long.stderr.read()) == (141, "")


def test_zoo_build_reference_builds_the_packaged_tier_and_prints_its_table(tmp_path, sources, capsys, monkeypatch):
    """`mdl zoo build --reference --tier heavy --scale 0.01`: the packaged heavy recipes, scaled, then the
    reference table and the build's lines (the build itself is stood in for: tests/test_zoo.py builds)."""
    from mdl.zoo import BuildReport, load_recipes, reference, reference_folders

    calls = []

    def stand_in(recipes, hub, **kwargs):
        calls.append(([r.modelset for r in recipes], [f.count for r in recipes for f in r.families], kwargs))
        mdl.publish(sources["rf"], modelset="heavy-t-gap", hub=hub, progress=False)
        return BuildReport(built=["t-gap-rf-0000"])

    monkeypatch.setattr(reference, "build", stand_in)
    hub = tmp_path / "zoo"
    assert main(["zoo", "build", "--reference", "--tier", "heavy", "--scale", "0.01", "--quiet", "--hub", str(hub)]) == 0
    (modelsets, counts, kwargs), = calls
    assert modelsets == [r.modelset for r in load_recipes(reference_folders("heavy"))]
    assert set(counts) <= {0, 1} and kwargs["progress"] is False and kwargs["workers"] == 1
    out = capsys.readouterr().out
    assert "heavy-t-gap" in out and "built 1, already there 0, failed 0 in " in out
