"""Benchmark of the Hub path, all on this machine: publish throughput, and pulls of N models through a
real Hugging Face-compatible server on loopback (olah serving git repositories) with huggingface_hub.

    python tools/bench_hub.py                # 200 models
    python tools/bench_hub.py --models 50 --json bench_hub.json

Steps:
1. train N small real source models on QM9 HOMO-LUMO gaps (Morgan counts; ElasticNets and small random
   forests, each with its own seed and hyperparameters);
2. publish them into a local hub (LocalHub) in batches of ``--batch`` models (zoo build's default);
3. publish them into the git repositories the server serves (GitRepoWriter: the commit operations
   HfApi.create_commit would send), one model-repository commit and one index commit per batch;
4. pull all N through the server into an empty Hugging Face cache (cold): ``mdl.pull(ids)`` one model at a
   time, and ``HFHub.load_many`` (one snapshot_download per commit, 8 workers);
5. pull them again with a fresh hub pinned to the index commit (warm): every file from the cache, checked by
   sha256; the HTTP requests are counted and must be zero.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the loopback server helper lives beside the tests

from hubserver import HubServer, RequestCounter  # noqa: E402


def train_models(n: int, samples: int):
    from mdl import datasets
    from mdl.descriptors import get_descriptor
    from mdl.models.train import train_source

    smiles, y = datasets.load("qm9").xy("gap", limit=samples, seed=0)
    descriptor = get_descriptor("morgan", radius=2, n_bits=1024, counts=True)
    D = descriptor.transform(smiles)
    info = {"material": "molecule", "property": "gap", "unit": "eV", "aliases": ["HOMO-LUMO gap"],
            "dataset": "qm9"}
    models = []
    for i in range(n):
        if i % 4 == 3:
            family, hp = "rf", {"n_estimators": 8, "max_features": 32, "max_depth": 8}
        else:
            family, hp = "en", {"alpha": float(10 ** (-3 + 2 * (i % 7) / 6)), "l1_ratio": 0.5}
        models.append(train_source(D, y, descriptor.spec, family=family, hyperparameters=hp,
                                   model_id=f"bench-gap-{family}-{i:04d}", seed=i, max_columns=256, info=info))
    return models


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--batch", type=int, default=16, help="models per publish (zoo build's default)")
    parser.add_argument("--samples", type=int, default=600, help="QM9 molecules per model")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    import mdl
    from mdl.hub import HFHub, LocalHub

    models, t_train = timed(lambda: train_models(args.models, args.samples))
    ids = [m.model_id for m in models]
    batches = [models[i:i + args.batch] for i in range(0, len(models), args.batch)]
    size = None
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        tmp = Path(tmp)
        local = LocalHub(tmp / "local")
        _, t_local = timed(lambda: [local.publish(b, "bench-gap", progress=False) for b in batches])
        size = sum(f.stat().st_size for f in (tmp / "local" / "bench-gap" / "models").rglob("*") if f.is_file())
        rows.append(("publish → local hub", t_local, len(models) / t_local, "-", f"{len(batches)} batches"))

        with HubServer(tmp / "server") as server:
            address = "hf://bench/registry"
            publisher = HFHub(address, endpoint=server.endpoint, writer=server.writer)
            _, t_pub = timed(lambda: [publisher.publish(b, "bench-gap", progress=False) for b in batches])
            rows.append(("publish → served git repos", t_pub, len(models) / t_pub, "-",
                         f"{2 * len(batches)} commits"))
            pin = f"{address}@{publisher.index_commit}"

            os.environ["HF_HUB_CACHE"] = str(tmp / "cache-one-by-one")
            with RequestCounter() as counter:
                pulled, t_cold = timed(lambda: mdl.pull(ids, hub=HFHub(address, endpoint=server.endpoint)))
            assert [m.model_id for m in pulled] == ids
            rows.append(("pull cold, mdl.pull one by one", t_cold, len(ids) / t_cold, len(counter), ""))

            os.environ["HF_HUB_CACHE"] = str(tmp / "cache-bulk")
            with RequestCounter() as counter:
                _, t_bulk = timed(lambda: HFHub(address, endpoint=server.endpoint).load_many(ids))
            rows.append(("pull cold, load_many (snapshots)", t_bulk, len(ids) / t_bulk, len(counter), ""))

            with RequestCounter() as counter:
                warm, t_warm = timed(lambda: mdl.pull(ids, hub=HFHub(pin, endpoint=server.endpoint)))
            warm_requests = len(counter)
            rows.append(("pull warm, pinned index", t_warm, len(ids) / t_warm, warm_requests, "from the HF cache"))
            with RequestCounter() as counter:
                _, t_warm_branch = timed(lambda: mdl.pull(ids, hub=HFHub(address, endpoint=server.endpoint)))
            rows.append(("pull warm, index at main", t_warm_branch, len(ids) / t_warm_branch, len(counter),
                         "asks the branch head only"))
            os.environ["HF_HUB_OFFLINE"] = "1"
            _, t_offline = timed(lambda: mdl.pull(ids, hub=HFHub(address, endpoint=server.endpoint)))
            del os.environ["HF_HUB_OFFLINE"]
            rows.append(("pull offline (HF_HUB_OFFLINE=1)", t_offline, len(ids) / t_offline, 0, ""))
            x = ["CCO", "c1ccccc1O", "CC(=O)N"]
            assert all(np.allclose(a.predict(x), b.predict(x)) for a, b in zip(warm, models, strict=True))

    print(f"\n{len(models)} models ({size / len(models) / 1024:.1f} KiB each on average), trained in {t_train:.1f} s; "
          f"olah {metadata.version('olah')}, huggingface_hub {metadata.version('huggingface_hub')}, loopback, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n")
    print(f"{'step':36} {'seconds':>8} {'models/s':>9} {'requests':>9}  note")
    for name, seconds, rate, requests, note in rows:
        print(f"{name:36} {seconds:8.2f} {rate:9.1f} {requests!s:>9}  {note}")
    if warm_requests != 0:
        raise SystemExit(f"warm pull made {warm_requests} requests; expected none")
    if args.json:
        Path(args.json).write_text(json.dumps(
            [dict(zip(("step", "seconds", "models_per_s", "requests", "note"), r)) for r in rows], indent=1))


if __name__ == "__main__":
    main()
