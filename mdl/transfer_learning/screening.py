"""Screening many zoo models as sources for one small target, fast and with honest numbers.

>>> board = screen(smiles, y, property="gap", material="molecule", top_k=10)    # doctest: +SKIP
>>> board[["model_id", "kind", "mae", "estimate"]].head()                      # doctest: +SKIP
>>> board.best.predict(["CCO"])                                                # doctest: +SKIP
>>> board.ensemble(5).predict(["CCO"], return_std=True)                       # doctest: +SKIP

How it works, in two stages:

1. **Features.** Sources are grouped by descriptor spec, so each descriptor is computed once for the
   target. Networks of one group that have the same depth run in one batched forward pass: their
   weights are zero-padded to the widest member (padded units are exactly zero after the ReLU and
   feed nothing downstream, so the padding changes no number). Other families give their kept
   descriptor columns plus their own prediction (:func:`mdl.transfer_learning.source_features`).
2. **Ranking, then heads.** Every source is scored on its standardised transfer features by
   closed-form ridge regression — exact leave-one-out errors from the hat matrix (or exact k-fold
   errors when ``groups`` is given) over a small grid of penalties, all from one SVD — and by exact
   leave-one-out (or k-fold) 3-nearest-neighbour regression, a local score that follows forest heads
   far better than the linear one (Spearman 0.70 against 0.40 with random-forest CV errors over 300
   QM9 networks on a critical-temperature target; the mean of both ranks put the best source first).
   Only the ``top_k`` best by the mean rank run the chosen head with full cross-validation, on the
   same folds as the baselines trained from scratch on the raw descriptors.

The result is a :class:`Leaderboard`, a DataFrame subclass sorted best first. Its ``estimate``
column says what each number is: the CV error of the source picked as best is optimistically
biased (it won a contest on those very folds); ``nested=True`` adds a ``select-then-fit`` row
with the nested-CV error of the whole procedure, the number to quote.
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from mdl.errors import DescriptorMismatchError, InvalidInputError, MDLError, ModelNotFoundError
from mdl.hub import open_hub
from mdl.hub.index import search_index
from mdl.models.source import SourceModel
from mdl.transfer_learning.candidates import (
    CANDIDATES,
    SELECT,
    Candidate,
    build_candidates,
    choose,
    raw_columns,
    source_predictions,
)
from mdl.transfer_learning.heads import check_head
from mdl.transfer_learning.model import TransferModel
from mdl.transfer_learning.scratch import ScratchModel
from mdl.transfer_learning.stacking import StackedTransferModel
from mdl.validation import (
    check_choice,
    check_cv,
    check_groups,
    check_layers,
    check_number,
    check_targets,
    group_by_cause,
    n_inputs,
    split_rows,
    summary_by_cause,
)

__all__ = [
    "Leaderboard", "SkippedSourcesWarning", "TransferEnsemble", "knn_cv_errors", "network_features", "ridge_cv_errors",
    "screen", "transfer_features", "value_range_groups",
]

#: penalties of the first stage, relative to the number of training rows (features are standardised)
RIDGE_ALPHAS = np.logspace(-4, 2, 13)
#: neighbours of the first stage's k-nearest-neighbour score
KNN_K = 3
STAGE1 = ("ridge+knn", "ridge", "knn")
_FLOATS_PER_CHUNK = 2**24  # padded weights of one batched forward chunk (64 MiB of float32)
#: a forward chunk is cut where padding would more than this multiply the work of its networks
PADDING_LIMIT = 1.25


class SkippedSourcesWarning(UserWarning):
    """Some sources could not be used for this target (their descriptor or features failed)."""


# -- folds ---------------------------------------------------------------------------------------
def value_range_groups(y: Any, n_groups: int = 5) -> np.ndarray:
    """Group labels by target quantile: with ``groups=`` each fold then holds out one range of
    values, so the CV error measures extrapolation rather than interpolation.

    >>> value_range_groups([1.0, 5.0, 2.0, 9.0, 3.0], n_groups=2).tolist()
    [0, 1, 0, 1, 1]
    """
    y = check_targets(y, multi_output=False)
    n_groups = check_number(n_groups, "n_groups", low=1)
    edges = np.quantile(y, np.linspace(0, 1, n_groups + 1)[1:-1])
    return np.searchsorted(edges, y, side="right")


def make_splits(n: int, cv: int, groups: np.ndarray | None, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) folds every candidate is scored on: shuffled k-fold, or grouped k-fold."""
    if groups is not None:
        return list(GroupKFold(n_splits=cv).split(np.zeros(n), groups=groups))
    return list(KFold(cv, shuffle=True, random_state=random_state).split(np.zeros(n)))


