"""Benchmark: zoo networks per minute, trained one by one (naive loop) vs stacked (as `mdl zoo build`).

Both methods train the same sampler-drawn pyramid networks on the same data with the same epochs,
split, column selection and seeds; each runs in its own fresh process so its peak RSS is its own.

    .venv/bin/python tools/bench_zoo.py                      # 3,000 QM9 molecules, 32 networks, CPU
    .venv/bin/python tools/bench_zoo.py --device cuda        # the stacked trainer on the GPU
    .venv/bin/python tools/bench_zoo.py --synthetic          # no dataset needed (development only)

    .venv/bin/python tools/bench_zoo.py --featurise all      # preparing every recipe of a tier: alone vs shared

Rows: the naive loop, the stacked trainer in one process, and what ``mdl zoo build`` runs (network
chunks of similar widths and even work over ``--workers`` processes of one torch thread each).
Columns: method, models, seconds (training, data loading excluded), models/minute, speed-up over the naive loop, GFLOP/s (the
unpadded floating-point work of training per second; a line below compares it with the rate of a
dense batched product on this machine, the ceiling of any method), peak RSS of the process
(of the parent only for the build row: add about as much per worker), and its growth over the loaded
data, median test MAE.
The last line compares the two methods model by model (median relative MAE difference).

With ``--featurise TIER``: the seconds of preparing every recipe of the reference tier (descriptor rows
and the card's data hash, data sets loaded beforehand), each recipe alone as before and with the build's
shared feature cache (``mdl.zoo.builder.FeatureCache``), each in a fresh process, with the rows computed
and the peak RSS; the shared matrices are checked equal to the ones made alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def load_data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, object, str]:
    if args.data:  # saved by --save-data (for a machine without the datasets or RDKit)
        from mdl.descriptors import DescriptorSpec

        saved = np.load(args.data, allow_pickle=False)
        spec = DescriptorSpec.from_dict(json.loads(str(saved["spec"])))
        return saved["D"].astype(float), saved["y"], spec, str(saved["what"])
    if args.synthetic:
        what = f"synthetic count fingerprints ({args.rows} x {args.n_bits})"
        return (*synthetic(args.rows, args.n_bits, seed=0), what)
    from mdl import datasets
    from mdl.descriptors import get_descriptor

    inputs, y = datasets.load("qm9").xy(args.property, limit=args.rows)
    descriptor = get_descriptor("morgan", radius=2, n_bits=args.n_bits, counts=True)
    D = descriptor.transform(inputs)
    what = f"QM9 {args.property}, {len(D)} molecules, Morgan r=2 {args.n_bits} counts"
    return D, np.asarray(y, dtype=float), descriptor.spec, what


def synthetic(n: int, n_bits: int, seed: int) -> tuple[np.ndarray, np.ndarray, object]:
    """Sparse count fingerprints with a few frequent and many rare bits, and a noisy linear target."""
    from mdl.descriptors import DescriptorSpec

    rng = np.random.default_rng(seed)
    freq = np.clip(0.6 / np.arange(1, n_bits + 1) ** 0.9, 1e-4, 0.5)
    D = (rng.random((n, n_bits)) < freq) * rng.integers(1, 4, size=(n, n_bits))
    y = D[:, :40] @ rng.normal(size=40) + 0.3 * rng.normal(size=n)
    names = tuple(f"bit{i}" for i in range(n_bits))
    spec = DescriptorSpec("synthetic", {}, "molecule", "0", {}, n_bits, names)
    return D.astype(float), y, spec


@dataclass(frozen=True)
class Plan:  # the fields of mdl.zoo.builder.ModelPlan that training reads
    model_id: str
    seed: int
    hyperparameters: dict


def plans(args: argparse.Namespace, n_features: int) -> list[Plan]:
    """Sampler-drawn pyramids, seeded per model as a build seeds them."""
    from mdl.zoo.samplers import sample

    out = []
    for i in range(args.models):
        seed = int.from_bytes(hashlib.sha256(repr(("bench-zoo", args.seed, "nn", i)).encode()).digest()[:4], "little")
        hp = sample("nn", args.setup, np.random.default_rng(seed), n_features)
        out.append(Plan(f"bench-nn-{i:04d}", seed, {**hp, "epochs": args.epochs, "patience": args.patience}))
    return out


def child(args: argparse.Namespace) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from mdl.models.nn import NeuralNetRegressor
    from mdl.models.packed_training import NetSpec, train_networks
    from mdl.zoo.network_sources import train_network_sources
    from mdl.models.train import train_source

    D, y, spec, what = load_data(args)
    if args.save_data:
        np.savez_compressed(args.save_data, D=D.astype(np.float32), y=y, what=what, spec=json.dumps(spec.to_dict()))
    jobs = plans(args, min(args.max_columns or D.shape[1], D.shape[1]))
    # warm-up (library initialisation), the same for both methods
    Xw, yw = D[:200, :64], y[:200]
    NeuralNetRegressor(hidden=[16, 8], epochs=2).fit(Xw, yw)
    train_networks(Xw, yw, [NetSpec(hidden=(16, 8), columns=np.arange(64), rows=np.arange(200), epochs=2)],
                   device=args.device)
    base = peak_rss_mb()
    options = dict(test_size=0.2, max_zero_fraction=args.max_zero_fraction, max_columns=args.max_columns)
    start = time.perf_counter()
    if args.method == "naive":
        models = [train_source(D, y, spec, family="nn", hyperparameters=p.hyperparameters, model_id=p.model_id,
                               seed=p.seed, **options) for p in jobs]
    elif args.method == "build":  # what `mdl zoo build` runs: chunks of networks over worker processes
        from mdl.zoo.builder import ModelPlan, run_processes, worker_pool

        done: dict = {}
        tasks = [ModelPlan(p.model_id, "nn", p.seed, p.hyperparameters) for p in jobs]
        with worker_pool(args.workers) as pool:
            run_processes(D, y, spec, tasks, {**options, "info": {}}, args.device,
                           lambda plan, m: done.__setitem__(plan.model_id, m), pool)
        models = [done[p.model_id] for p in jobs]
        failed = [m for m in models if isinstance(m, Exception)]
        if failed:
            raise failed[0]
    else:
        models = train_network_sources(D, y, spec, jobs, device=args.device, **options)
        failed = [m for m in models if isinstance(m, Exception)]
        if failed:
            raise failed[0]
    seconds = time.perf_counter() - start
    n_fit = len(D) - int(np.ceil(options["test_size"] * len(D)))
    result = {"method": args.method, "gflop": useful_gflop(models, n_fit), "gemm_gflops": gemm_rate(), "what": what,
              "seconds": seconds, "models": len(models),
              "peak_rss_mb": peak_rss_mb(), "base_rss_mb": base, "threads": torch.get_num_threads(),
              "device": args.device if args.method != "naive" else "cpu", "workers": args.workers,
              "mae": {m.model_id: m.info["metrics"]["mae"] for m in models},
              "epochs_run": {m.model_id: m.info["training"]["epochs_run"] for m in models},
              "hidden": {m.model_id: list(m.estimator.hidden) for m in models}}
    Path(args.json).write_text(json.dumps(result))


def featurise_child(tier: str, shared: bool, out: str) -> None:
    """Prepare every recipe of ``tier`` (data sets loaded first) alone or through one FeatureCache; write the
    seconds, rows computed, peak RSS and a digest of every matrix to ``out``."""
    from mdl import datasets
    from mdl.models.graph_batch import GraphSet
    from mdl.zoo.builder import FeatureCache, prepare
    from mdl.zoo.recipes import load_recipes
    from mdl.zoo.reference import reference_folders

    recipes = load_recipes(reference_folders(tier))
    for r in recipes:
        datasets.load(r.loader, **r.loader_args)
    base = peak_rss_mb()
    cache = FeatureCache(recipes) if shared else None
    digests, seconds = {}, 0.0
    for r in recipes:
        start = time.perf_counter()
        D, y, spec, info = prepare(r, cache)
        seconds += time.perf_counter() - start
        if cache is not None:
            cache.release(r)
        h = hashlib.sha256(info["dataset_hash"].encode())
        arrays = [D.numbers, D.edges, D.distances, D.atom_ptr, D.edge_ptr] if isinstance(D, GraphSet) else [D]
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        digests[r.modelset] = h.hexdigest()
        del D
    rows = cache.rows_computed if cache is not None else None
    Path(out).write_text(json.dumps({"seconds": seconds, "recipes": len(recipes), "rows": rows,
                                     "peak_rss_mb": peak_rss_mb(), "base_rss_mb": base, "digests": digests}))


def featurise_bench(tier: str) -> None:
    """Print the featurisation table of ``--featurise``: alone vs shared, each in a fresh process."""
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("alone", "shared"):
            out = Path(tmp) / f"{mode}.json"
            subprocess.run([sys.executable, __file__, "--featurise", tier, "--featurise-mode", mode, "--json", str(out)],
                           check=True)
            runs[mode] = json.loads(out.read_text())
    print(f"\npreparing the {runs['alone']['recipes']} recipes of tier {tier!r} (data sets loaded beforehand)")
    header = f"{'featurisation':<16}{'seconds':>10}{'rows computed':>15}{'peak RSS MB':>13}{'(+ over data)':>15}"
    print(header)
    print("-" * len(header))
    for mode, r in runs.items():
        rows = "-" if r["rows"] is None else str(r["rows"])
        print(f"{mode:<16}{r['seconds']:>10.1f}{rows:>15}{r['peak_rss_mb']:>13.0f}"
              f"{r['peak_rss_mb'] - r['base_rss_mb']:>15.0f}")
    same = sum(runs["alone"]["digests"][k] == v for k, v in runs["shared"]["digests"].items())
    print(f"speed-up {runs['alone']['seconds'] / runs['shared']['seconds']:.1f}x; matrices and data hashes equal "
          f"to those made alone: {same} of {len(runs['alone']['digests'])} recipes")


def useful_gflop(models: list, n_fit: int) -> float:
    """Floating-point work the models' training needed, unpadded: per epoch, forward and backward of
    every training row and a forward of every validation row (no input gradient at the first layer)."""
    from mdl.models.packed_schedule import step_macs

    total = 0.0
    for m in models:
        net = m.estimator
        widths = [net.n_features_in_, *net.hidden, net.n_outputs_]
        n_val = int(round(net.validation_fraction * n_fit))
        forward = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
        total += m.info["training"]["epochs_run"] * ((n_fit - n_val) * step_macs(widths) + n_val * forward)
    return 2 * total / 1e9


def gemm_rate() -> float:
    """GFLOP/s of a dense batched product shaped as a stack's largest ones (16 models, batch 128,
    280 x 250): about the most any way of training these networks on this machine can sustain."""
    import torch

    a, b = torch.randn(16, 128, 280), torch.randn(16, 280, 250)
    torch.bmm(a, b)
    start = time.perf_counter()
    for _ in range(50):
        torch.bmm(a, b)
    return 50 * 2 * 16 * 128 * 280 * 250 / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=32, help="networks to train (default 32)")
    parser.add_argument("--rows", type=int, default=3000, help="molecules (default 3000)")
    parser.add_argument("--property", default="homo")
    parser.add_argument("--n-bits", type=int, default=2048)
    parser.add_argument("--setup", default="nn1", help="pyramid sampler setup (nn1, nn2, nn3)")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--max-columns", type=int, default=512)
    parser.add_argument("--max-zero-fraction", type=float, default=0.99)
    parser.add_argument("--device", default="cpu", help="device of the stacked trainer (cpu, cuda)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads for both methods (0: torch default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic", action="store_true", help="synthetic data instead of QM9 (development)")
    parser.add_argument("--skip-naive", action="store_true", help="only time the stacked trainer")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="processes of the `mdl zoo build` row (one torch thread each; default: one per CPU)")
    parser.add_argument("--data", help="read D, y and the descriptor spec from this .npz (see --save-data)")
    parser.add_argument("--save-data", help="also write the loaded D, y and spec to this .npz")
    parser.add_argument("--featurise", metavar="TIER", choices=["base", "heavy", "all"],
                        help="time preparing every recipe of a reference tier, alone vs shared (no training)")
    parser.add_argument("--featurise-mode", choices=["alone", "shared"], help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=["naive", "stacked", "build"], help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.featurise:
        if args.featurise_mode:
            featurise_child(args.featurise, args.featurise_mode == "shared", args.json)
        else:
            featurise_bench(args.featurise)
        return
    if args.method:
        child(args)
        return

    runs = {}
    methods = ["stacked", "build"] if args.skip_naive else ["naive", "stacked", "build"]
    with tempfile.TemporaryDirectory() as tmp:
        for method in methods:
            out = Path(tmp) / f"{method}.json"
            argv = [a for a in sys.argv[1:]]
            subprocess.run([sys.executable, __file__, *argv, "--method", method, "--json", str(out)], check=True)
            runs[method] = json.loads(out.read_text())
    first = next(iter(runs.values()))
    print(f"\ndata: {first['what']}; {args.models} networks ({args.setup}), epochs {args.epochs}, patience "
          f"{args.patience}, max_columns {args.max_columns}; torch threads {first['threads']}, "
          f"{len(os.sched_getaffinity(0))} CPUs")
    header = (f"{'method':<24}{'models':>7}{'seconds':>10}{'models/min':>12}{'speed-up':>10}{'GFLOP/s':>9}"
              f"{'peak RSS MB':>13}{'(+ over data)':>15}{'median MAE':>12}")
    print(header)
    print("-" * len(header))
    naive_s = runs.get("naive", {}).get("seconds")
    for method, r in runs.items():
        label = {"naive": "naive loop (fit)", "stacked": f"stacked ({r['device']})",
                 "build": f"zoo build ({r['workers']} procs)"}[method]
        speed = f"{naive_s / r['seconds']:.1f}x" if naive_s else "-"
        print(f"{label:<24}{r['models']:>7}{r['seconds']:>10.1f}{60 * r['models'] / r['seconds']:>12.1f}{speed:>10}"
              f"{r['gflop'] / r['seconds']:>9.1f}{r['peak_rss_mb']:>13.0f}{r['peak_rss_mb'] - r['base_rss_mb']:>15.0f}"
              f"{np.median(list(r['mae'].values())):>12.4f}")
    gemm = max(r["gemm_gflops"] for r in runs.values())
    print(f"GFLOP/s: the unpadded work of training divided by the time. A dense batched product of "
          f"the stacks' largest shape runs at {gemm:.0f} GFLOP/s here: at most "
          f"{gemm * first['seconds'] / first['gflop']:.1f}x the first row for any method that does this work.")
    if "naive" in runs:
        a, b = runs["naive"]["mae"], runs["stacked"]["mae"]
        rel = np.array([abs(b[k] - a[k]) / abs(a[k]) for k in a])
        same_epochs = np.mean([runs["naive"]["epochs_run"][k] == runs["stacked"]["epochs_run"][k] for k in a])
        print(f"test MAE, stacked vs naive, per model: median relative difference {np.median(rel):.2e}, "
              f"max {rel.max():.2e}; same number of epochs run: {100 * same_epochs:.0f}% of models")


if __name__ == "__main__":
    main()
