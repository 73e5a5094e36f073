"""The first stage of screening: every source ranked by cheap, exact held-out errors on its transfer features.

Each source is scored on its standardised transfer features by closed-form ridge regression (exact
leave-one-out errors from the hat matrix, or exact k-fold errors, over a grid of penalties from one SVD)
and by exact leave-one-out (or k-fold) 3-nearest-neighbour regression, a local score that follows
forest heads far better than the linear one. The ranking key is either score or the mean of both ranks.

>>> rng = np.random.default_rng(0); X = rng.normal(size=(30, 3)); y = X @ [1.0, 2.0, 0.0]
>>> scores = stage1_scores(np.stack([X, rng.normal(size=(30, 3))]), y, None)
>>> stage1_rank(scores, "ridge+knn").argsort().tolist()       # the informative features first
[0, 1]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from mdl.errors import ModelFormatError
from mdl.models.source import SourceModel
from mdl.transfer_learning.model import transfer_features
from mdl.transfer_learning.profile import card_fingerprint, outputs_from_features
from mdl.screening.cache import screen_cache
from mdl.screening.sources import Skipped

__all__ = ["KNN_K", "RIDGE_ALPHAS", "STAGE1", "BlockScores", "Engine", "LocalEngine", "Ranking", "StageOne", "blocks", "knn_cv_errors",
           "rank_sources", "ridge_cv_errors", "score_block", "stage1_rank", "stage1_scores"]

#: penalties of the first stage, relative to the number of training rows (features are standardised)
RIDGE_ALPHAS = np.logspace(-4, 2, 13)
#: neighbours of the first stage's k-nearest-neighbour score
KNN_K = 3
#: ranking keys of the first stage
STAGE1 = ("ridge+knn", "ridge", "knn")
_BLOCK = 256  # sources whose features are held in memory at once


def ridge_cv_errors(F: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray] | None = None,
                    alphas: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact held-out errors of ridge regression with an unpenalised intercept.

    Parameters
    ----------
    F : ndarray of shape (n, p) or (B, n, p)
        One feature matrix or a batch of them, for the same targets; columns are standardised.
    y : ndarray of shape (n,)
        Targets.
    folds : sequence of ndarray, optional
        Test rows of each fold: exact k-fold errors ``e_f = (I - H_ff)^-1 r_f``; None: leave-one-out
        errors ``e = r / (1 - h)`` from the hat matrix. Both are exact for ridge refitted without the
        held-out rows.
    alphas : ndarray, optional
        Penalties searched jointly from one SVD per matrix (default ``RIDGE_ALPHAS * n``).

    Returns
    -------
    errors : ndarray of shape (B, n, A), or (n, A) for one matrix
        Signed held-out errors, per penalty.
    alphas : ndarray of shape (A,)

    Examples
    --------
    >>> rng = np.random.default_rng(0); X = rng.normal(size=(30, 3)); y = X @ [1.0, 2.0, 0.0]
    >>> errors, alphas = ridge_cv_errors(X, y)
    >>> float(np.abs(errors).mean(axis=0).min()) < 0.05
    True
    """
    single, Z = _standardised(F)
    y = np.asarray(y, dtype=np.float64)
    n = Z.shape[1]
    alphas = RIDGE_ALPHAS * n if alphas is None else np.asarray(alphas, dtype=np.float64)
    U, s2 = _left_singular(Z)                                      # U (B, n, r)
    s2 = s2[:, :, None]
    shrink = np.where(s2 > 1e-10 * s2.max(axis=1, keepdims=True), s2 / (s2 + alphas[None, None, :]), 0.0)
    centred = y - y.mean()
    fitted = y.mean() + np.einsum("bnr,bra->bna", U, shrink * np.einsum("bnr,n->br", U, centred)[:, :, None])
    residual = y[None, :, None] - fitted                          # (B, n, A)
    if folds is None:
        leverage = 1.0 / n + np.einsum("bnr,bra->bna", U**2, shrink)
        errors = residual / np.maximum(1.0 - leverage, 1e-12)
    else:
        errors = np.empty_like(residual)
        for test in folds:
            Uf = U[:, test, :]                                      # (B, m, r)
            H = 1.0 / n + np.einsum("bir,bra,bjr->baij", Uf, shrink, Uf)
            system = np.eye(len(test))[None, None] - H              # (B, A, m, m)
            errors[:, test, :] = np.linalg.solve(system, residual[:, test, :].transpose(0, 2, 1)[..., None])[..., 0] \
                .transpose(0, 2, 1)
    return (errors[0] if single else errors), alphas


