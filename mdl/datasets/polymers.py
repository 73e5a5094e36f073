"""Polymer data sets (``polymers/<folder>``, found by :mod:`mdl.datasets.remote`): repeat-unit SMILES -> properties.

One loader per folder, named after it in lower case (``transpolymer_egc``, ``neurips2025_opp_train``,
``polyverse_bandgap_chain``...). Repeat units are written with ``*`` end points (polyVERSE's ``[*]`` is
rewritten as ``*``); rows whose repeat unit does not have exactly two ``*`` (polyVERSE rows with
implicit ends, a few branched NeurIPS entries) are dropped with a warning. Values and units are those
of each folder's SOURCE.txt; duplicate repeat units are kept as given. ``transpolymer_nc`` ships with the
package; the others are read from the mirror ``MDL_SHARED_DATA`` or downloaded once, pinned and verified.

Examples
--------
>>> from mdl.datasets.polymers import load_polymer
>>> smiles, nc = load_polymer("transpolymer_nc").xy("refractive_index")   # shipped: no network needed
>>> len(smiles), bool(1 < nc.min() < nc.max() < 3)
(382, True)
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import pandas as pd

from mdl.datasets.base import Dataset, PropertyInfo
from mdl.datasets.remote import data_file, folder_version

log = logging.getLogger(__name__)


class _Prop(NamedTuple):
    column: str
    name: str
    unit: str
    description: str
    aliases: tuple[str, ...] = ()


class _Set(NamedTuple):
    folder: str
    file: str
    smiles: str
    props: tuple[_Prop, ...]
    source: str


_TRANSPOLYMER = ("TransPolymer (Xu et al., npj Comput. Mater. 9, 64 (2023); MIT) downstream set {}; DFT data of "
                 "Kuenneth et al., Patterns 2, 100238 (2021)")
_NEURIPS = ("Kaggle NeurIPS Open Polymer Prediction 2025 (Liu et al.), via github.com/Asmaa6777/NeurIPS; licence "
            "not stated there (listed as MIT by fate1997/polymon, unverified)")
_POLYVERSE = ("polyVERSE (Ramprasad group, github.com/Ramprasad-Group/polyVERSE); Georgia Tech GTRC general public "
              "use licence: non-commercial, keep notices, derivatives under the same terms")

_SETS: dict[str, _Set] = {s.folder.lower(): s for s in [
    _Set("transpolymer_Egc", "Egc.csv", "smiles", (_Prop("value", "band_gap_chain", "eV", "band gap of a single "
         "polymer chain (DFT)", ("Egc", "chain band gap", "band gap")),), _TRANSPOLYMER.format("Egc")),
    _Set("transpolymer_Egb", "Egb.csv", "smiles", (_Prop("value", "band_gap_bulk", "eV", "band gap of the bulk "
         "polymer (DFT)", ("Egb", "bulk band gap", "band gap")),), _TRANSPOLYMER.format("Egb")),
    _Set("transpolymer_Eea", "Eea.csv", "smiles", (_Prop("value", "electron_affinity", "eV", "electron affinity "
         "(DFT)", ("Eea", "electron affinity")),), _TRANSPOLYMER.format("Eea")),
    _Set("transpolymer_Ei", "Ei.csv", "smiles", (_Prop("value", "ionization_energy", "eV", "ionisation energy "
         "(DFT)", ("Ei", "ionization energy", "ionisation energy", "ionization potential")),),
         _TRANSPOLYMER.format("Ei")),
    _Set("transpolymer_Xc", "Xc.csv", "smiles", (_Prop("value", "crystallization_tendency", "%", "crystallisation "
         "tendency", ("Xc", "crystallinity", "crystallization tendency")),), _TRANSPOLYMER.format("Xc")),
    _Set("transpolymer_EPS", "EPS.csv", "smiles", (_Prop("value", "dielectric_constant", "", "dielectric constant "
         "(DFT)", ("EPS", "permittivity", "dielectric constant")),), _TRANSPOLYMER.format("EPS")),
    _Set("transpolymer_Nc", "Nc.csv", "smiles", (_Prop("value", "refractive_index", "", "refractive index (DFT)",
         ("Nc", "refractive index")),), _TRANSPOLYMER.format("Nc")),
    _Set("neurips2025_opp_train", "train.csv", "SMILES", (
        _Prop("Tg", "glass_transition_temperature", "degC", "glass transition temperature", ("Tg", "glass transition")),
        _Prop("FFV", "fractional_free_volume", "", "fractional free volume", ("FFV", "free volume")),
        _Prop("Tc", "thermal_conductivity", "W/(m K)", "thermal conductivity", ("Tc", "TC", "thermal conductivity")),
        _Prop("Density", "density", "g/cm^3", "density", ("Density", "rho")),
        _Prop("Rg", "radius_of_gyration", "angstrom", "radius of gyration", ("Rg", "radius of gyration")),
    ), _NEURIPS + ", Data/train.csv"),
    _Set("neurips2025_opp_supp_Tc", "dataset1.csv", "SMILES", (_Prop("TC_mean", "thermal_conductivity", "W/(m K)",
         "thermal conductivity", ("Tc", "TC_mean", "thermal conductivity")),), _NEURIPS + ", supplement dataset1"),
    _Set("neurips2025_opp_supp_FFV", "dataset4.csv", "SMILES", (_Prop("FFV", "fractional_free_volume", "",
         "fractional free volume", ("FFV", "free volume")),), _NEURIPS + ", supplement dataset4"),
    _Set("polyverse_bandgap_chain", "bandgap_chain.csv", "smiles", (_Prop("bandgap_chain", "band_gap_chain", "eV",
         "band gap of an isolated polymer chain (DFT)", ("Egc", "chain band gap", "band gap")),),
         _POLYVERSE + "; Kamal et al., J. Chem. Phys. 154, 174906 (2021)"),
    _Set("polyverse_bandgap_crystal", "bandgap_crystal.csv", "smiles", (_Prop("bandgap_crystal", "band_gap_crystal",
         "eV", "band gap of the polymer crystal (DFT)", ("Egb", "crystal band gap", "bulk band gap", "band gap")),),
         _POLYVERSE + "; Kamal et al., J. Chem. Phys. 154, 174906 (2021)"),
    _Set("polyverse_charge_injection_barrier", "charge_injection_barrier.csv", "smiles", (_Prop("eib",
         "electron_injection_barrier", "eV", "electron injection barrier (DFT)", ("eib", "injection barrier",
         "charge injection barrier")),), _POLYVERSE + "; Kamal et al., J. Chem. Phys. 154, 174906 (2021)"),
    _Set("polyverse_cohesive_energy_density", "Cohesive_energy_density_2025_06_23.csv", "smiles1", (_Prop(
         "value_COE", "cohesive_energy_density", "cal/cm^3", "cohesive energy density", ("CED", "value_COE",
         "cohesive energy density")),), _POLYVERSE + "; Kuenneth & Ramprasad, Nat. Commun. 14, 4099 (2023)"),
    _Set("polyverse_atomization_enthalpy", "atomization_enthalpy_202412051524.csv", "smiles1", (_Prop("value",
         "atomization_energy", "eV/atom", "atomisation energy (DFT)", ("atomization enthalpy", "atomization energy",
         "atomisation energy")),), _POLYVERSE + "; Kuenneth & Ramprasad, Nat. Commun. 14, 4099 (2023)"),
]}

POLYMER_SETS: tuple[str, ...] = tuple(_SETS)


def describe_polymer(name: str) -> str:
    """One line: what ``load_polymer(name)`` holds.

    Parameters
    ----------
    name : str
        One of :data:`POLYMER_SETS`.

    Returns
    -------
    str
        The inputs, properties and units.

    Examples
    --------
    >>> describe_polymer("transpolymer_egc").startswith("Polymer repeat units")
    True
    """
    s = _SETS[name]
    return "Polymer repeat units -> " + ", ".join(f"{p.description} ({p.unit or 'dimensionless'})" for p in s.props)


def polymer_properties(name: str) -> dict[str, PropertyInfo]:
    """The properties ``load_polymer(name)`` gives, known without reading any file.

    Parameters
    ----------
    name : str
        One of :data:`POLYMER_SETS`.

    Returns
    -------
    dict of str to PropertyInfo
        By canonical name.

    Examples
    --------
    >>> list(polymer_properties("transpolymer_egc"))
    ['band_gap_chain']
    """
    return {p.name: PropertyInfo(p.name, p.unit, p.description, p.aliases) for p in _SETS[name].props}


def load_polymer(name: str) -> Dataset:
    """A polymer data set.

    Repeat units without exactly two ``*`` end points are dropped (and counted in a warning).

    Parameters
    ----------
    name : str
        One of :data:`POLYMER_SETS`.

    Returns
    -------
    Dataset
        Repeat-unit SMILES and their properties; ``version`` is the origin commit.

    Raises
    ------
    DataUnavailableError
        When the file is neither mirrored, shipped nor cached and cannot be downloaded.

    Examples
    --------
    >>> load_polymer("transpolymer_nc").material
    'polymer'
    """
    s = _SETS[name]
    folder = f"polymers/{s.folder}"
    df = pd.read_csv(data_file(folder, s.file))
    smiles = df[s.smiles].fillna("").astype(str).str.strip().str.replace("[*]", "*", regex=False)
    wrong = (smiles != "") & (smiles.str.count(r"\*") != 2)
    if wrong.any():
        log.warning("%s: dropped %d repeat unit(s) without exactly two '*' end points", name, int(wrong.sum()))
    df, smiles = df[~wrong], smiles[~wrong]  # empty inputs are dropped (and counted) by Dataset
    return Dataset(
        name=name, material="polymer", input_kind="repeat_unit",
        inputs=smiles.tolist(),
        targets=pd.DataFrame({p.name: df[p.column].astype("float64").to_numpy() for p in s.props}),
        properties=polymer_properties(name),
        source=s.source, version=folder_version(folder),
    )
