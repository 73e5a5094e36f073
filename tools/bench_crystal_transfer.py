"""Benchmark: transfer to a small structure target that no source was trained on (issue 11).

Target: ``optimal_ptft_gv`` (JARVIS structures -> shear modulus G_VRH, matbench_log_gvrh data, min-max
scaled to [-1, 1]); no zoo source is trained on it (its own model set ``optimal-ptft-gv`` is excluded).
For each ``n`` in ``--sizes`` and each seed in ``--seeds``, one seeded draw of ``n`` structures
(``load_structures(..., limit=n + extra, seed)`` then the first ``n`` rows CHGNet can read; rows it cannot
read, such as isolated atoms, are dropped up front and counted). An outer ``KFold(5, shuffle, seed)`` is
done here, outside :func:`mdl.screen`; every row is fitted on the training folds only and scored on the
held-out fold (test MAE averaged over the outer folds).

Rows:

* ``screen: mixed`` -- ``board.best`` of :func:`mdl.screen` over every source (graph networks, CHGNet,
  composition sources), ``top_k=5``, inner ``cv=5``;
* ``screen: composition only`` -- the same over the composition sources only;
* ``screen: gnn only`` -- the same over the perov5 graph networks only;
* ``chgnet embedding + rf`` -- :func:`mdl.transfer` of the foundation source (CHGNet), ``head="rf"``;
* ``scratch rf/gb (composition)`` and ``scratch rf/gb (structure_composition)`` -- scratch learners of
  :func:`mdl.transfer_learning.scratch.make_scratch` on those descriptors.

The ``ratio`` column is each row's MAE over the best scratch row's MAE at that ``n`` (below 1: better
than scratch). ``s/fold`` is the mean wall time of one outer fold (fit + predict).

Sources come from two hubs: ``--hub`` (graph networks built from ``registry/crystals/cdvae-perov5-gnn.toml``
and the CHGNet source from ``tools/import_foundation.py``) and ``--refzoo`` (composition sets
``cdvae-perov5-*`` and ``optimal-ptft-{bg,fe,ebg,ph}``, opened read-only)::

    python -m mdl.cli zoo build --hub /work/crysthub --workers 2 registry/crystals/cdvae-perov5-gnn.toml
    python tools/import_foundation.py --hub /work/crysthub
    python tools/bench_crystal_transfer.py --hub /work/crysthub --refzoo /work/refzoo --out /tmp/transfer.csv

The CSV gets every finished ``(seed, n)`` as soon as it is done, so a cut-off run keeps what finished.
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

import mdl
from mdl.datasets.crystals import load_structures
from mdl.descriptors import get_descriptor
from mdl.hub import open_hub
from mdl.transfer_learning.scratch import make_scratch

print = functools.partial(print, flush=True)  # progress shows up when piped

TARGET = "optimal_ptft_gv"
PROPERTY = "shear_modulus"
COMPOSITION_SETS = ("cdvae-perov5-heat-of-formation", "cdvae-perov5-direct-band-gap", "optimal-ptft-bg",
                    "optimal-ptft-fe", "optimal-ptft-ebg", "optimal-ptft-ph")


def load_sources(hub_address: str, refzoo: str, composition_sets: tuple[str, ...]) -> dict[str, list]:
    """SourceModels by group: ``gnn`` and ``chgnet`` from ``hub_address``, ``composition`` from ``refzoo``."""
    hub = open_hub(hub_address)
    index = hub.index()
    gnn_ids = index.loc[index["family"] == "gnn", "model_id"].tolist()
    chgnet_ids = index.loc[index["modelset"].str.startswith("foundation"), "model_id"].tolist()
    ref = open_hub(refzoo)
    rindex = ref.index()
    comp_ids = rindex.loc[rindex["modelset"].isin(composition_sets), "model_id"].tolist()
    return {"gnn": hub.load_many(gnn_ids), "chgnet": hub.load_many(chgnet_ids),
            "composition": ref.load_many(comp_ids)}


def draw(n: int, seed: int, chgnet) -> tuple[list, np.ndarray, int]:
    """``n`` structures and targets of one seeded draw, with the rows CHGNet cannot read dropped."""
    extra = max(10, n // 5)
    ds = load_structures(TARGET, limit=n + extra, seed=seed)
    X, y = ds.xy(PROPERTY)
    X, y = list(X), np.asarray(y, dtype=float)
    bad: list[int] = []
    if chgnet is not None:
        bad = chgnet.estimator.unreadable(X)  # CHGNet graphs of every row: the rows it cannot read
        keep = [i for i in range(len(X)) if i not in set(bad)]
        first_n = keep[:n]
        dropped = sum(1 for i in bad if first_n and i < first_n[-1])  # skipped on the way to n rows
        X, y = [X[i] for i in first_n], y[first_n]
    else:
        dropped = 0
        X, y = X[:n], y[:n]
    if len(X) < n:
        raise SystemExit(f"only {len(X)} readable rows of {n + extra} drawn")
    return X, y, dropped


def mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(y, dtype=float) - np.asarray(p, dtype=float).ravel())))


def run_size(n: int, seed: int, sources: dict[str, list], scratch_descriptors: tuple[str, ...],
             folds: int, top_k: int, inner_cv: int, rows: set[str] | None) -> pd.DataFrame:
    """One ``(seed, n)``: every row's outer-fold MAE and time."""
    chgnet = sources["chgnet"][0] if sources["chgnet"] else None
    X, y, dropped = draw(n, seed, chgnet)
    print(f"\n## n = {n}, seed {seed}: {len(X)} structures ({dropped} dropped: CHGNet cannot read them)")
    descriptors = {name: np.asarray(get_descriptor(name).transform(X), dtype=float) for name in scratch_descriptors}

    def screen_row(group: list):
        def fit_predict(tr, te):
            board = mdl.screen([X[i] for i in tr], y[tr], sources=group, top_k=top_k, cv=inner_cv,
                               progress=False, random_state=seed)
            picked = board.info.get("selected", {}) if isinstance(board.info, dict) else {}
            picked = picked.get("candidate", "") if isinstance(picked, dict) else str(picked)
            return board.best.predict([X[i] for i in te]), str(picked)
        return fit_predict

    def chgnet_row(tr, te):
        model = mdl.transfer(chgnet, [X[i] for i in tr], y[tr], head="rf", cv=None, random_state=seed)
        return model.predict([X[i] for i in te]), chgnet.model_id if hasattr(chgnet, "model_id") else "chgnet"

    def scratch_row(kind: str, desc: str):
        def fit_predict(tr, te):
            m = make_scratch(kind, random_state=seed)
            D = descriptors[desc]
            m.fit(D[tr], y[tr])
            return m.predict(D[te]), ""
        return fit_predict

    everything = sources["gnn"] + sources["chgnet"] + sources["composition"]
    table: list[tuple[str, object]] = [
        ("screen: mixed", screen_row(everything)),
        ("screen: composition only", screen_row(sources["composition"])),
        ("screen: gnn only", screen_row(sources["gnn"])),
    ]
    if chgnet is not None:
        table.append(("chgnet embedding + rf", chgnet_row))
    for desc in scratch_descriptors:
        for kind in ("rf", "gb"):
            table.append((f"scratch {kind} ({desc})", scratch_row(kind, desc)))
    if rows:
        table = [(name, f) for name, f in table if any(r in name for r in rows)]

    outer = list(KFold(folds, shuffle=True, random_state=seed).split(np.arange(len(X))))
    out = []
    for name, fit_predict in table:
        errors, seconds, picks = [], [], []
        for tr, te in outer:
            start = time.perf_counter()
            try:
                pred, pick = fit_predict(tr, te)
            except Exception as exc:  # noqa: BLE001  (a failing row is reported, the others still run)
                print(f"  {name}: failed ({type(exc).__name__}: {str(exc)[:200]})")
                errors = []
                break
            seconds.append(time.perf_counter() - start)
            errors.append(mae(y[te], pred))
            picks.append(pick)
        if not errors:
            continue
        out.append({"seed": seed, "n": len(X), "dropped": dropped, "row": name, "mae": float(np.mean(errors)),
                    "mae_sd": float(np.std(errors)), "s_per_fold": float(np.mean(seconds)),
                    "picked": "; ".join(p for p in picks if p)})
        print(f"  {name:<40} MAE {out[-1]['mae']:.4f} ± {out[-1]['mae_sd']:.4f}   {out[-1]['s_per_fold']:.1f} s/fold")
    frame = pd.DataFrame(out)
    scratch = frame[frame["row"].str.startswith("scratch")]["mae"]
    frame["ratio"] = frame["mae"] / scratch.min() if len(scratch) else np.nan
    return frame


