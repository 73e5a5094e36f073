"""Descriptors: widths/columns vs spec, spec round trips, bad-row reports, polymer invariances,
composition values, column selection."""

from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition, Lattice, Structure
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from mdl.descriptors import (
    ColumnSelector,
    DescriptorSpec,
    LibraryVersionWarning,
    available,
    descriptor_citations,
    descriptor_kind,
    from_spec,
    get_descriptor,
)
from mdl.descriptors.compositions import element_table, parse_formula
from mdl.errors import DescriptorMismatchError, InvalidInputError

from conftest import needs_shared

# aspirin, caffeine, ibuprofen, paracetamol, nicotine, toluene
MOLECULES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "CC(=O)Nc1ccc(O)cc1",
    "CN1CCC[C@H]1c1cccnc1",
    "Cc1ccccc1",
]
# rows of the TransPolymer Egc and NeurIPS 2025 open polymer data sets
POLYMERS = [
    "*CC(*)c1ccccc1",
    "*CC(*)C(=O)OC",
    "*Oc1ccc(C(C)(C)c2ccc(OC(=O)*)cc2)cc1",
    "*CC(*)c1ccccc1C(=O)OCCCCCC",
    "*C=C*",
    "*c1ccc(*)s1",
]
SMALL = {  # keep fingerprints small so the file runs fast
    "morgan": {"n_bits": 256}, "ecfp": {"n_bits": 256}, "fcfp": {"n_bits": 256},
    "atom_pair": {"n_bits": 256}, "torsion": {"n_bits": 256}, "rdkit": {"n_bits": 256},
    "maccs": {}, "rdkit2d": {"names": ["MolWt", "TPSA", "NumHDonors", "RingCount"]},
    "composition": {}, "element_fraction": {}, "structure": {"r_max": 5.0, "n_bins": 10},
    "structure_composition": {"r_max": 5.0, "n_bins": 10},
}
CRYSTALS = [  # rock salt, caesium chloride, diamond silicon
    Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    Structure(Lattice.cubic(4.12), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]]),
]
INPUTS = {"composition": ["Fe2O3", "LiFePO4", "NaCl"], "element_fraction": ["Fe2O3", "LiFePO4", "NaCl"],
          "structure": CRYSTALS, "structure_composition": CRYSTALS}
FINGERPRINTS = ["morgan", "fcfp", "atom_pair", "torsion", "rdkit"]


def test_registry_lists_every_descriptor():  # graph descriptors (no matrix): tests/test_gnn.py
    assert set(SMALL) == {name for name in available() if descriptor_kind(name) == "matrix"}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_width_and_columns_match_spec(name):
    d = get_descriptor(name, **SMALL[name])
    X = d.fit_transform(INPUTS.get(name, MOLECULES))
    spec = d.spec
    assert X.dtype == np.float64 and X.shape == (len(INPUTS.get(name, MOLECULES)), spec.width)
    assert tuple(d.get_feature_names_out()) == spec.columns and len(set(spec.columns)) == spec.width
    assert np.isfinite(X).all() and X.any(axis=1).all()
    assert spec.material == ("inorganic" if name in INPUTS else "molecule")


def test_column_names_and_known_widths():
    assert get_descriptor("morgan").columns[-1] == "morgan_r2_b2047"
    assert get_descriptor("maccs").columns[:2] == ("maccs_0", "maccs_1") and get_descriptor("maccs").spec.width == 167
    comp = get_descriptor("composition").columns
    assert len(comp) == 290 and comp[0] == "ave:atomic_number" and comp[-1].startswith("min:")
    assert {c.split(":")[0] for c in comp} == {"ave", "sum", "var", "max", "min"}
    assert get_descriptor("element_fraction").spec.width == 94


def test_aliases_give_the_morgan_spec():
    assert get_descriptor("ecfp", radius=3).spec == get_descriptor("morgan", radius=3).spec
    fcfp = get_descriptor("fcfp").spec
    assert fcfp == get_descriptor("morgan", features=True).spec and fcfp.name == "morgan"
    assert not np.array_equal(get_descriptor("fcfp").transform(MOLECULES), get_descriptor("ecfp").transform(MOLECULES))
    with pytest.raises(InvalidInputError, match="fixes"):
        get_descriptor("fcfp", features=False)


