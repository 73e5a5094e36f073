"""The screen function: the stages of :mod:`mdl.screening` in order, and the board they make.

It is :func:`mdl.screen` (the same function object, re-exported by :mod:`mdl.api`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from tqdm.auto import tqdm

from mdl.errors import InvalidInputError
from mdl.hub import Hub
from mdl.hub.index import check_filters
from mdl.models.source import SourceModel
from mdl.screening.cache import row_keys
from mdl.screening.candidates import SELECT, Scored, raw_columns, second_stage, stage_inputs
from mdl.screening.context import ScreenContext, Settings, StageInputs
from mdl.screening.engines import make_engine
from mdl.screening.kinds import CANDIDATES, KINDS, head_name, main_scores, source_row
from mdl.screening.leaderboard import Leaderboard
from mdl.screening.nested import nested_cv
from mdl.screening.ranking import KNN_K, RIDGE_ALPHAS, STAGE1, Ranking, rank_sources
from mdl.screening.sources import (
    SkippedSourcesWarning,
    descriptor_matrices,
    no_usable_source,
    resolve_sources,
)
from mdl.transfer_learning.cv import Splits, make_splits, start_workers
from mdl.transfer_learning.heads import check_head
from mdl.transfer_learning.loading import group_by_spec
from mdl.validation import (
    check_choice,
    check_cv,
    check_groups,
    check_layers,
    check_number,
    check_targets,
    group_by_cause,
    n_inputs,
    summary_by_cause,
)

__all__ = ["screen"]


def screen(
    X: Any,
    y: Any,
    *,
    property: str | None = None,
    material: str | None = None,
    model_type: str | None = None,
    limit: int | None = None,
    sources: Any = None,
    head: str | BaseEstimator = "rf",
    cv: int = 5,
    groups: Any = None,
    top_k: int = 10,
    hub: str | Path | Hub | None = None,
    nested: bool = False,
    layers: int | Sequence[int] | str = -1,
    stage1: str = "ridge+knn",
    stage1_cv: str = "auto",
    baselines: bool = True,
    batched: bool = True,
    random_state: int = 0,
    progress: bool = True,
    features: str | Sequence[str] = "auto",
    stack: int = 5,
    select: str = "noise",
    margin: float = 1.0,
    engine: str = "local",
    address: str | None = None,
) -> Leaderboard:
    """Screen source models for the target ``(X, y)``; returns a :class:`Leaderboard`, best first.

    Parameters
    ----------
    X : raw inputs (SMILES, formulas, structures) or a ready descriptor matrix / DataFrame
        Each source computes its own descriptor, once per spec; a ready matrix works when every source
        shares that descriptor.
    y : array-like of shape (n_samples,)
        The target, one value per input.
    property, material, model_type, limit : optional
        Hub query (as :func:`mdl.search`) when ``sources`` is None; ``material`` and ``model_type`` are
        checked before the hub is read.
    sources : model ids, SourceModel objects or a :func:`mdl.search` result, optional
        The sources to screen.
    head : str or BaseEstimator, default "rf"
        The head of the second stage ("rf", "ridge", "mlp", "svr" or a scikit-learn regressor).
    cv : int, default 5
        Folds; the same folds score every candidate and baseline.
    groups : array-like, optional
        Group labels for grouped k-fold CV (e.g. :func:`value_range_groups` for extrapolation).
    top_k : int, default 10
        Sources that get the head with full CV after the first-stage ranking.
    hub : str, Path, Hub or None
        Where sources are searched and loaded (default hub when None).
    nested : bool, default False
        Also estimate the error of the whole select-then-fit procedure by nested CV (outer ``cv`` folds;
        inside each, the same two stages on the outer-training rows only).
    layers : int, sequence of int or "all", default -1
        Hidden layers used as neural descriptors (see :class:`TransferModel`).
    stage1 : {"ridge+knn", "ridge", "knn"}
        Ranking of the first stage: closed-form ridge error, k-nearest-neighbour error, or the mean of
        both ranks (default; kNN tracks forest heads, ridge linear ones).
    stage1_cv : {"auto", "loo", "kfold"}
        Exact leave-one-out errors, exact errors on the CV folds, or leave-one-out unless ``groups`` is
        given.
    baselines : bool, default True
        Add random forest and gradient boosting trained from scratch on each raw descriptor.
    batched : bool, default True
        One padded forward pass per group of same-depth networks (False: one by one).
    random_state : int, default 0
        Seed of the folds and the heads.
    progress : bool, default True
        Show two progress bars: sources ranked by the first stage, then candidates cross-validated (each
        bar counts what its description names).
    features : str or sequence of str, default "auto"
        What the head of a transfer row sees: "hidden" (the source's transfer features), "joined" (those
        joined to the raw descriptor), "stacked" (one row: the raw descriptor joined with the predictions
        of the top ``stack`` sources), "profile" (rows whose descriptor is the prediction of every screened
        source, one per head of :data:`~mdl.transfer_learning.profile.PROFILE_HEADS`, whatever ``head``
        is, and one per raw descriptor joined to the profile with an ``svr`` head), a list of these, or
        "auto" (all four). Each is a row. With profile rows and ``baselines``, ``mean`` rows average the
        best profile row with the best scratch row, every profile row, and every profile row with the best
        scratch row (their CV errors are exact: the mean of their members' out-of-fold predictions).
    stack : int, default 5
        How many of the top sources the stacked row joins (0: no stacked row).
    select : {"noise", "best"}
        Which row ``board.best`` is: "noise" the lowest CV error, except that a row using the zoo must
        beat the best scratch row by more than ``margin`` standard errors of their paired fold
        differences, else that scratch row; "best" the lowest CV error. ``board.info["selected"]`` says
        which and why (see :func:`mdl.screening.candidates.choose`).
    margin : float, default 1.0
        Standard errors of the "noise" rule.
    engine : {"local", "ray"}, default "local"
        Where the first stage (every source's features, scores and predictions: the part that grows with
        the zoo) runs: in this process, or sharded over a Ray cluster, one task per block of sources
        (:mod:`mdl.screening.engines`); the board is the same. The second stage's fits use
        ``MDL_WORKERS`` processes of this machine either way.
    address : str, optional
        The Ray cluster (``engine="ray"``): "auto", "ray://host:10001"...; default a local Ray instance.

    Returns
    -------
    Leaderboard
        One row per candidate, best first, with ``best`` (the recommended model, fitted once with its CV
        scores), ``screened``, ``predictions``, ``skipped`` and ``info``.

    Raises
    ------
    InvalidInputError
        For a bad parameter or target (naming it or the rows), an unknown ``material`` or ``model_type``
        (listing those accepted), or when no source can be used.
    HubNotFoundError, RepositoryNotFoundError
        When a search is asked of a hub that does not exist (nothing is created).
    EmptyHubError
        When the hub holds no model, saying how to fill it.
    ModelNotFoundError
        When no source matches the query, or an id of ``sources`` is not in the hub.

    Notes
    -----
    Sources whose descriptor or features cannot be computed for some input are skipped and reported
    (``Leaderboard.skipped`` and a :class:`SkippedSourcesWarning`); rows are never dropped.

    Examples
    --------
    >>> board = mdl.screen(smiles, y, property="gap", material="molecule", top_k=10)   # doctest: +SKIP
    >>> board.best.predict(["CCO"])                                                   # doctest: +SKIP
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    _check_query(material, model_type, stage1, stage1_cv, limit)
    make_engine(engine, address, None, [])  # the name and address are checked before the hub is read
    settings = _settings(head=head, layers=layers, random_state=random_state, batched=batched, features=features,
                         stack=stack, baselines=baselines, top_k=top_k, select=select, margin=margin)
    y = check_targets(y, n_inputs(X), multi_output=False, allow_constant=False)
    cv = check_cv(cv, len(y))
    groups = check_groups(groups, len(y), cv)
    start_workers()  # the second stage's fit processes start while the sources load and the first stage runs
    pool = resolve_sources(sources, property=property, material=material, model_type=model_type, limit=limit,
                           hub=hub)
    for s in pool:
        if s.is_network:
            check_layers(layers, s.estimator.n_hidden_layers, s.model_id)
    runner = make_engine(engine, address, hub, _hub_ids(sources, pool))
    timings["load"] = time.perf_counter() - started

    # descriptors: once per spec; a spec that fails skips its sources (reported, rows kept)
    tick = time.perf_counter()
    by_spec = group_by_spec(pool)
    keys = row_keys(X)  # content keys of the inputs: what earlier screenings computed for them is reused
    matrices, skipped = descriptor_matrices(by_spec, X, keys)
    if not matrices:
        raise no_usable_source(skipped)
    y = check_targets(y, len(next(iter(matrices.values()))), multi_output=False)
    splits = make_splits(len(y), cv, groups, random_state)
    loo = stage1_cv == "loo" or (stage1_cv == "auto" and groups is None)
    outer, inner = _nested_folds(splits, cv, groups, random_state, loo) if nested else ([], [])
    timings["descriptors"] = time.perf_counter() - tick

    # first stage: features in batches per spec, cheap exact scores for every source (and outer fold)
    tick = time.perf_counter()
    ranked = sum(len(m) for k, m in by_spec.items() if k in matrices)
    with tqdm(total=ranked, unit="source", disable=not progress,
              desc=f"screening: first stage, {ranked} sources ranked{f' on {cv} outer folds too' if nested else ''}") \
            as bar:
        ranking = rank_sources(by_spec, matrices, y, None if loo else [test for _, test in splits], outer,
                               method=stage1, layers=layers, batched=batched, skipped=skipped, bar=bar,
                               outputs="profile" in settings.modes, engine=runner, keys=keys)
    if not ranking.usable:
        raise no_usable_source(skipped)
    timings["features_and_stage1"] = time.perf_counter() - tick

    # second stage: every kind's candidates for the top_k sources (and the scratch baselines), same folds
    tick = time.perf_counter()
    names = {key: members[0].descriptor.name for key, members in by_spec.items() if key in matrices}
    outputs = ranking.outputs
    inputs = stage_inputs(ranking.top(settings.top_k), matrices, raw_columns(matrices), names, settings,
                          hidden=dict(ranking.graph_features),
                          predictions=dict(outputs), profile=np.hstack(list(outputs.values())) if outputs else None,
                          profile_sources=[s for s in ranking.usable if s.model_id in outputs])
    scored = second_stage(inputs, y, splits, progress=progress)
    if skipped:  # after the progress bar, so that the warning is not printed inside it
        warnings.warn(f"{len(skipped)} of {len(pool)} sources skipped, by cause:\n"
                      + summary_by_cause(group_by_cause(skipped)), SkippedSourcesWarning, stacklevel=2)
    timings["heads_and_baselines"] = time.perf_counter() - tick

    # nested CV of the whole select-then-fit procedure
    tick = time.perf_counter()
    nested_info = nested_cv(ranking.usable, ranking.fold_keys, matrices, inputs, y, splits, inner) if nested else None
    timings["nested"] = time.perf_counter() - tick

    # the board, and the model it hands back: the best candidate, unless its lead over scratch is within noise
    timings["total"] = time.perf_counter() - started
    board = _board(scored, ranking, inputs, nested_info, cv, groups, y)
    board.skipped = {model_id: _reason(cause, rows) for model_id, (cause, rows) in skipped.items()}
    best_scratch = board.loc[board["kind"] == "scratch", "candidate"]
    kinds = {c.label: c.kind for c in scored.candidates}
    board.info = {
        "n_samples": len(y), "cv": int(cv), "grouped": groups is not None, "head": head_name(head),
        "layers": layers if not isinstance(layers, np.ndarray) else layers.tolist(),
        "first_stage": f"{stage1} ranking; {'leave-one-out' if loo else f'{cv}-fold'} errors; closed-form ridge "
                       f"with alphas/n in [{RIDGE_ALPHAS[0]:g}, {RIDGE_ALPHAS[-1]:g}], {KNN_K}-nearest neighbours",
        "stage1": stage1, "n_sources": len(pool), "n_screened": len(ranking.usable), "n_skipped": len(skipped),
        "top_k": settings.top_k, "features": list(settings.modes), "stack": settings.stack, "select": select,
        "margin": settings.margin,
        "selected": {"candidate": scored.selected, "kind": kinds[scored.selected], "reason": scored.reason},
        "best_scratch": best_scratch.iloc[0] if len(best_scratch) else None,
        "skipped_by_cause": group_by_cause(skipped), "nested": nested_info, "timings": timings,
        "random_state": random_state, "unit": "", "engine": engine,
    }
    board._context = ScreenContext(
        candidates={c.label: c for c in scored.candidates}, results=scored.results, matrices=matrices,
        specs={key: members[0].descriptor for key, members in by_spec.items()}, X=X, y=y, settings=settings,
        hub=hub, cv=cv, groups=groups, profile=inputs.profile)
    tick = time.perf_counter()
    board.best = board.model(scored.selected)
    timings["fit_best"] = time.perf_counter() - tick
    return board


def _hub_ids(sources: Any, pool: list[Any]) -> list[str]:
    """Ids of the pool's sources that were loaded from the hub (searched, or given by id)."""
    if sources is None or isinstance(sources, pd.DataFrame):
        return [s.model_id for s in pool]
    if isinstance(sources, str):
        return [sources]
    if isinstance(sources, SourceModel):
        return []
    return [x for x in sources if isinstance(x, str)]


def _settings(*, head: Any, layers: Any, random_state: int, batched: bool, features: str | Sequence[str],
              stack: int, baselines: bool, top_k: int, select: str, margin: float) -> Settings:
    """The parameters of :func:`screen` that shape the second stage, checked and normalised."""
    top_k = check_number(top_k, "top_k", low=1)
    modes = _modes(features)
    stack = check_number(stack, "stack", low=0)
    check_choice(select, "select", SELECT)
    margin = check_number(margin, "margin", integer=False, low=0.0)
    check_head(head)
    check_layers(layers)
    return Settings(head=head, layers=layers, random_state=random_state, batched=batched, modes=modes,
                    stack=int(stack), baselines=baselines, top_k=int(top_k), select=select, margin=float(margin))


def _check_query(material: str | None, model_type: str | None, stage1: str, stage1_cv: str,
                 limit: int | None) -> None:
    """The hub query's closed choices and the first stage's, refused before the hub is read."""
    check_filters(material, model_type)
    check_choice(stage1_cv, "stage1_cv", ("auto", "loo", "kfold"))
    check_choice(stage1, "stage1", STAGE1)
    check_number(limit, "limit", low=1, optional=True)


def _modes(features: str | Sequence[str]) -> tuple[str, ...]:
    """The candidate feature sets named by ``features`` (see :func:`screen`)."""
    picked = CANDIDATES if features == "auto" else (features,) if isinstance(features, str) else tuple(features)
    for mode in picked:
        check_choice(mode, "features", (*CANDIDATES, "auto"))
    if not picked:
        raise InvalidInputError(f"features names no candidate; use 'auto' or some of {CANDIDATES}")
    return picked


def _nested_folds(splits: Splits, cv: int, groups: np.ndarray | None, random_state: int,
                  loo: bool) -> tuple[list[tuple[np.ndarray, Any]], list[Splits]]:
    """Per outer fold: (its training rows, their first-stage folds or None) and the inner folds of those rows."""
    outer, inner = [], []
    for train, _ in splits:
        inner_cv = cv if groups is None else min(cv, len(np.unique(groups[train])))
        if inner_cv < 2:
            raise InvalidInputError("nested grouped CV needs at least 3 groups: an outer-training part has "
                                    "fewer than 2 groups to split")
        folds = make_splits(len(train), inner_cv, None if groups is None else groups[train], random_state)
        outer.append((train, None if loo else [test for _, test in folds]))
        inner.append(folds)
    return outer, inner


def _board(scored: Scored, ranking: Ranking, inputs: StageInputs, nested_info: dict[str, Any] | None, cv: int,
           groups: np.ndarray | None, y: np.ndarray) -> Leaderboard:
    """The leaderboard table: scored rows best first with what each estimate is, ``screened``, ``predictions``."""
    stage1_of = ranking.scores_of()
    head = inputs.settings.head
    rows = [{**KINDS[c.kind].describe(c, inputs.names, head, stage1_of), "candidate": c.label, "kind": c.kind,
             "features": c.features, **main_scores(scored.results[c.label])} for c in scored.candidates]
    oof = dict(scored.oof)
    if nested_info is not None:
        oof["select-then-fit"] = nested_info.pop("oof")
        rows.append({"model_id": "select-then-fit", "candidate": "select-then-fit", "features": "",
                     "source_property": "", "source_material": "", "source_family": "", "descriptor": "",
                     "source_test_mae": np.nan, "source_test_r2": np.nan, "kind": "select-then-fit",
                     "head": head_name(head), "ridge_mae": np.nan, "knn_mae": np.nan, **main_scores(nested_info)})
    cv_name = f"{cv}-fold {'grouped ' if groups is not None else ''}CV"
    estimates = {name: kind.estimate(cv_name) for name, kind in KINDS.items()}
    estimates["select-then-fit"] = (f"nested CV ({cv} outer x {cv} inner folds) of ranking + choosing among every "
                                    "candidate + fitting: the honest error of the whole procedure")
    board = Leaderboard(rows)
    board["estimate"] = board["kind"].map(estimates)
    board = board.sort_values("mae", kind="stable").reset_index(drop=True)
    board.insert(0, "rank", np.arange(1, len(board) + 1))

    head_mae = {c.sources[0].model_id: scored.results[c.label]["mae"] for c in scored.candidates
                if c.kind == "transfer" and c.features == "hidden"}
    screened = pd.DataFrame([{**source_row(s), "ridge_mae": stage1_of[s.model_id][0],
                              "ridge_alpha": stage1_of[s.model_id][1], "knn_mae": stage1_of[s.model_id][2],
                              "head_mae": head_mae.get(s.model_id, np.nan)} for s in ranking.usable])
    screened = screened.iloc[ranking.order].reset_index(drop=True)
    screened.insert(0, "stage1_rank", np.arange(1, len(screened) + 1))
    oof_frame = pd.DataFrame(oof)
    oof_frame.insert(0, "y", y)
    board.screened = screened
    board.predictions = oof_frame
    return board


def _reason(cause: str, rows: list[int]) -> str:
    """Why one source was skipped, with its rows (as :class:`InvalidInputError` shows them)."""
    return str(InvalidInputError(cause, rows=rows))
