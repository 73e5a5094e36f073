"""The kinds of board row: one table, one protocol, so that a new kind of row is one class."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neighbors import KNeighborsRegressor

import mdl
from mdl.screening.context import Candidate
from mdl.screening.kinds import CANDIDATES, KINDS, RowKind, tiers
from mdl.transfer_learning import cross_validated

PROTOCOL = ("build", "describe", "estimate", "refit")


def test_every_kind_is_registered_once_and_implements_the_protocol():
    assert list(KINDS) == ["transfer", "stacked", "profile", "scratch", "mean"]
    for name, kind in KINDS.items():
        assert isinstance(kind, RowKind) and kind.name == name
        missing = [m for m in PROTOCOL if getattr(type(kind), m) is getattr(RowKind, m)]
        assert missing == [], f"{name} does not implement {missing}"
        assert "CV" in kind.estimate("5-fold CV")
    modes = [mode for kind in KINDS.values() for mode in kind.modes]
    assert len(modes) == len(set(modes)) and tuple(modes) == CANDIDATES
    assert [name for tier in tiers() for name in tier] == sorted(KINDS, key=lambda n: KINDS[n].tier)
    assert tiers()[0] == ("scratch",)   # the reference every other row must beat


class NeighboursKind(RowKind):
    """A toy kind: 3-nearest neighbours on each raw descriptor."""

    name, tier = "neighbours", 3

    def build(self, inputs, scored=(), mae=None):
        return [Candidate(f"knn[{inputs.names[key]}]", self.name, "raw", D, KNeighborsRegressor(3), key)
                for key, D in inputs.raw.items()]

    def describe(self, c, names, head, stage1_of):
        return {"model_id": c.label, "source_property": "", "source_material": "", "source_family": "",
                "descriptor": names[c.spec_key], "source_test_mae": np.nan, "source_test_r2": np.nan,
                "ridge_mae": np.nan, "knn_mae": np.nan, "head": "3 neighbours"}

    def estimate(self, cv_name):
        return f"{cv_name}; a toy"

    def refit(self, c, context):
        return clone(c.learner).fit(c.F, context.y)


def test_a_new_kind_of_row_is_one_class_in_the_table(sources, target, morgan, monkeypatch):
    smiles, y = target
    monkeypatch.setitem(KINDS, "neighbours", NeighboursKind())
    board = mdl.screen(smiles, y, sources=[sources["nn"]], head="ridge", cv=3, top_k=1, features="hidden",
                       baselines=False, nested=True, progress=False)
    row = board[board["kind"] == "neighbours"].iloc[0]
    assert row["candidate"] == "knn[morgan]" and row["estimate"] == "3-fold CV; a toy"
    D = morgan.transform(smiles)
    raw = D[:, np.ptp(D, axis=0) > 0]
    assert row["mae"] == pytest.approx(cross_validated(KNeighborsRegressor(3), raw, y, 3)["mae"], rel=1e-12)
    model = board.model("knn[morgan]")
    assert isinstance(model, KNeighborsRegressor) and model.n_samples_fit_ == len(y)
    assert model is board.model("knn[morgan]")   # fitted once
    assert len(board.info["nested"]["selected_per_fold"]) == 3   # nested CV built and scored it too
    assert "neighbours" in tiers()[-1]   # and the pick ranks it with the rows that choose among sources
