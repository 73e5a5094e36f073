"""Training many small networks at once: stacked weights over a model axis.

A zoo holds dozens to thousands of small pyramid networks. Trained one by one, each optimiser step
is a handful of small matrix products plus a fixed Python/PyTorch overhead, and two CPU cores are
hard to keep busy; stacked along a model axis, one step advances many networks with a few batched
products (``torch.baddbmm``).

:func:`train_networks` trains networks that share nothing but the descriptor matrix ``D`` and the
targets ``y``: each :class:`NetSpec` brings its own hidden widths, kept input columns, training
rows, training options and seed. It returns ordinary fitted
:class:`~mdl.models.nn.NeuralNetRegressor` objects, trained as
:meth:`NeuralNetRegressor.fit <mdl.models.nn.NeuralNetRegressor.fit>` trains on
``D[rows][:, columns]``: same initial weights, same inner validation split, same minibatches, same
loss, Adam and early stopping — equal up to floating-point rounding.

How models are stacked:

* models are grouped by what one step must share: number of training and validation rows, batch
  size, learning rate and weight decay;
* a group is sorted by width and cut into stacks (at most ``max_models`` each) where the padding
  waste costs less than the per-step overhead saved (:func:`_chunks`); every layer is padded to the
  stack's largest width, the inputs to its largest column count, and a shallower model gets
  identity layers after its last hidden layer (exact: ReLU outputs are >= 0). Padded and identity
  weights never get a gradient (padded units output 0 and pass no gradient back; identity layers
  are masked to exactly zero, weight decay included), so Adam never moves them: padded units stay
  0, identity layers stay the identity;
* one step is a few batched products (forward, and the backward written out: three products per
  layer) and one fused Adam update over the stacked tensors; sparse inputs (fingerprints) enter the
  first layer as their nonzero entries only (an embedding bag, plus a dense correction for the
  standardisation shift), which saves most of its forward product;
* each model keeps its own random streams (a ``torch`` generator for its initial weights, a NumPy
  generator for its validation split and minibatches), its own input and target standardisation,
  its own Adam moments and its own early stopping: when its patience runs out it is frozen with its
  best state and leaves the stack, which is re-padded to the models left; stacks of a group run
  epoch by epoch side by side, and their survivors are re-stacked together when that is cheaper;
* memory is bounded: a group is trained in waves of at most ``max_elements`` floats of state.

So a model's result does not depend on which models it was trained with, up to the rounding of
padded matrix products (about 1e-7 relative per step).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> D = rng.normal(size=(300, 12)); y = D[:, 0] - D[:, 1]
>>> specs = [NetSpec(hidden=(16, 8), columns=np.arange(12), rows=np.arange(240), epochs=20, seed=s)
...          for s in range(3)]
>>> nets = train_networks(D, y, specs)
>>> nets[0].predict(D[240:]).shape
(60,)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.optim.adam import adam as _adam_step

from mdl.errors import InvalidInputError
from mdl.models.nn import NeuralNetRegressor, PyramidMLP, standardised_targets

#: Rows per block when scoring the validation split (fixed, so block sums never depend on the stack).
VAL_BLOCK = 4096
#: The first layer reads its inputs as sparse rows (fingerprints) when no row has more nonzero
#: entries than this fraction of the columns; else as a dense matrix.
SPARSE_FILL = 0.25
_BETAS, _EPS = (0.9, 0.999), 1e-8
_FUSED: dict[str, bool] = {}  # device type -> whether torch's fused Adam kernel runs there
#: Step-time model (seconds): per step, per multiply-add, per parameter; CPU and GPU. Measured on
#: two CPU cores and an H100. It only decides where a group is cut into stacks, never a result.
_COST = {"cpu": (1.0e-3, 1.2e-11, 1.5e-9), "cuda": (1.6e-3, 2e-14, 2e-12)}


@dataclass(frozen=True)
class NetSpec:
    """One network to train: its architecture, its data and its training options.

    Attributes
    ----------
    hidden : sequence of int
        Hidden widths.
    columns, rows : sequence of int
        Its column and row indices into ``D``.
    epochs, lr, weight_decay, batch_size, patience, validation_fraction, seed, target_clip
        Named like :class:`~mdl.models.nn.NeuralNetRegressor`'s parameters.

    Examples
    --------
    >>> NetSpec(hidden=(16, 8), columns=range(4), rows=range(10)).epochs
    200
    """

    hidden: Sequence[int]
    columns: Sequence[int]
    rows: Sequence[int]
    epochs: int = 200
    lr: float = 1e-3
    weight_decay: float = 1e-5
    batch_size: int = 128
    patience: int = 20
    validation_fraction: float = 0.1
    seed: int = 0
    target_clip: float | None = None

    @classmethod
    def from_estimator(cls, net: NeuralNetRegressor, columns: Sequence[int], rows: Sequence[int]) -> NetSpec:
        """The spec that trains like ``net.fit(D[rows][:, columns], y[rows])``.

        Parameters
        ----------
        net : NeuralNetRegressor
            An unfitted network.
        columns, rows : sequence of int
            Its data.

        Returns
        -------
        NetSpec
            The spec.
        """
        p = net.get_params()
        return cls(hidden=tuple(int(h) for h in p["hidden"]), columns=columns, rows=rows, epochs=p["epochs"],
                   lr=p["lr"], weight_decay=p["weight_decay"], batch_size=p["batch_size"], patience=p["patience"],
                   validation_fraction=p["validation_fraction"], seed=p["random_state"],
                   target_clip=p["target_clip"])

    def estimator(self) -> NeuralNetRegressor:
        """An unfitted estimator with this spec's options."""
        return NeuralNetRegressor(hidden=[int(h) for h in self.hidden], lr=self.lr, weight_decay=self.weight_decay,
                                  epochs=self.epochs, batch_size=self.batch_size, patience=self.patience,
                                  validation_fraction=self.validation_fraction, random_state=self.seed,
                                  target_clip=self.target_clip)


