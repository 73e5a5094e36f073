"""Loading is a parser with a schema: the hostile models of issue 9, each refused with a ModelFormatError
(or another MDLError) that names the model, the file and the field, before anything is built."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from mdl.descriptors import get_descriptor
from mdl.errors import (
    DescriptorMismatchError,
    IntegrityError,
    InvalidInputError,
    MDLError,
    ModelFormatError,
)
from mdl.models import SourceModel, train_source
from mdl.store.parse import load_json, safetensors_header
from mdl.store.names import CONFIG, WEIGHTS
from mdl.transfer_learning import TransferModel


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _edit_arrays(folder: Path, **changes: np.ndarray) -> dict[str, str]:
    """Replace arrays of a saved model's weights; returns the recomputed hashes (a hostile publisher's)."""
    arrays = dict(load_file(str(folder / WEIGHTS)))
    arrays.update(changes)
    save_file(arrays, str(folder / WEIGHTS))
    return _hashes(folder)


def _edit_config(folder: Path, edit) -> dict[str, str]:
    record = json.loads((folder / CONFIG).read_text())
    edit(record)
    (folder / CONFIG).write_text(json.dumps(record))
    return _hashes(folder)


@pytest.fixture
def rf_folder(tmp_path, sources):
    sources["rf"].save(tmp_path / "rf")
    return tmp_path / "rf"


@pytest.fixture
def nn_folder(tmp_path, sources):
    sources["nn"].save(tmp_path / "nn")
    return tmp_path / "nn"


def _refused(folder: Path, hashes: dict | None, file: str, field: str) -> ModelFormatError:
    with pytest.raises(ModelFormatError) as caught:
        SourceModel.load(folder, hashes)
    assert caught.value.file == file and caught.value.field.startswith(field), str(caught.value)
    assert caught.value.model and str(caught.value).startswith(f"model {caught.value.model}: {file}")
    return caught.value


def _node(folder: Path, field: str) -> tuple[np.ndarray, int]:
    """A copy of a node field and the index of the root's first inner child (an inner node)."""
    arrays = load_file(str(folder / WEIGHTS))
    values = arrays[f"estimator.nodes.{field}"].copy()
    return values, int(arrays["estimator.nodes.left_child"][0])


def test_forest_feature_far_past_the_width_is_refused(rf_folder):  # was a SIGSEGV in scikit-learn
    feature, _ = _node(rf_folder, "feature")
    feature[0] = 10**9
    _refused(rf_folder, _edit_arrays(rf_folder, **{"estimator.nodes.feature": feature}), WEIGHTS,
             "estimator.nodes.feature")


def test_forest_feature_just_past_the_width_is_refused(rf_folder, sources):  # read outside the row
    feature, _ = _node(rf_folder, "feature")
    feature[0] = len(sources["rf"].columns) + 1
    error = _refused(rf_folder, _edit_arrays(rf_folder, **{"estimator.nodes.feature": feature}), WEIGHTS,
                     "estimator.nodes.feature")
    assert f"outside [0, {len(sources['rf'].columns)})" in str(error)


def test_forest_child_past_the_table_is_refused(rf_folder):
    left, _ = _node(rf_folder, "left_child")
    left[0] = 10**6
    _refused(rf_folder, _edit_arrays(rf_folder, **{"estimator.nodes.left_child": left}), WEIGHTS,
             "estimator.nodes.left_child")


def test_forest_child_pointing_back_at_the_root_is_refused(rf_folder):  # was an endless loop
    left, child = _node(rf_folder, "left_child")
    right, _ = _node(rf_folder, "right_child")
    left[child], right[child] = 0, 0
    error = _refused(rf_folder, _edit_arrays(rf_folder, **{"estimator.nodes.left_child": left,
                                                           "estimator.nodes.right_child": right}),
                     WEIGHTS, "estimator.nodes")
    assert "after its parent" in str(error) or "leaf" in str(error)


