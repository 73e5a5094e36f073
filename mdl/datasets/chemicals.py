"""Experimental molecular properties from the ``chemicals`` package (ChEDL), joined to SMILES by CAS number.

Each property combines, per CAS number, the package's data tables listed below, in the package's own
preference order (measured/compiled data only: the Joback, Wilson-Jasperson, Fedors and
Psat/Tc-derived *prediction* tables are left out). Where three or more tables give a value the median
is taken, which outvotes a single table's typo (the IUPAC table gives phenanthrene Tc = 0.869 K where
four others give ~870 K); otherwise the first table in order wins. Non-positive values of strictly
positive properties (some tables write 0 for "unknown") are ignored.

==========================  ===========  ============================================================
property                    unit         tables, in order
==========================  ===========  ============================================================
melting_point               K            OpenNotebook, CRC inorganic, CRC organic, CAS Common Chemistry,
                                         NIST WebBook, Wikidata
boiling_point               K            CoolProp HEOS, CRC organic, CRC inorganic, CAS Common Chemistry,
                                         NIST WebBook, Yaws, Wikidata
density                     g/cm^3       CRC organic (near room temperature; the CRC inorganic column
                                         mixes in gas densities and is not used)
refractive_index            (none)       CRC organic RI table, Wikidata (sodium D line, near 20-25 C)
critical_temperature        K            HEOS, IUPAC, Mathews, CRC, PSRK, Passut-Danner, WebBook,
                                         DIPPR (Pina-Martines), Yaws
critical_pressure           MPa          same as critical_temperature
critical_volume             cm^3/mol     same, without Passut-Danner (which has none)
acentric_factor             (none)       HEOS, PSRK, Passut-Danner, Yaws
logp                        (none)       CRC, Syrres (KOWWIN experimental), Wikidata
==========================  ===========  ============================================================

Caveat: the Yaws collection also lists metals (as single-atom SMILES such as ``[Re]``) with critical
constants far above those of molecules (Re: Tc ~ 21,500 K); they are kept as the package gives them.

SMILES come from the package's identifier tables (PubChem large/small, user example, cations, anions,
inorganics; later tables override earlier ones, as in ``chemicals.identifiers``). Molecules whose
SMILES RDKit cannot parse are dropped; molecules are deduplicated by RDKit canonical SMILES (e.g.
stereoisomers whose PubChem SMILES carry no stereo), taking the median of each property; ``meta["cas"]``
lists the CAS numbers merged into each row. Density is available wherever measured, so no
liquid-molar-volume fallback is used.

Examples
--------
>>> from mdl.datasets.chemicals import load_chemicals
>>> smiles, tm = load_chemicals().xy("melting_point", limit=100)
"""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from mdl.datasets.base import Dataset, PropertyInfo

log = logging.getLogger(__name__)

_CRC_ORG = "Physical Constants of Organic Compounds.csv"
_CRC_INORG = "Physical Constants of Inorganic Compounds.csv"
_COMMON = "common_chemistry_data.tsv"
_WEBBOOK = "webbook_constants.tsv"
_WIKIDATA = "wikidata_properties.tsv"
_HEOS = "heos_constants.tsv"
_CRITICAL = ["IUPACOrganicCriticalProps.tsv", "Mathews1972InorganicCriticalProps.tsv", "CRCCriticalOrganics.tsv",
             "Appendix to PSRK Revision 4.tsv", "PassutDanner1973.tsv"]
_CRITICAL_LATE = ["DIPPRPinaMartines.tsv", "Yaws Collection.tsv"]

class _Spec(NamedTuple):
    column: str
    tables: list[str]
    factor: float  # to ``unit``
    unit: str
    description: str
    aliases: tuple[str, ...]
    positive: bool = True


_PROPERTIES: dict[str, _Spec] = {
    "melting_point": _Spec("Tm", ["OpenNotebook Melting Points.tsv", _CRC_INORG, _CRC_ORG, _COMMON, _WEBBOOK,
                                  _WIKIDATA], 1.0, "K", "experimental melting point",
                           ("Tm", "melting temperature", "melting point")),
    "boiling_point": _Spec("Tb", [_HEOS, _CRC_ORG, _CRC_INORG, _COMMON, _WEBBOOK, "Yaws Boiling Points.tsv",
                                  _WIKIDATA], 1.0, "K", "experimental normal boiling point",
                           ("Tb", "boiling temperature", "normal boiling point")),
    "density": _Spec("rho", [_CRC_ORG], 1e-3, "g/cm^3", "experimental density near room temperature (CRC organic)",
                     ("rho", "mass density")),
    "refractive_index": _Spec("RI", ["CRC Handbook Organic RI.csv", _WIKIDATA], 1.0, "",
                              "experimental refractive index (sodium D line)", ("RI", "n_D", "refractivity")),
    "critical_temperature": _Spec("Tc", [_HEOS, *_CRITICAL, _WEBBOOK, *_CRITICAL_LATE], 1.0, "K",
                                  "experimental critical temperature", ("Tc", "critical point temperature")),
    "critical_pressure": _Spec("Pc", [_HEOS, *_CRITICAL, _WEBBOOK, *_CRITICAL_LATE], 1e-6, "MPa",
                               "experimental critical pressure", ("Pc", "critical point pressure")),
    "critical_volume": _Spec("Vc", [_HEOS, *_CRITICAL[:4], _WEBBOOK, *_CRITICAL_LATE], 1e6, "cm^3/mol",
                             "experimental critical molar volume", ("Vc", "critical molar volume")),
    "acentric_factor": _Spec("omega", [_HEOS, "Appendix to PSRK Revision 4.tsv", "PassutDanner1973.tsv",
                                       "Yaws Collection.tsv"], 1.0, "", "acentric factor from measured data",
                             ("omega", "Pitzer acentric factor"), positive=False),
    "logp": _Spec("logP", ["CRC logP table.tsv", "Syrres logP data.csv.gz", _WIKIDATA], 1.0, "",
                  "experimental octanol-water partition coefficient (log10)",
                  ("logP", "log P", "log Kow", "octanol-water partition coefficient"), positive=False),
}

