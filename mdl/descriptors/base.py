"""The scikit-learn compatible base class shared by every descriptor."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from mdl.descriptors.spec import DescriptorSpec
from mdl.errors import InvalidInputError


def as_items(X: Any, what: str) -> list[Any]:
    """Inputs as a list: a list/tuple/1-D array/Series, or a one-column 2-D array/DataFrame.

    Parameters
    ----------
    X : sequence, array, Series or DataFrame
        The inputs.
    what : str
        The expected items, named in error messages ("SMILES", "formulas").

    Returns
    -------
    list
        One item per input row.

    Raises
    ------
    InvalidInputError
        For a single string, mapping or structure (not a sequence), or a table with more than one column.
    """
    if isinstance(X, (str, bytes)):
        raise InvalidInputError(f"expected a sequence of {what}, got a single string: wrap it in a list")
    if isinstance(X, Mapping) or hasattr(X, "lattice") or hasattr(X, "get_cell"):  # iterating would give its
        # keys, sites or atoms as rows
        raise InvalidInputError(f"expected a sequence of {what}, got a single {type(X).__name__}: wrap it in a list")
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # DataFrame
        if X.shape[1] != 1:
            raise InvalidInputError(f"expected one column of {what}, got a table with {X.shape[1]} columns")
        X = X.iloc[:, 0]
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        elif X.ndim != 1:
            raise InvalidInputError(f"expected a 1-D array of {what}, got shape {X.shape}")
    try:
        items = list(X)
    except TypeError:
        raise InvalidInputError(f"expected a sequence of {what}, got {type(X).__name__}") from None
    if not items:
        raise InvalidInputError(f"no inputs: expected at least one of {what}")
    return items


def check_rows(problems: Mapping[str, Sequence[int]]) -> None:
    """Raise one InvalidInputError naming every problem and every bad row, if there is any.

    Parameters
    ----------
    problems : mapping of str to sequence of int
        Problem → the rows it concerns (none listed: nothing is wrong).

    Raises
    ------
    InvalidInputError
        Naming the problems and their rows.

    Examples
    --------
    >>> check_rows({"invalid SMILES": [3, 7], "not a string": []})
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: invalid SMILES [rows: 3, 7]
    """
    found = {problem: list(rows) for problem, rows in problems.items() if rows}
    if not found:
        return
    if len(found) == 1:
        message = next(iter(found))
    else:  # several problems: say which rows have which
        message = "; ".join(f"{problem} (rows {_short(rows)})" for problem, rows in found.items())
    raise InvalidInputError(message, rows=sorted({r for rows in found.values() for r in rows}))


def _short(rows: list[int]) -> str:
    return ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")


class Descriptor(BaseEstimator, TransformerMixin):
    """Stateless featurizer: ``transform`` maps n inputs to a float64 array of shape (n, width).

    Subclasses set ``name``/``material``/``version``, store their parameters in ``__init__``, and
    implement ``columns``, ``library`` and ``_transform``.

    Example:
        >>> from mdl.descriptors import get_descriptor
        >>> d = get_descriptor("maccs")
        >>> d.fit_transform(["CCO", "c1ccccc1"]).shape
        (2, 167)
    """

    name: ClassVar[str]
    material: ClassVar[str]
    #: implementation version: bump whenever the output for some input changes
    version: ClassVar[str] = "1"
    #: what one input is, for error messages
    _what: ClassVar[str] = "inputs"
    #: "matrix": ``transform`` gives the model's input; "graph": ``inputs(X)`` gives a list of records
    kind: ClassVar[str] = "matrix"
    #: BibTeX entries of the method and of the software and data it computes with (:mod:`~mdl.descriptors.citations`)
    _citations: ClassVar[tuple[str, ...]] = ()

    def citations(self) -> list[str]:
        """The works to cite when using this descriptor, as matminer's featurizers list theirs.

        Returns
        -------
        list of str
            BibTeX entries: the method first, then the software and data it computes with.

        Examples
        --------
        >>> from mdl.descriptors import get_descriptor
        >>> any("10.1038/s41598-018-35934-y" in entry for entry in get_descriptor("element_fraction").citations())
        True
        """
        return list(self._citations)

    @property
    def columns(self) -> tuple[str, ...]:
        """Output column names (validates the parameters)."""
        raise NotImplementedError

    @property
    def library(self) -> dict[str, str]:
        """Versions of the libraries (or data) the output depends on."""
        raise NotImplementedError

    def _transform(self, items: list[Any]) -> np.ndarray:
        raise NotImplementedError

    def fit(self, X: Any = None, y: Any = None) -> Descriptor:
        """No-op: descriptors are stateless.

        Parameters
        ----------
        X, y : ignored
            Accepted for scikit-learn pipelines.

        Returns
        -------
        Descriptor
            ``self``.
        """
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Featurize raw inputs.

        Parameters
        ----------
        X : sequence
            Raw inputs of the descriptor's material (SMILES, formulas, structures...).

        Returns
        -------
        numpy.ndarray
            One row per input, one column per name in :attr:`columns`.

        Raises
        ------
        InvalidInputError
            Naming every bad row.
        """
        width = len(self.columns)
        out = np.asarray(self._transform(as_items(X, self._what)), dtype=np.float64)
        assert out.shape[1] == width, f"{self.name}: produced {out.shape[1]} columns, expected {width}"
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Column names, as scikit-learn names a transformer's outputs.

        Parameters
        ----------
        input_features : ignored
            Accepted for scikit-learn.

        Returns
        -------
        numpy.ndarray
            The names, an object array.
        """
        return np.asarray(self.columns, dtype=object)

    @property
    def spec(self) -> DescriptorSpec:
        """The full record of this descriptor (see :class:`DescriptorSpec`)."""
        columns = self.columns
        return DescriptorSpec(
            name=self.name,
            params=json.loads(json.dumps(self.get_params())),
            material=self.material,
            version=self.version,
            library=self.library,
            width=len(columns),
            columns=columns,
        )

    def __sklearn_tags__(self):  # inputs are strings/objects, not a numeric matrix
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags
