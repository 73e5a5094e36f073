"""The typed state of one screening: its checked settings, its candidates, and what a board needs to refit a row.

Every stage reads these by attribute: :class:`Settings` (the parameters of :func:`mdl.screen` that shape the
second stage, checked once), :class:`StageInputs` (what the candidates of one set of chosen sources are
built from), :class:`Candidate` (one row before scoring) and :class:`ScreenContext` (what a
:class:`~mdl.screening.leaderboard.Leaderboard` keeps to fit the model behind any of its rows).

>>> Settings(head="ridge", layers=-1, random_state=0, batched=True, modes=("hidden",), stack=0,
...          baselines=False, top_k=3, select="noise", margin=1.0).head
'ridge'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from mdl.descriptors import DescriptorSpec
from mdl.hub import Hub
from mdl.models.source import SourceModel

__all__ = ["Candidate", "ScreenContext", "Settings", "StageInputs"]


@dataclass(frozen=True)
class Settings:
    """The checked parameters of one screening that the second stage and its nested CV share.

    Attributes
    ----------
    head : str or BaseEstimator
        The head of transfer and stacked rows.
    layers : int, sequence of int or "all"
        Hidden layers used as neural descriptors.
    random_state : int
        Seed of the folds and the heads.
    batched : bool
        One padded forward pass per group of same-depth networks.
    modes : tuple of str
        The feature sets compared (:data:`~mdl.screening.kinds.CANDIDATES`).
    stack : int
        Sources the stacked row joins (0: none).
    baselines : bool
        Whether scratch rows are built.
    top_k : int
        Sources that become candidates.
    select, margin
        The selection rule (:func:`~mdl.screening.candidates.choose`).
    """

    head: str | BaseEstimator
    layers: Any
    random_state: int
    batched: bool
    modes: tuple[str, ...]
    stack: int
    baselines: bool
    top_k: int
    select: str
    margin: float


@dataclass
class StageInputs:
    """What the candidates of one set of chosen sources are built from (every row of the target).

    Attributes
    ----------
    chosen : list of SourceModel
        The sources of the second stage, best first.
    hidden : dict of str to ndarray
        Each chosen source's transfer features, by model id.
    raw : dict of str to ndarray
        Each descriptor spec's varying columns (:func:`~mdl.screening.candidates.raw_columns`).
    names : dict of str to str
        Each spec's descriptor name.
    predictions : dict of str to ndarray
        Chosen sources' predictions (every output a column), by model id, for the stacked row.
    settings : Settings
    profile : ndarray or None
        The prediction profile of ``profile_sources`` (no profile rows when None).
    profile_sources : list of SourceModel
    """

    chosen: list[SourceModel]
    hidden: dict[str, np.ndarray]
    raw: dict[str, np.ndarray]
    names: dict[str, str]
    predictions: dict[str, np.ndarray]
    settings: Settings
    profile: np.ndarray | None = None
    profile_sources: list[SourceModel] = field(default_factory=list)


@dataclass
class Candidate:
    """One board row before scoring: its features for every row and the learner that fits them.

    ``kind`` names its :data:`~mdl.screening.kinds.KINDS` entry, which builds, scores, names and refits it.
    """

    label: str
    kind: str
    features: str
    F: np.ndarray
    learner: BaseEstimator
    spec_key: str
    sources: list[SourceModel] = field(default_factory=list)
    scratch: str = ""  # the scratch learner of a scratch row ("rf" or "gb")
    head: str = ""  # the head of a profile row
    members: list[str] = field(default_factory=list)  # the rows a mean row averages


@dataclass
class ScreenContext:
    """What a board keeps to fit the model behind any of its rows on every screened row.

    Attributes
    ----------
    candidates : dict of str to Candidate
        Every scored row, by label.
    results : dict of str to dict
        Each row's CV scores (:func:`mdl.transfer_learning.cv.cv_run`), by label.
    matrices : dict of str to ndarray
        Each spec's descriptor matrix of the inputs (a graph spec: its records).
    specs : dict of str to DescriptorSpec
        Each spec, by fingerprint.
    X : the user's inputs
    y : ndarray
        The checked target.
    settings : Settings
    hub : str, Path, Hub or None
    cv : int
    groups : ndarray or None
    profile : ndarray or None
        The screen's prediction profile (profile rows refit on it: the sources run once).
    fitted : dict of str to BaseEstimator
        Models fitted so far, by label (each row is fitted once).
    """

    candidates: dict[str, Candidate]
    results: dict[str, dict[str, Any]]
    matrices: dict[str, Any]
    specs: dict[str, DescriptorSpec]
    X: Any
    y: np.ndarray
    settings: Settings
    hub: str | Path | Hub | None
    cv: int
    groups: np.ndarray | None
    profile: np.ndarray | None
    fitted: dict[str, BaseEstimator] = field(default_factory=dict)
