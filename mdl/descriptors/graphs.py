"""Structure inputs for models that take something other than a float matrix ("graph" descriptors).

* ``crystal_graph``: one :class:`CrystalGraph` per structure: atomic numbers, and a directed edge from
  each atom to each of its ``max_neighbors`` nearest neighbours (periodic images included) within
  ``cutoff`` Å, with the edge's length. Graph networks (:mod:`mdl.models.gnn`) read these.
* ``crystal_structure``: the parsed pymatgen Structures themselves, for models that build their own
  graphs (foundation potentials).

Both have no columns (width 0); :meth:`GraphDescriptor.transform` refuses, :meth:`GraphDescriptor.inputs`
hands over the records. Inputs are read by :func:`~mdl.descriptors.structure_input.parse_structures`.

Example:
    >>> from pymatgen.core import Lattice, Structure
    >>> nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> graph = CrystalGraphDescriptor(cutoff=4.0, max_neighbors=6).inputs([nacl])[0]
    >>> graph.numbers[:2].tolist(), graph.edges.shape, round(float(graph.distances.max()), 2)
    ([11, 11], (2, 48), 2.82)
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, ClassVar

import numpy as np

from mdl.config import limit
from mdl.descriptors import citations
from mdl.descriptors.base import Descriptor
from mdl.descriptors.structure_input import WHAT, parse_structures
from mdl.errors import InvalidInputError


@dataclass(frozen=True)
class CrystalGraph:
    """One crystal as a graph: ``numbers`` (n,) int64 atomic numbers, ``edges`` (2, e) int64 (row 0 the
    centre atom, row 1 its neighbour) and ``distances`` (e,) float32 in Å."""

    numbers: np.ndarray
    edges: np.ndarray
    distances: np.ndarray

    @property
    def n_atoms(self) -> int:
        """The number of atoms (nodes)."""
        return len(self.numbers)


class GraphDescriptor(Descriptor):
    """A descriptor whose output is a list of per-structure records, not a matrix (``kind = "graph"``)."""

    kind: ClassVar[str] = "graph"
    material: ClassVar[str] = "inorganic"
    _what: ClassVar[str] = WHAT

    @property
    def columns(self) -> tuple[str, ...]:
        """No columns (a graph descriptor has no matrix); reading it checks the parameters."""
        self._check()
        return ()

    @property
    def library(self) -> dict[str, str]:
        """The version of pymatgen, which reads the structures."""
        return {"pymatgen": version("pymatgen")}

    def _check(self) -> None:
        """Raise InvalidInputError for a bad parameter (none by default)."""

    def transform(self, X: Any) -> np.ndarray:
        """Refused: a graph descriptor has no float matrix (use :meth:`inputs`).

        Parameters
        ----------
        X : sequence
            Structure inputs (not read).

        Returns
        -------
        numpy.ndarray
            Never: it always raises.

        Raises
        ------
        InvalidInputError
            Always.
        """
        raise InvalidInputError(f"{self.name!r} is a graph descriptor: it has no descriptor matrix; its models "
                                "read the list that .inputs(X) returns")

    def inputs(self, X: Any) -> list[Any]:
        """One record per input structure; InvalidInputError naming every unreadable row.

        Parameters
        ----------
        X : sequence
            Structure inputs (CIF/POSCAR texts, paths, pymatgen Structures, ASE Atoms, JARVIS dicts).

        Returns
        -------
        list
            One record per input, in order.

        Raises
        ------
        InvalidInputError
            Naming every row that is not a readable structure.
        NotImplementedError
            Here: each graph descriptor defines its records.
        """
        raise NotImplementedError


class CrystalStructureDescriptor(GraphDescriptor):
    """The structures themselves, checked and parsed (pymatgen ``Structure`` objects).

    Example:
        >>> CrystalStructureDescriptor().inputs(["NaCl"])
        Traceback (most recent call last):
        mdl.errors.InvalidInputError: not a crystal structure (a formula or composition needs the 'composition' descriptor) [rows: 0]
    """

    name = "crystal_structure"
    _citations = (citations.PYMATGEN_2013,)

    def inputs(self, X: Any) -> list[Any]:
        """The parsed structures, one per input.

        Parameters
        ----------
        X : sequence
            Structure inputs (CIF/POSCAR texts, paths, pymatgen Structures, ASE Atoms, JARVIS dicts).

        Returns
        -------
        list of Structure
            One ordered structure per input, in order.

        Raises
        ------
        InvalidInputError
            Naming every row that is not a readable structure.
        """
        return parse_structures(X)


class CrystalGraphDescriptor(GraphDescriptor):
    """Nearest-neighbour graphs of crystals (CGCNN's construction).

    Parameters
    ----------
    cutoff : neighbours are searched within this radius, Å (1 to 12).
    max_neighbors : at most this many nearest neighbours per atom (1 to ``limit("neighbors")``,
        MDL_MAX_NEIGHBORS); ties at the last place are broken by pymatgen's neighbour order.

    Example:
        >>> CrystalGraphDescriptor(cutoff=50.0).columns
        Traceback (most recent call last):
        mdl.errors.InvalidInputError: crystal_graph: cutoff must be a number in [1, 12] Å, got 50.0
    """

    name = "crystal_graph"
    _citations = (citations.CGCNN_2018, citations.PYMATGEN_2013)
    #: graph spec version: bump whenever the graph built for some structure changes
    version: ClassVar[str] = "1"

    def __init__(self, cutoff: float = 6.0, max_neighbors: int = 12):
        self.cutoff = cutoff
        self.max_neighbors = max_neighbors

    def _check(self) -> None:
        if isinstance(self.cutoff, bool) or not isinstance(self.cutoff, (int, float)) or not 1 <= self.cutoff <= 12:
            raise InvalidInputError(f"crystal_graph: cutoff must be a number in [1, 12] Å, got {self.cutoff!r}")
        top = limit("neighbors")
        if isinstance(self.max_neighbors, bool) or not isinstance(self.max_neighbors, int) or not (
                1 <= self.max_neighbors <= top):
            raise InvalidInputError(f"crystal_graph: max_neighbors must be a whole number in [1, {top}] "
                                    f"(MDL_MAX_NEIGHBORS), got {self.max_neighbors!r}")

    def inputs(self, X: Any) -> list[CrystalGraph]:
        """The graph of each input structure.

        Parameters
        ----------
        X : sequence
            Structure inputs (CIF/POSCAR texts, paths, pymatgen Structures, ASE Atoms, JARVIS dicts).

        Returns
        -------
        list of CrystalGraph
            One graph per input, in order.

        Raises
        ------
        InvalidInputError
            For a bad ``cutoff`` or ``max_neighbors``, or naming every row that is not a readable structure.
        """
        self._check()
        return [self.graph(s) for s in parse_structures(X)]

    def graph(self, structure: Any) -> CrystalGraph:
        """The graph of one parsed structure.

        Parameters
        ----------
        structure : Structure
            An ordered pymatgen structure (as :meth:`inputs` parses them).

        Returns
        -------
        CrystalGraph
            Each atom linked to its at most ``max_neighbors`` nearest neighbours within ``cutoff``.
        """
        centres, neighbours, _, distances = structure.get_neighbor_list(float(self.cutoff))
        order = np.lexsort((distances, centres))  # by centre, nearest first
        centres, neighbours, distances = centres[order], neighbours[order], distances[order]
        starts = np.searchsorted(centres, centres, side="left")
        keep = np.arange(len(centres)) - starts < self.max_neighbors
        numbers = np.fromiter((site.specie.Z for site in structure), dtype=np.int64, count=len(structure))
        edges = np.vstack([centres[keep], neighbours[keep]]).astype(np.int64)
        return CrystalGraph(numbers, edges, distances[keep].astype(np.float32))
