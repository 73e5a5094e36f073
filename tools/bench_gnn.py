"""Measure the graph-network family on this machine and print a table.

    python tools/bench_gnn.py                 # 2,000 structures a set, 40 epochs (a few minutes on 2 cores)
    python tools/bench_gnn.py --n 600 --epochs 10 --skip-parallel

Rows:

* graph building (``crystal_graph``): structures per second, cutoff 8 Å / 16 neighbours (the recipes')
  and 6 Å / 12, on cdvae_perov5 and optimal_ptft_fe;
* forward pass: structures per second predicted from packed graphs (graph building excluded);
* training one network (width 64, 3 convolutions, cutoff 6 Å, 12 neighbours) on 80% of the perov5 rows:
  seconds, epochs run (early stopping, patience 8), milliseconds per graph and epoch;
* accuracy: test MAE and R² of that network trained from scratch on cdvae_perov5 (heat_of_formation)
  and optimal_ptft_fe (formation_energy) on a fixed split (20% test, seed 0), next to a random forest
  (200 trees) on the 290-column composition descriptor on the same split;
* several networks at once: two networks one after the other (1, then 2 torch threads) against two
  processes of one thread each (the zoo builder's ``workers=2``); every other row runs on one thread;
* neighbour aggregation: ``index_add_`` against torch_geometric's ``scatter`` (when importable) on a
  batch of perovskite edges, forward and backward, and the share of a training step spent aggregating
  (torch profiler) -- the most any scatter library could save.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from unittest.mock import patch

import numpy as np
import torch

NET = {"width": 64, "n_conv": 3, "head_width": 64, "n_gaussians": 40, "cutoff": 6.0, "max_neighbors": 12,
       "patience": 8, "batch_size": 64, "lr": 2e-3}


def _rows(table: list[tuple[str, str, str]]) -> str:
    width = max(len(r[0]) for r in table)
    return "\n".join(f"{a:<{width}}  {b:>14}  {c}" for a, b, c in table)


def _data(loader: str, prop: str, n: int):
    from mdl.datasets.crystals import load_structures

    return load_structures(loader, limit=n, seed=0).xy(prop)


def _fit(graphs, y, epochs: int, seed: int = 0):
    from mdl.models.gnn import GraphNetRegressor

    return GraphNetRegressor(**NET, epochs=epochs, random_state=seed).fit(graphs, y)


def _one_thread() -> None:
    torch.set_num_threads(1)


def _warm(_: int) -> None:
    """Start a worker: its imports and threads, so that the timing is training only."""
    import mdl.models.gnn  # noqa: F401

    time.sleep(1.0)


def _time_fit(graphs, y, epochs: int, seed: int) -> float:
    start = time.perf_counter()
    _fit(graphs, y, epochs, seed)
    return time.perf_counter() - start


def graph_rows(data: dict) -> list[tuple[str, str, str]]:
    from mdl.descriptors import get_descriptor

    rows = []
    for name, (structures, _) in data.items():
        for cutoff, k in ((8.0, 16), (6.0, 12)):
            d = get_descriptor("crystal_graph", cutoff=cutoff, max_neighbors=k)
            start = time.perf_counter()
            graphs = d.inputs(structures)
            rate = len(structures) / (time.perf_counter() - start)
            edges = np.mean([len(g.distances) for g in graphs])
            rows.append((f"graph building, {name} ({cutoff:g} Å, {k} nb)", f"{rate:,.0f} /s",
                         f"{len(structures)} structures, {edges:.0f} edges each"))
    return rows


def accuracy_rows(data: dict, graphs: dict, epochs: int) -> list[tuple[str, str, str]]:
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import train_test_split

    from mdl.descriptors import get_descriptor
    from mdl.models.graph_batch import GraphSet
    from mdl.models.metrics import regression_metrics

    rows = []
    for name, (structures, y) in data.items():
        train, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0)
        packed = GraphSet.pack(graphs[name])
        start = time.perf_counter()
        net = _fit(packed.subset(train), y[train], epochs)
        seconds = time.perf_counter() - start
        per = seconds / len(net.loss_curve_) / len(train) * 1000
        rows.append((f"training one network, {name}", f"{seconds:,.1f} s",
                     f"{len(train)} graphs, {len(net.loss_curve_)} epochs, {per:.2f} ms per graph and epoch"))
        start = time.perf_counter()
        net.predict(packed)
        rows.append((f"forward pass, {name}", f"{len(y) / (time.perf_counter() - start):,.0f} /s",
                     "structures predicted from packed graphs"))
        gnn = regression_metrics(y[test], net.predict(packed.subset(test)))
        D = get_descriptor("composition").transform(structures)
        rf = RandomForestRegressor(200, min_samples_leaf=2, n_jobs=2, random_state=0).fit(D[train], y[train])
        forest = regression_metrics(y[test], rf.predict(D[test]))
        for label, m in (("graph network", gnn), ("RF on composition", forest)):
            rows.append((f"test MAE / R², {name}, {label}", f"{m['mae']:.4f}", f"R² {m['r2']:.3f} ({len(test)} test)"))
    return rows


def parallel_rows(graphs, y, epochs: int) -> list[tuple[str, str, str]]:
    from mdl.models.graph_batch import GraphSet

    packed = GraphSet.pack(graphs)
    rows, sequential = [], 0.0
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with patch("mdl.models.gnn.one_thread", nullcontext):  # the estimator's own choice, undone here
            sequential = sum(_time_fit(packed, y, epochs, seed) for seed in (1, 2))
        rows.append((f"two networks one after the other, {threads} thread{'s' * (threads > 1)}",
                     f"{sequential:,.1f} s", f"{len(y)} graphs, {epochs} epochs"))
    torch.set_num_threads(1)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread) as pool:
        list(pool.map(_warm, [0, 1]))  # start both workers before timing
        start = time.perf_counter()
        list(pool.map(_time_fit, [packed, packed], [y, y], [epochs, epochs], [1, 2]))
        parallel = time.perf_counter() - start
    return rows + [("two networks in two 1-thread processes", f"{parallel:,.1f} s",
                    f"{sequential / parallel:.2f}x faster than 2 threads")]


def scatter_rows(graphs) -> list[tuple[str, str, str]]:
    from torch.profiler import ProfilerActivity, profile

    from mdl.models.graph_batch import GraphSet

    packed = GraphSet.pack(graphs)
    batch = packed.batch(np.arange(min(64, len(packed))))
    n, centre = len(batch.numbers), batch.edges[0]
    messages = torch.randn(len(centre), NET["width"], requires_grad=True)

    def timed(fn) -> float:
        for _ in range(3):
            fn().sum().backward()
        start = time.perf_counter()
        for _ in range(50):
            fn().sum().backward()
        return (time.perf_counter() - start) / 50 * 1e6

    rows = [("aggregation, index_add_", f"{timed(lambda: torch.zeros(n, NET['width']).index_add_(0, centre, messages)):,.0f} µs",
             f"{len(centre)} edges, forward + backward")]
    try:
        from torch_geometric.utils import scatter
    except ImportError:
        rows.append(("aggregation, torch_geometric scatter", "-", "torch_geometric not installed"))
    else:
        rows.append(("aggregation, torch_geometric scatter",
                     f"{timed(lambda: scatter(messages, centre, 0, dim_size=n, reduce='sum')):,.0f} µs",
                     f"{len(centre)} edges, forward + backward"))
    y = np.zeros(len(packed))
    _fit(packed, y, 1)  # warm up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _fit(packed, y, 2)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    scatter_time = sum(e.self_cpu_time_total for e in events if e.key in ("aten::index_add_", "aten::scatter_add_",
                                                                          "aten::index_select", "aten::index_add"))
    rows.append(("share of a training step gathering + scattering", f"{100 * scatter_time / total:.1f} %",
                 "index_select + index_add_ self time, torch profiler"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="structures drawn from each data set")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--skip-parallel", action="store_true")
    args = parser.parse_args()
    from mdl.descriptors import get_descriptor

    torch.set_num_threads(1)  # measured: on a busy 2-core machine two threads run a small network slower
    data = {"perov5": _data("cdvae_perov5", "heat_of_formation", args.n),
            "optimal_ptft_fe": _data("optimal_ptft_fe", "formation_energy", args.n)}
    table = graph_rows(data)
    d = get_descriptor("crystal_graph", cutoff=NET["cutoff"], max_neighbors=NET["max_neighbors"])
    graphs = {name: d.inputs(s) for name, (s, _) in data.items()}
    table += scatter_rows(graphs["perov5"])
    table += accuracy_rows(data, graphs, args.epochs)
    if not args.skip_parallel:
        table += parallel_rows(graphs["perov5"][:1000], data["perov5"][1][:1000], max(args.epochs // 4, 2))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.n} structures a set, "
          f"{args.epochs} epochs; network {NET}")
    print(_rows(table))


if __name__ == "__main__":
    main()
