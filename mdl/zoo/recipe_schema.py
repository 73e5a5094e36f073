"""The schema of a zoo recipe: every table, key, type and bound, checked as a whole before any data is read.

Every problem of a recipe is reported at once, one line each naming the file and the field; an unknown
table or key is named with the nearest valid one. Nothing here reads a data set: property names are
checked against what the loader declares (:func:`mdl.datasets.properties`). Whole numbers must be
TOML integers (``true`` is not one), and no float may be ``nan`` or ``inf``.

==============================  ===============================================================================
key                             allowed values (both ends inclusive unless said)
==============================  ===============================================================================
``[modelset]``
``name`` (required)             the hub's rule: letters, digits, ``.``, ``_``, ``-``, at most 96 characters, no
                                ``..``; every model id made from it (``<name>[-<property>]-<family>-<nnnn>``)
                                must pass the same rule, so a long name leaves room for the rest
``license``                     an SPDX-like identifier (``MIT``, ``CC-BY-4.0``, ``other``), at most 64 characters
``description``                 text, at most 2,000 characters
``[data]``
``loader`` (required)           a name of :func:`mdl.datasets.available`
``property`` / ``properties``   one of the two: a property the loader declares (canonical name), or a list of
                                1 to 64 of them without repeats (one model set each, suffixed ``-<property>``)
``multi``                       ``true``: one set of networks trained on all ``properties`` at once
``limit``                       rows drawn, 1 to 10,000,000 (``MAX_ROWS``); left out: every row that has a
                                label (the heavy tier, ``registry/heavy``)
``seed``                        0 to 2**32 - 1 (``MAX_SEED``)
``args``                        the loader's keyword arguments (:func:`mdl.datasets.arguments`): ``limit``,
                                ``seed``, bounded as above
``[descriptor]``
``name`` (required)             a name of :func:`mdl.descriptors.available`
``params``                      the descriptor's parameters (e.g. ``n_bits``); a whole number at most
                                ``MDL_MAX_WIDTH`` (65,536) in size; the descriptor is then built to check them
``[selection]``
``max_zero_fraction``           0 to 1
``max_columns``                 1 to ``MDL_MAX_WIDTH``
``[split]``
``test_size``                   0 < test_size < 1
``[families.<f>]``              ``<f>`` is ``nn``, ``rf``, ``gb``, ``en`` or ``gnn``; at least one family
``count`` (required)            models of the family, 0 to 10,000 (``MAX_MODELS_PER_FAMILY``)
``setup``                       a setup of the family in :data:`mdl.zoo.samplers.SETUPS`
``ranges``                      ``[low, high]`` overrides of the setup's ranges, within
                                :func:`mdl.zoo.samplers.range_bounds`: ``n_layers`` 1 to ``MDL_MAX_LAYERS``;
                                ``first``, ``last`` (hidden widths) and ``max_features`` 1 to ``MDL_MAX_WIDTH``;
                                ``n_estimators`` 1 to ``MDL_MAX_TREES``; ``max_depth`` 1 to 32;
                                ``learning_rate``, ``l1_ratio`` 0 to 1; ``log10_alpha`` -10 to 10; gnn:
                                ``n_conv`` 1 to ``MDL_MAX_LAYERS``; ``width``, ``head_width``, ``n_gaussians``
                                1 to ``MDL_MAX_WIDTH``; ``cutoff`` 1 to 12 Å; ``max_neighbors`` 1 to
                                ``MDL_MAX_NEIGHBORS``; ``log10_lr`` -6 to 0; ``pooling`` 0 (mean) to 1 (sum)
``epochs`` (nn)                 1 to 100,000 (``MAX_EPOCHS``)
``lr`` (nn)                     0 < lr <= 10
``batch_size`` (nn)             1 to 1,000,000
``patience`` (nn)               0 to 100,000
``weight_decay`` (nn)           0 to 1
``hidden`` (nn)                 fixed hidden widths instead of drawn ones, e.g. ``[512, 256, 128]``: 1 to
                                ``MDL_MAX_LAYERS`` widths of 1 to ``MDL_MAX_WIDTH``; not with ``setup`` or
                                ``ranges`` (which only draw widths); the ``count`` networks differ by seed
``target_clip`` (nn)            clip the standardised training targets at this many standard deviations,
                                0 < target_clip <= 100 (``MAX_TARGET_CLIP``); left out: no clipping
``min_samples_leaf`` (rf)       1 to 1,000,000
training options (gnn)          ``epochs``, ``lr``, ``batch_size``, ``patience``, ``weight_decay``, ``target_clip``
                                as for nn (defaults ``GNN_DEFAULTS``); ``lr`` left out: drawn by the setup;
                                ``families.gnn`` needs descriptor ``crystal_graph``, which no other family reads
==============================  ===============================================================================

>>> schema, problems = check_recipe({"modelset": {"name": "demo"}, "data": {"loader": "qm9", "property": "gap",
...     "limt": 5}, "descriptor": {"name": "morgan"}, "families": {"nn": {"count": 10**9}}}, "demo.toml")
>>> print("\\n".join(problems))
demo.toml: data.limt: unknown key; did you mean 'limit'? known: args, limit, loader, multi, properties, property, seed
demo.toml: families.nn.count: Input should be less than or equal to 10000, got 1000000000
"""

