"""Data set loaders on the real data: shapes, units, plausible ranges, xy/limit/fingerprint behaviour."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import pytest

from mdl import datasets
from mdl.datasets import Dataset, PropertyInfo
from mdl.datasets.crystals import STRUCTURE_SETS
from mdl.datasets.polymers import POLYMER_SETS
from mdl.datasets.structure_readers import structure_from_cif as _structure_from_cif
from mdl.datasets.structure_readers import structure_from_jarvis as _structure_from_jarvis
from mdl.errors import DataUnavailableError, InvalidInputError

from conftest import needs_shared




def _source_rows(folder_parts: tuple[str, ...]) -> int:
    """Row count stated in a shared folder's SOURCE.txt ('Rows: N' or 'total N')."""
    from mdl.config import shared_data_dir

    text = (shared_data_dir().joinpath(*folder_parts) / "SOURCE.txt").read_text()
    total = re.search(r"total[= ](\d+)", text)
    return int(total.group(1) if total else re.search(r"Rows: (\d+)", text).group(1))


def _toy(inputs, values) -> Dataset:
    return Dataset("toy", "molecule", "smiles", inputs, pd.DataFrame({"x": values}),
                   {"x": PropertyInfo("x", "eV", "toy", ("the x",))}, "test", "0")


# --- registry ---------------------------------------------------------------------------------------

def test_unknown_name_lists_known_names():
    with pytest.raises(InvalidInputError, match="qm9") as err:
        datasets.load("no_such_set")
    assert "chemicals" in str(err.value)


def test_unexpected_argument_is_an_invalid_input():
    with pytest.raises(InvalidInputError, match="limit"):
        datasets.load("qm9", limit=10)


def test_every_set_is_described():
    names = datasets.available()
    assert names == sorted(names) and {"qm9", "chemicals", "bandgap_expt", "mp_transport"} <= set(names)
    assert all(len(datasets.describe(n)) > 20 for n in names)


def test_properties_and_arguments_are_known_without_reading_any_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MDL_SHARED_DATA", str(tmp_path))  # an empty mirror: no extra data set can load
    datasets.clear_cache()
    assert list(datasets.properties("transpolymer_egc")) == ["band_gap_chain"]
    assert datasets.properties("cdvae_perov5")["indirect_band_gap"].unit == "eV"
    assert datasets.arguments("cdvae_perov5") == ["limit", "seed"] and datasets.arguments("transpolymer_egc") == []
    with pytest.raises(DataUnavailableError, match="Egc.csv is not in the mirror") as err:
        datasets.load("transpolymer_egc")
    assert err.value.dataset == "polymers/transpolymer_Egc" and err.value.setting == "MDL_SHARED_DATA"
    with pytest.raises(InvalidInputError, match="no_such_set"):
        datasets.properties("no_such_set")


# --- Dataset behaviour --------------------------------------------------------------------------------

def test_missing_inputs_are_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="mdl.datasets.base"):
        ds = _toy(["C", "", None, float("nan"), "CO"], [1.0, 2.0, 3.0, 4.0, 5.0])
    assert ds.inputs == ["C", "CO"] and ds.targets["x"].tolist() == [1.0, 5.0]
    assert "dropped 3 row(s)" in caplog.text


def test_xy_keeps_finite_rows_and_accepts_aliases():
    ds = _toy(["A", "B", "C", "D"], [1.0, np.nan, np.inf, 4.0])
    x, y = ds.xy("The X")
    assert x == ["A", "D"] and y.tolist() == [1.0, 4.0]
    with pytest.raises(InvalidInputError, match="unknown property"):
        ds.xy("y")


