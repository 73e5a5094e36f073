"""Computed electronic transport properties of 47,737 Materials Project compounds (formula -> 10 properties),
from matminer's ``utils/data_files/mp_transport/transport_database.tar.xz``.

The data are Ricci et al.'s BoltzTraP database (Sci. Data 4, 170085 (2017)) as condensed for matminer's
``TransportData``: average eigenvalues at 300 K and a carrier concentration of 1e18 cm^-3, for p- and
n-type doping, computed in the constant-relaxation-time approximation (so conductivity, electronic
thermal conductivity and power factor scale with the assumed relaxation time). matminer ships no units;
those below follow Ricci et al. and were checked on the file itself: PF = S^2 sigma holds to 0.2 % (median)
with S in uV/K, sigma in S/m and PF in uW/(m K^2), and kappa_e / (sigma T) gives a Lorenz number of
~1.7e-8 W Ohm/K^2 with kappa_e in uW/(m K). Values span up to 12 orders of magnitude (metals'
"effective masses" are tiny, heavy-band ones huge): consider modelling log10 of the positive ones.
Formulas repeat across polymorphs (13,106 repeats); ``meta["mp_id"]`` tells them apart.

Examples
--------
>>> from mdl.datasets.mp_transport import load_mp_transport
>>> formulas, seebeck = load_mp_transport().xy("seebeck_p", limit=1000)
"""

from __future__ import annotations

import tarfile
from importlib import metadata

import pandas as pd

from mdl.datasets.base import Dataset, PropertyInfo
from mdl.datasets.files import package_file

_CRTA = "constant relaxation time"
# file column -> canonical name, unit, description, aliases
_COLUMNS = {
    "S_p": ("seebeck_p", "uV/K", "Seebeck coefficient, p-type", ("Seebeck coefficient p-type", "thermopower p-type")),
    "S_n": ("seebeck_n", "uV/K", "Seebeck coefficient, n-type", ("Seebeck coefficient n-type", "thermopower n-type")),
    "sigma_p": ("conductivity_p", "S/m", f"electrical conductivity, p-type ({_CRTA})",
                ("electrical conductivity p-type",)),
    "sigma_n": ("conductivity_n", "S/m", f"electrical conductivity, n-type ({_CRTA})",
                ("electrical conductivity n-type",)),
    "kappa_p": ("electronic_thermal_conductivity_p", "uW/(m K)",
                f"electronic thermal conductivity, p-type ({_CRTA})", ("kappa_e p-type",)),
    "kappa_n": ("electronic_thermal_conductivity_n", "uW/(m K)",
                f"electronic thermal conductivity, n-type ({_CRTA})", ("kappa_e n-type",)),
    "PF_p": ("power_factor_p", "uW/(m K^2)", f"thermoelectric power factor, p-type ({_CRTA})",
             ("power factor p-type",)),
    "PF_n": ("power_factor_n", "uW/(m K^2)", f"thermoelectric power factor, n-type ({_CRTA})",
             ("power factor n-type",)),
    "m_p": ("effective_mass_p", "m_e", "conductivity effective mass, p-type", ("effective mass p-type",)),
    "m_n": ("effective_mass_n", "m_e", "conductivity effective mass, n-type", ("effective mass n-type",)),
}


def mp_transport_properties() -> dict[str, PropertyInfo]:
    """The 10 properties :func:`load_mp_transport` gives, known without reading the archive."""
    return {name: PropertyInfo(name, unit, f"{desc}; 300 K, 1e18 cm^-3 (BoltzTraP)", (col, *aliases))
            for col, (name, unit, desc, aliases) in _COLUMNS.items()}


def load_mp_transport() -> Dataset:
    """BoltzTraP transport properties at 300 K, 1e18 cm^-3 (see the module docstring for units)."""
    with tarfile.open(package_file("matminer", "utils", "data_files", "mp_transport",
                                   "transport_database.tar.xz")) as tar:
        df = pd.read_csv(tar.extractfile("transport_database.csv"))
    targets = pd.DataFrame({spec[0]: df[col].astype("float64") for col, spec in _COLUMNS.items()})
    return Dataset(
        name="mp_transport", material="inorganic", input_kind="formula", inputs=df["pretty_formula"].tolist(),
        targets=targets, properties=mp_transport_properties(),
        source="Ricci et al., Sci. Data 4, 170085 (2017) (CC0, Dryad) as shipped in matminer (BSD-style licence) "
               "utils/data_files/mp_transport",
        version=f"matminer {metadata.version('matminer')}", meta=pd.DataFrame({"mp_id": df["mp_id"]}),
    )
