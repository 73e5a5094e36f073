"""The ``mdl`` command line: a thin layer over the library.

    mdl search --property "band gap" --material inorganic      # find models in the hub
    mdl info starter-qm9-alpha-nn-0000                        # one model's card
    mdl pull starter-qm9-alpha-nn-0000                        # download and verify; prints where the files are
    mdl transfer MODEL_ID --data t.csv --x-col smiles --y-col value --out my-model
    mdl screen --data t.csv --x-col smiles --y-col value --save-best best-model --out report/
    mdl predict best-model --data new.csv --x-col smiles --out predictions.csv
    mdl zoo build starter                                     # or: mdl zoo build --reference --tier base
    mdl publish saved-model-folder/ --modelset my-set
    mdl mirror hf://mdl-zoo/registry ./zoo --property gap
    mdl hub check --hub ./zoo

Every subcommand takes ``--hub`` (default ``$MDL_HUB``, else ``~/.cache/mdl/hub``), ``--quiet`` (no
progress bars) and ``--verbose``. A user error (a missing or unreadable file, a bad option value, any
:class:`~mdl.errors.MDLError`) is one line on stderr, ``mdl: error: ...``, and exit code 2; Ctrl-C ends
with exit code 130 and a closed output pipe (``mdl search | head``) with 141, both without a traceback.
An unexpected exception (a bug) is one line saying so, exit code 1; ``mdl --debug ...`` shows the
traceback as well.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from mdl.config import VERSION
from mdl.errors import InvalidInputError, MDLError
from mdl.validation import MATERIALS
_HEADS = ["rf", "ridge", "mlp", "svr"]
_X_HELP = ("column of the CSV holding the inputs: SMILES of molecules, polymer repeat units with two '*', "
           "formulas, or paths of CIF/POSCAR files")


# -- subcommands ----------------------------------------------------------------------------------
def _search(args: argparse.Namespace) -> None:
    from mdl.api import search
    from mdl.hub.summary import search_summary

    hits = search(property=args.property, material=args.material, descriptor=args.descriptor,
                  model_type=args.model_type, min_r2=args.min_r2, sort_by=args.sort_by, limit=args.limit,
                  hub=args.hub)
    if hits.empty:
        _note(_no_match(args))
        return
    shown = search_summary(hits, columns="all" if args.all_columns else "short", unit_in_header=not args.json)
    if args.json:
        print(shown.to_json(orient="records"))
    else:
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _no_match(args: argparse.Namespace) -> str:
    """Why a search found nothing in a hub that holds models: what the hub does hold."""
    from mdl.hub import open_hub
    from mdl.hub.index import search_choices

    index = open_hub(args.hub).index()
    choices = search_choices(index)

    def listed(values: list[str], most: int = 12) -> str:
        return ", ".join(values[:most]) + (f" and {len(values) - most} more" if len(values) > most else "")

    return (f"no model matches these filters; the hub holds {len(index)} model(s): materials "
            f"{listed(choices['material'])}; families {listed(choices['model_type'])}; descriptors "
            f"{listed(choices['descriptor'])}; properties {listed(choices['property'])}")


def _info(args: argparse.Namespace) -> None:
    from mdl.hub import open_hub

    hub = open_hub(args.hub)
    row = hub.row(args.model_id)
    meta = hub.modelset_meta(str(row["modelset"]))
    if args.json:
        print(json.dumps({"row": {k: _plain(v) for k, v in row.items()}, "modelset": meta}, indent=1))
    else:
        print("\n".join(_card(row, meta, hub.address)))


def _card(row: pd.Series, meta: dict[str, Any], address: str) -> list[str]:
    """A model's card as lines of text: what it predicts from what, how well, its origin, files and use."""
    def parsed(field: str) -> Any:
        try:
            return json.loads(row[field]) if isinstance(row[field], str) and row[field] else {}
        except ValueError:
            return {}

    spec, files = parsed("descriptor_spec"), parsed("files")
    unit = f" ({row['unit']})" if isinstance(row["unit"], str) and row["unit"] else ""
    params = ", ".join(f"{k}={v}" for k, v in (spec.get("params") or {}).items())
    metrics = ", ".join(f"{m.upper() if m != 'r2' else 'R²'} {row[m]:.4g}" for m in ("mae", "rmse", "r2")
                        if pd.notna(row[m]))
    lines = [
        f"{row['model_id']}  ({row['modelset']}, hub {address})",
        f"  predicts      {row['property']}{unit} of {row['material']}s",
        f"  model         {row['family']}, hyperparameters {row['hyperparameters']}",
        f"  reads         {row['descriptor']}({params}), {spec.get('width', '?')} columns",
        f"  trained on    {row['n_train']} rows of {row['dataset']} (data sha256 {str(row['dataset_hash'])[:12]}…), "
        f"tested on {row['n_test']}",
        f"  test scores   {metrics}",
    ]
    if isinstance(row.get("source_model"), str) and row["source_model"]:
        lines.append(f"  fine-tuned from {row['source_model']}")
    lines += [f"  licence       {meta.get('license', 'not stated')}",
              f"  model set     {meta.get('description', '')}"]
    if meta.get("source"):
        lines.append(f"  data source   {meta['source']}")
    lines.append(f"  files         {len(files)} ({row['path']}):")
    lines += [f"    {name}  sha256 {digest}" for name, digest in sorted(files.items())]
    lines += ["  use it:",
              f"    mdl pull {row['model_id']}",
              f"    mdl transfer {row['model_id']} --data t.csv --x-col COLUMN --y-col VALUE",
              f"    python: mdl.transfer({row['model_id']!r}, X, y)"]
    return lines