from __future__ import annotations

import difflib
import reprlib
import typing
from collections.abc import Callable, Iterable
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, \
    field_validator, model_validator
from pydantic_core import PydanticCustomError

from mdl import datasets, descriptors
from mdl.config import LIMITS, limit
from mdl.errors import HubError, RecipeError
from mdl.hub.index_checks import check_name
from mdl.zoo.samplers import SETUPS, range_problems
from mdl.models.train import GNN_DEFAULTS, NN_DEFAULTS

MAX_MODELS_PER_FAMILY = 10_000
MAX_EPOCHS = 100_000
MAX_ROWS = 10_000_000
MAX_SEED = 2**32 - 1
MAX_PROPERTIES = 64
MAX_TARGET_CLIP = 100.0
_MAX_BATCH = _MAX_LEAF = 1_000_000
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 60


def model_id(modelset: str, family: str, index: int) -> str:
    """The id of a recipe's ``index``-th model of ``family`` (4 digits: at most 10,000 per family).

    Parameters
    ----------
    modelset : str
    family : str
    index : int

    Returns
    -------
    str

    Examples
    --------
    >>> model_id("qm9-homo", "nn", 7)
    'qm9-homo-nn-0007'
    """
    return f"{modelset}-{family}-{index:04d}"


def _refuse(problems: list[tuple[str, str]]) -> None:
    """Raise the problems found by one validator, each ``(field below the validator's table, message)``."""
    if problems:
        raise PydanticCustomError("recipe", "{text}", {"text": "; ".join(m for _, m in problems), "problems": problems})


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    return f"unknown {what}{f'; did you mean {close[0]!r}?' if close else ';'} known: {', '.join(known)}"


def _one_of(what: str, known: Callable[[], list[str]]) -> AfterValidator:
    """A string validator: ``value`` must be in ``known()`` (the nearest name is suggested)."""
    def check(value: str) -> str:
        if value not in known():
            _refuse([("", f"{value!r}: {_unknown(what, value, known())}")])
        return value
    return AfterValidator(check)


def _at_most(name: str) -> AfterValidator:
    """A whole-number validator: at most ``mdl.config.limit(name)``, read when a recipe is checked."""
    def check(value: int | None) -> int | None:
        if value is not None and value > limit(name):
            _refuse([("", f"at most {limit(name)} ({LIMITS[name][0]} raises it), got {value}")])
        return value
    return AfterValidator(check)


def _at_most_layers(widths: list[int]) -> list[int]:
    """Fixed hidden widths: at most ``mdl.config.limit("layers")`` of them."""
    if len(widths) > limit("layers"):
        _refuse([("", f"at most {limit('layers')} hidden layers ({LIMITS['layers'][0]} raises it), got {len(widths)}")])
    return widths


def _named(kind: str, name: str) -> list[str]:
    """What the hub's naming rule says of ``name`` (nothing when it passes)."""
    try:
        check_name(kind, name)
    except HubError as exc:
        return [str(exc)]
    return []


