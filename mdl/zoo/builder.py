"""Building a recipe's models and publishing them in batches, resumably.

>>> report = build(load_recipes([registry_path("starter")]), hub="/tmp/zoo")   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from mdl import datasets
from mdl.descriptors import DescriptorSpec, get_descriptor
from mdl.errors import MDLError
from mdl.hub import Hub, open_hub
from mdl.models.graph_batch import GraphSet
from mdl.zoo.samplers import sample
from mdl.models.source import SourceModel
from mdl.models.packed_schedule import step_macs
from mdl.zoo.network_sources import train_network_sources
from mdl.models.train import train_source
from mdl.zoo.recipes import Recipe
from mdl.zoo.recipe_schema import model_id as make_model_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelPlan:
    """One model a recipe asks for: its id, family, seed and hyperparameters (drawn or fixed).

    Attributes
    ----------
    model_id : str
    family : str
        "nn", "rf", "gb" or "en".
    seed : int
        Derived from the recipe, so that a rebuild gives the same model.
    hyperparameters : dict
    """

    model_id: str
    family: str
    seed: int
    hyperparameters: dict[str, Any]


@dataclass
class BuildReport:
    """What a build did.

    Attributes
    ----------
    built : list of str
        Models published.
    skipped : list of str
        Models already in the hub.
    failed : dict of str to str
        Model id -> cause; a recipe that failed before training is keyed ``"<modelset>/*"``.
    """

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def failure_causes(self, examples: int = 3) -> list[str]:
        """One line per cause of failure, most frequent first: how many failed, and a few of their ids.

        Parameters
        ----------
        examples : int, default 3
            Ids shown per cause.

        Returns
        -------
        list of str

        Examples
        --------
        >>> BuildReport(failed={"a-nn-0000": "ValueError: nan", "a-nn-0001": "ValueError: nan"}).failure_causes()
        ['2 failed with ValueError: nan (a-nn-0000, a-nn-0001)']
        """
        by_cause: dict[str, list[str]] = {}
        for model_id, cause in self.failed.items():
            by_cause.setdefault(cause, []).append(model_id)
        lines = []
        for cause, ids in sorted(by_cause.items(), key=lambda item: -len(item[1])):
            more = f", ... {len(ids) - examples} more" if len(ids) > examples else ""
            lines.append(f"{len(ids)} failed with {cause} ({', '.join(ids[:examples])}{more})")
        return lines


def _seed(*parts: Any) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little")


def plan(recipe: Recipe, n_features: int) -> list[ModelPlan]:
    """Every model of a recipe with its id, seed and drawn hyperparameters (deterministic).

    A recipe's training options (``epochs``, fixed ``hidden`` widths, ``target_clip``...) are added to,
    or replace, what is drawn.

    Parameters
    ----------
    recipe : Recipe
    n_features : int
        About how many columns a model keeps (bounds the drawn widths).

    Returns
    -------
    list of ModelPlan

    Examples
    --------
    >>> [p.model_id for p in plan(load_recipes([registry_path("starter")])[0], 1024)][:2]   # doctest: +SKIP
    """
    plans = []
    for fam in recipe.families:
        for i in range(fam.count):
            seed = _seed(recipe.modelset, recipe.seed, fam.family, i)
            fixed = "hidden" in fam.options  # fixed widths: the networks differ by seed only
            hp = {} if fixed else sample(fam.family, fam.setup, np.random.default_rng(seed), n_features, fam.ranges)
            plans.append(ModelPlan(make_model_id(recipe.modelset, fam.family, i), fam.family, seed,
                                   {**hp, **fam.options}))
    return plans


#: Networks are trained in chunks of about this many plans (stacked within a chunk); every engine
#: uses the same chunks (:func:`network_chunks`), so a model does not depend on the engine.
NETWORK_CHUNK = 16

OnDone = Callable[[ModelPlan, "SourceModel | Exception"], None]


def prepare(recipe: Recipe) -> tuple[np.ndarray | GraphSet, np.ndarray, DescriptorSpec, dict[str, Any]]:
    """A recipe's descriptor matrix (or packed crystal graphs), targets, descriptor spec and the card shared by its models.

    Parameters
    ----------
    recipe : Recipe

    Returns
    -------
    D : ndarray of shape (n_samples, width), or GraphSet for a graph descriptor
    y : ndarray
        One column per property of a multi-property recipe.
    spec : DescriptorSpec
    info : dict
        The card fields every model of the recipe shares (material, unit, dataset and its hash...).

    Raises
    ------
    MDLError
        When the data cannot be loaded or featurised.
    """
    dataset = datasets.load(recipe.loader, **recipe.loader_args)
    inputs, y = dataset.xy(recipe.target, limit=recipe.limit, seed=recipe.seed)
    props = [dataset.properties[dataset.property_name(p)] for p in recipe.properties]
    descriptor = get_descriptor(recipe.descriptor, **recipe.descriptor_params)
    # graph descriptors: the data set's graphs, built and packed once, shared by every network
    D = GraphSet.pack(descriptor.inputs(inputs)) if descriptor.kind == "graph" else descriptor.transform(inputs)
    data_hash = hashlib.sha256(("\n".join(map(str, inputs)) + repr(y.tolist())).encode()).hexdigest()
    info = {"material": dataset.material, "unit": "; ".join(p.unit for p in props),
            "aliases": sorted({a for p in props for a in p.aliases}), "dataset": dataset.name,
            "dataset_version": dataset.version, "dataset_hash": data_hash, "data_source": dataset.source,
            "recipe": recipe.path, "scaled_target": any(getattr(p, "scaled", False) for p in props)}
    if recipe.multi:
        info["properties"] = [p.name for p in props]
        info["property_aliases"] = {p.name: sorted(p.aliases) for p in props}
    else:
        info["property"] = props[0].name
    return D, y, descriptor.spec, info


def network_chunks(plans: list[ModelPlan], n_inputs: int) -> list[list[ModelPlan]]:
    """The networks of ``plans`` in ``ceil(n / NETWORK_CHUNK)`` chunks, widest first.

    Ordered by hidden widths, so that a chunk stacks similar networks (little padding), and cut where
    the estimated work per step is even, so that parallel workers finish together.

    Parameters
    ----------
    plans : list of ModelPlan
        Plans of any family (only networks are chunked).
    n_inputs : int
        Input columns of each network.

    Returns
    -------
    list of list of ModelPlan
    """
    networks = sorted((p for p in plans if p.family == "nn"),
                      key=lambda p: (tuple(-int(h) for h in p.hyperparameters["hidden"]), p.model_id))
    if not networks:
        return []
    work = np.cumsum([step_macs([n_inputs, *p.hyperparameters["hidden"], 1]) for p in networks])
    n_chunks = -(-len(networks) // NETWORK_CHUNK)
    cuts = np.searchsorted(work, work[-1] * np.arange(1, n_chunks) / n_chunks, side="right")
    bounds = sorted({0, len(networks), *cuts.tolist()})
    return [networks[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _n_inputs(D: np.ndarray | GraphSet, split: dict[str, Any]) -> int:
    """About how many columns a model of this data keeps (for sampling plans and :func:`network_chunks`);
    0 for graphs."""
    if isinstance(D, GraphSet):
        return 0
    return min(D.shape[1], split.get("max_columns") or D.shape[1])


def train_plans(D: np.ndarray, y: np.ndarray, spec: DescriptorSpec, plans: list[ModelPlan], split: dict[str, Any],
                device: str, on_done: OnDone) -> None:
    """Train ``plans`` on this machine: networks stacked chunk by chunk, other families one by one.

    Parameters
    ----------
    D, y, spec
        The recipe's data (:func:`prepare`).
    plans : list of ModelPlan
    split : dict
        Train/test split and column selection (``test_size``, ``max_zero_fraction``, ``max_columns``, ``info``).
    device : str
        Where networks train.
    on_done : callable
        Called with each plan and its SourceModel, or the exception it failed with (failures are isolated).
    """
    for chunk in network_chunks(plans, _n_inputs(D, split)):
        train_network_sources(D, y, spec, chunk, device=device, on_done=lambda i, r, c=chunk: on_done(c[i], r),
                              **split)
    for p in plans:
        if p.family == "nn":
            continue
        try:
            result = train_source(D, y, spec, family=p.family, hyperparameters=p.hyperparameters,
                                  model_id=p.model_id, seed=p.seed, **split)
        except Exception as exc:  # isolate failures: the caller records them
            result = exc
        on_done(p, result)


def _train_remote(D: np.ndarray, y: np.ndarray, spec: dict, plans: list[ModelPlan], split: dict[str, Any],
                  device: str) -> list[tuple[str, dict[str, bytes] | str]]:
    """A task of the parallel engines (Ray, local processes): train plans and return each model as its
    files' bytes (or its error message)."""
    out: list[tuple[str, dict[str, bytes] | str]] = []

    def keep(plan: ModelPlan, result: SourceModel | Exception) -> None:
        if isinstance(result, Exception):
            out.append((plan.model_id, f"{type(result).__name__}: {result}"))
            return
        with tempfile.TemporaryDirectory() as tmp:
            names = result.save(tmp)
            out.append((plan.model_id, {name: (Path(tmp) / name).read_bytes() for name in names}))

    train_plans(D, y, DescriptorSpec.from_dict(spec), plans, split, device, keep)
    return out


