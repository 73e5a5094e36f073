"""Crystals on one fixed, seeded split: test MAE and R² of each row (a model and its inputs) per task.

    python tools/bench_crystals.py [--n-train 1000] [--n-test 500] [--seed 0] [--rows NAME ...] [--json FILE]

Tasks: ``optimal_ptft_fe`` (formation energy, min-max scaled by the authors) and ``cdvae_perov5``
(heat of formation, eV/cell). Each task draws ``n_train + n_test`` labelled structures with ``seed`` and
splits them once with the same seed, so every row sees the same train and test structures. The
structure descriptor's throughput (structures per second, parsing excluded) is measured on the same
structures. A row's seconds are those of its descriptor (the first row to use one computes it) and its
fit and prediction.

Rows are named builders in :data:`ROWS`: a function ``(split) -> predictions for split.test``: random
forests on the composition, structure and joined descriptors, one graph network trained from scratch,
and a random forest on the foundation source's (CHGNet's) crystal features. To add one, write such a
function and add it to ``ROWS``; :func:`features` computes a descriptor once per task and caches it.

Needs the shared data folder (``MDL_SHARED_DATA``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, r2_score

from mdl import datasets
from mdl.descriptors import get_descriptor

#: task name -> (loader, property)
TASKS = {"optimal_ptft_fe": ("optimal_ptft_fe", "formation_energy"),
         "cdvae_perov5": ("cdvae_perov5", "heat_of_formation")}


@dataclass
class Split:
    """One task's fixed split: structures and targets, and descriptors computed on all of them."""

    task: str
    train: list[Any]
    y_train: np.ndarray
    test: list[Any]
    y_test: np.ndarray
    cache: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)  # name -> (X of train+test, seconds)


def fixed_split(task: str, n_train: int, n_test: int, seed: int) -> Split:
    """``n_train`` + ``n_test`` labelled structures of ``task`` drawn and split with ``seed``."""
    loader, prop = TASKS[task]
    structures, y = datasets.load(loader, limit=n_train + n_test, seed=seed).xy(prop)
    if len(y) < n_train + n_test:
        raise SystemExit(f"{task}: {len(y)} labelled rows, fewer than {n_train} + {n_test}")
    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[:n_train], order[n_train:n_train + n_test]
    return Split(task, [structures[i] for i in train], y[train], [structures[i] for i in test], y[test])


def features(split: Split, name: str, **params: Any) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) matrices of descriptor ``name``, computed once per split (timed)."""
    key = json.dumps([name, params], sort_keys=True)
    if key not in split.cache:
        descriptor = get_descriptor(name, **params)
        started = time.perf_counter()
        X = descriptor.transform(split.train + split.test)
        split.cache[key] = (X, time.perf_counter() - started)
    X = split.cache[key][0]
    return X[:len(split.train)], X[len(split.train):]


def rf_on(name: str, **params: Any) -> Callable[[Split], np.ndarray]:
    """A row: a random forest (300 trees, seeded) on descriptor ``name``."""
    def row(split: Split) -> np.ndarray:
        X_train, X_test = features(split, name, **params)
        model = RandomForestRegressor(n_estimators=300, random_state=0, n_jobs=-1)
        return model.fit(X_train, split.y_train).predict(X_test)
    return row


def graph_network(split: Split) -> np.ndarray:
    """A row: one graph network (:class:`~mdl.models.gnn.GraphNetRegressor`, width 64, 3 convolutions,
    at most 60 epochs) trained from scratch on crystal graphs (8 Å, 16 neighbours)."""
    from mdl.models.gnn import GraphNetRegressor

    graphs = get_descriptor("crystal_graph", cutoff=8.0, max_neighbors=16).inputs(split.train + split.test)
    net = GraphNetRegressor(epochs=60, random_state=0).fit(graphs[:len(split.train)], split.y_train)
    return net.predict(graphs[len(split.train):])


def chgnet_rf(split: Split) -> np.ndarray:
    """A row: a random forest (300 trees) on the foundation source's crystal features (CHGNet 0.3.0, as
    imported into the zoo). Structures CHGNet cannot read (an atom with no neighbour within 6 Å) get
    missing features, which the forest routes like any missing value; their count is printed."""
    from mdl.zoo.foundation_import import import_estimator

    chgnet = import_estimator()
    structures = split.train + split.test
    F = np.full((len(structures), 64), np.nan)
    keep = np.setdiff1d(np.arange(len(structures)), chgnet.unreadable(structures))
    F[keep] = chgnet.hidden_features([structures[i] for i in keep])
    if len(keep) < len(structures):
        print(f"  ({split.task}: CHGNet cannot read {len(structures) - len(keep)} structures: missing features)")
    model = RandomForestRegressor(n_estimators=300, random_state=0, n_jobs=-1)
    return model.fit(F[:len(split.train)], split.y_train).predict(F[len(split.train):])


#: row name -> builder
ROWS: dict[str, Callable[[Split], np.ndarray]] = {
    "RF / composition": rf_on("composition"),
    "RF / structure": rf_on("structure"),
    "RF / structure_composition": rf_on("structure_composition"),
    "graph network (scratch) / crystal_graph": graph_network,
    "RF / CHGNet crystal features": chgnet_rf,
}


def throughput(split: Split) -> float:
    """Structures per second of the structure descriptor on the split's already parsed structures."""
    structures = split.train + split.test
    started = time.perf_counter()
    get_descriptor("structure").transform(structures)
    return len(structures) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()

    results = []
    print(f"fixed split: {args.n_train} train / {args.n_test} test, seed {args.seed}\n")
    print("| task | row | test MAE | test R² | seconds |")
    print("|---|---|---|---|---|")
    speeds = {}
    for task in args.tasks:
        split = fixed_split(task, args.n_train, args.n_test, args.seed)
        speeds[task] = throughput(split)
        for name in args.rows:
            started = time.perf_counter()
            predicted = ROWS[name](split)
            seconds = time.perf_counter() - started
            mae, r2 = mean_absolute_error(split.y_test, predicted), r2_score(split.y_test, predicted)
            results.append({"task": task, "row": name, "mae": mae, "r2": r2, "seconds": seconds})
            print(f"| {task} | {name} | {mae:.4f} | {r2:.3f} | {seconds:.1f} |", flush=True)
    print()
    for task, speed in speeds.items():
        print(f"structure descriptor on {task}: {speed:.0f} structures/s")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"n_train": args.n_train, "n_test": args.n_test, "seed": args.seed, "rows": results,
                       "structures_per_s": speeds}, out, indent=1)


if __name__ == "__main__":
    main()
