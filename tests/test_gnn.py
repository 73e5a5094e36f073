"""Graph inputs (crystal_graph, crystal_structure) and the graph-network family."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import needs_shared
from pymatgen.core import Lattice, Structure

import mdl
from mdl.datasets.crystals import load_structures
from mdl.descriptors import descriptor_kind, from_spec, get_descriptor
from mdl.errors import InvalidInputError, ModelFormatError, RecipeError
from mdl.hub import open_hub
from mdl.models.gnn import GraphNetRegressor
from mdl.models.graph_batch import GraphSet
from mdl.models.source import SourceModel
from mdl.models.state import from_state, to_state
from mdl.zoo import build, parse_recipe
from mdl.zoo.builder import plan

FCC = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]


def rocksalt(a: float, cation: str = "Na", anion: str = "Cl") -> Structure:
    """The conventional 8-atom cell (spelt out: Structure.from_spacegroup costs half a second)."""
    return Structure(Lattice.cubic(a), [cation] * 4 + [anion] * 4, FCC + [[x + 0.5 for x in p] for p in FCC])


def test_crystal_graph_neighbours_are_nearest_and_bounded():
    nacl = rocksalt(5.64)
    graph = get_descriptor("crystal_graph", cutoff=5.0, max_neighbors=6).inputs([nacl])[0]
    assert graph.numbers.tolist() == [11] * 4 + [17] * 4
    assert graph.edges.shape == (2, 8 * 6) and graph.edges.dtype == np.int64
    assert np.allclose(graph.distances, 2.82, atol=1e-3)  # the 6 nearest of rock salt: opposite ions
    assert (graph.numbers[graph.edges[0]] != graph.numbers[graph.edges[1]]).all()
    wide = get_descriptor("crystal_graph", cutoff=5.0, max_neighbors=18).inputs([nacl])[0]
    assert np.bincount(wide.edges[0]).tolist() == [18] * 8  # 6 at a/2, then 12 at a/sqrt(2)
    assert wide.distances.max() == pytest.approx(5.64 / np.sqrt(2), abs=1e-3)


def test_crystal_graph_is_cell_independent():
    nacl = rocksalt(5.64)
    one, two = get_descriptor("crystal_graph", cutoff=6.0, max_neighbors=12).inputs([nacl, nacl * (2, 1, 1)])
    assert two.n_atoms == 2 * one.n_atoms
    assert np.allclose(np.sort(two.distances)[::2], np.sort(one.distances))


def test_graph_descriptors_have_no_matrix_and_round_trip():
    d = get_descriptor("crystal_graph", cutoff=4.0, max_neighbors=8)
    assert descriptor_kind("crystal_graph") == descriptor_kind("crystal_structure") == "graph"
    assert d.spec.width == 0 and from_spec(d.spec.to_dict()).get_params() == d.get_params()
    with pytest.raises(InvalidInputError, match="graph descriptor"):
        d.transform([rocksalt(5.64)])
    with pytest.raises(InvalidInputError, match="max_neighbors"):
        get_descriptor("crystal_graph", max_neighbors=10_000)
    with pytest.raises(InvalidInputError, match=r"rows: 1"):
        d.inputs([rocksalt(5.64), "NaCl"])
    parsed = get_descriptor("crystal_structure").inputs([rocksalt(5.64).to(fmt="cif")])
    assert parsed[0].composition.reduced_formula == "NaCl"


# -- the network -----------------------------------------------------------------------------------

TINY = {"width": 8, "n_conv": 2, "head_width": 8, "n_gaussians": 10, "epochs": 25, "patience": 25, "lr": 1e-2,
        "batch_size": 8}


def salts(n: int = 48, seed: int = 0) -> tuple[list[Structure], np.ndarray]:
    """Rock salts and caesium chlorides of a few elements and lattice constants; target: volume per atom."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a = float(rng.uniform(3.5, 6.0))
        cation, anion = rng.choice(["Li", "Na", "K", "Mg"]), rng.choice(["F", "Cl", "O"])
        if rng.random() < 0.5:
            out.append(rocksalt(a, cation, anion))
        else:
            out.append(Structure(Lattice.cubic(a * 0.7), [cation, anion], [[0, 0, 0], [0.5, 0.5, 0.5]]))
    return out, np.array([s.volume / len(s) for s in out])


@pytest.fixture(scope="module")
def salt_graphs():
    structures, y = salts()
    return structures, get_descriptor("crystal_graph", cutoff=6.0, max_neighbors=12).inputs(structures), y