def _tasks(plans: list[ModelPlan], n_inputs: int) -> list[list[ModelPlan]]:
    """The units of work of the parallel engines: network chunks (as the local engine stacks them),
    then every other model alone."""
    return network_chunks(plans, n_inputs) + [[p] for p in plans if p.family != "nn"]


def _receive(results: list[tuple[str, dict[str, bytes] | str]], by_id: dict[str, ModelPlan], on_done: OnDone) -> None:
    """Models of a finished task, from their files' bytes (loaded and hash-checked, never unpickled)."""
    for model_id, payload in results:
        if isinstance(payload, str):
            on_done(by_id[model_id], RuntimeError(payload))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            hashes = {}
            for name, data in payload.items():
                (Path(tmp) / name).write_bytes(data)
                hashes[name] = hashlib.sha256(data).hexdigest()
            on_done(by_id[model_id], SourceModel.load(tmp, hashes))


def _run_ray(D: np.ndarray, y: np.ndarray, spec: DescriptorSpec, plans: list[ModelPlan], split: dict[str, Any],
             device: str, on_done: OnDone, address: str | None) -> None:
    """Train on Ray: one task per network chunk and per other model; models come back as bytes
    (verified by sha256 on arrival), never as pickled objects."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError("engine='ray' needs Ray: pip install 'mdl[ray]'") from exc
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    task = ray.remote(_train_remote)
    D_ref, y_ref = ray.put(D), ray.put(y)
    by_id = {p.model_id: p for p in plans}
    pending = [task.remote(D_ref, y_ref, spec.to_dict(), chunk, split, device)
               for chunk in _tasks(plans, _n_inputs(D, split))]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        _receive(ray.get(done[0]), by_id, on_done)


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def worker_pool(workers: int) -> Executor:
    """Local processes of one torch thread each, for :func:`build`.

    Spawned: no fork of a process that has started torch threads. Small networks use two processes far
    better than two threads of one.

    Parameters
    ----------
    workers : int
        Number of processes.

    Returns
    -------
    Executor
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread)


