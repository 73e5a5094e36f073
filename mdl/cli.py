"""The ``mdl`` command line: a thin layer over the library.

    mdl search --property homo --material molecule --limit 10
    mdl pull qm9-homo-nn-0000
    mdl transfer qm9-homo-nn-0000 --data target.csv --x-col smiles --y-col value --out my-model
    mdl screen target.csv --x-col smiles --y-col value --material molecule --out screen-report
    mdl zoo build registry/starter
    mdl publish saved-model-folder/ --modelset my-set
    mdl mirror hf://mdl-zoo/registry ./zoo --property gap
    mdl hub check ./zoo
    mdl hub repair ./zoo

A user error (a missing or unreadable file, a bad option value, any :class:`~mdl.errors.MDLError`) is
one line on stderr, ``mdl: error: ...``, and exit code 2 (130 after Ctrl-C); an unexpected exception
(a bug) is one line saying so, exit code 1. ``mdl --debug ...`` shows the traceback as well.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import pandas as pd

from mdl.errors import InvalidInputError, MDLError

_SHOWN = ["model_id", "property", "material", "family", "descriptor", "n_train", "mae", "r2"]


def _search(args: argparse.Namespace) -> None:
    from mdl.api import search

    hits = search(property=args.property, material=args.material, descriptor=args.descriptor,
                  model_type=args.model_type, min_r2=args.min_r2, sort_by=args.sort_by, limit=args.limit,
                  hub=args.hub)
    print(hits.to_json(orient="records") if args.json else hits[_SHOWN].to_string(index=False))


def _pull(args: argparse.Namespace) -> None:
    from mdl.api import pull

    for model in pull(args.model_ids, hub=args.hub):
        metrics = model.info.get("metrics", {})
        print(f"{model.model_id}: {model.family} on {model.descriptor.name} ({len(model.columns)} columns), "
              f"{model.info.get('property')} test MAE {metrics.get('mae', float('nan')):.4g} — verified")


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


def _transfer(args: argparse.Namespace) -> None:
    from mdl.api import transfer

    table = _read_table(args.data, (args.x_col, args.y_col))
    model = transfer(args.model_id, table[args.x_col].tolist(), table[args.y_col].to_numpy(), head=args.head,
                     layers=args.layers, cv=args.cv, hub=args.hub)
    scores = model.cv_scores_
    print(f"{args.cv}-fold CV on {len(table)} samples: MAE {scores['mae']:.4g} ± {scores['mae_std']:.2g}, "
          f"RMSE {scores['rmse']:.4g}, R² {scores['r2']:.3f}")
    if args.out:
        print(f"saved to {model.save(args.out)}")


def _screen(args: argparse.Namespace) -> None:
    table = _read_table(args.data, (args.x_col, args.y_col, args.group_col))  # before torch is imported: fails fast
    from mdl.transfer_learning.report import write_report
    from mdl.api import screen

    board = screen(table[args.x_col].tolist(), table[args.y_col].to_numpy(), property=args.property,
                   material=args.material, model_type=args.model_type, limit=args.limit, head=args.head, cv=args.cv,
                   groups=table[args.group_col].to_numpy() if args.group_col else None, top_k=args.top_k,
                   nested=args.nested, hub=args.hub)
    shown = ["rank", "model_id", "kind", "source_property", "head", "mae", "rmse", "r2"]
    print(board[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        files = write_report(board, args.out, unit=args.unit or "")
        print(f"wrote {', '.join(p.name for p in files.values())} to {args.out}")


def _zoo_build(args: argparse.Namespace) -> None:
    from mdl.zoo import build, load_recipes

    report = build(load_recipes(args.recipes), hub=args.hub, batch_size=args.batch_size, device=args.device,
                   engine=args.engine, address=args.address, workers=args.workers)
    print(f"built {len(report.built)}, already published {len(report.skipped)}, failed {len(report.failed)}")
    for line in report.failure_causes():
        print(f"  {line}", file=sys.stderr)
    if report.failed:  # exit status 2: a build with failures is not a success
        raise MDLError(f"{len(report.failed)} model(s) or recipe(s) failed (causes above); re-run to retry them")


def _publish(args: argparse.Namespace) -> None:
    from mdl.api import publish
    from mdl.models.source import SourceModel

    ids = publish([SourceModel.load(folder) for folder in args.folders], modelset=args.modelset, hub=args.hub)
    print(f"published {len(ids)} model(s) into {args.modelset}")


def _mirror(args: argparse.Namespace) -> None:
    from mdl.api import search
    from mdl.hub import HFHub, open_hub
    from mdl.hub.gitrepo import GitRepoWriter
    from mdl.hub.mirror import mirror

    dst = args.dst
    if args.git_dir:
        if not dst.startswith("hf://"):
            raise MDLError("--git-dir applies to an hf:// destination")
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


def _hub_check(args: argparse.Namespace) -> None:
    from mdl.hub.check import check_hub

    report = check_hub(args.hub_address, progress=not args.quiet)
    print(report)
    if not report.ok:
        raise MDLError(f"hub {report.hub} has problems (see above); `mdl hub repair {report.hub}` rebuilds the "
                       "index, removes stale staging and rewrites the metadata")


def _hub_repair(args: argparse.Namespace) -> None:
    from mdl.hub.check import repair_hub

    print(repair_hub(args.hub_address, progress=not args.quiet))


class UsageError(MDLError):
    """A command line that argparse refuses (unknown option, bad value, missing argument)."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are raised (and printed by :func:`main` as one line), not printed with the usage."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


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
    top = _Parser(prog="mdl", description="Pretrained model zoo with a download-and-transfer API")
    top.add_argument("--debug", action="store_true", help="show the traceback of an error")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--hub", default=None, help="hub address: folder, file:// or hf://<org>/<registry>[@rev] "
                        "(default: $MDL_HUB or ~/.cache/mdl/hub)")
    sub = top.add_subparsers(dest="command", required=True)

    s = sub.add_parser("search", parents=[common], help="find models by property, material, descriptor, family")
    for name in ("property", "material", "descriptor", "model-type"):
        s.add_argument(f"--{name}")
    s.add_argument("--min-r2", type=float)
    s.add_argument("--sort-by", default="r2")
    s.add_argument("--limit", type=int, default=20)
    s.add_argument("--json", action="store_true", help="print JSON records")
    s.set_defaults(run=_search)

    p = sub.add_parser("pull", parents=[common], help="download (or load) and verify models")
    p.add_argument("model_ids", nargs="+")
    p.set_defaults(run=_pull)

    t = sub.add_parser("transfer", parents=[common], help="fit a transfer model on a CSV table")
    t.add_argument("model_id")
    t.add_argument("--data", required=True, help="CSV file")
    t.add_argument("--x-col", required=True)
    t.add_argument("--y-col", required=True)
    t.add_argument("--head", default="rf", choices=["rf", "ridge", "mlp", "svr"])
    t.add_argument("--layers", default=-1, type=_layers, help="-1, a JSON list such as [-2,-1], or 'all'")
    t.add_argument("--cv", type=int, default=5)
    t.add_argument("--out", help="folder to save the fitted model in")
    t.set_defaults(run=_transfer)

    sc = sub.add_parser("screen", parents=[common], help="rank hub models as transfer sources for a CSV target")
    sc.add_argument("data", help="CSV file")
    sc.add_argument("--x-col", required=True)
    sc.add_argument("--y-col", required=True)
    for name in ("property", "material", "model-type"):
        sc.add_argument(f"--{name}", help="screen only the hub models matching this (as `mdl search`)")
    sc.add_argument("--limit", type=int, help="screen at most this many matching models")
    sc.add_argument("--head", default="rf", choices=["rf", "ridge", "mlp", "svr"])
    sc.add_argument("--cv", type=int, default=5)
    sc.add_argument("--top-k", type=int, default=10, help="sources that get the head with full CV")
    sc.add_argument("--group-col", help="column of group labels for grouped cross-validation")
    sc.add_argument("--nested", action="store_true", help="also estimate the select-then-fit error by nested CV")
    sc.add_argument("--unit", help="unit of the target, for the plots")
    sc.add_argument("--out", help="folder for leaderboard.csv, parity.png, transferability.png, report.md")
    sc.set_defaults(run=_screen)

    z = sub.add_parser("zoo", help="build the zoo from recipes")
    zsub = z.add_subparsers(dest="zoo_command", required=True)
    b = zsub.add_parser("build", parents=[common], help="train and publish the models of recipe files or folders")
    b.add_argument("recipes", nargs="+")
    b.add_argument("--batch-size", type=int, default=16, help="models per publish (one index update each)")
    b.add_argument("--engine", default="local", choices=["local", "ray"])
    b.add_argument("--address", help="Ray cluster address for --engine ray (default: a local Ray instance)")
    b.add_argument("--device", default="cpu", help="torch device for the networks: cpu, cuda or auto")
    b.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="local engine: processes of one torch thread each (default: one per CPU core)")
    b.set_defaults(run=_zoo_build)

    pub = sub.add_parser("publish", parents=[common], help="publish saved source-model folders into a model set")
    pub.add_argument("folders", nargs="+")
    pub.add_argument("--modelset", required=True)
    pub.set_defaults(run=_publish)

    m = sub.add_parser("mirror", help="copy a zoo, or a search result, between two hubs, verifying hashes")
    m.add_argument("src", help="source hub: folder, file:// or hf://<org>/<registry>[@rev]")
    m.add_argument("dst", help="destination hub: folder, file:// or hf://<org>/<registry>")
    m.add_argument("--model-id", dest="model_ids", action="append", help="copy this model (repeatable)")
    for name in ("property", "material", "descriptor", "model-type"):
        m.add_argument(f"--{name}", help="copy only the search result (same filters as `mdl search`)")
    m.add_argument("--min-r2", type=float)
    m.add_argument("--limit", type=int)
    m.add_argument("--batch-size", type=int, default=64, help="models per publish (one Hub commit each)")
    m.add_argument("--git-dir", help="publish into the git repositories of a self-hosted Hub mirror under "
                   "this folder (<dir>/models/<org>/<repo>, as olah serves them) instead of the Hub's commit API")
    m.add_argument("--quiet", action="store_true", help="no progress bar")
    m.set_defaults(run=_mirror)

    h = sub.add_parser("hub", help="check and repair a hub")
    hsub = h.add_subparsers(dest="hub_command", required=True)
    hc = hsub.add_parser("check", help="verify every model; report orphans, stale staging and metadata that "
                         "disagrees with the index (exit code 2 when anything is wrong)")
    hr = hsub.add_parser("repair", help="rebuild a lost or unreadable index from the models that verify on disk, "
                         "remove stale staging, rewrite the metadata from the index")
    for command, run in ((hc, _hub_check), (hr, _hub_repair)):
        command.add_argument("hub_address", metavar="HUB", help="folder, file:// or hf://<org>/<registry>[@rev]")
        command.add_argument("--quiet", action="store_true", help="no progress bar")
        command.set_defaults(run=run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command, reporting any error as one line on stderr.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0, 2 for a user error, 130 after Ctrl-C, 1 for a bug.

    Examples
    --------
    >>> main(["search", "--limit", "0"])   # doctest: +SKIP
    2
    """
    debug = False
    try:
        args = parser().parse_args(argv)
        debug = args.debug
        with _warnings_as_lines():
            args.run(args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130, debug)
    except (MDLError, OSError) as exc:  # OSError: a file or folder that cannot be read or written
        return _fail(_message(exc), 2, debug)
    except Exception as exc:  # noqa: BLE001  (a bug: say so in one line, the traceback with --debug)
        return _fail(f"internal error, a bug in mdl ({type(exc).__name__}: {_message(exc)}); run again with "
                     "`mdl --debug ...` to see the traceback, and please report it", 1, debug)
    return 0


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc) or type(exc).__name__


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(_lines(f"mdl: error: {message}"), file=sys.stderr)
    return code


def _lines(text: str) -> str:
    """Continuation lines of a message (one per cause) indented under its first line."""
    return text.strip().replace("\n", "\n  ")


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Warnings printed as ``mdl: warning: ...`` (no file name and source line)."""
    def show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print(_lines(f"mdl: warning: {message}"), file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


if __name__ == "__main__":
    sys.exit(main())
