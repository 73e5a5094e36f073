"""Polymer repeat units (SMILES with two ``*`` attachment points) and their per-unit fingerprint counts.

End rule: a polymer is its infinite chain, so its fingerprint is what one repeat unit contributes
to the bulk of that chain, with no end groups and no ring closure. For a count fingerprint ``C``:

1. the unit's two ``*`` atoms are removed; the atoms that carried them are the head and the tail;
2. linear oligomers of ``n`` and ``n + 1`` units are built, each unit's tail bonded to the next
   unit's head with the attachment bond type, and each chain end capped with one carbon atom
   (bonded like the missing neighbour, its hydrogens implicit);
3. the descriptor is ``C(n + 1) - C(n)``: the end regions are the same in both oligomers and
   cancel, leaving exactly the counts of one bulk repeat unit.

``n = 2 * (reach // step + 1)``, where ``reach`` is how far (in bonds) a feature extends from the
atom it is assigned to (the Morgan radius, the largest atom-pair distance...) and ``step`` the
backbone bonds one unit adds, so that no feature sees both ends. The result depends only on the
infinite chain's graph: it is identical for any SMILES spelling, direction (``*OCC*`` = ``*CCO*``)
and frame (``*CCO*`` = ``*COC*``). Bit vectors are ``counts > 0``; a unit written twice
(``*CCCC*``) gives the same bits and twice the counts of ``*CC*``.

Units that are not linear chains (one, three or four ``*``: end groups, branch points, networks)
raise by default; ``nonlinear="cap"`` counts them once as a molecule whose ``*`` are carbons.

Examples
--------
>>> from mdl.descriptors import get_descriptor
>>> fp = get_descriptor("morgan", polymer=True, counts=True)
>>> bool((fp.transform(["*CCO*"]) == fp.transform(["*COC*"])).all())
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rdkit import Chem, rdBase
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from mdl.descriptors.base import check_rows
from mdl.errors import InvalidInputError
from mdl.validation import check_input_lengths

#: what to do with repeat units that are not linear chains
NONLINEAR = ("raise", "cap")
#: atom-pair chains longer than this drop the atoms too far to pair with the first unit
#: (RDKit's distance matrix costs O(atoms^3)); both ways give the same counts
PRUNE_ABOVE = 250
#: a count fingerprint of a molecule, e.g. ``generator.GetCountFingerprintAsNumPy``
CountFn = Callable[[Chem.Mol], np.ndarray]


@dataclass(frozen=True)
class RepeatUnit:
    """A repeat unit without its ``*`` atoms: ``head`` and ``tail`` carried them, ``bond`` is their
    bond type and ``step`` the number of backbone bonds one unit adds to the chain."""

    core: Chem.Mol
    head: int
    tail: int
    bond: Chem.BondType
    step: int

    def oligomer(self, n: int) -> Chem.Mol:
        """``n`` units joined tail-to-head, both chain ends capped with a carbon atom.

        Parameters
        ----------
        n : int
            Units.

        Returns
        -------
        rdkit.Chem.Mol
            The oligomer.
        """
        chain = Chem.RWMol()
        size = self.core.GetNumAtoms()
        for i in range(n):
            chain.InsertMol(self.core)
            if i:
                chain.AddBond((i - 1) * size + self.tail, i * size + self.head, self.bond)
        for end in (self.head, (n - 1) * size + self.tail):
            chain.AddBond(end, chain.AddAtom(Chem.Atom(6)), self.bond)
        Chem.SanitizeMol(chain)
        return chain

    def bulk_counts(self, count: CountFn, reach: int) -> np.ndarray:
        """Counts per bulk repeat unit (see the module docstring).

        Parameters
        ----------
        count : callable
            A fingerprint generator's count function of a molecule.
        reach : int
            How far (bonds) a feature extends from its atom (sizes the oligomers).

        Returns
        -------
        numpy.ndarray
            The counts.
        """
        n = 2 * (reach // self.step + 1)
        return count(self.oligomer(n + 1)).astype(np.int64) - count(self.oligomer(n)).astype(np.int64)

    def bulk_pair_counts(self, count: Callable[..., np.ndarray], reach: int) -> np.ndarray:
        """The same for an atom-pair fingerprint, much faster.

        ``count(mol, fromAtoms=...)`` counts the pairs touching those atoms, at most ``reach`` bonds apart:
        the pairs touching the first unit of a chain, without the pairs with its cap, are exactly one bulk
        unit's.

        Parameters
        ----------
        count : callable
            An atom-pair generator's count function.
        reach : int
            The largest pair distance (bonds).

        Returns
        -------
        numpy.ndarray
            The counts.
        """
        n = reach // self.step + 2  # the far cap is more than ``reach`` bonds from the first unit
        size = self.core.GetNumAtoms()
        chain, cap = self.oligomer(n), n * size  # the head's cap was added first
        if chain.GetNumAtoms() > PRUNE_ABOVE:
            chain, cap = _prune(chain, size, reach + 1, cap)
        with_cap, cap_only = count(chain, fromAtoms=[*range(size), cap]), count(chain, fromAtoms=[cap])
        return with_cap.astype(np.int64) - cap_only.astype(np.int64)


def _prune(mol: Chem.Mol, size: int, limit: int, cap: int) -> tuple[Chem.Mol, int]:
    """``mol`` without the atoms more than ``limit`` bonds from atoms ``0..size-1``, and the new
    index of atom ``cap``. The atoms within ``limit - 1`` bonds keep all their neighbours."""
    graph = csr_matrix(Chem.GetAdjacencyMatrix(mol))
    distance = dijkstra(graph, directed=False, indices=range(size), unweighted=True, min_only=True)
    far = np.flatnonzero(distance > limit)
    pruned = Chem.RWMol(mol)
    pruned.BeginBatchEdit()
    for atom in far.tolist():
        pruned.RemoveAtom(atom)
    pruned.CommitBatchEdit()
    pruned.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(pruned)
    return pruned.GetMol(), cap - int((far < cap).sum())


def repeat_unit(smiles: str) -> RepeatUnit:
    """The repeat unit of a SMILES.

    Parameters
    ----------
    smiles : str
        A repeat unit with two ``*``.

    Returns
    -------
    RepeatUnit
        Its atoms, ends and step.

    Raises
    ------
    ValueError
        Naming the problem, when it is not a linear repeat unit.

    Examples
    --------
    >>> repeat_unit("*CC(*)c1ccccc1").step, repeat_unit("*c1ccc(*)cc1").step
    (2, 4)
    """
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        raise ValueError("invalid SMILES")
    stars = [a for a in mol.GetAtoms() if a.GetAtomicNum() == 0]
    if len(stars) != 2:
        raise ValueError("repeat unit must have exactly two '*' attachment points")
    if any(a.GetDegree() != 1 for a in stars):
        raise ValueError("each '*' must have exactly one neighbour")
    bonds = [a.GetBonds()[0] for a in stars]
    ends = [b.GetOtherAtomIdx(a.GetIdx()) for a, b in zip(stars, bonds)]
    if any(mol.GetAtomWithIdx(e).GetAtomicNum() == 0 for e in ends):
        raise ValueError("a '*' must be bonded to an atom, not to another '*'")
    if bonds[0].GetBondType() != bonds[1].GetBondType():
        raise ValueError("the two '*' bonds must have the same type")
    core = Chem.RWMol(mol)
    for star in sorted((a.GetIdx() for a in stars), reverse=True):
        core.RemoveAtom(star)
    head, tail = (e - sum(s.GetIdx() < e for s in stars) for e in ends)  # indices shift on removal
    Chem.RemoveStereochemistry(core)  # fingerprints ignore it; joined copies would garble it
    step = len(Chem.GetShortestPath(core, head, tail)) if head != tail else 1
    return RepeatUnit(core.GetMol(), head, tail, bonds[0].GetBondType(), step)


def capped_molecule(smiles: str) -> Chem.Mol:
    """The SMILES as one molecule with every ``*`` made a carbon (the ``nonlinear="cap"`` fallback).

    Parameters
    ----------
    smiles : str
        A SMILES with ``*``.

    Returns
    -------
    rdkit.Chem.Mol
        The molecule.

    Examples
    --------
    >>> Chem.MolToSmiles(capped_molecule("*CC(*)C(=O)OCC(*)C*"))
    'CCC(C)COC(=O)C(C)CC'
    """
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        raise ValueError("invalid SMILES")
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() == 0:
            atom.SetAtomicNum(6)
            atom.SetIsotope(0)
            atom.SetAtomMapNum(0)
            atom.SetNoImplicit(False)
            atom.SetNumExplicitHs(0)
    Chem.SanitizeMol(mol)
    return mol


def _unit_counts(item: Any, count: CountFn, reach: int, nonlinear: str, pairs: bool) -> np.ndarray:
    """Counts of one input; ValueError naming the problem."""
    if not isinstance(item, str):
        raise ValueError("not a SMILES string")
    try:
        unit = repeat_unit(item)
        return unit.bulk_pair_counts(count, reach) if pairs else unit.bulk_counts(count, reach)
    except Chem.MolSanitizeException:  # a ValueError too: catch it first
        problem = "repeat unit cannot form a valid chain"
    except ValueError as exc:
        if str(exc) == "invalid SMILES":
            raise
        problem = str(exc)
    if nonlinear == "raise":
        raise ValueError(f"{problem} (nonlinear='cap' counts such units as molecules)")
    try:
        return count(capped_molecule(item)).astype(np.int64)
    except ValueError:
        raise ValueError("cannot be featurized even with '*' made carbon") from None


def bulk_count_matrix(
    items: list[Any], count: CountFn, reach: int, nonlinear: str = "raise", pairs: bool = False
) -> np.ndarray:
    """Per-unit bulk counts, one row per repeat-unit SMILES.

    Repeat units longer than ``MDL_MAX_SMILES_LENGTH`` are refused before any is parsed.

    Parameters
    ----------
    items : list
        Repeat-unit SMILES.
    count : callable
        A fingerprint generator's count function.
    reach : int
        How far (bonds) a feature extends from its atom.
    nonlinear : {"raise", "cap"}
        A valid SMILES that is not a linear repeat unit (not two ``*``, a ``*`` with two neighbours,
        unequal ``*`` bonds, no valid chain) is reported ("raise") or counted once as
        :func:`capped_molecule` ("cap").
    pairs : bool
        ``count`` is an atom-pair fingerprint (see :meth:`RepeatUnit.bulk_pair_counts`).

    Returns
    -------
    numpy.ndarray
        One row per input.

    Raises
    ------
    InvalidInputError
        Listing every bad row by problem.
    """
    if nonlinear not in NONLINEAR:
        raise InvalidInputError(f"nonlinear must be one of {NONLINEAR}, got {nonlinear!r}")
    check_input_lengths(items, "repeat-unit SMILES")
    problems: dict[str, list[int]] = {}
    rows = []
    with rdBase.BlockLogs():
        for row, item in enumerate(items):
            try:
                rows.append(_unit_counts(item, count, reach, nonlinear, pairs))
            except ValueError as exc:
                problems.setdefault(str(exc), []).append(row)
    check_rows(problems)
    return np.vstack(rows)
