"""Descriptors: SMILES (molecules, polymer repeat units), compositions and crystal structures to
fixed-width float matrices.

Every descriptor is a stateless scikit-learn transformer with a :class:`DescriptorSpec` that records
its name, parameters, implementation and library versions and exact columns; :func:`from_spec`
rebuilds it and checks the columns still match. ``citations()`` (and :func:`descriptor_citations` for a
name or a stored spec) lists the works it rests on, as BibTeX.

Example:
    >>> from mdl.descriptors import get_descriptor, from_spec
    >>> d = get_descriptor("morgan", radius=2, n_bits=1024)
    >>> X = d.transform(["CCO", "c1ccccc1"])
    >>> X.shape, d.spec.width
    ((2, 1024), 1024)
    >>> bool((from_spec(d.spec.to_dict()).transform(["CCO", "c1ccccc1"]) == X).all())
    True
"""

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
from mdl.descriptors.graphs import CrystalGraph, CrystalGraphDescriptor, CrystalStructureDescriptor
from mdl.descriptors.registry import (
    LibraryVersionWarning,
    available,
    descriptor_citations,
    descriptor_kind,
    from_spec,
    get_descriptor,
)
from mdl.descriptors.selection import ColumnSelector
from mdl.descriptors.spec import DescriptorSpec
from mdl.descriptors.structures import StructureDescriptor

__all__ = [
    "AtomPairFingerprint",
    "ColumnSelector",
    "CompositionDescriptor",
    "CrystalGraph",
    "CrystalGraphDescriptor",
    "CrystalStructureDescriptor",
    "Descriptor",
    "DescriptorSpec",
    "ElementFraction",
    "LibraryVersionWarning",
    "MACCSKeys",
    "MorganFingerprint",
    "RDKit2D",
    "RDKitFingerprint",
    "StructureComposition",
    "StructureDescriptor",
    "TorsionFingerprint",
    "available",
    "descriptor_citations",
    "descriptor_kind",
    "from_spec",
    "get_descriptor",
]