_IDENTIFIER_FILES = ["chemical identifiers pubchem large.tsv", "chemical identifiers pubchem small.tsv",
                     "chemical identifiers example user db.tsv", "Cation db.tsv", "Anion db.tsv", "Inorganic db.tsv"]


def _cas_index(index: pd.Index) -> pd.Index:
    """CAS numbers (``"64-17-5"`` or ``64175``) as integers; unparseable ones become NaN."""
    if pd.api.types.is_integer_dtype(index.dtype):
        return index
    return pd.Index(pd.to_numeric(index.astype(str).str.replace("-", "", regex=False), errors="coerce"))


def _property(spec: _Spec) -> pd.Series:
    """Per CAS number: the median where 3+ tables give a value, else the first table's value."""
    from chemicals.data_reader import data_source

    columns = []
    for name in spec.tables:
        values = pd.to_numeric(data_source(name)[spec.column].astype("float64"), errors="coerce")
        values.index = _cas_index(values.index)
        values = values[values.index.notna() & values.notna() & ((values > 0) | (not spec.positive))]
        values.index = values.index.astype("int64")
        columns.append(values[~values.index.duplicated()])
    frame = pd.concat(columns, axis=1)
    first = frame.bfill(axis=1).iloc[:, 0]
    return frame.median(axis=1).where(frame.notna().sum(axis=1) >= 3, first) * spec.factor


def _identifiers(folder: Path) -> dict[int, str]:
    """CAS (int) -> SMILES, read in the order ``chemicals.identifiers`` loads them (later files win)."""
    smiles: dict[int, str] = {}
    for name in _IDENTIFIER_FILES:
        with open(folder / name, encoding="utf-8") as fh:
            for line in fh:
                fields = line.split("\t", 5)
                if len(fields) > 4:
                    smiles[int(fields[1].replace("-", ""))] = fields[4]
    return smiles


def _cas_str(cas: int) -> str:
    s = str(cas)
    return f"{s[:-3]}-{s[-3:-1]}-{s[-1]}"


def chemicals_properties() -> dict[str, PropertyInfo]:
    """The properties :func:`load_chemicals` gives, known without reading a table.

    >>> chemicals_properties()["density"].unit
    'g/cm^3'
    """
    return {name: PropertyInfo(name, spec.unit, spec.description, spec.aliases) for name, spec in _PROPERTIES.items()}


def load_chemicals() -> Dataset:
    """Experimental properties of molecules from ``chemicals`` (see the module docstring for tables)."""
    import chemicals  # registers the package's data tables

    table = pd.DataFrame({name: _property(spec) for name, spec in _PROPERTIES.items()}).dropna(how="all")
    known = _identifiers(Path(chemicals.__file__).parent / "Identifiers")
    raw = [known.get(int(cas), "") for cas in table.index]
    canonical_of = _canonical(set(raw) - {""})
    canonical = [canonical_of.get(smi) for smi in raw]
    no_smiles, unparsable = sum(not smi for smi in raw), sum(bool(smi) and c is None for smi, c in zip(raw, canonical))
    if no_smiles:
        log.warning("chemicals: dropped %d CAS number(s) with properties but no SMILES in the identifier tables",
                    no_smiles)
    if unparsable:
        log.warning("chemicals: dropped %d molecule(s) whose SMILES RDKit cannot parse", unparsable)
    ok = np.array([c is not None for c in canonical])
    table = table[ok].assign(_smiles=[c for c in canonical if c is not None],
                             _cas=[_cas_str(cas) for cas in table.index[ok]])
    table = table.sort_values(["_smiles", "_cas"])
    targets = table.groupby("_smiles", sort=False)[list(_PROPERTIES)].median()
    smiles = table["_smiles"].to_numpy()
    starts = np.flatnonzero(smiles[1:] != smiles[:-1]) + 1
    cas = [";".join(group) for group in np.split(table["_cas"].to_numpy(), starts)]
    return Dataset(
        name="chemicals", material="molecule", input_kind="smiles", inputs=targets.index.tolist(),
        targets=targets.reset_index(drop=True), properties=chemicals_properties(),
        source="chemicals package data tables (ChEDL, Caleb Bell; package MIT; tables from CRC, NIST WebBook, "
               "CAS Common Chemistry, Wikidata, Yaws, DIPPR, IUPAC and others, see mdl.datasets.chemicals)",
        version=f"chemicals {metadata.version('chemicals')}", meta=pd.DataFrame({"cas": cas}),
    )


def _canonical(smiles: set[str]) -> dict[str, str | None]:
    """RDKit canonical SMILES of each string, None where RDKit cannot parse it."""
    from rdkit import Chem, RDLogger

    out: dict[str, str | None] = {}
    RDLogger.DisableLog("rdApp.*")
    try:
        for smi in smiles:
            mol = Chem.MolFromSmiles(smi)
            out[smi] = None if mol is None else Chem.MolToSmiles(mol)
    finally:
        RDLogger.EnableLog("rdApp.*")
    return out
