"""Fuzz the model loaders: mutate saved models of every family and load + predict each in a capped worker.

    python tools/fuzz_models.py --cases 2000 --seed 0
    python tools/fuzz_models.py --cases 300 --families rf gb --cap-mb 1536 --timeout 20

Small real models of every family are trained on QM9 gaps and saved (``nn``, ``rf``, ``gb`` (xgboost),
``en``, a fine-tuned network, transfer models with an MLP head (``transfer``) and a support-vector head
stored as its kernel expansions (``svr``) on a network source), and a crystal graph
network (``gnn``) on small rock salts and caesium chlorides built in code. Each case copies
one of them, mutates one file -- a JSON field (random, boundary, huge, negative, NaN, wrong type,
deleted key, extra key, deep nesting) or an array (values, shape, dtype, deleted, extra, swapped) or
raw bytes -- recomputes every sha256 (so the hash check passes and the parser is what is tested), then
loads it (``SourceModel.load`` with the hashes and model id, ``FineTunedModel.load``,
``TransferModel.load``) and predicts six molecules (six crystals for ``gnn``).

A case passes when it loads and predicts finite numbers, or raises an ``MDLError``. It fails when the
worker crashes (a signal), hangs (``--timeout``), allocates past its cap (``--cap-mb`` above the
worker's size after warm-up, enforced with RLIMIT_AS: MemoryError or an allocation error), predicts
non-finite numbers, or raises any other exception. Each family runs in its own worker process, many
cases per process, restarted after a crash or hang. The table has one row per family: cases, accepted,
refused, crashed, hung, over-cap, other failures, and the worker's peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

FAMILIES = ("nn", "rf", "gb", "en", "finetuned", "transfer", "svr", "gnn")
SMILES = ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC", "O=C1CCCCC1", "C#N"]
FAILURES = ("crashed", "hung", "over_cap", "other")
HUGE = [10**9, 2 * 10**7, 2**31, 2**31 - 1, 2**63 - 1, -(2**63), 10**18, 1e308, -1e308]
BOUNDARY = [0, -1, 1, -2, 2]


# -- the saved models -----------------------------------------------------------------------------
def make_models(folder: Path, samples: int = 160) -> dict[str, Path]:
    """Train and save one small real model per family into ``folder``; returns {family: model folder}."""
    from mdl import datasets
    from mdl.descriptors import get_descriptor
    from mdl.models.graph_batch import GraphSet
    from mdl.models.train import train_source
    from mdl.transfer_learning import FineTunedModel, TransferModel

    smiles, y = datasets.load("qm9").xy("gap", limit=samples, seed=0)
    descriptor = get_descriptor("morgan", radius=2, n_bits=256, counts=True)
    D = descriptor.transform(smiles)
    settings = {"nn": {"hidden": [16, 8], "epochs": 5}, "rf": {"n_estimators": 4, "max_features": 8, "max_depth": 5},
                "gb": {"n_estimators": 4, "max_depth": 3, "learning_rate": 0.3}, "en": {"alpha": 0.01, "l1_ratio": 0.5}}
    paths, models = {}, {}
    for family, hp in settings.items():
        models[family] = train_source(D, y, descriptor.spec, family=family, hyperparameters=hp,
                                      model_id=f"fuzz-gap-{family}-0000", seed=0, max_columns=32,
                                      info={"property": "gap", "material": "molecule"})
        paths[family] = folder / family
        models[family].save(paths[family])
    target = y[:60] * 2 + 1
    FineTunedModel(models["nn"], epochs=3).fit(smiles[:60], target).save(folder / "finetuned")
    for family, head in (("transfer", "mlp"), ("svr", "svr")):
        TransferModel(models["nn"], head=head, cv=None).fit(smiles[:60], target).save(folder / family)
        paths[family] = folder / family
    paths["finetuned"] = folder / "finetuned"
    paths["gnn"] = folder / "gnn"
    crystals = [_crystal(i) for i in range(40)]
    graphs = get_descriptor("crystal_graph", cutoff=5.0, max_neighbors=8)
    train_source(GraphSet.pack(graphs.inputs(crystals)), np.array([c.volume / len(c) for c in crystals]),
                 graphs.spec, family="gnn", model_id="fuzz-gap-gnn-0000", seed=0,
                 hyperparameters={"width": 8, "n_conv": 2, "head_width": 8, "n_gaussians": 12, "epochs": 3},
                 info={"property": "volume_per_atom", "material": "inorganic"}).save(paths["gnn"])
    return paths


def _crystal(i: int) -> Any:
    """A small cubic crystal: rock salt or caesium chloride of a few ions and lattice constants."""
    from pymatgen.core import Lattice, Structure

    cation, anion, a = ("Li", "Na", "K")[i % 3], ("F", "Cl")[i % 2], 3.5 + 0.07 * i
    if i % 4 < 2:
        return Structure(Lattice.cubic(a), [cation, anion], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return Structure(Lattice([[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]]), [cation, anion],
                     [[0, 0, 0], [0.5, 0.5, 0.5]])


# -- mutations ------------------------------------------------------------------------------------
def _random_path(rng: random.Random, doc: Any) -> list:
    """A random walk from the root: stops at a container with probability 0.3, else goes on into it."""
    path: list = []
    node = doc
    while isinstance(node, (dict, list)) and node and (not path or rng.random() > 0.3):
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append(key)
        node = node[key]
    return path


def _new_value(rng: random.Random, old: Any) -> Any:
    op = rng.choice(["random", "boundary", "huge", "negative", "nan", "type", "numstr", "scale"])
    if op == "random":
        return rng.choice([rng.randint(-10**6, 10**6), rng.uniform(-1e6, 1e6), rng.randint(0, 64)])
    if op == "boundary":
        return rng.choice(BOUNDARY)
    if op == "huge":
        return rng.choice(HUGE)
    if op == "negative":
        return -abs(old) - 1 if isinstance(old, (int, float)) and not isinstance(old, bool) else -1
    if op == "nan":
        return rng.choice([float("nan"), float("inf"), float("-inf")])
    if op == "numstr":
        return str(rng.choice(HUGE + BOUNDARY))
    if op == "scale" and isinstance(old, list):
        return old * rng.choice([0, 2, 50])
    return rng.choice(["x", [], {}, None, True, 1.5, [1, 2], {"a": 1}, "../../etc/passwd"])


def mutate_json(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    doc = json.loads(text)
    path = _random_path(rng, doc)
    op = rng.choice(["value", "value", "value", "delete", "extra", "deep"])
    if not path:
        op = "extra" if isinstance(doc, dict) else "value"
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1] if path else None
    target = parent[last] if path else doc
    if op == "delete":
        del parent[last]
    elif op == "extra" and isinstance(target, dict):
        target[rng.choice(["zz_extra", "blobs", "class", "__metadata__"])] = rng.choice([1, "x", [1], {}])
    elif op == "extra" and isinstance(target, list):
        target.append(rng.choice([1, -1, 10**9, "x", [], 1e308]))
    elif op == "deep" and path:
        parent[last] = "__DEEP__"
    elif path:
        parent[last] = _new_value(rng, target)
    else:
        doc = _new_value(rng, doc)
    out = json.dumps(doc)
    if op == "deep" and path:
        depth = rng.choice([70, 500, 5000, 100_000])
        out = out.replace('"__DEEP__"', "[" * depth + "]" * depth, 1)
    return out.encode(), f"{op} {'.'.join(map(str, path))[:60]}"


def mutate_arrays(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    from safetensors.numpy import load, save

    arrays = {k: np.array(v) for k, v in load(data).items()}
    name = rng.choice(sorted(arrays))
    a = arrays[name]
    op = rng.choice(["value", "value", "value", "fill", "shape", "dtype", "delete", "extra", "swap"])
    if op in ("value", "fill") and a.size:
        if a.dtype.kind == "f":
            value = rng.choice([np.nan, np.inf, -np.inf, 1e300, -1e300, 3e38, 0.0, -1.0, rng.uniform(-1e3, 1e3)])
        else:
            value = rng.choice([-1, -2, 0, 1, a.size, a.size + 1, 10**9, 2 * 10**7, -(10**9), 2**62,
                                rng.randint(-a.size, 2 * a.size)])
        flat = a.reshape(-1)
        value = np.array(value).astype(a.dtype)  # wraps around where the dtype is narrower
        if op == "fill":
            flat[:] = value
        else:
            flat[rng.randrange(flat.size)] = value
    elif op == "shape":
        flat = a.reshape(-1)
        arrays[name] = rng.choice([flat[:-1] if flat.size else flat, np.concatenate([flat, flat[:1]]), flat,
                                   flat.reshape(1, -1), flat[: max(1, flat.size // 2)]])
    elif op == "dtype":
        arrays[name] = a.astype(rng.choice([np.float32, np.float64, np.int32, np.int64, np.uint8, np.float16]))
    elif op == "delete":
        del arrays[name]
    elif op == "extra":
        arrays[rng.choice(["extra", f"{name}.x", "module.hidden.9.weight"])] = np.ones(rng.choice([1, 3, 1000]))
    elif op == "swap":
        other = rng.choice(sorted(arrays))
        arrays[name], arrays[other] = arrays[other], arrays[name]
    return save(arrays), f"{op} {name}"


def mutate_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    data = bytearray(data)
    op = rng.choice(["flip", "truncate", "header"])
    if op == "truncate":
        return bytes(data[: rng.randrange(len(data) + 1)]), "truncate"
    span = min(len(data), 64 if op == "header" else len(data))
    for _ in range(rng.randint(1, 4)):
        if span:
            data[rng.randrange(span)] = rng.randrange(256)
    return bytes(data), op


def mutate(rng: random.Random, folder: Path) -> str:
    """Mutate one file of a copied model folder in place; returns what was done."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")
    path = rng.choice(files)
    data = path.read_bytes()
    kind = rng.random()
    if kind < 0.1:
        data, what = mutate_bytes(rng, data)
    elif path.suffix == ".safetensors":
        data, what = mutate_arrays(rng, data)
    else:
        data, what = mutate_json(rng, data)
    path.write_bytes(data)
    return f"{path.relative_to(folder)}: {what}"


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


