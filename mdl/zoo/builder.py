"""Building a recipe's models and publishing them in batches, resumably.

>>> report = build(load_recipes([registry_path("starter")]), hub="/tmp/zoo")   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
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
    featurise_seconds : float
        Time spent in descriptors (:class:`FeatureCache`).
    rows_featurised, rows_shared : int
        Rows the descriptors computed; rows a recipe took from an earlier recipe's (not computed again).
    """

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    featurise_seconds: float = 0.0
    rows_featurised: int = 0
    rows_shared: int = 0

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


def _compact(block: np.ndarray) -> np.ndarray:
    """``block`` in the narrowest dtype that gives back its float64 values bit for bit: uint8 for small
    counts (Morgan fingerprints: an eighth of the memory), float32 where every value is one, else as is."""
    if block.size and np.isfinite(block).all() and block.min() >= 0 and block.max() <= 255 \
            and not np.signbit(block).any():
        small = block.astype(np.uint8)
        if np.array_equal(small, block):
            return small
    single = block.astype(np.float32)
    return single if np.array_equal(single, block, equal_nan=True) else block


@dataclass
class _Rows:
    """The rows of one data set computed so far by one descriptor (a part of a joined one)."""

    slot: np.ndarray  # data set row -> row of ``store``; -1 while not computed
    store: np.ndarray | list | None  # compact matrix (:func:`_compact`), or the graph records
    needs: set[tuple[str, str]] = field(default_factory=set)  # (data key, spec fingerprint) of the recipes using it


@dataclass
class _Data:
    """A data set held by the cache: its content hash and the row of each of its inputs (by identity)."""

    dataset: Any  # held, so that the ids of its inputs stay theirs
    fingerprint: str
    row_of: dict[int, int]
    text_of: dict[int, str] = field(default_factory=dict)  # row -> str(input), for inputs that are not strings
    keys: set[str] = field(default_factory=set)  # the data keys (loader and arguments) it was read under


def _data_key(recipe: Recipe) -> str:
    """The data set a recipe loads: its loader and the loader's arguments."""
    return json.dumps([recipe.loader, recipe.loader_args], sort_keys=True, default=str)


def _parts(descriptor: Any) -> tuple[Any, ...]:
    """The descriptors whose matrices, side by side, make ``descriptor``'s (itself unless it is joined)."""
    parts = getattr(descriptor, "parts", None)
    return tuple(parts()) if callable(parts) else (descriptor,)