def test_forest_node_with_two_parents_is_refused(rf_folder):
    right, child = _node(rf_folder, "right_child")
    left, _ = _node(rf_folder, "left_child")
    right[0] = left[child]  # the root's right child becomes a grandchild: two parents, one orphan
    error = _refused(rf_folder, _edit_arrays(rf_folder, **{"estimator.nodes.right_child": right}), WEIGHTS,
                     "estimator.nodes.left_child")
    assert "no parent" in str(error)


def test_forest_node_count_longer_than_the_tables_is_refused(rf_folder):  # was > 2.4 GB from 3.4 KB
    counts = load_file(str(rf_folder / WEIGHTS))["estimator.node_count"].copy()
    hashes = _edit_arrays(rf_folder, **{"estimator.node_count": np.array([2 * 10**7], dtype=np.int64)})
    _refused(rf_folder, hashes, CONFIG, "estimator.params.n_estimators")
    counts[0] = 2 * 10**7
    _refused(rf_folder, _edit_arrays(rf_folder, **{"estimator.node_count": counts}), WEIGHTS,
             "estimator.nodes.")


def test_network_config_wider_than_its_weights_is_refused_before_torch(nn_folder):  # was 1.3 GB
    def widen(width):
        return lambda record: record["estimator"]["network"].__setitem__("hidden", [width, 32, 16])
    error = _refused(nn_folder, _edit_config(nn_folder, widen(1_000_000)), CONFIG, "estimator.network.hidden.0")
    assert "MDL_MAX_WIDTH" in str(error)
    error = _refused(nn_folder, _edit_config(nn_folder, widen(60_000)), WEIGHTS, "estimator.module.hidden.0")
    assert "expected (60000," in str(error)


def test_negative_column_index_is_refused(nn_folder, sources):  # used to wrap around silently
    columns = np.asarray(sources["nn"].columns, dtype=np.int64).copy()
    columns[3] = -1
    error = _refused(nn_folder, _edit_arrays(nn_folder, columns=columns), WEIGHTS, "columns")
    assert "[0, 1024)" in str(error)


def test_descriptor_bits_are_bounded_in_specs_and_recipes(nn_folder):  # was 850 MB at transfer time
    def huge(record):
        record["descriptor"]["params"]["n_bits"] = 10**7
    error = _refused(nn_folder, _edit_config(nn_folder, huge), CONFIG, "descriptor")
    assert "n_bits = 10000000" in str(error) and "MDL_MAX_WIDTH" in str(error)
    with pytest.raises(InvalidInputError, match="n_bits = 1000000000 is outside"):
        get_descriptor("morgan", n_bits=10**9)
    spec = get_descriptor("maccs").spec.to_dict()
    with pytest.raises(DescriptorMismatchError, match="width"):
        from mdl.descriptors import DescriptorSpec
        DescriptorSpec.from_dict({**spec, "width": 10**7})


def test_manifest_must_list_the_weights_and_the_config(nn_folder):  # altered weights used to load
    hashes = _hashes(nn_folder)
    weights = load_file(str(nn_folder / WEIGHTS))
    weights["estimator.x_mean"] = weights["estimator.x_mean"] + 100.0
    save_file(weights, str(nn_folder / WEIGHTS))
    without = {k: v for k, v in hashes.items() if k != WEIGHTS}
    _refused(nn_folder, without, WEIGHTS, "")
    _refused(nn_folder, {}, CONFIG, "")
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        SourceModel.load(nn_folder, hashes)


def test_manifest_names_must_be_plain_and_links_stay_inside(tmp_path, nn_folder):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    hashes = _hashes(nn_folder)
    for name in ("../../secret.txt", "/etc/passwd", "..", "a/b"):
        with pytest.raises(ModelFormatError, match="not a plain file name"):
            SourceModel.load(nn_folder, {**hashes, name: "0" * 64})
    (nn_folder / "notes.txt").symlink_to(secret)
    hashes["notes.txt"] = hashlib.sha256(secret.read_bytes()).hexdigest()
    with pytest.raises(ModelFormatError, match="links outside the model folder"):
        SourceModel.load(nn_folder, hashes)


