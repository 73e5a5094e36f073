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

Example:
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

from mdl.descriptors.base import check_rows

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
        """``n`` units joined tail-to-head, both chain ends capped with a carbon atom."""
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
        """Counts of ``count`` per bulk repeat unit (see the module docstring)."""
        n = 2 * (reach // self.step + 1)
        return count(self.oligomer(n + 1)).astype(np.int64) - count(self.oligomer(n)).astype(np.int64)


def repeat_unit(smiles: str) -> RepeatUnit:
    """The repeat unit of a SMILES; ValueError naming the problem if it is not a linear repeat unit.

    Example:
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
    Chem.RemoveStereochemistry(core)
    step = len(Chem.GetShortestPath(core, head, tail)) if head != tail else 1
    return RepeatUnit(core.GetMol(), head, tail, bonds[0].GetBondType(), step)


def bulk_count_matrix(items: list[Any], count: CountFn, reach: int) -> np.ndarray:
    """Per-unit bulk counts, one row per repeat-unit SMILES; one InvalidInputError lists every bad
    row by problem."""
    problems: dict[str, list[int]] = {}
    rows = []
    with rdBase.BlockLogs():
        for row, item in enumerate(items):
            try:
                if not isinstance(item, str):
                    raise ValueError("not a SMILES string")
                rows.append(repeat_unit(item).bulk_counts(count, reach))
            except ValueError as exc:  # RDKit's sanitization errors are ValueErrors too
                problem = "repeat unit cannot form a valid chain" if isinstance(exc, Chem.MolSanitizeException) else str(exc)
                problems.setdefault(problem, []).append(row)
    check_rows(problems)
    return np.vstack(rows)