def train_networks(
    D: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetSpec | Mapping[str, Any]],
    device: str | torch.device | None = "cpu",
    *,
    max_models: int = 64,
    max_elements: int = 2**26,
    errors: str = "raise",
    on_done: Callable[[int, NeuralNetRegressor | Exception], None] | None = None,
) -> list[NeuralNetRegressor | Exception]:
    """Train several networks on ``D`` and ``y`` together, stacked.

    Parameters
    ----------
    D : numpy.ndarray
        Full descriptor matrix (n_rows, n_columns); every spec picks its own columns and rows.
    y : numpy.ndarray
        Targets (n_rows,) or (n_rows, n_properties) with NaN for missing labels.
    specs : sequence of NetSpec or mappings
        :class:`NetSpec` objects (or mappings of their fields).
    device : str, torch.device or None
        ``"cpu"``, ``"cuda"`` (or any torch device), or ``None``/``"auto"`` for CUDA when available,
        else CPU.
    max_models : int
        Most models in one stack.
    max_elements : int
        Most float elements of training state held at once (weights, gradients, Adam moments, best
        weights, masks and standardised data of the models in training): bounds memory (2**26 floats
        = 256 MiB, about twice that while survivors are re-stacked).
    errors : {"raise", "return"}
        ``"raise"``: a model that diverges (non-finite validation loss) or whose spec is invalid
        raises once the others are trained; ``"return"``: its entry is the exception.
    on_done : callable, optional
        Called as ``on_done(i, result)`` as soon as model ``i`` is finished.

    Returns
    -------
    list of NeuralNetRegressor or Exception
        One fitted estimator per spec, in order.
    """
    if errors not in ("raise", "return"):
        raise ValueError(f"errors must be 'raise' or 'return', got {errors!r}")
    device = _device(device)
    D = np.asarray(D)
    if D.ndim != 2:
        raise InvalidInputError(f"expected a 2-D descriptor matrix, got shape {D.shape}")
    y2 = np.asarray(y, dtype=np.float32)
    if len(y2) != len(D):
        raise InvalidInputError(f"D has {len(D)} rows but y has {len(y2)}")
    n_outputs = 1 if y2.ndim == 1 else y2.shape[1]
    y2 = y2.reshape(len(y2), -1)

    results: list[Any] = [None] * len(specs)

    def finish(i: int, result: NeuralNetRegressor | Exception) -> None:
        results[i] = result
        if on_done is not None:
            on_done(i, result)

    members = []
    for i, s in enumerate(specs):
        try:
            members.append(_Member.prepare(i, _as_spec(s), D, y2, n_outputs))
        except (InvalidInputError, TypeError, ValueError) as exc:
            if errors == "raise":
                raise
            finish(i, exc)
    groups: dict[tuple, list[_Member]] = {}
    for m in members:
        groups.setdefault(m.group_key, []).append(m)
    for key in sorted(groups, key=repr):
        for wave in _waves(groups[key], max_elements):
            _train_wave(wave, D, y2, device, max_models, finish)
    if errors == "raise":
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            raise failed[0]
    return results


# -- per-model preparation -------------------------------------------------------------------------
def _device(device: str | torch.device | None) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for but CUDA is not available; use device='cpu'")
    return device


def _as_spec(spec: NetSpec | Mapping[str, Any]) -> NetSpec:
    spec = spec if isinstance(spec, NetSpec) else NetSpec(**spec)
    if not len(spec.hidden) or min(spec.hidden) < 1:
        raise InvalidInputError(f"hidden widths must be positive integers, got {list(spec.hidden)}")
    if spec.batch_size < 1 or spec.epochs < 0 or spec.patience < 0:
        raise InvalidInputError("batch_size must be >= 1, epochs and patience >= 0")
    if not 0 <= spec.validation_fraction < 1:
        raise InvalidInputError(f"validation_fraction must lie in [0, 1), got {spec.validation_fraction}")
    if spec.target_clip is not None and not spec.target_clip > 0:
        raise InvalidInputError(f"target_clip must be positive (standard deviations) or None, got {spec.target_clip}")
    return spec


