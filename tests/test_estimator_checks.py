"""scikit-learn's own estimator checks (``parametrize_with_checks``) over mdl's public estimators.

Each check an estimator cannot pass is listed by name with the reason, as scikit-learn's
``expected_failed_checks`` asks; the reasons say which failures are by design (an estimator that reads raw
SMILES or its source's full descriptor, not any numeric matrix) and which are contract bugs still to fix
(see the report of issue 21). Estimators that need a source get a small real one, trained here on 120 QM9
molecules (a 256-bit Morgan count fingerprint), so the module builds its estimators at collection.
"""

from __future__ import annotations

from functools import cache

import pytest
from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from mdl import datasets
from mdl.descriptors import get_descriptor
from mdl.models.nn import NeuralNetRegressor
from mdl.models.svr import KernelSVR
from mdl.models.train import train_source
from mdl.transfer_learning.featurizer import NeuralDescriptors
from mdl.transfer_learning.finetune import FineTunedModel
from mdl.transfer_learning.leaderboard import TransferEnsemble
from mdl.transfer_learning.mean import MeanModel
from mdl.transfer_learning.model import TransferModel
from mdl.transfer_learning.profile import ProfileModel
from mdl.transfer_learning.scratch import ScratchModel
from mdl.transfer_learning.stacking import StackedTransferModel


@cache
def _sources():
    """A small network and forest source (QM9 gaps, 256-bit Morgan counts)."""
    smiles, y = datasets.load("qm9").xy("gap", limit=120, seed=1)
    morgan = get_descriptor("morgan", radius=2, n_bits=256, counts=True)
    D = morgan.transform(smiles)
    info = {"material": "molecule", "property": "gap", "unit": "eV", "dataset": "qm9"}
    nn = train_source(D, y, morgan.spec, family="nn", hyperparameters={"hidden": [16, 8], "epochs": 5},
                      model_id="t-gap-nn-0000", seed=0, info=info)
    rf = train_source(D, y, morgan.spec, family="rf", hyperparameters={"n_estimators": 5},
                      model_id="t-gap-rf-0000", seed=0, info=info)
    return nn, rf


