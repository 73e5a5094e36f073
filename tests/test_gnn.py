"""Graph inputs (crystal_graph, crystal_structure) and the graph-network family."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from mdl.descriptors import descriptor_kind, from_spec, get_descriptor
from mdl.errors import InvalidInputError


def rocksalt(a: float, cation: str = "Na", anion: str = "Cl") -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [cation, anion], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_crystal_graph_neighbours_are_nearest_and_bounded():
    nacl = rocksalt(5.64)
    graph = get_descriptor("crystal_graph", cutoff=5.0, max_neighbors=6).inputs([nacl])[0]
    assert graph.numbers.tolist() == [11] * 4 + [17] * 4
    assert graph.edges.shape == (2, 8 * 6) and graph.edges.dtype == np.int64
    assert np.allclose(graph.distances, 2.82, atol=1e-3)  # the 6 nearest of rock salt: opposite ions
    assert (graph.numbers[graph.edges[0]] != graph.numbers[graph.edges[1]]).all()
    wide = get_descriptor("crystal_graph", cutoff=5.0, max_neighbors=18).inputs([nacl])[0]
    assert np.bincount(wide.edges[0]).tolist() == [18] * 8  # 6 at a/2, then 12 at a/sqrt(2)
    assert wide.distances.max() == pytest.approx(5.64 / np.sqrt(2), abs=1e-3)


def test_crystal_graph_is_cell_independent():
    nacl = rocksalt(5.64)
    one, two = get_descriptor("crystal_graph", cutoff=6.0, max_neighbors=12).inputs([nacl, nacl * (2, 1, 1)])
    assert two.n_atoms == 2 * one.n_atoms
    assert np.allclose(np.sort(two.distances)[::2], np.sort(one.distances))


def test_graph_descriptors_have_no_matrix_and_round_trip():
    d = get_descriptor("crystal_graph", cutoff=4.0, max_neighbors=8)
    assert descriptor_kind("crystal_graph") == descriptor_kind("crystal_structure") == "graph"
    assert d.spec.width == 0 and from_spec(d.spec.to_dict()).get_params() == d.get_params()
    with pytest.raises(InvalidInputError, match="graph descriptor"):
        d.transform([rocksalt(5.64)])
    with pytest.raises(InvalidInputError, match="max_neighbors"):
        get_descriptor("crystal_graph", max_neighbors=10_000)
    with pytest.raises(InvalidInputError, match=r"rows: 1"):
        d.inputs([rocksalt(5.64), "NaCl"])
    parsed = get_descriptor("crystal_structure").inputs([rocksalt(5.64).to(fmt="cif")])
    assert parsed[0].composition.reduced_formula == "NaCl"