def test_bits_are_nonzero_counts():
    counts = get_descriptor("morgan", counts=True, n_bits=512).transform(MOLECULES)
    bits = get_descriptor("morgan", n_bits=512).transform(MOLECULES)
    assert counts.max() > 1 and np.array_equal(bits, (counts > 0).astype(float))


@pytest.mark.parametrize(
    "name,params,inputs",
    [
        ("morgan", {"radius": 3, "n_bits": 512, "counts": True}, MOLECULES),
        ("atom_pair", {"n_bits": 128, "polymer": True}, POLYMERS),
        ("rdkit2d", {"names": ["MolWt", "TPSA"]}, MOLECULES),
        ("composition", {}, ["Fe2O3", "SrTiO3"]),
    ],
)
def test_spec_round_trips_and_rebuilds_the_same_transform(name, params, inputs):
    d = get_descriptor(name, **params)
    spec = d.spec
    restored = DescriptorSpec.from_dict(json.loads(spec.to_json()))
    assert restored == spec and restored.fingerprint() == spec.fingerprint()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same library versions: no warning
        rebuilt = from_spec(json.loads(spec.to_json()))
    np.testing.assert_array_equal(rebuilt.transform(inputs), d.transform(inputs))


def test_fingerprint_depends_on_params_not_library():
    spec = get_descriptor("morgan").spec
    assert spec.fingerprint() != get_descriptor("morgan", radius=3).spec.fingerprint()
    moved = DescriptorSpec.from_dict({**spec.to_dict(), "library": {"rdkit": "2023.09.1"}})
    assert moved.fingerprint() == spec.fingerprint()


def test_tampered_spec_raises_mismatch():
    spec = get_descriptor("morgan", n_bits=64).spec
    wider = {**spec.to_dict(), "width": 65, "columns": [*spec.columns, "morgan_r2_b64"]}
    with pytest.raises(DescriptorMismatchError, match="64 columns"):
        from_spec(wider)
    renamed = {**spec.to_dict(), "columns": ["x" + c for c in spec.columns]}
    with pytest.raises(DescriptorMismatchError, match="first difference at column 0"):
        from_spec(renamed)
    with pytest.raises(DescriptorMismatchError, match="says width"):
        DescriptorSpec.from_dict({**spec.to_dict(), "width": 3})
    with pytest.raises(DescriptorMismatchError, match="version"):
        from_spec({**spec.to_dict(), "version": "0"})


def test_other_rdkit_with_other_width_names_both_versions():
    spec = get_descriptor("rdkit2d").spec
    old = {**spec.to_dict(), "library": {"rdkit": "2019.03.1"}, "width": spec.width - 1, "columns": list(spec.columns[:-1])}
    with pytest.raises(DescriptorMismatchError, match=r"rdkit 2019\.03\.1.*rdkit \d{4}\.\d\d"):
        from_spec(old)


def test_library_version_difference_alone_warns():
    spec = get_descriptor("maccs").spec
    with pytest.warns(LibraryVersionWarning, match="2019.03.1"):
        d = from_spec({**spec.to_dict(), "library": {"rdkit": "2019.03.1"}})
    assert d.spec.columns == spec.columns


def test_invalid_smiles_rows_are_all_reported():
    smiles = ["CCO", "c1ccccc1", "C1CC", "CCO", None, "not a smiles", ""]
    with pytest.raises(InvalidInputError) as err:
        get_descriptor("morgan").transform(smiles)
    assert err.value.rows == [2, 4, 5, 6]
    assert "invalid SMILES (rows 2, 5, 6)" in str(err.value) and "not a SMILES string (rows 4)" in str(err.value)


@pytest.mark.parametrize("bad", [[], "CCO", np.array([["CCO", "CC"]])])
def test_empty_or_misshapen_input_is_refused(bad):
    with pytest.raises(InvalidInputError):
        get_descriptor("maccs").transform(bad)


