"""Readers of the stored crystal formats of the data sets: JARVIS ``Atoms`` dicts and CIF text.

The same readers serve the data sets (``mdl.datasets.crystals``) and user inputs
(``mdl.descriptors.structure_input``), so a structure reads the same wherever it comes from. Both raise
``ValueError`` saying what is wrong with the input; neither applies the size limits of user input.

Example:
    >>> s = structure_from_jarvis({"lattice_mat": [[4.12, 0, 0], [0, 4.12, 0], [0, 0, 4.12]],
    ...                            "coords": [[0, 0, 0], [0.5, 0.5, 0.5]], "elements": ["Cs", "Cl"],
    ...                            "cartesian": False})
    >>> s.composition.reduced_formula, round(s.volume, 1)
    ('CsCl', 69.9)
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: the keys of a JARVIS-tools ``Atoms.to_dict()`` that describe the crystal
JARVIS_KEYS = ("lattice_mat", "coords", "elements", "cartesian")


def structure_from_jarvis(atoms: Mapping[str, Any]) -> Structure:
    """A Structure from a JARVIS-tools Atoms dict (``lattice_mat`` in Å, ``coords`` fractional unless
    ``cartesian``); ValueError naming the missing or malformed key.

    Parameters
    ----------
    atoms : mapping with the keys of :data:`JARVIS_KEYS` (others, such as ``props``, are ignored).

    Returns
    -------
    pymatgen.core.Structure

    Examples
    --------
    >>> structure_from_jarvis({"lattice_mat": [[1, 0, 0]], "coords": [], "elements": [], "cartesian": False})
    Traceback (most recent call last):
    ValueError: JARVIS atoms dict: lattice_mat must be a 3 x 3 matrix of finite numbers
    """
    missing = [key for key in JARVIS_KEYS if key not in atoms]
    if missing:
        raise ValueError(f"JARVIS atoms dict without {', '.join(missing)} (needs {', '.join(JARVIS_KEYS)})")
    lattice = _numbers(atoms["lattice_mat"])
    if lattice is None or lattice.shape != (3, 3):
        raise ValueError("JARVIS atoms dict: lattice_mat must be a 3 x 3 matrix of finite numbers")
    elements = atoms["elements"]
    if not isinstance(elements, (list, tuple)) or not all(isinstance(e, str) for e in elements):
        raise ValueError("JARVIS atoms dict: elements must be a list of element symbols")
    coords = _numbers(atoms["coords"])
    if coords is None or coords.shape != (len(elements), 3):
        raise ValueError("JARVIS atoms dict: coords must hold one [x, y, z] of finite numbers per element")
    if not isinstance(atoms["cartesian"], bool):
        raise ValueError("JARVIS atoms dict: cartesian must be true or false")
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice(lattice), list(elements), coords, coords_are_cartesian=atoms["cartesian"])


def _numbers(value: Any) -> np.ndarray | None:
    """``value`` as a float array, or None when it is not a finite numeric array."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array if np.isfinite(array).all() else None


def structure_from_cif(text: str) -> Structure:
    """A Structure from a CIF: fast path for P1 CIFs with fractional coordinates and full occupancy
    (as pymatgen writes them, about 10x faster than pymatgen's parser), pymatgen's CIF parser otherwise.
    Coordinates are wrapped into [0, 1); pymatgen's errors pass through.

    Parameters
    ----------
    text : str
        The CIF text.

    Returns
    -------
    Structure
        The structure of the CIF's first data block.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> cif = Structure(Lattice.cubic(4.12), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(fmt="cif")
    >>> structure_from_cif(cif).composition.reduced_formula
    'CsCl'
    """
    from pymatgen.core import Lattice, Structure

    cell: dict[str, float] = {}
    loops: list[tuple[list[str], list[list[str]]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "data_")):
            continue
        if line == "loop_":
            loops.append(([], []))
        elif line.startswith("_"):
            key, _, value = line.partition(" ")
            if loops and not loops[-1][1] and not value.strip():
                loops[-1][0].append(key)
            elif key.startswith(("_cell_length_", "_cell_angle_")):
                cell[key] = float(value)
        elif loops:
            loops[-1][1].append(shlex.split(line) if "'" in line or '"' in line else line.split())
    table = {tuple(cols): rows for cols, rows in loops}
    sym = next((rows for cols, rows in table.items() if "_symmetry_equiv_pos_as_xyz" in cols), None)
    atoms = next(((list(cols), rows) for cols, rows in table.items() if "_atom_site_fract_x" in cols), None)
    if sym is None or [r[-1].replace(" ", "") for r in sym] != ["x,y,z"] or atoms is None or len(cell) != 6:
        return Structure.from_str(text, fmt="cif")
    cols, rows = atoms
    col = {c: i for i, c in enumerate(cols)}
    occupancy = col.get("_atom_site_occupancy")
    if "_atom_site_type_symbol" not in col or (occupancy is not None and any(float(r[occupancy]) != 1.0
                                                                              for r in rows)):
        return Structure.from_str(text, fmt="cif")
    frac = np.array([[float(r[col[f"_atom_site_fract_{x}"]]) for x in "xyz"] for r in rows]) % 1.0
    frac[frac >= 1.0] = 0.0  # -1e-17 % 1.0 == 1.0 in floating point
    lattice = Lattice.from_parameters(*(cell[f"_cell_length_{x}"] for x in "abc"),
                                      *(cell[f"_cell_angle_{x}"] for x in ("alpha", "beta", "gamma")))
    return Structure(lattice, [r[col["_atom_site_type_symbol"]] for r in rows], frac)
