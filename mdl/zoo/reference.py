"""The reference zoo: the recipes shipped in ``mdl.registry``, built into a hub in tiers, and its tables.

Two tiers: ``base`` (registry/molecules, polymers, crystals: the shotgun families, at most 2,000 rows per
model) and ``heavy`` (registry/heavy: fixed-width networks on every row of a data set, multi-property
generalists per material class and single-property networks); ``all`` is both. The base tier also
imports the foundation source (CHGNet from the chgnet wheel, :mod:`mdl.zoo.foundation_import`) when chgnet is
installed (``mdl[crystals]``), and says why not when it is not. Each loader fetches its own data.

A build is resumable: run it again after an interruption and it continues where it stopped (models
already in the hub are skipped); a model or recipe that fails is recorded and the build goes on.

>>> report = build_reference("base", hub="/data/zoo")             # doctest: +SKIP
>>> print("\\n".join(report.lines()))                              # doctest: +SKIP
>>> print(reference_summary("/data/zoo"))                         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mdl.hub import Hub, open_hub
from mdl.hub.index import search_index
from mdl.validation import check_choice, check_number
from mdl.zoo.builder import BuildReport, build
from mdl.zoo.foundation_import import MODELSET, publish_chgnet
from mdl.zoo.recipes import Recipe, load_recipes, registry_path

#: The recipe folders of each tier (folders of :func:`~mdl.zoo.recipes.registry_path`).
TIERS: dict[str, tuple[str, ...]] = {"base": ("molecules", "polymers", "crystals"), "heavy": ("heavy",)}


def reference_folders(tier: str = "base") -> list[Path]:
    """The recipe folders of ``tier``: ``"base"``, ``"heavy"`` or ``"all"`` (both).

    Parameters
    ----------
    tier : {"base", "heavy", "all"}

    Returns
    -------
    list of Path

    Raises
    ------
    InvalidInputError
        For another tier.

    Examples
    --------
    >>> [p.name for p in reference_folders("all")]
    ['molecules', 'polymers', 'crystals', 'heavy']
    """
    check_choice(tier, "tier", (*TIERS, "all"))
    names = [name for folders in TIERS.values() for name in folders] if tier == "all" else TIERS[tier]
    return [registry_path(name) for name in names]


def heavy_modelsets() -> set[str]:
    """The model set names the heavy tier's recipes yield (read from the recipes, no data loaded).

    Examples
    --------
    >>> {"heavy-qm9-multi", "heavy-chemicals-multi"} <= heavy_modelsets()
    True
    """
    return {r.modelset for r in load_recipes(reference_folders("heavy"))}


def scale_recipes(recipes: list[Recipe], scale: float) -> list[Recipe]:
    """The recipes with every family's count multiplied by ``scale`` (rounded up, at least 1; 0 stays 0).

    Parameters
    ----------
    recipes : list of Recipe
    scale : float
        Above 0 (``0.1``: a tenth of every family, a trial build).

    Returns
    -------
    list of Recipe

    Examples
    --------
    >>> from mdl.zoo.recipes import load_recipes
    >>> [f.count for r in scale_recipes(load_recipes([registry_path("starter")]), 0.1)[:1] for f in r.families]
    [1, 1]
    """
    if scale == 1.0:
        return recipes
    return [dataclasses.replace(r, families=tuple(
        dataclasses.replace(f, count=max(1, math.ceil(f.count * scale)) if f.count else 0) for f in r.families))
        for r in recipes]


def peak_memory_mb() -> float | None:
    """The peak resident memory of this process in MB: from :mod:`resource` where there is one (not on
    Windows), else from psutil if installed (peak working set), else None.

    Examples
    --------
    >>> peak_memory_mb() > 0
    True
    """
    try:
        import resource
    except ImportError:  # Windows
        try:
            import psutil
        except ImportError:
            return None
        peak = getattr(psutil.Process().memory_info(), "peak_wset", None)
        return None if peak is None else peak / 2**20
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


@dataclass
class ReferenceReport(BuildReport):
    """What a reference build did: the :class:`~mdl.zoo.builder.BuildReport` and its time, memory and
    foundation import.

    Attributes
    ----------
    tier : str
    seconds : float
        Wall time of the build (foundation import excluded).
    peak_mb : float or None
        Peak resident memory of this process (:func:`peak_memory_mb`).
    foundation : list of str
        Foundation models imported or already there (base tier, chgnet installed).
    foundation_note : str
        Why no foundation source was imported (chgnet missing), or "".
    foundation_seconds : float
    """

    tier: str = "base"
    seconds: float = 0.0
    peak_mb: float | None = None
    foundation: list[str] = field(default_factory=list)
    foundation_note: str = ""
    foundation_seconds: float = 0.0

    def lines(self) -> list[str]:
        """The build's summary lines: counts, time and peak memory, one line per cause of failure, the
        foundation source.

        Examples
        --------
        >>> ReferenceReport(built=["a-nn-0000"], failed={"b-nn-0000": "ValueError: nan"}, seconds=61.2,
        ...                 peak_mb=812.4, foundation_note="chgnet is not installed").lines()
        ['built 1, already there 0, failed 1 in 61 s; peak RSS 812 MB', '  1 failed with ValueError: nan (b-nn-0000)', 'foundation source not imported: chgnet is not installed']
        """
        memory = "" if self.peak_mb is None else f"; peak RSS {self.peak_mb:.0f} MB"
        lines = [f"built {len(self.built)}, already there {len(self.skipped)}, failed {len(self.failed)} "
                 f"in {self.seconds:.0f} s{memory}"]
        lines += [f"  {line}" for line in self.failure_causes()]
        if self.rows_featurised:
            lines.append(f"featurised {self.rows_featurised} rows in {self.featurise_seconds:.0f} s; "
                         f"{self.rows_shared} more were shared between recipes")
        if self.foundation:
            lines.append(f"{MODELSET}: {', '.join(self.foundation)} in {self.foundation_seconds:.1f} s")
        elif self.foundation_note:
            lines.append(f"foundation source not imported: {self.foundation_note}")
        return lines


def build_reference(tier: str = "base", hub: str | Path | Hub | None = None, workers: int | None = None,
                    engine: str = "local", address: str | None = None, scale: float = 1.0, progress: bool = True,
                    device: str = "cpu", batch_size: int = 16) -> ReferenceReport:
    """Build the reference zoo's ``tier`` into ``hub`` from the packaged recipes, resumably.

    Parameters
    ----------
    tier : {"base", "heavy", "all"}, default "base"
        Which recipes (:data:`TIERS`). The base tier (and ``all``) also imports the foundation source
        when chgnet is installed.
    hub : str, Path, Hub or None
        Where models are published (default hub when None).
    workers : int, optional
        Local processes of one torch thread each; default one per core, or 1 for ``tier="heavy"``,
        whose few wide networks per recipe train faster on all cores' threads in one process.
    engine : {"local", "ray"}, default "local"
    address : str, optional
        The Ray cluster (``engine="ray"``; None starts a local instance).
    scale : float, default 1.0
        Multiplies every family's count (:func:`scale_recipes`; 0.1 makes a trial zoo).
    progress : bool, default True
        A progress bar per recipe.
    device : str, default "cpu"
        Where networks train.
    batch_size : int, default 16
        Models published per commit.

    Returns
    -------
    ReferenceReport
        Built, skipped and failed models, time, peak memory and the foundation import;
        ``report.lines()`` says it in words, :func:`reference_summary` tabulates the hub.

    Raises
    ------
    InvalidInputError
        For an unknown tier or a scale that is not a positive number.

    Examples
    --------
    >>> build_reference("light")
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: tier must be one of 'base', 'heavy', 'all'; got 'light'
    """
    folders = reference_folders(tier)
    check_number(scale, "scale", integer=False, low=0, low_open=True)
    recipes = scale_recipes(load_recipes(folders), scale)
    workers = workers or (1 if tier == "heavy" else os.cpu_count() or 1)
    start = time.perf_counter()
    built = build(recipes, hub=hub, batch_size=batch_size, progress=progress, device=device, engine=engine,
                  address=address, workers=workers)
    report = ReferenceReport(**vars(built), tier=tier, seconds=time.perf_counter() - start, peak_mb=peak_memory_mb())
    if tier in ("base", "all"):
        _import_foundation(hub, report)
    return report


def _import_foundation(hub: str | Path | Hub | None, report: ReferenceReport) -> None:
    """The foundation source into ``hub`` (a no-op when it is there), or the reason why not in the report."""
    start = time.perf_counter()
    try:
        report.foundation = publish_chgnet(hub)
    except ImportError as exc:  # chgnet is an optional extra
        report.foundation_note = str(exc)
    report.foundation_seconds = time.perf_counter() - start


def _published(hub: str | Path | Hub | None) -> pd.DataFrame:
    """The hub's models that were published by a build (not fine-tuned from another model)."""
    index = search_index(open_hub(hub).index())
    return index[index["source_model"].fillna("") == ""]


