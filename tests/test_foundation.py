"""The CHGNet foundation source: import from the chgnet wheel, safe storage, features, hostile files."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("chgnet", reason="the foundation source needs the optional package chgnet (mdl[crystals])")

from conftest import needs_shared  # noqa: E402
from pymatgen.core import Lattice, Structure  # noqa: E402

from mdl.errors import InvalidInputError, ModelFormatError  # noqa: E402
from mdl.models.foundation import CHGNetFeaturizer  # noqa: E402
from mdl.models.state import from_state, to_state  # noqa: E402
from mdl.zoo.foundation_import import checkpoint_file, read_checkpoint  # noqa: E402


def crystals() -> list[Structure]:
    """Four small crystals built with pymatgen: rock salt, diamond silicon, CsCl, a cubic perovskite."""
    return [
        Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]]),
        Structure(Lattice.cubic(4.12), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        Structure(Lattice.cubic(3.9), ["Sr", "Ti", "O", "O", "O"],
                  [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]),
    ]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A hub holding the imported CHGNet (model set foundation-chgnet)."""
    from mdl.hub import LocalHub
    from mdl.zoo.foundation_import import publish_chgnet

    hub = LocalHub(tmp_path_factory.mktemp("foundation") / "hub")
    assert publish_chgnet(hub) == ["chgnet-0-3-0"]
    return hub


@pytest.fixture(scope="module")
def chgnet_model(published) -> CHGNetFeaturizer:
    """The zoo's CHGNet as loaded back from the hub (safetensors + JSON only)."""
    return published.load("chgnet-0-3-0").estimator


@pytest.fixture(scope="module")
def stored(chgnet_model):
    return to_state(chgnet_model)


def test_zoo_model_matches_chgnet_own_packaged_model(chgnet_model, stored):
    from chgnet.model import CHGNet

    reference = CHGNet.load(model_name="0.3.0", verbose=False)  # chgnet's own loader (plain torch.load)
    structures = crystals()
    own_pooling = CHGNetFeaturizer.from_weights(chgnet_model.model_args_, stored[1], batch_size=3, pooling="model")
    ours = own_pooling.hidden_features(structures)  # two batches, as chgnet's below
    theirs = reference.predict_structure(structures, task="e", return_crystal_feas=True, batch_size=3)
    assert ours.shape == (4, 64)
    assert np.array_equal(ours, np.stack([r["crystal_fea"] for r in theirs]).astype(np.float64))
    assert np.array_equal(own_pooling.predict(structures), np.array([r["e"] for r in theirs], dtype=np.float64))
    energies = chgnet_model.predict(structures)  # one batch of four
    assert np.allclose(energies, own_pooling.predict(structures), atol=1e-5)
    assert -10 < energies[1] < -4  # silicon: about -5.4 eV/atom in the Materials Project
    # the default averages what the 0.3.0 readout sums
    atoms = np.array([len(s) for s in structures], dtype=float)[:, None]
    assert np.allclose(chgnet_model.hidden_features(structures, "all") * atoms,
                       own_pooling.hidden_features(structures, "all"), rtol=1e-5, atol=1e-5)


def test_hidden_layers_one_per_block(chgnet_model):
    structures = crystals()[:2]
    assert chgnet_model.n_hidden_layers == 4
    every = chgnet_model.hidden_features(structures, "all")
    assert every.shape == (2, 4 * 64) and np.isfinite(every).all()
    assert np.array_equal(every[:, -64:], chgnet_model.hidden_features(structures, -1))
    assert np.array_equal(every[:, 64:128], chgnet_model.hidden_features(structures, [1]))
    assert not np.allclose(every[:, :64], every[:, 64:128])  # the blocks differ
    assert chgnet_model.hidden_names([0, -1])[::64] == ["chgnet0_0", "chgnet3_0"]
    with pytest.raises(ValueError, match="out of range"):
        chgnet_model.hidden_features(structures, 4)


def test_read_checkpoint_gives_every_weight():
    model_args, arrays = read_checkpoint(checkpoint_file("0.3.0"))
    assert model_args["n_conv"] == 4 and model_args["atom_fea_dim"] == 64
    assert sum(a.size for a in arrays.values()) == 412_525  # the parameter count chgnet prints
    with pytest.raises(ValueError, match="unknown CHGNet checkpoint"):
        checkpoint_file("9.9.9")


