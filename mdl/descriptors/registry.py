"""Descriptors by name, and rebuilding one from a stored spec."""

from __future__ import annotations

import warnings
from typing import Any

from mdl.config import LIMITS, limit
from mdl.descriptors.base import Descriptor
from mdl.descriptors.compositions import CompositionDescriptor, ElementFraction
from mdl.descriptors.joined import StructureComposition
from mdl.descriptors.molecules import (
    AtomPairFingerprint,
    MACCSKeys,
    MorganFingerprint,
    RDKit2D,
    RDKitFingerprint,
    TorsionFingerprint,
)
from mdl.descriptors.graphs import CrystalGraphDescriptor, CrystalStructureDescriptor
from mdl.descriptors.spec import DescriptorSpec
from mdl.descriptors.structures import StructureDescriptor
from mdl.errors import DescriptorMismatchError, InvalidInputError

#: name -> (class, parameters the name fixes)
_REGISTRY: dict[str, tuple[type[Descriptor], dict[str, Any]]] = {
    "morgan": (MorganFingerprint, {}),
    "ecfp": (MorganFingerprint, {"features": False}),
    "fcfp": (MorganFingerprint, {"features": True}),
    "atom_pair": (AtomPairFingerprint, {}),
    "torsion": (TorsionFingerprint, {}),
    "rdkit": (RDKitFingerprint, {}),
    "maccs": (MACCSKeys, {}),
    "rdkit2d": (RDKit2D, {}),
    "composition": (CompositionDescriptor, {}),
    "element_fraction": (ElementFraction, {}),
    "structure": (StructureDescriptor, {}),
    "structure_composition": (StructureComposition, {}),
    "crystal_graph": (CrystalGraphDescriptor, {}),
    "crystal_structure": (CrystalStructureDescriptor, {}),
}


#: bounds on numeric parameters, checked before a descriptor is built (its column names alone would
#: cost memory in proportion to ``n_bits``); a name is that limit of :data:`mdl.config.LIMITS`
#: ("width": MDL_MAX_WIDTH, "neighbors": MDL_MAX_NEIGHBORS)
BOUNDS: dict[str, tuple[float, float | str]] = {
    "n_bits": (1, "width"), "n_bins": (1, "width"), "radius": (0, 8), "min_distance": (1, 64),
    "max_distance": (1, 64), "min_path": (1, 16), "max_path": (1, 16), "r_max": (0.5, 30.0),
    "cutoff": (1, 12), "max_neighbors": (1, "neighbors"),
}


def check_bounds(name: str, params: dict[str, Any]) -> None:
    """Raise InvalidInputError when a numeric parameter of descriptor ``name`` is outside :data:`BOUNDS`.

    Parameters
    ----------
    name : str
        The descriptor's name, quoted in the error message.
    params : dict
        Its parameters; only the keys in :data:`BOUNDS` (and a ``names`` list) are checked.

    Raises
    ------
    InvalidInputError
        For a parameter outside its bounds (or not a number), or more ``names`` than the width limit.

    Examples
    --------
    >>> check_bounds("morgan", {"n_bits": 10**9})
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: descriptor 'morgan': n_bits = 1000000000 is outside [1, 65536] (MDL_MAX_WIDTH raises the width limit)
    """
    for key, (low, high) in BOUNDS.items():
        if key not in params:
            continue
        value, top = params[key], limit(high) if isinstance(high, str) else high
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= top:
            hint = f" ({LIMITS[high][0]} raises the {high} limit)" if isinstance(high, str) else ""
            raise InvalidInputError(f"descriptor {name!r}: {key} = {str(value)[:40]} is outside [{low}, {top}]{hint}")
    names = params.get("names")
    if isinstance(names, list) and len(names) > limit("width"):
        raise InvalidInputError(f"descriptor {name!r}: {len(names)} names exceed the width limit {limit('width')}")


class LibraryVersionWarning(UserWarning):
    """A spec was recorded with other library versions; the rebuilt output has the same columns."""


def descriptor_kind(name: str) -> str:
    """``"matrix"`` or ``"graph"``: what the descriptor registered as ``name`` hands a model; a name not
    registered is a matrix (a model fed ready descriptor matrices).

    Parameters
    ----------
    name : str
        A descriptor name (registered or not).

    Returns
    -------
    str
        ``"matrix"`` or ``"graph"``.

    Examples
    --------
    >>> descriptor_kind("morgan"), descriptor_kind("crystal_graph"), descriptor_kind("my_features")
    ('matrix', 'graph', 'matrix')
    """
    return _REGISTRY[name][0].kind if name in _REGISTRY else "matrix"


def available() -> list[str]:
    """Registered descriptor names, aliases included, sorted.

    Example:
        >>> "morgan" in available()
        True
    """
    return sorted(_REGISTRY)


