"""Crystal graphs packed once into flat arrays, and mini-batches cut from them as torch tensors.

A :class:`GraphSet` concatenates every graph of a data set (atoms, edges, distances) with pointers to
where each graph starts, so a batch of any graphs is a few vectorised gathers: no Python loop over
graphs per batch, and one packing shared by every network trained on the same data.

>>> from mdl.descriptors.graphs import CrystalGraph
>>> g = CrystalGraph(np.array([11, 17]), np.array([[0, 1], [1, 0]]), np.array([2.8, 2.8], np.float32))
>>> batch = GraphSet.pack([g, g, g]).batch(np.array([2, 0]))
>>> batch.numbers.tolist(), batch.edges.tolist(), batch.graph_of_atom.tolist()
([11, 17, 11, 17], [[0, 1, 2, 3], [1, 0, 3, 2]], [0, 0, 1, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mdl.errors import InvalidInputError

#: largest atomic number a graph may hold (embedding rows 0..MAX_Z; 0 is a dummy species)
MAX_Z = 118


@dataclass(frozen=True)
class Batch:
    """Graphs of one mini-batch, atom indices renumbered from 0."""

    numbers: torch.Tensor  # (n_atoms,) int64
    edges: torch.Tensor  # (2, n_edges) int64: centre, neighbour
    distances: torch.Tensor  # (n_edges,) float32
    graph_of_atom: torch.Tensor  # (n_atoms,) int64
    n_graphs: int


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start, start + count)`` for each pair, without a Python loop."""
    total = int(counts.sum())
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return np.arange(total, dtype=np.int64) + shift


