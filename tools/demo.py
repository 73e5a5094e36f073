"""The main job end to end on the default hub: build a starter zoo if missing, screen it, use the result.

1. **A starter zoo.** 21 small-molecule source models (networks and random forests trained on QM9
   polarisabilities and on experimental densities and refractive indices of molecules from the `chemicals`
   package) are built from the recipes in ``mdl.registry/starter`` and published to the hub, once.
2. **A small target they were not trained on.** DFT refractive indices of 200 polymers (TransPolymer's `Nc`
   set, MIT, shipped inside the package: no network needed), written as repeat units with two ``*`` ends.
3. **A screen.** ``mdl.screen`` ranks every starter source as a transfer source and compares the best with a
   random forest and gradient boosting trained from scratch, all on the same 5 folds; nested CV gives the
   honest error of choosing and fitting. It prints the board and which row ``board.best`` is, and why.
4. **The result in use.** ``board.best`` is saved and predicts three polymers it has not seen.

    python tools/demo.py            # hub: $MDL_HUB or ~/.cache/mdl/hub
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import mdl
from mdl import datasets
from mdl.hub import open_hub
from mdl.zoo import build, load_recipes, registry_path

TARGET, PROPERTY, N_SAMPLES = "transpolymer_nc", "refractive_index", 200
TOP_K = 6  # sources that get the head with full cross-validation after the cheap first-stage ranking
NEW_POLYMERS = {"polystyrene": "*CC(*)c1ccccc1", "poly(vinyl chloride)": "*CC(*)Cl",
                "poly(methyl methacrylate)": "*CC(*)(C)C(=O)OC"}


def main() -> None:
    start = time.perf_counter()
    hub = open_hub()
    print(f"hub: {hub.address}")
    recipes = load_recipes([registry_path("starter")])
    report = build(recipes, hub=hub)
    print(f"1. starter zoo: {len(report.built)} models built, {len(report.skipped)} already there, "
          f"{len(report.failed)} failed ({time.perf_counter() - start:.0f} s)")

    units, y = datasets.load(TARGET).xy(PROPERTY, limit=N_SAMPLES, seed=42)
    print(f"2. target: {PROPERTY.replace('_', ' ')} of {len(y)} polymers ({TARGET}, range {y.min():.2f}-{y.max():.2f})")
    sources = mdl.search(hub=hub)
    sources = sources[sources["modelset"].isin([r.modelset for r in recipes])]
    step = time.perf_counter()
    board = mdl.screen(units, y, sources=sources, top_k=TOP_K, cv=5, nested=True, hub=hub)
    print(f"3. screened {board.info['n_screened']} sources in {time.perf_counter() - step:.0f} s "
          f"(5-fold CV, the same folds for every row; MAE and R² out of fold):")
    print(board)
    honest = board.loc[board["kind"] == "select-then-fit", "mae"].iloc[0]
    print(f"   picking among {len(board) - 1} rows on these folds flatters the winner; the nested-CV error of "
          f"the whole select-then-fit procedure is {honest:.4f}")

    folder = Path(tempfile.mkdtemp(prefix="mdl-demo-")) / "best-model"
    board.best.save(folder)
    predictions = mdl.load_saved(folder, hub=hub).predict(list(NEW_POLYMERS.values()))
    print(f"4. board.best saved to {folder} and read back; its predictions for polymers it has not seen:")
    for name, value in zip(NEW_POLYMERS, predictions):
        print(f"   {name:26s} {value:.3f}")
    print(f"demo finished in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