class _Table(BaseModel):
    """A table of a recipe: strict types (no string read as a number), no unknown key, finite floats."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


class ModelSetTable(_Table):
    """``[modelset]``: the name the models are published under, and the set's card."""

    name: Annotated[str, Field(max_length=96)]
    license: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$")] | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None

    @field_validator("name")
    @classmethod
    def _hub_name(cls, name: str) -> str:
        _refuse([("", message) for message in _named("model set", name)])
        return name


class LoaderArgs(_Table):
    """``[data] args``: keyword arguments of the loader (only structure sets take them)."""

    limit: Annotated[int, Field(ge=1, le=MAX_ROWS)] | None = None
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] | None = None


_Property = Annotated[str, Field(min_length=1, max_length=96)]


class DataTable(_Table):
    """``[data]``: the data set, its properties and the rows drawn."""

    loader: Annotated[str, _one_of("loader", datasets.available)]
    property: _Property | None = None
    properties: Annotated[list[_Property], Field(min_length=1, max_length=MAX_PROPERTIES)] | None = None
    multi: bool = False
    limit: Annotated[int, Field(ge=1, le=MAX_ROWS)] | None = None
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    args: LoaderArgs = LoaderArgs()

    def names(self) -> list[str]:
        """The properties asked for, in order."""
        return list(self.properties or [self.property])

    @model_validator(mode="after")
    def _against_loader(self) -> DataTable:
        problems = []
        if (self.property is None) == (self.properties is None):
            problems.append(("property", "give either property or properties (a list), not both or neither"))
        else:
            declared = datasets.properties(self.loader)
            names = self.names()
            if len(set(names)) < len(names):
                problems.append(("properties", f"listed more than once: {sorted({p for p in names if names.count(p) > 1})}"))
            for name in dict.fromkeys(names):
                if name not in declared:
                    problems.append(("property" if self.property else "properties",
                                     f"{name!r}: {_unknown(f'property of {self.loader!r}', name, declared)}"))
            if self.multi and len(names) < 2:
                problems.append(("multi", "list at least two properties for multi-property training"))
        accepted = datasets.arguments(self.loader)
        for key in self.args.model_fields_set - set(accepted):
            problems.append((f"args.{key}", f"loader {self.loader!r} takes no {key!r}; it takes: "
                                            f"{', '.join(accepted) or 'no arguments'}"))
        _refuse(problems)
        return self


class DescriptorTable(_Table):
    """``[descriptor]``: the inputs' featurisation, built once to check its parameters."""

    name: Annotated[str, _one_of("descriptor", descriptors.available)]
    params: dict[str, Any] = {}

    @model_validator(mode="after")
    def _buildable(self) -> DescriptorTable:
        problems: list[tuple[str, str]] = []
        try:
            accepted = descriptors.get_descriptor(self.name).get_params()  # the defaults: cheap to build
            for key, value in self.params.items():
                if key not in accepted:
                    problems.append((f"params.{key}",
                                     _unknown(f"parameter of descriptor {self.name!r}", key, accepted)))
                elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit("width"):
                    problems.append((f"params.{key}", f"at most {limit('width')} in size ({LIMITS['width'][0]} "
                                                      f"raises it), got {value}"))
            if not problems:
                descriptors.get_descriptor(self.name, **self.params)
        except Exception as exc:  # whatever the descriptor refuses with, named (a MemoryError has no message)
            problems.append(("params", f"{type(exc).__name__}: {exc}".rstrip(": ")))
        _refuse(problems)
        return self


class SelectionTable(_Table):
    """``[selection]``: each model's column selection."""

    max_zero_fraction: Annotated[float, Field(ge=0, le=1)] = 0.9
    max_columns: Annotated[int, Field(ge=1), _at_most("width")] | None = None


class SplitTable(_Table):
    """``[split]``: each model's held-out test rows."""

    test_size: Annotated[float, Field(gt=0, lt=1)] = 0.2


