"""The held-out transfer benchmark: does a zoo source beat training from scratch on a target no source saw?

For each target of a panel (a data set and property of the zoo's own data, all three material classes),
every source trained on that data set or on the same property is left out of the pool. From the target's
rows, ``n`` are drawn (per seed) and split into 5 outer folds; inside each training part the strategies
below are fitted, and the untouched test fold scores them (the outer CV is done here, outside
``mdl.screen``):

* ``screen.best``      what ``mdl.screen`` hands back as ``board.best``, scored on the test fold;
* ``screen.profile``   the board's best ``profile`` row (every source's prediction as the descriptor),
                       fitted and scored on the test fold whether or not the board picked it;
* ``screen.nested``    with ``--nested``: the board's own select-then-fit CV estimate on the training part
                       (an estimate, not a test score: it shows whether the board's numbers can be trusted);
* ``direct+linear``    one source's prediction with a linear calibration; the source (and, for a
                       multi-property network, its output) picked by leave-one-out error on the training part;
* ``scratch-rf``       a 500-tree random forest on the target's natural descriptor (2048 Morgan bits for
                       molecules and polymers, the composition descriptor for inorganic formulas);
* ``scratch-gb``       gradient boosting (xgboost) on the same descriptor; both are the learners of a
                       board's own scratch rows (:func:`mdl.transfer_learning.scratch.make_scratch`).

Printed: each strategy's MAE per target and ``n`` (mean over seeds of the outer-CV MAE) with its ratio to
the better scratch baseline, then the median and worst ratio per ``n`` and the time each strategy took.

    python tools/bench_transfer.py --hub ~/.cache/mdl/hub          # default panel: n = 100, one draw (~30 min)
    python tools/bench_transfer.py --hub HUB --n 50 100 200        # the three sizes, one draw each
    python tools/bench_transfer.py --hub HUB --full                # PANEL + MORE, n = 50, 100, 200, three seeds
    python tools/bench_transfer.py --hub HUB --targets chemicals:density --n 50 --seeds 1   # a quick look
    python tools/bench_transfer.py --tables a.csv b.csv                # the tables of runs saved with --out
"""

from __future__ import annotations

import argparse
import functools
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

import mdl
from mdl import datasets
from mdl.descriptors import get_descriptor
from mdl.hub import open_hub
from mdl.models.source import SourceModel
from mdl.transfer_learning.scratch import SCRATCH, make_scratch

print = functools.partial(print, flush=True)  # noqa: A001  (progress shows up when piped)

#: The natural descriptor of each material class, for the scratch baselines.
NATURAL = {
    "molecule": ("morgan", {"radius": 2, "n_bits": 2048}),
    "polymer": ("morgan", {"radius": 2, "n_bits": 2048, "polymer": True, "nonlinear": "cap"}),
    "inorganic": ("composition", {}),
}
#: Which sources a target of each material class may screen (polymers also try molecule sources).
POOLS = {"molecule": ("molecule",), "polymer": ("polymer", "molecule"), "inorganic": ("inorganic",)}


@dataclass(frozen=True)
class Target:
    """A held-out target: ``loader:property`` of the zoo's data sets."""

    loader: str
    property: str

    @classmethod
    def parse(cls, text: str) -> Target:
        loader, _, prop = text.partition(":")
        if not prop:
            raise SystemExit(f"target {text!r}: write it as loader:property, e.g. chemicals:density")
        return cls(loader, prop)

    def __str__(self) -> str:
        return f"{self.loader}:{self.property}"


#: Two molecular, two polymer and two inorganic targets. Measured: about 5 min per target and draw at n = 100
#: on 2 cores (4-6 min at n = 50), so the default (n = 100, one draw) takes about 30 minutes.
PANEL = [Target("chemicals", "boiling_point"), Target("chemicals", "logp"),
         Target("neurips2025_opp_supp_tc", "thermal_conductivity"),
         Target("polyverse_atomization_enthalpy", "atomization_energy"),
         Target("bandgap_expt", "band_gap"), Target("optimal_ptft_gv", "shear_modulus")]
#: ``--full`` adds these.
MORE = [Target("chemicals", "density"), Target("chemicals", "melting_point"),
        Target("chemicals", "refractive_index"), Target("neurips2025_opp_train", "glass_transition_temperature"),
        Target("optimal_ptft_ph", "last_phdos_peak"), Target("mp_transport", "seebeck_p"),
        Target("aqueous_solubility", "log_solubility"), Target("freesolv", "hydration_free_energy")]


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(text).lower()).strip()