def modelset_table(index: pd.DataFrame, heavy: set[str]) -> pd.DataFrame:
    """One row per model set of the index: tier, property, material, families, models, median rows
    trained on, median and best test R² (a generalist's is the mean over its properties).

    Parameters
    ----------
    index : pandas.DataFrame
        Rows of a hub's index.
    heavy : set of str
        The heavy tier's model sets (:func:`heavy_modelsets`).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> index = pd.DataFrame({"modelset": ["qm9-gap", "qm9-gap", "heavy-qm9-gap"], "family": ["nn", "rf", "nn"],
    ...     "property": ["gap"] * 3, "material": ["molecule"] * 3, "n_train": [100, 100, 900], "r2": [0.5, 0.7, 0.9]})
    >>> modelset_table(index, {"heavy-qm9-gap"})[["tier", "model set", "families", "rows", "best R2"]].to_dict("records")
    [{'tier': 'heavy', 'model set': 'heavy-qm9-gap', 'families': 'nn:1', 'rows': 900, 'best R2': 0.9}, {'tier': 'base', 'model set': 'qm9-gap', 'families': 'nn:1 rf:1', 'rows': 100, 'best R2': 0.7}]
    """
    rows = []
    for modelset, group in index.groupby("modelset", sort=True):
        counts = group["family"].value_counts()
        rows.append({"tier": "heavy" if modelset in heavy else "base", "model set": modelset,
                     "property": group["property"].iloc[0][:40], "material": group["material"].iloc[0],
                     "families": " ".join(f"{f}:{counts[f]}" for f in ("nn", "gnn", "rf", "gb", "en") if f in counts),
                     "models": len(group), "rows": int(group["n_train"].median()),
                     "median R2": group["r2"].median(), "best R2": group["r2"].max()})
    return pd.DataFrame(rows)