def test_xy_limit_is_deterministic_and_validated():
    ds = _toy([f"C{i}" for i in range(200)], np.arange(200.0))
    a, b, c = ds.xy("x", limit=20, seed=5), ds.xy("x", limit=20, seed=5), ds.xy("x", limit=20, seed=6)
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and a[0] != c[0]
    assert len(a[0]) == 20 and len(set(a[0])) == 20
    assert len(ds.xy("x", limit=10_000)[0]) == 200
    for bad in (0, -1, 2.5, True):
        with pytest.raises(InvalidInputError):
            ds.xy("x", limit=bad)


def test_fingerprint_tracks_inputs_and_targets():
    base = _toy(["C", "CO"], [1.0, 2.0]).fingerprint()
    assert base == _toy(["C", "CO"], [1.0, 2.0]).fingerprint()
    assert base != _toy(["C", "CC"], [1.0, 2.0]).fingerprint()
    assert base != _toy(["C", "CO"], [1.0, 2.5]).fingerprint()


# --- molecules --------------------------------------------------------------------------------------

def test_qm9():
    ds = datasets.load("qm9")
    assert len(ds) > 130_000 and ds.material == "molecule" and ds.input_kind == "smiles"
    assert list(ds.targets) == ["mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "u0", "u", "h", "g", "cv"]
    assert ds.properties["gap"].unit == "eV" and ds.properties["mu"].unit == "D"
    assert ds.property_name("HOMO energy") == "homo" and ds.properties == datasets.properties("qm9")
    t = ds.targets
    assert t.notna().all().all() and (t["gap"] > 0).all() and (t["homo"] < t["lumo"]).all()
    assert np.allclose(t["gap"], t["lumo"] - t["homo"], atol=0.01)  # inputs rounded to 1e-4 Ha
    assert 3 < t["gap"].median() < 12  # eV (in Hartree it would be ~0.25)
    assert len(set(ds.inputs)) > 0.99 * len(ds)


def test_qm9_fingerprint_is_stable_across_loads():
    first = datasets.load("qm9").fingerprint()
    datasets.clear_cache()
    assert datasets.load("qm9").fingerprint() == first
    assert datasets.load("qm9").fingerprint() != datasets.load("bandgap_expt").fingerprint()


def test_chemicals():
    from rdkit import Chem

    ds = datasets.load("chemicals")
    assert list(ds.targets) == ["melting_point", "boiling_point", "density", "refractive_index",
                                "critical_temperature", "critical_pressure", "critical_volume",
                                "acentric_factor", "logp"]
    assert len(ds) > 20_000 and len(set(ds.inputs)) == len(ds) and ds.properties == datasets.properties("chemicals")
    t = ds.targets
    assert t.notna().sum().min() > 3000
    assert t["melting_point"].dropna().between(0, 5000, inclusive="neither").all()
    assert t["density"].dropna().between(0.3, 25).all() and t["refractive_index"].dropna().between(1, 4).all()
    both = t[["boiling_point", "critical_temperature"]].dropna()
    assert (both["critical_temperature"] > both["boiling_point"]).mean() > 0.98
    sample = np.random.default_rng(0).choice(len(ds), 300, replace=False)
    assert all(Chem.MolToSmiles(Chem.MolFromSmiles(ds.inputs[i])) == ds.inputs[i] for i in sample)
    assert ds.meta["cas"].str.match(r"^\d+-\d\d-\d").all()


def test_solvation_sets():
    from rdkit import Chem

    sol = datasets.load("aqueous_solubility")
    smiles, logs = sol.xy("logS")  # an alias
    assert len(smiles) == 1282 and sol.properties == datasets.properties("aqueous_solubility")
    assert -13 < logs.min() < -9 and 1 < logs.max() < 3  # log10(mol/L): from insoluble to miscible
    assert smiles[0] == "CCCCC" and logs[0] == pytest.approx(-3.18)  # the train file's first record
    assert all(Chem.MolFromSmiles(s) is not None for s in smiles[::50])
    fs = datasets.load("freesolv")
    x, expt = fs.xy("hydration_free_energy")
    _, calc = fs.xy("hydration_free_energy_calc")
    assert len(x) == 642 and fs.properties["hydration_free_energy"].unit == "kcal/mol"
    assert -30 < expt.min() < -20 and 0 < expt.max() < 5 and np.corrcoef(expt, calc)[0, 1] > 0.9
    assert fs.meta["name"].iloc[0] == "4-methoxy-N,N-dimethyl-benzamide"


# --- inorganic, formulas ----------------------------------------------------------------------------

def test_bandgap_expt():
    from pymatgen.core import Composition

    ds = datasets.load("bandgap_expt")
    x, y = ds.xy("band_gap")
    assert 3800 < len(x) < 4000 and ds.properties == datasets.properties("bandgap_expt")
    assert ds.properties["band_gap"].unit == "eV"
    assert (y >= 0).all() and y.max() < 20
    assert all(Composition(f).num_atoms > 0 for f in x[:200])


def test_mp_transport_units_are_consistent():
    ds = datasets.load("mp_transport")
    assert len(ds) > 47_000 and len(ds.targets.columns) == 10
    assert all(p.unit for p in ds.properties.values()) and ds.meta["mp_id"].is_unique
    assert ds.properties == datasets.properties("mp_transport")
    t = ds.targets
    ratio = t["power_factor_p"] / (t["seebeck_p"] ** 2 * t["conductivity_p"] * 1e-6)  # PF = S^2 sigma
    assert 0.95 < ratio.median() < 1.05
    assert (t["conductivity_n"] > 0).all() and (t["effective_mass_p"] > 0).all()


@needs_shared
@pytest.mark.parametrize("name, prop, low, high", [
    ("crossproptl_expt_bandgap", "band_gap", 0, 20),
    ("crossproptl_expt_formation_energy", "formation_energy", -10, 2),
])
def test_crossproptl(name, prop, low, high):
    ds = datasets.load(name)
    assert len(ds) == _source_rows(("crystals", name))
    assert ds.properties == datasets.properties(name)
    assert set(ds.meta["split"]) == {"train", "test"} and (ds.meta["split"] == "train").mean() > 0.8
    x, y = ds.xy(prop)
    assert len(x) == len(ds) and ((y >= low) & (y <= high)).all()
    if prop == "formation_energy":
        assert np.median(y) < 0


# --- polymers ---------------------------------------------------------------------------------------

@needs_shared
@pytest.mark.parametrize("name", POLYMER_SETS)
def test_polymer_sets(name):
    from rdkit import Chem

    ds = datasets.load(name)
    from mdl.config import shared_data_dir

    folder = next(p.name for p in (shared_data_dir() / "polymers").iterdir() if p.name.lower() == name)
    rows = _source_rows(("polymers", folder))
    assert 0.95 * rows <= len(ds) <= rows
    assert ds.material == "polymer" and ds.input_kind == "repeat_unit" and re.fullmatch(r"[0-9a-f]{40}", ds.version)
    assert ds.properties == datasets.properties(name)
    assert all(s.count("*") == 2 and "[*]" not in s for s in ds.inputs)
    assert all(Chem.MolFromSmiles(s) is not None for s in ds.inputs[:100])
    assert ds.targets.notna().any(axis=1).all()  # every kept row has a label
    for prop in ds.properties:
        x, y = ds.xy(prop)
        assert len(x) == ds.targets[prop].notna().sum() > 200 and np.isfinite(y).all()


@needs_shared
def test_sparse_polymer_labels():
    ds = datasets.load("neurips2025_opp_train")
    counts = ds.targets.notna().sum()
    assert (counts < len(ds)).all() and counts["fractional_free_volume"] > 10 * counts["glass_transition_temperature"]
    tg = ds.xy("Tg")[1]
    assert ds.properties["glass_transition_temperature"].unit == "degC" and -200 < tg.min() < tg.max() < 600


# --- structures -------------------------------------------------------------------------------------

@needs_shared
@pytest.mark.parametrize("name", STRUCTURE_SETS)
def test_structure_sets_subset(name):
    from pymatgen.core import Structure

    ds = datasets.load(name, limit=40, seed=3)
    assert len(ds) == 40 and all(isinstance(s, Structure) and len(s) > 0 for s in ds.inputs)
    assert ds.properties == datasets.properties(name)
    assert all(s.volume / len(s) > 3 for s in ds.inputs)  # no collapsed cells (Angstrom^3 per atom)
    props = list(ds.properties.values())
    if name.startswith("optimal_ptft"):
        assert props[0].scaled and props[0].unit == "" and ds.targets.abs().max().max() <= 1.0
    else:
        assert not any(p.scaled for p in props) and all(p.unit for p in props)
    if name == "cdvae_perov5":
        assert all(len(s) == 5 for s in ds.inputs) and (ds.targets["indirect_band_gap"] >= 0).all()
    if name == "cdvae_carbon24":
        assert all({e.symbol for e in s.composition} == {"C"} for s in ds.inputs)


@needs_shared
def test_structure_subset_is_deterministic_and_fingerprinted():
    a = datasets.load("cdvae_perov5", limit=30, seed=1)
    fp = a.fingerprint()
    datasets.clear_cache()
    b = datasets.load("cdvae_perov5", limit=30, seed=1)
    c = datasets.load("cdvae_perov5", limit=30, seed=2)
    assert a.meta["material_id"].tolist() == b.meta["material_id"].tolist() and b.fingerprint() == fp
    assert a.meta["material_id"].tolist() != c.meta["material_id"].tolist() and c.fingerprint() != fp


@needs_shared
@pytest.mark.parametrize("name", ["cdvae_perov5", "cdvae_carbon24"])
def test_fast_cif_reader_matches_pymatgen(name):
    from pymatgen.core import Structure

    from mdl.config import shared_data_dir

    cifs = pd.read_csv(shared_data_dir() / "crystals" / name / "test.csv")["cif"].sample(25, random_state=0)
    for text in cifs:
        fast, ref = _structure_from_cif(text), Structure.from_str(text, fmt="cif")
        assert np.allclose(fast.lattice.matrix, ref.lattice.matrix, atol=1e-6) and len(fast) == len(ref)
        assert ((fast.frac_coords >= 0) & (fast.frac_coords < 1)).all()
        for site in fast:  # pymatgen snaps coordinates within 1e-4 of simple fractions; we keep them
            gaps = [np.abs((site.frac_coords - other.frac_coords + 0.5) % 1 - 0.5).max()
                    for other in ref if other.species == site.species]
            assert min(gaps) < 1e-4


def test_cif_reader_falls_back_for_symmetric_cifs():
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.cif import CifWriter

    rocksalt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    text = str(CifWriter(rocksalt, symprec=0.1))
    assert "'x, y, z'" in text and "-x" in text  # a symmetrised CIF: not the P1 fast path
    assert len(_structure_from_cif(text)) == 8


@needs_shared
def test_jarvis_atoms_cartesian_flag():
    import json

    from mdl.config import shared_data_dir

    entry = json.loads((shared_data_dir() / "crystals" / "optimal_ptft_ph" / "ph_union.json").read_text())[0]
    frac = _structure_from_jarvis(entry["atoms"])
    cart = dict(entry["atoms"], coords=(np.array(entry["atoms"]["coords"]) @ np.array(
        entry["atoms"]["lattice_mat"])).tolist(), cartesian=True)
    assert np.allclose(_structure_from_jarvis(cart).frac_coords, frac.frac_coords, atol=1e-8)


@pytest.mark.slow
@needs_shared
@pytest.mark.parametrize("name", STRUCTURE_SETS)
def test_structure_sets_full(name):
    ds = datasets.load(name)
    assert len(ds) == _source_rows(("crystals", name))
    assert ds.properties == datasets.properties(name)
