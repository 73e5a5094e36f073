"""The build's feature cache (mdl.zoo.builder.FeatureCache): recipes that read the same data set with the same
descriptor share its rows, and what they get is exactly what featurising each recipe alone gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mdl
from mdl import datasets
from mdl.descriptors import get_descriptor
from mdl.errors import InvalidInputError
from mdl.models.graph_batch import GraphSet
from mdl.zoo import build, parse_recipe
from mdl.zoo import builder as build_module
from mdl.zoo.builder import FeatureCache, _compact, prepare

from conftest import needs_shared


def qm9_recipe(name: str = "t-fc", **data) -> dict:
    return {"modelset": {"name": name},
            "data": {"loader": "qm9", "properties": ["homo", "gap"], "limit": 150, "seed": 0, **data},
            "descriptor": {"name": "morgan", "params": {"radius": 2, "n_bits": 256, "counts": True}},
            "selection": {"max_columns": 64},
            "families": {"nn": {"count": 2, "epochs": 4}, "rf": {"count": 1, "ranges": {"n_estimators": [10, 20]}},
                         "en": {"count": 1}}}


def assert_same(shared, alone) -> None:
    """Bit-for-bit the same matrix (dtype and signs of zeros too), or the same packed graphs."""
    if isinstance(alone, GraphSet):
        assert isinstance(shared, GraphSet)
        for name in ("numbers", "edges", "distances", "atom_ptr", "edge_ptr"):
            a, b = getattr(shared, name), getattr(alone, name)
            assert a.dtype == b.dtype and np.array_equal(a, b)
        return
    assert shared.dtype == alone.dtype == np.float64 and shared.shape == alone.shape
    assert np.array_equal(shared, alone, equal_nan=True)
    assert np.array_equal(np.signbit(shared), np.signbit(alone))


def test_recipes_of_one_data_set_share_rows_and_get_the_matrices_featurised_alone():
    # per property (same 150 molecules), another limit (an overlap of rows), another draw (other rows)
    recipes = [*parse_recipe(qm9_recipe()), *parse_recipe(qm9_recipe("t-fc-more", limit=300)),
               *parse_recipe(qm9_recipe("t-fc-other", seed=1))]
    cache = FeatureCache(recipes)
    for recipe in recipes:
        D, y, spec, info = prepare(recipe, cache)
        D0, y0, spec0, info0 = prepare(recipe)
        assert_same(D, D0)
        assert np.array_equal(y, y0, equal_nan=True) and spec == spec0 and info == info0
        cache.release(recipe)
    served = 150 * 2 + 300 * 2 + 150 * 2
    assert cache.rows_served == served
    assert 300 < cache.rows_computed < 300 + 2 * 150   # each molecule once: the 150 are among the 300's or not
    data = datasets.load("qm9")
    distinct = {id(x) for r in recipes for x in data.xy(r.target, limit=r.limit, seed=r.seed)[0]}
    assert cache.rows_computed == len(distinct)
    assert not cache._entries and not cache._data   # released after the last recipe that reads them


def test_an_entry_lives_until_the_last_recipe_that_needs_it():
    first, second = parse_recipe(qm9_recipe())
    other = parse_recipe(qm9_recipe("t-fc-wide") | {"descriptor": {"name": "morgan", "params": {"n_bits": 128}}})[0]
    cache = FeatureCache([first, other, second])
    for recipe in (first, other):
        prepare(recipe, cache)
        cache.release(recipe)
    assert len(cache._entries) == 1   # the 256-bit rows, which `second` reads; the 128-bit ones are dropped
    computed = cache.rows_computed
    prepare(second, cache)
    assert cache.rows_computed == computed   # nothing featurised again
    cache.release(second)
    assert not cache._entries


def test_rows_are_held_in_the_narrowest_exact_dtype():
    counts = np.array([[0.0, 3.0], [255.0, 1.0]])
    assert _compact(counts).dtype == np.uint8
    halves = np.array([[0.5, -2.0], [np.nan, np.inf]])
    assert _compact(halves).dtype == np.float32
    assert _compact(np.array([[-0.0, 1.0]])).dtype == np.float32    # keeps the sign of zero
    assert _compact(np.array([[0.1, 1.0]])).dtype == np.float64
    for block in (counts, halves, np.array([[-0.0, 1.0]])):
        back = _compact(block).astype(np.float64)
        assert np.array_equal(back, block, equal_nan=True) and np.array_equal(np.signbit(back), np.signbit(block))


def test_a_refused_row_raises_the_error_of_the_recipe_alone():
    data = datasets.load("qm9")
    smiles, _ = data.xy("homo", limit=20, seed=0)
    bad = dataclasses.replace(data, inputs=[*data.inputs[:5], "C1CC", *data.inputs[6:]])   # row 5: unclosed ring
    inputs = [bad.inputs[i] for i in (0, 1, 2, 5, 7)]
    descriptor = get_descriptor("morgan", n_bits=64)
    with pytest.raises(InvalidInputError) as alone:
        descriptor.transform(inputs)
    with pytest.raises(InvalidInputError) as shared:
        FeatureCache().features(bad, inputs, descriptor)
    assert str(shared.value) == str(alone.value) and "rows: 3" in str(shared.value)
    # inputs that are not the data set's own objects are featurised as they are
    copies = [s + "" for s in ["CCO", "c1ccccc1"]]
    assert_same(FeatureCache().features(data, copies, descriptor), descriptor.transform(copies))


def test_the_shared_build_trains_the_same_models_as_featurising_each_recipe(tmp_path, monkeypatch):
    recipes = [*parse_recipe(qm9_recipe()), *parse_recipe(qm9_recipe("t-fc-more", limit=300))]
    shared = build(recipes, hub=tmp_path / "shared", progress=False)
    assert shared.rows_featurised + shared.rows_shared == 2 * 150 + 2 * 300
    assert shared.rows_featurised < 150 + 300   # each property's rows once, and the molecules both draws hold
    real = build_module.prepare
    monkeypatch.setattr(build_module, "prepare", lambda recipe, cache=None: real(recipe))
    alone = build(recipes, hub=tmp_path / "alone", progress=False)
    assert sorted(shared.built) == sorted(alone.built) and len(shared.built) == 16 and not shared.failed
    a = mdl.search(hub=tmp_path / "shared", sort_by="model_id")
    b = mdl.search(hub=tmp_path / "alone", sort_by="model_id")
    assert a["model_id"].tolist() == b["model_id"].tolist()
    assert a["hyperparameters"].tolist() == b["hyperparameters"].tolist()
    exact = a["family"] != "rf"   # a forest's threads sum its trees' predictions in any order: two builds
    for metric in ("mae", "rmse", "r2"):  # without the cache differ in the last bit too
        assert a.loc[exact, metric].tolist() == b.loc[exact, metric].tolist()   # the same numbers
        np.testing.assert_allclose(a[metric], b[metric], rtol=1e-12)
    monkeypatch.undo()
    again = build(recipes, hub=tmp_path / "shared", progress=False)   # resumed: nothing left, nothing featurised
    assert again.built == [] and len(again.skipped) == 16 and again.rows_featurised == 0


@needs_shared
def test_crystal_recipes_share_structures_graphs_and_the_composition_part():
    """The structure, graph and composition recipes of one crystal data set: ``structure_composition`` is
    cached as its two parts, so the composition recipe of the same rows computes nothing."""
    def crystal(name: str, descriptor: dict) -> list:
        family = "gnn" if descriptor["name"] == "crystal_graph" else "rf"
        return parse_recipe({"modelset": {"name": name},
                             "data": {"loader": "cdvae_perov5", "properties": ["heat_of_formation", "direct_band_gap"],
                                      "limit": 40, "seed": 0, "args": {"limit": 80, "seed": 0}},
                             "descriptor": descriptor, "families": {family: {"count": 1}}})

    recipes = [*crystal("t-structure", {"name": "structure_composition"}),
               *crystal("t-graph", {"name": "crystal_graph", "params": {"cutoff": 6.0, "max_neighbors": 8}}),
               *crystal("t-composition", {"name": "composition"})]
    cache = FeatureCache(recipes)
    computed = []
    for recipe in recipes:
        before = cache.rows_computed
        D, *_ = prepare(recipe, cache)
        computed.append(cache.rows_computed - before)
        assert_same(D, prepare(recipe)[0])
        cache.release(recipe)
    n = 40
    # structure_composition: both parts once; graphs once; composition: already there
    assert computed == [2 * n, 0, n, 0, 0, 0]
    assert not cache._entries
