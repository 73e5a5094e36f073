"""Input validation in one place: every bad target or parameter is refused early, naming rows or parameter."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from mdl.descriptors import get_descriptor
from mdl.errors import InvalidInputError
from mdl.transfer_learning.heads import check_head
from mdl.validation import (
    check_choice,
    check_cv,
    check_freeze,
    check_groups,
    check_input_lengths,
    check_known,
    check_layers,
    check_material,
    check_number,
    check_targets,
    group_by_cause,
    split_rows,
    summary_by_cause,
)


def test_targets_must_be_numbers_one_per_row():
    with pytest.raises(InvalidInputError, match=r"targets must be numbers; 20 are not \(e.g. 'a' in row 0\)") as err:
        check_targets(["a"] * 20)
    assert err.value.rows == list(range(20))
    with pytest.raises(InvalidInputError, match="targets must be numbers; 1 are not") as err:
        check_targets(pd.Series([1.0, 2.0, "n/a", 4.0], dtype=object))
    assert err.value.rows == [2]
    for scalar in (3.0, "3.0", np.float64(3.0)):
        with pytest.raises(InvalidInputError, match="one target per row"):
            check_targets(scalar)
    # no y at all: scikit-learn's own words, which its estimator checks look for
    with pytest.raises(InvalidInputError, match="requires y to be passed, but the target y is None"):
        check_targets(None)


def test_targets_array_like_through_array_protocol():
    """An object that is array-like only through ``__array__`` (no ``len``) is read as numpy reads it."""

    class ArrayOnly:
        def __init__(self, values):
            self.values = values

        def __array__(self, dtype=None, copy=None):
            return np.asarray(self.values, dtype=dtype)

    assert check_targets(ArrayOnly([1.0, 2.0, 4.0]), n_rows=3).tolist() == [1.0, 2.0, 4.0]
    assert check_targets(ArrayOnly([[1.0], [2.0]]), multi_output=False).tolist() == [1.0, 2.0]
    with pytest.raises(InvalidInputError, match="one target per row.*got a single ndarray"):  # one value
        check_targets(ArrayOnly(5.0))
    with pytest.raises(InvalidInputError, match="rows of different lengths"):
        check_targets([[1.0, 2.0], [3.0]])


def test_targets_finite_length_shape_and_not_constant():
    y = np.array([1.0, np.nan, 3.0, np.inf, 5.0])
    with pytest.raises(InvalidInputError, match=r"NaN or infinite values \(2 of 5\)") as err:
        check_targets(y)
    assert err.value.rows == [1, 3]
    with pytest.raises(InvalidInputError, match="X has 4 rows but y has 3"):
        check_targets([1.0, 2.0, 3.0], n_rows=4)
    with pytest.raises(InvalidInputError, match="constant"):
        check_targets([2.0] * 5, allow_constant=False)
    assert check_targets([2.0] * 5).tolist() == [2.0] * 5           # training may see a constant column
    with pytest.raises(InvalidInputError, match="at least 2 are needed"):
        check_targets([1.0], min_rows=2)
    # a one-column table is one target; wider tables only where several properties are learnt
    assert check_targets(np.arange(4.0)[:, None], multi_output=False).shape == (4,)
    with pytest.raises(InvalidInputError, match=r"one column of targets, got shape \(4, 2\)"):
        check_targets(np.ones((4, 2)), multi_output=False)
    table = np.array([[1.0, np.nan], [np.nan, 2.0], [np.nan, np.nan]])
    with pytest.raises(InvalidInputError, match="no label at all") as err:
        check_targets(table)
    assert err.value.rows == [2]
    np.testing.assert_array_equal(check_targets(table[:2]), table[:2])   # sparse labels are fine


def test_numeric_parameters():
    assert check_number(5, "epochs", low=1) == 5 and isinstance(check_number(np.int64(5), "epochs", low=1), int)
    for bad in (0, -5, 2.5, True, "10", None):
        with pytest.raises(InvalidInputError, match=r"epochs must be an integer >= 1, got"):
            check_number(bad, "epochs", low=1)
    assert check_number(None, "limit", low=1, optional=True) is None
    with pytest.raises(InvalidInputError, match=r"lr must be a finite number > 0, got nan"):
        check_number(float("nan"), "lr", integer=False, low=0, low_open=True)
    with pytest.raises(InvalidInputError, match=r"validation_fraction must be a finite number in \[0, 1\), got 1"):
        check_number(1, "validation_fraction", integer=False, low=0, high=1, high_open=True)
    assert check_number(1, "lr", integer=False, low=0, low_open=True) == 1.0
    with pytest.raises(InvalidInputError, match=r"stage1 must be one of 'ridge', 'knn'; got 'svm'"):
        check_choice("svm", "stage1", ("ridge", "knn"))
    with pytest.raises(InvalidInputError, match="stage1 must be one of"):
        check_choice(["ridge"], "stage1", ("ridge", "knn"))


def test_cross_validation_parameters():
    assert check_cv(3, 10) == 3 and check_cv(None, optional=True) is None and check_cv(0, optional=True) is None
    for bad in (1, 0, None, 2.0, "5"):
        with pytest.raises(InvalidInputError, match="cv must be an integer >= 2"):
            check_cv(bad)
    with pytest.raises(InvalidInputError, match="4 samples are fewer than the 5 cross-validation folds"):
        check_cv(5, 4)
    np.testing.assert_array_equal(check_groups(["a", "b", "c", "a"], 4, 3), ["a", "b", "c", "a"])
    assert check_groups(None, 4, 3) is None
    with pytest.raises(InvalidInputError, match=r"one label per sample \(4\), got shape \(3,\)"):
        check_groups([0, 1, 2], 4, 2)
    with pytest.raises(InvalidInputError, match="2 distinct groups are fewer than the 3 folds"):
        check_groups([0, 1, 0, 1], 4, 3)


def test_layers_freeze_and_head():
    assert check_layers(-1, 3) == -1 and check_layers("all", 3) == "all"
    picks = np.array([0, 2])
    assert check_layers(picks, 3) is picks  # any sequence of integer indices, handed back as given
    for bad in ("last", [], [0.5], True, 1.0, None):
        with pytest.raises(InvalidInputError, match="layers must be an index of a hidden layer"):
            check_layers(bad)
    for bad in (3, -4, [0, 99]):
        with pytest.raises(InvalidInputError, match=r"out of range: network m-0 has 3 hidden layers \(use -3..2"):
            check_layers(bad, 3, model="m-0")
    assert check_freeze("all", 3) == 3 and check_freeze(0, 3) == 0 and check_freeze("all") == "all"
    for bad, depth in ((4, 3), (-1, 3), (True, 3), ("some", 3), (1.5, None), ("none", None)):
        with pytest.raises(InvalidInputError, match="freeze must be 'all' or a number of leading hidden layers"):
            check_freeze(bad, depth)
    assert check_head("ridge") == "ridge"
    regressor = Ridge()
    classifier = LogisticRegression()  # duck-typed: anything with fit, predict and get_params is taken as it is
    assert check_head(regressor) is regressor and check_head(classifier) is classifier
    for bad in ("nonsense", Ridge, 3, None):
        with pytest.raises(InvalidInputError, match=r"head must be one of 'rf', 'ridge', 'mlp', 'svr' \(or several joined by '\+'\) or a scikit-learn"):
            check_head(bad)


def test_long_raw_strings_are_refused_before_parsing(monkeypatch):
    """One 100,000-character SMILES costs gigabytes in RDKit's Morgan generator: refused in milliseconds."""
    morgan = get_descriptor("morgan", radius=2, n_bits=256)
    started = time.perf_counter()
    with pytest.raises(InvalidInputError, match="SMILES longer than 2000 characters.*MDL_MAX_SMILES_LENGTH") as err:
        morgan.transform(["CCO", "C" * 100_000, "CC", "C" * 2001])
    assert err.value.rows == [1, 3] and time.perf_counter() - started < 1.0
    with pytest.raises(InvalidInputError, match="repeat-unit SMILES longer than") as err:
        get_descriptor("morgan", polymer=True).transform(["*CC*", "*" + "C" * 3000 + "*"])
    assert err.value.rows == [1]
    for name in ("element_fraction", "composition"):
        with pytest.raises(InvalidInputError, match="formulas longer than 2000") as err:
            get_descriptor(name).transform(["Fe2O3", "Fe" * 1500])
        assert err.value.rows == [1]
    with pytest.raises(InvalidInputError, match="CIF texts longer than 1000000 characters.*MDL_MAX_CIF_LENGTH"):
        get_descriptor("structure").transform(["data_x\n_cell_length_a 3\n" + " " * 1_000_000])
    monkeypatch.setenv("MDL_MAX_SMILES_LENGTH", "10")           # the setting moves the limit both ways
    with pytest.raises(InvalidInputError, match="longer than 10 characters") as err:
        morgan.transform(["CCO", "CCCCCCCCCCCC"])
    assert err.value.rows == [1]
    monkeypatch.setenv("MDL_MAX_SMILES_LENGTH", "200000")
    assert morgan.transform(["C" * 3000]).shape == (1, 256)
    check_input_lengths([1.5, None, {"Fe": 2}], "formulas")     # only strings have a length to check


