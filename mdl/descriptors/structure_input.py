"""Crystal structures from what users hold: the one place that reads a structure input.

:func:`parse_structures` turns a sequence of inputs into ordered pymatgen ``Structure`` objects, or raises
one InvalidInputError naming every unreadable, disordered or oversized row. Accepted, row by row:

* pymatgen ``Structure`` or ``IStructure``;
* CIF text (it has ``_cell_length_`` lines) or POSCAR/VASP text (any other text of several lines);
* a file: a ``pathlib.Path``, or a one-line string naming an existing ``*.cif``, ``*.vasp``, ``*.poscar``,
  ``POSCAR*`` or ``CONTCAR*`` file, at most ``MDL_MAX_CIF_LENGTH`` bytes;
* a JARVIS-tools atoms dict (``lattice_mat``, ``coords``, ``elements``, ``cartesian``), the shape of the
  ``optimal_ptft`` data sets, read by the data sets' own reader;
* an ASE ``Atoms`` with a periodic cell (ASE is imported only when such an object is given).

The sequence may be a list, a 1-D array, a pandas Series or a one-column DataFrame. Every structure may
hold at most ``MDL_MAX_SITES`` sites (1,000 by default).

Partial occupancy: disordered sites are refused by default (``on_disorder="error"``): the descriptors and
networks of the zoo see one species per site. ``on_disorder="majority"`` gives each disordered site its
majority species (ties: the species listed first), with occupancy 1 - a vacancy is filled by it too. It is
an approximation for substitutional disorder, to be chosen knowingly; read the structures with it and
hand them to any descriptor.

Example:
    >>> from pymatgen.core import Lattice, Structure
    >>> nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> [len(s) for s in parse_structures([nacl, nacl.to(fmt="cif"), nacl.to(fmt="poscar")])]
    [8, 8, 8]
    >>> parse_structures([nacl, "NaCl"])
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: not a crystal structure (a formula or composition needs the 'composition' descriptor) [rows: 1]
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdl.config import LIMITS, limit
from mdl.datasets.structure_readers import JARVIS_KEYS, structure_from_cif, structure_from_jarvis
from mdl.descriptors.base import as_items, check_rows
from mdl.validation import check_choice, check_input_lengths

if TYPE_CHECKING:
    from pymatgen.core import Composition, Structure

WHAT = "crystal structures (pymatgen Structure, CIF or POSCAR text or file, JARVIS atoms dict, ASE Atoms)"
#: what to do with partially occupied sites (see the module's docstring)
ON_DISORDER = ("error", "majority")
#: suffixes and name prefixes of the structure files read from a path
CIF_SUFFIXES = (".cif",)
POSCAR_SUFFIXES = (".vasp", ".poscar")
POSCAR_PREFIXES = ("POSCAR", "CONTCAR")


def parse_structures(X: Any, on_disorder: str = "error") -> list[Structure]:
    """``X`` as a list of ordered pymatgen Structures; one InvalidInputError naming every bad row.

    Parameters
    ----------
    X : a sequence of structure inputs (see the module's docstring for the accepted kinds).
    on_disorder : ``"error"`` refuses partially occupied sites; ``"majority"`` keeps each site's
        majority species.

    Returns
    -------
    list of pymatgen.core.Structure, one per row, in order.

    Raises
    ------
    InvalidInputError
        rows that are not structures, cannot be read, are disordered (with ``on_disorder="error"``),
        empty, or larger than ``MDL_MAX_SITES`` / ``MDL_MAX_CIF_LENGTH``; texts over the length limit
        are refused before any is parsed.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> alloy = Structure(Lattice.cubic(3.6), [{"Cu": 0.75, "Au": 0.25}], [[0, 0, 0]])
    >>> parse_structures([alloy], on_disorder="majority")[0].composition.reduced_formula
    'Cu'
    """
    check_choice(on_disorder, "on_disorder", ON_DISORDER)
    items = as_items(X, WHAT)
    check_input_lengths(items, "CIF texts", "cif_length")
    problems: dict[str, list[int]] = {}
    structures = []
    for row, item in enumerate(items):
        try:
            structures.append(as_structure(item, on_disorder))
        except ValueError as exc:
            problems.setdefault(str(exc), []).append(row)
    check_rows(problems)
    return structures


def is_structure_input(item: Any) -> bool:
    """Whether ``item`` is meant as a crystal structure rather than a formula or composition.

    Parameters
    ----------
    item : object
        One input: a string with a line break or a structure file name, a path, a pymatgen Structure,
        an ASE Atoms or a JARVIS dict count as structures.

    Returns
    -------
    bool
        True for a structure input.

    Examples
    --------
    >>> is_structure_input("Fe2O3"), is_structure_input("data_x\\n_cell_length_a 3\\n")
    (False, True)
    """
    if isinstance(item, str):
        return "\n" in item.strip() or _structure_file_name(item)
    return isinstance(item, Path) or _is_pymatgen_structure(item) or _is_ase_atoms(item) or _is_jarvis(item)


def as_structure(item: Any, on_disorder: str = "error") -> Structure:
    """One input as an ordered, non-empty Structure within the size limits; ValueError saying why not.

    Parameters
    ----------
    item : object
        One structure input (CIF/POSCAR text, a path, a pymatgen Structure, an ASE Atoms, a JARVIS dict).
    on_disorder : {"error", "majority"}, default "error"
        What a structure with partially occupied sites does: raise, or keep each site's majority species.

    Returns
    -------
    Structure
        The ordered structure.

    Raises
    ------
    ValueError
        When the input cannot be read, is disordered (with ``on_disorder="error"``), is empty, has a zero
        cell volume, or has too many sites.

    Examples
    --------
    >>> as_structure({"lattice_mat": [[3, 0, 0], [0, 3, 0], [0, 0, 3]], "coords": [[0, 0, 0]],
    ...               "elements": ["Po"], "cartesian": False}).lattice.abc
    (3.0, 3.0, 3.0)
    """
    structure = read_structure(item)
    if not structure.is_ordered:
        if on_disorder != "majority":
            raise ValueError("disordered (partially occupied) sites: order the structure first, or read it with "
                             "parse_structures(X, on_disorder='majority') to keep each site's majority species")
        structure = _majority(structure)
    if len(structure) == 0 or structure.volume <= 0:
        raise ValueError("empty structure or zero cell volume")
    return structure


def structure_composition(item: Any) -> Composition:
    """The reduced composition of one structure input, partial occupancies included (no ordering needed).

    Parameters
    ----------
    item : object
        One structure input (see :func:`is_structure_input`).

    Returns
    -------
    Composition
        Its reduced composition.

    Raises
    ------
    ValueError
        When the input cannot be read as a structure (see :func:`read_structure`).

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> structure_composition(Structure(Lattice.cubic(3.6), [{"Cu": 0.75, "Au": 0.25}], [[0, 0, 0]]))
    Composition('Cu0.75 Au0.25')
    """
    return read_structure(item).composition.reduced_composition


def read_structure(item: Any) -> Structure:
    """One input as a Structure within ``MDL_MAX_SITES``, ordered or not; ValueError saying why not.

    Parameters
    ----------
    item : object
        One structure input (see :func:`is_structure_input`).

    Returns
    -------
    Structure
        The structure as read, disordered sites kept.

    Raises
    ------
    ValueError
        When the input is not a structure or cannot be read, has more sites than ``MDL_MAX_SITES``, or
        holds an unknown element.
    """
    from pymatgen.core import DummySpecies

    structure = _read(item)
    if len(structure) > limit("sites"):
        raise ValueError(_too_many_sites())
    if any(isinstance(species, DummySpecies) for species in structure.composition):
        raise ValueError("unknown element (pymatgen reads it as a dummy species)")
    return structure


def _read(item: Any) -> Structure:
    """Dispatch on the kind of input; ValueError for what is not a structure or cannot be read."""
    from pymatgen.core import IStructure, Structure

    if isinstance(item, Structure):
        return item
    if isinstance(item, IStructure):
        return Structure.from_sites(item.sites)
    if isinstance(item, Path) or (isinstance(item, str) and _structure_file_name(item)):
        return _read_file(Path(item.strip() if isinstance(item, str) else item))
    if isinstance(item, str) and "_cell_length" in item:
        return _parse_text(item, "cif")
    if isinstance(item, str) and "\n" in item.strip():
        return _parse_text(item, "poscar")
    if _is_jarvis(item):
        if isinstance(item.get("elements"), (list, tuple)) and len(item["elements"]) > limit("sites"):
            raise ValueError(_too_many_sites())
        return structure_from_jarvis(item)
    if _is_ase_atoms(item):
        return _from_ase(item)
    raise ValueError("not a crystal structure (a formula or composition needs the 'composition' descriptor)")


def _parse_text(text: str, fmt: str) -> Structure:
    from pymatgen.core import Structure

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return structure_from_cif(text) if fmt == "cif" else Structure.from_str(text, fmt="poscar")
    except Exception:  # pymatgen raises many kinds here  # noqa: BLE001
        raise ValueError("CIF text that cannot be read as a crystal structure" if fmt == "cif" else
                         "POSCAR text that cannot be read as a crystal structure (text of several lines without "
                         "_cell_length_ is read as a POSCAR)") from None


def _structure_file_name(text: str) -> bool:
    """A one-line string that names a structure file by its suffix or name (it need not exist)."""
    if "\n" in text.strip() or len(text) > 4096:
        return False
    name = os.path.basename(text.strip())
    return name.lower().endswith(CIF_SUFFIXES + POSCAR_SUFFIXES) or name.startswith(POSCAR_PREFIXES)


def _read_file(path: Path) -> Structure:
    """A CIF or POSCAR file, its size checked before it is read."""
    name = path.name
    if name.lower().endswith(CIF_SUFFIXES):
        fmt = "cif"
    elif name.lower().endswith(POSCAR_SUFFIXES) or name.startswith(POSCAR_PREFIXES):
        fmt = "poscar"
    else:
        raise ValueError("structure file of unknown type (expected *.cif, *.vasp, *.poscar, POSCAR or CONTCAR)")
    if not path.is_file():
        raise ValueError("structure file not found")
    most = limit("cif_length")
    if path.stat().st_size > most:
        raise ValueError(f"structure file larger than {most} bytes (raise {LIMITS['cif_length'][0]} to accept it)")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        raise ValueError("structure file that cannot be read as text") from None
    return _parse_text(text, fmt)


def _is_pymatgen_structure(item: Any) -> bool:
    return type(item).__module__.startswith("pymatgen.core") and hasattr(item, "lattice")


def _is_jarvis(item: Any) -> bool:
    """A mapping with any key of a JARVIS atoms dict (a pymatgen Composition is a mapping of elements)."""
    return isinstance(item, Mapping) and not hasattr(item, "get_el_amt_dict") and any(
        key in item for key in JARVIS_KEYS)


def _is_ase_atoms(item: Any) -> bool:
    """An ``ase.Atoms`` without importing ASE (it is only imported to convert one)."""
    return any(cls.__name__ == "Atoms" and cls.__module__.split(".")[0] == "ase" for cls in type(item).__mro__)


def _from_ase(atoms: Any) -> Structure:
    if len(atoms) > limit("sites"):
        raise ValueError(_too_many_sites())
    if not all(atoms.pbc) or abs(atoms.cell.volume) <= 0:
        raise ValueError("ASE Atoms without a periodic 3-D cell (pbc must be True on all axes)")
    from pymatgen.io.ase import AseAtomsAdaptor

    return AseAtomsAdaptor.get_structure(atoms)


def _majority(structure: Structure) -> Structure:
    """Each site with its majority species (the first listed on a tie), occupancy 1."""
    from pymatgen.core import Structure

    species = [max(site.species.items(), key=lambda pair: pair[1])[0] for site in structure]
    return Structure(structure.lattice, species, structure.frac_coords)


def _too_many_sites() -> str:
    return f"more than {limit('sites')} sites (raise {LIMITS['sites'][0]} to accept larger structures)"