class _Family(_Table):
    """``[families.<f>]``: how many models of a family, and the ranges their hyperparameters are drawn from."""

    FAMILY: ClassVar[str]
    count: Annotated[int, Field(ge=0, le=MAX_MODELS_PER_FAMILY)]
    setup: str | None = None
    ranges: dict[str, Any] = {}

    @field_validator("setup")
    @classmethod
    def _known_setup(cls, setup: str | None) -> str | None:
        if setup is not None and setup not in SETUPS[cls.FAMILY]:
            _refuse([("", f"{setup!r}: {_unknown(f'setup of family {cls.FAMILY!r}', setup, SETUPS[cls.FAMILY])}")])
        return setup

    @field_validator("ranges")
    @classmethod
    def _within_bounds(cls, ranges: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if "setup" in info.data:  # else the setup was refused, and its ranges are unknown
            _refuse(list(range_problems(cls.FAMILY, info.data["setup"], ranges).items()))
        return ranges

    def options(self) -> dict[str, Any]:
        """The training options the recipe sets (those not drawn by a sampler)."""
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k not in _Family.model_fields}


class NNFamily(_Family):
    """``[families.nn]``: networks, with their training options (defaults: ``NN_DEFAULTS``)."""

    FAMILY = "nn"
    epochs: Annotated[int, Field(ge=1, le=MAX_EPOCHS)] = NN_DEFAULTS["epochs"]
    lr: Annotated[float, Field(gt=0, le=10)] = NN_DEFAULTS["lr"]
    batch_size: Annotated[int, Field(ge=1, le=_MAX_BATCH)] = NN_DEFAULTS["batch_size"]
    patience: Annotated[int, Field(ge=0, le=MAX_EPOCHS)] = NN_DEFAULTS["patience"]
    weight_decay: Annotated[float, Field(ge=0, le=1)] = NN_DEFAULTS["weight_decay"]
    hidden: Annotated[list[Annotated[int, Field(ge=1), _at_most("width")]], Field(min_length=1),
                      AfterValidator(_at_most_layers)] | None = None
    target_clip: Annotated[float, Field(gt=0, le=MAX_TARGET_CLIP)] | None = None

    @model_validator(mode="after")
    def _fixed_or_drawn(self) -> NNFamily:
        if self.hidden is not None:
            _refuse([(key, "hidden fixes the widths; setup and ranges draw them: give one or the other")
                     for key in ("setup", "ranges") if key in self.model_fields_set])
        return self


class RFFamily(_Family):
    """``[families.rf]``: random forests."""

    FAMILY = "rf"
    min_samples_leaf: Annotated[int, Field(ge=1, le=_MAX_LEAF)] = 2


class GBFamily(_Family):
    """``[families.gb]``: gradient-boosted trees (xgboost)."""

    FAMILY = "gb"


class ENFamily(_Family):
    """``[families.en]``: elastic-net linear models."""

    FAMILY = "en"


class GNNFamily(_Family):
    """``[families.gnn]``: crystal graph networks (descriptor ``crystal_graph``), with their training
    options (defaults: ``GNN_DEFAULTS``; ``lr`` fixes the learning rate the setup would draw)."""

    FAMILY = "gnn"
    epochs: Annotated[int, Field(ge=1, le=MAX_EPOCHS)] = GNN_DEFAULTS["epochs"]
    lr: Annotated[float, Field(gt=0, le=10)] | None = None
    batch_size: Annotated[int, Field(ge=1, le=_MAX_BATCH)] = GNN_DEFAULTS["batch_size"]
    patience: Annotated[int, Field(ge=0, le=MAX_EPOCHS)] = GNN_DEFAULTS["patience"]
    weight_decay: Annotated[float, Field(ge=0, le=1)] = GNN_DEFAULTS["weight_decay"]
    target_clip: Annotated[float, Field(gt=0, le=MAX_TARGET_CLIP)] | None = None


class FamiliesTable(_Table):
    """``[families]``: the model families, each optional."""

    nn: NNFamily | None = None
    rf: RFFamily | None = None
    gb: GBFamily | None = None
    en: ENFamily | None = None
    gnn: GNNFamily | None = None

    def chosen(self) -> dict[str, _Family]:
        """The families the recipe lists, by name."""
        return {name: table for name in type(self).model_fields if (table := getattr(self, name)) is not None}


