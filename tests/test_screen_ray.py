"""Screening on Ray (``engine="ray"``) gives the board of the local engine, on a local Ray instance started here.

Sources travel both ways a task can get them: by hub id (loaded and verified there) and, for a source not in
the hub, as the bytes of its saved files.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mdl
from mdl.errors import InvalidInputError

ray = pytest.importorskip("ray", reason="the Ray engine is an optional extra (pip install 'mdl[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _same_board(a, b) -> None:
    assert a.screened["model_id"].tolist() == b.screened["model_id"].tolist()
    np.testing.assert_allclose(a.screened[["ridge_mae", "knn_mae"]].to_numpy(float),
                               b.screened[["ridge_mae", "knn_mae"]].to_numpy(float), rtol=1e-9)
    assert a["candidate"].tolist() == b["candidate"].tolist()
    np.testing.assert_allclose(a["mae"].to_numpy(float), b["mae"].to_numpy(float), rtol=1e-9)
    assert a.info["selected"] == b.info["selected"]


def test_ray_screen_equals_the_local_one(local_ray, hub, sources, target):
    smiles, y = target
    mdl.publish([sources["nn"]], modelset="t-zoo", hub=hub, progress=False)
    pool = ["t-gap-nn-0000", sources["rf"]]  # one by hub id, one as an object not in the hub
    kwargs = dict(sources=pool, hub=hub, cv=3, top_k=2, progress=False, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = mdl.screen(smiles, y, **kwargs)
        remote = mdl.screen(smiles, y, engine="ray", **kwargs)
        nested_local = mdl.screen(smiles, y, nested=True, features=("hidden", "profile"), **kwargs)
        nested_remote = mdl.screen(smiles, y, nested=True, features=("hidden", "profile"), engine="ray", **kwargs)
    assert remote.info["engine"] == "ray" and local.info["engine"] == "local"
    _same_board(local, remote)
    _same_board(nested_local, nested_remote)
    np.testing.assert_allclose(remote.best.predict(smiles[:5]), local.best.predict(smiles[:5]), rtol=1e-9)


def test_an_unknown_engine_or_a_stray_address_is_refused_before_the_hub_is_read(tmp_path, target):
    smiles, y = target
    with pytest.raises(InvalidInputError, match="engine must be one of 'local', 'ray', got 'spark'"):
        mdl.screen(smiles, y, hub=tmp_path / "none", engine="spark")
    with pytest.raises(InvalidInputError, match="address is a Ray cluster's: give it with engine='ray'"):
        mdl.screen(smiles, y, hub=tmp_path / "none", address="auto")
    assert not (tmp_path / "none").exists()
