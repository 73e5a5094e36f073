"""Inorganic compounds from formulas, element->amount mappings or pymatgen objects.

* ``composition``: XenonPy's 290 compositional descriptors, 58 elemental features (table in
  ``data/elements.csv``, built by ``tools/make_element_table.py``) x 5 statistics over the
  elements present: ``ave`` (fraction-weighted mean), ``sum`` (amount-weighted sum), ``var``
  (fraction-weighted variance about ``ave``), ``max`` and ``min``.
* ``element_fraction``: ElemNet-style atomic fractions, one column per element H..Pu (94 columns,
  where ElemNet drops eight elements it never saw).

Inputs: formula strings (``"Fe2O3"``, ``"Ba(NO3)2"``, ``"Li0.5CoO2"``, ``"CuSO4·5H2O"``),
mappings ``{"Fe": 2, "O": 3}``, pymatgen ``Composition`` (amounts as given, oxidation states
ignored), objects with a ``composition`` (``Structure``...) and every other crystal structure input of
:mod:`mdl.descriptors.structure_input` (CIF or POSCAR text or file, JARVIS atoms dict, ASE ``Atoms``;
partial occupancies count as fractions), which use their *reduced* composition so that the cell choice
does not change ``sum:``. Formulas that cannot be read, unknown
elements, elements outside H..Pu and empty or zero compositions raise one InvalidInputError naming
every bad row; no NaN is ever produced.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mdl.descriptors import citations
from mdl.descriptors.base import Descriptor, check_rows
from mdl.descriptors.structure_input import is_structure_input, structure_composition
from mdl.validation import check_input_lengths

TABLE = Path(__file__).resolve().parent / "data" / "elements.csv"
STATISTICS = ("ave", "sum", "var", "max", "min")
#: every element symbol, to tell an unknown symbol from one outside the table
ALL_SYMBOLS = frozenset(
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
    "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm "
    "Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No "
    "Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og".split()
)
_TOKEN = re.compile(
    r"(?P<element>[A-Z][a-z]{0,2})|(?P<number>\d+\.?\d*|\.\d+)|(?P<open>[(\[{])|(?P<close>[)\]}])"
    r"|(?P<space>\s+)|(?P<other>.)"
)
_CLOSING = {"(": ")", "[": "]", "{": "}"}


@lru_cache(maxsize=1)
def element_table() -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray, str]:
    """(symbols H..Pu, feature names, values of shape (94, 58), short sha256 of the CSV).

    Examples
    --------
    >>> symbols, features, values, _ = element_table()
    >>> len(symbols), len(features), values[symbols.index("Fe"), features.index("atomic_number")]
    (94, 58, np.float64(26.0))
    """
    text = TABLE.read_text()
    rows = list(csv.reader(text.splitlines()))
    features = tuple(rows[0][1:])
    symbols = tuple(r[0] for r in rows[1:])
    values = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    return symbols, features, values, hashlib.sha256(text.encode()).hexdigest()[:12]


def _multiplier(tokens: list[tuple[str, str]], i: int) -> tuple[float, int]:
    """The number at ``tokens[i]`` (1 if there is none) and the index after it."""
    if i < len(tokens) and tokens[i][0] == "number":
        return float(tokens[i][1]), i + 1
    return 1.0, i


def _add(into: dict[str, float], amounts: Mapping[str, float], factor: float) -> None:
    for el, n in amounts.items():
        into[el] = into.get(el, 0.0) + n * factor


@lru_cache(maxsize=1 << 16)
def parse_formula(formula: str) -> tuple[tuple[str, float], ...]:
    """Amount of each element symbol, in order of first appearance.

    Groups ``( ) [ ] { }`` take a multiplier; ``·`` or ``•`` joins parts (``CuSO4·5H2O``), a leading
    number multiplying its part.

    Parameters
    ----------
    formula : str
        A chemical formula.

    Returns
    -------
    tuple of (str, float)
        (element, amount) pairs.

    Raises
    ------
    ValueError
        When the formula cannot be read.

    Examples
    --------
    >>> parse_formula("Ba(NO3)2")
    (('Ba', 1.0), ('N', 2.0), ('O', 6.0))
    """
    total: dict[str, float] = {}
    for part in re.split(r"[·•]", formula):
        tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(part) if m.lastgroup != "space"]
        factor, i = _multiplier(tokens, 0)
        groups: list[dict[str, float]] = [{}]
        closers: list[str] = []
        while i < len(tokens):
            kind, text = tokens[i]
            if kind == "element":
                n, i = _multiplier(tokens, i + 1)
                _add(groups[-1], {text: n}, 1.0)
            elif kind == "open":
                groups.append({})
                closers.append(_CLOSING[text])
                i += 1
            elif kind == "close" and closers and closers[-1] == text:
                closers.pop()
                n, i = _multiplier(tokens, i + 1)
                _add(groups[-2], groups.pop(), n)
            else:
                raise ValueError(f"unexpected {text!r} in formula {formula!r}")
        if closers:
            raise ValueError(f"unclosed bracket in formula {formula!r}")
        _add(total, groups[0], factor)
    return tuple(total.items())


def _amounts(item: Any) -> dict[str, float]:
    """Element -> amount of one input; ValueError/TypeError if it is not a composition at all."""
    if isinstance(item, str) and not is_structure_input(item):
        return dict(parse_formula(item))
    if hasattr(item, "composition"):  # Structure, Molecule, entries...
        item = item.composition.reduced_composition
    elif is_structure_input(item):  # CIF or POSCAR text or file, JARVIS atoms dict, ASE Atoms
        item = _structure_composition(item)
    if hasattr(item, "get_el_amt_dict"):  # pymatgen Composition
        return item.get_el_amt_dict()
    if isinstance(item, Mapping):
        return {str(k): float(v) for k, v in item.items()}
    raise TypeError(f"not a composition: {type(item).__name__}")


class _StructureError(ValueError):
    """A structure input that cannot be read (its own message, not "unparseable formula")."""


def _structure_composition(item: Any) -> Any:
    try:
        return structure_composition(item)
    except ValueError as exc:
        raise _StructureError(str(exc)) from None


def composition_arrays(items: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat (row, element index, amount) arrays over the positive amounts, rows ordered.

    Parameters
    ----------
    items : list
        Formulas, compositions or structure inputs, one per row.

    Returns
    -------
    rows, elements, amounts : numpy.ndarray
        The row of each positive amount, the index of its element in the element table, and the amount.

    Raises
    ------
    InvalidInputError
        One error naming every bad row, by problem; formulas longer than ``MDL_MAX_SMILES_LENGTH`` are
        refused before any is parsed.
    """
    check_input_lengths([None if is_structure_input(item) else item for item in items], "formulas")
    check_input_lengths([item if is_structure_input(item) else None for item in items], "CIF texts", "cif_length")
    index = {s: i for i, s in enumerate(element_table()[0])}
    problems: dict[str, list[int]] = {
        "unparseable formula": [], "unknown element": [], "element outside the table (H..Pu)": [],
        "negative or non-finite amount": [], "empty or zero composition": [],
    }
    rows, elements, amounts = [], [], []
    for row, item in enumerate(items):
        try:
            parsed = _amounts(item)
        except _StructureError as exc:
            problems.setdefault(str(exc), []).append(row)
            continue
        except (ValueError, TypeError):
            problems["unparseable formula"].append(row)
            continue
        if any(el not in ALL_SYMBOLS for el in parsed):
            problems["unknown element"].append(row)
        elif any(el not in index for el in parsed):
            problems["element outside the table (H..Pu)"].append(row)
        elif any(not math.isfinite(n) or n < 0 for n in parsed.values()):
            problems["negative or non-finite amount"].append(row)
        elif sum(parsed.values()) <= 0:
            problems["empty or zero composition"].append(row)
        else:
            for el, n in parsed.items():
                if n > 0:
                    rows.append(row)
                    elements.append(index[el])
                    amounts.append(n)
    check_rows(problems)
    return np.array(rows, dtype=np.int64), np.array(elements, dtype=np.int64), np.array(amounts)


