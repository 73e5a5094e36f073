"""Transfer from zoo models to a small real target the sources never saw."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge

import mdl
from mdl.errors import DescriptorMismatchError, InvalidInputError, ModelFormatError
from mdl.transfer_learning import TransferModel
from mdl.transfer_learning.cv import cross_validated
from mdl.transfer_learning.heads import make_head


@pytest.fixture
def published(hub, sources):
    mdl.publish(list(sources.values()), modelset="t-gap", hub=hub)
    return hub


def test_transfer_from_network_fits_head_on_neural_descriptors(published, sources, target, tmp_path):
    smiles, y = target
    model = mdl.transfer("t-gap-nn-0000", smiles, y, head="rf", cv=5, hub=published)
    assert model.head_features(smiles).shape == (len(y), 16)  # last hidden layer of the [64, 32, 16] net
    scores = model.cv_scores_
    assert scores["folds"] == 5 and len(scores["mae_folds"]) == 5
    assert 0 < scores["mae"] < np.abs(y - y.mean()).mean() * 1.5
    pred = model.predict(smiles[:10])
    assert pred.shape == (10,) and np.isfinite(pred).all()
    model.save(tmp_path / "tm")
    again = TransferModel.load(tmp_path / "tm")
    np.testing.assert_allclose(again.predict(smiles[:10]), pred)
    assert again.cv_scores_["mae"] == pytest.approx(scores["mae"])


def test_layers_and_heads(published, target):
    smiles, y = target
    both = mdl.transfer("t-gap-nn-0000", smiles, y, layers=[-2, -1], head="ridge", cv=3, hub=published)
    assert both.head_features(smiles).shape[1] == 32 + 16
    everything = mdl.transfer("t-gap-nn-0000", smiles, y, layers="all", head="mlp", cv=None, hub=published)
    assert everything.head_features(smiles).shape[1] == 64 + 32 + 16 and not hasattr(everything, "cv_scores_")
    with pytest.raises(InvalidInputError, match="layers=5: hidden layer 5 out of range: network t-gap-nn-0000 has 3"):
        mdl.transfer("t-gap-nn-0000", smiles, y, layers=5, hub=published)


def test_non_network_source_adds_its_prediction_as_a_feature(published, sources, target):
    smiles, y = target
    model = mdl.transfer("t-gap-rf-0000", smiles, y, cv=3, hub=published)
    F = model.head_features(smiles)
    assert F.shape[1] == len(sources["rf"].columns) + 1
    np.testing.assert_allclose(F[:, -1], sources["rf"].predict(smiles))


def test_descriptor_matrix_input_is_checked(published, sources, morgan, target):
    smiles, y = target
    D = morgan.transform(smiles)
    from_raw = mdl.transfer("t-gap-nn-0000", smiles, y, cv=None, hub=published)
    from_matrix = mdl.transfer("t-gap-nn-0000", D, y, cv=None, hub=published)
    np.testing.assert_allclose(from_matrix.predict(D), from_raw.predict(smiles))
    frame = pd.DataFrame(D, columns=morgan.spec.columns)
    np.testing.assert_allclose(from_raw.predict(frame), from_raw.predict(smiles))
    with pytest.raises(DescriptorMismatchError, match="expected 1024 columns"):
        from_raw.predict(D[:, :1000])
    with pytest.raises(DescriptorMismatchError, match="columns missing"):
        from_raw.predict(frame.rename(columns={frame.columns[3]: "other"}))


def test_bad_input_is_named(published, target):
    smiles, y = target
    with pytest.raises(InvalidInputError, match="invalid SMILES.*rows: 2"):
        mdl.transfer("t-gap-nn-0000", smiles[:2] + ["C1CC(", *smiles[3:]], y, hub=published)
    bad = y.copy()
    bad[7] = np.nan
    with pytest.raises(InvalidInputError, match="rows: 7"):
        mdl.transfer("t-gap-nn-0000", smiles, bad, hub=published)
    with pytest.raises(InvalidInputError, match="rows but y has"):
        mdl.transfer("t-gap-nn-0000", smiles, y[:-1], hub=published)
    with pytest.raises(InvalidInputError, match="fewer than"):
        mdl.transfer("t-gap-nn-0000", smiles[:3], y[:3], cv=5, hub=published)
    with pytest.raises(InvalidInputError, match="constant"):
        mdl.transfer("t-gap-nn-0000", smiles, np.ones(len(y)), hub=published)


class CountingRidge(Ridge):
    """A ridge head that counts its fits (over every clone)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        CountingRidge.fits += 1
        return super().fit(X, y, sample_weight)


