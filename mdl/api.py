"""The public API: search, pull, transfer, finetune and publish (``mdl.screen`` lives in :mod:`mdl.transfer.screen`).

>>> import mdl
>>> hits = mdl.search(property="homo", material="molecule", min_r2=0.8)   # doctest: +SKIP
>>> model = mdl.transfer(hits.model_id[0], smiles, y, head="rf")           # doctest: +SKIP
>>> model.cv_scores_["mae"]                                                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from mdl.errors import InvalidInputError
from mdl.hub import open_hub
from mdl.hub.index import search_index
from mdl.validation import check_number

if TYPE_CHECKING:  # imported on use: searching needs neither torch nor the models
    from mdl.models.source import SourceModel
    from mdl.transfer import FineTunedModel, TransferModel


def search(
    property: str | None = None,
    material: str | None = None,
    descriptor: str | None = None,
    model_type: str | None = None,
    min_r2: float | None = None,
    sort_by: str = "r2",
    limit: int | None = None,
    hub: Any = None,
) -> pd.DataFrame:
    """Models in the hub matching every given filter, best first (by test R² unless ``sort_by``).

    ``property`` matches names and aliases case-insensitively, also as a substring ("homo",
    "band gap"); ``model_type`` is "nn", "rf", "gb", "en" or a long name ("random forest").
    An unknown ``model_type`` or ``sort_by``, or a ``limit`` below 1, raises InvalidInputError.

    >>> search(limit=0)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: limit must be an integer >= 1 or None, got 0
    """
    check_number(limit, "limit", low=1, optional=True)
    check_number(min_r2, "min_r2", integer=False, optional=True)
    return search_index(open_hub(hub).index(), property=property, material=material, descriptor=descriptor,
                        model_type=model_type, min_r2=min_r2, sort_by=sort_by, limit=limit)


def pull(model_ids: str | Sequence[str] | pd.DataFrame, hub: Any = None) -> SourceModel | list[SourceModel]:
    """Load one model (a str) or several (a list, or a :func:`search` result), verifying every file.

    >>> pull(42)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: model_ids must be a model id, a list of them or a search result; got int 42
    """
    if isinstance(model_ids, pd.DataFrame):
        if "model_id" not in model_ids.columns:
            raise InvalidInputError("a table of models needs a 'model_id' column (an mdl.search result)")
        model_ids = model_ids["model_id"].tolist()
    if not isinstance(model_ids, str) and (not isinstance(model_ids, Sequence)
                                           or not all(isinstance(m, str) for m in model_ids)):
        raise InvalidInputError(f"model_ids must be a model id, a list of them or a search result; got "
                                f"{type(model_ids).__name__} {model_ids!r}")
    store = open_hub(hub)
    if isinstance(model_ids, str):
        return store.load(model_ids)
    return [store.load(model_id) for model_id in model_ids]


def transfer(
    model_id: str | SourceModel,
    X: Any,
    y: Any,
    head: Any = "rf",
    layers: int | Sequence[int] | str = -1,
    cv: int | None = 5,
    hub: Any = None,
    random_state: int = 0,
    features: str = "hidden",
) -> TransferModel:
    """Fit a :class:`TransferModel` on ``X`` (raw inputs or a ready descriptor matrix) and ``y``.

    ``features="joined"`` gives the head the source's raw descriptor beside its hidden layer.
    The result exposes ``cv_scores_`` (cross-validated MAE, RMSE, R² of the head), ``predict``
    on raw inputs, and ``save``/``TransferModel.load``.
    """
    from mdl.transfer import TransferModel

    return TransferModel(model_id, head=head, layers=layers, cv=cv, hub=hub, random_state=random_state,
                         features=features).fit(X, y)


def finetune(
    model_id: str | SourceModel,
    X: Any,
    y: Any,
    freeze: int | str = 0,
    epochs: int = 300,
    lr: float = 1e-3,
    hub: Any = None,
    random_state: int = 0,
    **options: Any,
) -> FineTunedModel:
    """Fine-tune a zoo network on ``X`` (raw inputs or a ready descriptor matrix) and ``y``.

    ``freeze``: number of leading hidden layers kept frozen (the ElemNet-style recipe), 0 to
    retrain every layer, "all" to retrain only the output layer (always re-initialised). Early
    stopping on an inner validation split; ``options`` are further :class:`FineTunedModel`
    parameters (``batch_size``, ``patience``, ``weight_decay``, ``validation_fraction``). Publish the
    result with ``mdl.publish(model.to_source_model("new-id"), modelset=...)``.
    """
    from mdl.transfer import FineTunedModel

    return FineTunedModel(model_id, freeze=freeze, epochs=epochs, lr=lr, hub=hub, random_state=random_state,
                          **options).fit(X, y)


def publish(models: SourceModel | Sequence[SourceModel], modelset: str, hub: Any = None,
            meta: dict | None = None, progress: bool = True) -> list[str]:
    """Publish source models into a model set of the hub in one batch; returns their ids."""
    from mdl.models.source import SourceModel

    if isinstance(models, SourceModel):
        models = [models]
    return open_hub(hub).publish(models, modelset=modelset, meta=meta, progress=progress)