class FeatureCache:
    """Descriptor rows of a build, computed once per (data set, descriptor spec) and shared by its recipes.

    Recipes often read the same data set with the same descriptor: the per-property recipes of one file
    (twelve QM9 properties, the same 2,000 molecules), the structure and graph recipes of a crystal data
    set beside its composition recipe (``structure_composition`` is the ``structure`` and ``composition``
    matrices side by side: each part is cached on its own). The cache keeps, per data set (by content:
    :meth:`Dataset.fingerprint`) and descriptor spec (:meth:`DescriptorSpec.fingerprint`), the rows computed
    so far, and computes only the rows a recipe asks for that no earlier recipe did: recipes of one data
    set that keep different rows (sparse labels, another ``limit``) share the rows they have in common.
    Descriptors are row by row (a row's features depend on its input alone), so a matrix assembled from
    the cache equals the one computed for the recipe alone.

    Rows are held in the narrowest dtype that gives back their float64 values exactly (uint8 for Morgan
    counts), and an entry is dropped as soon as no later recipe of the build reads its data set with its
    descriptor (:meth:`release`), so the cache holds about one data set's matrix at a time.

    Parameters
    ----------
    recipes : iterable of Recipe, optional
        The recipes of the build: an entry lives until the last of them that needs it is released.
        Without them, entries live as long as the cache.

    Attributes
    ----------
    seconds : float
        Time spent in descriptors.
    rows_computed, rows_served : int
        Rows computed by descriptors; rows handed to recipes (the difference was shared). A joined
        descriptor counts each part's rows.

    Examples
    --------
    >>> from mdl.descriptors import get_descriptor
    >>> cache = FeatureCache()
    >>> data = datasets.load("qm9")                                    # doctest: +NEEDS_SHARED_DATA
    >>> smiles, _ = data.xy("homo", limit=50)                          # doctest: +NEEDS_SHARED_DATA
    >>> D = cache.features(data, smiles, get_descriptor("morgan", n_bits=64))  # doctest: +NEEDS_SHARED_DATA
    >>> E = cache.features(data, smiles, get_descriptor("morgan", n_bits=64))  # doctest: +NEEDS_SHARED_DATA
    >>> bool((D == E).all()), cache.rows_computed, cache.rows_served    # doctest: +NEEDS_SHARED_DATA
    (True, 50, 100)
    """

    def __init__(self, recipes: Iterable[Recipe] = ()) -> None:
        self._left: Counter[tuple[str, str]] = Counter()
        self._needs: dict[str, list[tuple[str, str]]] = {}
        for recipe in recipes:
            needs = self._recipe_needs(recipe)
            self._needs[recipe.modelset] = needs
            self._left.update(needs)
        self._entries: dict[tuple[str, str], _Rows] = {}
        self._data: dict[int, _Data] = {}
        self.seconds = 0.0
        self.rows_computed = 0
        self.rows_served = 0

    @staticmethod
    def _recipe_needs(recipe: Recipe) -> list[tuple[str, str]]:
        try:
            descriptor = get_descriptor(recipe.descriptor, **recipe.descriptor_params)
            return [(_data_key(recipe), part.spec.fingerprint()) for part in _parts(descriptor)]
        except MDLError:  # the recipe fails when prepared, and says why then
            return []

    def features(self, dataset: Any, inputs: list, descriptor: Any, data_key: str = "") -> np.ndarray | GraphSet:
        """``descriptor``'s matrix of ``inputs`` (rows of ``dataset``), or their packed graphs.

        Parameters
        ----------
        dataset : Dataset
            The data set ``inputs`` were taken from (:meth:`Dataset.xy`: the same objects).
        inputs : list
            The rows to featurise.
        descriptor : Descriptor
        data_key : str, default ""
            What loaded the data set (the recipe's loader and arguments), to know when no later recipe
            needs the entry (:meth:`release`).

        Returns
        -------
        ndarray of shape (len(inputs), width), float64, or GraphSet for a graph descriptor
            Equal to ``descriptor.transform(inputs)`` (``GraphSet.pack(descriptor.inputs(inputs))``).

        Raises
        ------
        MDLError
            When the descriptor refuses some input: the error of ``descriptor.transform(inputs)``, naming
            rows of ``inputs``.
        """
        rows = self._rows(dataset, inputs, data_key)
        if rows is None:  # not rows of the data set (by identity): nothing to share
            return self._direct(descriptor, inputs)
        try:
            blocks = [self._part(dataset, rows, part, data_key) for part in _parts(descriptor)]
        except MDLError:  # the descriptor refuses some row: raise its error as the recipe alone would
            return self._direct(descriptor, inputs)
        if descriptor.kind == "graph" or len(blocks) == 1:
            return blocks[0]
        return np.hstack(blocks)

    def texts(self, dataset: Any, inputs: list, data_key: str = "") -> list[str]:
        """``[str(x) for x in inputs]``, each input's text made once per build (a structure's takes time).

        Parameters
        ----------
        dataset : Dataset
            The data set ``inputs`` were taken from.
        inputs : list
        data_key : str, default ""
            As for :meth:`features`.

        Returns
        -------
        list of str
        """
        rows = self._rows(dataset, inputs, data_key)
        if rows is None:
            return [str(x) for x in inputs]
        text_of = self._data[id(dataset)].text_of
        out = []
        for row, x in zip(rows.tolist(), inputs):
            if isinstance(x, str):
                out.append(x)
            else:
                if row not in text_of:
                    text_of[row] = str(x)
                out.append(text_of[row])
        return out

    def release(self, recipe: Recipe) -> None:
        """Say that ``recipe`` has its matrix: drop every entry no later recipe of the build needs.

        Parameters
        ----------
        recipe : Recipe
            One of the recipes the cache was made with (another is ignored).
        """
        if recipe.modelset not in self._needs:
            return
        self._left.subtract(self._needs.pop(recipe.modelset))
        for key in [k for k, entry in self._entries.items() if not any(self._left[n] > 0 for n in entry.needs)]:
            del self._entries[key]
        held = {key[0] for key in self._entries}
        live = {data_key for (data_key, _), n in self._left.items() if n > 0}
        for ident in [i for i, data in self._data.items() if data.fingerprint not in held and not data.keys & live]:
            del self._data[ident]

    def _direct(self, descriptor: Any, inputs: list) -> np.ndarray | GraphSet:
        start = time.perf_counter()
        try:
            return GraphSet.pack(descriptor.inputs(inputs)) if descriptor.kind == "graph" \
                else descriptor.transform(inputs)
        finally:
            self.seconds += time.perf_counter() - start
            self.rows_computed += len(inputs)
            self.rows_served += len(inputs)

    def _rows(self, dataset: Any, inputs: list, data_key: str) -> np.ndarray | None:
        """The data set row of each input, or None when one is not an object of ``dataset.inputs``."""
        data = self._data.get(id(dataset))
        if data is None:
            data = self._data[id(dataset)] = _Data(dataset, dataset.fingerprint(),
                                                   {id(x): i for i, x in enumerate(dataset.inputs)})
        data.keys.add(data_key)
        rows = [data.row_of.get(id(x)) for x in inputs]
        if any(r is None for r in rows):
            return None
        return np.asarray(rows, dtype=np.int64)

    def _part(self, dataset: Any, rows: np.ndarray, part: Any, data_key: str) -> np.ndarray | GraphSet:
        spec = part.spec.fingerprint()
        key = (self._data[id(dataset)].fingerprint, spec)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Rows(np.full(len(dataset.inputs), -1, dtype=np.int64), None)
        entry.needs.add((data_key, spec))
        missing = np.unique(rows[entry.slot[rows] < 0])
        if len(missing):
            items = [dataset.inputs[i] for i in missing]
            start = time.perf_counter()
            try:
                block = part.inputs(items) if part.kind == "graph" else _compact(part.transform(items))
            finally:
                self.seconds += time.perf_counter() - start
            self.rows_computed += len(missing)
            have = 0 if entry.store is None else len(entry.store)
            if part.kind == "graph":
                entry.store = [*(entry.store or []), *block]
            elif entry.store is None:
                entry.store = block
            else:
                dtype = np.result_type(entry.store.dtype, block.dtype)
                entry.store = np.concatenate([entry.store.astype(dtype, copy=False), block.astype(dtype, copy=False)])
            entry.slot[missing] = np.arange(have, have + len(missing))
        self.rows_served += len(rows)
        where = entry.slot[rows]
        if part.kind == "graph":
            return GraphSet.pack([entry.store[i] for i in where])
        return entry.store[where].astype(np.float64, copy=False)


