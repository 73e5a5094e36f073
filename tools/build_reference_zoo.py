"""Build the reference zoo from every recipe in registry/ (molecules, polymers, crystals) and print
its table of model sets: property, material, families and counts, median and best test R².

    python tools/build_reference_zoo.py                  # into $MDL_HUB (~/.cache/mdl/hub)
    python tools/build_reference_zoo.py --hub /data/zoo --engine ray --address auto
    python tools/build_reference_zoo.py --scale 0.1      # a tenth of every family's count (a trial)
    python tools/build_reference_zoo.py --summary-only   # only the table of what the hub holds

The build is resumable: run it again after an interruption and it continues.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import resource
import time
from pathlib import Path

import pandas as pd

import mdl
from mdl.zoo import build, load_recipes

REGISTRY = Path(__file__).resolve().parent.parent / "registry"
FOLDERS = ("molecules", "polymers", "crystals")


def summary(hub: str | None) -> pd.DataFrame:
    index = mdl.search(hub=hub)
    index = index[index["source_model"].fillna("") == ""]
    rows = []
    for modelset, group in index.groupby("modelset", sort=True):
        counts = group["family"].value_counts()
        rows.append({"model set": modelset, "property": group["property"].iloc[0][:40],
                     "material": group["material"].iloc[0],
                     "families": " ".join(f"{f}:{counts[f]}" for f in ("nn", "rf", "gb", "en") if f in counts),
                     "models": len(group), "median R2": group["r2"].median(), "best R2": group["r2"].max()})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", default=None)
    parser.add_argument("--engine", default="local", choices=["local", "ray"])
    parser.add_argument("--address", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="local processes (one per core)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every family's count (at least 1)")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    if not args.summary_only:
        recipes = load_recipes([REGISTRY / folder for folder in FOLDERS])
        if args.scale != 1.0:
            recipes = [dataclasses.replace(r, families=tuple(
                dataclasses.replace(f, count=max(1, math.ceil(f.count * args.scale))) for f in r.families))
                for r in recipes]
        report = build(recipes, hub=args.hub, engine=args.engine, address=args.address, device=args.device,
                       workers=args.workers)
        print(f"built {len(report.built)}, already there {len(report.skipped)}, failed {len(report.failed)} "
              f"in {time.perf_counter() - start:.0f} s; peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        for model_id, error in sorted(report.failed.items()):
            print(f"  failed {model_id}: {error}")
    table = summary(args.hub)
    pd.set_option("display.width", 160)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"{int(table['models'].sum())} models in {len(table)} model sets, "
          f"{table['material'].nunique()} material classes")


if __name__ == "__main__":
    main()
