"""Inorganic data sets (``crystals/<folder>``, found by :mod:`mdl.datasets.remote`), named after the folder.

* ``crossproptl_expt_formation_energy``, ``crossproptl_expt_bandgap``: formula -> experimental value;
  the authors' train/test split is kept in ``meta["split"]`` ("train" / "test").
* ``optimal_ptft_{bg,fe,gv,ph,ebg}``: JARVIS Atoms dicts -> pymatgen Structures; targets were min-max
  scaled to [-1, 1] by the authors (``PropertyInfo.scaled`` is True, no physical unit).
* ``cdvae_perov5``, ``cdvae_carbon24``: CIF strings -> Structures. The CIFs are pymatgen-written P1 files,
  read by :mod:`mdl.datasets.structure_readers` (shared with user inputs); ``meta["split"]`` tells CDVAE's
  "val" from "test" (their train split is not in the folder).

Structure sets take ``limit`` / ``seed`` to parse only a seeded random subset of rows. Files come from the
mirror ``MDL_SHARED_DATA`` or are downloaded once, pinned and verified; the ``optimal_ptft_*`` files were
merged from many origin files and come from a mirror only.

Example::

    >>> from mdl.datasets.crystals import load_structures
    >>> structures, gaps = load_structures("cdvae_perov5", limit=200).xy("indirect_band_gap")  # doctest: +NEEDS_SHARED_DATA
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np
import pandas as pd

from mdl.datasets.base import Dataset, PropertyInfo
from mdl.datasets.remote import data_file, folder_version
from mdl.datasets.structure_readers import structure_from_cif, structure_from_jarvis
from mdl.errors import InvalidInputError

_CROSSPROPTL = ("CrossPropertyTL (Gupta et al., Nat. Commun. 12, 6595 (2021); github.com/NU-CUCIS/CrossPropertyTL); "
                "Northwestern University permissive copyright notice (keep the notice, credit requested)")
_PTFT = ("Devi, Butler, Sai Gautam, npj Comput. Mater. (2024), github.com/sai-mat-group/"
         "transfer-learning-material-properties (MIT); union of the repository's per-trial subsets")
_CDVAE = "CDVAE (Xie et al., ICLR 2022; github.com/txie-93/cdvae, MIT) {}, val + test splits"
_SCALED = "; min-max scaled to [-1, 1] by the authors (no physical unit)"


class _Formulas(NamedTuple):
    folder: str
    files: dict[str, str]  # split -> file
    column: str
    prop: PropertyInfo
    source: str


class _Structures(NamedTuple):
    folder: str
    kind: str  # "jarvis" or "cif"
    props: dict[str, PropertyInfo]  # file column -> property
    source: str
    about: str


_FORMULA_SETS = {
    "crossproptl_expt_formation_energy": _Formulas(
        "crossproptl_expt_formation_energy",
        {"train": "expt_deltae_training_set.csv", "test": "expt_deltae_test_set.csv"}, "delta_e",
        PropertyInfo("formation_energy", "eV/atom", "experimental formation enthalpy",
                     ("delta_e", "formation energy", "formation enthalpy", "enthalpy of formation")), _CROSSPROPTL),
    "crossproptl_expt_bandgap": _Formulas(
        "crossproptl_expt_bandgap",
        {"train": "expt_bandgap_training_set.csv", "test": "expt_bandgap_test_set.csv"}, "gap expt",
        PropertyInfo("band_gap", "eV", "experimental band gap (0 for metals)",
                     ("gap expt", "band gap", "bandgap", "experimental band gap")), _CROSSPROPTL),
}


def _ptft(code: str, name: str, what: str, aliases: tuple[str, ...]) -> _Structures:
    return _Structures(f"optimal_ptft_{code}", "jarvis",
                       {"target": PropertyInfo(name, "", what + _SCALED, aliases, scaled=True)}, _PTFT,
                       f"JARVIS structures -> {name}: {what}, min-max scaled to [-1, 1]")


_STRUCTURE_SETS = {
    "optimal_ptft_bg": _ptft("bg", "band_gap", "DFT band gap (Materials Project)", ("bg", "band gap")),
    "optimal_ptft_fe": _ptft("fe", "formation_energy", "DFT formation energy (Materials Project)",
                             ("fe", "formation energy")),
    "optimal_ptft_gv": _ptft("gv", "shear_modulus", "shear modulus G_VRH (matbench_log_gvrh data)",
                             ("gv", "G_VRH", "shear modulus")),
    "optimal_ptft_ph": _ptft("ph", "last_phdos_peak", "frequency of the last phonon DOS peak (matbench_phonons)",
                             ("ph", "phonon peak", "last phonon DOS peak")),
    "optimal_ptft_ebg": _ptft("ebg", "band_gap", "experimental band gap, matched to structures by the authors",
                              ("ebg", "band gap", "experimental band gap")),
    "cdvae_perov5": _Structures("cdvae_perov5", "cif", {
        "heat_ref": PropertyInfo("heat_of_formation", "eV/cell", "heat of formation per 5-atom cell relative to "
                                 "the CMR references (CDVAE's target; unit per CMR, not stated in the file)",
                                 ("heat_ref", "heat of formation", "formation energy")),
        "heat_all": PropertyInfo("heat_of_formation_all", "eV/cell", "heat of formation per 5-atom cell (CMR "
                                 "heat_all; unit per CMR, not stated in the file)", ("heat_all",)),
        "dir_gap": PropertyInfo("direct_band_gap", "eV", "direct band gap (GLLB-SC)", ("dir_gap", "direct gap")),
        "ind_gap": PropertyInfo("indirect_band_gap", "eV", "indirect band gap (GLLB-SC)",
                                ("ind_gap", "indirect gap", "band gap")),
    }, _CDVAE.format("Perov-5 from the Computational Materials Repository (Castelli et al. 2012)"),
        "ABX3 perovskite structures -> heats of formation (eV/cell), GLLB-SC direct/indirect band gaps (eV)"),
    "cdvae_carbon24": _Structures("cdvae_carbon24", "cif", {
        "energy_per_atom": PropertyInfo("energy_per_atom", "eV/atom", "DFT total energy per atom (AIRSS, 10 GPa)",
                                        ("energy", "total energy per atom")),
    }, _CDVAE.format("Carbon-24 (Pickard, AIRSS carbon at 10 GPa, Materials Cloud 2020.0026)"),
        "carbon allotrope structures (6-24 atoms) -> DFT energy per atom (eV/atom)"),
}


FORMULA_SETS: tuple[str, ...] = tuple(_FORMULA_SETS)
STRUCTURE_SETS: tuple[str, ...] = tuple(_STRUCTURE_SETS)


def describe_crystal(name: str) -> str:
    """One line: what ``load_formulas(name)`` or ``load_structures(name)`` holds.

    Parameters
    ----------
    name : str
        One of :data:`FORMULA_SETS` or :data:`STRUCTURE_SETS`.

    Returns
    -------
    str
        The inputs, property and unit.

    Examples
    --------
    >>> describe_crystal("cdvae_carbon24").startswith("carbon allotrope structures")
    True
    """
    if name in _FORMULA_SETS:
        p = _FORMULA_SETS[name].prop
        return f"Formulas -> {p.description} ({p.unit}); authors' train/test split in meta['split']"
    return _STRUCTURE_SETS[name].about


def crystal_properties(name: str) -> dict[str, PropertyInfo]:
    """The properties ``load_formulas(name)`` or ``load_structures(name)`` gives, known without reading a file.

    Parameters
    ----------
    name : str
        One of :data:`FORMULA_SETS` or :data:`STRUCTURE_SETS`.

    Returns
    -------
    dict of str to PropertyInfo
        By canonical name.

    Examples
    --------
    >>> list(crystal_properties("cdvae_carbon24"))
    ['energy_per_atom']
    """
    if name in _FORMULA_SETS:
        prop = _FORMULA_SETS[name].prop
        return {prop.name: prop}
    return {p.name: p for p in _STRUCTURE_SETS[name].props.values()}


def load_formulas(name: str) -> Dataset:
    """A formula data set (``crossproptl_*``), with the authors' split in ``meta["split"]``.

    Parameters
    ----------
    name : str
        One of :data:`FORMULA_SETS`.

    Returns
    -------
    Dataset
        Formulas and their property.

    Raises
    ------
    DataUnavailableError
        When a file is neither mirrored nor cached and cannot be downloaded.

    Examples
    --------
    >>> load_formulas(FORMULA_SETS[0]).input_kind   # doctest: +NEEDS_SHARED_DATA
    'formula'
    """
    s = _FORMULA_SETS[name]
    folder = f"crystals/{s.folder}"
    parts = [pd.read_csv(data_file(folder, file)).assign(split=split) for split, file in s.files.items()]
    df = pd.concat(parts, ignore_index=True)
    return Dataset(
        name=name, material="inorganic", input_kind="formula", inputs=df["pretty_comp"].tolist(),
        targets=pd.DataFrame({s.prop.name: df[s.column].astype("float64")}), properties=crystal_properties(name),
        source=s.source, version=folder_version(folder), meta=df[["split"]],
    )


def load_structures(name: str, limit: int | None = None, seed: int = 0) -> Dataset:
    """A structure data set.

    Parameters
    ----------
    name : str
        One of :data:`STRUCTURE_SETS`.
    limit : int, optional
        Parse only that many rows.
    seed : int
        Which rows (drawn at random).

    Returns
    -------
    Dataset
        pymatgen Structures and their properties.

    Raises
    ------
    InvalidInputError
        For a ``limit`` below 1.
    DataUnavailableError
        When a file is neither mirrored nor cached and cannot be downloaded.

    Examples
    --------
    >>> len(load_structures("cdvae_perov5", limit=5))   # doctest: +NEEDS_SHARED_DATA
    5
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInputError(f"limit must be a positive integer or None, got {limit!r}")
    s = _STRUCTURE_SETS[name]
    folder = f"crystals/{s.folder}"
    if s.kind == "jarvis":
        code = s.folder.rsplit("_", 1)[1]
        df = pd.DataFrame(json.loads(data_file(folder, f"{code}_union.json").read_text()))
        meta_columns = ["jid"]
    else:
        df = pd.concat([pd.read_csv(data_file(folder, f"{split}.csv")).assign(split=split)
                        for split in ("val", "test")], ignore_index=True)
        meta_columns = ["material_id", "split"]
    if limit is not None and limit < len(df):
        df = df.iloc[np.sort(np.random.default_rng(seed).choice(len(df), size=limit, replace=False))]
    parse = structure_from_jarvis if s.kind == "jarvis" else structure_from_cif
    inputs = [parse(x) for x in df["atoms" if s.kind == "jarvis" else "cif"]]
    return Dataset(
        name=name, material="inorganic", input_kind="structure", inputs=inputs,
        targets=pd.DataFrame({p.name: df[col].astype("float64").to_numpy() for col, p in s.props.items()}),
        properties=crystal_properties(name), source=s.source, version=folder_version(folder),
        meta=df[meta_columns].reset_index(drop=True),
    )