def test_accepts_list_tuple_array_series_and_one_column_frame():
    d = get_descriptor("morgan", n_bits=128)
    ref = d.transform(MOLECULES)
    for X in (tuple(MOLECULES), np.array(MOLECULES), pd.Series(MOLECULES), pd.DataFrame({"smiles": MOLECULES})):
        np.testing.assert_array_equal(d.transform(X), ref)


def test_unknown_descriptor_and_parameter():
    with pytest.raises(InvalidInputError, match="known: .*morgan"):
        get_descriptor("ecfp6")
    with pytest.raises(InvalidInputError, match="no parameter n_bitz"):
        get_descriptor("morgan", n_bitz=12)
    with pytest.raises(InvalidInputError, match="polymers: morgan"):
        get_descriptor("maccs", polymer=True)
    with pytest.raises(InvalidInputError, match="n_bits"):
        get_descriptor("morgan", n_bits=0)


def test_rdkit2d_refuses_non_finite_values_unless_filled():
    with pytest.raises(InvalidInputError, match="BCUT2D") as err:
        get_descriptor("rdkit2d").transform(["CCO", "[He]", "CCN"])
    assert err.value.rows == [1]
    X = get_descriptor("rdkit2d", fill_value=0.0).transform(["CCO", "[He]"])
    assert np.isfinite(X).all()


def test_descriptor_works_in_a_pipeline_and_clones():
    model = make_pipeline(get_descriptor("morgan", n_bits=256, counts=True), ColumnSelector(0.5), Ridge())
    model.fit(MOLECULES, np.arange(len(MOLECULES), dtype=float))
    assert model.predict(MOLECULES[:2]).shape == (2,)
    assert clone(get_descriptor("fcfp", radius=1)).spec == get_descriptor("fcfp", radius=1).spec


# -- polymers -------------------------------------------------------------------------------------
def _poly(name, **params):
    return get_descriptor(name, polymer=True, counts=True, n_bits=1024, **params)


@pytest.mark.parametrize("name", FINGERPRINTS)
def test_polymer_rewritings_give_identical_descriptors(name):
    d = _poly(name)
    groups = [
        ["*CCO*", "*OCC*", "*COC*", "O(*)CC*", "C(*)CO*"],  # direction, frame, spelling
        ["*CC(*)c1ccccc1", "*C(c1ccccc1)C*", "c1ccc(C(*)C*)cc1", "*CC(c1ccccc1)*"],
        ["*c1ccc(O*)cc1", "*Oc1ccc(*)cc1", "c1cc(O*)ccc1*"],
        ["*CC(*)C(=O)OC", "*C(C(=O)OC)C*", "COC(=O)C(*)C*"],
    ]
    for group in groups:
        X = d.transform(group)
        assert (X == X[0]).all(), group
    assert d.spec.material == "polymer" and d.spec.params["polymer"] is True


def test_doubled_repeat_unit_doubles_counts_keeps_bits():
    counts = _poly("morgan").transform(["*CC*", "*CCCC*"])
    np.testing.assert_array_equal(counts[1], 2 * counts[0])
    bits = get_descriptor("morgan", polymer=True).transform(["*CC*", "*CCCC*"])
    np.testing.assert_array_equal(bits[0], bits[1])


def test_polyethylene_is_the_middle_of_a_long_alkane():
    """Bulk rule checked against plain molecules: two CH2 of C20H42 minus C18H38."""
    mol = get_descriptor("morgan", counts=True, n_bits=1024)
    bulk = mol.transform(["C" * 20]) - mol.transform(["C" * 18])
    np.testing.assert_array_equal(_poly("morgan").transform(["*CC*"]), bulk)
    assert bulk.sum() == 6  # two CH2, radius 0, 1, 2 each


def test_polymer_differs_from_capped_molecule_fingerprint():
    poly = _poly("morgan").transform(["*CC(*)c1ccccc1"])
    mol = get_descriptor("morgan", counts=True, n_bits=1024).transform(["CCc1ccccc1"])
    assert not np.array_equal(poly, mol)