def _inputs(D: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``D[rows][:, cols]`` as float32, as the estimator sees it."""
    return np.asarray(D[np.ix_(rows, cols)], dtype=np.float32)


@dataclass(eq=False)
class _Member:
    """One model: its spec, data statistics, random streams, training progress and, while it is not
    in a stack, its own (unpadded) training state."""

    index: int
    spec: NetSpec
    cols: np.ndarray
    rows: np.ndarray
    n_outputs: int
    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray
    y_scale: np.ndarray
    val_pos: np.ndarray
    train_pos: np.ndarray
    rng: np.random.Generator
    group_key: tuple = ()
    epochs_done: int = 0
    curve: list[float] = field(default_factory=list)
    best: float = math.inf
    waited: int = 0
    error: Exception | None = None
    state: dict[str, Any] | None = None

    @property
    def widths(self) -> list[int]:
        return [len(self.cols), *map(int, self.spec.hidden), self.n_outputs]

    @property
    def depth(self) -> int:
        return len(self.spec.hidden)

    def widths_at(self, depth: int) -> list[int]:
        """Layer widths in a stack of ``depth`` hidden layers: a shallower model's last hidden layer
        is followed by identity layers (exact on ReLU outputs, and never trained)."""
        hidden = [int(h) for h in self.spec.hidden]
        return [len(self.cols), *hidden, *[hidden[-1]] * (depth - len(hidden)), self.n_outputs]

    def stack_layer(self, layer: int, depth: int) -> int | None:
        """The model's own layer at position ``layer`` of a stack of ``depth`` hidden layers (None:
        an identity layer)."""
        if layer < self.depth:
            return layer
        return self.depth if layer == depth else None

    @property
    def n_params(self) -> int:
        w = self.widths
        return sum(a * b + b for a, b in zip(w[:-1], w[1:]))

    @property
    def n_elements(self) -> int:
        """Floats of training state: parameters with gradients, moments, best copy and masks; data."""
        return 7 * self.n_params + len(self.rows) * (len(self.cols) + 2 * self.n_outputs)

    @classmethod
    def prepare(cls, index: int, spec: NetSpec, D: np.ndarray, y2: np.ndarray, n_outputs: int) -> _Member:
        cols = np.asarray(spec.columns, dtype=np.int64).ravel()
        rows = np.asarray(spec.rows, dtype=np.int64).ravel()
        if cols.size == 0 or rows.size == 0:
            raise InvalidInputError(f"spec {index}: needs at least one column and one row")
        if cols.min() < 0 or cols.max() >= D.shape[1] or rows.min() < 0 or rows.max() >= D.shape[0]:
            raise InvalidInputError(f"spec {index}: column or row index out of range for D of shape {D.shape}")
        X = _inputs(D, rows, cols)
        # exactly NeuralNetRegressor.fit's statistics and split
        x_mean = X.mean(axis=0)
        x_scale = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0).astype(np.float32)
        yy = y2[rows]
        y_mean = np.nanmean(yy, axis=0).astype(np.float32)
        y_scale = np.nan_to_num(np.nanstd(yy, axis=0), nan=1.0).astype(np.float32)
        y_scale[y_scale == 0] = 1.0
        rng = np.random.default_rng(spec.seed)
        order = rng.permutation(len(X))
        n_val = int(round(spec.validation_fraction * len(X))) if len(X) >= 20 else 0
        member = cls(index=index, spec=spec, cols=cols, rows=rows, n_outputs=n_outputs, x_mean=x_mean,
                     x_scale=x_scale, y_mean=y_mean, y_scale=y_scale, val_pos=order[:n_val], train_pos=order[n_val:],
                     rng=rng)
        member.group_key = (len(rows), n_val, int(spec.batch_size), float(spec.lr), float(spec.weight_decay))
        return member

    def init_weights(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight (out, in), bias) per layer, drawn exactly as ``torch.manual_seed(seed)`` then
        ``PyramidMLP(...)`` draws them, but from the model's own generator."""
        gen = torch.Generator().manual_seed(int(self.spec.seed))
        out = []
        widths = self.widths
        for a, b in zip(widths[:-1], widths[1:]):
            w = nn.init.kaiming_uniform_(torch.empty(b, a), a=math.sqrt(5), generator=gen)
            bound = 1 / math.sqrt(a)
            out.append((w, nn.init.uniform_(torch.empty(b), -bound, bound, generator=gen)))
        return out

    def fresh_state(self, D: np.ndarray, y2: np.ndarray, device: torch.device) -> dict[str, Any]:
        """Initial training state: weights stored (in, out), zero Adam moments, standardised data."""
        weights = self.init_weights()
        W = [w.T.contiguous().to(device) for w, _ in weights]
        b = [bias.to(device) for _, bias in weights]
        x = (_inputs(D, self.rows, self.cols) - self.x_mean) / self.x_scale
        t = standardised_targets(y2[self.rows], self.y_mean, self.y_scale, self.spec.target_clip)
        ok = np.isfinite(t)
        return {
            "W": W, "b": b,
            "mW": [torch.zeros_like(w) for w in W], "vW": [torch.zeros_like(w) for w in W],
            "mb": [torch.zeros_like(v) for v in b], "vb": [torch.zeros_like(v) for v in b],
            "bestW": [w.clone() for w in W], "bestb": [v.clone() for v in b],
            "step": 0,
            "x": torch.from_numpy(np.ascontiguousarray(x)).to(device),
            "yv": torch.from_numpy(np.where(ok, t, 0.0).astype(np.float32)).to(device),
            "ym": torch.from_numpy(ok.astype(np.float32)).to(device),
        }

    def estimator(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> NeuralNetRegressor:
        """The fitted estimator from unpadded (weight (in, out), bias) arrays."""
        net = self.spec.estimator()
        n_in = len(self.cols)
        net.n_outputs_, net.n_features_in_ = self.n_outputs, n_in
        net.x_mean_, net.x_scale_, net.y_mean_, net.y_scale_ = self.x_mean, self.x_scale, self.y_mean, self.y_scale
        with torch.random.fork_rng(devices=[]):  # its random initial weights are overwritten below
            module = PyramidMLP(n_in, [int(h) for h in self.spec.hidden], self.n_outputs)
        names = [f"hidden.{i}" for i in range(len(module.hidden))] + ["output"]
        state = {}
        for name, (w, b) in zip(names, weights):
            state[f"{name}.weight"] = torch.from_numpy(np.ascontiguousarray(w.T))
            state[f"{name}.bias"] = torch.from_numpy(np.ascontiguousarray(b))
        module.load_state_dict(state, strict=True)
        net.module_ = module.eval()
        net.loss_curve_ = list(self.curve)
        return net


# -- scheduling ------------------------------------------------------------------------------------
def _stack_widths(members: Sequence[_Member]) -> list[int]:
    """The padded widths of a stack of ``members``: as deep as the deepest, as wide as the widest."""
    depth = max(m.depth for m in members)
    return np.max([m.widths_at(depth) for m in members], axis=0).tolist()


def _by_width(members: Sequence[_Member]) -> list[_Member]:
    """Widest hidden layers first. The input widths come last: models' column counts differ by a
    few columns at random, and ordering by them first would scatter similar hidden widths."""
    depth = max(m.depth for m in members)
    return sorted(members, key=lambda m: (tuple(-w for w in m.widths_at(depth)[1:]), -len(m.cols), m.index))


def step_macs(widths: Sequence[int]) -> int:
    """Multiply-adds of one training step per input row, forward and backward (the first layer needs no
    input gradient).

    Parameters
    ----------
    widths : sequence of int
        Input, hidden and output widths.

    Returns
    -------
    int
        The multiply-adds.

    Examples
    --------
    >>> step_macs([4, 2, 1])
    22
    """
    return 2 * widths[0] * widths[1] + 3 * sum(a * b for a, b in zip(widths[1:-1], widths[2:]))


def _stack_cost(members: Sequence[_Member], device: torch.device) -> float:
    """Estimated seconds of one step of ``members`` stacked together."""
    widths = _stack_widths(members)
    n_params = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    overhead, per_mac, per_param = _COST["cpu" if device.type == "cpu" else "cuda"]
    batch = members[0].spec.batch_size
    return overhead + len(members) * (batch * step_macs(widths) * per_mac + n_params * per_param)


def _chunks(members: list[_Member], device: torch.device, max_models: int) -> list[list[_Member]]:
    """Cut members, sorted by width, into contiguous stacks of least estimated total step time."""
    order = _by_width(members)
    n = len(order)
    best = [0.0] + [math.inf] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j - 1, max(-1, j - 1 - max_models), -1):
            cost = best[i] + _stack_cost(order[i:j], device)
            if cost < best[j]:
                best[j], cut[j] = cost, i
    chunks, j = [], n
    while j > 0:
        chunks.append(order[cut[j]:j])
        j = cut[j]
    return chunks[::-1]