# -- first stage: closed-form ridge --------------------------------------------------------------
def ridge_cv_errors(F: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray] | None = None,
                    alphas: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact held-out absolute errors of ridge regression with an unpenalised intercept.

    ``F`` is (n, p) or a batch (B, n, p) of feature matrices for the same targets ``y``. Columns are
    standardised; with ``folds=None`` the errors are leave-one-out, ``e = r / (1 - h)`` from the hat
    matrix; with a list of test-index arrays they are the k-fold errors ``e_f = (I - H_ff)^-1 r_f``,
    both exact for ridge refitted without the held-out rows. ``alphas`` (default
    ``RIDGE_ALPHAS * n``) are searched jointly from one SVD per matrix.

    Returns (errors of shape (B, n, A), alphas of shape (A,)) — batch axis dropped for 2-D input.

    >>> rng = np.random.default_rng(0); X = rng.normal(size=(30, 3)); y = X @ [1.0, 2.0, 0.0]
    >>> errors, alphas = ridge_cv_errors(X, y)
    >>> float(np.abs(errors).mean(axis=0).min()) < 0.05
    True
    """
    single, Z = _standardised(F)
    y = np.asarray(y, dtype=np.float64)
    n = Z.shape[1]
    alphas = RIDGE_ALPHAS * n if alphas is None else np.asarray(alphas, dtype=np.float64)
    U, s, _ = np.linalg.svd(Z, full_matrices=False)              # U (B, n, r)
    s2 = (s**2)[:, :, None]
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


def _standardised(F: np.ndarray) -> tuple[bool, np.ndarray]:
    """(whether ``F`` was one (n, p) matrix, the batch (B, n, p) with standardised columns)."""
    single = F.ndim == 2
    F = np.asarray(F, dtype=np.float64)[None] if single else np.asarray(F, dtype=np.float64)
    scale = F.std(axis=1, keepdims=True)
    scale[scale < 1e-12] = 1.0  # a constant column becomes all zero after centring: no effect
    return single, (F - F.mean(axis=1, keepdims=True)) / scale


def _ridge_scores(F: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """(best MAE, its alpha) per matrix of the batch ``F`` (B, n, p)."""
    errors, alphas = ridge_cv_errors(F, y, folds)
    mae = np.abs(errors).mean(axis=1)                               # (B, A)
    mae[~np.isfinite(mae)] = np.inf
    best = mae.argmin(axis=1)
    return mae[np.arange(len(mae)), best], alphas[best]


def knn_cv_errors(F: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray] | None = None,
                  k: int = KNN_K) -> np.ndarray:
    """Exact held-out errors of k-nearest-neighbour regression (uniform weights, standardised features).

    A row's neighbours are searched among the rows outside its own fold (``folds=None``: all other
    rows, i.e. leave-one-out). ``F`` is (n, p) or a batch (B, n, p); returns errors (B, n) or (n,).
    A local, nonlinear counterpart of :func:`ridge_cv_errors`: it tracks forest heads more closely.

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


