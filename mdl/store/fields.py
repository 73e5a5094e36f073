"""Field primitives of a stored estimator's schema: where a field sits, and the checks every family uses.

A stored estimator is a JSON config, named arrays and blobs (:mod:`mdl.store.files`); the checks of each
family (registered in :mod:`mdl.store.registry`) are written with these, so every failure is a
:class:`~mdl.errors.ModelFormatError` naming the model, the file and the field.

>>> whole(3, "n_features_in", Where("m-0"), 1, 2)
Traceback (most recent call last):
mdl.errors.ModelFormatError: model m-0: config.json: n_features_in: 3 is outside [1, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mdl.config import LIMITS
from mdl.errors import ModelFormatError
from mdl.store.names import CONFIG, WEIGHTS

__all__ = ["Where", "array", "exact_arrays", "expect_keys", "short", "whole"]


@dataclass(frozen=True)
class Where:
    """Where a stored estimator sits, for error messages.

    Attributes
    ----------
    model : str
        The model's id.
    file : str
        The file (``config.json`` by default).
    prefix : str
        The field prefix of the estimator inside the config (a pipeline step's, a stack's member).

    Examples
    --------
    >>> str(Where("m-0").inside("steps.0.").error("alpha", "must be finite"))
    'model m-0: config.json: steps.0.alpha: must be finite'
    """

    model: str = ""
    file: str = CONFIG
    prefix: str = ""

    def error(self, field: str, message: str, file: str | None = None) -> ModelFormatError:
        """The error for a field of this estimator.

        Parameters
        ----------
        field : str
            The field, after the prefix.
        message : str
            What is wrong.
        file : str, optional
            Another file than :attr:`file` (the weights).

        Returns
        -------
        ModelFormatError
            Naming the model, the file and the prefixed field.
        """
        return ModelFormatError(message, model=self.model, file=file or self.file, field=self.prefix + field)

    def inside(self, prefix: str) -> Where:
        """The place of a nested estimator.

        Parameters
        ----------
        prefix : str
            Appended to the field prefix.

        Returns
        -------
        Where
            The same model and file.
        """
        return Where(self.model, self.file, self.prefix + prefix)




def whole(value: Any, field: str, where: Where, low: int, high: int, setting: str = "") -> int:
    """A whole number from a stored config, bounded.

    Parameters
    ----------
    value : object
        The stored value.
    field : str
        Its field.
    where : Where
        The estimator.
    low, high : int
        Bounds (inclusive).
    setting : str
        A key of :data:`mdl.config.LIMITS` whose variable raises ``high``, named in the error.

    Returns
    -------
    int
        ``value`` as an int.

    Raises
    ------
    ModelFormatError
        For anything else.

    Examples
    --------
    >>> whole(3.0, "n", Where("m-0"), 1, 2)
    Traceback (most recent call last):
    mdl.errors.ModelFormatError: model m-0: config.json: n: expected a whole number, got float 3.0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise where.error(field, f"expected a whole number, got {short(value)}")
    if not low <= value <= high:
        hint = f" ({LIMITS[setting][0]})" if setting else ""
        raise where.error(field, f"{value} is outside [{low}, {high}]{hint}")
    return int(value)


def short(value: Any) -> str:
    """A value as an error message shows it: its type and the start of its repr.

    Parameters
    ----------
    value : object
        The value.

    Returns
    -------
    str
        At most 60 characters of the repr, after the type's name.

    Examples
    --------
    >>> short("x" * 100)[:12], short(3.0)
    ("str 'xxxxxxx", 'float 3.0')
    """
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


def expect_keys(config: Any, where: Where, required: set[str], optional: Sequence[str] = ("blobs",)) -> dict:
    """A config that is a JSON object with exactly the ``required`` keys (and maybe the ``optional`` ones).

    Parameters
    ----------
    config : object
        The stored config.
    where : Where
        The estimator.
    required : set of str
        Keys it must have.
    optional : sequence of str
        Keys it may have.

    Returns
    -------
    dict
        ``config``.

    Raises
    ------
    ModelFormatError
        Naming the first key missing or unexpected.

    Examples
    --------
    >>> expect_keys({"class": "Ridge", "params": {}, "alpha": 1}, Where("m-0"), {"class", "params"})
    Traceback (most recent call last):
    mdl.errors.ModelFormatError: model m-0: config.json: alpha: unexpected key
    """
    if not isinstance(config, dict):
        raise where.error("", f"expected a JSON object, got {short(config)}")
    missing, extra = required - set(config), set(config) - required - set(optional)
    if missing or extra:
        raise where.error(min(missing or extra), "missing" if missing else "unexpected key")
    return config


def array(arrays: dict[str, np.ndarray], name: str, where: Where, shape: tuple[int | None, ...],
          kind: str = "f") -> np.ndarray:
    """A stored array, with its shape and dtype checked.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        The weights file's tensors.
    name : str
        The tensor.
    where : Where
        The estimator.
    shape : tuple of (int or None)
        The shape (None: any length).
    kind : str
        The dtype kind: 'f' float (finite values), 'i' integer.

    Returns
    -------
    numpy.ndarray
        ``arrays[name]``.

    Raises
    ------
    ModelFormatError
        When it is missing, of another shape or kind, or not finite.
    """
    value = arrays.get(name)
    if value is None:
        raise where.error(name, "array missing", WEIGHTS)
    if value.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, value.shape)):
        wanted = tuple("any" if s is None else s for s in shape)
        raise where.error(name, f"shape {value.shape}, expected {wanted}".replace("'", ""), WEIGHTS)
    if kind == "f" and value.dtype.kind != "f" or kind == "i" and value.dtype.kind not in "iu":
        raise where.error(name, f"dtype {value.dtype}, expected {'floating' if kind == 'f' else 'integer'}", WEIGHTS)
    if kind == "f" and not np.isfinite(value).all():
        raise where.error(name, "values must be finite", WEIGHTS)
    return value


def exact_arrays(arrays: dict[str, np.ndarray], names: set[str], where: Where) -> None:
    """The stored arrays are exactly ``names``.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        The weights file's tensors.
    names : set of str
        The tensors expected.
    where : Where
        The estimator.

    Raises
    ------
    ModelFormatError
        Naming the first array unexpected or missing.

    Examples
    --------
    >>> exact_arrays({"coef_": np.ones(2)}, {"coef_", "intercept_"}, Where("m-0"))
    Traceback (most recent call last):
    mdl.errors.ModelFormatError: model m-0: weights.safetensors: intercept_: array missing
    """
    extra, missing = set(arrays) - names, names - set(arrays)
    if extra or missing:
        raise where.error(min(extra or missing), "unexpected array" if extra else "array missing", WEIGHTS)