def test_model_id_inside_must_match_the_index(nn_folder):
    hashes = _hashes(nn_folder)
    assert SourceModel.load(nn_folder, hashes, model_id="t-gap-nn-0000").model_id == "t-gap-nn-0000"
    with pytest.raises(ModelFormatError, match="the file says 't-gap-nn-0000', the index 't-gap-nn-0005'") as caught:
        SourceModel.load(nn_folder, hashes, model_id="t-gap-nn-0005")
    assert caught.value.field == "model_id"


def test_deep_json_is_refused_without_recursion_error(nn_folder):
    record = (nn_folder / CONFIG).read_text()
    (nn_folder / CONFIG).write_text(record.replace('"info": {', '"info": {"x": ' + "[" * 100_000 + "]" * 100_000 + ", ", 1))
    error = _refused(nn_folder, _hashes(nn_folder), CONFIG, "")
    assert "levels deep (limit 64, MDL_MAX_JSON_DEPTH)" in str(error)
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        load_json(b'{"a": [1, 2', model="m", file=CONFIG)


def test_safetensors_header_is_bounded_and_consistent():
    from safetensors.numpy import save

    data = save({"w": np.zeros((2, 3), np.float32)})
    with pytest.raises(ModelFormatError, match="header length"):
        safetensors_header((10**12).to_bytes(8, "little") + data[8:], model="m", file=WEIGHTS)
    header = json.dumps({"w": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 24]}}).encode()
    with pytest.raises(ModelFormatError, match="needs 4000000000000 bytes"):
        safetensors_header(len(header).to_bytes(8, "little") + header + bytes(24), model="m", file=WEIGHTS)
    header = json.dumps({"w": {"dtype": "O", "shape": [1], "data_offsets": [0, 8]}}).encode()
    with pytest.raises(ModelFormatError, match="dtype 'O'"):
        safetensors_header(len(header).to_bytes(8, "little") + header + bytes(8), model="m", file=WEIGHTS)


@pytest.fixture(scope="module")
def gb_model(qm9_gap, morgan):
    smiles, y = qm9_gap
    return train_source(morgan.transform(smiles[:150]), y[:150], morgan.spec, family="gb",
                        hyperparameters={"n_estimators": 5, "max_depth": 3, "learning_rate": 0.3},
                        model_id="t-gap-gb-0000", seed=0, max_columns=32)


@pytest.mark.parametrize("change,field", [
    (lambda t: t["split_indices"].__setitem__(0, 10**9), "split_indices"),
    (lambda t: t["left_children"].__setitem__(1 if t["left_children"][1] != -1 else 0, 0), "left_children"),
    (lambda t: t["split_conditions"].__setitem__(0, float("nan")), "split_conditions"),
    (lambda t: t["tree_param"].__setitem__("num_nodes", "20000000"), "left_children"),
])
def test_booster_json_is_checked_before_xgboost_reads_it(tmp_path, gb_model, change, field):
    gb_model.save(tmp_path / "gb")
    booster = json.loads((tmp_path / "gb" / "booster.json").read_text())
    change(booster["learner"]["gradient_booster"]["model"]["trees"][0])
    (tmp_path / "gb" / "booster.json").write_text(json.dumps(booster))
    with pytest.raises(ModelFormatError) as caught:
        SourceModel.load(tmp_path / "gb", _hashes(tmp_path / "gb"))
    assert caught.value.file == "booster.json" and field in caught.value.field, str(caught.value)


def test_unknown_or_mistyped_estimator_params_are_refused(rf_folder):
    def jobs(record):
        record["estimator"]["params"]["n_jobs"] = 10**9
    _refused(rf_folder, _edit_config(rf_folder, jobs), CONFIG, "estimator.params.n_jobs")

    def unknown(record):
        record["estimator"]["params"]["evil"] = 1
    _refused(rf_folder, _edit_config(rf_folder, unknown), CONFIG, "estimator.params.evil")


