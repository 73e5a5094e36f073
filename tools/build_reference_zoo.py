"""Build the reference zoo from the recipes in registry/ and print its table of model sets: tier,
property, material, families and counts, rows trained on, median and best test R².

Two tiers: ``base`` (registry/molecules, polymers, crystals: the shotgun families, at most 2,000 rows
per model) and ``heavy`` (registry/heavy: fixed-width networks on every row of a data set, multi-property
generalists per material class and single-property networks). Where the hub holds heavy models, a
second table sets each property's base-tier R² (median, best) beside the heavy tier's best
single-property and best generalist network (its test R² on that property). The base tier also imports
the foundation source (CHGNet from the chgnet wheel, :mod:`mdl.zoo.foundation`) when chgnet is
installed (``mdl[crystals]``), and says so when it is not.

    python tools/build_reference_zoo.py                  # the base tier into $MDL_HUB (~/.cache/mdl/hub)
    python tools/build_reference_zoo.py --tier heavy --hub /data/zoo   # the heavy tier (or --tier all)
    python tools/build_reference_zoo.py --hub /data/zoo --engine ray --address auto
    python tools/build_reference_zoo.py --scale 0.1      # a tenth of every family's count (a trial)
    python tools/build_reference_zoo.py --summary-only   # only the table of what the hub holds

The build is resumable: run it again after an interruption and it continues.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import time
from pathlib import Path

import pandas as pd

import mdl
from mdl.zoo import build, load_recipes

REGISTRY = Path(__file__).resolve().parent.parent / "registry"
#: The recipe folders of each tier.
TIERS = {"base": ("molecules", "polymers", "crystals"), "heavy": ("heavy",)}


def tier_folders(tier: str) -> list[Path]:
    """The recipe folders of ``tier`` (``base``, ``heavy`` or ``all``).

    >>> [p.name for p in tier_folders("all")]
    ['molecules', 'polymers', 'crystals', 'heavy']
    """
    names = [f for t in TIERS for f in TIERS[t]] if tier == "all" else TIERS[tier]
    return [REGISTRY / folder for folder in names]


def heavy_modelsets() -> set[str]:
    """The model set names the heavy tier's recipes yield (read from registry/heavy, no data loaded)."""
    return {r.modelset for r in load_recipes(tier_folders("heavy"))}


def _published(hub: str | None) -> pd.DataFrame:
    index = mdl.search(hub=hub)
    return index[index["source_model"].fillna("") == ""]


def summary(hub: str | None) -> pd.DataFrame:
    """One row per model set of the hub: tier, property, material, families, models, median rows
    trained on, median and best test R² (a generalist's is the mean over its properties)."""
    index, heavy = _published(hub), heavy_modelsets()
    rows = []
    for modelset, group in index.groupby("modelset", sort=True):
        counts = group["family"].value_counts()
        rows.append({"tier": "heavy" if modelset in heavy else "base", "model set": modelset,
                     "property": group["property"].iloc[0][:40], "material": group["material"].iloc[0],
                     "families": " ".join(f"{f}:{counts[f]}" for f in ("nn", "rf", "gb", "en") if f in counts),
                     "models": len(group), "rows": int(group["n_train"].median()),
                     "median R2": group["r2"].median(), "best R2": group["r2"].max()})
    return pd.DataFrame(rows)


def per_property(index: pd.DataFrame, heavy: set[str]) -> pd.DataFrame:
    """Each (data set, property) the heavy tier covers: the base tier's median and best test R² of its
    single-property models, the heavy tier's best single-property network and best generalist (its own
    test R² on that property, from ``property_metrics``).

    >>> index = pd.DataFrame({"modelset": ["qm9-gap", "qm9-gap", "heavy-qm9-gap", "heavy-qm9-multi"],
    ...     "dataset": ["qm9"] * 4, "property": ["gap", "gap", "gap", "gap; homo"], "r2": [0.5, 0.7, 0.9, 0.85],
    ...     "property_metrics": ["", "", "", json.dumps({"gap": {"r2": 0.8}, "homo": {"r2": 0.9}})]})
    >>> per_property(index, {"heavy-qm9-gap", "heavy-qm9-multi"}).to_dict("records")[0]
    {'data set': 'qm9', 'property': 'gap', 'base median R2': 0.6, 'base best R2': 0.7, 'heavy single R2': 0.9, 'heavy multi R2': 0.8}
    """
    scores: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in index.itertuples(index=False):
        tier = "heavy" if row.modelset in heavy else "base"
        if "; " in row.property:  # a generalist: one test R² per property
            for name, metrics in json.loads(row.property_metrics or "{}").items():
                scores.setdefault((row.dataset, name), {}).setdefault(f"{tier} multi", []).append(metrics.get("r2"))
        else:
            scores.setdefault((row.dataset, row.property), {}).setdefault(f"{tier} single", []).append(row.r2)
    rows = []
    for (dataset, prop), found in sorted(scores.items()):
        if "heavy single" not in found and "heavy multi" not in found:
            continue
        base = pd.Series(found.get("base single", []), dtype="float64")
        best = {kind: pd.Series(found.get(f"heavy {kind}", []), dtype="float64").max() for kind in ("single", "multi")}
        rows.append({"data set": dataset, "property": prop, "base median R2": base.median(),
                     "base best R2": base.max(), "heavy single R2": best["single"], "heavy multi R2": best["multi"]})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", default=None)
    parser.add_argument("--engine", default="local", choices=["local", "ray"])
    parser.add_argument("--address", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=None,
                        help="local processes of one thread each (default: one per core for the base tier; 1 for "
                             "--tier heavy, whose few wide networks per recipe train faster on all cores' threads)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every family's count (at least 1)")
    parser.add_argument("--tier", default="base", choices=["base", "heavy", "all"],
                        help="which recipes: base (molecules, polymers, crystals), heavy (registry/heavy) or all")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    if not args.summary_only:
        recipes = load_recipes(tier_folders(args.tier))
        if args.scale != 1.0:
            recipes = [dataclasses.replace(r, families=tuple(
                dataclasses.replace(f, count=max(1, math.ceil(f.count * args.scale))) for f in r.families))
                for r in recipes]
        workers = args.workers or (1 if args.tier == "heavy" else os.cpu_count() or 1)
        report = build(recipes, hub=args.hub, engine=args.engine, address=args.address, device=args.device,
                       workers=workers)
        print(f"built {len(report.built)}, already there {len(report.skipped)}, failed {len(report.failed)} "
              f"in {time.perf_counter() - start:.0f} s; peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        for model_id, error in sorted(report.failed.items()):
            print(f"  failed {model_id}: {error}")
        if args.tier in ("base", "all"):
            _import_foundation(args.hub)
    table = summary(args.hub)
    pd.set_option("display.width", 160)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"{int(table['models'].sum())} models in {len(table)} model sets, "
          f"{table['material'].nunique()} material classes")
    if table["tier"].eq("heavy").any():
        print("\nper property: base tier (median, best test R2) beside the heavy tier's best networks")
        print(per_property(_published(args.hub), heavy_modelsets()).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def _import_foundation(hub: str | None) -> None:
    """The foundation source into ``hub`` (a no-op when it is there), or a line saying why not."""
    try:
        from mdl.zoo.foundation import MODELSET, publish_chgnet

        tick = time.perf_counter()
        ids = publish_chgnet(hub)
    except ImportError as exc:
        print(f"foundation source not imported: {exc}")
        return
    print(f"{MODELSET}: {', '.join(ids)} in {time.perf_counter() - tick:.1f} s")


if __name__ == "__main__":
    main()
