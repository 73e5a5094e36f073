"""Measure the CHGNet foundation source: featurisation throughput and a fixed-split embedding + RF.

For each structure set (default: cdvae_perov5 heat_of_formation and optimal_ptft_fe), ``--train`` +
``--test`` rows are drawn with a seed and split once (rows CHGNet refuses, atoms with no neighbour within
6 Å, are dropped and counted); CHGNet (imported from the chgnet wheel as the zoo
does it: weights_only checkpoint -> checked arrays -> CHGNetFeaturizer) featurises every structure, and
the table gives structures per second (graph building + forward pass, torch's thread count as is), and
test MAE / R² of a random forest on the CHGNet crystal features (mean-pooled, the default, and summed
as CHGNet's own readout pools), on all blocks' pooled features, and, for reference, on the composition
descriptor of the same structures.

    python tools/bench_foundation.py                      # 1,000 train / 500 test per set
    python tools/bench_foundation.py --train 200 --test 100 --sets cdvae_perov5

Measured (2 shared CPU cores, torch 2 threads, chgnet 0.4.2 / checkpoint 0.3.0, seed 0; test MAE in the
target's unit: eV/cell for perov5, min-max scaled for optimal_ptft_fe, where one row was refused):

    set              features                           width   MAE    R²
    cdvae_perov5     CHGNet crystal features, mean + RF    64  0.183  0.887
    cdvae_perov5     CHGNet crystal features, sum + RF     64  0.183  0.887
    cdvae_perov5     CHGNet all 4 blocks, mean + RF       256  0.183  0.889
    cdvae_perov5     composition + RF                     290  0.439  0.316
    optimal_ptft_fe  CHGNet crystal features, mean + RF    64  0.066  0.910
    optimal_ptft_fe  CHGNet crystal features, sum + RF     64  0.090  0.850
    optimal_ptft_fe  CHGNet all 4 blocks, mean + RF       256  0.060  0.921
    optimal_ptft_fe  composition + RF                     290  0.072  0.890

Throughput (graph building + forward pass, all four blocks): 196 structures/s on perov5 (5 atoms) and
12 structures/s on optimal_ptft_fe (28 atoms on average) with the machine otherwise lightly loaded;
the same runs fell to 13 and 3.5 structures/s while other jobs held the cores (torch's threads then
compete), so treat these as an order of magnitude. Graph building is 7-20 % of the time.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, r2_score

from mdl.datasets.crystals import load_structures
from mdl.descriptors import get_descriptor
from mdl.zoo.foundation_import import import_estimator

TARGETS = {"cdvae_perov5": "heat_of_formation", "optimal_ptft_fe": "formation_energy"}


def forest(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
    """Test MAE and R² of a 300-tree random forest (seed 0, 2 jobs)."""
    rf = RandomForestRegressor(n_estimators=300, n_jobs=2, random_state=0).fit(X_train, y_train)
    pred = rf.predict(X_test)
    return {"MAE": mean_absolute_error(y_test, pred), "R2": r2_score(y_test, pred)}


def bench(name: str, n_train: int, n_test: int, seed: int) -> list[dict]:
    data = load_structures(name, limit=n_train + n_test, seed=seed)
    structures, y = data.xy(TARGETS[name])
    y = np.asarray(y, dtype=float)
    model = import_estimator("0.3.0")
    refused = model.unreadable(structures)  # isolated atoms: no neighbour within its 6 Å cut-off
    keep = np.setdiff1d(np.arange(len(y)), refused)
    structures, y = [structures[i] for i in keep], y[keep]
    order = np.random.default_rng(seed).permutation(len(y))
    cut = round(len(y) * n_train / (n_train + n_test))
    train, test = order[:cut], order[cut:]
    model.hidden_features(structures[:4])  # warm-up, not timed
    start = time.perf_counter()
    H = model.hidden_features(structures, "all")
    seconds = time.perf_counter() - start
    width = H.shape[1] // model.n_hidden_layers
    comp = get_descriptor("composition").transform([s.formula.replace(" ", "") for s in structures])
    n_atoms = np.array([len(s) for s in structures], dtype=float)
    rows = []
    # the 0.3.0 readout pools by summing, so CHGNet's own crystal features are the mean times the atoms
    for label, X in (("CHGNet crystal features, mean (default) + RF", H[:, -width:]),
                     ("CHGNet crystal features, model's sum + RF", H[:, -width:] * n_atoms[:, None]),
                     ("CHGNet all 4 blocks, mean + RF", H),
                     ("composition + RF (reference)", comp)):
        rows.append({"set": name, "target": TARGETS[name], "train/test": f"{len(train)}/{len(test)}",
                     "features": label, "width": X.shape[1],
                     **forest(X[train], y[train], X[test], y[test])})
    rows[0]["refused"] = len(refused)
    rows[0]["structures/s"] = len(structures) / seconds
    rows[0]["atoms/structure"] = n_atoms.mean()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"torch threads: {torch.get_num_threads()}")
    rows = [row for name in args.sets for row in bench(name, args.train, args.test, args.seed)]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(pd.DataFrame(rows).fillna("").to_string(index=False))


if __name__ == "__main__":
    main()