class RecipeSchema(_Table):
    """A whole recipe; checks that span tables (multi-property networks, model ids) run last."""

    modelset: ModelSetTable
    data: DataTable
    descriptor: DescriptorTable
    selection: SelectionTable = SelectionTable()
    split: SplitTable = SplitTable()
    families: FamiliesTable

    def modelsets(self) -> list[str]:
        """The model set names the recipe yields: one, or one per property (``<name>-<property>``)."""
        names = self.data.names()
        if self.data.multi or len(names) == 1:
            return [self.modelset.name]
        return [f"{self.modelset.name}-{p}".replace("_", "-") for p in names]

    @model_validator(mode="after")
    def _whole(self) -> RecipeSchema:
        families = self.families.chosen()
        problems = []
        if not families:
            problems.append(("families", "at least one model family is needed: families.nn, rf, gb, en or gnn"))
        if self.data.multi and set(families) - {"nn", "gnn"}:
            problems.append(("data.multi", "multi-property training needs networks only (families.nn or gnn)"))
        graphs = descriptors.descriptor_kind(self.descriptor.name) == "graph"
        for family in families:
            if (family == "gnn") != graphs:
                problems.append((f"families.{family}", f"descriptor {self.descriptor.name!r} "
                                 f"{'has no matrix: only families.gnn reads its graphs' if graphs else 'is a matrix'}"
                                 f"{'' if graphs else ': families.gnn needs descriptor crystal_graph'}"))
        for modelset in self.modelsets():
            problems += [("modelset.name", m) for m in _named("model set", modelset)]
            for family, table in families.items():
                if table.count:  # the longest id of the family
                    problems += [("modelset.name", m) for m in _named("model id", model_id(modelset, family,
                                                                                           table.count - 1))]
        _refuse(problems)
        return self


def _keys(loc: list[str]) -> list[str]:
    """The keys a recipe may have at ``loc`` (a path of keys from the top)."""
    model: type[BaseModel] = RecipeSchema
    for key in loc:
        field = model.model_fields.get(key)
        if field is None:
            return []
        kinds = (field.annotation, *typing.get_args(field.annotation))  # X, or the X of X | None
        tables = [t for t in kinds if isinstance(t, type) and issubclass(t, BaseModel)]
        if not tables:
            return []
        model = tables[0]
    return list(model.model_fields)


def _lines(error: ValidationError, path: str) -> list[str]:
    """One line per problem: ``<file>: <field>: <what is wrong>``."""
    lines = []
    for err in error.errors():
        loc = [str(part) for part in err["loc"]]
        found: list[tuple[str, str]]
        if err["type"] == "recipe":
            found = err["ctx"].get("problems") or [("", err["ctx"]["text"])]
        elif err["type"] == "extra_forbidden":
            what = "section" if len(loc) == 1 else "family" if loc[:-1] == ["families"] else "key"
            found = [("", _unknown(what, loc[-1], _keys(loc[:-1])))]
        elif err["type"] == "missing":
            found = [("", "missing")]
        elif err["type"] in ("model_type", "model_attributes_type", "dict_type"):
            found = [("", f"expected a table, got {_SHOW.repr(err['input'])}")]
        else:
            found = [("", f"{err['msg']}, got {_SHOW.repr(err['input'])}")]
        for sub, message in found:
            field = ".".join(p for p in (*loc, sub) if p) or "recipe"
            lines.append(f"{path}: {field}: {message}")
    return lines


def check_recipe(data: Any, path: str) -> tuple[RecipeSchema | None, list[str]]:
    """A parsed recipe validated against the schema.

    Parameters
    ----------
    data : Any
        The parsed TOML.
    path : str
        Where it came from, for the messages.

    Returns
    -------
    schema : RecipeSchema or None
        The validated recipe, or None when it has problems.
    problems : list of str
        One line per problem, naming ``path`` and the field.

    Examples
    --------
    >>> check_recipe({}, "r.toml")[1][:1]
    ['r.toml: modelset: missing']
    """
    try:
        return RecipeSchema.model_validate(data), []
    except ValidationError as exc:
        return None, _lines(exc, path)


def recipe_error(problems: list[str]) -> RecipeError:
    """One error listing every problem (one line each).

    Parameters
    ----------
    problems : list of str

    Returns
    -------
    RecipeError

    Examples
    --------
    >>> print(recipe_error(["a.toml: data.limit: missing", "b.toml: families: missing"]))
    2 problems in recipes:
      a.toml: data.limit: missing
      b.toml: families: missing
    """
    if len(problems) == 1:
        return RecipeError(problems[0])
    return RecipeError("\n  ".join([f"{len(problems)} problems in recipes:", *problems]))