def _waves(members: list[_Member], max_elements: int) -> list[list[_Member]]:
    """Consecutive runs of the width-sorted group whose training state fits in ``max_elements``
    (padding to the run's widths included)."""
    order = _by_width(members)
    waves: list[list[_Member]] = []
    for m in order:
        if waves:
            wave = waves[-1]
            if sum(x.n_elements for x in wave) + m.n_elements <= max_elements:
                wave.append(m)
                continue
        waves.append([m])
    return waves


def _train_wave(wave: list[_Member], D: np.ndarray, y2: np.ndarray, device: torch.device, max_models: int,
                finish: Callable[[int, Any], None]) -> None:
    """Train one wave: its stacks run epoch by epoch side by side; finished models leave, and the
    survivors are re-stacked whenever that is estimated at least 10% cheaper per step."""
    for m in wave:
        if m.spec.epochs == 0:
            finish(m.index, m.estimator(_unpadded(m.init_weights())))
    active = [m for m in wave if m.spec.epochs > 0]
    stacks = []
    for chunk in _chunks(active, device, max_models):
        for m in chunk:
            m.state = m.fresh_state(D, y2, device)
        stacks.append(_Stack(chunk, device))
    while stacks:
        changed = False
        for stack in stacks:
            done = stack.epoch()
            if done:
                for k in done:
                    member = stack.members[k]
                    finish(member.index, member.error if member.error is not None else stack.emit(k))
                stack.drop(done)
                changed = True
        stacks = [s for s in stacks if s.members]
        if changed and len(stacks) > 1:
            survivors = [m for s in stacks for m in s.members]
            chunks = _chunks(survivors, device, max_models)
            if sum(_stack_cost(c, device) for c in chunks) < 0.9 * sum(_stack_cost(s.members, device) for s in stacks):
                for s in stacks:
                    s.release()
                stacks = [_Stack(chunk, device) for chunk in chunks]


