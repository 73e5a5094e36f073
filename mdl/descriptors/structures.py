"""Crystal structures: geometry that composition alone cannot see (polymorphs, carbon allotropes).

``structure``: a few global features and a radial distribution function, all independent of the
cell chosen to write the crystal (a supercell gives the same row):

* ``volume_per_atom`` (Å³), ``density`` (g/cm³), ``packing_fraction`` (atomic spheres, pymatgen's
  atomic radii, over the cell volume), ``spacegroup_number`` (spglib, ``symprec`` Å);
* nearest-neighbour distance per site: its ``min``, ``mean`` and ``max`` over sites (Å), and the
  mean number of neighbours within 1.2 times each site's nearest-neighbour distance;
* ``rdf_<r>``: the radial distribution function g(r) in ``n_bins`` shells up to ``r_max`` Å, pair
  counts per atom divided by what an ideal gas of the same density would have in the shell.

Inputs: pymatgen ``Structure`` objects or CIF text. Formulas, compositions, unreadable CIFs and
disordered (partially occupied) sites raise one InvalidInputError naming every bad row.

Examples
--------
>>> from pymatgen.core import Lattice, Structure
>>> nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
>>> row = dict(zip(StructureDescriptor().columns, StructureDescriptor().transform([nacl])[0]))
>>> round(float(row["density"]), 2), int(row["spacegroup_number"]), round(float(row["nn_distance_mean"]), 2)
(2.16, 225, 2.82)
"""

from __future__ import annotations

import math
import warnings
from importlib.metadata import version
from typing import Any, ClassVar

import numpy as np

from mdl.descriptors import citations
from mdl.descriptors.base import Descriptor, check_rows
from mdl.errors import InvalidInputError
from mdl.descriptors.structure_input import WHAT, parse_structures

GLOBAL = ("volume_per_atom", "density", "packing_fraction", "spacegroup_number", "nn_distance_min",
          "nn_distance_mean", "nn_distance_max", "coordination_mean")
_AVOGADRO_CM3 = 1.66053906660  # g/cm³ of one atomic mass unit per Å³


class StructureDescriptor(Descriptor):
    """Cell-independent geometry of a crystal: global features and a radial distribution function.

    Parameters
    ----------
    r_max : float
        The radius (Å) the radial distribution function reaches.
    n_bins : int
        Its shells.
    symprec : float
        spglib's tolerance (Å) for the space group.

    Examples
    --------
    >>> StructureDescriptor(r_max=4.0, n_bins=8).columns[-1]
    'rdf_3.75'
    """

    #: the radial distribution function as a crystal's features; pymatgen's neighbours, spglib's space group
    _citations = (citations.SCHUTT_2014, citations.PYMATGEN_2013, citations.SPGLIB_2024)

    name = "structure"
    material: ClassVar[str] = "inorganic"
    _what: ClassVar[str] = WHAT

    def __init__(self, r_max: float = 6.0, n_bins: int = 24, symprec: float = 0.1):
        self.r_max = r_max
        self.n_bins = n_bins
        self.symprec = symprec

    def _check(self) -> None:
        ok = (isinstance(self.n_bins, int) and self.n_bins >= 1 and isinstance(self.r_max, (int, float))
              and 1.0 <= self.r_max <= 20.0 and isinstance(self.symprec, (int, float)) and self.symprec > 0)
        if not ok:
            raise InvalidInputError(f"structure descriptor needs n_bins >= 1, r_max in [1, 20] Å and symprec > 0, "
                                    f"got n_bins={self.n_bins!r}, r_max={self.r_max!r}, symprec={self.symprec!r}")

    @property
    def columns(self) -> tuple[str, ...]:
        """The global features, then one ``rdf_<r>`` column per shell.

        Returns
        -------
        tuple of str
            The names.

        Raises
        ------
        InvalidInputError
            For parameters out of range.
        """
        self._check()
        step = self.r_max / self.n_bins
        return GLOBAL + tuple(f"rdf_{(k + 0.5) * step:.2f}" for k in range(self.n_bins))

    @property
    def library(self) -> dict[str, str]:
        """The libraries the features depend on, by version.

        Returns
        -------
        dict of str to str
            ``{"pymatgen": version, "spglib": version}``.
        """
        return {"pymatgen": version("pymatgen"), "spglib": version("spglib")}

    def _transform(self, items: list[Any]) -> np.ndarray:
        self._check()
        problems: dict[str, list[int]] = {}
        rows = []
        for row, structure in enumerate(parse_structures(items)):
            try:
                rows.append(self._features(structure))
            except ValueError as exc:
                problems.setdefault(str(exc), []).append(row)
        check_rows(problems)
        return np.vstack(rows)

    def _features(self, structure: Any) -> np.ndarray:
        from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

        n, volume = len(structure), structure.volume
        radii = [_radius(site.specie) for site in structure]
        packing = sum(4.0 / 3.0 * math.pi * r**3 for r in radii) / volume
        density = float(structure.composition.weight) * _AVOGADRO_CM3 / volume
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                spacegroup = SpacegroupAnalyzer(structure, symprec=self.symprec).get_space_group_number()
            except Exception:  # spglib finds no symmetry at this tolerance: P1  # noqa: BLE001
                spacegroup = 1
        reach = max(self.r_max, 1.0)
        centres, _, _, distances = structure.get_neighbor_list(reach)
        while len(np.unique(centres)) < n:  # a sparse cell: search further for every site's neighbour
            reach *= 2
            centres, _, _, distances = structure.get_neighbor_list(reach)
        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, centres, distances)
        coordination = np.bincount(centres[distances <= 1.2 * nearest[centres]], minlength=n)
        inside = distances < self.r_max
        counts = np.bincount(np.minimum((distances[inside] / self.r_max * self.n_bins).astype(int), self.n_bins - 1),
                             minlength=self.n_bins)
        edges = np.linspace(0.0, self.r_max, self.n_bins + 1)
        shells = 4.0 / 3.0 * math.pi * (edges[1:] ** 3 - edges[:-1] ** 3) * (n / volume)
        rdf = counts / n / shells
        return np.concatenate([[volume / n, density, packing, spacegroup, nearest.min(), nearest.mean(),
                                nearest.max(), coordination.mean()], rdf])


def _radius(specie: Any) -> float:
    element = getattr(specie, "element", specie)
    radius = element.atomic_radius or element.atomic_radius_calculated
    if radius is None:
        raise ValueError(f"no atomic radius for {element}")
    return float(radius)
