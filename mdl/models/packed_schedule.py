"""Where networks are cut into packs: a group, sorted by width, is cut into packs of least estimated step
time (padding waste against per-step overhead) and into waves whose training state fits in memory. It
decides only which networks share a pack, never a result (the concept: :mod:`mdl.models.packed`).

>>> import numpy as np, torch
>>> from mdl.models.packed import NetSpec, PackedMember
>>> D = np.random.default_rng(0).normal(size=(40, 8))
>>> members = [PackedMember.prepare(i, NetSpec(hidden=(h,), columns=range(8), rows=range(40)), D, D[:, :1], 1)
...            for i, h in enumerate([256, 4, 250, 6])]
>>> [[m.index for m in pack] for pack in chunks(members, torch.device("cpu"), max_models=64)]
[[0, 2, 3, 1]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from mdl.models.packed import PackedMember, pack_widths

__all__ = ["by_width", "chunks", "step_cost", "step_macs", "waves"]

#: Step-time model (seconds): per step, per multiply-add, per parameter; CPU and GPU. Measured on
#: two CPU cores and an H100. It only decides where a group is cut into packs, never a result.
_COST = {"cpu": (1.0e-3, 1.2e-11, 1.5e-9), "cuda": (1.6e-3, 2e-14, 2e-12)}


def by_width(members: Sequence[PackedMember]) -> list[PackedMember]:
    """Widest hidden layers first. The input widths come last: models' column counts differ by a
    few columns at random, and ordering by them first would scatter similar hidden widths.

    Parameters
    ----------
    members : sequence of PackedMember
        Networks of one group.

    Returns
    -------
    list of PackedMember
        Sorted.
    """
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


def step_cost(members: Sequence[PackedMember], device: torch.device) -> float:
    """Estimated seconds of one step of ``members`` packed together.

    Parameters
    ----------
    members : sequence of PackedMember
        The pack.
    device : torch.device
        Where it trains.

    Returns
    -------
    float
        Seconds.
    """
    widths = pack_widths(members)
    n_params = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    overhead, per_mac, per_param = _COST["cpu" if device.type == "cpu" else "cuda"]
    batch = members[0].spec.batch_size
    return overhead + len(members) * (batch * step_macs(widths) * per_mac + n_params * per_param)


def chunks(members: list[PackedMember], device: torch.device, max_models: int) -> list[list[PackedMember]]:
    """Cut members, sorted by width, into contiguous packs of least estimated total step time.

    Parameters
    ----------
    members : list of PackedMember
        Networks of one group.
    device : torch.device
        Where they train.
    max_models : int
        Most networks in one pack.

    Returns
    -------
    list of list of PackedMember
        The packs.
    """
    order = by_width(members)
    n = len(order)
    best = [0.0] + [math.inf] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j - 1, max(-1, j - 1 - max_models), -1):
            cost = best[i] + step_cost(order[i:j], device)
            if cost < best[j]:
                best[j], cut[j] = cost, i
    chunks, j = [], n
    while j > 0:
        chunks.append(order[cut[j]:j])
        j = cut[j]
    return chunks[::-1]


def waves(members: list[PackedMember], max_elements: int) -> list[list[PackedMember]]:
    """Consecutive runs of the width-sorted group whose training state fits in ``max_elements``.

    Parameters
    ----------
    members : list of PackedMember
        Networks of one group.
    max_elements : int
        Most floats of training state in one wave.

    Returns
    -------
    list of list of PackedMember
        The waves, trained one after another.
    """
    order = by_width(members)
    waves: list[list[PackedMember]] = []
    for m in order:
        if waves:
            wave = waves[-1]
            if sum(x.n_elements for x in wave) + m.n_elements <= max_elements:
                wave.append(m)
                continue
        waves.append([m])
    return waves