def test_bad_repeat_units_are_all_reported():
    units = ["*CC*", "*CC", "*C(*)C*", "CC", "C1CC", "*CC(*)*", "*O*CC(*)*"]
    with pytest.raises(InvalidInputError) as err:
        _poly("morgan").transform(units)
    assert err.value.rows == [1, 2, 3, 4, 5, 6]
    assert "exactly two '*'" in str(err.value) and "invalid SMILES (rows 4)" in str(err.value)
    with pytest.raises(InvalidInputError, match="exactly one neighbour") as err:
        _poly("morgan").transform(["*CC*", "*O*C"])
    assert err.value.rows == [1]


def test_nonlinear_cap_featurizes_branched_units_as_molecules():
    units = ["*CC*", "*CC(*)C(=O)OCC(*)C*", "*Nc1ccccc1"]
    X = _poly("morgan", nonlinear="cap").transform(units)
    capped = get_descriptor("morgan", counts=True, n_bits=1024).transform(["CCC(C)C(=O)OCC(C)CC", "CNc1ccccc1"])
    np.testing.assert_array_equal(X[1:], capped)
    with pytest.raises(InvalidInputError, match="invalid SMILES"):
        _poly("morgan", nonlinear="cap").transform(["C1CC"])
    with pytest.raises(InvalidInputError, match="nonlinear"):
        _poly("morgan", nonlinear="drop")


# -- compositions ---------------------------------------------------------------------------------
def _col(d, name):
    return list(d.columns).index(name)


def test_composition_values_by_hand():
    d = get_descriptor("composition")
    x = d.transform(["Fe2O3"])[0]
    ave = (2 * 26 + 3 * 8) / 5
    assert x[_col(d, "ave:atomic_number")] == pytest.approx(ave)
    assert x[_col(d, "sum:atomic_number")] == pytest.approx(2 * 26 + 3 * 8)
    assert x[_col(d, "var:atomic_number")] == pytest.approx(0.4 * (26 - ave) ** 2 + 0.6 * (8 - ave) ** 2)
    assert x[_col(d, "max:atomic_number")] == 26 and x[_col(d, "min:atomic_number")] == 8
    symbols, features, values, _ = element_table()
    fe, o = values[symbols.index("Fe")], values[symbols.index("O")]
    np.testing.assert_allclose(x[:58], 0.4 * fe + 0.6 * o)
    pure = d.transform(["Cu"])[0]
    assert (pure[_col(d, "var:atomic_number")] == 0) and pure[_col(d, "sum:period")] == 4


def test_element_table_is_complete_for_h_to_pu():
    symbols, features, values, _ = element_table()
    assert symbols[0] == "H" and symbols[-1] == "Pu" and len(features) == 58
    assert np.isfinite(values).all()


def test_structure_composition_mapping_and_formula_agree():
    lattice = Lattice.hexagonal(5.03, 13.7)
    coords = np.random.default_rng(0).random((10, 3))
    structure = Structure(lattice, ["Fe"] * 4 + ["O"] * 6, coords)  # 2 formula units per cell
    inputs = ["Fe2O3", structure, Composition("Fe2O3"), {"Fe": 2, "O": 3}, "O3Fe2"]
    for name in ("composition", "element_fraction"):
        X = get_descriptor(name).transform(inputs)
        np.testing.assert_allclose(X, np.repeat(X[:1], len(inputs), axis=0))


def test_formula_grammar():
    assert dict(parse_formula("Ba(NO3)2")) == {"Ba": 1, "N": 2, "O": 6}
    assert dict(parse_formula("CuSO4·5H2O")) == {"Cu": 1, "S": 1, "O": 9, "H": 10}
    assert dict(parse_formula("Li0.5CoO2")) == {"Li": 0.5, "Co": 1, "O": 2}
    assert dict(parse_formula("K4[Fe(CN)6]")) == {"K": 4, "Fe": 1, "C": 6, "N": 6}