def _nonzeros(x: torch.Tensor, shift: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Each row's nonzero columns and values of ``u = x + shift`` (the unshifted, scaled inputs),
    padded to the longest row (column 0, value 0), as (M, n_rows, K) tensors; (None, None) where
    rows are too full for that to pay (dense inputs). One model at a time: little extra memory."""
    counts = [((x[k] + shift[k]) != 0).sum(dim=-1) for k in range(len(x))]
    K = max([int(c.max()) for c in counts if c.numel()] + [1])
    if K > SPARSE_FILL * x.shape[-1]:
        return None, None
    cols = torch.zeros((*x.shape[:2], K), dtype=torch.long, device=x.device)
    vals = torch.zeros((*x.shape[:2], K), dtype=x.dtype, device=x.device)
    for k, count in enumerate(counts):
        u = x[k] + shift[k]
        row, col = (u != 0).nonzero(as_tuple=True)  # row-major: each row's columns in order
        slot = torch.arange(len(row), device=x.device) - (torch.cumsum(count, 0) - count)[row]
        cols[k, row, slot], vals[k, row, slot] = col, u[row, col]
    return cols, vals


def _unpadded(weights: list[tuple[torch.Tensor, torch.Tensor]]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(w.T.numpy().copy(), b.numpy().copy()) for w, b in weights]


# -- one stack of models ---------------------------------------------------------------------------
_PARAMS = ("W", "b", "mW", "vW", "mb", "vb", "bestW", "bestb")


class _Stack:
    """Models of one group, padded to common widths and trained together."""

    def __init__(self, members: list[_Member], device: torch.device):
        self.members = list(members)
        self.device = device
        first = members[0]
        self.n_rows, self.n_val = len(first.rows), len(first.val_pos)
        self.batch = int(first.spec.batch_size)
        self.lr, self.wd = float(first.spec.lr), float(first.spec.weight_decay)
        steps = {m.state["step"] for m in members}
        assert len(steps) == 1, "models of one stack have made the same number of Adam steps"
        self._fill(members, steps.pop())

    @torch.no_grad()
    def _fill(self, members: list[_Member], step: int) -> None:
        """Pad the members' own states into stacked tensors; the members keep no state of their own."""
        M, dev = len(members), self.device
        widths = _stack_widths(members)
        self.depth = depth = len(widths) - 2
        shapes_W = [(M, a, b) for a, b in zip(widths[:-1], widths[1:])]
        shapes_b = [(M, 1, b) for b in widths[1:]]
        for name in _PARAMS:
            shapes = shapes_W if name.endswith("W") else shapes_b
            setattr(self, name, [torch.zeros(s, device=dev) for s in shapes])
        n_layers = len(widths) - 1
        # padded weights get exactly zero gradients on their own (their units output 0 and pass no
        # gradient back); only layers that hold identity blocks need a mask
        identity = [any(m.stack_layer(layer, depth) is None for m in members) for layer in range(n_layers)]
        self.masks = [torch.zeros(s, device=dev) if identity[i % n_layers] else None
                      for i, s in enumerate(shapes_W + shapes_b)]
        n_out = widths[-1]
        self.x = torch.zeros((M, self.n_rows, widths[0]), device=dev)
        self.yv = torch.zeros((M, self.n_rows, n_out), device=dev)
        self.ym = torch.zeros((M, self.n_rows, n_out), device=dev)
        self.shift = torch.zeros((M, 1, widths[0]), device=dev)
        for k, m in enumerate(members):
            own = m.widths_at(depth)
            for layer in range(n_layers):
                i = m.stack_layer(layer, depth)
                if i is None:  # identity layer: weights I, no gradient ever (mask 0)
                    eye = torch.eye(own[layer], device=dev)
                    for name in ("W", "bestW"):
                        getattr(self, name)[layer][k, : own[layer], : own[layer + 1]] = eye
                    continue
                for name in _PARAMS:
                    value = m.state[name][i]
                    if name.endswith("W"):
                        getattr(self, name)[layer][k, : own[layer], : own[layer + 1]] = value
                    else:
                        getattr(self, name)[layer][k, 0, : own[layer + 1]] = value
                if identity[layer]:
                    self.masks[layer][k, : own[layer], : own[layer + 1]] = 1.0
                    self.masks[n_layers + layer][k, 0, : own[layer + 1]] = 1.0
            self.x[k, :, : own[0]] = m.state["x"]
            self.shift[k, 0, : own[0]] = torch.from_numpy(m.x_mean / m.x_scale)
            self.yv[k] = m.state["yv"]
            self.ym[k] = m.state["ym"]
            m.state = None
        # Adam's step count: one tensor per parameter tensor, as the fused kernel wants (all equal)
        self.steps = [torch.full((), float(step), device=dev) for _ in range(2 * n_layers)]
        self.nz_cols, self.nz_vals = _nonzeros(self.x, self.shift)
        self._ready()

    def _ready(self) -> None:
        self.row_offset = (torch.arange(len(self.members), device=self.device) * self.n_rows)[:, None]

    @torch.no_grad()
    def release(self) -> None:
        """Hand every member its own unpadded state back (to be re-stacked) and empty the stack."""
        step = int(self.steps[0].item())
        for k, m in enumerate(self.members):
            own = m.widths_at(self.depth)
            layers = [i for i in range(self.depth + 1) if m.stack_layer(i, self.depth) is not None]
            state: dict[str, Any] = {"step": step}
            for name in _PARAMS:
                t = getattr(self, name)
                if name.endswith("W"):
                    state[name] = [t[i][k, : own[i], : own[i + 1]].clone() for i in layers]
                else:
                    state[name] = [t[i][k, 0, : own[i + 1]].clone() for i in layers]
            state["x"] = self.x[k, :, : own[0]].clone()
            state["yv"], state["ym"] = self.yv[k].clone(), self.ym[k].clone()
            m.state = state
        self.members = []
        for name in (*_PARAMS, "masks", "x", "yv", "ym", "shift", "nz_cols", "nz_vals"):
            setattr(self, name, None)

    @torch.no_grad()
    def drop(self, done: list[int]) -> None:
        """Remove finished models and re-pad to the widths of the models left."""
        keep = [k for k in range(len(self.members)) if k not in set(done)]
        self.members = [self.members[k] for k in keep]
        if not keep:
            return
        sel = torch.tensor(keep, dtype=torch.long, device=self.device)
        widths = np.max([m.widths_at(self.depth) for m in self.members], axis=0).tolist()
        n_layers = len(widths) - 1

        def cut(t: torch.Tensor | None, layer: int, is_bias: bool) -> torch.Tensor | None:
            if t is None:
                return None
            t = t.index_select(0, sel)
            t = t[:, :, : widths[layer + 1]] if is_bias else t[:, : widths[layer], : widths[layer + 1]]
            return t.contiguous()

        for name in _PARAMS:
            setattr(self, name, [cut(t, i, not name.endswith("W")) for i, t in enumerate(getattr(self, name))])
        self.masks = [cut(t, i % n_layers, i >= n_layers) for i, t in enumerate(self.masks)]
        self.x = self.x.index_select(0, sel)[:, :, : widths[0]].contiguous()
        self.shift = self.shift.index_select(0, sel)[:, :, : widths[0]].contiguous()
        if self.nz_cols is not None:  # column positions are the model's own: still valid
            self.nz_cols, self.nz_vals = self.nz_cols.index_select(0, sel), self.nz_vals.index_select(0, sel)
        self.yv, self.ym = self.yv.index_select(0, sel), self.ym.index_select(0, sel)
        self._ready()

    # -- the networks ----------------------------------------------------------------------------
    def _forward(self, flat_rows: torch.Tensor, n_batch: int,
                 train: bool = True) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
        """(masked output errors, every layer's input, target mask) of the rows ``flat_rows``
        (``n_batch`` per model, flat indices into the stacked data); without ``train``, only the
        errors and the mask (the layer inputs are kept for the backward pass only)."""
        M, n_out = len(self.members), self.yv.shape[-1]
        W0 = self.W[0]
        inputs = []
        if train or self.nz_cols is None:
            h = self.x.reshape(-1, self.x.shape[-1]).index_select(0, flat_rows).view(M, n_batch, -1)
            inputs.append(h)
        if self.nz_cols is None:
            h = torch.baddbmm(self.b[0], h, W0)
        else:  # sparse inputs: x W = u W - shift W, with u = x + shift zero wherever the descriptor is
            K = self.nz_cols.shape[-1]
            cols = self.nz_cols.reshape(-1, K).index_select(0, flat_rows)
            cols += (torch.arange(M, device=self.device) * W0.shape[1]).repeat_interleave(n_batch)[:, None]
            vals = self.nz_vals.reshape(-1, K).index_select(0, flat_rows)
            h = F.embedding_bag(cols, W0.reshape(-1, W0.shape[2]), per_sample_weights=vals, mode="sum")
            h = h.view(M, n_batch, -1).add_(torch.baddbmm(self.b[0], self.shift, W0, alpha=-1.0))
        for layer in range(1, len(self.W)):
            h = torch.relu(h)
            if train:
                inputs.append(h)
            h = torch.baddbmm(self.b[layer], h, self.W[layer])
        yv = self.yv.reshape(-1, n_out).index_select(0, flat_rows).view(M, n_batch, n_out)
        ym = self.ym.reshape(-1, n_out).index_select(0, flat_rows).view(M, n_batch, n_out)
        return (h - yv) * ym, inputs, ym

    def _adam(self, params: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
        """One Adam step of every stacked tensor. Adam is elementwise, so each model keeps its own
        moments; entries with zero gradients (and zero moments) do not move. Weight decay (Adam's
        L2, as torch.optim.Adam adds it) is added by the fused kernel, except to tensors with an
        identity block: their gradient gets it in :meth:`_step`, before the mask."""
        moments = (self.mW + self.mb, self.vW + self.vb)
        masked = [i for i, mask in enumerate(self.masks) if mask is not None]
        plain = [i for i, mask in enumerate(self.masks) if mask is None]
        for group, weight_decay in ((plain, self.wd), (masked, 0.0)):
            if group:
                self._adam_kernel(*([ts[i] for i in group] for ts in (params, grads, *moments, self.steps)),
                                  weight_decay)

    def _adam_kernel(self, params: list[torch.Tensor], grads: list[torch.Tensor], m: list[torch.Tensor],
                     v: list[torch.Tensor], steps: list[torch.Tensor], weight_decay: float) -> None:
        kwargs = dict(amsgrad=False, beta1=_BETAS[0], beta2=_BETAS[1], lr=self.lr, weight_decay=weight_decay,
                      eps=_EPS, maximize=False)
        kind = self.device.type
        if _FUSED.get(kind, True):
            try:
                _adam_step(params, grads, m, v, [], steps, foreach=False, fused=True, **kwargs)
                _FUSED[kind] = True
                return
            except (RuntimeError, TypeError):  # no fused kernel on this device: the plain one
                if _FUSED.get(kind):
                    raise
                _FUSED[kind] = False
        _adam_step(params, grads, m, v, [], steps, foreach=False, fused=False, **kwargs)

    @torch.no_grad()
    def _step(self, flat_rows: torch.Tensor, n_batch: int) -> None:
        """One minibatch step of every model: forward, backward written out (an MLP's backward is
        three batched products per layer; no autograd graph to build), masked gradients, Adam."""
        diff, inputs, ym = self._forward(flat_rows, n_batch)
        # the gradient of each model's own masked mean squared error (their sum: one slice per model)
        g = diff * (2.0 / ym.sum(dim=(1, 2), keepdim=True).clamp(min=1))
        n_layers = len(self.W)
        grads: list[torch.Tensor] = [None] * (2 * n_layers)  # type: ignore[list-item]
        for layer in reversed(range(n_layers)):
            h = inputs[layer]
            grads[layer] = torch.bmm(h.transpose(1, 2), g)
            grads[n_layers + layer] = g.sum(dim=1, keepdim=True)
            if layer:
                g = torch.ops.aten.threshold_backward(torch.bmm(g, self.W[layer].transpose(1, 2)), h, 0.0)
        params = self.W + self.b
        for grad, param, mask in zip(grads, params, self.masks):
            if mask is not None:  # identity layers: exactly zero gradient, weight decay included
                if self.wd:
                    grad.add_(param, alpha=self.wd)
                grad.mul_(mask)
        self._adam(params, grads)

    @torch.no_grad()
    def _val_losses(self) -> np.ndarray:
        pos = torch.from_numpy(np.stack([m.val_pos for m in self.members])).to(self.device)
        sse = count = 0
        for start in range(0, self.n_val, VAL_BLOCK):
            block = pos[:, start: start + VAL_BLOCK]
            diff, _, ym = self._forward((block + self.row_offset).reshape(-1), block.shape[1], train=False)
            sse, count = sse + (diff * diff).sum(dim=(1, 2)), count + ym.sum(dim=(1, 2))
        return (sse / count.clamp(min=1)).cpu().numpy().astype(np.float64)

    def epoch(self) -> list[int]:
        """One epoch of every model (its own minibatches), then validation and early stopping.
        Returns the positions of the models that are finished."""
        n_train, batch = self.n_rows - self.n_val, self.batch
        starts = range(0, n_train, batch)
        # each model's minibatches partition a permutation of its training rows, drawn as fit draws it
        order = np.stack([m.train_pos[m.rng.permutation(n_train)] for m in self.members])
        flat = torch.from_numpy(order).to(self.device) + self.row_offset
        for start in starts:
            rows = flat[:, start: start + batch]
            self._step(rows.reshape(-1), rows.shape[1])
        done, improved = [], []
        losses = self._val_losses() if self.n_val else None
        for k, m in enumerate(self.members):
            m.epochs_done += 1
            if losses is not None:
                loss = float(losses[k])
                m.curve.append(loss)
                if not np.isfinite(loss):
                    m.error = FloatingPointError("training diverged (validation loss is not finite)")
                    done.append(k)
                    continue
                if loss < m.best - 1e-6:
                    m.best, m.waited = loss, 0
                    improved.append(k)
                else:
                    m.waited += 1
                    if m.waited >= m.spec.patience:
                        done.append(k)
                        continue
            if m.epochs_done >= m.spec.epochs:
                done.append(k)
        if improved:
            with torch.no_grad():
                sel = torch.tensor(improved, dtype=torch.long, device=self.device)
                for src, dst in ((self.W, self.bestW), (self.b, self.bestb)):
                    for p, q in zip(src, dst):
                        q.index_copy_(0, sel, p.index_select(0, sel))
        return done

    def emit(self, k: int) -> NeuralNetRegressor:
        """Model ``k`` as a fitted estimator: its best weights (its last without validation)."""
        member = self.members[k]
        W, b = (self.bestW, self.bestb) if self.n_val and member.best < math.inf else (self.W, self.b)
        own = member.widths_at(self.depth)
        layers = [i for i in range(self.depth + 1) if member.stack_layer(i, self.depth) is not None]
        weights = [(W[i][k, : own[i], : own[i + 1]].cpu().numpy().copy(), b[i][k, 0, : own[i + 1]].cpu().numpy().copy())
                   for i in layers]
        return member.estimator(weights)


# -- source models -----------------------------------------------------------------------------------
def train_network_sources(
    D: np.ndarray,
    y: np.ndarray,
    spec: Any,
    jobs: Sequence[Any],
    *,
    test_size: float = 0.2,
    max_zero_fraction: float = 0.9,
    max_columns: int | None = None,
    info: dict[str, Any] | None = None,
    device: str | torch.device | None = "cpu",
    on_done: Callable[[int, Any], None] | None = None,
    **options: Any,
) -> list[Any]:
    """Network source models, trained together.

    What :func:`~mdl.models.train.train_source` gives for ``family="nn"``, model by model (same split,
    columns, metrics and card).

    Parameters
    ----------
    D, y : numpy.ndarray
        The descriptor matrix and targets.
    spec : DescriptorSpec
        The descriptor.
    jobs : sequence
        Objects with ``model_id``, ``seed`` and ``hyperparameters`` (a build's model plans).
    test_size, max_zero_fraction, max_columns, info
        As for :func:`~mdl.models.train.train_source`.
    device : str, torch.device or None
        As for :func:`train_networks`.
    on_done : callable, optional
        Called as ``on_done(i, result)`` as each model is finished.
    **options
        Further :func:`train_networks` options.

    Returns
    -------
    list of SourceModel or Exception
        Per job, the model or the exception it raised.
    """
    from mdl.models.train import check_targets, finish_source, make_estimator, split_and_select

    results: list[Any] = [None] * len(jobs)
    prepared: list[tuple[int, np.ndarray, np.ndarray]] = []  # (job index, test rows, columns)
    specs: list[NetSpec] = []

    def record(i: int, result: Any) -> None:
        results[i] = result
        if on_done is not None:
            on_done(i, result)

    try:
        y = check_targets(y, len(D))
    except Exception as exc:  # every model fails as train_source would fail it
        for i in range(len(jobs)):
            record(i, exc)
        return results

    for i, job in enumerate(jobs):
        try:
            train, test, columns = split_and_select(D, job.seed, test_size=test_size,
                                                    max_zero_fraction=max_zero_fraction, max_columns=max_columns)
            net = make_estimator("nn", job.hyperparameters, job.seed)
            specs.append(NetSpec.from_estimator(net, columns, train))
            prepared.append((i, test, columns))
        except Exception as exc:  # isolate failures, as a build does
            record(i, exc)

    def finished(k: int, net: NeuralNetRegressor | Exception) -> None:
        i, test, columns = prepared[k]
        job = jobs[i]
        if isinstance(net, Exception):
            record(i, net)
            return
        try:
            record(i, finish_source(net, D, y, spec, family="nn", hyperparameters=job.hyperparameters,
                                    model_id=job.model_id, seed=job.seed, train=np.asarray(specs[k].rows),
                                    test=test, columns=columns, test_size=test_size, info=info))
        except Exception as exc:
            record(i, exc)

    if specs:
        train_networks(D, y, specs, device, errors="return", on_done=finished, **options)
    return results