def _stage1(F: np.ndarray, y: np.ndarray, folds: Sequence[np.ndarray] | None) -> np.ndarray:
    """(B, 3): ridge MAE, its alpha, kNN MAE for the batch ``F`` (B, n, p), in memory-bounded slices."""
    n = F.shape[1]
    step = max(1, 2**24 // (n * max(n, F.shape[2]) + n * len(RIDGE_ALPHAS) * 8))
    out = []
    for start in range(0, len(F), step):
        part = F[start : start + step]
        ridge, alpha = _ridge_scores(part, y, folds)
        knn = np.abs(knn_cv_errors(part, y, folds)).mean(axis=1)
        out.append(np.column_stack([ridge, alpha, knn]))
    return np.vstack(out)


def _stage1_rank(scores: np.ndarray, method: str) -> np.ndarray:
    """Ranking key of the first stage: ridge MAE, kNN MAE, or the mean of their ranks."""
    from scipy.stats import rankdata

    if method == "ridge":
        return scores[:, 0]
    if method == "knn":
        return scores[:, 2]
    return rankdata(scores[:, 0]) + rankdata(scores[:, 2]) + 1e-9 * rankdata(scores[:, 0])


# -- features ------------------------------------------------------------------------------------
def network_features(nets: Sequence[SourceModel], D: np.ndarray, layers: int | Sequence[int] | str = -1,
                     batched: bool = True) -> list[np.ndarray]:
    """Neural descriptors of several networks sharing one descriptor spec, from its matrix ``D``.

    Networks of equal depth run together: inputs gathered per network's kept columns, weights
    zero-padded to the widest member, one ``baddbmm`` per layer for a chunk of networks. Equal to
    ``[s.neural_descriptors(D, layers) for s in nets]`` up to float32 rounding (``batched=False``
    runs exactly that loop).
    """
    if not batched:
        return [s.estimator.hidden_features(D[:, s.columns], layers) for s in nets]
    from mdl.models.nn import _layer_indices

    out: list[np.ndarray | None] = [None] * len(nets)
    D_pad = torch.from_numpy(np.column_stack([D, np.zeros(len(D))]).astype(np.float32))  # last column: padding
    pad_column = D.shape[1]
    by_depth: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(nets):
        by_depth[s.estimator.n_hidden_layers].append(i)
    for depth, members in by_depth.items():
        def shape(i: int) -> tuple[int, ...]:
            return (len(nets[i].columns), *[layer.out_features for layer in nets[i].estimator.module_.hidden])
        def size(widths: Sequence[int]) -> int:
            return int(np.multiply(widths[:-1], widths[1:]).sum())

        members.sort(key=shape)  # similar shapes share a chunk: little padding
        start = 0
        while start < len(members):
            stop, widest, actual = start, np.zeros(depth + 1, dtype=int), 0
            while stop < len(members):
                trial, true_size = np.maximum(widest, shape(members[stop])), size(shape(members[stop]))
                padded = (stop - start + 1) * size(trial)
                if stop > start and (padded > _FLOATS_PER_CHUNK or padded > PADDING_LIMIT * (actual + true_size)):
                    break
                widest, stop, actual = trial, stop + 1, actual + true_size
            chunk = members[start:stop]
            start = stop
            B, k = len(chunk), int(widest[0])
            gather = np.full((B, k), pad_column, dtype=np.int64)
            mean, scale = np.zeros((B, 1, k), np.float32), np.ones((B, 1, k), np.float32)
            weights = [torch.zeros(B, int(widest[j]), int(widest[j + 1])) for j in range(depth)]
            biases = [torch.zeros(B, 1, int(widest[j + 1])) for j in range(depth)]
            for b, i in enumerate(chunk):
                net = nets[i].estimator
                m = len(nets[i].columns)
                gather[b, :m] = nets[i].columns
                mean[b, 0, :m], scale[b, 0, :m] = net.x_mean_, net.x_scale_
                for j, layer in enumerate(net.module_.hidden):
                    weights[j][b, : layer.in_features, : layer.out_features] = layer.weight.detach().T
                    biases[j][b, 0, : layer.out_features] = layer.bias.detach()
            with torch.no_grad():
                x = (D_pad[:, torch.from_numpy(gather)].permute(1, 0, 2) - torch.from_numpy(mean)) \
                    / torch.from_numpy(scale)
                acts = []
                for W, bias in zip(weights, biases):
                    x = torch.relu(torch.baddbmm(bias, x, W))
                    acts.append(x)
            for b, i in enumerate(chunk):
                hidden = nets[i].estimator.module_.hidden
                picks = _layer_indices(layers, depth)
                out[i] = np.concatenate([acts[j][b, :, : hidden[j].out_features].numpy() for j in picks],
                                        axis=1).astype(np.float64)
    return out  # type: ignore[return-value]


def transfer_features(sources: Sequence[SourceModel], D: np.ndarray, layers: int | Sequence[int] | str = -1,
                      batched: bool = True) -> list[np.ndarray]:
    """Transfer features of sources sharing one descriptor spec: networks batched, others one by one."""
    out: list[np.ndarray | None] = [None] * len(sources)
    nets = [i for i, s in enumerate(sources) if s.is_network]
    for i, F in zip(nets, network_features([sources[i] for i in nets], D, layers, batched)):
        out[i] = F
    for i, s in enumerate(sources):
        if not s.is_network:
            kept = D[:, s.columns]
            out[i] = np.column_stack([kept, s.estimator.predict(kept)])
    return out  # type: ignore[return-value]


# -- sources -------------------------------------------------------------------------------------
def resolve_sources(sources: Any = None, *, property: str | None = None, material: str | None = None,
                    model_type: str | None = None, limit: int | None = None, hub: Any = None) -> list[SourceModel]:
    """The sources to screen: ``sources`` (ids, SourceModels or a search result) or a hub query."""
    filters = {"property": property, "material": material, "model_type": model_type, "limit": limit}
    if sources is None:
        sources = search_index(open_hub(hub).index(), property=property, material=material, model_type=model_type,
                               limit=limit)
        if len(sources) == 0:
            query = ", ".join(f"{k}={v!r}" for k, v in filters.items() if v is not None) or "no filter"
            raise ModelNotFoundError(f"no source model in hub {open_hub(hub).address} matches {query}")
    elif any(v is not None for v in filters.values()):
        raise InvalidInputError("give either sources= or search filters (property, material, model_type, "
                                "limit), not both: filter with mdl.search and pass its result")
    if isinstance(sources, (str, SourceModel)):
        sources = [sources]
    if isinstance(sources, pd.DataFrame):
        if "model_id" not in sources.columns:
            raise InvalidInputError("a table of sources needs a 'model_id' column (an mdl.search result)")
        sources = sources["model_id"].tolist()
    sources = list(sources)
    if not sources:
        raise ModelNotFoundError("no source model to screen: the list of sources is empty")
    if any(not isinstance(s, SourceModel) for s in sources):
        store = open_hub(hub)
        sources = [s if isinstance(s, SourceModel) else store.load(s) for s in sources]
    ids = [s.model_id for s in sources]
    if len(set(ids)) != len(ids):
        raise InvalidInputError(f"duplicate source ids: {sorted({i for i in ids if ids.count(i) > 1})[:5]}")
    return sources


def _source_row(s: SourceModel) -> dict[str, Any]:
    metrics = s.info.get("metrics", {}) or {}
    return {
        "model_id": s.model_id,
        "source_property": "; ".join(s.properties),
        "source_material": s.info.get("material", s.descriptor.material),
        "source_family": s.family,
        "descriptor": s.descriptor.name,
        "source_test_mae": _num(metrics.get("mae")),
        "source_test_r2": _num(metrics.get("r2")),
    }


def _num(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def _head_name(head: Any) -> str:
    return head if isinstance(head, str) else type(head).__name__


def _cv_run(head: BaseEstimator, F: np.ndarray, y: np.ndarray,
            splits: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[dict[str, Any], np.ndarray]:
    """Per-fold MAE/RMSE/R² (mean, std, folds) and the out-of-fold predictions."""
    oof = np.empty(len(y))
    for train, test in splits:
        oof[test] = clone(head).fit(F[train], y[train]).predict(F[test])
    return {"folds": len(splits), **_fold_scores(y, oof, splits)}, oof


def _fold_scores(y: np.ndarray, oof: np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """MAE, RMSE and R² of out-of-fold predictions: per fold, their mean and standard deviation."""
    folds: dict[str, list[float]] = {"mae": [], "rmse": [], "r2": []}
    for _, test in splits:
        err = y[test] - oof[test]
        folds["mae"].append(float(np.abs(err).mean()))
        folds["rmse"].append(float(np.sqrt((err**2).mean())))
        ss = float(((y[test] - y[test].mean()) ** 2).sum())
        folds["r2"].append(1.0 - float((err**2).sum()) / ss if ss > 0 else float("nan"))
    scores: dict[str, Any] = {}
    for name, values in folds.items():
        scores[name], scores[f"{name}_std"], scores[f"{name}_folds"] = \
            float(np.mean(values)), float(np.std(values)), values
    return scores


# -- the result ----------------------------------------------------------------------------------
class Leaderboard(pd.DataFrame):
    """The screening result: one row per candidate, best (lowest ``mae``) first.

    Rows: ``kind="transfer"`` (a source's transfer features, alone or joined to the raw descriptor, + the
    head), ``"stacked"`` (the raw descriptor + the top sources' predictions), ``"scratch"`` (baselines on
    the raw descriptor) and, with ``nested=True``, ``"select-then-fit"`` (the whole procedure).
    ``estimate`` says how each row's numbers were obtained.

    Python attributes (kept through slicing, sorting and copies, via pandas ``_metadata``):

    * ``best`` — the fitted model of the row the board recommends (``info["selected"]`` says which and
      why: the lowest CV error, or the best scratch row when a zoo row's lead is within the fold noise);
      :meth:`model` fits any other row;
    * ``screened`` — every source's first-stage (ridge) score, source metrics and head MAE if run;
    * ``predictions`` — out-of-fold predictions of every scored row (columns: ``candidate`` labels), with ``y``;
    * ``skipped`` — {model id: why it could not be used} (``info["skipped_by_cause"]`` groups them by cause);
    * ``info`` — folds, timings, nested-CV details (plain, JSON-able).

    :meth:`ensemble` combines the top transfer models into one predictor with a mean and a spread.
    """

    _metadata = ["best", "screened", "predictions", "skipped", "info", "_context"]

    @property
    def _constructor(self) -> type:
        return Leaderboard

    def model(self, row: int | str) -> BaseEstimator:
        """The fitted model of a row, by its ``rank`` (1 is the top row) or its ``candidate`` label: a
        :class:`TransferModel`, :class:`StackedTransferModel` or :class:`ScratchModel` fitted on every
        screened row (so a user who follows the board never refits a baseline by hand). Fitted once,
        then kept.

        >>> board.model(1).predict(["CCO"])                       # doctest: +SKIP
        >>> board.model("scratch-gb[morgan]").save("gb-baseline")   # doctest: +SKIP
        """
        context = self._context_or_fail()
        labels = self["candidate"].tolist() if "candidate" in self.columns else []
        if isinstance(row, (int, np.integer)) and not isinstance(row, bool):
            ranks = self["rank"].tolist()
            if row not in ranks:
                raise InvalidInputError(f"no row of rank {row}; ranks run from {min(ranks)} to {max(ranks)}")
            row = labels[ranks.index(row)]
        if row not in context["candidates"]:
            raise InvalidInputError(f"no fitted candidate {row!r} on this board (the select-then-fit row is an "
                                    f"estimate, not a model); candidates: {', '.join(map(str, labels[:10]))}")
        if row not in context["fitted"]:
            context["fitted"][row] = _fit_candidate(context["candidates"][row], context)
        return context["fitted"][row]

    def _context_or_fail(self) -> dict[str, Any]:
        context = getattr(self, "_context", None)
        if context is None:
            raise MDLError("this leaderboard carries no fitted context (was it read from a CSV file?)")
        return context

    def ensemble(self, k: int = 5) -> TransferEnsemble:
        """The ``k`` best transfer rows as one fitted :class:`TransferEnsemble` (mean and spread)."""
        k = check_number(k, "k", low=1)
        self._context_or_fail()
        labels = self.loc[self["kind"] == "transfer", "candidate"].tolist()[:k]
        if not labels:
            raise MDLError("no transfer row to build an ensemble from")
        return TransferEnsemble.from_models([self.model(label) for label in labels])


def _fit_candidate(c: Candidate, context: dict[str, Any]) -> BaseEstimator:
    """The user-facing model of a candidate, fitted on every screened row."""
    D, y, seed = context["D"][c.spec_key], context["y"], context["random_state"]
    if c.kind == "scratch":
        return ScratchModel(context["specs"][c.spec_key], c.scratch, seed).fit(D, y)
    if c.kind == "stacked":
        return StackedTransferModel(c.sources, head=context["head"], hub=context["hub"], random_state=seed).fit(D, y)
    model = TransferModel(c.sources[0], head=context["head"], layers=context["layers"], cv=None, hub=context["hub"],
                          random_state=seed, features=c.features).fit(D, y)
    model.set_params(cv=context["cv"])
    model.cv_scores_ = {**context["results"][c.label], "grouped": context["grouped"]}
    return model


class TransferEnsemble(BaseEstimator, RegressorMixin):
    """Several transfer models as one regressor: the mean of their predictions, and their spread.

    >>> ens = TransferEnsemble(["qm9-gap-nn-0001", "qm9-homo-nn-0004"], head="rf").fit(smiles, y)  # doctest: +SKIP
    >>> mean, spread = ens.predict(new_smiles, return_std=True)                                     # doctest: +SKIP
    """

    def __init__(self, sources: Sequence[str | SourceModel] = (), head: str | BaseEstimator = "rf",
                 layers: int | Sequence[int] | str = -1, hub: Any = None, random_state: int = 0):
        self.sources = sources
        self.head = head
        self.layers = layers
        self.hub = hub
        self.random_state = random_state

    @classmethod
    def from_models(cls, models: Sequence[TransferModel]) -> TransferEnsemble:
        """An ensemble of already fitted transfer models."""
        if not models:
            raise InvalidInputError("an ensemble needs at least one model")
        first = models[0]
        ensemble = cls([m.source_ for m in models], head=first.head, layers=first.layers,
                       random_state=first.random_state)
        ensemble.members_ = list(models)
        return ensemble

    def fit(self, X: Any, y: Any) -> TransferEnsemble:
        if not self.sources:
            raise InvalidInputError("an ensemble needs at least one source")
        self.members_ = [TransferModel(s, head=self.head, layers=self.layers, cv=None, hub=self.hub,
                                       random_state=self.random_state).fit(X, y) for s in self.sources]
        return self

    def member_predictions(self, X: Any) -> np.ndarray:
        """(n_members, n_samples): each member's prediction; descriptors computed once per spec."""
        check_is_fitted(self, "members_")
        matrices: dict[str, np.ndarray] = {}
        out = []
        for member in self.members_:
            spec = member.source_.descriptor
            key = spec.fingerprint()
            if key not in matrices:
                matrices[key] = member.source_.descriptor_matrix(X)
            out.append(member.predict(matrices[key]))
        return np.vstack(out)

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Mean over members; with ``return_std`` also their standard deviation (the spread)."""
        preds = self.member_predictions(X)
        mean = preds.mean(axis=0)
        return (mean, preds.std(axis=0)) if return_std else mean

    def save(self, folder: str | Path) -> Path:
        """Each member in ``folder/member-<i>`` (the :meth:`TransferModel.save` format)."""
        check_is_fitted(self, "members_")
        folder = Path(folder).expanduser()
        for i, member in enumerate(self.members_):
            member.save(folder / f"member-{i:03d}")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TransferEnsemble:
        folder = Path(folder).expanduser()
        paths = sorted(p for p in folder.glob("member-*") if p.is_dir())
        if not paths:
            raise MDLError(f"no ensemble members in {folder}")
        return cls.from_models([TransferModel.load(p) for p in paths])


# -- screening -----------------------------------------------------------------------------------
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
    hub: Any = None,
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
) -> Leaderboard:
    """Screen source models for the target ``(X, y)``; returns a :class:`Leaderboard`, best first.

    Parameters
    ----------
    X : raw inputs (SMILES, formulas...) — each source computes its own descriptor, once per spec —
        or a ready descriptor matrix / DataFrame when every source shares that descriptor.
    y : the target, one value per input.
    property, material, model_type, limit : hub query (as :func:`mdl.search`) when ``sources`` is None.
    sources : model ids, :class:`SourceModel` objects or a :func:`mdl.search` result.
    head : the head of the second stage ("rf", "ridge", "mlp" or a scikit-learn regressor).
    cv : folds; the same folds score every candidate and baseline.
    groups : group labels for grouped k-fold CV (e.g. :func:`value_range_groups` for extrapolation).
    top_k : sources that get the head with full CV after the ridge ranking.
    nested : also estimate the error of the whole select-then-fit procedure by nested CV
        (outer ``cv`` folds; inside each, the same two stages on the outer-training rows only).
    layers : hidden layers used as neural descriptors (see :class:`TransferModel`).
    stage1 : ranking of the first stage: "ridge" (closed-form ridge error), "knn" (k-nearest-neighbour
        error) or "ridge+knn" (default: mean of both ranks; kNN tracks forest heads, ridge linear ones).
    stage1_cv : "loo" (exact leave-one-out errors), "kfold" (exact errors on the CV folds) or
        "auto" (leave-one-out, k-fold when ``groups`` is given).
    baselines : add random forest and gradient boosting trained from scratch on each raw descriptor.
    features : what the head of a transfer row sees: "hidden" (the source's transfer features),
        "joined" (those joined to the raw descriptor), "stacked" (one row: the raw descriptor joined with the
        predictions of the top ``stack`` sources), a list of these, or "auto" (all three). Each is a row.
    stack : how many of the top sources the stacked row joins (0: no stacked row).
    select : which row ``board.best`` is: "noise" (default) the lowest CV error, except that a row using
        the zoo must beat the best scratch row by more than ``margin`` standard errors of their paired
        fold differences, else that scratch row; "best" the lowest CV error. ``board.info["selected"]``
        says which and why (see :mod:`mdl.transfer_learning.candidates`).
    batched : one padded forward pass per group of same-depth networks (False: one by one).
    progress : show a progress bar (sources ranked, then heads cross-validated).

    Sources whose descriptor or features cannot be computed for some input are skipped and
    reported (``Leaderboard.skipped`` and a :class:`SkippedSourcesWarning`); rows are never dropped.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    check_choice(stage1_cv, "stage1_cv", ("auto", "loo", "kfold"))
    check_choice(stage1, "stage1", STAGE1)
    top_k = check_number(top_k, "top_k", low=1)
    modes = _modes(features)
    stack = check_number(stack, "stack", low=0)
    check_choice(select, "select", SELECT)
    margin = check_number(margin, "margin", integer=False, low=0.0)
    check_number(limit, "limit", low=1, optional=True)
    check_head(head)
    check_layers(layers)
    y = check_targets(y, n_inputs(X), multi_output=False, allow_constant=False)
    cv = check_cv(cv, len(y))
    groups = check_groups(groups, len(y), cv)
    pool = resolve_sources(sources, property=property, material=material, model_type=model_type, limit=limit,
                           hub=hub)
    for s in pool:
        if s.is_network:
            check_layers(layers, s.estimator.n_hidden_layers, s.model_id)
    timings["load"] = time.perf_counter() - started

    # descriptors: once per spec; a spec that fails skips its sources (reported, rows kept)
    tick = time.perf_counter()
    by_spec = _group_by_spec(pool)
    matrices: dict[str, np.ndarray] = {}
    skipped: dict[str, tuple[str, list[int]]] = {}  # model id: (cause, rows)
    for key, members in by_spec.items():
        try:
            matrices[key] = members[0].descriptor_matrix(X)
        except (InvalidInputError, DescriptorMismatchError) as exc:
            cause, rows = split_rows(exc)
            reason = f"descriptor {members[0].descriptor.name!r} cannot be computed for this input: {cause}"
            skipped.update({s.model_id: (reason, rows) for s in members})
    n_rows = {len(D) for D in matrices.values()}
    if len(n_rows) > 1:
        raise InvalidInputError(f"descriptors gave different row counts {sorted(n_rows)} for one input")
    if not matrices:
        raise _no_usable_source(skipped)
    n = n_rows.pop()
    y = check_targets(y, n, multi_output=False)
    splits = make_splits(n, cv, groups, random_state)
    loo = stage1_cv == "loo" or (stage1_cv == "auto" and groups is None)
    stage1_folds = None if loo else [test for _, test in splits]
    outer = []
    if nested:
        for train, _ in splits:
            inner_cv = cv if groups is None else min(cv, len(np.unique(groups[train])))
            if inner_cv < 2:
                raise InvalidInputError("nested grouped CV needs at least 3 groups: an outer-training part has "
                                        "fewer than 2 groups to split")
            inner = make_splits(len(train), inner_cv, None if groups is None else groups[train], random_state)
            outer.append((train, None if loo else [test for _, test in inner], inner))
    timings["descriptors"] = time.perf_counter() - tick

    # stage 1: features in batches per spec, ridge scores for all sources (and every outer fold)
    tick = time.perf_counter()
    usable: list[SourceModel] = []
    scores: list[np.ndarray] = []
    nested_scores: list[list[np.ndarray]] = []
    bar = tqdm(total=sum(len(m) for k, m in by_spec.items() if k in matrices) + min(top_k, len(pool)), unit="source",
               desc="screening: first stage", disable=not progress)
    for key, members in by_spec.items():
        if key not in matrices:
            continue
        D = matrices[key]
        for block in _chunks(members, 256):
            feats = transfer_features(block, D, layers, batched)
            by_width: dict[int, list[int]] = defaultdict(list)
            for i, F in enumerate(feats):
                bad = np.flatnonzero(~np.isfinite(F).all(axis=1))
                if bad.size:
                    skipped[block[i].model_id] = ("non-finite transfer features", bad.tolist())
                    continue
                by_width[F.shape[1]].append(i)
            for width, idx in by_width.items():
                batch = np.stack([feats[i] for i in idx])
                main = _stage1(batch, y, stage1_folds)
                per_fold = [_stage1(batch[:, train], y[train], folds) for train, folds, _ in outer]
                for j, i in enumerate(idx):
                    usable.append(block[i])
                    scores.append(main[j])
                    nested_scores.append([m[j] for m in per_fold])
            bar.update(len(block))
    if not usable:
        bar.close()
        raise _no_usable_source(skipped)
    timings["features_and_stage1"] = time.perf_counter() - tick

    # stage 2: every candidate (top_k sources x feature sets, a stacked row, scratch baselines), same folds
    tick = time.perf_counter()
    stage1_scores = np.array(scores).reshape(len(usable), 3)
    order = np.argsort(_stage1_rank(stage1_scores, stage1), kind="stable")
    chosen = [usable[i] for i in order[:top_k]]
    names = {key: members[0].descriptor.name for key, members in by_spec.items() if key in matrices}
    hidden = _hidden_features(chosen, matrices, layers, batched, {})
    predictions = source_predictions(chosen, matrices) if "stacked" in modes and stack else {}
    raw = raw_columns(matrices)
    candidates = build_candidates(chosen, hidden, raw, names, predictions, modes=modes, stack=stack,
                                  baselines=baselines, head=head, random_state=random_state)
    results: dict[str, dict[str, Any]] = {}
    oof: dict[str, np.ndarray] = {}
    bar.set_description(f"screening: {_head_name(head)} head CV on {len(candidates)} candidates")
    bar.total = bar.n + len(candidates)
    for c in candidates:
        results[c.label], oof[c.label] = _cv_run(c.learner, c.F, y, splits)
        bar.update()
    bar.close()
    if skipped:  # after the progress bar, so that the warning is not printed inside it
        warnings.warn(f"{len(skipped)} of {len(pool)} sources skipped, by cause:\n"
                      + summary_by_cause(group_by_cause(skipped)), SkippedSourcesWarning, stacklevel=2)
    stage1_of = {s.model_id: stage1_scores[i] for i, s in enumerate(usable)}
    rows = [_candidate_row(c, head, names, stage1_of, results[c.label]) for c in candidates]
    timings["heads_and_baselines"] = time.perf_counter() - tick

    # nested CV of the whole select-then-fit procedure
    tick = time.perf_counter()
    nested_info: dict[str, Any] | None = None
    if nested:
        keys = np.column_stack([_stage1_rank(np.array([f[o] for f in nested_scores]), stage1)
                                for o in range(len(outer))])
        nested_info = _nested(usable, keys, matrices, raw, names, y, splits, outer, top_k, layers, batched,
                              dict(modes=modes, stack=stack, baselines=baselines, head=head,
                                   random_state=random_state), select, margin)
        oof["select-then-fit"] = nested_info.pop("oof")
        rows.append({"model_id": "select-then-fit", "candidate": "select-then-fit", "features": "",
                     "source_property": "", "source_material": "", "source_family": "", "descriptor": "",
                     "source_test_mae": np.nan, "source_test_r2": np.nan, "kind": "select-then-fit",
                     "head": _head_name(head), "ridge_mae": np.nan, "knn_mae": np.nan, **_scores(nested_info)})
    timings["nested"] = time.perf_counter() - tick

    stage_name = "leave-one-out" if loo else f"{cv}-fold"
    cv_name = f"{cv}-fold {'grouped ' if groups is not None else ''}CV"
    estimates = {
        "transfer": f"{cv_name}; source chosen by these folds, so the top rows are optimistic",
        "stacked": f"{cv_name}; sources chosen by these folds, so optimistic",
        "scratch": f"{cv_name}; no selection (fair reference)",
        "select-then-fit": f"nested CV ({cv} outer x {cv} inner folds) of ranking + choosing among every "
                           "candidate + fitting: the honest error of the whole procedure",
    }
    board = Leaderboard(rows)
    board["estimate"] = board["kind"].map(estimates)
    board = board.sort_values("mae", kind="stable").reset_index(drop=True)
    board.insert(0, "rank", np.arange(1, len(board) + 1))

    # the model handed back: the best candidate, unless its lead over scratch is within the CV noise
    kinds = {c.label: c.kind for c in candidates}
    selected, reason = choose({c.label: results[c.label]["mae_folds"] for c in candidates}, kinds, select, margin)
    timings["total"] = time.perf_counter() - started

    head_mae = {c.sources[0].model_id: results[c.label]["mae"] for c in candidates
                if c.kind == "transfer" and c.features == "hidden"}
    screened = pd.DataFrame([{**_source_row(s), "ridge_mae": stage1_of[s.model_id][0],
                              "ridge_alpha": stage1_of[s.model_id][1], "knn_mae": stage1_of[s.model_id][2],
                              "head_mae": head_mae.get(s.model_id, np.nan)} for s in usable])
    screened = screened.iloc[order].reset_index(drop=True)
    screened.insert(0, "stage1_rank", np.arange(1, len(screened) + 1))

    oof_frame = pd.DataFrame(oof)
    oof_frame.insert(0, "y", y)
    board.screened = screened
    board.predictions = oof_frame
    board.skipped = {model_id: _reason(cause, rows) for model_id, (cause, rows) in skipped.items()}
    best_scratch = board.loc[board["kind"] == "scratch", "candidate"]
    board.info = {
        "n_samples": int(n), "cv": int(cv), "grouped": groups is not None, "head": _head_name(head),
        "layers": layers if not isinstance(layers, np.ndarray) else layers.tolist(),
        "first_stage": f"{stage1} ranking; {stage_name} errors; closed-form ridge with alphas/n in "
                       f"[{RIDGE_ALPHAS[0]:g}, {RIDGE_ALPHAS[-1]:g}], {KNN_K}-nearest neighbours",
        "stage1": stage1, "n_sources": len(pool), "n_screened": len(usable), "n_skipped": len(skipped), "top_k": int(top_k),
        "features": list(modes), "stack": int(stack), "select": select, "margin": float(margin),
        "selected": {"candidate": selected, "kind": kinds[selected], "reason": reason},
        "best_scratch": best_scratch.iloc[0] if len(best_scratch) else None,
        "skipped_by_cause": group_by_cause(skipped),
        "nested": nested_info, "timings": timings, "random_state": random_state,
    }
    board._context = {"candidates": {c.label: c for c in candidates}, "D": matrices, "y": y, "head": head,
                      "specs": {key: members[0].descriptor for key, members in by_spec.items()},
                      "layers": layers, "random_state": random_state, "hub": hub, "cv": cv,
                      "grouped": groups is not None, "results": results, "fitted": {}}
    tick = time.perf_counter()
    board.best = board.model(selected)
    timings["fit_best"] = time.perf_counter() - tick
    return board


def _modes(features: str | Sequence[str]) -> tuple[str, ...]:
    """The candidate feature sets named by ``features`` (see :func:`screen`)."""
    picked = CANDIDATES if features == "auto" else (features,) if isinstance(features, str) else tuple(features)
    for mode in picked:
        check_choice(mode, "features", (*CANDIDATES, "auto"))
    if not picked:
        raise InvalidInputError(f"features names no candidate; use 'auto' or some of {CANDIDATES}")
    return picked


def _no_usable_source(skipped: dict[str, tuple[str, list[int]]]) -> InvalidInputError:
    """The error when every source was skipped: one line per cause, and every offending row."""
    groups = group_by_cause(skipped)
    return InvalidInputError(f"no source can be used for this input ({len(skipped)} skipped, by cause):\n"
                             + summary_by_cause(groups), rows=sorted({r for g in groups for r in g["rows"]}))


def _reason(cause: str, rows: list[int]) -> str:
    """Why one source was skipped, with its rows (as :class:`InvalidInputError` shows them)."""
    return str(InvalidInputError(cause, rows=rows))


def _scores(scores: dict[str, Any]) -> dict[str, float]:
    return {"mae": scores["mae"], "mae_std": scores["mae_std"], "rmse": scores["rmse"], "r2": scores["r2"]}


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _group_by_spec(sources: Iterable[SourceModel]) -> dict[str, list[SourceModel]]:
    groups: dict[str, list[SourceModel]] = defaultdict(list)
    for s in sources:
        groups[s.descriptor.fingerprint()].append(s)
    return groups


def _hidden_features(sources: Sequence[SourceModel], matrices: dict[str, np.ndarray], layers: Any, batched: bool,
                     cache: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Transfer features of ``sources`` (every row), computed once per source across calls via ``cache``."""
    missing = [s for s in sources if s.model_id not in cache]
    for key, group in _group_by_spec(missing).items():
        for s, F in zip(group, transfer_features(group, matrices[key], layers, batched)):
            cache[s.model_id] = F
    return {s.model_id: cache[s.model_id] for s in sources}


def _candidate_row(c: Candidate, head: Any, names: dict[str, str], stage1_of: dict[str, np.ndarray],
                   scores: dict[str, Any]) -> dict[str, Any]:
    """The leaderboard row of a scored candidate."""
    if c.kind == "scratch":
        described = {"model_id": c.label, "source_property": "", "source_material": "", "source_family": "",
                     "descriptor": names[c.spec_key], "source_test_mae": np.nan,
                     "source_test_r2": np.nan, "ridge_mae": np.nan, "knn_mae": np.nan,
                     "head": "random forest" if c.scratch == "rf" else "gradient boosting"}
    elif c.kind == "stacked":
        described = {"model_id": c.label, "source_property": "; ".join(dict.fromkeys(
                         p for s in c.sources for p in s.properties)),
                     "source_material": c.sources[0].descriptor.material, "source_family": "",
                     "descriptor": c.sources[0].descriptor.name, "source_test_mae": np.nan,
                     "source_test_r2": np.nan, "ridge_mae": np.nan, "knn_mae": np.nan, "head": _head_name(head)}
    else:
        first = stage1_of[c.sources[0].model_id]
        described = {**_source_row(c.sources[0]), "ridge_mae": first[0], "knn_mae": first[2],
                     "head": _head_name(head)}
    return {**described, "candidate": c.label, "kind": c.kind, "features": c.features, **_scores(scores)}


def _nested(usable: list[SourceModel], stage1: np.ndarray, matrices: dict[str, np.ndarray],
            raw: dict[str, np.ndarray], names: dict[str, str], y: np.ndarray, splits: list, outer: list, top_k: int, layers: Any, batched: bool,
            options: dict[str, Any], select: str, margin: float) -> dict[str, Any]:
    """Outer folds: rank by the first-stage scores of the outer-training rows, cross-validate every
    candidate (top_k sources x feature sets, stacked, scratch) with inner folds of those rows, pick with
    the same rule as the board, refit the pick on them and predict the outer-test rows."""
    oof = np.empty(len(y))
    selected = []
    cache: dict[str, np.ndarray] = {}
    predictions: dict[str, np.ndarray] = {}
    for o, ((train, test), (_, _, inner)) in enumerate(zip(splits, outer)):
        chosen = [usable[i] for i in np.argsort(stage1[:, o], kind="stable")[:top_k]]
        hidden = _hidden_features(chosen, matrices, layers, batched, cache)
        if "stacked" in options["modes"] and options["stack"]:
            predictions.update(source_predictions([s for s in chosen if s.model_id not in predictions], matrices))
        candidates = build_candidates(chosen, hidden, raw, names, predictions, **options)
        folds = {c.label: _cv_run(c.learner, c.F[train], y[train], inner)[0]["mae_folds"] for c in candidates}
        label, _ = choose(folds, {c.label: c.kind for c in candidates}, select, margin)
        winner = next(c for c in candidates if c.label == label)
        selected.append(label)
        oof[test] = clone(winner.learner).fit(winner.F[train], y[train]).predict(winner.F[test])
    return {"selected_per_fold": selected, "oof": oof, **_fold_scores(y, oof, splits)}
