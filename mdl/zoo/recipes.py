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

Without ``limit`` a recipe trains on every labelled row. ``hidden = [512, 256, 128]`` under
``[families.nn]`` fixes the networks' widths (its ``count`` networks then differ by seed only), and
``target_clip = 5.0`` clips the standardised training targets at 5 sd (outlier rows); the heavy tier
(``registry/heavy``) is made of such recipes::

    [data]
    loader = "chemicals"
    properties = ["melting_point", "boiling_point", "density"]
    multi = true
    [families.nn]
    count = 3
    hidden = [512, 256, 128]
    epochs = 60
    patience = 8
    target_clip = 5.0

Every table, key and bound is listed in :mod:`mdl.zoo.recipe_schema` (e.g. ``count`` at most 10,000 per
family, ``epochs`` 1 to 100,000, ``0 < lr <= 10``, hidden widths at most ``MDL_MAX_WIDTH``). A recipe is
checked as a whole before any data is read; every problem of every file is reported at once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mdl.errors import RecipeError
from mdl.zoo.recipe_schema import RecipeSchema, check_recipe, model_id, recipe_error

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as a package (declared in pyproject.toml)
    import tomli as tomllib

#: Largest recipe file read (a recipe is a few hundred bytes).
MAX_RECIPE_BYTES = 1 << 20


@dataclass(frozen=True)
class FamilyPlan:
    """The models of one family a recipe asks for.

    Attributes
    ----------
    family : str
        "nn", "rf", "gb" or "en".
    count : int
        How many models.
    setup : str or None
        The named hyperparameter setup they are drawn from (e.g. "nn1").
    ranges : dict
        Ranges that replace the setup's.
    options : dict
        Training options added to, or replacing, what is drawn (``epochs``, fixed ``hidden``...).
    """

    family: str
    count: int
    setup: str | None = None
    ranges: dict[str, list] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    """One model set to build: its data, descriptor, families and split (validated, no data read).

    Attributes
    ----------
    modelset : str
        The model set's name (the prefix of its model ids).
    loader, loader_args
        The data set and its options.
    properties : tuple of str
        One property, or several for a multi-property network.
    descriptor, descriptor_params
        The descriptor and its parameters.
    families : tuple of FamilyPlan
    limit, seed, test_size, max_zero_fraction, max_columns
        Rows used, seed, test split and column selection.
    meta : dict
        Metadata of the model set.
    path : str
        The recipe file.

    Examples
    --------
    >>> load_recipes([registry_path("starter")])[0].modelset
    'starter-chemicals-density'
    """

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


def registry_path(*parts: str) -> Path:
    """A folder of the zoo's own recipes, as installed with the package (``registry/`` of the repository).

    The recipes are the package ``mdl.registry``, found through :mod:`importlib.resources`, so this works
    from a wheel as from an editable install or a clone.

    Parameters
    ----------
    *parts : str
        The folder under the registry (``"starter"``, ``"molecules"``...); none gives the registry itself.

    Returns
    -------
    Path

    Raises
    ------
    RecipeError
        When the registry holds no such folder, naming those it holds.

    Examples
    --------
    >>> sorted(p.name for p in registry_path("starter").glob("*.toml"))
    ['chemicals-density.toml', 'chemicals-refractive-index.toml', 'qm9-alpha.toml']
    >>> registry_path("nope")
    Traceback (most recent call last):
    mdl.errors.RecipeError: no recipe folder 'nope' in the registry; it holds crystals, heavy, molecules, polymers, starter
    """
    root = Path(str(resources.files("mdl.registry")))
    folder = root.joinpath(*parts)
    if not folder.is_dir():
        held = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")))
        raise RecipeError(f"no recipe folder {'/'.join(parts)!r} in the registry; it holds {held}")
    return folder


