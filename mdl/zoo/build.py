"""Building a recipe's models and publishing them in batches, resumably.

>>> report = build(load_recipes(["registry/starter"]), hub="/tmp/zoo")   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from mdl import datasets
from mdl.descriptors import get_descriptor
from mdl.hub import open_hub
from mdl.models.samplers import sample
from mdl.models.source import SourceModel
from mdl.models.stacked import train_network_sources
from mdl.models.train import train_source
from mdl.zoo.recipes import Recipe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelPlan:
    model_id: str
    family: str
    seed: int
    hyperparameters: dict[str, Any]


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _seed(*parts: Any) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little")


def plan(recipe: Recipe, n_features: int) -> list[ModelPlan]:
    """Every model of a recipe with its id, seed and drawn hyperparameters (deterministic)."""
    plans = []
    for fam in recipe.families:
        for i in range(fam.count):
            seed = _seed(recipe.modelset, recipe.seed, fam.family, i)
            hp = sample(fam.family, fam.setup, np.random.default_rng(seed), n_features, fam.ranges)
            plans.append(ModelPlan(f"{recipe.modelset}-{fam.family}-{i:04d}", fam.family, seed,
                                   {**hp, **fam.options}))
    return plans


def build(recipes: list[Recipe], hub: Any = None, batch_size: int = 16, progress: bool = True,
          device: str = "cpu") -> BuildReport:
    """Train every recipe's models not yet in the hub and publish them in batches.

    A recipe's networks are trained together by :func:`mdl.models.stacked.train_network_sources`
    (on ``device``; each gives the model it would give alone); the other families one by one.
    Re-running continues where an interrupted build stopped; a model that fails is logged in the
    report and the build goes on.
    """
    store = open_hub(hub)
    report = BuildReport()
    for recipe in recipes:
        dataset = datasets.load(recipe.loader, **recipe.loader_args)
        inputs, y = dataset.xy(recipe.property, limit=recipe.limit, seed=recipe.seed)
        prop = dataset.properties[recipe.property]
        descriptor = get_descriptor(recipe.descriptor, **recipe.descriptor_params)
        D = descriptor.transform(inputs)
        spec = descriptor.spec
        max_columns = recipe.max_columns or spec.width
        plans = plan(recipe, min(max_columns, spec.width))
        published = set(store.index()["model_id"])
        todo = [p for p in plans if p.model_id not in published]
        report.skipped += [p.model_id for p in plans if p.model_id in published]
        data_hash = hashlib.sha256(("\n".join(map(str, inputs)) + repr(y.tolist())).encode()).hexdigest()
        info = {"material": dataset.material, "property": prop.name, "unit": prop.unit,
                "aliases": list(prop.aliases), "dataset": dataset.name, "dataset_version": dataset.version,
                "dataset_hash": data_hash, "data_source": dataset.source, "recipe": recipe.path,
                "scaled_target": bool(getattr(prop, "scaled", False))}
        batch: list[SourceModel] = []
        bar = tqdm(total=len(todo), desc=recipe.modelset, unit="model", disable=not progress)

        def collect(p: ModelPlan, result: SourceModel | Exception) -> None:
            nonlocal batch
            if isinstance(result, Exception):  # isolate failures: record and go on
                log.warning("model %s failed: %s", p.model_id, result)
                report.failed[p.model_id] = f"{type(result).__name__}: {result}"
            else:
                batch.append(result)
            bar.update()
            if len(batch) >= batch_size:
                report.built += store.publish(batch, recipe.modelset, meta=_meta(recipe, dataset), progress=False)
                batch = []

        split = dict(test_size=recipe.test_size, max_zero_fraction=recipe.max_zero_fraction,
                     max_columns=recipe.max_columns, info=info)
        # networks: all trained together (stacked), each published as soon as it is finished
        networks = [p for p in todo if p.family == "nn"]
        if networks:
            train_network_sources(D, y, spec, networks, device=device,
                                  on_done=lambda i, result: collect(networks[i], result), **split)
        for p in todo:
            if p.family == "nn":
                continue
            try:
                result = train_source(D, y, spec, family=p.family, hyperparameters=p.hyperparameters,
                                      model_id=p.model_id, seed=p.seed, **split)
            except Exception as exc:
                result = exc
            collect(p, result)
        bar.close()
        if batch:
            report.built += store.publish(batch, recipe.modelset, meta=_meta(recipe, dataset), progress=False)
    return report


def _meta(recipe: Recipe, dataset: Any) -> dict[str, Any]:
    return {"recipe": recipe.path, "dataset": dataset.name, "source": dataset.source, **recipe.meta}
