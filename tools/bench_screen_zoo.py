"""Benchmark: one ``mdl.screen`` call over a built zoo's pools, stage by stage, with its pick and peak memory.

Cases (each in its own fresh process, so that its peak RSS is its own):

* ``molecule``: the zoo's molecular pool on 100 molecules of a held-out target (``chemicals:boiling_point``;
  sources trained on that property or data set are left out, as in ``tools/bench_transfer.py``);
* ``inorganic``: the inorganic pool (graph networks and foundation sources included) on 80 crystal
  structures of ``optimal_ptft_gv:shear_modulus``;
* ``replicated``: the molecular pool replicated under new ids up to ``--replicate`` sources (a zoo ten times
  the reference one), same 100 molecules.

Each row: sources, rows, the screen's own stage timings (``board.info["timings"]``: hub loading, descriptors,
first stage with transfer features, second stage with heads and baselines, refit of the pick), wall time of
the call, peak RSS of the process, the row handed back and its CV MAE.

    .venv/bin/python tools/bench_screen_zoo.py --hub /work/refzoo                  # molecule and inorganic
    .venv/bin/python tools/bench_screen_zoo.py --hub /work/refzoo --cases replicated --replicate 10000
    .venv/bin/python tools/bench_screen_zoo.py --hub /work/refzoo --engine ray     # screening on local Ray
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

#: case -> (target, rows)
CASES = {"molecule": ("chemicals:boiling_point", 100), "inorganic": ("optimal_ptft_gv:shear_modulus", 80),
         "replicated": ("chemicals:boiling_point", 100)}
STAGES = ("load", "descriptors", "features_and_stage1", "heads_and_baselines", "nested", "fit_best")


def run_case(case: str, hub: str, replicate: int, engine: str, nested: bool, seed: int) -> dict:
    """One screen, timed; in this process."""
    import mdl
    from mdl import datasets
    from mdl.hub import open_hub
    from bench_transfer import Target, pool_ids

    target = Target.parse(CASES[case][0])
    data = datasets.load(target.loader)
    info = data.properties[data.property_name(target.property)]
    X_all, y_all = data.xy(target.property)
    ids = pool_ids(open_hub(hub).index(), target, data.material, [info.name, *info.aliases])
    sources = mdl.pull(ids, hub=hub)
    if case == "replicated":
        base = list(sources)
        sources = [replace(s, model_id=f"{s.model_id}-r{k}") for k in range(-(-replicate // len(base)))
                   for s in base][:replicate]
    pick = np.sort(np.random.default_rng(seed).choice(len(y_all), size=CASES[case][1], replace=False))
    X, y = [X_all[i] for i in pick], y_all[pick]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tick = time.perf_counter()
        board = mdl.screen(X, y, sources=sources, hub=hub, progress=False, nested=nested, random_state=seed,
                           **({"engine": engine} if engine != "local" else {}))
        wall = time.perf_counter() - tick
    selected = board.info["selected"]["candidate"]
    row = board.loc[board["candidate"] == selected].iloc[0]
    return {"case": case, "target": str(target), "sources": len(sources), "rows": len(y), "engine": engine,
            **{k: round(board.info["timings"].get(k, 0.0), 2) for k in STAGES}, "wall_s": round(wall, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "pick": selected, "pick_mae": round(float(row["mae"]), 4),
            "best_transfer": board.loc[board["kind"] == "transfer", "candidate"].iloc[0]
            if (board["kind"] == "transfer").any() else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", required=True, help="a built zoo (mdl zoo build --reference)")
    parser.add_argument("--cases", default="molecule,inorganic", help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--replicate", type=int, default=10_000, help="sources of the replicated case")
    parser.add_argument("--engine", default="local", choices=("local", "ray"))
    parser.add_argument("--nested", action="store_true", help="nested=True (outer folds too)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="append the rows to this JSON-lines file")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # one case, in a child process
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.hub, args.replicate, args.engine, args.nested, args.seed)))
        return
    rows = []
    for case in args.cases.split(","):
        if case not in CASES:
            raise SystemExit(f"unknown case {case!r}; use {', '.join(CASES)}")
        cmd = [sys.executable, __file__, "--hub", args.hub, "--case", case, "--replicate", str(args.replicate),
               "--engine", args.engine, "--seed", str(args.seed), *(["--nested"] if args.nested else [])]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{case} failed:\n{done.stderr[-3000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{case}: {rows[-1]['wall_s']} s", flush=True)
    table = pd.DataFrame(rows)
    if args.out:
        with args.out.open("a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
