"""Crystal structures from what users hold: the one place that reads a structure input.

:func:`parse_structures` turns a sequence of inputs into pymatgen ``Structure`` objects, or raises one
InvalidInputError naming every unreadable or disordered row. Descriptors of structures and graph
models of the zoo read their inputs through it.

Example:
    >>> from pymatgen.core import Lattice, Structure
    >>> nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> [len(s) for s in parse_structures([nacl, nacl.to(fmt="cif")])]
    [8, 8]
    >>> parse_structures([nacl, "NaCl"])
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: not a crystal structure (a formula or composition needs the 'composition' descriptor) [rows: 1]
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from mdl.descriptors.base import as_items, check_rows
from mdl.validation import check_input_lengths

if TYPE_CHECKING:
    from pymatgen.core import Structure

WHAT = "crystal structures (pymatgen Structure or CIF text)"


def parse_structures(X: Any) -> list[Structure]:
    """``X`` as a list of ordered pymatgen Structures; InvalidInputError naming every bad row."""
    items = as_items(X, WHAT)
    check_input_lengths(items, "CIF texts", "cif_length")
    problems: dict[str, list[int]] = {}
    structures = []
    for row, item in enumerate(items):
        try:
            structures.append(as_structure(item))
        except ValueError as exc:
            problems.setdefault(str(exc), []).append(row)
    check_rows(problems)
    return structures


def as_structure(item: Any) -> Structure:
    """One input as an ordered, non-empty Structure; ValueError saying why it is not one."""
    from pymatgen.core import Structure

    if isinstance(item, Structure):
        structure = item
    elif isinstance(item, str) and "_cell_length" in item:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                structure = Structure.from_str(item, fmt="cif")
        except Exception:  # pymatgen raises many kinds here  # noqa: BLE001
            raise ValueError("CIF text that cannot be read as a crystal structure") from None
    else:
        raise ValueError("not a crystal structure (a formula or composition needs the 'composition' descriptor)")
    if not structure.is_ordered:
        raise ValueError("disordered (partially occupied) sites are not supported")
    if len(structure) == 0 or structure.volume <= 0:
        raise ValueError("empty structure or zero cell volume")
    return structure