def test_graph_network_learns_volume_and_exposes_hidden_layers(salt_graphs):
    _, graphs, y = salt_graphs
    net = GraphNetRegressor(**TINY).fit(graphs[:40], y[:40])
    error = np.abs(net.predict(graphs[40:]) - y[40:]).mean()
    assert error < 0.5 * np.abs(y[40:] - y[:40].mean()).mean()  # beats the mean by a wide margin
    assert net.n_hidden_layers == 3
    H = net.hidden_features(graphs, "all")
    assert H.shape == (len(graphs), 8 + 8 + 8) and np.isfinite(H).all()
    assert net.hidden_names([0, -1])[:1] == ["conv0_0"] and net.hidden_names(-1)[-1] == "crystal_7"
    assert np.allclose(net.hidden_features(graphs, -1), H[:, 16:])


def test_graph_network_masks_missing_labels(salt_graphs):
    _, graphs, y = salt_graphs
    Y = np.column_stack([y, -y])
    Y[::2, 1] = np.nan
    net = GraphNetRegressor(**{**TINY, "epochs": 5}).fit(graphs, Y)
    assert net.predict(graphs).shape == (len(graphs), 2) and np.isfinite(net.predict(graphs)).all()


def test_graph_source_round_trip(salt_graphs, tmp_path):
    structures, graphs, y = salt_graphs
    d = get_descriptor("crystal_graph", cutoff=6.0, max_neighbors=12)
    net = GraphNetRegressor(**{**TINY, "epochs": 3}).fit(graphs, y)
    model = SourceModel("salt-gnn-0000", net, d.spec, np.zeros(0, dtype=np.int64), {"family": "gnn"})
    assert model.is_network and model.takes_graphs
    with pytest.raises(InvalidInputError, match="no descriptor matrix"):
        model.descriptor_matrix(structures)
    model.save(tmp_path / "m")
    back = SourceModel.load(tmp_path / "m")
    assert np.allclose(back.predict(structures), net.predict(graphs), atol=1e-5)
    assert np.allclose(back.predict(structures[0]), net.predict(graphs[:1]), atol=1e-5)  # one Structure
    assert np.allclose(back.neural_descriptors(structures, [0, 1]), net.hidden_features(graphs, [0, 1]), atol=1e-5)


def _state(salt_graphs):
    _, graphs, y = salt_graphs
    return to_state(GraphNetRegressor(**{**TINY, "epochs": 1}).fit(graphs[:8], y[:8]))


@pytest.mark.parametrize("field, value, message", [
    ("n_conv", 10**6, r"network\.n_conv: 1000000 is outside \[1, 64\] \(MDL_MAX_LAYERS\)"),
    ("width", 9, r"module\.embed\.weight: shape \(119, 8\), expected \(119, 9\)"),
    ("n_gaussians", 11, r"module\.convs\.0\.edge\.weight: shape \(16, 10\), expected \(16, 11\)"),
    ("pooling", "max", r"network\.pooling: expected one of"),
    ("r_max", float("nan"), r"network\.r_max"),
    ("n_outputs", 2, r"shape \(1, 8\), expected \(2, 8\)"),
])
def test_hostile_graph_network_configs_are_refused(salt_graphs, field, value, message):
    config, arrays, blobs = _state(salt_graphs)
    config["network"][field] = value
    with pytest.raises(ModelFormatError, match=message):
        from_state(config, arrays, blobs, model="bad")


def test_hostile_graph_network_arrays_are_refused(salt_graphs):
    config, arrays, blobs = _state(salt_graphs)
    bad = dict(arrays, **{"module.head.bias": np.full(8, np.inf, np.float32)})
    with pytest.raises(ModelFormatError, match="module.head.bias: values must be finite"):
        from_state(config, bad, blobs, model="bad")
    bad = {k: v for k, v in arrays.items() if k != "module.convs.1.norm.bias"}
    with pytest.raises(ModelFormatError, match="module.convs.1.norm.bias: array missing"):
        from_state(config, bad, blobs, model="bad")
    bad = dict(arrays, **{"module.convs.2.edge.weight": arrays["module.convs.1.edge.weight"]})
    with pytest.raises(ModelFormatError, match="unexpected array"):
        from_state(config, bad, blobs, model="bad")


def test_graph_estimator_and_descriptor_must_match(salt_graphs, tmp_path):
    _, graphs, y = salt_graphs
    net = GraphNetRegressor(**{**TINY, "epochs": 1}).fit(graphs[:8], y[:8])
    spec = get_descriptor("structure").spec
    SourceModel("odd-0000", net, spec, np.zeros(0, dtype=np.int64), {}).save(tmp_path / "odd")
    with pytest.raises(ModelFormatError, match="takes descriptor 'crystal_graph', not 'structure'"):
        SourceModel.load(tmp_path / "odd")


