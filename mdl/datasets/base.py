"""The :class:`Dataset` container every loader returns, and :class:`PropertyInfo` describing a target.

Examples
--------
>>> ds = Dataset("toy", "molecule", "smiles", ["C", "CO"], pd.DataFrame({"x": [1.0, float("nan")]}),
...              {"x": PropertyInfo("x", "eV", "a toy property")}, "made up", "0")
>>> ds.xy("x")
(['C'], array([1.]))
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mdl.errors import InvalidInputError

log = logging.getLogger(__name__)

MATERIALS = ("molecule", "polymer", "inorganic")
INPUT_KINDS = ("smiles", "repeat_unit", "formula", "structure")


@dataclass(frozen=True)
class PropertyInfo:
    """One target property: canonical snake_case ``name``, ``unit`` ("" if dimensionless), aliases.

    ``scaled`` is True where the values are not in physical units (e.g. min-max scaled by the authors).

    Example: ``PropertyInfo("homo", "eV", "HOMO energy (DFT)", ("HOMO", "HOMO energy"))``
    """

    name: str
    unit: str
    description: str
    aliases: tuple[str, ...] = ()
    scaled: bool = False


@dataclass
class Dataset:
    """Inputs (SMILES, repeat units, formulas or pymatgen Structures) with one target column per property.

    ``meta`` holds per-row information that is not a target (ids, the authors' ``split``...), same length
    as ``inputs``. Rows whose input is missing or empty are dropped on construction, with a warning.

    Examples
    --------
    >>> from mdl import datasets
    >>> smiles, y = datasets.load("qm9").xy("gap", limit=100, seed=0)
    """

    name: str
    material: str
    input_kind: str
    inputs: list
    targets: pd.DataFrame
    properties: dict[str, PropertyInfo]
    source: str
    version: str
    meta: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        if self.material not in MATERIALS:
            raise InvalidInputError(f"{self.name}: material must be one of {MATERIALS}, got {self.material!r}")
        if self.input_kind not in INPUT_KINDS:
            raise InvalidInputError(f"{self.name}: input_kind must be one of {INPUT_KINDS}, got {self.input_kind!r}")
        if list(self.targets.columns) != list(self.properties):
            raise InvalidInputError(f"{self.name}: target columns {list(self.targets.columns)} do not match "
                                    f"properties {list(self.properties)}")
        if self.meta.empty and not len(self.meta.columns):
            self.meta = pd.DataFrame(index=range(len(self.inputs)))
        if not len(self.inputs) == len(self.targets) == len(self.meta):
            raise InvalidInputError(f"{self.name}: {len(self.inputs)} inputs, {len(self.targets)} target rows "
                                    f"and {len(self.meta)} meta rows")
        keep = np.array([not _missing(x) for x in self.inputs], dtype=bool)
        if not keep.all():
            log.warning("%s: dropped %d row(s) with a missing or empty input", self.name, int((~keep).sum()))
            self.inputs = [x for x, k in zip(self.inputs, keep) if k]
        else:
            self.inputs = list(self.inputs)
        self.targets = self.targets[keep].reset_index(drop=True).astype("float64")
        self.meta = self.meta[keep].reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.inputs)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, {len(self)} {self.material} rows of {self.input_kind}, "
                f"properties={list(self.properties)})")

    def property_name(self, query: str) -> str:
        """The canonical name of a property given its name or an alias (case-insensitive).

        Parameters
        ----------
        query : str
            A name or an alias.

        Returns
        -------
        str
            The canonical name.

        Raises
        ------
        InvalidInputError
            For a property the data set does not give, listing those it does.

        Examples
        --------
        >>> datasets.load("qm9").property_name("HOMO energy")   # doctest: +SKIP
        'homo'
        """
        q = query.strip().lower()
        for info in self.properties.values():
            if q == info.name.lower() or q in (a.lower() for a in info.aliases):
                return info.name
        raise InvalidInputError(f"{self.name}: unknown property {query!r}; known: {list(self.properties)}")

    def xy(self, property: str | Sequence[str], limit: int | None = None, seed: int = 0) -> tuple[list, np.ndarray]:
        """Inputs and values of the rows where ``property`` (name or alias) is finite.

        Parameters
        ----------
        property : str or sequence of str
            One property, or several: then a matrix (one column each) over the rows where any is finite,
            NaN where a label is missing (for multi-property training).
        limit : int, optional
            Keep a random subset of that many rows (in their original order).
        seed : int
            The draw of that subset.

        Returns
        -------
        tuple of (list, numpy.ndarray)
            The inputs, and their values (a vector for one property, a matrix for several).

        Raises
        ------
        InvalidInputError
            For an unknown property or a ``limit`` below 1.

        Examples
        --------
        >>> smiles, y = datasets.load("chemicals").xy("melting_point", limit=500, seed=1)   # doctest: +SKIP
        """
        names = [property] if isinstance(property, str) else list(property)
        y = self.targets[[self.property_name(p) for p in names]].to_numpy(dtype="float64")
        rows = np.flatnonzero(np.isfinite(y).any(axis=1))
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
                raise InvalidInputError(f"limit must be a positive integer or None, got {limit!r}")
            if limit < len(rows):
                rows = np.sort(np.random.default_rng(seed).choice(rows, size=int(limit), replace=False))
        return [self.inputs[i] for i in rows], (y[rows, 0] if isinstance(property, str) else y[rows])

    def fingerprint(self) -> str:
        """The data set's sha256, stable across runs.

        Structures are serialised with rounded lattice, species and fractional coordinates; the targets
        contribute their column names and float64 bytes.

        Returns
        -------
        str
            The hex digest.
        """
        h = hashlib.sha256()
        for x in self.inputs:
            h.update(_serialise(x))
            h.update(b"\x00")
        h.update("\x1f".join(self.targets.columns).encode())
        h.update(np.ascontiguousarray(self.targets.to_numpy(dtype="float64")).tobytes())
        return h.hexdigest()


def _missing(x: Any) -> bool:
    if x is None:
        return True
    if isinstance(x, str):
        return not x.strip()
    return isinstance(x, float) and x != x


def _serialise(x: Any) -> bytes:
    if isinstance(x, str):
        return x.encode()
    lattice = np.round(x.lattice.matrix, 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    frac = np.round(x.frac_coords, 6) + 0.0
    species = " ".join(str(sp) for sp in x.species)
    return species.encode() + lattice.astype("<f8").tobytes() + frac.astype("<f8").tobytes()