def test_bad_compositions_are_all_reported_never_nan():
    formulas = ["Fe2O3", "Xx2O", "Fe2O3)", "Am2O3", "", "NaCl", float("nan"), "Fe0", "(NaCl"]
    for name in ("composition", "element_fraction"):
        with pytest.raises(InvalidInputError) as err:
            get_descriptor(name).transform(formulas)
        assert err.value.rows == [1, 2, 3, 4, 6, 7, 8]
        message = str(err.value)
        assert "unknown element (rows 1)" in message and "outside the table" in message
        assert "unparseable formula (rows 2, 6, 8)" in message and "empty or zero composition (rows 4, 7)" in message


def test_composition_from_csv_strings_is_finite():
    """XenonPy turned formula strings read from a CSV into all-NaN rows."""
    frame = pd.read_csv(io.StringIO("formula\nFe2O3\nLiCoO2\nSrTiO3\n"))
    X = get_descriptor("composition").transform(frame["formula"])
    assert np.isfinite(X).all() and X.shape == (3, 290)


def test_element_fraction_sums_to_one():
    X = get_descriptor("element_fraction").transform(["Fe2O3", "LiFePO4"])
    np.testing.assert_allclose(X.sum(axis=1), 1.0)
    d = get_descriptor("element_fraction")
    assert X[0, _col(d, "frac:O")] == pytest.approx(0.6)


# -- column selection -----------------------------------------------------------------------------
def _matrix():
    rng = np.random.default_rng(0)
    X = (rng.random((50, 40)) < 0.5).astype(float)
    X[:, 0] = 0.0  # all zero
    X[:, 1] = 1.0  # constant
    X[:, 2] = np.r_[np.zeros(47), np.ones(3)]  # zero in 94% of rows
    X[:, 3] = np.r_[np.zeros(44), np.ones(6)]  # zero in 88% of rows
    return X


def test_selector_drops_sparse_and_constant_columns():
    sel = ColumnSelector().fit(_matrix())
    assert 0 not in sel.columns_ and 1 not in sel.columns_ and 2 not in sel.columns_ and 3 in sel.columns_
    assert list(sel.columns_) == sorted(sel.columns_) and len(sel.columns_) == 37
    np.testing.assert_array_equal(sel.transform(_matrix()), _matrix()[:, sel.columns_])


def test_selector_random_subset_is_deterministic_per_seed():
    a = ColumnSelector(max_columns=10, random_state=1).fit(_matrix()).columns_
    b = ColumnSelector(max_columns=10, random_state=1).fit(_matrix()).columns_
    c = ColumnSelector(max_columns=10, random_state=2).fit(_matrix()).columns_
    assert len(a) == 10 and np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(a) <= set(ColumnSelector().fit(_matrix()).columns_)


def test_selector_from_columns_and_names():
    names = [f"c{i}" for i in range(40)]
    fitted = ColumnSelector(max_columns=5, random_state=0).fit(pd.DataFrame(_matrix(), columns=names))
    assert list(fitted.feature_names_out_) == [f"c{i}" for i in fitted.columns_]
    rebuilt = ColumnSelector.from_columns(fitted.columns_.tolist(), n_features_in=40)
    np.testing.assert_array_equal(rebuilt.transform(_matrix()), fitted.transform(_matrix()))
    with pytest.raises(DescriptorMismatchError, match="39 columns"):
        rebuilt.transform(_matrix()[:, :39])