# -- the worker: many cases per process -----------------------------------------------------------
def _load_and_predict(family: str, folder: Path) -> np.ndarray:
    from mdl.models import SourceModel
    from mdl.transfer_learning import FineTunedModel, TransferModel

    if family in ("transfer", "svr"):
        (folder / "manifest.json").write_text(json.dumps(_hashes(folder)))
        return TransferModel.load(folder).predict(SMILES)
    if family == "finetuned":
        return FineTunedModel.load(folder).predict(SMILES)
    inputs = [_crystal(i) for i in range(len(SMILES))] if family == "gnn" else SMILES
    return SourceModel.load(folder, _hashes(folder), model_id=f"fuzz-gap-{family}-0000").predict(inputs)


def _status_kb(field: str) -> int:
    """A size from /proc/self/status (``VmSize``: address space; ``VmHWM``: peak RSS of this program --
    unlike ru_maxrss, not inherited from the parent across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def worker(models: Path, families: list[str], cap_mb: int) -> None:
    """Read cases ("family seed") from stdin, one per line; write one JSON result per line to stdout."""
    import warnings

    from mdl.errors import MDLError

    warnings.simplefilter("ignore")
    for family in families:  # warm up: imports, thread pools
        np.asarray(_load_and_predict(family, models / family))
    resource.setrlimit(resource.RLIMIT_AS, ((_status_kb("VmSize") << 10) + (cap_mb << 20), resource.RLIM_INFINITY))
    scratch = Path(tempfile.mkdtemp(prefix="case-", dir=models))  # removed with the models, even after a crash
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints cannot corrupt the protocol
    for line in sys.stdin:
        family, seed = line.split()
        rng = random.Random(int(seed))
        folder = scratch / "model"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(models / family, folder)
        try:
            what = mutate(rng, folder)
        except Exception as exc:  # noqa: BLE001 - a bug of the harness, reported as a failure
            what = f"mutation failed: {type(exc).__name__}: {exc}"
        try:
            if what.startswith("mutation failed"):
                raise AssertionError(what)
            prediction = np.asarray(_load_and_predict(family, folder))
            ok = prediction.shape[:1] == (len(SMILES),) and np.isfinite(prediction).all()
            outcome, detail = ("accepted", "") if ok else ("other", f"bad predictions {prediction!r:.80}")
        except MDLError as exc:
            outcome, detail = "refused", f"{type(exc).__name__}: {exc}"
        except MemoryError:
            outcome, detail = "over_cap", "MemoryError"
        except Exception as exc:  # noqa: BLE001 - the point is to catch what should not happen
            allocation = isinstance(exc, RuntimeError) and "alloc" in str(exc).lower()
            outcome, detail = ("over_cap" if allocation else "other"), f"{type(exc).__name__}: {exc}"
        rss = _status_kb("VmHWM") // 1024
        out.write(json.dumps({"family": family, "seed": int(seed), "outcome": outcome, "what": what,
                              "detail": detail[:300], "rss_mb": rss}) + "\n")
        out.flush()


# -- the parent: dispatch, time out, restart ------------------------------------------------------
def run_cases(models: Path, cases: list[tuple[str, int]], cap_mb: int, timeout: float) -> list[dict]:
    """Run (family, seed) cases in a worker, restarted after a crash or hang; one result per case."""
    results: list[dict] = []
    todo = list(cases)
    families = sorted({f for f, _ in cases})
    while todo:
        proc = subprocess.Popen([sys.executable, __file__, "--worker", str(models), str(cap_mb), *families],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, bufsize=1, env={**os.environ, "OMP_NUM_THREADS": "1"})
        fresh = True  # the first case of a worker also waits for its imports and warm-up
        try:
            while todo:
                family, seed = todo[0]
                proc.stdin.write(f"{family} {seed}\n")
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], timeout + 120 * fresh)
                fresh = False
                line = proc.stdout.readline() if ready else ""
                if line:
                    results.append(json.loads(line))
                    todo.pop(0)
                    continue
                if not ready:
                    proc.kill()
                    outcome = "hung"
                else:
                    proc.wait()
                    outcome = "crashed"
                results.append({"family": family, "seed": seed, "outcome": outcome, "what": "",
                                "detail": f"exit {proc.poll()}", "rss_mb": 0})
                todo.pop(0)
                break
        except BrokenPipeError:  # died before reading the case: counted when the line does not come
            proc.kill()
        finally:
            if proc.poll() is None:
                proc.stdin.close()
                proc.wait(timeout=30)
    return results


def table(results: dict[str, list[dict]]) -> str:
    header = f"{'family':<10} {'cases':>6} {'accepted':>9} {'refused':>8} {'crashed':>8} {'hung':>5} " \
             f"{'over-cap':>9} {'other':>6} {'peak RSS':>9}"
    rows = [header, "-" * len(header)]
    total: Counter = Counter()
    for family, items in results.items():
        count = Counter(r["outcome"] for r in items)
        peak = max((r["rss_mb"] for r in items), default=0)
        total.update(count)
        total["cases"] += len(items)
        total["peak"] = max(total["peak"], peak)
        rows.append(f"{family:<10} {len(items):>6} {count['accepted']:>9} {count['refused']:>8} {count['crashed']:>8} "
                    f"{count['hung']:>5} {count['over_cap']:>9} {count['other']:>6} {peak:>6} MB")
    rows.append(f"{'all':<10} {total['cases']:>6} {total['accepted']:>9} {total['refused']:>8} {total['crashed']:>8} "
                f"{total['hung']:>5} {total['over_cap']:>9} {total['other']:>6} {total['peak']:>6} MB")
    return "\n".join(rows)


def run(models: dict[str, Path], cases: int, seed: int, cap_mb: int = 1536, timeout: float = 20.0,
        families: tuple[str, ...] = FAMILIES, one_worker: bool = False) -> dict[str, list[dict]]:
    """``cases`` cases spread evenly over ``families``, each family in its own worker (its peak RSS is
    then its own) or, with ``one_worker``, all in one (faster to start); returns {family: results}."""
    rng = random.Random(seed)
    root = next(iter(models.values())).parent
    per = {f: cases // len(families) + (i < cases % len(families)) for i, f in enumerate(families)}
    plan = [(f, rng.randrange(2**32)) for f in families for _ in range(per[f])]
    if one_worker:
        done = run_cases(root, plan, cap_mb, timeout)
    else:
        done = [r for f in families for r in run_cases(root, [c for c in plan if c[0] == f], cap_mb, timeout)]
    return {f: [r for r in done if r["family"] == f] for f in families}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[2]), sys.argv[4:], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cap-mb", type=int, default=1536, help="memory a worker may add after warm-up")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--failures", type=int, default=10, help="failing cases to print")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fuzz-models-") as tmp:
        models = make_models(Path(tmp))
        results = run(models, args.cases, args.seed, args.cap_mb, args.timeout, tuple(args.families))
    print(table(results))
    bad = [r for items in results.values() for r in items if r["outcome"] in FAILURES]
    for r in bad[: args.failures]:
        print(f"FAIL {r['family']} seed {r['seed']}: {r['outcome']}: {r['what']} -> {r['detail']}")
    print(f"{sum(map(len, results.values()))} cases in {time.perf_counter() - start:.0f} s (seed {args.seed})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