def test_is_a_scikit_learn_estimator_without_a_hidden_cross_validation(published, target):
    from sklearn.model_selection import cross_val_score

    smiles, y = target
    model = TransferModel("t-gap-nn-0000", head=CountingRidge(), hub=published)
    assert model.get_params()["cv"] is None and clone(model).get_params()["head"].get_params() == Ridge().get_params()
    assert not hasattr(model, "transform")  # a regressor, not a transformer (NeuralDescriptors is the feature step)
    CountingRidge.fits = 0
    scores = cross_val_score(model, np.array(smiles, dtype=object), y, cv=3, scoring="neg_mean_absolute_error")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    assert CountingRidge.fits == 3 and not hasattr(model, "cv_scores_")  # one fit of the head per fold
    # a CV asked for runs once, with the head's final fit: 3 folds + 1
    CountingRidge.fits = 0
    asked = clone(model).set_params(cv=3).fit(smiles, y)
    assert CountingRidge.fits == 4 and asked.cv_scores_["folds"] == 3
    assert not hasattr(asked.set_params(cv=None).fit(smiles, y), "cv_scores_")  # no stale scores of that CV
    # mdl.transfer reports a 5-fold CV by default, and its scores are the CV helper's on the same features
    reported = mdl.transfer("t-gap-nn-0000", smiles, y, head="ridge", hub=published)
    expected = cross_validated(make_head("ridge", 0), reported.head_features(smiles), y, 5)
    assert reported.cv == 5 and reported.cv_scores_ == expected


def test_parameters_and_targets_are_checked_before_the_source_is_loaded(hub, target):
    """The hub is empty: a check that ran after loading would raise ModelNotFoundError instead."""
    smiles, y = target
    cases = [
        ({"y": ["a"] * len(y)}, r"targets must be numbers; 60 are not \(e.g. 'a' in row 0\)"),
        ({"y": 3.0}, "one target per row"),
        ({"y": y[:-1]}, "X has 60 rows but y has 59"),
        ({"head": "nonsense"}, "head must be one of 'rf', 'ridge', 'mlp'"),
        ({"layers": "last"}, "layers must be an index of a hidden layer"),
        ({"cv": 1}, "cv must be an integer >= 2 \\(0 or None: no cross-validation\\), got 1"),
        ({"cv": 100}, "60 samples are fewer than the 100 cross-validation folds"),
    ]
    for change, message in cases:
        args = {"y": y, **change}
        with pytest.raises(InvalidInputError, match=message):
            mdl.transfer("no-such-model", smiles, args.pop("y"), hub=hub, **args)
    with pytest.raises(InvalidInputError, match="2 distinct groups are fewer than the 3 folds"):
        TransferModel("no-such-model", cv=3, hub=hub).fit(smiles, y, groups=np.arange(len(y)) % 2)


def test_an_over_long_smiles_is_refused_before_parsing(published, target):
    smiles, y = target
    with pytest.raises(InvalidInputError, match="SMILES longer than 2000 characters") as err:
        mdl.transfer("t-gap-nn-0000", [*smiles[:-1], "C" * 100_000], y, hub=published)
    assert err.value.rows == [len(y) - 1]


def test_joined_features_keep_the_raw_descriptor_and_survive_saving(published, morgan, target, tmp_path):
    smiles, y = target
    model = mdl.transfer("t-gap-nn-0000", smiles, y, head="ridge", cv=3, hub=published, features="joined")
    D = morgan.transform(smiles)
    varying = np.flatnonzero(np.ptp(D, axis=0) > 0)
    F = model.head_features(smiles)
    assert F.shape[1] == 16 + len(varying)
    np.testing.assert_allclose(F[:, 16:], D[:, varying])
    np.testing.assert_allclose(F[:, :16], mdl.transfer("t-gap-nn-0000", smiles, y, cv=None, hub=published)
                               .head_features(smiles))
    again = TransferModel.load(model.save(tmp_path / "joined"))
    assert again.features == "joined"
    np.testing.assert_allclose(again.predict(smiles[:8]), model.predict(smiles[:8]))
    # a record whose raw columns do not match the head is refused, hashes recomputed or not
    record = json.loads((tmp_path / "joined" / "transfer.json").read_text())
    record["raw_columns"] = record["raw_columns"][:-1]
    (tmp_path / "joined" / "transfer.json").write_text(json.dumps(record))
    manifest = json.loads((tmp_path / "joined" / "manifest.json").read_text())
    manifest["transfer.json"] = hashlib.sha256((tmp_path / "joined" / "transfer.json").read_bytes()).hexdigest()
    (tmp_path / "joined" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match="n_features_in"):
        TransferModel.load(tmp_path / "joined")
    with pytest.raises(InvalidInputError, match="features"):
        mdl.transfer("t-gap-nn-0000", smiles, y, hub=published, features="both")


@pytest.mark.parametrize("path", ["mdl.models.nn:NeuralNetRegressor", "mdl.models.gnn:GraphNetRegressor",
                                  "mdl.models.svr:KernelSVR", "mdl.transfer_learning:TransferModel",
                                  "mdl.transfer_learning:ProfileModel", "mdl.transfer_learning:MeanModel",
                                  "mdl.transfer_learning:ScratchModel", "mdl.transfer_learning:StackedTransferModel",
                                  "mdl.transfer_learning:TransferEnsemble", "mdl.transfer_learning:FineTunedModel"])
def test_scikit_learn_sees_every_model_as_a_regressor(path):
    """scikit-learn reads an estimator's kind from its tags, which only a mixin placed before BaseEstimator
    sets; ensembles and CV helpers choose their behaviour by it."""
    import importlib

    from sklearn.base import is_regressor

    module, name = path.split(":")
    cls = getattr(importlib.import_module(module), name)
    assert is_regressor(cls.__new__(cls)), name