def _recipes(schema: RecipeSchema, path: str) -> list[Recipe]:
    """The recipes of a validated schema: one, or one per property."""
    families = tuple(FamilyPlan(name, table.count, table.setup, dict(table.ranges), table.options())
                     for name, table in schema.families.chosen().items())
    data, selection = schema.data, schema.selection
    common = dict(loader=data.loader, descriptor=schema.descriptor.name,
                  descriptor_params=dict(schema.descriptor.params), families=families, limit=data.limit,
                  seed=data.seed, test_size=schema.split.test_size, max_zero_fraction=selection.max_zero_fraction,
                  max_columns=selection.max_columns, loader_args=data.args.model_dump(exclude_unset=True),
                  meta=schema.modelset.model_dump(exclude_unset=True, exclude={"name"}), path=path)
    names = data.names()
    if data.multi:
        return [Recipe(modelset=schema.modelset.name, properties=tuple(names), **common)]
    return [Recipe(modelset=modelset, properties=(prop,), **common)
            for modelset, prop in zip(schema.modelsets(), names)]


def parse_recipe(data: dict, path: str = "<recipe>") -> list[Recipe]:
    """Validate a parsed recipe as a whole (:mod:`mdl.zoo.recipe_schema`), reading no data.

    Parameters
    ----------
    data : dict
        The parsed TOML.
    path : str, default "<recipe>"
        Where it came from, for the messages.

    Returns
    -------
    list of Recipe
        One per property (``properties`` lists several), or one multi-property recipe.

    Raises
    ------
    RecipeError
        Naming every problem, each with ``path`` and its field.

    Examples
    --------
    >>> parse_recipe({"modelset": {"name": "demo"}, "data": {"loader": "qm9", "property": "gap"},
    ...               "descriptor": {"name": "morgan"}, "families": {"nn": {"count": 2, "epochs": 5}}})[0].modelset
    'demo'
    """
    schema, problems = check_recipe(data, path)
    if schema is None:
        raise recipe_error(problems)
    return _recipes(schema, path)


def _read(file: Path) -> tuple[list[Recipe], list[str]]:
    """The recipes of one file, or the problems found in it."""
    try:
        if file.stat().st_size > MAX_RECIPE_BYTES:
            return [], [f"{file}: larger than {MAX_RECIPE_BYTES} bytes: not a recipe"]
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [], [f"{file}: cannot read recipe ({type(exc).__name__}: {exc})"]
    schema, problems = check_recipe(data, str(file))
    return (_recipes(schema, str(file)) if schema is not None else []), problems


def load_recipes(paths: list[str | Path]) -> list[Recipe]:
    """Read and validate recipe files (a folder means every ``*.toml`` in it), reading no data.

    Parameters
    ----------
    paths : list of str or Path
        Files or folders.

    Returns
    -------
    list of Recipe

    Raises
    ------
    RecipeError
        Every problem of every file in one error, and two recipes that would make the same model id.

    Examples
    --------
    >>> [r.modelset for r in load_recipes([registry_path("starter")])][2:]
    ['starter-qm9-alpha']
    """
    recipes: list[Recipe] = []
    problems: list[str] = []
    for item in map(Path, paths):
        files = sorted(item.glob("*.toml")) if item.is_dir() else [item]
        if not files:
            problems.append(f"{item}: no *.toml recipe in this folder")
        for file in files:
            found, wrong = _read(file)
            recipes += found
            problems += wrong
    made_by: dict[str, str] = {}  # the first id of each family -> the recipe file that makes it
    for recipe in recipes:
        firsts = [model_id(recipe.modelset, fam.family, 0) for fam in recipe.families if fam.count]
        twice = [first for first in firsts if first in made_by]
        if twice:
            problems.append(f"{recipe.path}: modelset.name: model set {recipe.modelset!r} makes the same model "
                            f"ids as {made_by[twice[0]]} (e.g. {twice[0]})")
        for first in firsts:
            made_by.setdefault(first, recipe.path)
    if problems:
        raise recipe_error(problems)
    return recipes
