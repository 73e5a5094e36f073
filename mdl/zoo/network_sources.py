"""Network source models of a zoo build, trained many at once as packed networks
(:func:`mdl.models.packed_training.train_networks`): what :func:`~mdl.models.train.train_source` gives for
``family="nn"``, model by model (same split, columns, metrics and card).

>>> import numpy as np
>>> from types import SimpleNamespace
>>> from mdl.descriptors import get_descriptor
>>> D = np.random.default_rng(0).normal(size=(60, 6)); y = D[:, 0] - D[:, 1]
>>> jobs = [SimpleNamespace(model_id=f"m-{i}", seed=i, hyperparameters={"hidden": [8], "epochs": 5}) for i in range(2)]
>>> [s.model_id for s in train_network_sources(D, y, get_descriptor("morgan", n_bits=6).spec, jobs)]
['m-0', 'm-1']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from mdl.models.nn import NeuralNetRegressor
from mdl.models.packed import NetSpec
from mdl.models.packed_training import train_networks
from mdl.models.train import check_targets, finish_source, make_estimator, split_and_select

__all__ = ["train_network_sources"]


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
        As for :func:`~mdl.models.packed_training.train_networks`.
    on_done : callable, optional
        Called as ``on_done(i, result)`` as each model is finished.
    **options
        Further :func:`~mdl.models.packed_training.train_networks` options.

    Returns
    -------
    list of SourceModel or Exception
        Per job, the model or the exception it raised.
    """
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
