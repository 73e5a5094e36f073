"""A fixed-seed sample of the model fuzzer (tools/fuzz_models.py): mutated models of every family, with
their hashes recomputed, each loaded and used in a memory-capped worker. Every case must load and predict
finite numbers or raise an MDLError: no crash, hang, over-cap allocation or other exception."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "fuzz_models.py"


@pytest.fixture(scope="module")
def fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_models", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def models(fuzz, tmp_path_factory):
    return fuzz.make_models(tmp_path_factory.mktemp("fuzz-models"))


def test_mutated_models_load_and_predict_or_raise_an_mdl_error(fuzz, models):
    results = fuzz.run(models, cases=120, seed=20261127, cap_mb=1536, timeout=30, one_worker=True)
    table = fuzz.table(results)
    failures = [r for items in results.values() for r in items if r["outcome"] in fuzz.FAILURES]
    assert not failures, f"{table}\n" + "\n".join(
        f"{r['family']} seed {r['seed']}: {r['outcome']}: {r['what']} -> {r['detail']}" for r in failures[:10])
    for family, items in results.items():  # the sample exercises both outcomes in every family
        outcomes = {r["outcome"] for r in items}
        assert len(items) == 15 and outcomes == {"accepted", "refused"}, (family, table)


def test_a_dying_worker_counts_as_crashed_and_is_restarted(fuzz, tmp_path):
    """The harness itself: a worker that dies (here: no model to warm up with) is reported per case."""
    results = fuzz.run_cases(tmp_path, [("nn", 1), ("nn", 2)], cap_mb=256, timeout=30)
    assert [(r["seed"], r["outcome"]) for r in results] == [(1, "crashed"), (2, "crashed")]