def per_property(index: pd.DataFrame, heavy: set[str]) -> pd.DataFrame:
    """Each (data set, property) the heavy tier covers: the base tier's median and best test R² of its
    single-property models, the heavy tier's best single-property network and best generalist (its own
    test R² on that property, from ``property_metrics``).

    Parameters
    ----------
    index : pandas.DataFrame
        Rows of a hub's index.
    heavy : set of str
        The heavy tier's model sets (:func:`heavy_modelsets`).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> index = pd.DataFrame({"modelset": ["qm9-gap", "qm9-gap", "heavy-qm9-gap", "heavy-qm9-multi"],
    ...     "dataset": ["qm9"] * 4, "property": ["gap", "gap", "gap", "gap; homo"], "r2": [0.5, 0.7, 0.9, 0.85],
    ...     "property_metrics": ["", "", "", json.dumps({"gap": {"r2": 0.8}, "homo": {"r2": 0.9}})]})
    >>> per_property(index, {"heavy-qm9-gap", "heavy-qm9-multi"}).to_dict("records")[0]
    {'data set': 'qm9', 'property': 'gap', 'base median R2': 0.6, 'base best R2': 0.7, 'heavy single R2': 0.9, 'heavy multi R2': 0.8}
    """
    scores: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in index.itertuples(index=False):
        tier = "heavy" if row.modelset in heavy else "base"
        if "; " in row.property:  # a generalist: one test R² per property
            for name, metrics in json.loads(row.property_metrics or "{}").items():
                scores.setdefault((row.dataset, name), {}).setdefault(f"{tier} multi", []).append(metrics.get("r2"))
        else:
            scores.setdefault((row.dataset, row.property), {}).setdefault(f"{tier} single", []).append(row.r2)
    rows = []
    for (dataset, prop), found in sorted(scores.items()):
        if "heavy single" not in found and "heavy multi" not in found:
            continue
        base = pd.Series(found.get("base single", []), dtype="float64")
        best = {kind: pd.Series(found.get(f"heavy {kind}", []), dtype="float64").max() for kind in ("single", "multi")}
        rows.append({"data set": dataset, "property": prop, "base median R2": base.median(),
                     "base best R2": base.max(), "heavy single R2": best["single"], "heavy multi R2": best["multi"]})
    return pd.DataFrame(rows)


def reference_summary(hub: str | Path | Hub | None = None) -> str:
    """The table of the hub's model sets (:func:`modelset_table`) with a line of totals, and, where the hub
    holds heavy-tier models, each property's base-tier R² beside the heavy tier's best networks
    (:func:`per_property`).

    Parameters
    ----------
    hub : str, Path, Hub or None
        The hub (default hub when None).

    Returns
    -------
    str

    Examples
    --------
    >>> print(reference_summary(getfixture("tmp_path") / "empty"))
    0 models in 0 model sets, 0 material classes
    """
    index, heavy = _published(hub), heavy_modelsets()
    table = modelset_table(index, heavy)
    if table.empty:
        return "0 models in 0 model sets, 0 material classes"
    with pd.option_context("display.width", 160, "display.max_rows", None, "display.max_colwidth", 60):
        parts = [table.to_string(index=False, float_format=_float),
                 f"{int(table['models'].sum())} models in {len(table)} model sets, "
                 f"{table['material'].nunique()} material classes"]
        if table["tier"].eq("heavy").any():
            parts += ["", "per property: base tier (median, best test R2) beside the heavy tier's best networks",
                      per_property(index, heavy).to_string(index=False, float_format=_float)]
    return "\n".join(parts)


def _float(value: Any) -> str:
    return f"{value:.3f}"


__all__ = ["TIERS", "ReferenceReport", "build_reference", "heavy_modelsets", "modelset_table", "peak_memory_mb",
           "per_property", "reference_folders", "reference_summary", "scale_recipes"]
