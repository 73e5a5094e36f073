"""Benchmark: `mdl.search` over a generated index of 150,000 models (target: <= 100 ms a query).

    python tools/bench_search.py [--models 150000]

The index is generated (random metrics over 40 real property names, 3 materials, 4 families) and
written as a real local hub index, so the timing includes what a user's call does after the first
read (the index is cached in memory until the file changes); the cold read is reported too.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import mdl
from mdl.hub import LocalHub
from mdl.hub.index import COLUMNS

PROPERTIES = ["homo", "lumo", "gap", "mu", "alpha", "r2", "zpve", "u0", "u", "h", "g", "cv", "melting_point",
              "boiling_point", "density", "refractive_index", "critical_temperature", "critical_pressure",
              "critical_volume", "acentric_factor", "logp", "band_gap", "formation_energy", "seebeck",
              "conductivity", "power_factor", "thermal_conductivity", "glass_transition", "ffv", "rg",
              "electron_affinity", "ionization_energy", "dielectric_constant", "crystallinity", "shear_modulus",
              "phonon_peak", "cohesive_energy_density", "atomization_enthalpy", "injection_barrier", "tc"]


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    prop = rng.choice(PROPERTIES, n)
    family = rng.choice(["nn", "rf", "gb", "en"], n, p=[0.7, 0.1, 0.1, 0.1])
    frame = pd.DataFrame({
        "model_id": [f"set{i // 1000:03d}-{f}-{i:06d}" for i, f in enumerate(family)],
        "modelset": [f"set{i // 1000:03d}" for i in range(n)],
        "material": rng.choice(["molecule", "polymer", "inorganic"], n),
        "property": prop, "aliases": [p.replace("_", " ").upper() for p in prop], "unit": "eV",
        "dataset": "generated", "dataset_hash": "0" * 64, "descriptor": rng.choice(["morgan", "composition"], n),
        "descriptor_spec": "{}", "family": family, "hyperparameters": json.dumps({"hidden": [200, 100, 20]}),
        "n_train": rng.integers(100, 100_000, n), "n_test": rng.integers(20, 20_000, n),
        "mae": rng.gamma(2.0, 0.1, n), "rmse": rng.gamma(2.0, 0.15, n), "r2": rng.uniform(-0.2, 1.0, n),
        "pearson": rng.uniform(0, 1, n), "spearman": rng.uniform(0, 1, n), "created": "2026-11-23T00:00:00+00:00",
        "path": "x", "files": "{}", "source_model": "", "property_metrics": "",
    })
    multi = np.flatnonzero(rng.random(n) < 0.01)  # 1% multi-property networks (QM9-style, 3 properties)
    frame.loc[multi, "property"] = "homo; lumo; gap"
    frame.loc[multi, "unit"] = "eV; eV; eV"
    frame.loc[multi, "property_metrics"] = json.dumps({p: {"mae": 0.2, "rmse": 0.3, "r2": 0.8, "pearson": 0.9,
                                                           "spearman": 0.9} for p in ("homo", "lumo", "gap")})
    return frame[COLUMNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=150_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-search-"))
    generate(args.models).to_parquet(root / "index.parquet", index=False)
    hub = LocalHub(root)
    t0 = time.perf_counter()
    hub.index()
    cold = time.perf_counter() - t0
    queries = {
        "property='band gap'": dict(property="band gap"),
        "property='homo', material, min_r2": dict(property="homo", material="molecule", min_r2=0.5),
        "model_type='random forest', sort mae": dict(model_type="random forest", sort_by="mae", limit=100),
        "no filter, top 10 by r2": dict(limit=10),
    }
    rows = [{"query": "(cold read of the index)", "ms": cold * 1000, "hits": len(hub.index())}]
    for name, kwargs in queries.items():
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            hits = mdl.search(hub=hub, **kwargs)
            times.append(time.perf_counter() - t0)
        rows.append({"query": name, "ms": 1000 * float(np.median(times)), "hits": len(hits)})
    table = pd.DataFrame(rows)
    print(f"mdl.search over {args.models:,} models (median of {args.repeats}; target <= 100 ms)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))


if __name__ == "__main__":
    main()