def test_networks_prune_shared_graphs_to_their_own_neighbourhood(salt_graphs):
    _, graphs, y = salt_graphs
    small = get_descriptor("crystal_graph", cutoff=4.0, max_neighbors=6).inputs(salt_graphs[0])
    pruned = GraphSet.pack(graphs).prune(4.0, 6)
    direct = GraphSet.pack(small)
    assert np.array_equal(pruned.edge_ptr, direct.edge_ptr)
    assert np.allclose(np.sort(pruned.distances), np.sort(direct.distances))
    net = GraphNetRegressor(**{**TINY, "epochs": 2, "cutoff": 4.0, "max_neighbors": 6}).fit(graphs, y)
    assert np.allclose(net.predict(graphs), net.predict(small), atol=1e-5)
    assert net.r_max_ <= 4.0


# -- transfer and fine-tuning from a graph source ------------------------------------------------------
@pytest.fixture(scope="module")
def graph_source(salt_graphs):
    structures, graphs, y = salt_graphs
    d = get_descriptor("crystal_graph", cutoff=6.0, max_neighbors=12)
    net = GraphNetRegressor(**TINY).fit(graphs, y)
    return SourceModel("salt-volume-gnn-0000", net, d.spec, np.zeros(0, dtype=np.int64),
                       {"family": "gnn", "property": "volume_per_atom"})


def test_transfer_reads_a_graph_networks_hidden_layers(graph_source):
    structures, y = salts(30, seed=1)
    target = np.array([s.density for s in structures])
    model = mdl.transfer(graph_source, structures, target, head="ridge", layers="all", cv=3)
    assert model.n_features_in_ == 8 + 8 + 8
    assert np.isfinite(model.cv_scores_["mae"]) and model.predict(structures[:4]).shape == (4,)
    assert np.allclose(model.head_features(structures[:4]), graph_source.neural_descriptors(structures[:4], "all"))


@pytest.mark.parametrize("freeze", [0, 2, "all"])
def test_finetune_a_graph_network_keeps_frozen_layers(graph_source, freeze, tmp_path):
    structures, _ = salts(40, seed=2)
    target = np.array([s.density for s in structures])
    model = mdl.finetune(graph_source, structures, target, freeze=freeze, epochs=8, lr=5e-3, batch_size=8)
    before, after = graph_source.estimator.module_, model.estimator_.module_
    frozen = model.frozen_layers_
    assert frozen == {0: 0, 2: 2, "all": 3}[freeze]
    same_embedding = torch.equal(before.embed.weight, after.embed.weight)
    assert same_embedding == (frozen >= 1)
    assert torch.equal(before.head.weight, after.head.weight) == (frozen == 3)
    assert before.output.weight.shape == after.output.weight.shape  # one target: a new output layer
    model.save(tmp_path / "ft")
    back = SourceModel.load(tmp_path / "ft")
    assert np.allclose(back.predict(structures), model.predict(structures), atol=1e-5)


# -- the zoo family --------------------------------------------------------------------------------------
def gnn_recipe(**families):
    return {"modelset": {"name": "t-graph"},
            "data": {"loader": "cdvae_perov5", "property": "heat_of_formation", "limit": 80, "seed": 0,
                     "args": {"limit": 100, "seed": 0}},
            "descriptor": {"name": "crystal_graph", "params": {"cutoff": 6.0, "max_neighbors": 12}},
            "families": families or {"gnn": {"count": 2, "epochs": 3, "ranges": {"width": [8, 16],
                                                                                 "head_width": [8, 16]}}}}


def test_recipes_pair_graph_descriptors_with_the_gnn_family():
    with pytest.raises(RecipeError, match=r"families\.nn: descriptor 'crystal_graph' has no matrix"):
        parse_recipe(gnn_recipe(nn={"count": 1}))
    morgan = {**gnn_recipe(), "descriptor": {"name": "composition"}}
    with pytest.raises(RecipeError, match=r"families\.gnn: descriptor 'composition' is a matrix"):
        parse_recipe(morgan)
    with pytest.raises(RecipeError, match=r"families\.gnn\.ranges\.max_neighbors"):
        parse_recipe(gnn_recipe(gnn={"count": 1, "ranges": {"max_neighbors": [4, 10_000]}}))
    plans = plan(parse_recipe(gnn_recipe())[0], 0)
    assert [p.model_id for p in plans] == ["t-graph-gnn-0000", "t-graph-gnn-0001"]
    assert all(8 <= p.hyperparameters["width"] <= 16 and p.hyperparameters["pooling"] in ("mean", "sum")
               for p in plans)


