"""Structure inputs everywhere X is accepted: every format reads to the same crystal, bad rows are named
in one error, files and sizes are bounded, composition descriptors read structures, the joined
descriptor round-trips, and the structure recipes validate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import needs_shared
from pymatgen.core import IStructure, Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from mdl.descriptors import from_spec, get_descriptor
from mdl.descriptors.spec import DescriptorSpec
from mdl.descriptors.structure_input import parse_structures
from mdl.errors import InvalidInputError
from mdl.zoo import load_recipes

ROOT = Path(__file__).resolve().parent.parent


FCC = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]


def rocksalt(a: float = 5.64) -> Structure:
    """Conventional NaCl cell, 8 sites (written out: Structure.from_spacegroup costs ~1 s)."""
    return Structure(Lattice.cubic(a), ["Na"] * 4 + ["Cl"] * 4, FCC + [[x + 0.5, y, z] for x, y, z in FCC])


def perovskite() -> Structure:
    return Structure(Lattice.cubic(3.9), ["Sr", "Ti", "O", "O", "O"],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def jarvis(structure: Structure, cartesian: bool = False) -> dict:
    coords = structure.cart_coords if cartesian else structure.frac_coords
    return {"lattice_mat": structure.lattice.matrix.tolist(), "coords": coords.tolist(),
            "elements": [site.specie.symbol for site in structure], "cartesian": cartesian, "props": []}


def every_format(structure: Structure, folder: Path) -> dict[str, object]:
    """The same crystal in each accepted form (files written into ``folder``)."""
    import ase

    (folder / "x.cif").write_text(structure.to(fmt="cif"))
    (folder / "POSCAR").write_text(structure.to(fmt="poscar"))
    (folder / "x.vasp").write_text(structure.to(fmt="poscar"))
    atoms = AseAtomsAdaptor.get_atoms(structure)
    return {
        "Structure": structure, "IStructure": IStructure.from_sites(structure.sites),
        "CIF text": structure.to(fmt="cif"), "POSCAR text": structure.to(fmt="poscar"),
        "CIF path": folder / "x.cif", "CIF file name": str(folder / "x.cif"), "POSCAR path": folder / "POSCAR",
        "vasp file name": str(folder / "x.vasp"), "JARVIS dict": jarvis(structure),
        "JARVIS dict, cartesian": jarvis(structure, cartesian=True),
        "ASE Atoms": ase.Atoms(atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell, pbc=True),
    }


@pytest.mark.parametrize("crystal", [rocksalt, perovskite])
def test_every_format_reads_to_the_same_crystal_and_the_same_row(crystal, tmp_path):
    structure = crystal()
    forms = every_format(structure, tmp_path)
    parsed = parse_structures(list(forms.values()))
    for (form, _), got in zip(forms.items(), parsed):
        assert type(got) is Structure, form
        assert got.matches(structure) and got.composition == structure.composition, form
    d = get_descriptor("structure_composition", n_bins=12)
    X = d.transform(list(forms.values()))
    assert np.allclose(X, X[0], atol=1e-6), [f for f, row in zip(forms, X) if not np.allclose(row, X[0], atol=1e-6)]
    # a Series and a one-column DataFrame of mixed forms are sequences of inputs too
    assert np.allclose(d.transform(pd.Series(list(forms.values()))), X)
    assert np.allclose(d.transform(pd.DataFrame({"crystal": list(forms.values())})), X)


def test_bad_rows_are_named_in_one_error(tmp_path):
    import ase

    disordered = rocksalt()
    disordered.replace_species({"Na": {"Na": 0.5, "K": 0.5}})
    (tmp_path / "notes.txt").write_text(rocksalt().to(fmt="cif"))
    broken_jarvis = {k: v for k, v in jarvis(rocksalt()).items() if k != "cartesian"}
    rows = [rocksalt(), "NaCl", disordered, "data_x\n_cell_length_a 3\n", tmp_path / "missing.cif",
            tmp_path / "notes.txt", broken_jarvis, ase.Atoms("H2O", positions=[[0, 0, 0], [0, 0, 1], [0, 1, 0]]),
            "not\na POSCAR", dict(jarvis(rocksalt()), elements=["Xx"] * 8), rocksalt()]
    with pytest.raises(InvalidInputError) as err:
        parse_structures(rows)
    assert err.value.rows == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    message = str(err.value)
    for says, row in [("formula", 1), ("disordered", 2), ("CIF text that cannot be read", 3),
                      ("structure file not found", 4), ("structure file of unknown type", 5),
                      ("without cartesian", 6), ("ASE Atoms without a periodic", 7), ("POSCAR text", 8),
                      ("unknown element", 9)]:
        assert f"{says}" in message and f"(rows {row})" in message.split(says, 1)[1].split(";")[0], says
    with pytest.raises(InvalidInputError, match="on_disorder must be one of"):
        parse_structures([rocksalt()], on_disorder="ignore")
    for single, kind in [(rocksalt().to(fmt="cif"), "string"), (rocksalt(), "Structure"), (jarvis(rocksalt()), "dict")]:
        with pytest.raises(InvalidInputError, match=f"got a single {kind}: wrap it in a list"):
            parse_structures(single)  # not its characters, sites or keys as rows
    with pytest.raises(InvalidInputError, match="single dict"):
        get_descriptor("composition").transform({"Fe": 2, "O": 3})


def test_disorder_is_refused_by_default_or_takes_the_majority_species():
    alloy = Structure(Lattice.cubic(3.6), [{"Cu": 0.75, "Au": 0.25}, "Cu", "Cu", {"Au": 0.6}],
                      [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    with pytest.raises(InvalidInputError, match="on_disorder='majority'"):
        get_descriptor("structure").transform([alloy])
    ordered = parse_structures([alloy], on_disorder="majority")[0]
    assert ordered.is_ordered and ordered.composition.reduced_formula == "Cu3Au"  # the vacancy site is filled by Au
    assert get_descriptor("structure").transform([ordered]).shape == (1, 32)
    # the composition descriptors need no ordering: partial occupancies count as fractions
    row = get_descriptor("element_fraction").transform([alloy.to(fmt="cif")])[0]
    assert row[get_descriptor("element_fraction").columns.index("frac:Au")] == pytest.approx(0.85 / 3.6)  # Au 0.25 + 0.6 of 3.6 atoms


def test_files_and_sizes_are_bounded(tmp_path, monkeypatch):
    big = rocksalt() * (3, 3, 3)  # 216 sites
    (tmp_path / "big.cif").write_text(big.to(fmt="cif"))
    monkeypatch.setenv("MDL_MAX_SITES", "100")
    inputs = [rocksalt(), big, big.to(fmt="cif"), tmp_path / "big.cif", jarvis(big), AseAtomsAdaptor.get_atoms(big)]
    with pytest.raises(InvalidInputError, match="more than 100 sites.*MDL_MAX_SITES") as err:
        parse_structures(inputs)
    assert err.value.rows == [1, 2, 3, 4, 5]
    monkeypatch.setenv("MDL_MAX_SITES", "1000")
    assert [len(s) for s in parse_structures(inputs)] == [8] + [216] * 5
    size = (tmp_path / "big.cif").stat().st_size
    monkeypatch.setenv("MDL_MAX_CIF_LENGTH", str(size - 1))
    with pytest.raises(InvalidInputError, match=f"larger than {size - 1} bytes.*MDL_MAX_CIF_LENGTH") as err:
        parse_structures([tmp_path / "big.cif", str(tmp_path / "big.cif"), rocksalt()])
    assert err.value.rows == [0, 1]
    with pytest.raises(InvalidInputError, match="longer than") as err:  # texts: refused before any parsing
        parse_structures([rocksalt(), big.to(fmt="cif")])
    assert err.value.rows == [1]


@pytest.mark.parametrize("name", ["composition", "element_fraction"])
def test_composition_descriptors_read_structure_inputs(name, tmp_path):
    structure = perovskite() * (2, 2, 2)  # a 40-site cell: its CIF is longer than a formula may be
    forms = every_format(structure, tmp_path)
    d = get_descriptor(name)
    X = d.transform(list(forms.values()) + ["SrTiO3"])
    assert len(forms["CIF text"]) > 2000 and np.allclose(X, X[-1])
    with pytest.raises(InvalidInputError) as err:
        d.transform(["SrTiO3", "data_x\n_cell_length_a 3\n", "Xx2", tmp_path / "missing.cif"])
    assert err.value.rows == [1, 2, 3]
    assert "CIF text that cannot be read" in str(err.value) and "unknown element" in str(err.value)


def test_joined_descriptor_is_both_parts_and_its_spec_round_trips():
    crystals = [rocksalt(), perovskite(), rocksalt(6.0)]
    d = get_descriptor("structure_composition", r_max=5.0, n_bins=10)
    X = d.transform(crystals)
    structure = get_descriptor("structure", r_max=5.0, n_bins=10).transform(crystals)
    composition = get_descriptor("composition").transform(crystals)
    assert np.array_equal(X, np.hstack([structure, composition]))
    assert d.columns[:18] == get_descriptor("structure", r_max=5.0, n_bins=10).columns
    spec = DescriptorSpec.from_dict(json.loads(d.spec.to_json()))
    rebuilt = from_spec(spec)
    assert rebuilt.spec == d.spec and rebuilt.spec.params == {"r_max": 5.0, "n_bins": 10, "symprec": 0.1}
    assert np.array_equal(rebuilt.transform(crystals), X)
    assert set(d.spec.library) == {"pymatgen", "spglib", "elements.csv"}


@needs_shared
def test_the_data_sets_raw_rows_read_as_their_loaders_read_them():
    from mdl import datasets
    from mdl.config import shared_data_dir

    folder = shared_data_dir() / "crystals"
    ptft = datasets.load("optimal_ptft_fe", limit=20, seed=3)
    raw = {r["jid"]: r["atoms"] for r in json.loads((folder / "optimal_ptft_fe" / "fe_union.json").read_text())}
    atoms = pd.Series([raw[jid] for jid in ptft.meta["jid"]])
    for got, want in zip(parse_structures(atoms), ptft.inputs):
        assert np.allclose(got.lattice.matrix, want.lattice.matrix) and got.species == want.species
    perov = datasets.load("cdvae_perov5", limit=20, seed=3)
    cifs = pd.read_csv(folder / "cdvae_perov5" / "val.csv").set_index("material_id")["cif"]
    val = perov.meta["split"] == "val"
    d = get_descriptor("structure_composition")
    X = d.transform(pd.DataFrame({"cif": cifs[perov.meta["material_id"][val]].to_numpy()}))
    assert X.shape == (val.sum(), 322) and np.allclose(X, d.transform([s for s, v in zip(perov.inputs, val) if v]))


def test_structure_recipes_use_the_joined_descriptor_beside_the_composition_ones():
    folder = ROOT / "registry" / "crystals"
    joined = load_recipes(sorted(folder.glob("*-structure.toml")))
    loaders = {r.loader for r in joined}
    assert loaders == {"cdvae_perov5", *(f"optimal_ptft_{p}" for p in ("bg", "fe", "gv", "ph", "ebg"))}
    assert {r.descriptor for r in joined} == {"structure_composition"} and len(joined) == 7  # perov5: 2
    assert all({p.family for p in r.families} == {"nn", "rf", "gb", "en"} for r in joined)
    composition = load_recipes(sorted(set(folder.glob("*.toml")) - set(folder.glob("*-structure.toml"))))
    kept = {(r.loader, r.properties) for r in composition if r.descriptor == "composition"}
    assert {(r.loader, r.properties) for r in joined} <= kept  # the composition recipes stay, row for row