def _data_hash(texts: list[str], y: np.ndarray) -> str:
    """The card's ``dataset_hash``: of the inputs' texts and the targets."""
    return hashlib.sha256(("\n".join(texts) + repr(y.tolist())).encode()).hexdigest()


def prepare(recipe: Recipe, cache: FeatureCache | None = None
            ) -> tuple[np.ndarray | GraphSet, np.ndarray, DescriptorSpec, dict[str, Any]]:
    """A recipe's descriptor matrix (or packed crystal graphs), targets, descriptor spec and the card shared by its models.

    Parameters
    ----------
    recipe : Recipe
    cache : FeatureCache, optional
        Rows already featurised by earlier recipes of the build (the matrix is the same with or
        without it); None featurises the recipe's rows here.

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

    Examples
    --------
    >>> D, y, spec, info = prepare(load_recipes([registry_path("starter")])[2])   # doctest: +SKIP
    """
    dataset = datasets.load(recipe.loader, **recipe.loader_args)
    inputs, y = dataset.xy(recipe.target, limit=recipe.limit, seed=recipe.seed)
    props = [dataset.properties[dataset.property_name(p)] for p in recipe.properties]
    descriptor = get_descriptor(recipe.descriptor, **recipe.descriptor_params)
    # graph descriptors: the data set's graphs, built and packed once, shared by every network
    if cache is not None:
        D = cache.features(dataset, inputs, descriptor, _data_key(recipe))
        texts = cache.texts(dataset, inputs, _data_key(recipe))
    else:
        D = GraphSet.pack(descriptor.inputs(inputs)) if descriptor.kind == "graph" else descriptor.transform(inputs)
        texts = [str(x) for x in inputs]
    info = {"material": dataset.material, "unit": "; ".join(p.unit for p in props),
            "aliases": sorted({a for p in props for a in p.aliases}), "dataset": dataset.name,
            "dataset_version": dataset.version, "dataset_hash": _data_hash(texts, y), "data_source": dataset.source,
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
        out.append((plan.model_id, result.to_bytes()))

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
        on_done(by_id[model_id], SourceModel.from_bytes(payload))


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
    cache = FeatureCache(recipes)
    for recipe in recipes:
        try:
            descriptor = get_descriptor(recipe.descriptor, **recipe.descriptor_params)
            n_inputs = 0 if descriptor.kind == "graph" else min(
                descriptor.spec.width, recipe.max_columns or descriptor.spec.width)  # = _n_inputs(D, split)
            plans = plan(recipe, n_inputs)
            published = set(store.index()["model_id"])
            todo = [p for p in plans if p.model_id not in published]
            if todo:  # a recipe whose models are all in the hub is not featurised again
                D, y, spec, info = prepare(recipe, cache)
        except MDLError as exc:  # its data cannot be prepared (e.g. a descriptor refuses rows): record, go on
            log.info("recipe %s failed before training: %s", recipe.modelset, exc)
            report.failed[f"{recipe.modelset}/*"] = f"recipe failed before training: {type(exc).__name__}: {exc}"
            continue
        finally:
            cache.release(recipe)
        report.skipped += [p.model_id for p in plans if p.model_id in published]
        if not todo:
            continue
        split = dict(test_size=recipe.test_size, max_zero_fraction=recipe.max_zero_fraction,
                     max_columns=recipe.max_columns, info=info)
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
        del D
    report.featurise_seconds = cache.seconds
    report.rows_featurised, report.rows_shared = cache.rows_computed, cache.rows_served - cache.rows_computed
    return report
