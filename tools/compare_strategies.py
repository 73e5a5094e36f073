"""Transfer strategies on a small experimental target, by training-set size, over several seeds.

Target: experimental formation enthalpies of inorganic compounds (``crossproptl_expt_formation_energy``,
formulas, eV/atom). Sources, trained here on element fractions (ElemNet-style input, 94 columns):

* the formation-energy network: pretrained on the largest formation-energy set at hand,
  ``optimal_ptft_fe`` (8,741 Materials Project compounds; min-max scaled by its authors);
* the multi-property network: one network pretrained on five ``optimal_ptft`` properties at once
  (formation energy, band gap, shear modulus, phonon peak, experimental band gap; missing labels masked).

Strategies, each scored by 5-fold CV MAE on subsets of 25/50/100/200 compounds, mean ± std over seeds:

* ``scratch RF``: random forest on the 290 compositional descriptors, from scratch;
* ``source directly``: the formation-energy network's prediction with a linear unit calibration
  (fitted on the training folds: its targets are scaled, so only a + b·prediction is learnt);
* ``frozen + RF``: the formation-energy network's last hidden layer as descriptors + random forest;
* ``freeze-k FT``: fine-tuning with all hidden layers but the last frozen (the ElemNet-style recipe);
* ``unfreeze-all FT``: fine-tuning every layer;
* ``multi-property FT``: the multi-property network, every layer fine-tuned.

Showcase: the same strategies trained on the authors' whole training split (1,479) and scored on their
test split (164). With ``--hub``, the showcase also fine-tunes the zoo's own ElemNet-style network (the
best ``elemnet-formation-energy`` model there: 8-12 layers on element fractions, pretrained on
``optimal_ptft_fe``), with its first layers frozen and with every layer retrained, and uses it directly.

    python tools/compare_strategies.py                           # full (about 15-25 min on 2 cores)
    python tools/compare_strategies.py --sizes 25 100 --seeds 2  # reduced
    python tools/compare_strategies.py --hub ~/zoo               # plus the zoo's ElemNet in the showcase
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline

import mdl
from mdl import datasets
from mdl.descriptors import get_descriptor
from mdl.models.train import train_source
from mdl.transfer_learning import FineTunedModel, TransferModel

MULTI = ["optimal_ptft_fe", "optimal_ptft_bg", "optimal_ptft_gv", "optimal_ptft_ph", "optimal_ptft_ebg"]
HIDDEN = [256, 128, 64, 32]


class Direct(BaseEstimator, RegressorMixin):
    """A source's own prediction, with a linear unit calibration a + b * prediction."""

    def __init__(self, source=None):
        self.source = source

    def fit(self, X, y):
        p = self.source.predict(list(X))
        self.b_, self.a_ = np.polyfit(p, y, 1)
        return self

    def predict(self, X):
        return self.a_ + self.b_ * self.source.predict(list(X))


def pretrain(epochs: int) -> tuple:
    """The formation-energy network and the multi-property network, on element fractions."""
    ef = get_descriptor("element_fraction")
    tick = time.perf_counter()
    columns, inputs = [], []
    for name in MULTI:
        ds = datasets.load(name)
        prop = list(ds.properties)[0]
        columns.append(name)
        inputs.append((ds.inputs, ds.targets[prop].to_numpy(float)))
    n_total = sum(len(x) for x, _ in inputs)
    D = np.vstack([ef.transform(x) for x, _ in inputs])
    Y = np.full((n_total, len(MULTI)), np.nan)
    start = 0
    for j, (x, y) in enumerate(inputs):
        Y[start : start + len(x), j] = y
        start += len(x)
    print(f"pretraining data: {n_total} structures from {len(MULTI)} sets as element fractions "
          f"({time.perf_counter() - tick:.0f} s)")
    hp = {"hidden": HIDDEN, "epochs": epochs, "patience": 10, "lr": 1e-3}
    fe_rows = np.isfinite(Y[:, 0])
    tick = time.perf_counter()
    fe = train_source(D[fe_rows], Y[fe_rows, 0], ef.spec, family="nn", hyperparameters=hp, model_id="cmp-fe-nn",
                      seed=0, max_zero_fraction=1.0, info={"material": "inorganic", "property": "formation_energy",
                                                           "dataset": "optimal_ptft_fe"})
    print(f"formation-energy source: {fe_rows.sum()} compounds, test R² {fe.info['metrics']['r2']:.3f} "
          f"({time.perf_counter() - tick:.0f} s)")
    tick = time.perf_counter()
    multi = train_source(D, Y, ef.spec, family="nn", hyperparameters=hp, model_id="cmp-multi-nn", seed=0,
                         max_zero_fraction=1.0, info={"material": "inorganic", "properties": MULTI,
                                                      "dataset": "optimal_ptft"})
    print(f"multi-property source: test R² (mean over properties) {multi.info['metrics']['r2']:.3f} "
          f"({time.perf_counter() - tick:.0f} s)")
    return fe, multi


def strategies(fe, multi, epochs: int) -> dict[str, BaseEstimator]:
    k = len(HIDDEN) - 1
    ft = {"epochs": epochs, "patience": 30, "batch_size": 16, "lr": 1e-3}
    return {
        # random forest on the 290 compositional descriptors of the formulas
        "scratch RF": make_pipeline(get_descriptor("composition"),
                                    RandomForestRegressor(300, max_features=0.3, n_jobs=-1, random_state=0)),
        "source directly": Direct(fe),
        "frozen + RF": TransferModel(fe, head="rf", cv=None),
        f"freeze-{k} FT": FineTunedModel(fe, freeze=k, **ft),
        "unfreeze-all FT": FineTunedModel(fe, freeze=0, **ft),
        "multi-property FT": FineTunedModel(multi, freeze=0, **ft),
    }