def _plain(value: Any) -> Any:
    """A JSON-ready value of an index cell (NaN as None)."""
    if isinstance(value, float) and value != value:
        return None
    return value.item() if hasattr(value, "item") else value


def _pull(args: argparse.Namespace) -> None:
    from mdl.api import pull

    for model in pull(list(args.model_ids), hub=args.hub):
        metrics = model.info.get("metrics", {})
        print(f"{model.model_id}: {model.family} on {model.descriptor.name} ({len(model.columns)} columns), "
              f"{model.info.get('property')} test MAE {metrics.get('mae', float('nan')):.4g}; every file verified")
        print(f"  files: {model.folder}")


def _read_table(path: str, columns: Sequence[str | None]) -> pd.DataFrame:
    """A CSV file holding ``columns`` (None entries ignored); InvalidInputError if it cannot be used."""
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:  # missing, unreadable, empty, not CSV, not text
        reason = f"{exc.strerror}" if isinstance(exc, OSError) and exc.strerror else str(exc).strip()
        raise InvalidInputError(f"cannot read CSV file {path}: {reason}") from exc
    for col in columns:
        if col is not None and col not in table.columns:
            raise InvalidInputError(f"column {col!r} not in {path}; columns: {list(table.columns)}")
    return table


def _layers(text: str) -> int | list[int] | str:
    """The --layers option: an index, a JSON list of indices, or 'all'."""
    if text == "all":
        return text
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, int) or (isinstance(value, list) and value and all(isinstance(i, int) for i in value)):
        return value
    raise argparse.ArgumentTypeError(f"expected an index such as -1, a JSON list such as [-2,-1], or 'all'; got {text!r}")