def run_processes(D: np.ndarray, y: np.ndarray, spec: DescriptorSpec, plans: list[ModelPlan],
                  split: dict[str, Any], device: str, on_done: OnDone, pool: Executor) -> None:
    """Train on a pool of local processes: the same tasks as Ray, models back as files' bytes.

    Parameters
    ----------
    D : ndarray of shape (n_samples, width)
        The descriptor matrix of every plan.
    y : ndarray
        Targets (one column per property of a multi-property plan).
    spec : DescriptorSpec
        The descriptor of ``D``.
    plans : list of ModelPlan
        The models to train.
    split : dict
        Train/test split and column selection (``test_size``, ``max_zero_fraction``, ``max_columns``, ``info``).
    device : str
        Where networks train in each process.
    on_done : callable
        Called with each plan and its SourceModel, or the exception it failed with.
    pool : Executor
        Worker processes (:func:`worker_pool`).
    """
    from concurrent.futures import as_completed

    by_id = {p.model_id: p for p in plans}
    futures = [pool.submit(_train_remote, D, y, spec.to_dict(), chunk, split, device)
               for chunk in _tasks(plans, _n_inputs(D, split))]
    for future in as_completed(futures):
        _receive(future.result(), by_id, on_done)


def build(recipes: list[Recipe], hub: str | Path | Hub | None = None, batch_size: int = 16, progress: bool = True,
          device: str = "cpu", engine: str = "local", address: str | None = None, workers: int = 1) -> BuildReport:
    """Train every recipe's models not yet in the hub and publish them in batches.

    ``engine="local"`` trains on this machine (networks stacked on ``device``), in this process or,
    with ``workers`` > 1, in that many processes of one torch thread each; ``engine="ray"``
    runs the same tasks on Ray (a local instance, or the cluster at ``address``) and yields the
    same models. Re-running continues where an interrupted build stopped; a model that fails is
    recorded in the report with its error and the build goes on, and so is a recipe whose data cannot
    be prepared (under ``"<modelset>/*"``).

    Parameters
    ----------
    recipes : list of Recipe
        As :func:`load_recipes` reads them.
    hub : str, Path, Hub or None
        Where models are published (default hub when None).
    batch_size : int, default 16
        Models published per commit.
    progress : bool, default True
        Show a progress bar per recipe.
    device : str, default "cpu"
        Where networks train.
    engine : {"local", "ray"}
    address : str, optional
        The Ray cluster (``engine="ray"``; None starts a local instance).
    workers : int, default 1
        Local processes (``engine="local"``).

    Returns
    -------
    BuildReport

    Raises
    ------
    ValueError
        For an unknown engine or a bad number of workers.

    Examples
    --------
    >>> report = build(load_recipes([registry_path("starter")]), hub="./zoo")   # doctest: +SKIP
    >>> report.failure_causes()                                        # doctest: +SKIP
    """
    if engine not in ("local", "ray"):
        raise ValueError(f"unknown engine {engine!r}: use 'local' or 'ray'")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    with worker_pool(workers) if engine == "local" and workers > 1 else nullcontext() as pool:
        return _build(recipes, open_hub(hub), batch_size, progress, device, engine, address, pool)


