"""What each subcommand does: one function per subcommand, each a thin layer over the library, taking the
parsed arguments (:func:`mdl.cli.parser.parser`) and printing its result.

>>> _plain(float("nan")) is None
True
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mdl.cli.output import note
from mdl.errors import InvalidInputError, MDLError


def _search(args: argparse.Namespace) -> None:
    from mdl.api import search
    from mdl.hub.summary import search_summary

    hits = search(property=args.property, material=args.material, descriptor=args.descriptor,
                  model_type=args.model_type, min_r2=args.min_r2, sort_by=args.sort_by, limit=args.limit,
                  hub=args.hub)
    if hits.empty:
        note(_no_match(args))
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
    """A model's card as lines of text: what it predicts from what, how well, its origin, files and use (the
    fields of the catalogue's model page, :func:`mdl.catalogue.data.model_page`)."""
    from mdl.catalogue.data import model_page

    page = model_page(row, meta, address)
    spec, files = page["descriptor"], page["files"]
    unit = f" ({row['unit']})" if isinstance(row["unit"], str) and row["unit"] else ""
    params = ", ".join(f"{k}={v}" for k, v in (spec.get("params") or {}).items())
    metrics = ", ".join(f"{m.upper() if m != 'r2' else 'R²'} {page['metrics'][m]:.4g}" for m in ("mae", "rmse", "r2")
                        if m in page["metrics"])
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
    lines += [f"    {name}  sha256 {digest}" for name, digest in files.items()]
    lines += ["  use it:", *(f"    {line}" for line in page["usage"])]
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
                   nested=args.nested, hub=args.hub, progress=not args.quiet, engine=args.engine,
                   address=args.address)
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
    from mdl.hub.maintenance import check_hub

    report = check_hub(_hub_address(args), progress=not args.quiet)
    print(report)
    if not report.ok:
        raise MDLError(f"hub {report.hub} has problems (see above); `mdl hub repair --hub {report.hub}` rebuilds "
                       "the index, removes stale staging and rewrites the metadata")


def _hub_repair(args: argparse.Namespace) -> None:
    from mdl.hub.maintenance import repair_hub

    print(repair_hub(_hub_address(args), progress=not args.quiet))


def _hub_catalogue(args: argparse.Namespace) -> None:
    from mdl.catalogue import write_catalogue

    print(write_catalogue(args.hub, args.out, progress=not args.quiet))


# -- the parser -----------------------------------------------------------------------------------