def test_transfer_manifest_is_confined_and_checked(tmp_path, sources, target):
    smiles, y = target
    folder = TransferModel(sources["nn"], head="ridge", cv=None).fit(smiles, y).save(tmp_path / "tm")
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "../outside": "0" * 64}))
    with pytest.raises(ModelFormatError, match="manifest.json"):
        TransferModel.load(folder)
    (folder / "manifest.json").write_text(json.dumps({k: v for k, v in manifest.items() if k != "head/weights.safetensors"}))
    with pytest.raises(MDLError, match="weights"):
        TransferModel.load(folder)
    record = json.loads((folder / "transfer.json").read_text())
    (folder / "transfer.json").write_text(json.dumps({**record, "layers": 7}))
    manifest["transfer.json"] = hashlib.sha256((folder / "transfer.json").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match="transfer.json: layers: hidden layer 7 out of range"):
        TransferModel.load(folder)


def test_limits_are_settings(nn_folder, monkeypatch):
    monkeypatch.setenv("MDL_MAX_JSON_MB", "1")
    assert SourceModel.load(nn_folder, _hashes(nn_folder)).model_id == "t-gap-nn-0000"
    monkeypatch.setenv("MDL_MAX_WIDTH", "8")
    with pytest.raises(ModelFormatError, match="MDL_MAX_WIDTH"):
        SourceModel.load(nn_folder, _hashes(nn_folder))
    assert os.environ["MDL_MAX_WIDTH"] == "8"