def knn_cv_errors(F: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray] | None = None,
                  k: int = KNN_K) -> np.ndarray:
    """Exact held-out errors of k-nearest-neighbour regression (uniform weights, standardised features).

    Parameters
    ----------
    F : ndarray of shape (n, p) or (B, n, p)
        One feature matrix or a batch of them.
    y : ndarray of shape (n,)
        Targets.
    folds : sequence of ndarray, optional
        Test rows of each fold: a row's neighbours are searched outside its own fold (None: among all
        other rows, i.e. leave-one-out).
    k : int, default KNN_K
        Neighbours.

    Returns
    -------
    ndarray of shape (B, n), or (n,) for one matrix
        Signed held-out errors.

    Examples
    --------
    >>> X = np.arange(10.0)[:, None]; y = 2 * X[:, 0]
    >>> knn_cv_errors(X, y, k=2).tolist()[:3]
    [-3.0, 0.0, 0.0]
    """
    single, Z = _standardised(F)
    y = np.asarray(y, dtype=np.float64)
    n = Z.shape[1]
    sq = (Z**2).sum(axis=2)
    d2 = sq[:, :, None] + sq[:, None, :] - 2.0 * np.einsum("bip,bjp->bij", Z, Z)
    excluded = np.eye(n, dtype=bool)
    if folds is not None:
        label = np.empty(n, dtype=np.int64)
        for f, test in enumerate(folds):
            label[test] = f
        excluded = label[:, None] == label[None, :]
    d2[:, excluded] = np.inf
    k = min(k, int((~excluded).sum(axis=1).min()))
    nearest = np.argpartition(d2, k - 1, axis=2)[:, :, :k]
    errors = y[None, :] - y[nearest].mean(axis=2)
    return errors[0] if single else errors