def zoo_elemnet(hub: str, epochs: int) -> dict[str, BaseEstimator]:
    """Showcase strategies around the zoo's best ElemNet-style formation-energy network."""
    hits = mdl.search(property="formation_energy", descriptor="element_fraction", model_type="nn", hub=hub)
    hits = hits[hits["modelset"] == "elemnet-formation-energy"]
    if hits.empty:
        raise SystemExit(f"no elemnet-formation-energy network in {hub}: build registry/crystals first")
    source = mdl.pull(hits["model_id"].iloc[0], hub=hub)
    depth = source.estimator.n_hidden_layers
    print(f"zoo ElemNet: {source.model_id}, {depth} hidden layers {source.info['hyperparameters']['hidden']}, "
          f"test R² {source.info['metrics']['r2']:.3f} on its own (scaled) target")
    ft = {"epochs": epochs, "patience": 30, "batch_size": 32, "lr": 1e-4}
    return {
        "zoo ElemNet directly": Direct(source),
        f"zoo ElemNet freeze-{depth - 2} FT": FineTunedModel(source, freeze=depth - 2, **ft),
        "zoo ElemNet unfreeze-all FT": FineTunedModel(source, freeze=0, **ft),
    }


def cv_mae(est: BaseEstimator, X: list, y: np.ndarray, seed: int) -> float:
    folds = KFold(5, shuffle=True, random_state=seed)
    return float(-cross_val_score(est, X, y, cv=folds, scoring="neg_mean_absolute_error").mean())


def by_size(args: argparse.Namespace, candidates: dict, formulas: list, y_all: np.ndarray,
            pool: np.ndarray, t0: float) -> None:
    """CV MAE of every strategy on random subsets of the training pool, by size and seed; table and plot."""
    rows = []
    for size in args.sizes:
        for seed in range(args.seeds):
            pick = np.sort(np.random.default_rng(seed).choice(pool, size=size, replace=False))
            X, y = [formulas[i] for i in pick], y_all[pick]
            for name, est in candidates.items():
                rows.append({"size": size, "seed": seed, "strategy": name, "cv_mae": cv_mae(est, X, y, seed)})
            print(f"  size {size} seed {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby(["strategy", "size"])["cv_mae"].agg(["mean", "std"]).reset_index()
    wide = summary.assign(cell=[f"{m:.3f} ± {s:.3f}" for m, s in zip(summary["mean"], summary["std"])]) \
        .pivot(index="strategy", columns="size", values="cell").reindex(list(candidates))
    print(f"\n5-fold CV MAE (eV/atom) of experimental formation enthalpy, mean ± std over {args.seeds} seeds:")
    print(wide.to_string())
    table.to_csv(args.out / "strategies.csv", index=False)

    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for i, name in enumerate(candidates):
        part = summary[summary["strategy"] == name]
        ax.errorbar(part["size"] * (1 + 0.02 * (i - 2.5)), part["mean"], yerr=part["std"], marker="o", capsize=3,
                    label=name)
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xticks(args.sizes, [str(s) for s in args.sizes])
    ax.set_xlabel("training compounds (experimental formation enthalpy)")
    ax.set_ylabel("5-fold CV MAE (eV/atom)")
    ax.set_title(f"transfer strategies, mean ± std over {args.seeds} seeds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "strategies.png", dpi=120)
    print(f"wrote {args.out / 'strategies.csv'} and {args.out / 'strategies.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--pretrain-epochs", type=int, default=40)
    parser.add_argument("--finetune-epochs", type=int, default=300)
    parser.add_argument("--no-showcase", action="store_true")
    parser.add_argument("--showcase-only", action="store_true", help="skip the table by training-set size")
    parser.add_argument("--hub", help="a hub holding the elemnet-formation-energy networks, for the showcase")
    parser.add_argument("--out", type=Path, default=Path("compare-strategies"))
    args = parser.parse_args()
    t0 = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    fe, multi = pretrain(args.pretrain_epochs)
    target = datasets.load("crossproptl_expt_formation_energy")
    split = target.meta["split"].to_numpy()
    formulas = target.inputs
    y_all = target.targets["formation_energy"].to_numpy(float)
    pool = np.flatnonzero(split == "train")
    candidates = strategies(fe, multi, args.finetune_epochs)

    if not args.showcase_only:
        by_size(args, candidates, formulas, y_all, pool, t0)

    if not args.no_showcase:
        train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
        Xtr, Xte = [formulas[i] for i in train], [formulas[i] for i in test]
        print(f"\nshowcase: trained on the authors' {len(train)} training compounds, scored on their {len(test)} "
              "test compounds")
        show = []
        extra = zoo_elemnet(args.hub, args.finetune_epochs) if args.hub else {}
        for name, est in {**candidates, **extra}.items():
            tick = time.perf_counter()
            pred = clone(est).fit(Xtr, y_all[train]).predict(Xte)
            show.append({"strategy": name, "test_mae": float(np.abs(pred - y_all[test]).mean()),
                         "time_s": time.perf_counter() - tick})
        show = pd.DataFrame(show)
        print(show.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        show.to_csv(args.out / "showcase.csv", index=False)
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
