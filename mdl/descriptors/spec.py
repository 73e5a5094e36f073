"""The full, JSON-able record of a descriptor: what a model needs to recompute its inputs."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mdl.config import limit
from mdl.errors import DescriptorMismatchError

MATERIALS = ("molecule", "polymer", "inorganic")
_SHORT = 256  # characters of a name, version, library entry or column name


@dataclass(frozen=True)
class DescriptorSpec:
    """Name, parameters, implementation version, library versions and exact output columns.

    Examples
    --------
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
        """Inverse of :meth:`to_dict`, for untrusted input.

        Parameters
        ----------
        d : dict
            A stored spec.

        Returns
        -------
        DescriptorSpec
            The spec.

        Raises
        ------
        DescriptorMismatchError
            For missing or unknown keys, wrong types, a width over ``limit("width")`` (MDL_MAX_WIDTH) or
            over-long names.

        Examples
        --------
        >>> DescriptorSpec.from_dict({"name": "morgan", "params": {}, "material": "molecule", "version": "1",
        ...                           "library": {}, "width": 10**7, "columns": []})
        Traceback (most recent call last):
        mdl.errors.DescriptorMismatchError: descriptor spec width: 10000000 is not a whole number in [0, 65536] (MDL_MAX_WIDTH)
        """
        expected = {"name", "params", "material", "version", "library", "width", "columns"}
        if not isinstance(d, dict) or set(d) != expected:
            raise DescriptorMismatchError(
                f"descriptor spec keys must be {sorted(expected)}, got {sorted(d) if isinstance(d, dict) else d!r}"
            )
        width = d["width"]
        if isinstance(width, bool) or not isinstance(width, int) or not 0 <= width <= limit("width"):
            raise DescriptorMismatchError(f"descriptor spec width: {str(width)[:40]} is not a whole number in "
                                          f"[0, {limit('width')}] (MDL_MAX_WIDTH)")
        columns, params, library = d["columns"], d["params"], d["library"]
        if not isinstance(columns, list) or not set(map(type, columns)) <= {str} or max(
                map(len, columns), default=0) > _SHORT:
            raise DescriptorMismatchError(f"descriptor spec columns: expected a list of names of at most {_SHORT} "
                                          "characters")
        if not isinstance(library, dict) or not all(_short(v) for v in library.values()):
            raise DescriptorMismatchError("descriptor spec library: expected {library: version}")
        if not isinstance(params, dict) or not all(_param(v) for v in params.values()):
            raise DescriptorMismatchError(f"descriptor spec params: expected {{name: JSON scalar or list}}, got "
                                          f"{str(params)[:80]}")
        for key in ("name", "material", "version"):
            if not _short(d[key]):
                raise DescriptorMismatchError(f"descriptor spec {key}: expected a name of at most {_SHORT} characters")
        return cls(name=d["name"], params=params, material=d["material"], version=d["version"], library=library,
                   width=width, columns=tuple(columns))

    def to_json(self) -> str:
        """Deterministic JSON text (sorted keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def fingerprint(self) -> str:
        """Short sha256 (16 hex digits) of name, params, version and columns; library versions excluded.

        Computed once per spec (a screening groups thousands of sources by it)."""
        cached = self.__dict__.get("_fingerprint")
        if cached is None:
            payload = json.dumps([self.name, self.params, self.version, list(self.columns)], sort_keys=True)
            cached = hashlib.sha256(payload.encode()).hexdigest()[:16]
            object.__setattr__(self, "_fingerprint", cached)  # frozen: set once, not a field
        return cached


def _short(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= _SHORT


def _param(value: Any) -> bool:
    """A descriptor parameter: None, bool, number, short string, or a list of those (at most ``width``)."""
    if value is None or isinstance(value, (bool, int, float)) or _short(value):
        return True
    return isinstance(value, list) and len(value) <= limit("width") and all(
        v is None or isinstance(v, (bool, int, float)) or _short(v) for v in value)
