"""Molecular descriptors from SMILES (RDKit): Morgan/ECFP/FCFP, atom pair, topological torsion,
RDKit path fingerprint, MACCS keys and the RDKit 2D descriptor set.

Fingerprints are computed as folded count vectors (``rdFingerprintGenerator``, no count
simulation); ``counts=False`` gives ``counts > 0``. With ``polymer=True`` the input is a repeat
unit with two ``*`` and the counts are per bulk repeat unit; ``nonlinear`` ("raise" or "cap") says
what happens to units that are not linear chains (see :mod:`mdl.descriptors.polymers`).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors, MACCSkeys
from rdkit.Chem import rdFingerprintGenerator as rfg

from mdl.descriptors import citations
from mdl.descriptors.base import Descriptor, check_rows
from mdl.descriptors.polymers import NONLINEAR, bulk_count_matrix
from mdl.errors import InvalidInputError
from mdl.validation import check_input_lengths


def parse_smiles(items: list[Any]) -> list[Chem.Mol]:
    """RDKit molecules, RDKit's own logging silenced.

    SMILES longer than ``MDL_MAX_SMILES_LENGTH`` are refused before any is parsed.

    Parameters
    ----------
    items : list
        SMILES.

    Returns
    -------
    list of rdkit.Chem.Mol
        One molecule per SMILES.

    Raises
    ------
    InvalidInputError
        Listing every bad row.

    Examples
    --------
    >>> [m.GetNumAtoms() for m in parse_smiles(["CCO", "c1ccccc1"])]
    [3, 6]
    """
    check_input_lengths(items, "SMILES")
    mols, invalid, not_str = [], [], []
    with rdBase.BlockLogs():
        for row, item in enumerate(items):
            if not isinstance(item, str):
                not_str.append(row)
                continue
            mol = Chem.MolFromSmiles(item)
            if mol is None or mol.GetNumAtoms() == 0:
                invalid.append(row)
            else:
                mols.append(mol)
    check_rows({"invalid SMILES": invalid, "not a SMILES string": not_str})
    return mols


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class _MoleculeDescriptor(Descriptor):
    material: ClassVar[str] = "molecule"
    _what: ClassVar[str] = "SMILES"

    @property
    def library(self) -> dict[str, str]:
        return {"rdkit": rdBase.rdkitVersion}


class _Fingerprint(_MoleculeDescriptor):
    """Folded count fingerprint from an ``rdFingerprintGenerator``; molecules or polymer repeat units."""

    n_bits: int
    counts: bool
    polymer: bool
    nonlinear: str
    #: features are atom pairs (polymers use the faster :meth:`RepeatUnit.bulk_pair_counts`)
    _pairs: ClassVar[bool] = False

    @property
    def material(self) -> str:  # type: ignore[override]
        return "polymer" if self.polymer else "molecule"

    def _generator(self) -> Any:
        raise NotImplementedError

    def _reach(self) -> int:
        """How far (bonds) a feature extends from the atom it belongs to (sizes polymer oligomers)."""
        raise NotImplementedError

    def _prefix(self) -> str:
        return self.name

    @property
    def columns(self) -> tuple[str, ...]:
        if not isinstance(self.polymer, bool) or self.nonlinear not in NONLINEAR:
            raise InvalidInputError(
                f"polymer must be True/False and nonlinear one of {NONLINEAR}, "
                f"got {self.polymer!r}, {self.nonlinear!r}"
            )
        n_bits = _check_int("n_bits", self.n_bits, 1)
        return tuple(f"{self._prefix()}_b{i}" for i in range(n_bits))

    def _transform(self, items: list[Any]) -> np.ndarray:
        count = self._generator().GetCountFingerprintAsNumPy
        if self.polymer:
            X = bulk_count_matrix(items, count, self._reach(), self.nonlinear, self._pairs).astype(np.float64)
        else:
            X = np.vstack([count(mol) for mol in parse_smiles(items)]).astype(np.float64)
        return X if self.counts else (X > 0).astype(np.float64)


class MorganFingerprint(_Fingerprint):
    """Morgan (ECFP) fingerprint.

    Parameters
    ----------
    radius : int
        Bonds a feature reaches from its atom.
    n_bits : int
        Width (folded).
    counts : bool
        Counts, else presence (0/1).
    features : bool
        Pharmacophoric atom invariants (FCFP).
    polymer : bool
        Inputs are repeat units with two ``*``; counts are per bulk repeat unit.
    nonlinear : {"raise", "cap"}
        What happens to repeat units that are not linear chains (see :mod:`mdl.descriptors.polymers`).

    Examples
    --------
    >>> MorganFingerprint(radius=2, n_bits=1024).transform(["CCO"]).shape
    (1, 1024)
    """

    name = "morgan"
    _citations = (citations.ROGERS_HAHN_2010, citations.MORGAN_1965, citations.RDKIT)

    def __init__(self, radius: int = 2, n_bits: int = 2048, counts: bool = False, features: bool = False,
                 polymer: bool = False, nonlinear: str = "raise"):
        self.radius = radius
        self.n_bits = n_bits
        self.counts = counts
        self.features = features
        self.polymer = polymer
        self.nonlinear = nonlinear

    def _prefix(self) -> str:
        return f"morgan{'_feat' if self.features else ''}_r{_check_int('radius', self.radius, 0)}"

    def _reach(self) -> int:
        return self.radius

    def _generator(self) -> Any:
        invariants = rfg.GetMorganFeatureAtomInvGen() if self.features else None
        return rfg.GetMorganGenerator(radius=self.radius, fpSize=self.n_bits, atomInvariantsGenerator=invariants)


class AtomPairFingerprint(_Fingerprint):
    """Atom-pair fingerprint: atom types and topological distance.

    Parameters
    ----------
    n_bits : int
        Width (folded).
    counts : bool
        Counts, else presence (0/1).
    min_distance, max_distance : int
        The distances (bonds) of the pairs counted.
    polymer : bool
        Inputs are repeat units with two ``*``; counts are per bulk repeat unit.
    nonlinear : {"raise", "cap"}
        What happens to repeat units that are not linear chains.

    Examples
    --------
    >>> AtomPairFingerprint(n_bits=512).transform(["CCO"]).sum()
    np.float64(3.0)
    """

    name = "atom_pair"
    _citations = (citations.CARHART_1985, citations.RDKIT)
    _pairs = True

    def __init__(self, n_bits: int = 2048, counts: bool = False, min_distance: int = 1, max_distance: int = 30,
                 polymer: bool = False, nonlinear: str = "raise"):
        self.n_bits = n_bits
        self.counts = counts
        self.min_distance = min_distance
        self.max_distance = max_distance
        self.polymer = polymer
        self.nonlinear = nonlinear

    def _reach(self) -> int:
        return self.max_distance

    def _generator(self) -> Any:
        low = _check_int("min_distance", self.min_distance, 1)
        high = _check_int("max_distance", self.max_distance, low)
        return rfg.GetAtomPairGenerator(
            minDistance=low, maxDistance=high, countSimulation=False, fpSize=self.n_bits
        )


class TorsionFingerprint(_Fingerprint):
    """Topological-torsion fingerprint (paths of four atoms).

    RDKit's torsion fingerprint itself depends on atom order for some molecules with three-membered
    rings, so two spellings of such a SMILES can differ in a few counts.

    Parameters
    ----------
    n_bits : int
        Width (folded).
    counts : bool
        Counts, else presence (0/1).
    polymer : bool
        Inputs are repeat units with two ``*``; counts are per bulk repeat unit.
    nonlinear : {"raise", "cap"}
        What happens to repeat units that are not linear chains.

    Examples
    --------
    >>> TorsionFingerprint().transform(["CCCC"]).sum()
    np.float64(1.0)
    """

    name = "torsion"
    _citations = (citations.NILAKANTAN_1987, citations.RDKIT)

    def __init__(self, n_bits: int = 2048, counts: bool = False, polymer: bool = False,
                 nonlinear: str = "raise"):
        self.n_bits = n_bits
        self.counts = counts
        self.polymer = polymer
        self.nonlinear = nonlinear

    def _reach(self) -> int:
        return 3

    def _generator(self) -> Any:
        return rfg.GetTopologicalTorsionGenerator(countSimulation=False, fpSize=self.n_bits)


class RDKitFingerprint(_Fingerprint):
    """RDKit's path/subgraph fingerprint.

    Parameters
    ----------
    n_bits : int
        Width (folded).
    counts : bool
        Counts, else presence (0/1).
    min_path, max_path : int
        The sizes (bonds) of the subgraphs counted.
    polymer : bool
        Inputs are repeat units with two ``*``; counts are per bulk repeat unit.
    nonlinear : {"raise", "cap"}
        What happens to repeat units that are not linear chains.

    Examples
    --------
    >>> RDKitFingerprint(n_bits=1024).transform(["CCO"]).shape
    (1, 1024)
    """

    name = "rdkit"
    _citations = (citations.RDKIT,)

    def __init__(self, n_bits: int = 2048, counts: bool = False, min_path: int = 1, max_path: int = 7,
                 polymer: bool = False, nonlinear: str = "raise"):
        self.n_bits = n_bits
        self.counts = counts
        self.min_path = min_path
        self.max_path = max_path
        self.polymer = polymer
        self.nonlinear = nonlinear

    def _reach(self) -> int:
        return self.max_path

    def _generator(self) -> Any:
        low = _check_int("min_path", self.min_path, 1)
        high = _check_int("max_path", self.max_path, low)
        return rfg.GetRDKitFPGenerator(minPath=low, maxPath=high, fpSize=self.n_bits)


class MACCSKeys(_MoleculeDescriptor):
    """The 167 MACCS structural keys (bit 0 is always 0, as in RDKit).

    Examples
    --------
    >>> MACCSKeys().transform(["CCO"]).shape
    (1, 167)
    """

    name = "maccs"
    _citations = (citations.DURANT_2002, citations.RDKIT)

    @property
    def columns(self) -> tuple[str, ...]:
        """The 167 MACCS keys (``maccs_<i>``).

        Returns
        -------
        tuple of str
            The names.
        """
        return tuple(f"maccs_{i}" for i in range(167))

    def _transform(self, items: list[Any]) -> np.ndarray:
        keys = [MACCSkeys.GenMACCSKeys(mol).ToBitString() for mol in parse_smiles(items)]
        return np.frombuffer("".join(keys).encode(), dtype=np.uint8).reshape(len(keys), -1) - ord("0")


class RDKit2D(_MoleculeDescriptor):
    """RDKit's 2D descriptors.

    Non-finite values (a descriptor RDKit cannot compute for a molecule, or an overflow) are never
    passed on silently: by default the rows are reported in an InvalidInputError naming the
    descriptors; with ``fill_value`` set they are replaced by it.

    Parameters
    ----------
    names : list of str, optional
        The descriptors (``rdkit.Chem.Descriptors.descList`` names). Pin them to keep the width stable
        across RDKit versions (None takes whatever the installed RDKit lists).
    fill_value : float, optional
        Replaces non-finite values.

    Examples
    --------
    >>> RDKit2D(names=["MolWt", "NumHDonors"]).transform(["CCO"]).round(2)
    array([[46.07,  1.  ]])
    """

    name = "rdkit2d"
    _citations = (citations.RDKIT,)

    def __init__(self, names: list[str] | None = None, fill_value: float | None = None):
        self.names = names
        self.fill_value = fill_value

    def _functions(self) -> list[tuple[str, Any]]:
        available = dict(Descriptors.descList)
        if self.names is None:
            return list(available.items())
        unknown = [n for n in self.names if n not in available]
        if unknown or not self.names:
            raise InvalidInputError(
                f"unknown RDKit descriptor names {unknown} (RDKit {rdBase.rdkitVersion} has {len(available)})"
                if unknown else "names must list at least one descriptor"
            )
        return [(n, available[n]) for n in self.names]

    @property
    def columns(self) -> tuple[str, ...]:
        """The descriptors' names.

        Returns
        -------
        tuple of str
            ``names``, or every name RDKit lists.

        Raises
        ------
        InvalidInputError
            For a name RDKit does not know.
        """
        return tuple(name for name, _ in self._functions())

    def _transform(self, items: list[Any]) -> np.ndarray:
        functions = [fn for _, fn in self._functions()]
        mols = parse_smiles(items)
        X = np.empty((len(mols), len(functions)))
        with rdBase.BlockLogs():
            for i, mol in enumerate(mols):
                for j, fn in enumerate(functions):
                    try:
                        X[i, j] = fn(mol)
                    except Exception:  # any failure inside RDKit becomes a reported non-finite value
                        X[i, j] = math.nan
        bad = ~np.isfinite(X)
        if bad.any():
            if self.fill_value is None:
                names = [self.columns[j] for j in np.flatnonzero(bad.any(axis=0))]
                raise InvalidInputError(
                    f"RDKit gives non-finite values for descriptors {names}; pass fill_value= to replace them",
                    rows=np.flatnonzero(bad.any(axis=1)).tolist(),
                )
            X[bad] = float(self.fill_value)
        return X