@dataclass(frozen=True)
class GraphSet:
    """Every graph of a data set in flat arrays (see the module docstring)."""

    numbers: np.ndarray
    edges: np.ndarray  # local atom indices within each graph
    distances: np.ndarray
    atom_ptr: np.ndarray  # (n_graphs + 1,)
    edge_ptr: np.ndarray

    def __len__(self) -> int:
        return len(self.atom_ptr) - 1

    @classmethod
    def pack(cls, graphs: Sequence[Any]) -> GraphSet:
        """Pack crystal graphs (:class:`~mdl.descriptors.graphs.CrystalGraph`); a GraphSet is returned as is.

        Parameters
        ----------
        graphs : sequence of CrystalGraph or GraphSet
            The graphs.

        Returns
        -------
        GraphSet
            Every graph in flat arrays.

        Raises
        ------
        InvalidInputError
            For an empty or non-list input, or naming the rows that are not well-formed graphs.
        """
        if isinstance(graphs, GraphSet):
            return graphs
        if isinstance(graphs, (str, bytes)) or not isinstance(graphs, Sequence) or not len(graphs):
            raise InvalidInputError("expected a non-empty list of crystal graphs (the 'crystal_graph' descriptor's "
                                    "inputs(X))")
        bad = [i for i, g in enumerate(graphs) if not _well_formed(g)]
        if bad:
            raise InvalidInputError("not a crystal graph (atomic numbers in [0, 118], edges inside the graph, "
                                    "finite non-negative distances)", rows=bad)
        atoms = np.array([len(g.numbers) for g in graphs], dtype=np.int64)
        edges = np.array([len(g.distances) for g in graphs], dtype=np.int64)
        return cls(numbers=np.concatenate([g.numbers for g in graphs]).astype(np.int64),
                   edges=np.concatenate([g.edges for g in graphs], axis=1).astype(np.int64),
                   distances=np.concatenate([g.distances for g in graphs]).astype(np.float32),
                   atom_ptr=np.concatenate([[0], np.cumsum(atoms)]), edge_ptr=np.concatenate([[0], np.cumsum(edges)]))

    def batch(self, index: np.ndarray) -> Batch:
        """The graphs ``index`` (in that order) as one batch.

        Parameters
        ----------
        index : array-like of int
            Graph rows.

        Returns
        -------
        Batch
            Their atoms and edges as torch tensors, edges indexing the batch's atoms.
        """
        index = np.asarray(index, dtype=np.int64)
        n_atoms = self.atom_ptr[index + 1] - self.atom_ptr[index]
        n_edges = self.edge_ptr[index + 1] - self.edge_ptr[index]
        atoms = _ranges(self.atom_ptr[index], n_atoms)
        edge_rows = _ranges(self.edge_ptr[index], n_edges)
        offset = np.repeat(np.cumsum(n_atoms) - n_atoms, n_edges)
        return Batch(numbers=torch.from_numpy(self.numbers[atoms]),
                     edges=torch.from_numpy(self.edges[:, edge_rows] + offset),
                     distances=torch.from_numpy(self.distances[edge_rows]),
                     graph_of_atom=torch.from_numpy(np.repeat(np.arange(len(index), dtype=np.int64), n_atoms)),
                     n_graphs=len(index))

    def subset(self, rows: np.ndarray) -> GraphSet:
        """The graphs ``rows`` as a GraphSet of their own (a model's training rows of a shared set).

        Parameters
        ----------
        rows : array-like of int
            Graph rows, in the order wanted.

        Returns
        -------
        GraphSet
            Those graphs only.
        """
        rows = np.asarray(rows, dtype=np.int64)
        n_atoms = self.atom_ptr[rows + 1] - self.atom_ptr[rows]
        n_edges = self.edge_ptr[rows + 1] - self.edge_ptr[rows]
        atoms, edges = _ranges(self.atom_ptr[rows], n_atoms), _ranges(self.edge_ptr[rows], n_edges)
        return GraphSet(self.numbers[atoms], self.edges[:, edges], self.distances[edges],
                        np.concatenate([[0], np.cumsum(n_atoms)]), np.concatenate([[0], np.cumsum(n_edges)]))

    def prune(self, cutoff: float | None, max_neighbors: int | None) -> GraphSet:
        """Only the edges within ``cutoff`` Å among each atom's ``max_neighbors`` nearest (None: no bound),
        so networks of one family can each see a smaller neighbourhood of graphs built once.

        Parameters
        ----------
        cutoff : float or None
            Longest edge kept, Å.
        max_neighbors : int or None
            Most edges kept per centre atom, nearest first.

        Returns
        -------
        GraphSet
            The pruned graphs (``self`` when both are None).

        Examples
        --------
        >>> from mdl.descriptors.graphs import CrystalGraph
        >>> g = CrystalGraph(np.array([6, 8]), np.array([[0, 0, 0, 1], [1, 1, 1, 0]]),
        ...                  np.array([3.0, 1.0, 2.0, 1.0], np.float32))
        >>> GraphSet.pack([g]).prune(2.5, 1).distances.tolist()
        [1.0, 1.0]
        """
        if cutoff is None and max_neighbors is None:
            return self
        graph_of_edge = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.edge_ptr))
        order = np.lexsort((self.distances, self.edges[0], graph_of_edge))  # by graph, centre, nearest first
        graph_of_edge, edges, distances = graph_of_edge[order], self.edges[:, order], self.distances[order]
        keep = np.ones(len(distances), dtype=bool)
        if max_neighbors is not None:
            new = np.ones(len(distances), dtype=bool)
            new[1:] = (graph_of_edge[1:] != graph_of_edge[:-1]) | (edges[0, 1:] != edges[0, :-1])
            first = np.maximum.accumulate(np.where(new, np.arange(len(distances)), 0))
            keep &= np.arange(len(distances)) - first < max_neighbors
        if cutoff is not None:
            keep &= distances <= cutoff
        counts = np.bincount(graph_of_edge[keep], minlength=len(self))
        return GraphSet(self.numbers, edges[:, keep], distances[keep], self.atom_ptr,
                        np.concatenate([[0], np.cumsum(counts)]))

    def max_distance(self) -> float:
        """The longest edge of every graph, Å (0.0 when there are no edges).

        Returns
        -------
        float
        """
        return float(self.distances.max()) if len(self.distances) else 0.0


def _well_formed(g: Any) -> bool:
    try:
        numbers, edges, distances = np.asarray(g.numbers), np.asarray(g.edges), np.asarray(g.distances)
    except AttributeError:
        return False
    n = len(numbers)
    return (numbers.ndim == 1 and n > 0 and numbers.dtype.kind in "iu" and numbers.min() >= 0
            and numbers.max() <= MAX_Z and edges.ndim == 2 and edges.shape[0] == 2 and edges.dtype.kind in "iu"
            and distances.shape == (edges.shape[1],) and distances.dtype.kind == "f"
            and (edges.size == 0 or (edges.min() >= 0 and edges.max() < n))
            and bool(np.isfinite(distances).all()) and bool((distances >= 0).all()))
