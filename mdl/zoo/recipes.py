"""Declarative zoo recipes (TOML): which data, property, descriptor and model families, how many.

A recipe plus the code version determines every model it yields: ids, hyperparameters and seeds
are derived from the recipe alone. Every field is checked before any training starts.

Example ``registry/qm9-homo.toml``::

    [modelset]
    name = "qm9-homo"
    [data]
    loader = "qm9"
    property = "homo"
    limit = 5000
    [descriptor]
    name = "morgan"
    params = { radius = 2, n_bits = 2048, counts = true }
    [families.nn]
    count = 8
    setup = "nn1"
    epochs = 60
    [families.rf]
    count = 2
    ranges = { n_estimators = [50, 150] }

``properties = [...]`` yields one model set per property; with ``multi = true`` it yields one set
of networks, each trained on all the properties at once (missing labels masked out of the loss).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdl.errors import RecipeError
from mdl.models.samplers import SETUPS, ranges
from mdl.models.train import NN_DEFAULTS

_FAMILY_KEYS = {"count", "setup", "ranges", *NN_DEFAULTS, "min_samples_leaf"}


@dataclass(frozen=True)
class FamilyPlan:
    family: str
    count: int
    setup: str | None = None
    ranges: dict[str, list] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    modelset: str
    loader: str
    properties: tuple[str, ...]
    descriptor: str
    descriptor_params: dict[str, Any]
    families: tuple[FamilyPlan, ...]
    limit: int | None = None
    seed: int = 0
    test_size: float = 0.2
    max_zero_fraction: float = 0.9
    max_columns: int | None = None
    loader_args: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def multi(self) -> bool:
        """One network trained on several properties at once."""
        return len(self.properties) > 1

    @property
    def target(self) -> str | list[str]:
        """What :meth:`Dataset.xy` takes: one property name, or the list of a multi-property recipe."""
        return list(self.properties) if self.multi else self.properties[0]


def _get(table: dict, key: str, kind: type | tuple, where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise RecipeError(f"{where}.{key}: missing")
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RecipeError(f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def parse_recipe(data: dict, path: str = "<recipe>") -> list[Recipe]:
    """Validate a parsed recipe; one :class:`Recipe` per property (``properties`` lists several)."""
    from mdl import datasets, descriptors

    ms = _get(data, "modelset", dict, path)
    name = _get(ms, "name", str, f"{path}: modelset")
    d = _get(data, "data", dict, path)
    loader = _get(d, "loader", str, f"{path}: data")
    if loader not in datasets.available():
        raise RecipeError(f"{path}: data.loader: unknown loader {loader!r}; known: {datasets.available()}")
    props = d.get("properties") or [_get(d, "property", str, f"{path}: data")]
    dataset = datasets.load(loader, **d.get("args", {}))
    for prop in props:
        if prop not in dataset.properties:
            raise RecipeError(f"{path}: data.property: {prop!r} is not a property of {loader!r}; "
                              f"known: {sorted(dataset.properties)}")
    desc = _get(data, "descriptor", dict, path)
    desc_name = _get(desc, "name", str, f"{path}: descriptor")
    desc_params = _get(desc, "params", dict, f"{path}: descriptor", {})
    try:
        descriptors.get_descriptor(desc_name, **desc_params)
    except Exception as exc:
        raise RecipeError(f"{path}: descriptor: {exc}") from exc
    fams = _get(data, "families", dict, path)
    if not fams:
        raise RecipeError(f"{path}: families: at least one model family is needed")
    plans = []
    for family, table in fams.items():
        where = f"{path}: families.{family}"
        if family not in SETUPS:
            raise RecipeError(f"{where}: unknown family; known: {sorted(SETUPS)}")
        unknown = set(table) - _FAMILY_KEYS
        if unknown:
            raise RecipeError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(_FAMILY_KEYS)}")
        count = _get(table, "count", int, where)
        if count < 0:
            raise RecipeError(f"{where}.count: must be >= 0, got {count}")
        setup = _get(table, "setup", str, where, None)
        rng = _get(table, "ranges", dict, where, {})
        ranges(family, setup, rng)  # raises RecipeError naming the field
        options = {k: v for k, v in table.items() if k not in ("count", "setup", "ranges")}
        plans.append(FamilyPlan(family, count, setup, rng, options))
    split = data.get("split", {})
    test_size = _get(split, "test_size", float, f"{path}: split", 0.2)
    if not 0 < test_size < 1:
        raise RecipeError(f"{path}: split.test_size: must lie in (0, 1), got {test_size}")
    sel = data.get("selection", {})
    limit = _get(d, "limit", int, f"{path}: data", None)
    common = dict(loader=loader, descriptor=desc_name, descriptor_params=desc_params, families=tuple(plans),
                  limit=limit, seed=_get(d, "seed", int, f"{path}: data", 0), test_size=test_size,
                  max_zero_fraction=_get(sel, "max_zero_fraction", float, f"{path}: selection", 0.9),
                  max_columns=_get(sel, "max_columns", int, f"{path}: selection", None),
                  loader_args=d.get("args", {}), meta={k: v for k, v in ms.items() if k != "name"}, path=path)
    if _get(d, "multi", bool, f"{path}: data", False):
        if {plan.family for plan in plans} != {"nn"}:
            raise RecipeError(f"{path}: data.multi: multi-property training needs networks only (families.nn)")
        if len(props) < 2:
            raise RecipeError(f"{path}: data.multi: list at least two properties")
        return [Recipe(modelset=name, properties=tuple(props), **common)]
    if len(props) == 1:
        return [Recipe(modelset=name, properties=(props[0],), **common)]
    return [Recipe(modelset=f"{name}-{p}".replace("_", "-"), properties=(p,), **common) for p in props]


def load_recipes(paths: list[str | Path]) -> list[Recipe]:
    """Read and validate recipe files (a folder means every ``*.toml`` in it)."""
    recipes = []
    for item in paths:
        item = Path(item)
        files = sorted(item.glob("*.toml")) if item.is_dir() else [item]
        for file in files:
            try:
                data = tomllib.loads(file.read_text())
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise RecipeError(f"{file}: cannot read recipe ({exc})") from exc
            recipes.extend(parse_recipe(data, str(file)))
    return recipes