def pool_ids(index: pd.DataFrame, target: Target, material: str, names: Sequence[str]) -> list[str]:
    """Ids of the sources a target may use: right material class, not trained on the target's data set,
    predicting none of ``names`` (the target property and its aliases); fine-tuned models excluded."""
    wanted = {_norm(n) for n in names}
    keep = index["material"].isin(POOLS[material]) & (index["dataset"] != target.loader)
    keep &= index["source_model"].fillna("") == ""
    terms = (index["property"].astype(str) + ";" + index["aliases"].fillna("").astype(str)).str.split(";")
    keep &= ~terms.map(lambda ts: any(_norm(t) in wanted for t in ts if t.strip()))
    return index.loc[keep, "model_id"].tolist()


def loo_linear(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Leave-one-out MAE of ``y ~ a p + b`` for every column of ``p`` (closed form, hat-matrix diagonal)."""
    pc = p - p.mean(axis=0)
    sxx = (pc**2).sum(axis=0)
    sxx[sxx == 0] = np.inf
    slope = (pc * (y - y.mean())[:, None]).sum(axis=0) / sxx
    resid = y[:, None] - (y.mean() + slope * pc)
    leverage = 1 / len(y) + pc**2 / sxx
    return np.abs(resid / np.clip(1 - leverage, 1e-9, None)).mean(axis=0)


def source_predictions(sources: Sequence[SourceModel], X: list) -> tuple[np.ndarray, list[str]]:
    """Every source's predictions of ``X`` as columns (descriptors computed once per spec); columns of
    sources that cannot featurise ``X`` are left out."""
    by_spec: dict[str, list[SourceModel]] = {}
    for s in sources:
        by_spec.setdefault(s.descriptor.fingerprint(), []).append(s)
    columns, names = [], []
    for members in by_spec.values():
        try:
            D = members[0].descriptor_matrix(X)
        except mdl.MDLError:
            continue
        for s in members:
            out = np.asarray(s.estimator.predict(D[:, s.columns]), dtype=float).reshape(len(X), -1)
            for j in range(out.shape[1]):
                columns.append(out[:, j])
                names.append(f"{s.model_id}[{j}]" if out.shape[1] > 1 else s.model_id)
    ok = [k for k, c in enumerate(columns) if np.isfinite(c).all()]
    return np.column_stack([columns[k] for k in ok]), [names[k] for k in ok]


def scratch_models(seed: int) -> dict[str, object]:
    """The scratch baselines: the very learners of a board's scratch rows (500-tree random forest, xgboost)."""
    return {f"scratch-{kind}": make_scratch(kind, seed) for kind in SCRATCH}


def run_target(hub: object, target: Target, sizes: Sequence[int], seeds: int, nested: bool, top_k: int) -> list[dict]:
    """Rows of (target, n, seed, strategy, MAE, seconds) for one target."""
    data = datasets.load(target.loader)
    info = data.properties[data.property_name(target.property)]
    X_all, y_all = data.xy(target.property)
    index = open_hub(hub).index()
    ids = pool_ids(index, target, data.material, [info.name, *info.aliases])
    sources = mdl.pull(ids, hub=hub)
    name, params = NATURAL[data.material]
    natural = get_descriptor(name, **params)
    print(f"{target}: {len(y_all)} rows, {len(sources)} sources in the pool")
    rows = []
    for n in sizes:
        for seed in range(seeds):
            pick = np.sort(np.random.default_rng(seed).choice(len(y_all), size=min(n, len(y_all)), replace=False))
            X, y = [X_all[i] for i in pick], y_all[pick]
            tick = time.perf_counter()
            P, _ = source_predictions(sources, X)
            direct_time = time.perf_counter() - tick
            D = natural.transform(X)
            for fold, (train, test) in enumerate(KFold(5, shuffle=True, random_state=seed).split(X)):
                Xtr, Xte = [X[i] for i in train], [X[i] for i in test]
                record = functools.partial(dict, target=str(target), material=data.material, n=len(y),
                                           seed=seed, fold=fold)
                tick = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    board = mdl.screen(Xtr, y[train], sources=sources, top_k=top_k, nested=nested, hub=hub,
                                       progress=False, random_state=seed)
                seconds = time.perf_counter() - tick
                mae = float(np.abs(board.best.predict(Xte) - y[test]).mean()) if board.best is not None else np.nan
                rows.append(record(strategy="screen.best", mae=mae, seconds=seconds,
                                   picked=board.info["selected"]["kind"],
                                   candidate=board.info["selected"]["candidate"]))
                profile = board.loc[board["kind"] == "profile", "candidate"]
                if len(profile):  # the profile row the board ranks first, whether or not it was handed back
                    tick = time.perf_counter()
                    mae = float(np.abs(board.model(profile.iloc[0]).predict(Xte) - y[test]).mean())
                    rows.append(record(strategy="screen.profile", mae=mae, seconds=time.perf_counter() - tick))
                if nested:
                    estimate = board.loc[board["kind"] == "select-then-fit", "mae"]
                    rows.append(record(strategy="screen.nested", mae=float(estimate.iloc[0]), seconds=0.0))
                tick = time.perf_counter()
                best = int(np.argmin(loo_linear(P[train], y[train])))
                slope, intercept = np.polyfit(P[train, best], y[train], 1)
                mae = float(np.abs(slope * P[test, best] + intercept - y[test]).mean())
                rows.append(record(strategy="direct+linear", mae=mae,
                                   seconds=direct_time / 5 + time.perf_counter() - tick))
                for label, model in scratch_models(seed).items():
                    tick = time.perf_counter()
                    model.fit(D[train], y[train])
                    mae = float(np.abs(model.predict(D[test]) - y[test]).mean())
                    rows.append(record(strategy=label, mae=mae, seconds=time.perf_counter() - tick))
            done = pd.DataFrame([r for r in rows if r["n"] == len(y) and r["seed"] == seed])
            print(f"  n={len(y)} seed={seed}: " + ", ".join(
                f"{s} {m:.4g}" for s, m in done.groupby("strategy", sort=False)["mae"].mean().items()))
    return rows


def summarise(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per target and n: MAE and ratio to the better scratch baseline; per n: median and worst ratio)."""
    per_seed = rows.groupby(["target", "n", "seed", "strategy"], sort=False)["mae"].mean().reset_index()
    mae = per_seed.groupby(["target", "n", "strategy"], sort=False)["mae"].mean().unstack("strategy")
    scratch = mae[[c for c in mae.columns if c.startswith("scratch")]].min(axis=1)
    ratio = mae.div(scratch, axis=0)
    table = mae.join(ratio.add_suffix(" ratio"))
    summary = ratio.groupby(level="n").agg(["median", "max"]).T
    summary.index = [f"{strategy} {'median' if stat == 'median' else 'worst'}" for strategy, stat in summary.index]
    return table, summary


def stability(rows: pd.DataFrame) -> pd.DataFrame:
    """Per ``n``: how often each kind of row was handed back, and the rank stability of the pick: the share
    of outer folds of one draw that picked that draw's most frequent candidate (1: the same row on every
    resampling of the training rows; 1/5: a different one each time), averaged over targets and draws."""
    best = rows.loc[rows["strategy"] == "screen.best"]
    kinds = best.groupby("n")["picked"].value_counts().unstack(fill_value=0)
    modal = best.groupby(["target", "n", "seed"])["candidate"].agg(lambda c: c.value_counts().iloc[0] / len(c))
    kinds["same pick"] = modal.groupby(level="n").mean()
    return kinds


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", default=None, help="the zoo to screen (default: $MDL_HUB)")
    parser.add_argument("--targets", nargs="+", type=Target.parse, help="loader:property (default: the panel)")
    parser.add_argument("--n", nargs="+", type=int, default=None, help="target sizes (default 100; --full 50 100 200)")
    parser.add_argument("--seeds", type=int, default=None, help="draws of n rows per size (default 1; --full 3)")
    parser.add_argument("--top-k", type=int, default=10, help="mdl.screen's top_k")
    parser.add_argument("--nested", action="store_true", help="also record the board's select-then-fit estimate")
    parser.add_argument("--full", action="store_true", help="the whole panel (PANEL + MORE), three seeds")
    parser.add_argument("--out", help="CSV file for every fold's row")
    parser.add_argument("--tables", nargs="+", metavar="CSV",
                        help="print the tables of rows saved by earlier runs' --out (parts of a panel run apart)")
    args = parser.parse_args(argv)
    targets = args.targets or (PANEL + MORE if args.full else PANEL)
    seeds = args.seeds or (3 if args.full else 1)
    sizes = args.n or ([50, 100, 200] if args.full else [100])
    started = time.perf_counter()
    if args.tables:
        frame = pd.concat([pd.read_csv(path) for path in args.tables], ignore_index=True)
    else:
        frame = pd.DataFrame([row for target in targets
                              for row in run_target(args.hub, target, sizes, seeds, args.nested, args.top_k)])
    if args.out:
        frame.to_csv(args.out, index=False)
    table, summary = summarise(frame)
    pd.set_option("display.width", 200)
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print("kind of row handed back as board.best (outer folds), and how stable the pick is:")
    print(stability(frame).to_string(float_format=lambda v: f"{v:.2f}"))
    seconds = frame.groupby("strategy")["seconds"].sum()
    print("seconds: " + ", ".join(f"{s} {v:.0f}" for s, v in seconds.items())
          + ("" if args.tables else f"; wall {time.perf_counter() - started:.0f} s"))


if __name__ == "__main__":
    main()
