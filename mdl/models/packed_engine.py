"""A pack of networks in training: the members' states padded into packed tensors over a model axis, one
minibatch step of all of them (forward, the backward written out, one fused Adam update), validation and
early stopping per member (the concept: :mod:`mdl.models.packed`).

>>> import numpy as np, torch
>>> from mdl.models.packed import NetSpec, PackedMember
>>> D = np.random.default_rng(0).normal(size=(40, 4)); y2 = D[:, :1] - D[:, 1:2]
>>> members = [PackedMember.prepare(i, NetSpec(hidden=h, columns=range(4), rows=range(40), seed=i), D, y2, 1)
...            for i, h in enumerate([(8,), (5, 3)])]
>>> for m in members:
...     m.state = m.fresh_state(D, y2, torch.device("cpu"))
>>> pack = Pack(members, torch.device("cpu"))
>>> pack.depth, [w.shape for w in pack.W]
(2, [torch.Size([2, 4, 8]), torch.Size([2, 8, 8]), torch.Size([2, 8, 1])])
>>> pack.epoch()
[]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F
from torch.optim.adam import adam as _adam_step

from mdl.models.nn import NeuralNetRegressor
from mdl.models.packed import PackedMember, pack_widths

__all__ = ["SPARSE_FILL", "VAL_BLOCK", "Pack"]

#: Rows per block when scoring the validation split (fixed, so block sums never depend on the pack).
VAL_BLOCK = 4096
#: The first layer reads its inputs as sparse rows (fingerprints) when no row has more nonzero
#: entries than this fraction of the columns; else as a dense matrix.
SPARSE_FILL = 0.25
_BETAS, _EPS = (0.9, 0.999), 1e-8
_FUSED: dict[str, bool] = {}  # device type -> whether torch's fused Adam kernel runs there


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


_PARAMS = ("W", "b", "mW", "vW", "mb", "vb", "bestW", "bestb")


class Pack:
    """Networks of one group (same rows, batch size, learning rate and weight decay), padded to common widths
    and trained together.

    Parameters
    ----------
    members : list of PackedMember
        Networks that each hold a training state (:meth:`PackedMember.fresh_state`), all after the same
        number of Adam steps; the pack takes their states over.
    device : torch.device
        Where the pack trains.
    """

    def __init__(self, members: list[PackedMember], device: torch.device):
        self.members = list(members)
        self.device = device
        first = members[0]
        self.n_rows, self.n_val = len(first.rows), len(first.val_pos)
        self.batch = int(first.spec.batch_size)
        self.lr, self.wd = float(first.spec.lr), float(first.spec.weight_decay)
        steps = {m.state["step"] for m in members}
        assert len(steps) == 1, "models of one pack have made the same number of Adam steps"
        self._fill(members, steps.pop())

    @torch.no_grad()
    def _fill(self, members: list[PackedMember], step: int) -> None:
        """Pad the members' own states into packed tensors; the members keep no state of their own."""
        M, dev = len(members), self.device
        widths = pack_widths(members)
        self.depth = depth = len(widths) - 2
        shapes_W = [(M, a, b) for a, b in zip(widths[:-1], widths[1:])]
        shapes_b = [(M, 1, b) for b in widths[1:]]
        for name in _PARAMS:
            shapes = shapes_W if name.endswith("W") else shapes_b
            setattr(self, name, [torch.zeros(s, device=dev) for s in shapes])
        n_layers = len(widths) - 1
        # padded weights get exactly zero gradients on their own (their units output 0 and pass no
        # gradient back); only layers that hold identity blocks need a mask
        identity = [any(m.pack_layer(layer, depth) is None for m in members) for layer in range(n_layers)]
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
                i = m.pack_layer(layer, depth)
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
        """Hand every member its own unpadded state back (to be re-packed) and empty the pack."""
        step = int(self.steps[0].item())
        for k, m in enumerate(self.members):
            own = m.widths_at(self.depth)
            layers = [i for i in range(self.depth + 1) if m.pack_layer(i, self.depth) is not None]
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
        """Remove finished models and re-pad to the widths of the models left.

        Parameters
        ----------
        done : list of int
            Positions of the finished models in the pack.
        """
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
        (``n_batch`` per model, flat indices into the packed data); without ``train``, only the
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
        """One Adam step of every packed tensor. Adam is elementwise, so each model keeps its own
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
        """Model ``k`` as a fitted estimator: its best weights (its last without validation).

        Parameters
        ----------
        k : int
            Its position in the pack.

        Returns
        -------
        NeuralNetRegressor
            Fitted.
        """
        member = self.members[k]
        W, b = (self.bestW, self.bestb) if self.n_val and member.best < math.inf else (self.W, self.b)
        own = member.widths_at(self.depth)
        layers = [i for i in range(self.depth + 1) if member.pack_layer(i, self.depth) is not None]
        weights = [(W[i][k, : own[i], : own[i + 1]].cpu().numpy().copy(), b[i][k, 0, : own[i + 1]].cpu().numpy().copy())
                   for i in layers]
        return member.estimator(weights)