def _build(recipes: list[Recipe], store: Hub, batch_size: int, progress: bool, device: str, engine: str,
           address: str | None, pool: Executor | None) -> BuildReport:
    report = BuildReport()
    for recipe in recipes:
        try:
            D, y, spec, info = prepare(recipe)
        except MDLError as exc:  # its data cannot be prepared (e.g. a descriptor refuses rows): record, go on
            log.info("recipe %s failed before training: %s", recipe.modelset, exc)
            report.failed[f"{recipe.modelset}/*"] = f"recipe failed before training: {type(exc).__name__}: {exc}"
            continue
        split = dict(test_size=recipe.test_size, max_zero_fraction=recipe.max_zero_fraction,
                     max_columns=recipe.max_columns, info=info)
        plans = plan(recipe, _n_inputs(D, split))
        published = set(store.index()["model_id"])
        todo = [p for p in plans if p.model_id not in published]
        report.skipped += [p.model_id for p in plans if p.model_id in published]
        meta = {"recipe": recipe.path, "dataset": info["dataset"], "source": info["data_source"], **recipe.meta}
        batch: list[SourceModel] = []
        bar = tqdm(total=len(todo), desc=recipe.modelset, unit="model", disable=not progress)

        def collect(p: ModelPlan, result: SourceModel | Exception) -> None:
            nonlocal batch
            if isinstance(result, Exception):  # isolate failures: record and go on
                log.info("model %s failed: %s", p.model_id, result)  # the report groups them by cause
                report.failed[p.model_id] = f"{type(result).__name__}: {result}"
            else:
                batch.append(result)
            bar.update()
            if len(batch) >= batch_size:
                report.built += store.publish(batch, recipe.modelset, meta=meta, progress=False)
                batch = []

        if engine == "ray":
            _run_ray(D, y, spec, todo, split, device, collect, address)
        elif pool is not None and len(todo) > 1:
            run_processes(D, y, spec, todo, split, device, collect, pool)
        else:
            train_plans(D, y, spec, todo, split, device, collect)
        bar.close()
        if batch:
            report.built += store.publish(batch, recipe.modelset, meta=meta, progress=False)
    return report
