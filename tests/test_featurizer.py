"""NeuralDescriptors: a source network's hidden layers as a feature step of a scikit-learn Pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mdl.errors import InvalidInputError, ModelNotFoundError
from mdl.transfer_learning.featurizer import NeuralDescriptors


def test_in_a_pipeline_with_ridge_it_cross_validates_on_raw_smiles(sources, target):
    smiles, y = target
    pipeline = make_pipeline(NeuralDescriptors(sources["nn"]), StandardScaler(), Ridge(alpha=10.0))
    scores = cross_val_score(pipeline, smiles, y, cv=KFold(3, shuffle=True, random_state=0),
                             scoring="neg_mean_absolute_error")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    fitted = pipeline.fit(smiles, y)
    hidden = sources["nn"].neural_descriptors(smiles[:5])   # the step is exactly the source's last hidden layer
    np.testing.assert_array_equal(fitted[0].transform(smiles[:5]), hidden)
    expected = fitted[-1].predict(fitted[1].transform(hidden))
    np.testing.assert_allclose(fitted.predict(smiles[:5]), expected)


def test_feature_names_say_which_model_layer_and_unit(sources, target):
    smiles, _ = target
    last = NeuralDescriptors(sources["nn"]).fit(smiles)
    assert list(last.get_feature_names_out()) == [f"t-gap-nn-0000:h2_{k}" for k in range(16)]  # hidden 64, 32, 16
    both = NeuralDescriptors(sources["nn"], layers=[0, -1]).fit(smiles)
    names = both.get_feature_names_out()
    assert len(names) == 64 + 16 == both.transform(smiles[:2]).shape[1]
    assert names[0] == "t-gap-nn-0000:h0_0" and names[63] == "t-gap-nn-0000:h0_63" and names[64] == "t-gap-nn-0000:h2_0"
    pipeline = make_pipeline(NeuralDescriptors(sources["nn"]), StandardScaler()).fit(smiles)
    assert list(pipeline.get_feature_names_out()) == list(last.get_feature_names_out())


def test_clone_and_get_params_give_an_unfitted_copy_with_the_same_parameters(sources, target):
    smiles, _ = target
    step = NeuralDescriptors(sources["nn"], layers="all", hub="/nowhere").fit(smiles)
    assert step.get_params() == {"source": sources["nn"], "layers": "all", "hub": "/nowhere"}
    copy = clone(step)
    assert copy.get_params()["layers"] == "all" and copy.get_params()["hub"] == "/nowhere"
    assert not hasattr(copy, "source_")
    with pytest.raises(Exception, match="not fitted"):
        copy.transform(smiles[:2])
    copy.set_params(layers=-2).fit(smiles)
    assert copy.get_feature_names_out()[0] == "t-gap-nn-0000:h1_0"


def test_a_source_id_is_loaded_from_the_hub(sources, target, hub):
    smiles, _ = target
    hub.publish([sources["nn"]], modelset="t-gap", progress=False)
    step = NeuralDescriptors("t-gap-nn-0000", hub=hub.root).fit(smiles)
    np.testing.assert_array_equal(step.transform(smiles[:3]), sources["nn"].neural_descriptors(smiles[:3]))
    with pytest.raises(ModelNotFoundError):
        NeuralDescriptors("t-gap-nn-9999", hub=hub.root).fit(smiles)


def test_a_forest_or_a_layer_the_network_lacks_is_refused_at_fit(sources, target):
    smiles, _ = target
    with pytest.raises(InvalidInputError, match="t-gap-rf-0000 is a 'rf' model: only a network"):
        NeuralDescriptors(sources["rf"]).fit(smiles)
    with pytest.raises(InvalidInputError, match="network t-gap-nn-0000 has 3 hidden layers"):
        NeuralDescriptors(sources["nn"], layers=3).fit(smiles)


def test_it_is_the_package_s_one_feature_step():
    """Exported beside the estimators, and the only one with ``transform``: the regressors name the features
    their head sees ``head_features``, so scikit-learn never takes one of them for a transformer."""
    import mdl.transfer_learning as tl

    assert tl.NeuralDescriptors is NeuralDescriptors and "NeuralDescriptors" in tl.__all__
    steps = [name for name in ("TransferModel", "StackedTransferModel", "ProfileModel", "MeanModel", "ScratchModel",
                               "TransferEnsemble", "FineTunedModel", "NeuralDescriptors")
             if hasattr(getattr(tl, name), "transform")]
    assert steps == ["NeuralDescriptors"]