def test_svr_head_is_stored_as_its_kernel_expansion_and_checked(tmp_path):
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.svm import SVR

    from mdl.models.state import from_state, to_state
    from mdl.store.files import read_files, write_files
    from mdl.models.svr import CLIP, KernelSVR

    rng = np.random.default_rng(3)
    X = rng.normal(size=(70, 6))
    y = 5 * np.sin(X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.normal(size=70)
    model = KernelSVR(random_state=1).fit(X, y)
    # the expansion predicts the mean of what scikit-learn's RBF SVRs with the kept C and gamma predict
    Z, z = np.clip((X - X.mean(axis=0)) / X.std(axis=0), -CLIP, CLIP), (y - y.mean()) / y.std()
    assert len(model.C_) == model.average == 5 and (model.weight_ == 1.0).all()
    plain = [SVR(C=C, gamma=g, epsilon=0.1).fit(Z, z).predict(Z) for C, g in zip(model.C_, model.gamma_)]
    np.testing.assert_allclose(model.predict(X), y.mean() + y.std() * np.mean(plain, axis=0), rtol=1e-6, atol=1e-6)
    # the kept settings are the five with the lowest CV error on the model's folds, best first
    folds = KFold(5, shuffle=True, random_state=1)
    errors = {(C, g / 6): -cross_val_score(SVR(C=C, gamma=g / 6, epsilon=0.1), Z, z, cv=folds,
                                           scoring="neg_mean_absolute_error").mean()
              for C in model.C for g in model.gamma}
    kept = [errors[C, g] for C, g in zip(model.C_, model.gamma_)]
    assert kept == pytest.approx(sorted(errors.values())[:5], rel=1e-9)
    single = KernelSVR(random_state=1, average=1).fit(X, y)
    assert (single.C_[0], single.gamma_[0]) == (model.C_[0], model.gamma_[0])
    with pytest.raises(InvalidInputError, match="average must be a whole number of settings, at least 1"):
        KernelSVR(average=0).fit(X, y)
    hashes = write_files(tmp_path / "svr", *to_state(model))
    back = from_state(*read_files(tmp_path / "svr", hashes, model="svr"), model="svr")
    np.testing.assert_allclose(back.predict(X), model.predict(X), rtol=1e-12)
    arrays = dict(load_file(str(tmp_path / "svr" / WEIGHTS)))
    n_support = len(model.support_vectors_)
    for change, field in ((("dual_coef_", np.zeros(3)), "dual_coef_"),
                          (("dual_coef_", np.zeros((65, n_support))), "65 settings, expected 1 to 64"),
                          (("intercept_", np.zeros(4)), "intercept_"),
                          (("support_vectors_", np.zeros((4, 9))), "support_vectors_"),
                          (("gamma_", np.full(5, -1.0)), "gamma_"),
                          (("scale_", np.zeros(6)), "scale_"),
                          (("weight_", np.full(5, 0.5)), "weight_"),   # a weight needs two blocks
                          (("counts_", np.array(0.5)), "counts_"),
                          (("y_scale_", np.array(np.nan)), "y_scale_")):
        hostile = _edit_arrays(tmp_path / "svr", **dict([change]))
        with pytest.raises(ModelFormatError, match=field):
            from_state(*read_files(tmp_path / "svr", hostile, model="svr"), model="svr")
        save_file(arrays, str(tmp_path / "svr" / WEIGHTS))


def test_a_two_block_svr_weighs_an_rbf_and_a_minmax_kernel(tmp_path):
    from sklearn.svm import SVR

    from mdl.models.state import from_state, to_state
    from mdl.store.files import read_files, write_files
    from mdl.models.svr import KernelSVR, minmax

    rng = np.random.default_rng(5)
    profile, counts = rng.normal(size=(60, 3)), rng.poisson(0.5, size=(60, 20)).astype(float)
    y = profile[:, 0] + counts[:, :5].sum(axis=1) + 0.1 * rng.normal(size=60)
    X = np.hstack([profile, counts])
    model = KernelSVR(split=3, C=[3.0], gamma=[1.0], weight=[0.5]).fit(X, y)
    assert model.counts_ == 1.0 and model.weight_.tolist() == [0.5]   # the one setting there is
    # counts are not standardised; the kernel is the weighted sum of the two, as a precomputed SVR sees it
    Z = np.clip((profile - profile.mean(axis=0)) / profile.std(axis=0), -10, 10)
    d2 = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(axis=-1)
    K = 0.5 * np.exp(-d2 / 3) + 0.5 * minmax(counts, counts)
    plain = SVR(kernel="precomputed", C=3.0, epsilon=0.1).fit(K, (y - y.mean()) / y.std())
    np.testing.assert_allclose(model.predict(X), y.mean() + y.std() * plain.predict(K), rtol=1e-6, atol=1e-6)
    # min-max of counts is sum(min) / sum(max)
    a, b = counts[0], counts[1]
    assert minmax(a[None], b[None])[0, 0] == pytest.approx(np.minimum(a, b).sum() / max(np.maximum(a, b).sum(), 1e-300))
    # real-valued second block: an RBF on standardised columns; the weight is chosen among those given
    mixed = KernelSVR(split=3, weight=[0.0, 1.0]).fit(np.hstack([profile, counts + 0.5]), y)
    assert mixed.counts_ == 0.0 and set(mixed.weight_) <= {0.0, 1.0}
    hashes = write_files(tmp_path / "svr", *to_state(model))
    back = from_state(*read_files(tmp_path / "svr", hashes, model="svr"), model="svr")
    np.testing.assert_allclose(back.predict(X), model.predict(X), rtol=1e-12)
    config, arrays, blobs = to_state(model)
    config["params"]["split"] = 23
    with pytest.raises(ModelFormatError, match="params.split"):
        from_state(config, arrays, blobs, model="svr")
    with pytest.raises(InvalidInputError, match="split must be a whole number of columns between 1 and 22"):
        KernelSVR(split=23).fit(X, y)


def test_a_mean_of_heads_stores_each_member_and_checks_their_widths(tmp_path):
    from mdl.models.state import from_state, to_state
    from mdl.store.files import read_files, write_files
    from mdl.transfer_learning.heads import make_head

    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(50, 5)), rng.normal(size=50)
    model = make_head("svr+ridge").fit(X, y)
    members = [m.predict(X) for m in model.estimators_]
    np.testing.assert_allclose(model.predict(X), np.mean(members, axis=0))
    config, arrays, blobs = to_state(model)
    back = from_state(*read_files(tmp_path / "m", write_files(tmp_path / "m", config, arrays, blobs), model="m"),
                      model="m")
    np.testing.assert_allclose(back.predict(X), model.predict(X), rtol=1e-12)
    config["members"][1]["n_features_in"] = 7
    config["members"][1]["steps"][0]["n_features_in"] = 7
    with pytest.raises(ModelFormatError, match="members.1."):
        from_state(config, arrays, blobs, model="m")