def test_problems_grouped_by_cause():
    problems = {f"carbon24-nn-{i:04d}": ("not a crystal structure", range(250)) for i in range(66)}
    problems["qm9-nn-0000"] = ("non-finite transfer features", [3, 9])
    groups = group_by_cause(problems)
    assert [(g["cause"], len(g["items"]), len(g["rows"])) for g in groups] == [
        ("not a crystal structure", 66, 250), ("non-finite transfer features", 1, 2)]
    text = summary_by_cause(groups)
    assert text.splitlines() == [
        "66 sources: not a crystal structure (rows 0, 1, 2, 3, 4, … 250 in all; e.g. carbon24-nn-0000, "
        "carbon24-nn-0001, carbon24-nn-0002, …)",
        "1 source: non-finite transfer features (rows 3, 9; qm9-nn-0000)",
    ]
    assert len(text) < 300          # one line per cause, not 66 x 250 row numbers
    assert split_rows(InvalidInputError("invalid SMILES", rows=range(30))) == ("invalid SMILES", list(range(30)))
    assert split_rows(ValueError("plain")) == ("plain", [])


def test_materials_are_a_closed_choice_listing_the_valid_ones():
    assert [check_material(m) for m in ("molecule", "Polymer", " INORGANIC ", None)] == \
        ["molecule", "polymer", "inorganic", None]
    for bad in ("crystal", "molecules", "", 3, ["molecule"]):
        with pytest.raises(InvalidInputError) as err:
            check_material(bad)
        assert str(err.value) == f"unknown material {bad!r}; use one of 'inorganic', 'molecule', 'polymer'"


def test_known_names_take_aliases_and_ignore_case_and_separators():
    families = {"rf": "rf", "random forest": "rf", "gb": "gb"}
    assert [check_known(v, "model_type", families) for v in ("RF", "random-forest", "Random_Forest", "gb")] == \
        ["rf", "rf", "rf", "gb"]
    with pytest.raises(InvalidInputError, match=r"^unknown model_type 'svm'; use one of 'gb', 'random forest', 'rf'$"):
        check_known("svm", "model_type", families)
