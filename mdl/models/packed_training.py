"""Training many small networks at once as packed networks (:mod:`mdl.models.packed`): padded weights over a
model axis.

A zoo holds dozens to thousands of small pyramid networks. Trained one by one, each optimiser step
is a handful of small matrix products plus a fixed Python/PyTorch overhead, and two CPU cores are
hard to keep busy; packed along a model axis, one step advances many networks with a few batched
products (``torch.baddbmm``).

:func:`train_networks` trains networks that share nothing but the descriptor matrix ``D`` and the
targets ``y``: each :class:`NetSpec` brings its own hidden widths, kept input columns, training
rows, training options and seed. It returns ordinary fitted
:class:`~mdl.models.nn.NeuralNetRegressor` objects, trained as
:meth:`NeuralNetRegressor.fit <mdl.models.nn.NeuralNetRegressor.fit>` trains on
``D[rows][:, columns]``: same initial weights, same inner validation split, same minibatches, same
loss, Adam and early stopping — equal up to floating-point rounding.

How networks are packed:

* models are grouped by what one step must share: number of training and validation rows, batch
  size, learning rate and weight decay;
* a group is sorted by width and cut into packs (at most ``max_models`` each) where the padding
  waste costs less than the per-step overhead saved (:func:`~mdl.models.packed_schedule.chunks`); every
  layer is padded to the pack's largest width, the inputs to its largest column count, and a shallower model gets
  identity layers after its last hidden layer (exact: ReLU outputs are >= 0). Padded and identity
  weights never get a gradient (padded units output 0 and pass no gradient back; identity layers
  are masked to exactly zero, weight decay included), so Adam never moves them: padded units stay
  0, identity layers stay the identity;
* one step is a few batched products (forward, and the backward written out: three products per
  layer) and one fused Adam update over the packed tensors; sparse inputs (fingerprints) enter the
  first layer as their nonzero entries only (an embedding bag, plus a dense correction for the
  standardisation shift), which saves most of its forward product;
* each model keeps its own random streams (a ``torch`` generator for its initial weights, a NumPy
  generator for its validation split and minibatches), its own input and target standardisation,
  its own Adam moments and its own early stopping: when its patience runs out it is frozen with its
  best state and leaves the pack, which is re-padded to the models left; packs of a group run
  epoch by epoch side by side, and their survivors are re-packed together when that is cheaper;
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

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from mdl.errors import InvalidInputError
from mdl.models.nn import NeuralNetRegressor
from mdl.models.packed import NetSpec, PackedMember, unpadded
from mdl.models.packed_schedule import chunks, step_cost, waves
from mdl.models.packed_engine import Pack

__all__ = ["NetSpec", "train_networks"]


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
    """Train several networks on ``D`` and ``y`` together, packed.

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
        Most models in one pack.
    max_elements : int
        Most float elements of training state held at once (weights, gradients, Adam moments, best
        weights, masks and standardised data of the models in training): bounds memory (2**26 floats
        = 256 MiB, about twice that while survivors are re-packed).
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
            members.append(PackedMember.prepare(i, _as_spec(s), D, y2, n_outputs))
        except (InvalidInputError, TypeError, ValueError) as exc:
            if errors == "raise":
                raise
            finish(i, exc)
    groups: dict[tuple, list[PackedMember]] = {}
    for m in members:
        groups.setdefault(m.group_key, []).append(m)
    for key in sorted(groups, key=repr):
        for wave in waves(groups[key], max_elements):
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



def _train_wave(wave: list[PackedMember], D: np.ndarray, y2: np.ndarray, device: torch.device, max_models: int,
                finish: Callable[[int, Any], None]) -> None:
    """Train one wave: its packs run epoch by epoch side by side; finished models leave, and the
    survivors are re-packed whenever that is estimated at least 10% cheaper per step."""
    for m in wave:
        if m.spec.epochs == 0:
            finish(m.index, m.estimator(unpadded(m.init_weights())))
    active = [m for m in wave if m.spec.epochs > 0]
    running = []
    for chunk in chunks(active, device, max_models):
        for m in chunk:
            m.state = m.fresh_state(D, y2, device)
        running.append(Pack(chunk, device))
    while running:
        changed = False
        for pack in running:
            done = pack.epoch()
            if done:
                for k in done:
                    member = pack.members[k]
                    finish(member.index, member.error if member.error is not None else pack.emit(k))
                pack.drop(done)
                changed = True
        running = [s for s in running if s.members]
        if changed and len(running) > 1:
            survivors = [m for s in running for m in s.members]
            packs = chunks(survivors, device, max_models)
            if sum(step_cost(c, device) for c in packs) < 0.9 * sum(step_cost(s.members, device) for s in running):
                for s in running:
                    s.release()
                running = [Pack(chunk, device) for chunk in packs]
