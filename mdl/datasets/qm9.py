"""QM9 (130,831 small organic molecules, B3LYP/6-31G(2df,p)) with SMILES, from the data files of ``qm9pack``.

qm9pack ships three CSV parts (plus polarisability tensors we do not need); only the SMILES and the 12
scalar property columns are read, with pyarrow. Energies are stored in Hartree and converted to eV here.

Examples
--------
>>> from mdl.datasets.qm9 import load_qm9
>>> smiles, gap = load_qm9().xy("gap", limit=5)
"""

from __future__ import annotations

from importlib import metadata

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from mdl.datasets.base import Dataset, PropertyInfo
from mdl.datasets.files import package_file

#: eV per Hartree (CODATA 2018).
HARTREE_EV = 27.211386245988

# qm9pack column -> (canonical name, unit, description, aliases, factor to the unit)
_COLUMNS = {
    "Dipole_debye": ("mu", "D", "dipole moment", ("dipole moment", "dipole", "mu"), 1.0),
    "Polarizability_bohr3": ("alpha", "bohr^3", "isotropic polarizability",
                             ("polarizability", "isotropic polarizability", "alpha"), 1.0),
    "HOMO_au": ("homo", "eV", "HOMO energy", ("HOMO", "HOMO energy", "highest occupied molecular orbital",
                                              "highest occupied molecular orbital energy"), HARTREE_EV),
    "LUMO_au": ("lumo", "eV", "LUMO energy", ("LUMO", "LUMO energy", "lowest unoccupied molecular orbital",
                                              "lowest unoccupied molecular orbital energy"), HARTREE_EV),
    "HOMO_LUMO_gap_au": ("gap", "eV", "HOMO-LUMO gap", ("HOMO-LUMO gap", "band gap", "orbital gap"), HARTREE_EV),
    "R2_bohr2": ("r2", "bohr^2", "electronic spatial extent <R^2>", ("R2", "electronic spatial extent"), 1.0),
    "ZPVE_au": ("zpve", "eV", "zero-point vibrational energy", ("ZPVE", "zero-point vibrational energy",
                                                                "zero point energy"), HARTREE_EV),
    "InternalEnergy_0K_au": ("u0", "eV", "internal energy at 0 K", ("U0", "internal energy at 0 K"), HARTREE_EV),
    "InternalEnergy_298K_au": ("u", "eV", "internal energy at 298.15 K", ("U", "internal energy at 298.15 K",
                                                                         "internal energy"), HARTREE_EV),
    "Enthalphy_298K_au": ("h", "eV", "enthalpy at 298.15 K", ("H", "enthalpy"), HARTREE_EV),
    "GibbsFreeEnergy_298K_au": ("g", "eV", "Gibbs free energy at 298.15 K", ("G", "Gibbs free energy",
                                                                             "free energy"), HARTREE_EV),
    "Heatcapacity_Cv_cal_mol_K": ("cv", "cal/(mol K)", "heat capacity at constant volume, 298.15 K",
                                  ("Cv", "heat capacity", "heat capacity at constant volume"), 1.0),
}


def qm9_properties() -> dict[str, PropertyInfo]:
    """The 12 properties :func:`load_qm9` gives, known without reading a file.

    >>> qm9_properties()["gap"].unit
    'eV'
    """
    return {name: PropertyInfo(name, unit, f"{desc} (DFT B3LYP/6-31G(2df,p))", aliases)
            for name, unit, desc, aliases, _ in _COLUMNS.values()}


def load_qm9() -> Dataset:
    """QM9: SMILES -> 12 DFT properties (energies in eV, converted from Hartree; see ``properties``)."""
    folder = package_file("qm9pack", "data")
    opts = pacsv.ConvertOptions(include_columns=["Index", "SMILES", *_COLUMNS])
    table = pa.concat_tables([pacsv.read_csv(str(folder / f"qm9_part{i}.csv"), convert_options=opts)
                              for i in (1, 2, 3)])
    df = table.to_pandas()
    targets = pd.DataFrame({spec[0]: df[col].astype("float64") * spec[4] for col, spec in _COLUMNS.items()})
    return Dataset(
        name="qm9", material="molecule", input_kind="smiles", inputs=df["SMILES"].tolist(), targets=targets,
        properties=qm9_properties(),
        source="QM9 (Ramakrishnan et al., Sci. Data 1, 140022 (2014), figshare release; its licence not verified "
               "here) via the qm9pack package (MIT)",
        version=f"qm9pack {metadata.version('qm9pack')}",
        meta=pd.DataFrame({"index": df["Index"].to_numpy()}),
    )
