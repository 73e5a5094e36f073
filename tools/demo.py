"""The main job end to end on the local hub: build a starter zoo if missing, then transfer.

Target: densities of 200 polymers (NeurIPS 2025 Open Polymer Prediction data, ../shared/data),
a material class and property the starter zoo of small-molecule models was not trained on — the
paper's cross-domain showcase. Prints the 5-fold CV MAE of a random forest trained from scratch on
the raw descriptor of the repeat units beside that of every transferred source, best first.

    python tools/demo.py            # hub: $MDL_HUB or ~/.cache/mdl/hub
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

import mdl
from mdl import datasets
from mdl.descriptors import get_descriptor
from mdl.hub import open_hub
from mdl.transfer import cross_validated, make_head
from mdl.zoo import build, load_recipes

RECIPES = Path(__file__).resolve().parent.parent / "registry" / "starter"
TARGET, PROPERTY, N_SAMPLES = "neurips2025_opp_train", "density", 200


def main() -> None:
    start = time.perf_counter()
    hub = open_hub()
    print(f"hub: {hub.address}")
    recipes = load_recipes([RECIPES])
    report = build(recipes, hub=hub)
    print(f"starter zoo: {len(report.built)} models built, {len(report.skipped)} already there, "
          f"{len(report.failed)} failed ({time.perf_counter() - start:.0f} s)")

    target = datasets.load(TARGET)
    units, y = target.xy(PROPERTY, limit=N_SAMPLES, seed=42)
    unit = target.properties[PROPERTY].unit
    print(f"target: {PROPERTY} ({unit}) of {len(y)} polymers ({TARGET}); 5-fold CV, same folds for every row")
    rows = []
    raw = get_descriptor("morgan", radius=2, n_bits=2048, counts=True, polymer=True).transform(units)
    scores = cross_validated(make_head("rf"), raw, y, cv=5)
    rows.append({"model": "random forest from scratch (polymer Morgan counts)", "source property": "-",
                 "CV MAE": scores["mae"], "CV R2": scores["r2"]})
    sources = mdl.search(hub=hub)
    sources = sources[sources["modelset"].isin([r.modelset for r in recipes])]
    for row in sources.itertuples():
        model = mdl.transfer(row.model_id, units, y, head="rf", cv=5, hub=hub)
        rows.append({"model": f"transfer {row.model_id}", "source property": row.property,
                     "CV MAE": model.cv_scores_["mae"], "CV R2": model.cv_scores_["r2"]})
    table = pd.DataFrame(rows).sort_values("CV MAE").reset_index(drop=True)
    pd.set_option("display.width", 140)
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    best = table.iloc[0]
    print(f"\nbest: {best['model']} — CV MAE {best['CV MAE']:.4f} {unit} vs {rows[0]['CV MAE']:.4f} {unit} "
          "from scratch")
    print(f"demo finished in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
