"""The argument parser of the ``mdl`` command: every subcommand, option, help text and example.

>>> parser().parse_args(["search", "--property", "gap"]).property
'gap'
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import NoReturn

from mdl.cli import commands
from mdl.config import VERSION
from mdl.errors import MDLError
from mdl.validation import MATERIALS

_HEADS = ["rf", "ridge", "mlp", "svr"]
_X_HELP = ("column of the CSV holding the inputs: SMILES of molecules, polymer repeat units with two '*', "
           "formulas, or paths of CIF/POSCAR files")


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
    s.set_defaults(run=commands._search)

    i = command("info", "show one model's card: what it predicts, from what, how well, licence and files",
                ["mdl info starter-qm9-alpha-nn-0000", "mdl info starter-qm9-alpha-nn-0000 --json"])
    i.add_argument("model_id", metavar="MODEL_ID", help="the model's id (as `mdl search` lists it)")
    i.add_argument("--json", action="store_true", help="print the index row and model-set metadata as JSON")
    i.set_defaults(run=commands._info)

    p = command("pull", "download (or read) and verify models, and print where their files are",
                ["mdl pull starter-qm9-alpha-nn-0000",
                 "mdl pull qm9-homo-nn-0000 qm9-homo-rf-0000 --hub hf://mdl-zoo/registry"])
    p.add_argument("model_ids", nargs="+", metavar="MODEL_ID", help="ids of the models (as `mdl search` lists them)")
    p.set_defaults(run=commands._pull)

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
    t.set_defaults(run=commands._transfer)

    sc = command("screen", "rank every matching hub model as a transfer source for a CSV target",
                 ["mdl screen --data t.csv --x-col smiles --y-col value --material molecule",
                  "mdl screen --data t.csv --x-col formula --y-col gap --nested --save-best best --out report",
                  "mdl screen --data t.csv --x-col smiles --y-col value --engine ray --address auto"])
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
    sc.add_argument("--engine", default="local", choices=["local", "ray"], help="where the first stage (every "
                    "source's features and scores) runs: this machine (default) or a Ray cluster")
    sc.add_argument("--address", help="Ray cluster address for --engine ray (default: a local Ray instance)")
    sc.add_argument("--unit", help="unit of the target, for the table and the plots")
    sc.add_argument("--all-columns", action="store_true", help="every column of the board, not the short view")
    sc.add_argument("--save-best", metavar="DIR", help="save the recommended model (board.best) in this folder")
    sc.add_argument("--out", metavar="DIR", help="folder for leaderboard.csv, parity.png, transferability.png "
                    "and report.md")
    sc.set_defaults(run=commands._screen)

    pr = command("predict", "predict a CSV table with a saved model (a folder) or a hub model (an id)",
                 ["mdl predict my-model --data new.csv --x-col smiles --out predictions.csv",
                  "mdl predict starter-qm9-alpha-nn-0000 --data new.csv --x-col smiles > predictions.csv"])
    pr.add_argument("model", metavar="MODEL", help="a folder saved by `mdl transfer --out`, `mdl screen "
                    "--save-best` or a model's save(), or a hub model's id")
    _table_options(pr, target=False)
    pr.add_argument("--column", default="prediction", help="name of the predictions' column (default: prediction)")
    pr.add_argument("--out", help="CSV file to write: the input table with the predictions' column "
                    "(default: standard output)")
    pr.set_defaults(run=commands._predict)

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
    b.set_defaults(run=commands._zoo_build)

    pub = command("publish", "publish saved source-model folders into a model set of the hub",
                  ["mdl publish my-ft-model --modelset my-experiments",
                   "mdl publish m1 m2 --modelset my-set --hub hf://my-org/registry"])
    pub.add_argument("folders", nargs="+", metavar="FOLDER", help="folders holding a saved source model "
                     "(config.json)")
    pub.add_argument("--modelset", required=True, help="the model set to publish into (created if new)")
    pub.set_defaults(run=commands._publish)

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
    m.set_defaults(run=commands._mirror)

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
    hg.set_defaults(run=commands._hub_catalogue)
    for command_parser, run in ((hc, commands._hub_check), (hr, commands._hub_repair)):
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
