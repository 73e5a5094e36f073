"""Build ``mdl/descriptors/data/elements.csv``: 58 elemental features for H..Pu (Z = 1..94).

The feature names follow XenonPy's ``elements_completed`` table. Values come from three sources
installed at build time (the runtime only reads the CSV):

* ``magpie``   -- matminer's ``utils/data_files/magpie_elementdata/*.table`` files;
* ``mendeleev`` -- ``mendeleev.fetch.fetch_table("elements")`` (PyPI package ``mendeleev``; it need
  not live in the project's environment: pass ``--extra-path`` to a ``pip install --target`` folder);
* ``pymatgen`` -- ``pymatgen.core.Element`` attributes.

Missing values are imputed, per feature, by the first rule that applies:

1. ``period``: linear interpolation in atomic number between the nearest elements of the same
   period (row) that have a value, one on each side;
2. ``group``: the value of the nearest element of the same group that has one (the closest period,
   the lighter one on a tie); the f-block is grouped by position in its series (La..Lu with Ac..Lr);
3. ``median``: the median of the feature over the elements that have a value.

A sibling ``elements.json`` records the sources, package versions and every imputed cell.

Usage::

    pip install --target /tmp/mendeleev_pkgs mendeleev
    python tools/make_element_table.py --extra-path /tmp/mendeleev_pkgs
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

N_ELEMENTS = 94  # H..Pu
OUT_DIR = Path(__file__).resolve().parents[1] / "mdl" / "descriptors" / "data"

#: feature name -> (source, key in that source, note)
FEATURES: dict[str, tuple[str, str, str]] = {
    "atomic_number": ("magpie", "Number", ""),
    "atomic_radius": ("mendeleev", "atomic_radius", "pm"),
    "atomic_radius_rahm": ("mendeleev", "atomic_radius_rahm", "pm"),
    "atomic_volume": ("magpie", "AtomicVolume", "A^3/atom"),
    "atomic_weight": ("mendeleev", "atomic_weight", "u"),
    "boiling_point": ("magpie", "BoilingT", "K"),
    "bulk_modulus": ("magpie", "BulkModulus", "GPa"),
    "c6_gb": ("mendeleev", "c6_gb", "C6 dispersion coefficient (Gould-Bucko), a.u."),
    "covalent_radius_cordero": ("mendeleev", "covalent_radius_cordero", "pm"),
    "covalent_radius_pyykko": ("mendeleev", "covalent_radius_pyykko", "pm"),
    "covalent_radius_pyykko_double": ("mendeleev", "covalent_radius_pyykko_double", "pm"),
    "covalent_radius_pyykko_triple": ("mendeleev", "covalent_radius_pyykko_triple", "pm"),
    "covalent_radius_slater": ("pymatgen", "atomic_radius", "Slater's empirical radius, pm"),
    "density": ("mendeleev", "density", "g/cm^3"),
    "dipole_polarizability": ("mendeleev", "dipole_polarizability", "a.u."),
    "electron_negativity": ("pymatgen", "X", "Pauling scale"),
    "electron_affinity": ("magpie", "ElectronAffinity", "kJ/mol"),
    "en_allen": ("mendeleev", "en_allen", "eV"),
    "en_ghosh": ("mendeleev", "en_ghosh", ""),
    "en_pauling": ("mendeleev", "en_pauling", ""),
    "first_ion_en": ("magpie", "FirstIonizationEnergy", "eV"),
    "fusion_enthalpy": ("magpie", "FusionEnthalpy", "kJ/mol"),
    "gs_bandgap": ("magpie", "GSbandgap", "DFT (OQMD), eV"),
    "gs_energy": ("magpie", "GSenergy_pa", "DFT (OQMD), eV/atom"),
    "gs_est_bcc_latcnt": ("magpie", "GSestBCClatcnt", "A"),
    "gs_est_fcc_latcnt": ("magpie", "GSestFCClatcnt", "A"),
    "gs_mag_moment": ("magpie", "GSmagmom", "mu_B/atom"),
    "gs_volume_per": ("magpie", "GSvolume_pa", "A^3/atom"),
    "hhi_p": ("magpie", "HHIp", "Herfindahl-Hirschman index, production"),
    "hhi_r": ("magpie", "HHIr", "Herfindahl-Hirschman index, reserves"),
    "heat_capacity_mass": ("magpie", "HeatCapacityMass", "J/g/K"),
    "heat_capacity_molar": ("magpie", "HeatCapacityMolar", "J/mol/K"),
    "icsd_volume": ("magpie", "ICSDVolume", "A^3/atom"),
    "evaporation_heat": ("mendeleev", "evaporation_heat", "kJ/mol"),
    "heat_of_formation": ("mendeleev", "heat_of_formation", "kJ/mol"),
    "lattice_constant": ("mendeleev", "lattice_constant", "A"),
    "mendeleev_number": ("magpie", "MendeleevNumber", ""),
    "melting_point": ("magpie", "MeltingT", "K"),
    "molar_volume": ("magpie", "MolarVolume", "cm^3/mol"),
    "num_unfilled": ("magpie", "NUnfilled", ""),
    "num_valance": ("magpie", "NValence", "XenonPy's spelling"),
    "num_d_unfilled": ("magpie", "NdUnfilled", ""),
    "num_d_valence": ("magpie", "NdValence", ""),
    "num_f_unfilled": ("magpie", "NfUnfilled", ""),
    "num_f_valence": ("magpie", "NfValence", ""),
    "num_p_unfilled": ("magpie", "NpUnfilled", ""),
    "num_p_valence": ("magpie", "NpValence", ""),
    "num_s_unfilled": ("magpie", "NsUnfilled", ""),
    "num_s_valence": ("magpie", "NsValence", ""),
    "period": ("magpie", "Row", ""),
    "specific_heat": ("mendeleev", "specific_heat_capacity", "J/g/K"),
    "thermal_conductivity": ("magpie", "ThermalConductivity", "W/m/K"),
    "vdw_radius": ("mendeleev", "vdw_radius", "pm"),
    "vdw_radius_alvarez": ("mendeleev", "vdw_radius_alvarez", "pm"),
    "vdw_radius_mm3": ("mendeleev", "vdw_radius_mm3", "pm"),
    "vdw_radius_uff": ("mendeleev", "vdw_radius_uff", "pm"),
    "sound_velocity": ("pymatgen", "velocity_of_sound", "m/s"),
    "polarizability": ("magpie", "Polarizability", "10^-24 cm^3"),
}


def _magpie(key: str) -> np.ndarray:
    import matminer

    path = Path(matminer.__file__).parent / "utils" / "data_files" / "magpie_elementdata" / f"{key}.table"
    values = []
    for line in path.read_text().splitlines()[:N_ELEMENTS]:
        try:
            values.append(float(line.strip()))
        except ValueError:  # "Missing", "NaN", blank
            values.append(np.nan)
    return np.array(values)


def _pymatgen(key: str, symbols: list[str]) -> np.ndarray:
    from pymatgen.core import Element

    values = []
    for symbol in symbols:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = getattr(Element(symbol), key)
        values.append(np.nan if value is None else float(value))
    values = np.array(values)
    return values * 100.0 if key == "atomic_radius" else values  # Angstrom -> pm


def _group_key(z: int, column: int) -> tuple[str, int]:
    """Group used by the ``group`` rule: f-block elements by position in their series."""
    if 57 <= z <= 71:
        return ("f", z - 57)
    if 89 <= z <= 103:
        return ("f", z - 89)
    return ("g", column)


def impute(values: np.ndarray, periods: np.ndarray, groups: list[tuple[str, int]]) -> tuple[np.ndarray, dict]:
    """Fill NaNs by the period / group / median rules; return the filled array and {index: rule}."""
    known = ~np.isnan(values)
    out = values.copy()
    rules: dict[int, str] = {}
    for i in np.flatnonzero(~known):
        same_period = np.flatnonzero(known & (periods == periods[i]))
        left, right = same_period[same_period < i], same_period[same_period > i]
        if left.size and right.size:
            a, b = left[-1], right[0]
            out[i] = values[a] + (values[b] - values[a]) * (i - a) / (b - a)
            rules[i] = "period"
            continue
        same_group = [j for j in np.flatnonzero(known) if groups[j] == groups[i]]
        if same_group:
            j = min(same_group, key=lambda j: (abs(periods[j] - periods[i]), periods[j]))
            out[i] = values[j]
            rules[i] = "group"
            continue
        out[i] = float(np.median(values[known]))
        rules[i] = "median"
    return out, rules


def build() -> tuple[pd.DataFrame, dict]:
    from mendeleev.fetch import fetch_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mendeleev = fetch_table("elements").sort_values("atomic_number").iloc[:N_ELEMENTS]
    symbols = list(mendeleev["symbol"])
    periods = _magpie("Row").astype(int)
    groups = [_group_key(z, int(c)) for z, c in zip(range(1, N_ELEMENTS + 1), _magpie("Column"))]

    table = pd.DataFrame(index=pd.Index(symbols, name="symbol"))
    imputed: dict[str, dict[str, str]] = {}
    for name, (source, key, _) in FEATURES.items():
        if source == "magpie":
            raw = _magpie(key)
        elif source == "mendeleev":
            raw = mendeleev[key].to_numpy(dtype=float)
        else:
            raw = _pymatgen(key, symbols)
        filled, rules = impute(raw, periods, groups)
        table[name] = filled
        if rules:
            imputed[name] = {symbols[i]: rule for i, rule in sorted(rules.items())}

    meta = {
        "description": "58 elemental features (XenonPy elements_completed names) for H..Pu; "
        "see tools/make_element_table.py for the imputation rules",
        "imputation": [
            "period: linear interpolation in Z between the nearest same-period elements with values",
            "group: value of the nearest same-group element (f-block grouped by series position)",
            "median: feature median over elements with values",
        ],
        "sources": {
            name: {"source": source, "key": key, "note": note} for name, (source, key, note) in FEATURES.items()
        },
        "versions": {pkg: importlib.metadata.version(pkg) for pkg in ("matminer", "mendeleev", "pymatgen")},
        "imputed": imputed,
    }
    return table, meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-path", action="append", default=[], help="folder appended to sys.path")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    sys.path.extend(args.extra_path)

    table, meta = build()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = args.out_dir / "elements.csv"
    table.to_csv(csv_path, float_format="%.10g", lineterminator="\n")
    meta["sha256"] = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    (args.out_dir / "elements.json").write_text(json.dumps(meta, indent=1) + "\n")
    n_imputed = sum(len(v) for v in meta["imputed"].values())
    print(f"wrote {csv_path} ({table.shape[0]} elements x {table.shape[1]} features, {n_imputed} cells imputed)")


if __name__ == "__main__":
    main()
