"""The full, JSON-able record of a descriptor: what a model needs to recompute its inputs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mdl.errors import DescriptorMismatchError

MATERIALS = ("molecule", "polymer", "inorganic")


@dataclass(frozen=True)
class DescriptorSpec:
    """Name, parameters, implementation version, library versions and exact output columns.

    Example:
        >>> spec = DescriptorSpec("maccs", {}, "molecule", "1", {"rdkit": "2026.09.1"}, 2, ("maccs_0", "maccs_1"))
        >>> DescriptorSpec.from_dict(json.loads(spec.to_json())) == spec
        True
    """

    name: str
    params: dict[str, Any]
    material: str
    version: str
    library: dict[str, str] = field(default_factory=dict)
    width: int = 0
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.material not in MATERIALS:
            raise DescriptorMismatchError(f"spec material must be one of {MATERIALS}, got {self.material!r}")
        object.__setattr__(self, "columns", tuple(self.columns))
        if self.width != len(self.columns):
            raise DescriptorMismatchError(
                f"spec of {self.name!r} says width {self.width} but lists {len(self.columns)} columns"
            )

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (columns as a list), ready for JSON."""
        d = asdict(self)
        d["columns"] = list(self.columns)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DescriptorSpec:
        """Inverse of :meth:`to_dict`; missing or unknown keys raise DescriptorMismatchError."""
        expected = {"name", "params", "material", "version", "library", "width", "columns"}
        if set(d) != expected:
            raise DescriptorMismatchError(
                f"descriptor spec keys must be {sorted(expected)}, got {sorted(d)}"
            )
        return cls(
            name=str(d["name"]),
            params=dict(d["params"]),
            material=str(d["material"]),
            version=str(d["version"]),
            library={str(k): str(v) for k, v in d["library"].items()},
            width=int(d["width"]),
            columns=tuple(str(c) for c in d["columns"]),
        )

    def to_json(self) -> str:
        """Deterministic JSON text (sorted keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def fingerprint(self) -> str:
        """Short sha256 (16 hex digits) of name, params, version and columns; library versions excluded."""
        payload = json.dumps([self.name, self.params, self.version, list(self.columns)], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