def _at_least(low: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``low``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {low}, got {value}")
        return value

    parse.__name__ = f"whole number >= {low}"
    return parse


def _transfer(args: argparse.Namespace) -> None:
    from mdl.api import transfer

    table = _read_table(args.data, (args.x_col, args.y_col))
    model = transfer(args.model_id, table[args.x_col].tolist(), table[args.y_col].to_numpy(), head=args.head,
                     layers=args.layers, cv=args.cv or None, hub=args.hub)
    if args.cv:
        scores = model.cv_scores_
        print(f"{args.cv}-fold CV on {len(table)} samples: MAE {scores['mae']:.4g} ± {scores['mae_std']:.2g}, "
              f"RMSE {scores['rmse']:.4g}, R² {scores['r2']:.3f}")
    else:
        print(f"fitted on {len(table)} samples (no cross-validation: --cv 0)")
    if args.out:
        print(f"saved to {model.save(args.out)}; predict with `mdl predict {args.out} --data NEW.csv "
              f"--x-col {args.x_col}`")


def _screen(args: argparse.Namespace) -> None:
    data = _data_argument(args, "screen")
    table = _read_table(data, (args.x_col, args.y_col, args.group_col))  # before torch is imported: fails fast
    from mdl.api import screen
    from mdl.screening.report import write_report

    board = screen(table[args.x_col].tolist(), table[args.y_col].to_numpy(), property=args.property,
                   material=args.material, model_type=args.model_type, limit=args.limit, head=args.head, cv=args.cv,
                   groups=table[args.group_col].to_numpy() if args.group_col else None, top_k=args.top_k,
                   nested=args.nested, hub=args.hub, progress=not args.quiet)
    print(board.summary(columns="all" if args.all_columns else "short", unit=args.unit)
          .to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(board.best_line())
    if args.save_best:
        path = board.best.save(args.save_best)
        print(f"saved board.best to {path}; predict with `mdl predict {args.save_best} --data NEW.csv "
              f"--x-col {args.x_col}`")
    if args.out:
        files = write_report(board, args.out, unit=args.unit)
        print(f"wrote {', '.join(p.name for p in files.values())} to {args.out}")


def _data_argument(args: argparse.Namespace, command: str) -> str:
    """``--data``, or the old positional spelling with a deprecation warning."""
    if args.data and args.data_positional:
        raise InvalidInputError("give the CSV file once, as --data")
    if args.data_positional:
        warnings.warn(f"`mdl {command} FILE` is deprecated and will be removed in the next release; "
                      f"use `mdl {command} --data FILE`", FutureWarning, stacklevel=2)
        return args.data_positional
    if not args.data:
        raise InvalidInputError(f"the following arguments are required: --data (see `mdl {command} --help`)")
    return args.data


def _predict(args: argparse.Namespace) -> None:
    table = _read_table(args.data, (args.x_col,))
    if args.column in table.columns:
        raise InvalidInputError(f"{args.data} already has a column {args.column!r}; name the predictions with "
                                "--column")
    from mdl.transfer_learning.saved import load_saved

    if Path(args.model).expanduser().is_dir():
        model = load_saved(args.model, hub=args.hub)
    else:
        from mdl.api import pull

        model = pull(args.model, hub=args.hub)
    table[args.column] = model.predict(table[args.x_col].tolist())
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {len(table)} predictions to {args.out} (column {args.column!r})")
    else:
        table.to_csv(sys.stdout, index=False)


def _zoo_build(args: argparse.Namespace) -> None:
    if args.reference == bool(args.recipes):
        raise InvalidInputError("give recipe files or folders, or --reference for the reference zoo (not both)")
    if args.tier and not args.reference:
        raise InvalidInputError("--tier applies to --reference")
    if args.scale != 1.0 and not args.reference:
        raise InvalidInputError("--scale applies to --reference")
    if args.reference:
        from mdl.zoo import build_reference, reference_summary

        report = build_reference(args.tier or "base", hub=args.hub, workers=args.workers, engine=args.engine,
                                 address=args.address, scale=args.scale, device=args.device,
                                 batch_size=args.batch_size, progress=not args.quiet)
        print(reference_summary(args.hub))
        print("\n".join(report.lines()))
    else:
        from mdl.zoo import build, load_recipes

        recipes = load_recipes([_recipe_path(r) for r in args.recipes])
        report = build(recipes, hub=args.hub, batch_size=args.batch_size, device=args.device,
                       engine=args.engine, address=args.address, workers=args.workers or os.cpu_count() or 1,
                       progress=not args.quiet)
        print(f"built {len(report.built)}, already published {len(report.skipped)}, failed {len(report.failed)}")
        for line in report.failure_causes():
            print(f"  {line}", file=sys.stderr)
    if report.failed:  # exit status 2: a build with failures is not a success
        raise MDLError(f"{len(report.failed)} model(s) or recipe(s) failed (causes above); re-run to retry them")


def _recipe_path(text: str) -> Path:
    """A recipe file or folder; a name that is no path but a folder of the packaged registry (``starter``,
    ``molecules``, ``heavy``...) means that folder, so that a pip-installed mdl builds its own recipes."""
    path = Path(text).expanduser()
    if path.exists() or os.sep in text or text.endswith(".toml"):
        return path
    from mdl.zoo import registry_path

    return registry_path(text)


def _publish(args: argparse.Namespace) -> None:
    from mdl.api import publish
    from mdl.models.source import SourceModel
    from mdl.transfer_learning.saved import DESCRIPTIONS, saved_kind

    for folder in args.folders:
        if not Path(folder).expanduser().exists():
            raise InvalidInputError(f"no such folder: {folder}")
        kind = saved_kind(folder)
        if kind != "source":
            raise InvalidInputError(
                f"{folder} holds {DESCRIPTIONS[kind]}; only source models can be published. Make one by "
                "fine-tuning (`mdl.finetune(...).to_source_model(NEW_ID).save(FOLDER)`) or by training a recipe "
                "(`mdl zoo build RECIPE.toml`), or share the folder itself: `mdl predict FOLDER` reads it")
    ids = publish([SourceModel.load(folder) for folder in args.folders], modelset=args.modelset, hub=args.hub,
                  progress=not args.quiet)
    print(f"published {len(ids)} model(s) into {args.modelset}")


def _mirror(args: argparse.Namespace) -> None:
    from mdl.api import search
    from mdl.hub import HFHub, open_hub
    from mdl.hub.gitrepo import GitRepoWriter
    from mdl.hub.mirror import mirror

    dst = args.dst
    if args.git_dir:
        if not dst.startswith("hf://"):
            raise InvalidInputError("--git-dir applies to an hf:// destination")
        dst = HFHub(dst, writer=GitRepoWriter(args.git_dir))
    selection = None
    if args.model_ids:
        selection = args.model_ids
    elif any(v is not None for v in (args.property, args.material, args.descriptor, args.model_type, args.min_r2)):
        selection = search(property=args.property, material=args.material, descriptor=args.descriptor,
                           model_type=args.model_type, min_r2=args.min_r2, limit=args.limit, hub=args.src)
        if selection.empty:
            raise MDLError(f"no model in {args.src} matches the filters")
    elif args.limit is not None:
        selection = open_hub(args.src).index()["model_id"].head(args.limit).tolist()
    report = mirror(args.src, dst, selection, batch_size=args.batch_size, progress=not args.quiet)
    print(f"mirrored {len(report.copied)} model(s) from {args.src} to {args.dst}, "
          f"{len(report.skipped)} already there; files copied verbatim, every sha256 verified")


def _hub_address(args: argparse.Namespace) -> str | None:
    """``--hub``, or the old positional spelling with a deprecation warning."""
    if args.hub_positional:
        if args.hub:
            raise InvalidInputError("give the hub once, as --hub")
        warnings.warn(f"`mdl hub {args.hub_command} HUB` is deprecated and will be removed in the next release; "
                      f"use `mdl hub {args.hub_command} --hub HUB`", FutureWarning, stacklevel=2)
        return args.hub_positional
    return args.hub


def _hub_check(args: argparse.Namespace) -> None:
    from mdl.hub.check import check_hub

    report = check_hub(_hub_address(args), progress=not args.quiet)
    print(report)
    if not report.ok:
        raise MDLError(f"hub {report.hub} has problems (see above); `mdl hub repair --hub {report.hub}` rebuilds "
                       "the index, removes stale staging and rewrites the metadata")


def _hub_repair(args: argparse.Namespace) -> None:
    from mdl.hub.check import repair_hub

    print(repair_hub(_hub_address(args), progress=not args.quiet))


def _hub_catalogue(args: argparse.Namespace) -> None:
    from mdl.catalogue import write_catalogue

    print(write_catalogue(args.hub, args.out, progress=not args.quiet))


# -- the parser -----------------------------------------------------------------------------------
class UsageError(MDLError):
    """A command line that argparse refuses (unknown option, bad value, missing argument)."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are raised (and printed by :func:`main` as one line), not printed with the usage."""

    def error(self, message: str) -> NoReturn:
        for action in self._subparsers._group_actions if self._subparsers else ():
            if message.endswith(f"required: {action.metavar}"):  # no subcommand given: name them
                message = f"a subcommand is needed: {', '.join(action.choices)}"
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _examples(*lines: str) -> str:
    """The epilog of a subcommand: its examples."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _common(hub: bool = True) -> argparse.ArgumentParser:
    """The options every subcommand takes (``--hub`` where it reads or writes one hub)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("common options")
    if hub:
        group.add_argument("--hub", default=None, help="the hub: a folder, file:// URL or "
                           "hf://<org>/<registry>[@rev] (default: $MDL_HUB, else ~/.cache/mdl/hub)")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    group.add_argument("-v", "--verbose", action="store_true", help="log what mdl does, step by step")
    return common


def _filters(p: argparse.ArgumentParser, what: str) -> None:
    """The search filters, shared by search, screen and mirror."""
    p.add_argument("--property", help=f"{what} whose property or an alias contains this text, in any case "
                   "(e.g. 'band gap', 'homo')")
    p.add_argument("--material", choices=MATERIALS, help=f"{what} of this material class")
    p.add_argument("--model-type", help=f"{what} of this family: nn, rf, gb, en, gnn, foundation (or a long name "
                   "such as 'random forest')")


def parser() -> argparse.ArgumentParser:
    """The argument parser of every command; a bad command line raises :class:`UsageError`.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> parser().parse_args(["search", "--property", "gap"]).property
    'gap'
    """
    top = _Parser(prog="mdl", formatter_class=argparse.RawDescriptionHelpFormatter,
                  description="A zoo of pretrained models for molecules, polymers and crystals, and the tools to "
                  "transfer them to your own small data set.",
                  epilog=_examples("mdl search --property density --material molecule",
                                   "mdl screen --data target.csv --x-col smiles --y-col value --save-best best",
                                   "mdl predict best --data new.csv --x-col smiles --out predictions.csv",
                                   "mdl SUBCOMMAND --help     (each subcommand's options and examples)"))
    top.add_argument("--version", action="version", version=f"mdl {VERSION}")
    top.add_argument("--debug", action="store_true", help="show the traceback of an error")
    common = _common()
    sub = top.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND", parser_class=_Parser)

    def command(name: str, help: str, examples: Sequence[str], hub: bool = True) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".",
                              parents=[common if hub else _common(hub=False)], epilog=_examples(*examples),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    s = command("search", "find models in the hub by property, material, descriptor and family",
                ["mdl search --property 'band gap' --material inorganic --min-r2 0.8",
                 "mdl search --model-type nn --sort-by mae --limit 5 --json"])
    _filters(s, "models")
    s.add_argument("--descriptor", help="models reading this descriptor (morgan, magpie, crystal_graph...)")
    s.add_argument("--min-r2", type=float, help="models whose test R² is at least this")
    s.add_argument("--sort-by", default="r2", help="column to sort by, best first: r2, mae, rmse, n_train... "
                   "(default: r2)")
    s.add_argument("--limit", type=_at_least(1), default=20, help="show at most this many models (default: 20)")
    s.add_argument("--all-columns", action="store_true", help="every column of the index, not the short view")
    s.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    s.set_defaults(run=_search)

    i = command("info", "show one model's card: what it predicts, from what, how well, licence and files",
                ["mdl info starter-qm9-alpha-nn-0000", "mdl info starter-qm9-alpha-nn-0000 --json"])
    i.add_argument("model_id", metavar="MODEL_ID", help="the model's id (as `mdl search` lists it)")
    i.add_argument("--json", action="store_true", help="print the index row and model-set metadata as JSON")
    i.set_defaults(run=_info)

    p = command("pull", "download (or read) and verify models, and print where their files are",
                ["mdl pull starter-qm9-alpha-nn-0000",
                 "mdl pull qm9-homo-nn-0000 qm9-homo-rf-0000 --hub hf://mdl-zoo/registry"])
    p.add_argument("model_ids", nargs="+", metavar="MODEL_ID", help="ids of the models (as `mdl search` lists them)")
    p.set_defaults(run=_pull)

    t = command("transfer", "fit one source model's features plus a head on a CSV table, with CV",
                ["mdl transfer starter-qm9-alpha-nn-0000 --data t.csv --x-col smiles --y-col value --out my-model",
                 "mdl transfer MODEL_ID --data t.csv --x-col smiles --y-col value --head ridge --layers all"])
    t.add_argument("model_id", metavar="MODEL_ID", help="the source model's id")
    _table_options(t, target=True)
    t.add_argument("--head", default="rf", choices=_HEADS, help="the model fitted on the source's features "
                   "(default: rf, a random forest)")
    t.add_argument("--layers", default=-1, type=_layers, help="hidden layers used as features: an index (default "
                   "-1, the last), a JSON list such as [-2,-1], or 'all'")
    t.add_argument("--cv", type=_at_least(0), default=5, help="folds of the cross-validation reported "
                   "(default: 5; 0 fits without it)")
    t.add_argument("--out", help="folder to save the fitted model in")
    t.set_defaults(run=_transfer)

    sc = command("screen", "rank every matching hub model as a transfer source for a CSV target",
                 ["mdl screen --data t.csv --x-col smiles --y-col value --material molecule",
                  "mdl screen --data t.csv --x-col formula --y-col gap --nested --save-best best --out report"])
    sc.add_argument("data_positional", nargs="?", metavar="DATA",
                    help="deprecated spelling of --data (removed in the next release)")
    _table_options(sc, target=True, required=False)
    _filters(sc, "screen only models")
    sc.add_argument("--limit", type=_at_least(1), help="screen at most this many matching models")
    sc.add_argument("--head", default="rf", choices=_HEADS, help="head of the transfer rows (default: rf)")
    sc.add_argument("--cv", type=_at_least(2), default=5, help="folds of the cross-validation (default: 5)")
    sc.add_argument("--top-k", type=_at_least(1), default=10, help="sources that get the head with full CV after "
                    "the cheap first-stage ranking (default: 10)")
    sc.add_argument("--group-col", help="column of group labels for grouped cross-validation")
    sc.add_argument("--nested", action="store_true", help="also estimate the error of choosing and fitting by "
                    "nested CV (the honest number; slower)")
    sc.add_argument("--unit", help="unit of the target, for the table and the plots")
    sc.add_argument("--all-columns", action="store_true", help="every column of the board, not the short view")
    sc.add_argument("--save-best", metavar="DIR", help="save the recommended model (board.best) in this folder")
    sc.add_argument("--out", metavar="DIR", help="folder for leaderboard.csv, parity.png, transferability.png "
                    "and report.md")
    sc.set_defaults(run=_screen)

    pr = command("predict", "predict a CSV table with a saved model (a folder) or a hub model (an id)",
                 ["mdl predict my-model --data new.csv --x-col smiles --out predictions.csv",
                  "mdl predict starter-qm9-alpha-nn-0000 --data new.csv --x-col smiles > predictions.csv"])
    pr.add_argument("model", metavar="MODEL", help="a folder saved by `mdl transfer --out`, `mdl screen "
                    "--save-best` or a model's save(), or a hub model's id")
    _table_options(pr, target=False)
    pr.add_argument("--column", default="prediction", help="name of the predictions' column (default: prediction)")
    pr.add_argument("--out", help="CSV file to write: the input table with the predictions' column "
                    "(default: standard output)")
    pr.set_defaults(run=_predict)

    z = sub.add_parser("zoo", help="build a zoo from recipes", description="Build a zoo from recipes.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_examples("mdl zoo build starter", "mdl zoo build --reference --tier base"))
    zsub = z.add_subparsers(dest="zoo_command", required=True, metavar="ZOO_COMMAND", parser_class=_Parser)
    b = zsub.add_parser("build", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                        help="train and publish the models of recipes (resumable: re-run to continue)",
                        description="Train and publish the models of recipes; re-run to continue after an "
                        "interruption (what is published is skipped).",
                        epilog=_examples("mdl zoo build starter --hub ./zoo      (the starter zoo, 21 models)",
                                         "mdl zoo build my-recipes/ --hub ./zoo",
                                         "mdl zoo build --reference --tier all --workers 2",
                                         "mdl zoo build registry/crystals --engine ray --address auto"))
    b.add_argument("recipes", nargs="*", metavar="RECIPE", help="recipe files (TOML) or folders of them, or the "
                   "name of a recipe folder that comes with mdl: starter, molecules, polymers, crystals, heavy")
    b.add_argument("--reference", action="store_true", help="build the reference zoo from the recipes that come "
                   "with mdl (fetching their data), then print its table")
    b.add_argument("--tier", choices=["base", "heavy", "all"], help="with --reference: base (the shotgun "
                   "families, default), heavy (full-data networks) or all")
    b.add_argument("--batch-size", type=_at_least(1), default=16, help="models per publish, one index update "
                   "each (default: 16)")
    b.add_argument("--engine", default="local", choices=["local", "ray"], help="where to train: this machine "
                   "(default) or a Ray cluster")
    b.add_argument("--address", help="Ray cluster address for --engine ray (default: a local Ray instance)")
    b.add_argument("--device", default="cpu", help="torch device for the networks: cpu (default), cuda or auto")
    b.add_argument("--workers", type=_at_least(1), help="local engine: processes of one torch thread each "
                   "(default: one per CPU core; with --reference, the tier's own default)")
    b.add_argument("--scale", type=float, default=1.0, help="with --reference: build this fraction of every "
                   "family's count, for a trial (default: 1.0)")
    b.set_defaults(run=_zoo_build)

    pub = command("publish", "publish saved source-model folders into a model set of the hub",
                  ["mdl publish my-ft-model --modelset my-experiments",
                   "mdl publish m1 m2 --modelset my-set --hub hf://my-org/registry"])
    pub.add_argument("folders", nargs="+", metavar="FOLDER", help="folders holding a saved source model "
                     "(config.json)")
    pub.add_argument("--modelset", required=True, help="the model set to publish into (created if new)")
    pub.set_defaults(run=_publish)

    m = command("mirror", "copy a zoo, or a search result, between two hubs, verifying every hash",
                ["mdl mirror hf://mdl-zoo/registry ./zoo", "mdl mirror ./zoo hf://my-org/registry --property gap"],
                hub=False)
    m.add_argument("src", metavar="SRC", help="source hub: folder, file:// or hf://<org>/<registry>[@rev]")
    m.add_argument("dst", metavar="DST", help="destination hub: folder, file:// or hf://<org>/<registry>")
    m.add_argument("--model-id", dest="model_ids", action="append", help="copy this model (repeatable)")
    _filters(m, "copy only models")
    m.add_argument("--descriptor", help="copy only models reading this descriptor")
    m.add_argument("--min-r2", type=float, help="copy only models whose test R² is at least this")
    m.add_argument("--limit", type=_at_least(1), help="copy at most this many models")
    m.add_argument("--batch-size", type=_at_least(1), default=64, help="models per publish, one Hub commit each "
                   "(default: 64)")
    m.add_argument("--git-dir", help="publish into the git repositories of a self-hosted Hub mirror under "
                   "this folder (<dir>/models/<org>/<repo>, as olah serves them) instead of the Hub's commit API")
    m.set_defaults(run=_mirror)

    h = sub.add_parser("hub", help="check, repair and catalogue a hub", description="Check, repair and catalogue a hub.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_examples("mdl hub check --hub ./zoo", "mdl hub repair --hub ./zoo",
                                        "mdl hub catalogue --hub ./zoo --out catalogue/"))
    hsub = h.add_subparsers(dest="hub_command", required=True, metavar="HUB_COMMAND", parser_class=_Parser)
    hc = hsub.add_parser("check", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                         help="verify every model; report orphans, stale staging and metadata that disagrees with "
                         "the index (exit code 2 when anything is wrong)",
                         description="Verify every model of a hub (exit code 2 when anything is wrong).",
                         epilog=_examples("mdl hub check --hub ./zoo", "mdl hub check --hub hf://my-org/registry"))
    hr = hsub.add_parser("repair", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                         help="rebuild a lost or unreadable index from the models that verify on disk, remove "
                         "stale staging, rewrite the metadata from the index",
                         description="Rebuild a hub's index from what verifies on disk.",
                         epilog=_examples("mdl hub repair --hub ./zoo"))
    hg = hsub.add_parser("catalogue", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                         help="write a browsable static catalogue of a hub (an overview, a searchable table of "
                         "every model, a page per model) that opens from disk, with no server and no internet",
                         description="Write a static site describing every model of a hub, from its index and "
                         "model-set records (a Hugging Face registry's weights are never downloaded).",
                         epilog=_examples("mdl hub catalogue --hub ./zoo --out catalogue/  (open its index.html)",
                                          "mdl hub catalogue --hub hf://my-org/registry --out catalogue/"))
    hg.add_argument("--out", required=True, metavar="DIR", help="folder to write the site into: new, empty, or "
                    "one an earlier `mdl hub catalogue` wrote (replaced)")
    hg.set_defaults(run=_hub_catalogue)
    for command_parser, run in ((hc, _hub_check), (hr, _hub_repair)):
        command_parser.add_argument("hub_positional", nargs="?", metavar="HUB",
                                    help="deprecated spelling of --hub (removed in the next release)")
        command_parser.set_defaults(run=run)
    return top


def _table_options(p: argparse.ArgumentParser, target: bool, required: bool = True) -> None:
    """The CSV input options: --data, --x-col and (for a target) --y-col."""
    p.add_argument("--data", required=required, metavar="CSV", help="CSV file with a header row")
    p.add_argument("--x-col", required=True, help=_X_HELP)
    if target:
        p.add_argument("--y-col", required=True, help="column of the CSV holding the measured values (numbers)")


# -- running a command ----------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run one command, reporting any error as one line on stderr.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0, 2 for a user error, 130 after Ctrl-C, 141 when the output pipe closed, 1 for a bug.

    Examples
    --------
    >>> main(["search", "--limit", "0"])   # doctest: +SKIP
    2
    """
    debug = False
    try:
        args = parser().parse_args(argv)
        debug = args.debug
        with _warnings_as_lines(), _output_settings(args):
            args.run(args)
            sys.stdout.flush()  # a closed pipe shows here, inside the handler below
    except KeyboardInterrupt:
        return _fail("interrupted", 130, debug)
    except BrokenPipeError:  # `mdl search | head`: the reader has gone; end quietly, as git does
        _silence_stdout()
        return 141
    except (MDLError, OSError) as exc:  # OSError: a file or folder that cannot be read or written
        return _fail(_message(exc), 2, debug)
    except Exception as exc:  # noqa: BLE001  (a bug: say so in one line, the traceback with --debug)
        return _fail(f"internal error, a bug in mdl ({type(exc).__name__}: {_message(exc)}); run again with "
                     "`mdl --debug ...` to see the traceback, and please report it", 1, debug)
    return 0


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's own flush at exit finds no closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (a test's capture)
        pass


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc) or type(exc).__name__


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(_lines(f"mdl: error: {message}"), file=sys.stderr)
    return code


def _note(message: str) -> None:
    print(_lines(f"mdl: {message}"), file=sys.stderr)


def _lines(text: str) -> str:
    """Continuation lines of a message (one per cause) indented under its first line."""
    return text.strip().replace("\n", "\n  ")


@contextmanager
def _output_settings(args: argparse.Namespace) -> Iterator[None]:
    """``--verbose`` logs mdl's steps on stderr (``--quiet`` is passed to each call as ``progress=False``)."""
    if not getattr(args, "verbose", False):
        yield
        return
    logger = logging.getLogger("mdl")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mdl: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Warnings printed as ``mdl: warning: ...`` (no file name and source line)."""
    def show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print(_lines(f"mdl: warning: {message}"), file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default", FutureWarning)
        warnings.showwarning = show
        yield


__all__ = ["UsageError", "main", "parser"]

if __name__ == "__main__":
    sys.exit(main())