def stage1_scores(F: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray] | None) -> np.ndarray:
    """First-stage scores of a batch of feature matrices, in memory-bounded slices.

    Parameters
    ----------
    F : ndarray of shape (B, n, p)
        Transfer features of B sources.
    y : ndarray of shape (n,)
        Targets.
    folds : sequence of ndarray or None
        Test rows of each fold, or None for leave-one-out.

    Returns
    -------
    ndarray of shape (B, 3)
        Best ridge MAE, its penalty, kNN MAE.
    """
    n = F.shape[1]
    step = max(1, 2**24 // (n * max(n, F.shape[2]) + n * len(RIDGE_ALPHAS) * 8))
    out = []
    for start in range(0, len(F), step):
        part = F[start : start + step]
        ridge, alpha = _ridge_scores(part, y, folds)
        knn = np.abs(knn_cv_errors(part, y, folds)).mean(axis=1)
        out.append(np.column_stack([ridge, alpha, knn]))
    return np.vstack(out)


def stage1_rank(scores: np.ndarray, method: str) -> np.ndarray:
    """Ranking key (lower is better) of the first stage: ridge MAE, kNN MAE, or the mean of their ranks.

    Parameters
    ----------
    scores : ndarray of shape (B, 3)
        As :func:`stage1_scores` gives.
    method : {"ridge+knn", "ridge", "knn"}

    Returns
    -------
    ndarray of shape (B,)
    """
    from scipy.stats import rankdata

    if method == "ridge":
        return scores[:, 0]
    if method == "knn":
        return scores[:, 2]
    return rankdata(scores[:, 0]) + rankdata(scores[:, 2]) + 1e-9 * rankdata(scores[:, 0])


@dataclass
class Ranking:
    """The first stage's result.

    Attributes
    ----------
    usable : list of SourceModel
        The sources whose features could be computed, in the order scored.
    scores : ndarray of shape (len(usable), 3)
        Ridge MAE, its penalty and kNN MAE of each usable source on every row.
    order : ndarray
        Indices into ``usable``, best first.
    fold_keys : ndarray of shape (len(usable), n_outer)
        Ranking keys on each outer fold's training rows (nested CV; no columns without it).
    outputs : dict of str to ndarray
        With ``outputs=True``: each usable source's predictions on every row (every output a column), by
        model id in the order of ``usable``, from the same forward pass as its features; graph sources and
        sources whose predictions are not finite are left out. The prediction profile is their ``np.hstack``.
    graph_features : dict of str to ndarray
        The usable graph sources' transfer features on every row, by model id (the second stage reuses
        them instead of running those networks again).
    """

    usable: list[SourceModel]
    scores: np.ndarray
    order: np.ndarray
    fold_keys: np.ndarray
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    graph_features: dict[str, np.ndarray] = field(default_factory=dict)

    def top(self, k: int) -> list[SourceModel]:
        """The ``k`` best usable sources.

        Parameters
        ----------
        k : int

        Returns
        -------
        list of SourceModel
            Best first.
        """
        return [self.usable[i] for i in self.order[:k]]

    def scores_of(self) -> dict[str, np.ndarray]:
        """{model id: its three first-stage scores}."""
        return {s.model_id: self.scores[i] for i, s in enumerate(self.usable)}


@dataclass
class BlockScores:
    """The first stage's work on one block of sources (of one descriptor spec): what comes back from an engine.

    Attributes
    ----------
    ids : list of str
        The block's usable sources (finite features), in the order scored.
    main : ndarray of shape (len(ids), 3)
        Their ridge MAE, its penalty and kNN MAE on every row.
    on_folds : list of ndarray of shape (len(ids), 3)
        The same on each outer fold's training rows (nested CV).
    outputs : dict of str to ndarray
        Their predictions, when asked (:attr:`Ranking.outputs`).
    skipped : dict
        {model id: (cause, rows)} of the block's sources with non-finite features.
    graph_features : dict of str to ndarray
        A graph block's features of its usable sources (costly to compute again for the second stage).
    """

    ids: list[str]
    main: np.ndarray
    on_folds: list[np.ndarray]
    outputs: dict[str, np.ndarray]
    skipped: Skipped
    graph_features: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class StageOne:
    """What every block of the first stage is scored against (the same for all blocks).

    Attributes
    ----------
    y : ndarray of shape (n,)
        Targets.
    folds : sequence of ndarray or None
        First-stage folds (test rows) on all rows, None for leave-one-out.
    outer : sequence of (train rows, folds)
        Nested CV: each outer fold's training rows and the first-stage folds within them.
    layers, batched
        As for :func:`mdl.transfer_learning.model.transfer_features`.
    outputs : bool
        Keep every source's predictions too.
    keys : list of str or None
        The inputs' content keys (:func:`~mdl.screening.cache.row_keys`): a graph source's features of rows
        seen before come from :func:`~mdl.screening.cache.screen_cache` (None: always computed).
    """

    y: np.ndarray
    folds: Sequence[np.ndarray] | None
    outer: Sequence[tuple[np.ndarray, Any]]
    layers: Any
    batched: bool
    outputs: bool
    keys: list[str] | None = None


def score_block(block: Sequence[SourceModel], D: Any, stage: StageOne) -> BlockScores:
    """The first stage on one block of sources sharing a descriptor matrix: features in one batched pass,
    exact held-out scores, and (when asked) predictions read off the same pass.

    Parameters
    ----------
    block : sequence of SourceModel
        Sources of one descriptor spec.
    D : ndarray or list
        Their descriptor matrix (a graph spec: its records).
    stage : StageOne
        Targets, folds and options.

    Returns
    -------
    BlockScores
    """
    if block[0].takes_graphs and stage.keys is not None:
        feats = [_graph_features(s, D, stage) for s in block]
    else:
        feats = transfer_features(block, D, stage.layers, stage.batched)
    outputs: dict[str, np.ndarray] = {}
    if stage.outputs and not block[0].takes_graphs:
        outputs = _outputs(block, feats if _last_layer(stage.layers) else transfer_features(block, D, -1, stage.batched))
    skipped: Skipped = {}
    by_width: dict[int, list[int]] = defaultdict(list)
    for i, F in enumerate(feats):
        bad = np.flatnonzero(~np.isfinite(F).all(axis=1))
        if bad.size:
            skipped[block[i].model_id] = ("non-finite transfer features", bad.tolist())
            continue
        by_width[F.shape[1]].append(i)
    ids: list[str] = []
    main: list[np.ndarray] = []
    on_folds: list[list[np.ndarray]] = [[] for _ in stage.outer]
    for idx in by_width.values():
        batch = np.stack([feats[i] for i in idx])
        ids += [block[i].model_id for i in idx]
        main.append(stage1_scores(batch, stage.y, stage.folds))
        for o, (train, inner) in enumerate(stage.outer):
            on_folds[o].append(stage1_scores(batch[:, train], stage.y[train], inner))
    kept = {block[i].model_id: feats[i] for idx in by_width.values() for i in idx} if block[0].takes_graphs else {}
    return BlockScores(ids, np.vstack(main) if main else np.zeros((0, 3)),
                       [np.vstack(f) if f else np.zeros((0, 3)) for f in on_folds],
                       {i: outputs[i] for i in ids if i in outputs}, skipped, kept)


class Engine(Protocol):
    """Runs the first stage's blocks and yields their scores in the order of ``work``."""

    name: str

    def score_blocks(self, work: Sequence[tuple[str, list[SourceModel]]], matrices: dict[str, Any],
                     stage: StageOne) -> Iterator[BlockScores]:
        """Score every block.

        Parameters
        ----------
        work : sequence of (spec key, sources)
            The blocks (:func:`~mdl.screening.ranking.blocks`).
        matrices : dict of str to ndarray
            Descriptor matrix of each spec key.
        stage : StageOne
            Targets, folds and options, the same for every block.

        Returns
        -------
        iterator of BlockScores
            One per block, in the order of ``work``.
        """
        ...


class LocalEngine:
    """The first stage in this process, one block after another."""

    name = "local"

    def score_blocks(self, work: Sequence[tuple[str, list[SourceModel]]], matrices: dict[str, Any],
                     stage: StageOne) -> Iterator[BlockScores]:
        """Score the blocks here, one after another (see :class:`Engine`).

        Parameters
        ----------
        work : sequence of (spec key, sources)
        matrices : dict of str to ndarray
        stage : StageOne

        Returns
        -------
        iterator of BlockScores
            One per block, in the order of ``work``.
        """
        for key, block in work:
            yield score_block(block, matrices[key], stage)


def blocks(by_spec: dict[str, list[SourceModel]], matrices: dict[str, Any]) -> list[tuple[str, list[SourceModel]]]:
    """The first stage's units of work: each spec's sources (those with a matrix) in blocks of at most
    256, whose features are held in memory at once.

    Parameters
    ----------
    by_spec : dict
        Sources by descriptor spec.
    matrices : dict
        Descriptor matrix of each spec that could be computed.

    Returns
    -------
    list of (spec key, sources)
    """
    return [(key, list(block)) for key, members in by_spec.items() if key in matrices
            for block in _chunks(members, _BLOCK)]


def rank_sources(by_spec: dict[str, list[SourceModel]], matrices: dict[str, np.ndarray], y: np.ndarray,
                 folds: Sequence[np.ndarray] | None, outer: Sequence[tuple[np.ndarray, Any]], *, method: str,
                 layers: Any, batched: bool, skipped: Skipped, bar: tqdm, outputs: bool = False,
                 engine: Engine | None = None, keys: list[str] | None = None) -> Ranking:
    """Score every source whose descriptor was computed, on all rows and on each outer fold's training rows.

    Parameters
    ----------
    by_spec : dict
        Sources by descriptor spec; specs without a matrix in ``matrices`` are left out.
    matrices : dict of str to ndarray
        Descriptor matrix of each spec.
    y : ndarray of shape (n,)
        Targets.
    folds : sequence of ndarray or None
        First-stage folds (test rows) on all rows, None for leave-one-out.
    outer : sequence of (train rows, folds)
        Nested CV: each outer fold's training rows and the first-stage folds within them.
    method : {"ridge+knn", "ridge", "knn"}
        Ranking key.
    layers, batched
        As for :func:`mdl.transfer_learning.model.transfer_features`.
    skipped : dict
        Sources with non-finite features are added here, with their rows.
    bar : tqdm
        Progress, advanced per block of sources.
    outputs : bool, default False
        Also keep every source's predictions (``Ranking.outputs``), read off the same forward pass (a
        second one, with the last hidden layer, only when ``layers`` asks for other layers).
    engine : Engine, optional
        Where the blocks are scored (:mod:`mdl.screening.engines`); default this process, one block after
        another. Every engine gives the same ranking.
    keys : list of str, optional
        The inputs' content keys, for the cache of graph features (:attr:`StageOne.keys`).

    Returns
    -------
    Ranking
    """
    engine = engine or LocalEngine()
    work = blocks(by_spec, matrices)
    stage = StageOne(np.asarray(y, dtype=np.float64), folds, outer, layers, batched, outputs, keys)
    by_id = {s.model_id: s for _, block in work for s in block}
    usable: list[SourceModel] = []
    predicted: dict[str, np.ndarray] = {}
    graph_features: dict[str, np.ndarray] = {}
    scores: list[np.ndarray] = []
    per_fold: list[np.ndarray] = []
    for (_, block), done in zip(work, engine.score_blocks(work, matrices, stage)):
        skipped.update(done.skipped)
        predicted.update(done.outputs)
        graph_features.update(done.graph_features)
        usable += [by_id[i] for i in done.ids]
        scores.append(done.main)
        per_fold.append(np.stack(done.on_folds, axis=1) if outer else np.zeros((len(done.ids), 0, 3)))
        bar.update(len(block))
    table = np.vstack(scores) if scores else np.zeros((0, 3))
    folds_table = np.concatenate(per_fold) if per_fold else np.zeros((0, len(outer), 3))
    fold_keys = np.column_stack([stage1_rank(folds_table[:, o], method) for o in range(len(outer))]) \
        if outer and usable else np.zeros((len(usable), 0))
    return Ranking(usable, table, np.argsort(stage1_rank(table, method), kind="stable"), fold_keys,
                   {s.model_id: predicted[s.model_id] for s in usable if s.model_id in predicted}, graph_features)


def _graph_features(source: SourceModel, records: list[Any], stage: StageOne) -> np.ndarray:
    """A graph source's features of every row (its costly forward pass per structure), rows seen before from
    the screening cache, keyed by the model's card: a republished model is computed afresh."""
    namespace = f"features:{source.model_id}:{card_fingerprint(source)}:{stage.layers}"
    return screen_cache().keyed(namespace, stage.keys, lambda rows: transfer_features(
        [source], records if rows is None else [records[i] for i in rows], stage.layers, stage.batched)[0])


def _last_layer(layers: Any) -> bool:
    """Whether ``layers`` picks the last hidden layer alone (whose features give a network's predictions)."""
    return isinstance(layers, (int, np.integer)) and layers == -1 or \
        not isinstance(layers, str) and isinstance(layers, Sequence) and list(layers) == [-1]


def _outputs(block: Sequence[SourceModel], last: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """The predictions of a block's sources from their last-layer features; a source with non-finite
    predictions is left out (it would fail a fitted profile model)."""
    out = {}
    for s, F in zip(block, last):
        try:
            out[s.model_id] = outputs_from_features(s, F)
        except ModelFormatError:
            continue
    return out


def _standardised(F: np.ndarray) -> tuple[bool, np.ndarray]:
    """(whether ``F`` was one (n, p) matrix, the batch (B, n, p) with standardised columns)."""
    single = F.ndim == 2
    F = np.asarray(F, dtype=np.float64)[None] if single else np.asarray(F, dtype=np.float64)
    scale = F.std(axis=1, keepdims=True)
    scale[scale < 1e-12] = 1.0  # a constant column becomes all zero after centring: no effect
    return single, (F - F.mean(axis=1, keepdims=True)) / scale


def _left_singular(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left singular vectors and squared singular values of each matrix of ``Z`` (B, n, p), from the
    eigen-decomposition of its smaller Gram matrix: several times faster than an SVD for the shapes of a
    screening (0.8 ms against 4.9 ms for 100 x 400), the same ridge errors to ~1e-9. Directions whose
    squared singular value is at the rounding level are zero vectors (the caller shrinks them away)."""
    n, p = Z.shape[1:]
    if p >= n:
        s2, U = np.linalg.eigh(Z @ Z.transpose(0, 2, 1))
    else:
        s2, V = np.linalg.eigh(Z.transpose(0, 2, 1) @ Z)
        s2 = np.clip(s2, 0.0, None)
        kept = s2 > 1e-10 * s2.max(axis=1, keepdims=True)  # as the caller's cut: other directions are zeroed
        U = np.where(kept[:, None, :], Z @ V / np.sqrt(np.where(kept, s2, 1.0))[:, None, :], 0.0)
    return U, np.clip(s2, 0.0, None)


def _ridge_scores(F: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """(best MAE, its alpha) per matrix of the batch ``F`` (B, n, p)."""
    errors, alphas = ridge_cv_errors(F, y, folds)
    mae = np.abs(errors).mean(axis=1)                               # (B, A)
    mae[~np.isfinite(mae)] = np.inf
    best = mae.argmin(axis=1)
    return mae[np.arange(len(mae)), best], alphas[best]


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
