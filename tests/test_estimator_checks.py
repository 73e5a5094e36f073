"""scikit-learn's own estimator checks (``parametrize_with_checks``) over mdl's public estimators.

Each check an estimator cannot pass is listed by name with the reason, as scikit-learn's
``expected_failed_checks`` asks. Every reason left is by design: an estimator that reads raw SMILES or its
source's full descriptor, not any numeric matrix, or a float32 network's last bit; the contract bugs issue
21 found (no input checks in the network, a public ``transform`` on regressors, a hidden CV, ``y`` checks)
are fixed, so their checks run and pass. The list is not strict (one float32 check depends on the BLAS);
``pytest -rX`` names any listed check that passes, which then leaves the list. Estimators that need a source
get a small real one, trained here on 120 QM9 molecules (a 256-bit Morgan count fingerprint), so the module
builds its estimators at collection.
"""

from __future__ import annotations

from functools import cache

import pytest
from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

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
#: a failure of estimators reading a source's descriptor that is about what they read, not a contract bug
SOURCE_READS = {
    "check_dtype_object": "an object matrix is read as raw inputs (here 'not a SMILES string'), which is what "
                          "an estimator of raw SMILES or formulas takes; refused, but not as a matrix",
    "check_regressor_data_not_an_array": "an X that is array-like only through __array__ is not a matrix of raw "
                                         "inputs; read as one, its 1-10 columns are not the 256 the source reads",
}
EXPECTED_FAILED = {
    "NeuralNetRegressor": {
        "check_methods_subset_invariance": "a float32 network: a batch of another size rounds the last bit "
                                           "differently (about 2e-7 here), above the check's 1e-7 tolerance; the "
                                           "saved zoo's numbers are float32, so predictions stay so",
    },
    "ScratchModel": {**WIDTH_BOUND, **SOURCE_READS},
    "FineTunedModel": {**WIDTH_BOUND, **SOURCE_READS},
    "TransferEnsemble": {**WIDTH_BOUND, **SOURCE_READS},
    "TransferModel": {**WIDTH_BOUND, **SOURCE_READS},
    "StackedTransferModel": {**WIDTH_BOUND, **SOURCE_READS},
    "ProfileModel": {**WIDTH_BOUND, **SOURCE_READS},
}


def _estimators() -> list:
    nn, rf = _sources()
    return [
        NeuralNetRegressor(hidden=(8,), epochs=30, patience=5, lr=1e-2),  # enough to pass the R² > 0.5 check
        KernelSVR(),
        MeanModel([Ridge(), Ridge(alpha=2.0)]),
        ScratchModel(nn.descriptor, model="rf"),
        FineTunedModel(nn, epochs=3, patience=2),
        TransferEnsemble([nn], head="ridge"),
        TransferModel(nn, head="ridge"),
        StackedTransferModel([nn, rf], head="ridge"),
        ProfileModel([nn, rf], head="ridge"),
        NeuralDescriptors(nn),   # raw inputs only (two_d_array tag off): scikit-learn runs its tag checks
    ]


@parametrize_with_checks(_estimators(),
                         expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {}))
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.skip(reason="GraphNetRegressor and CHGNetFeaturizer take crystal graphs and structures "
                         "(GraphSet, pymatgen Structures), never a numeric matrix: no check of scikit-learn's "
                         "applies; CHGNetFeaturizer also needs the chgnet package's weights")
def test_graph_estimators_are_not_numeric_estimators():
    """Listed so that the report of which estimators are checked is complete."""