#: an estimator that reads raw inputs of its source's descriptor, or that descriptor's full matrix (256
#: columns here), refuses scikit-learn's 2-10-column test matrices with DescriptorMismatchError: by design
_WIDTH = "reads raw SMILES or its descriptor's full 256-column matrix; the check's matrix has 1-10 columns"
WIDTH_BOUND = {name: _WIDTH for name in (
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_estimators_dtypes", "check_pipeline_consistency", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_regressors_train", "check_regressors_no_decision_function",
    "check_supervised_y_2d", "check_regressors_int", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_dict_unchanged", "check_fit_idempotent",
    "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d", "check_fit2d_1feature",
    "check_positive_only_tag_during_fit", "check_complex_data", "check_estimators_nan_inf",
    "check_estimators_empty_data_messages", "check_fit2d_1sample", "check_estimator_sparse_tag",
    "check_estimator_sparse_array", "check_estimator_sparse_matrix",
)}
#: failures of estimators reading a source's descriptor that are contract bugs, not the width
SOURCE_BUGS = {
    "check_dtype_object": "an object matrix is read as raw SMILES ('not a SMILES string'), not refused as a "
                          "matrix of the wrong width",
    "check_regressor_data_not_an_array": "bug: check_targets refuses a y that is array-like through __array__ "
                                         "('got a single _NotAnArray'); np.asarray it first",
    "check_requires_y_none": "bug: fit(X, None) says 'y must hold one target per row', not scikit-learn's "
                             "'requires y to be passed, but the target y is None'",
}
#: the network (a numeric estimator): every entry is a contract bug, fixed by validate_data/check_is_fitted
NETWORK_BUGS = {
    "check_estimators_unfitted": "bug: predict before fit does not raise NotFittedError (no check_is_fitted)",
    "check_n_features_in_after_fitting": "bug: predict does not check the number of features (validate_data "
                                         "with reset=False)",
    "check_complex_data": "bug: complex X is not refused (no validate_data in fit)",
    "check_estimators_empty_data_messages": "bug: an empty X is not refused with a ValueError",
    "check_estimators_nan_inf": "bug: NaN/inf in X is not refused in fit",
    "check_estimator_sparse_tag": "bug: sparse X fails without saying sparse input is not supported",
    "check_estimator_sparse_array": "bug: sparse X fails without saying sparse input is not supported",
    "check_estimator_sparse_matrix": "bug: sparse X fails without saying sparse input is not supported",
    "check_regressors_train": "bug: X and y of different lengths are not refused",
    "check_supervised_y_2d": "bug: a column-vector y gives no DataConversionWarning (not raveled by "
                             "validate_data)",
    "check_supervised_y_no_nan": "bug: inf in y is not refused",
    "check_fit1d": "bug: a 1-D X fails with IndexError instead of a ValueError",
    "check_fit2d_predict1d": "bug: a 1-D X in predict is not refused with scikit-learn's reshape message",
    "check_requires_y_none": "bug: fit(X, None) fails with IndexError instead of a ValueError",
}
EXPECTED_FAILED = {
    "NeuralNetRegressor": NETWORK_BUGS,
    "KernelSVR": {"check_fit2d_1sample": "bug: one sample fails with a message none of scikit-learn's "
                                         "patterns match (its inner CV cannot split one row)"},
    "MeanModel": {
        "check_n_features_in_after_fitting": "bug: fit does not set n_features_in_ (nor check it in predict)",
        "check_n_features_in": "bug: fit does not set n_features_in_",
        "check_estimator_sparse_tag": "bug: its tags say no sparse input, but its members take it: the tags "
                                      "should follow the members'",
        "check_supervised_y_2d": "bug: a column-vector y gives no DataConversionWarning",
    },
    "ScratchModel": {**WIDTH_BOUND, **SOURCE_BUGS},
    "FineTunedModel": {**WIDTH_BOUND, **SOURCE_BUGS},
    "TransferEnsemble": {**WIDTH_BOUND, **SOURCE_BUGS},
}


def _estimators() -> list:
    nn, rf = _sources()
    return [
        NeuralNetRegressor(hidden=(8,), epochs=5, patience=2),
        KernelSVR(),
        MeanModel([Ridge(), Ridge(alpha=2.0)]),
        ScratchModel(nn.descriptor, model="rf"),
        FineTunedModel(nn, epochs=3, patience=2),
        TransferEnsemble([nn], head="ridge"),
        NeuralDescriptors(nn),   # raw inputs only (two_d_array tag off): scikit-learn runs its tag checks
    ]


@parametrize_with_checks(_estimators(),
                         expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {}))
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


#: estimators scikit-learn's checks cannot even start on, and why: each entry is a contract bug. The test
#: below fails once one is fixed, so that it moves into the parametrized checks above.
NOT_CHECKABLE = {
    TransferModel: "bug: a public transform() makes scikit-learn take it for a transformer, whose "
                   "transformer_tags it does not set (make transform private, or set the tags)",
    StackedTransferModel: "bug: same as TransferModel (a public transform without transformer_tags)",
    ProfileModel: "bug: same as TransferModel (a public transform without transformer_tags)",
}


@pytest.mark.parametrize("kind", list(NOT_CHECKABLE), ids=lambda k: k.__name__)
def test_estimators_the_checks_cannot_start_on_are_listed_with_their_bug(kind):
    nn, rf = _sources()
    estimator = kind(nn, head="ridge", cv=None) if kind is TransferModel else kind([nn, rf], head="ridge")
    with pytest.raises(RuntimeError, match="seems to be a Transformer, but the `transformer_tags` tag is not set"):
        check_estimator(estimator, on_fail=None)


@pytest.mark.skip(reason="GraphNetRegressor and CHGNetFeaturizer take crystal graphs and structures "
                         "(GraphSet, pymatgen Structures), never a numeric matrix: no check of scikit-learn's "
                         "applies; CHGNetFeaturizer also needs the chgnet package's weights")
def test_graph_estimators_are_not_numeric_estimators():
    """Listed so that the report of which estimators are checked is complete."""