@needs_shared
def test_build_a_gnn_recipe_and_load_its_models(tmp_path):
    report = build(parse_recipe(gnn_recipe()), hub=tmp_path / "hub", progress=False)
    assert sorted(report.built) == ["t-graph-gnn-0000", "t-graph-gnn-0001"] and not report.failed
    model = open_hub(tmp_path / "hub").load("t-graph-gnn-0001")
    structures, y = load_structures("cdvae_perov5", limit=5, seed=7).xy("heat_of_formation")
    assert model.family == "gnn" and model.predict(structures).shape == (5,)
    assert model.info["n_test"] == 16 and np.isfinite(model.info["metrics"]["mae"])


# -- screening mixes graph networks with descriptor sources ----------------------------------------------
def _descriptor_source(name: str, structures: list[Structure], y: np.ndarray) -> SourceModel:
    """A small forest on one structure-readable descriptor (composition or structure geometry)."""
    from sklearn.ensemble import RandomForestRegressor

    d = get_descriptor(name)
    D = d.transform(structures)
    columns = np.arange(D.shape[1], dtype=np.int64)
    forest = RandomForestRegressor(n_estimators=20, random_state=0).fit(D, y)
    return SourceModel(f"salt-volume-{name}-rf", forest, d.spec, columns,
                       {"family": "rf", "property": "volume_per_atom", "material": "inorganic"})


def test_screen_ranks_graph_networks_beside_descriptor_sources(graph_source, salt_graphs):
    from mdl.screening.sources import SkippedSourcesWarning

    train, _, volume = salt_graphs
    sources = [graph_source, *(_descriptor_source(name, train, volume) for name in ("composition", "structure"))]
    structures, _ = salts(36, seed=3)
    density = np.array([s.density for s in structures])
    board = mdl.screen(structures, density, sources=sources, top_k=3, cv=3, progress=False)
    assert set(board["model_id"]) >= {s.model_id for s in sources}
    graph_rows = board[board["model_id"] == graph_source.model_id]
    assert graph_rows["features"].tolist() == ["hidden"]  # a graph source has no raw columns to join
    assert {"scratch-rf[composition]", "scratch-rf[structure]"} <= set(board["candidate"])
    model = board.model(graph_source.model_id)  # fitted on the structures themselves, with the board's scores
    assert model.predict(structures[:3]).shape == (3,)
    assert model.cv_scores_["mae"] == pytest.approx(float(graph_rows["mae"].iloc[0]))

    formulas = [s.composition.reduced_formula for s in structures]
    with pytest.warns(SkippedSourcesWarning):
        board = mdl.screen(formulas, density, sources=sources, top_k=3, cv=3, progress=False)
    assert set(board.skipped) == {graph_source.model_id, "salt-volume-structure-rf"}
    assert "not a crystal structure" in board.skipped[graph_source.model_id]
    assert set(board["model_id"]) >= {"salt-volume-composition-rf"}


def test_a_second_screen_reuses_the_graph_features_and_descriptors_of_rows_seen_before(graph_source, salt_graphs,
                                                                                      monkeypatch):
    from mdl.screening.cache import screen_cache

    train, _, volume = salt_graphs
    sources = [graph_source, _descriptor_source("composition", train, volume)]
    structures, _ = salts(40, seed=4)
    density = np.array([s.density for s in structures])
    first, second = np.arange(30), np.arange(10, 40)  # two outer-training parts of one data set
    seen = []
    forward = type(graph_source.estimator).hidden_features
    monkeypatch.setattr(type(graph_source.estimator), "hidden_features",
                        lambda self, graphs, layers=-1: seen.append(len(graphs)) or forward(self, graphs, layers))

    def board(rows):
        return mdl.screen([structures[i] for i in rows], density[rows], sources=sources, top_k=2, cv=3,
                          progress=False)

    screen_cache().clear()
    boards = [board(first)]
    calls, seen[:] = list(seen), []
    boards.append(board(second))
    assert calls[0] == 30 and seen[0] == 10  # the second first stage ran the network on its 10 new structures
    for done, runs in zip(boards, (calls, seen)):  # and no second stage ran it again; only a refit of the pick may
        assert runs[1:] == ([len(done.predictions)] if done.info["selected"]["candidate"] == graph_source.model_id
                            else [])
    monkeypatch.setenv("MDL_SCREEN_CACHE_MB", "0")  # the same boards, every row computed afresh
    for cached, rows in zip(boards, (first, second)):
        seen[:] = []
        fresh = board(rows)
        assert seen[0] == len(rows)
        assert cached["candidate"].tolist() == fresh["candidate"].tolist()
        np.testing.assert_allclose(cached["mae"].to_numpy(float), fresh["mae"].to_numpy(float), rtol=1e-9)