def descriptor_citations(spec: str | DescriptorSpec | dict[str, Any]) -> list[str]:
    """The works to cite for a registered descriptor, or for the descriptor a model records in its spec.

    Parameters
    ----------
    spec : str, DescriptorSpec or dict
        A registered name (its default parameters) or a stored spec (its parameters).

    Returns
    -------
    list of str
        BibTeX entries (:meth:`Descriptor.citations`).

    Raises
    ------
    InvalidInputError
        For an unknown name or parameters it does not accept.

    Examples
    --------
    >>> entries = descriptor_citations(get_descriptor("fcfp", radius=3).spec)
    >>> [entry.split(",")[0] for entry in entries]
    ['@article{rogers2010ecfp', '@article{morgan1965', '@misc{rdkit']
    """
    if isinstance(spec, str):
        return get_descriptor(spec).citations()
    if not isinstance(spec, DescriptorSpec):
        spec = DescriptorSpec.from_dict(spec)
    return get_descriptor(spec.name, **spec.params).citations()


def get_descriptor(name: str, **params: Any) -> Descriptor:
    """The descriptor registered as ``name``; its parameters are checked at once.

    Parameters
    ----------
    name : str
        A registered name ("morgan", "fcfp", "magpie"...).
    **params
        Its parameters (over the registered defaults).

    Returns
    -------
    Descriptor
        The descriptor.

    Raises
    ------
    InvalidInputError
        For an unknown name or bad parameters.

    Examples
    --------
    >>> get_descriptor("fcfp", radius=3).spec.params["features"]
    True
    """
    if name not in _REGISTRY:
        raise InvalidInputError(f"unknown descriptor {name!r}; known: {', '.join(available())}")
    cls, fixed = _REGISTRY[name]
    accepted = set(cls._get_param_names())
    unknown = sorted(set(params) - accepted)
    if unknown:
        hint = " (polymers: morgan/ecfp/fcfp, atom_pair, torsion, rdkit)" if "polymer" in unknown else ""
        raise InvalidInputError(
            f"descriptor {name!r} has no parameter {', '.join(unknown)}; "
            f"accepted: {sorted(accepted) or 'none'}{hint}"
        )
    check_bounds(name, params)
    clash = {k: v for k, v in params.items() if k in fixed and v != fixed[k]}
    if clash:
        raise InvalidInputError(f"descriptor {name!r} fixes {fixed}; got {clash}")
    descriptor = cls(**{**params, **fixed})
    descriptor.columns  # validates the parameters
    return descriptor


def from_spec(spec: DescriptorSpec | dict[str, Any]) -> Descriptor:
    """Rebuild the descriptor of a stored spec and check it still produces the same columns.

    Different library versions with identical columns only warn (LibraryVersionWarning); a different
    implementation version, material, width or column list raises.

    Parameters
    ----------
    spec : DescriptorSpec or dict
        The stored spec (a dict is read as untrusted input).

    Returns
    -------
    Descriptor
        The descriptor.

    Raises
    ------
    DescriptorMismatchError
        When it would produce other columns.

    Examples
    --------
    >>> spec = get_descriptor("maccs").spec
    >>> from_spec(spec.to_dict()).spec == spec
    True
    """
    if not isinstance(spec, DescriptorSpec):
        spec = DescriptorSpec.from_dict(spec)
    try:
        descriptor = get_descriptor(spec.name, **spec.params)
    except InvalidInputError as exc:
        raise DescriptorMismatchError(f"cannot rebuild descriptor {spec.name!r}: {exc}") from exc
    rebuilt = descriptor.spec
    recorded = _versions(spec.library)
    installed = _versions(rebuilt.library)
    if rebuilt.version != spec.version or rebuilt.material != spec.material:
        raise DescriptorMismatchError(
            f"descriptor {spec.name!r} was recorded as version {spec.version} for {spec.material} inputs; "
            f"this mdl has version {rebuilt.version} for {rebuilt.material} inputs"
        )
    if rebuilt.width != spec.width or rebuilt.columns != spec.columns:
        differ = next((i for i, (a, b) in enumerate(zip(spec.columns, rebuilt.columns)) if a != b), None)
        where = f"; first difference at column {differ}" if differ is not None else ""
        raise DescriptorMismatchError(
            f"descriptor {spec.name!r} was recorded with {recorded} as {spec.width} columns, but "
            f"{installed} gives {rebuilt.width} columns{where}"
        )
    if rebuilt.library != spec.library:
        warnings.warn(
            f"descriptor {spec.name!r} was recorded with {recorded}, installed is {installed}; "
            "the columns match but values may differ slightly",
            LibraryVersionWarning,
            stacklevel=2,
        )
    return descriptor


def _versions(library: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(library.items())) or "no library"