class _InorganicDescriptor(Descriptor):
    material: ClassVar[str] = "inorganic"
    _what: ClassVar[str] = "formulas, compositions or crystal structures"


class CompositionDescriptor(_InorganicDescriptor):
    """XenonPy's 290 compositional descriptors (58 elemental features x ave/sum/var/max/min).

    Examples
    --------
    >>> d = CompositionDescriptor()
    >>> X = d.transform(["Fe2O3"])
    >>> float(X[0, list(d.columns).index("ave:atomic_number")])  # (2*26 + 3*8) / 5
    15.2
    """

    name = "composition"
    #: XenonPy's statistics over elemental features in Magpie's manner; the table from mendeleev and pymatgen
    _citations = (citations.XENONPY_2019, citations.MAGPIE_2016, citations.MENDELEEV, citations.PYMATGEN_2013)

    @property
    def columns(self) -> tuple[str, ...]:
        """One column per statistic of each element feature (``<statistic>:<feature>``).

        Returns
        -------
        tuple of str
            The names.
        """
        features = element_table()[1]
        return tuple(f"{stat}:{f}" for stat in STATISTICS for f in features)

    @property
    def library(self) -> dict[str, str]:
        """The element table the features come from, by its hash.

        Returns
        -------
        dict of str to str
            ``{"elements.csv": sha256}``.
        """
        return {"elements.csv": element_table()[3]}

    def _transform(self, items: list[Any]) -> np.ndarray:
        rows, elements, amounts = composition_arrays(items)
        table = element_table()[2]
        n = len(items)
        # pad each row's elements into a (n, k) block: position of each entry within its row
        per_row = np.bincount(rows, minlength=n)
        position = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        k = int(per_row.max())
        idx = np.zeros((n, k), dtype=np.int64)
        amt = np.zeros((n, k))
        idx[rows, position], amt[rows, position] = elements, amounts
        present = amt > 0
        frac = amt / amt.sum(axis=1, keepdims=True)
        out = np.empty((n, len(STATISTICS) * table.shape[1]))
        for start in range(0, n, 4096):  # bounded memory: (chunk, k, 58) at a time
            s = slice(start, start + 4096)
            values = table[idx[s]]
            ave = np.einsum("nk,nkf->nf", frac[s], values)
            var = np.einsum("nk,nkf->nf", frac[s], (values - ave[:, None, :]) ** 2)
            mask = present[s][:, :, None]
            out[s] = np.hstack([
                ave,
                np.einsum("nk,nkf->nf", amt[s], values),
                var,
                np.where(mask, values, -np.inf).max(axis=1),
                np.where(mask, values, np.inf).min(axis=1),
            ])
        return out


class ElementFraction(_InorganicDescriptor):
    """Atomic fraction of each element H..Pu (ElemNet-style input).

    Examples
    --------
    >>> ElementFraction().transform([{"Fe": 2, "O": 3}])[0, [0, 7, 25]]  # H, O, Fe
    array([0. , 0.6, 0.4])
    """

    name = "element_fraction"
    _citations = (citations.ELEMNET_2018, citations.PYMATGEN_2013)

    @property
    def columns(self) -> tuple[str, ...]:
        """One column per element (``frac:<symbol>``).

        Returns
        -------
        tuple of str
            The names.
        """
        return tuple(f"frac:{s}" for s in element_table()[0])

    @property
    def library(self) -> dict[str, str]:
        """No library: the fractions depend on the formula alone.

        Returns
        -------
        dict
            Empty.
        """
        return {}

    def _transform(self, items: list[Any]) -> np.ndarray:
        rows, elements, amounts = composition_arrays(items)
        out = np.zeros((len(items), len(element_table()[0])))
        np.add.at(out, (rows, elements), amounts)
        return out / out.sum(axis=1, keepdims=True)
