"""Hidden features of many networks at once: one padded, batched forward pass per group of equal depth.

Networks sharing one descriptor spec read their kept columns from the same descriptor matrix. Those of
equal depth run together: their inputs are gathered per network, their weights zero-padded to the
widest member, and each layer is one ``baddbmm`` over the chunk. Padded units are exactly zero after
the ReLU and feed nothing downstream, so the padding changes no number.

>>> import numpy as np
>>> from mdl.models.nn import NeuralNetRegressor
>>> from mdl.models.source import SourceModel
>>> from mdl.descriptors import get_descriptor
>>> D = np.random.default_rng(0).normal(size=(40, 6)); spec = get_descriptor("morgan", n_bits=6).spec
>>> nets = [SourceModel(f"m{i}", NeuralNetRegressor(hidden=h, epochs=2).fit(D[:, :4], D[:, 5]), spec,
...                     np.arange(4)) for i, h in enumerate([[5, 3], [4, 2]])]
>>> [F.shape for F in network_features(nets, D)]
[(40, 3), (40, 2)]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch

from mdl.models.source import SourceModel

__all__ = ["PADDING_LIMIT", "network_features"]

_FLOATS_PER_CHUNK = 2**24  # padded weights of one batched forward chunk (64 MiB of float32)
#: a forward chunk is cut where padding would more than this multiply the work of its networks
PADDING_LIMIT = 1.25


def network_features(nets: Sequence[SourceModel], D: np.ndarray, layers: int | Sequence[int] | str = -1,
                     batched: bool = True) -> list[np.ndarray]:
    """Neural descriptors of several networks sharing one descriptor spec, from its matrix ``D``.

    Parameters
    ----------
    nets : sequence of SourceModel
        Network sources of one descriptor spec.
    D : ndarray of shape (n_samples, width)
        Their descriptor matrix.
    layers : int, sequence of int or "all", default -1
        Hidden layers to return, concatenated (see :func:`mdl.models.nn.layer_indices`).
    batched : bool, default True
        One padded forward pass per chunk of equal-depth networks; False runs
        ``[s.estimator.hidden_features(D[:, s.columns], layers) for s in nets]``, equal up to float32
        rounding.

    Returns
    -------
    list of ndarray
        Each network's features, in the order of ``nets`` (float64).
    """
    if not batched:
        return [s.estimator.hidden_features(D[:, s.columns], layers) for s in nets]
    out: list[np.ndarray | None] = [None] * len(nets)
    D_pad = torch.from_numpy(np.column_stack([D, np.zeros(len(D))]).astype(np.float32))  # last column: padding
    by_depth: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(nets):
        by_depth[s.estimator.n_hidden_layers].append(i)
    for depth, members in by_depth.items():
        shapes = {i: (len(nets[i].columns), *nets[i].estimator.hidden_widths) for i in members}
        members.sort(key=shapes.__getitem__)  # similar shapes share a chunk: little padding
        for chunk, widest in _chunks(members, shapes, depth):
            acts = _forward([nets[i] for i in chunk], D_pad, widest)
            for b, i in enumerate(chunk):
                widths = nets[i].estimator.hidden_widths
                out[i] = np.concatenate([acts[j][b, :, : widths[j]].numpy() for j in
                                         nets[i].estimator.layer_indices(layers)], axis=1).astype(np.float64)
    return out  # type: ignore[return-value]


def _size(widths: Sequence[int]) -> int:
    """Weights of a network of these widths (input first)."""
    return int(np.multiply(widths[:-1], widths[1:]).sum())


def _chunks(members: list[int], shapes: dict[int, tuple[int, ...]], depth: int) -> list[tuple[list[int], np.ndarray]]:
    """Consecutive runs of ``members`` (sorted by shape) whose padded weights stay within the limits, each
    with its padded widths."""
    out = []
    start = 0
    while start < len(members):
        stop, widest, actual = start, np.zeros(depth + 1, dtype=int), 0
        while stop < len(members):
            shape = shapes[members[stop]]
            trial, true_size = np.maximum(widest, shape), _size(shape)
            padded = (stop - start + 1) * _size(trial)
            if stop > start and (padded > _FLOATS_PER_CHUNK or padded > PADDING_LIMIT * (actual + true_size)):
                break
            widest, stop, actual = trial, stop + 1, actual + true_size
        out.append((members[start:stop], widest))
        start = stop
    return out


def _forward(chunk: Sequence[SourceModel], D_pad: torch.Tensor, widest: np.ndarray) -> list[torch.Tensor]:
    """Every hidden layer's activations (B, n, width) of the chunk's networks, zero-padded to ``widest``."""
    B, k, depth = len(chunk), int(widest[0]), len(widest) - 1
    gather = np.full((B, k), D_pad.shape[1] - 1, dtype=np.int64)
    mean, scale = np.zeros((B, 1, k), np.float32), np.ones((B, 1, k), np.float32)
    weights = [torch.zeros(B, int(widest[j]), int(widest[j + 1])) for j in range(depth)]
    biases = [torch.zeros(B, 1, int(widest[j + 1])) for j in range(depth)]
    for b, source in enumerate(chunk):
        m = len(source.columns)
        gather[b, :m] = source.columns
        mean[b, 0, :m], scale[b, 0, :m] = source.estimator.input_scaling()
        for j, (W, bias) in enumerate(source.estimator.hidden_parameters()):
            weights[j][b, : W.shape[0], : W.shape[1]] = W
            biases[j][b, 0, : bias.shape[0]] = bias
    with torch.no_grad():
        x = (D_pad[:, torch.from_numpy(gather)].permute(1, 0, 2) - torch.from_numpy(mean)) / torch.from_numpy(scale)
        acts = []
        for W, bias in zip(weights, biases):
            x = torch.relu(torch.baddbmm(bias, x, W))
            acts.append(x)
    return acts