# -- crystal structures ------------------------------------------------------------------------
def _rocksalt(a: float) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_structure_descriptor_measures_rock_salt_and_ignores_the_cell_choice():
    d = get_descriptor("structure")
    nacl = _rocksalt(5.64)
    row = dict(zip(d.columns, d.transform([nacl])[0]))
    assert row["density"] == pytest.approx(2.165, abs=0.01)            # NaCl: 2.165 g/cm3
    assert row["spacegroup_number"] == 225
    assert row["nn_distance_min"] == pytest.approx(2.82) and row["nn_distance_max"] == pytest.approx(2.82)
    assert row["coordination_mean"] == 6                                # octahedral
    rdf = np.array([row[c] for c in d.columns if c.startswith("rdf_")])
    assert rdf[: int(2.5 / 0.25)].sum() == 0 and rdf.max() > 1          # nothing closer than 2.82 Å, then peaks
    supercell = nacl.copy()
    supercell.make_supercell([[1, 1, 0], [0, 1, 1], [2, 0, 1]])
    cif = _rocksalt(5.64).to(fmt="cif")
    X = d.transform([nacl, supercell, cif])
    np.testing.assert_allclose(X[1], X[0], atol=1e-9)
    np.testing.assert_allclose(X[2], X[0], atol=1e-6)
    squeezed = dict(zip(d.columns, d.transform([_rocksalt(5.0)])[0]))
    assert squeezed["density"] > row["density"] and squeezed["nn_distance_mean"] == pytest.approx(2.5)
    assert from_spec(d.spec.to_dict()).transform([nacl]).tolist() == X[:1].tolist()


def test_structure_descriptor_names_bad_rows():
    disordered = _rocksalt(5.64)
    disordered.replace_species({"Na": {"Na": 0.5, "K": 0.5}})
    with pytest.raises(InvalidInputError) as err:
        get_descriptor("structure").transform([_rocksalt(5.64), "Fe2O3", disordered, "data_x\n_cell_length_a 3\n"])
    assert err.value.rows == [1, 2, 3]
    assert "formula" in str(err.value) and "disordered" in str(err.value) and "CIF" in str(err.value)
    with pytest.raises(InvalidInputError, match="r_max"):
        get_descriptor("structure", r_max=0.1).columns


@needs_shared
def test_structure_descriptor_sees_what_composition_cannot():
    """All-carbon crystals: the composition row is the same for all, the structure explains the energy."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import cross_val_score

    from mdl import datasets

    structures, y = datasets.load("cdvae_carbon24").xy("energy_per_atom", limit=200, seed=0)
    assert np.ptp(get_descriptor("composition").transform(structures), axis=0).max() == 0
    X = get_descriptor("structure").transform(structures)
    r2 = cross_val_score(RandomForestRegressor(100, random_state=0), X, y, cv=5, scoring="r2").mean()
    assert r2 > 0.6


@pytest.mark.parametrize("name", available())
def test_every_registered_descriptor_names_the_works_it_rests_on(name):
    descriptor = get_descriptor(name)
    entries = descriptor.citations()
    assert entries, f"{name}: no citation"
    for entry in entries:   # each one BibTeX entry with a key, a title and a way to find it
        assert entry.startswith("@") and entry.count("@") == 1 and entry.rstrip().endswith("}"), entry
        assert entry.count("{") == entry.count("}") and "title = {" in entry, entry
        assert "doi = {10." in entry or "url{https://" in entry, entry
    assert len(set(entries)) == len(entries)
    assert descriptor_citations(name) == entries == descriptor_citations(descriptor.spec.to_dict())
    entries.clear()   # a copy: the class's list is untouched
    assert descriptor.citations()


def test_citations_name_the_method_each_descriptor_implements():
    def dois(name, **params):
        return {line.split("{")[1].rstrip("},") for entry in get_descriptor(name, **params).citations()
                for line in entry.splitlines() if line.strip().startswith("doi =")}

    assert "10.1021/ci100160j" in dois("morgan") and "10.1021/ci100160j" in dois("fcfp", radius=3)  # Rogers & Hahn
    assert "10.1038/npjcompumats.2016.28" in dois("composition")       # Magpie, Ward et al. 2016
    assert "10.1021/acscentsci.9b00804" in dois("composition")         # XenonPy, Yamada et al. 2019
    assert "10.1038/s41598-018-35934-y" in dois("element_fraction")    # ElemNet, Jha et al. 2018
    assert "10.1103/PhysRevLett.120.145301" in dois("crystal_graph")   # CGCNN, Xie & Grossman 2018
    assert dois("structure") | dois("composition") == dois("structure_composition")
