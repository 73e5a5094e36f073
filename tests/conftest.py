"""Shared fixtures: small real data (QM9 and experimental critical temperatures) and a temporary hub.

The session runs offline for data sets (``MDL_DATA_OFFLINE=1``): no test downloads one, except from a
loopback server it starts itself (tests/test_fetch.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from mdl import datasets
from mdl.config import DATA_OFFLINE_ENV, SHARED_DATA_ENV
from mdl.datasets.files import shared_data_available
from mdl.descriptors import get_descriptor
from mdl.models.train import train_source

#: for tests of the extra data sets (polymers, crystals) read from their mirror: CI sets MDL_SHARED_DATA
#: (.ci/run, to ../shared/data beside the clone); elsewhere they skip, since tests never download
needs_shared = pytest.mark.skipif(not shared_data_available(),
                                  reason=f"needs the extra data sets' mirror: set {SHARED_DATA_ENV} "
                                         "(tests never download)")


@pytest.fixture(autouse=True, scope="session")
def _offline_data() -> Iterator[None]:
    """No test downloads a data set file: what is neither mirrored, shipped nor cached is an error."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATA_OFFLINE_ENV, "1")
        yield


@pytest.fixture(scope="session")
def qm9_gap():
    """400 QM9 molecules with their HOMO-LUMO gap."""
    return datasets.load("qm9").xy("gap", limit=400, seed=1)


@pytest.fixture(scope="session")
def morgan():
    return get_descriptor("morgan", radius=2, n_bits=1024, counts=True)


@pytest.fixture(scope="session")
def target():
    """A small experimental target the sources were not trained on: critical temperatures."""
    return datasets.load("chemicals").xy("critical_temperature", limit=60, seed=3)


@pytest.fixture(scope="session")
def sources(qm9_gap, morgan):
    """One network and one random forest trained on QM9 gaps (fast settings)."""
    smiles, y = qm9_gap
    D = morgan.transform(smiles)
    info = {"material": "molecule", "property": "gap", "unit": "eV", "aliases": ["HOMO-LUMO gap"],
            "dataset": "qm9"}
    nn = train_source(D, y, morgan.spec, family="nn", hyperparameters={"hidden": [64, 32, 16], "epochs": 30},
                      model_id="t-gap-nn-0000", seed=0, max_columns=256, info=info)
    rf = train_source(D, y, morgan.spec, family="rf", hyperparameters={"n_estimators": 30, "max_features": 40},
                      model_id="t-gap-rf-0000", seed=0, max_columns=256, info=info)
    return {"nn": nn, "rf": rf}


@pytest.fixture
def hub(tmp_path):
    from mdl.hub import LocalHub

    return LocalHub(tmp_path / "hub")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