def markdown(frame: pd.DataFrame) -> str:
    """The averaged results (over seeds) as a markdown table, one block per ``n``."""
    g = frame.groupby(["n_target", "row"], sort=False).agg(mae=("mae", "mean"), sd=("mae_sd", "mean"),
                                                           ratio=("ratio", "mean"), s=("s_per_fold", "mean"),
                                                           seeds=("seed", "nunique")).reset_index()
    lines = ["| n | row | test MAE (outer 5-fold) | fold sd | ratio to best scratch | s/fold | seeds |",
             "|---|---|---|---|---|---|---|"]
    for _, r in g.iterrows():
        lines.append(f"| {r.n_target} | {r.row} | {r.mae:.4f} | {r.sd:.4f} | {r.ratio:.2f} | {r.s:.1f} | {r.seeds} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--hub", default="/work/crysthub", help="hub with the graph networks and the CHGNet source")
    p.add_argument("--refzoo", default="/work/refzoo", help="hub with the composition sources (read only)")
    p.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--folds", type=int, default=5, help="outer folds")
    p.add_argument("--inner-cv", type=int, default=5, help="mdl.screen's folds inside each training fold")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--descriptors", nargs="+", default=["composition", "structure_composition"],
                   help="descriptors of the scratch rows")
    p.add_argument("--rows", nargs="+", default=None, help="run only rows whose name contains one of these")
    p.add_argument("--out", type=Path, default=None, help="CSV of every row (written after each n)")
    args = p.parse_args(argv)

    start = time.perf_counter()
    sources = load_sources(args.hub, args.refzoo, COMPOSITION_SETS)
    print(f"sources: {len(sources['gnn'])} graph networks, {len(sources['chgnet'])} foundation, "
          f"{len(sources['composition'])} composition ({time.perf_counter() - start:.1f} s to load)")
    frames = []
    for seed in args.seeds:
        for n in args.sizes:
            frame = run_size(n, seed, sources, tuple(args.descriptors), args.folds, args.top_k, args.inner_cv,
                             set(args.rows) if args.rows else None)
            frame["n_target"] = n
            frames.append(frame)
            if args.out is not None:
                pd.concat(frames, ignore_index=True).to_csv(args.out, index=False)
    result = pd.concat(frames, ignore_index=True)
    print(f"\n# {TARGET} ({PROPERTY}, scaled to [-1, 1]); total {time.perf_counter() - start:.0f} s\n")
    print(markdown(result))
    if args.out is not None:
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
