"""Packed networks: many small networks padded to common widths along a model axis, so that one batched
product (``torch.baddbmm``) advances all of them. This module holds what one network of a pack is: its
:class:`NetSpec` (architecture, data, training options) and its :class:`PackedMember` (its statistics, random
streams, progress and, while outside a pack, its own unpadded state), and the widths a pack pads to.

The rest of the concept, one file each: :mod:`mdl.models.packed_engine` (a pack in training: padded tensors,
the forward and written-out backward pass, Adam, early stopping), :mod:`mdl.models.packed_schedule` (where a
group is cut into packs and waves), :mod:`mdl.models.packed_training` (``train_networks``, the entry point) and :mod:`mdl.models.packed_features` (the hidden features of many fitted networks in one
packed forward pass). Not to be confused with *stacking* (:mod:`mdl.transfer_learning.stacking`), a head on
several sources' predictions.

>>> import numpy as np
>>> D = np.random.default_rng(0).normal(size=(30, 4))
>>> member = PackedMember.prepare(0, NetSpec(hidden=(8, 4), columns=range(3), rows=range(30)), D, D[:, 3:], 1)
>>> member.widths, member.widths_at(3)
([3, 8, 4, 1], [3, 8, 4, 4, 1])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from mdl.errors import InvalidInputError
from mdl.models.nn import NeuralNetRegressor, PyramidMLP, standardised_targets

__all__ = ["NetSpec", "PackedMember", "pack_widths", "unpadded"]


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


def _inputs(D: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``D[rows][:, cols]`` as float32, as the estimator sees it."""
    return np.asarray(D[np.ix_(rows, cols)], dtype=np.float32)


@dataclass(eq=False)
class PackedMember:
    """One network of a pack: its spec, data statistics, random streams, training progress and, while it is not
    in a pack, its own (unpadded) training state."""

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
        """Its own layer widths: inputs, hidden layers, outputs."""
        return [len(self.cols), *map(int, self.spec.hidden), self.n_outputs]

    @property
    def depth(self) -> int:
        """Its number of hidden layers."""
        return len(self.spec.hidden)

    def widths_at(self, depth: int) -> list[int]:
        """Layer widths in a pack of ``depth`` hidden layers: a shallower model's last hidden layer
        is followed by identity layers (exact on ReLU outputs, and never trained).

        Parameters
        ----------
        depth : int
            Hidden layers of the pack (at least the model's own).

        Returns
        -------
        list of int
            Input, hidden and output widths.
        """
        hidden = [int(h) for h in self.spec.hidden]
        return [len(self.cols), *hidden, *[hidden[-1]] * (depth - len(hidden)), self.n_outputs]

    def pack_layer(self, layer: int, depth: int) -> int | None:
        """The model's own layer at position ``layer`` of a pack of ``depth`` hidden layers.

        Parameters
        ----------
        layer, depth : int
            A layer position of the pack and the pack's hidden layers.

        Returns
        -------
        int or None
            The model's own layer index; None for an identity layer.
        """
        if layer < self.depth:
            return layer
        return self.depth if layer == depth else None

    @property
    def n_params(self) -> int:
        """Its weights and biases."""
        w = self.widths
        return sum(a * b + b for a, b in zip(w[:-1], w[1:]))

    @property
    def n_elements(self) -> int:
        """Floats of training state: parameters with gradients, moments, best copy and masks; data."""
        return 7 * self.n_params + len(self.rows) * (len(self.cols) + 2 * self.n_outputs)

    @classmethod
    def prepare(cls, index: int, spec: NetSpec, D: np.ndarray, y2: np.ndarray, n_outputs: int) -> PackedMember:
        """A network ready to be packed: its data statistics and validation split, exactly as
        :meth:`NeuralNetRegressor.fit <mdl.models.nn.NeuralNetRegressor.fit>` computes them.

        Parameters
        ----------
        index : int
            Its position among the specs trained together.
        spec : NetSpec
            What to train.
        D, y2 : numpy.ndarray
            The full descriptor matrix and the (n_rows, n_outputs) targets.
        n_outputs : int
            Target columns.

        Returns
        -------
        PackedMember
            The member, without a training state yet.
        """
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
        """Initial training state: weights stored (in, out), zero Adam moments, standardised data.

        Parameters
        ----------
        D, y2 : numpy.ndarray
            As for :meth:`prepare`.
        device : torch.device
            Where the tensors live.

        Returns
        -------
        dict
            The unpadded state a pack takes in.
        """
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
        """The fitted estimator from unpadded weights.

        Parameters
        ----------
        weights : list of (numpy.ndarray, numpy.ndarray)
            (weight (in, out), bias) per layer.

        Returns
        -------
        NeuralNetRegressor
            Fitted, with its loss curve.
        """
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


def pack_widths(members: Sequence[PackedMember]) -> list[int]:
    """The padded widths of a pack of ``members``: as deep as the deepest, as wide as the widest.

    Parameters
    ----------
    members : sequence of PackedMember
        The pack.

    Returns
    -------
    list of int
        Input, hidden and output widths.
    """
    depth = max(m.depth for m in members)
    return np.max([m.widths_at(depth) for m in members], axis=0).tolist()


def unpadded(weights: list[tuple[torch.Tensor, torch.Tensor]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights as a fitted estimator takes them.

    Parameters
    ----------
    weights : list of (torch.Tensor, torch.Tensor)
        (weight (out, in), bias) per layer, on the CPU.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        (weight (in, out), bias) per layer, copies.
    """
    return [(w.T.numpy().copy(), b.numpy().copy()) for w, b in weights]