@pytest.mark.parametrize(("change", "field"), [
    (lambda c, a: c["model_args"].update(n_conv=400), "model_args.n_conv"),
    (lambda c, a: c["model_args"].update(atom_fea_dim=10**6), "model_args.atom_fea_dim"),
    (lambda c, a: c["model_args"].update(composition_model={"__class__": "os.system"}), "model_args.composition_model"),
    (lambda c, a: c["model_args"].update(converter_verbose=True), "model_args.converter_verbose"),
    (lambda c, a: c["model_args"].update(atom_graph_cutoff=float("inf")), "model_args.atom_graph_cutoff"),
    (lambda c, a: c["model_args"].update(mlp_hidden_dims=[64] * 50), "model_args.mlp_hidden_dims"),
    (lambda c, a: c["model_args"].update(bond_graph_cutoff=8.0), "model_args.bond_graph_cutoff"),
    (lambda c, a: c["params"].update(batch_size=0), "params.batch_size"),
    (lambda c, a: c["params"].update(pooling="max"), "params.pooling"),
    (lambda c, a: c.update(pickle="gASV"), "pickle"),
    (lambda c, a: a.update({"module.atom_embedding.embedding.weight": np.ones((95, 64), np.float32)}),
     "module.atom_embedding.embedding.weight"),
    (lambda c, a: a.update({"module.mlp.layers.0.weight": np.full((64, 64), np.nan, np.float32)}),
     "module.mlp.layers.0.weight"),
    (lambda c, a: a.update({"module.site_wise.bias": np.zeros(1, np.float64)}), "module.site_wise.bias"),
    (lambda c, a: a.pop("module.site_wise.bias"), "module.site_wise.bias"),
    (lambda c, a: a.update({"module.extra": np.zeros(1, np.float32)}), "module.extra"),
])
def test_hostile_config_or_weights_refused_before_building(stored, change, field):
    config, arrays, _ = stored
    config = {**config, "params": dict(config["params"]), "model_args": dict(config["model_args"])}
    arrays = dict(arrays)
    change(config, arrays)
    with pytest.raises(ModelFormatError, match=field.replace(".", r"\.")) as info:
        from_state(config, arrays, {}, model="hostile-0")
    assert info.value.model == "hostile-0"


def test_inputs_it_cannot_read_are_named_by_row(chgnet_model):
    lonely = Structure(Lattice.cubic(30.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])  # atoms 26 Å apart
    good = crystals()[0]
    with pytest.raises(InvalidInputError, match=r"isolated atoms.*\[rows: 1\]"):
        chgnet_model.predict([good, lonely])
    with pytest.raises(InvalidInputError, match=r"not a pymatgen Structure \[rows: 0, 2\]"):
        chgnet_model.hidden_features(["NaCl", good, 3.0])
    with pytest.raises(InvalidInputError, match=r"isolated atoms.*\(rows 1\); not a pymatgen Structure \(rows 2\)"):
        chgnet_model.predict([good, lonely, "NaCl"])  # every cause and row in one error
    assert chgnet_model.unreadable([good, lonely, "NaCl", good]) == [1, 2] and chgnet_model.unreadable([good]) == []
    with pytest.raises(InvalidInputError, match="2 structures but 3 targets"):
        chgnet_model.fit([good, good], [1.0, 2.0, 3.0])
    assert chgnet_model.fit([good], [1.0]) is chgnet_model  # pretrained: fit only checks


def test_published_with_its_card_and_loaded_from_safetensors_only(published, stored):
    import hashlib
    import json

    import mdl
    from mdl.zoo.foundation_import import MODELSET, publish_chgnet

    found = mdl.search(model_type="foundation", material="inorganic", hub=published)
    assert found["model_id"].tolist() == ["chgnet-0-3-0"] and found["descriptor"].iloc[0] == "crystal_structure"
    folder = published.root / MODELSET / "models" / "chgnet-0-3-0"
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "weights.safetensors"]
    card = json.loads((folder / "config.json").read_text())["info"]
    origin = card["origin"]
    assert origin["package"] == "chgnet" and origin["model_version"] == "0.3.0"
    assert origin["sha256"] == hashlib.sha256(checkpoint_file("0.3.0").read_bytes()).hexdigest()
    assert "BSD" in card["licence"] and "Copyright (c) 2023, The Regents" in card["licence_text"]
    assert "Nat. Mach. Intell. 5, 1031" in card["citation"]
    config, arrays, _ = stored
    assert config["params"] == {"batch_size": 16, "pooling": "mean"} and config["model_args"]["version"] == "0.3.0"
    _, packaged = read_checkpoint(checkpoint_file("0.3.0"))
    assert arrays.keys() == packaged.keys() and all(np.array_equal(arrays[k], packaged[k]) for k in arrays)
    model = published.load("chgnet-0-3-0")
    assert model.is_network and model.family == "foundation"
    structures = crystals()[:2]
    cifs = [s.to(fmt="cif") for s in structures]  # the descriptor parses CIF text too
    assert np.allclose(model.neural_descriptors(cifs), model.neural_descriptors(structures), atol=1e-5)
    assert publish_chgnet(published) == ["chgnet-0-3-0"] and len(mdl.search(hub=published)) == 1  # a no-op


@needs_shared
def test_transfer_to_perovskite_heats_of_formation(published):
    import mdl
    from mdl.datasets.crystals import load_structures

    structures, y = load_structures("cdvae_perov5", limit=45, seed=1).xy("heat_of_formation")
    model = mdl.transfer("chgnet-0-3-0", structures[:36], y[:36], cv=3, hub=published)
    assert model.cv_scores_["r2"] > 0.2  # CHGNet features + RF on 24 training rows per fold
    assert np.mean(np.abs(model.predict(structures[36:]) - y[36:])) < np.std(y)  # better than the mean
    with pytest.raises(InvalidInputError, match="not a crystal structure"):
        model.predict(["CaTiO3"])


def test_without_chgnet_loading_says_how_to_install_it(stored, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "chgnet.model", None)  # as if chgnet were not installed
    config, arrays, _ = stored
    with pytest.raises(ImportError, match=r"pip install 'mdl\[crystals\]'"):
        from_state(config, arrays, {}, model="chgnet-0-3-0")


def test_fine_tuning_the_foundation_source_is_refused_clearly(published):
    import mdl

    with pytest.raises(InvalidInputError, match="pretrained 'foundation' source that mdl does not retrain"):
        mdl.finetune("chgnet-0-3-0", crystals()[:3], [1.0, 2.0, 3.0], hub=published)
