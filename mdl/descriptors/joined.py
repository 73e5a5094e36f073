"""``structure_composition``: the structure descriptor's geometry beside the 290 composition columns.

Geometry alone cannot tell elements apart (the radial distribution function of NaCl and KCl differ only
in scale); composition alone cannot tell polymorphs apart. Joined, one row carries both: the columns of
``structure`` (same parameters) followed by those of ``composition``, computed from the structure's
reduced composition. Inputs are the structure inputs of :mod:`mdl.descriptors.structure_input`, parsed
once for both parts.

Example:
    >>> from pymatgen.core import Lattice, Structure
    >>> cscl = Structure(Lattice.cubic(4.12), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> d = StructureComposition(n_bins=8)
    >>> X = d.transform([cscl])
    >>> X.shape, d.columns[0], d.columns[16]
    ((1, 306), 'volume_per_atom', 'ave:atomic_number')
    >>> float(X[0, 16])  # (55 + 17) / 2
    36.0
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mdl.descriptors.base import Descriptor
from mdl.descriptors.compositions import CompositionDescriptor
from mdl.descriptors.structure_input import WHAT, parse_structures
from mdl.descriptors.structures import StructureDescriptor


class StructureComposition(Descriptor):
    """Structure descriptor columns followed by composition descriptor columns.

    Parameters
    ----------
    r_max, n_bins, symprec : those of :class:`~mdl.descriptors.structures.StructureDescriptor`.

    Example:
        >>> StructureComposition().spec.width  # 8 global + 24 RDF + 290 composition columns
        322
    """

    name = "structure_composition"
    material: ClassVar[str] = "inorganic"
    _what: ClassVar[str] = WHAT

    def __init__(self, r_max: float = 6.0, n_bins: int = 24, symprec: float = 0.1):
        self.r_max = r_max
        self.n_bins = n_bins
        self.symprec = symprec

    def _parts(self) -> tuple[StructureDescriptor, CompositionDescriptor]:
        return StructureDescriptor(self.r_max, self.n_bins, self.symprec), CompositionDescriptor()

    def parts(self) -> tuple[Descriptor, ...]:
        """The descriptors whose matrices, side by side, make this one's (a build featurises each part once
        and shares it with the recipes that use the part alone, :class:`mdl.zoo.builder.FeatureCache`).

        Returns
        -------
        tuple of Descriptor
            The structure descriptor (same parameters), then the composition descriptor.

        Examples
        --------
        >>> [part.name for part in StructureComposition().parts()]
        ['structure', 'composition']
        """
        return self._parts()

    @property
    def columns(self) -> tuple[str, ...]:
        """The structure descriptor's columns, then the composition descriptor's."""
        structure, composition = self._parts()
        return structure.columns + composition.columns

    @property
    def library(self) -> dict[str, str]:
        """The library versions of both parts."""
        structure, composition = self._parts()
        return {**structure.library, **composition.library}

    def citations(self) -> list[str]:
        """The works both parts rest on, each once (see :meth:`Descriptor.citations`).

        Returns
        -------
        list of str
            The structure descriptor's BibTeX entries, then the composition descriptor's not already listed.

        Examples
        --------
        >>> len(StructureComposition().citations())   # pymatgen once
        6
        """
        structure, composition = self._parts()
        return list(dict.fromkeys(structure.citations() + composition.citations()))

    def _transform(self, items: list[Any]) -> np.ndarray:
        structure, composition = self._parts()
        structure.columns  # validates the parameters before any parsing
        structures = parse_structures(items)
        return np.hstack([structure._transform(structures), composition._transform(structures)])
