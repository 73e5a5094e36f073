"""The public API, one function per verb: search, pull, transfer, screen, finetune and publish.

Each is thin: it checks its own arguments and hands over to the module that does the work, imported
on use so that ``import mdl`` and ``mdl search`` need neither torch nor the models. ``screen`` is the
screening function itself, :func:`mdl.screening.pipeline.screen`, loaded on first use.

>>> import mdl
>>> hits = mdl.search(property="homo", material="molecule", min_r2=0.8)   # doctest: +SKIP
>>> model = mdl.transfer(hits.model_id[0], smiles, y, head="rf")           # doctest: +SKIP
>>> model.cv_scores_["mae"]                                                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mdl.errors import InvalidInputError
from mdl.hub import Hub, open_hub
from mdl.hub.index import check_filters, search_index
from mdl.hub.presence import require_models
from mdl.lazy import lazy_names
from mdl.validation import check_number

if TYPE_CHECKING:  # imported on use: searching needs neither torch nor the models
    from mdl.models.source import SourceModel
    from mdl.transfer_learning import FineTunedModel, TransferModel


def search(
    property: str | None = None,
    material: str | None = None,
    descriptor: str | None = None,
    model_type: str | None = None,
    min_r2: float | None = None,
    sort_by: str = "r2",
    limit: int | None = None,
    hub: str | Path | Hub | None = None,
) -> pd.DataFrame:
    """Models in the hub matching every given filter, best first (by test R² unless ``sort_by``).

    Parameters
    ----------
    property : str, optional
        Matches property names and aliases case-insensitively, also as a substring ("homo", "band gap").
    material : str, optional
        "molecule", "polymer" or "inorganic" (any case).
    descriptor : str, optional
        Descriptor name ("morgan", "magpie"...).
    model_type : str, optional
        "nn", "rf", "gb", "en" or a long name ("random forest").
    min_r2 : float, optional
        Lowest test R².
    sort_by : str, default "r2"
        Column to sort by (best first).
    limit : int, optional
        Most rows returned.
    hub : str, Path, Hub or None
        The hub (its address, or None for the default hub).

    Returns
    -------
    DataFrame
        One row per model: id, property, material, descriptor, family, test metrics; no row when no
        model matches the filters (:func:`mdl.hub.index.search_choices` says which values there are).

    Raises
    ------
    InvalidInputError
        For an unknown ``material``, ``model_type`` or ``sort_by`` (listing those accepted), or a
        ``limit`` below 1.
    HubNotFoundError, RepositoryNotFoundError
        When the hub does not exist (nothing is created).
    EmptyHubError
        When the hub holds no model, saying how to fill it.

    Examples
    --------
    >>> search(limit=0)
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: limit must be an integer >= 1 or None, got 0
    >>> search(material="crystal")
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: unknown material 'crystal'; use one of 'inorganic', 'molecule', 'polymer'
    """
    check_number(limit, "limit", low=1, optional=True)
    check_number(min_r2, "min_r2", integer=False, optional=True)
    check_filters(material, model_type)
    return search_index(require_models(open_hub(hub)), property=property, material=material, descriptor=descriptor,
                        model_type=model_type, min_r2=min_r2, sort_by=sort_by, limit=limit)


def pull(model_ids: str | Sequence[str] | pd.DataFrame, hub: str | Path | Hub | None = None) -> SourceModel | list[SourceModel]:
    """Load one model (a str) or several (a list, or a :func:`search` result), verifying every file.

    Several models are loaded in one batch (a Hugging Face hub downloads them together).

    Parameters
    ----------
    model_ids : str, sequence of str or DataFrame
        One id, several, or a table with a ``model_id`` column.
    hub : str, Path, Hub or None
        The hub (its address, or None for the default hub).

    Returns
    -------
    SourceModel or list of SourceModel
        One model for one id, else a list in the order given.

    Raises
    ------
    InvalidInputError
        For anything but ids or a search result.
    HubNotFoundError, RepositoryNotFoundError
        When the hub does not exist (nothing is created).
    EmptyHubError
        When the hub holds no model, saying how to fill it.
    ModelNotFoundError
        For an id the hub does not hold, suggesting near ids.

    Examples
    --------
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
    if isinstance(model_ids, str):
        return open_hub(hub).load(model_ids)
    from mdl.transfer_learning.loading import load_sources

    return load_sources(model_ids, hub)


def transfer(
    model_id: str | SourceModel,
    X: Any,
    y: Any,
    head: Any = "rf",
    layers: int | Sequence[int] | str = -1,
    cv: int | None = 5,
    hub: str | Path | Hub | None = None,
    random_state: int = 0,
    features: str = "hidden",
) -> TransferModel:
    """Fit a :class:`TransferModel`: a zoo model as a frozen featurizer, and a head on its features.

    Parameters
    ----------
    model_id : str or SourceModel
        The source: an id of ``hub`` or a loaded model.
    X : raw inputs (SMILES, formulas, structures) or a ready descriptor matrix
        The target's inputs.
    y : array-like of shape (n_samples,)
        The target.
    head : str or BaseEstimator, default "rf"
        "rf", "ridge", "mlp", "svr" or a scikit-learn regressor.
    layers : int, sequence of int or "all", default -1
        Hidden layers used as neural descriptors.
    cv : int or None, default 5
        Folds of the cross-validation reported in ``cv_scores_`` (None: skip). This function
        cross-validates by default; the estimator it returns keeps ``cv``, so that refitting it (``clone``,
        ``cross_val_score``) runs the same CV again; ``TransferModel`` itself runs none unless asked.
    hub : str, Path, Hub or None
        Where ``model_id`` is found.
    random_state : int, default 0
        Seed of the folds and the head.
    features : {"hidden", "joined"}
        "joined" gives the head the source's raw descriptor beside its hidden layer.

    Returns
    -------
    TransferModel
        Fitted: ``cv_scores_`` (cross-validated MAE, RMSE, R² of the head), ``predict`` on raw inputs,
        ``save`` / ``TransferModel.load``.

    Raises
    ------
    InvalidInputError
        For a bad parameter or target, naming it or the rows.

    Examples
    --------
    >>> model = transfer("qm9-gap-nn-0001", smiles, y, head="ridge")   # doctest: +SKIP
    >>> model.cv_scores_["mae"]                                         # doctest: +SKIP
    """
    from mdl.transfer_learning import TransferModel

    return TransferModel(model_id, head=head, layers=layers, cv=cv, hub=hub, random_state=random_state,
                         features=features).fit(X, y)


def finetune(
    model_id: str | SourceModel,
    X: Any,
    y: Any,
    freeze: int | str = 0,
    epochs: int = 300,
    lr: float = 1e-3,
    hub: str | Path | Hub | None = None,
    random_state: int = 0,
    **options: Any,
) -> FineTunedModel:
    """Fine-tune a zoo network: keep its first layers, retrain the rest on ``(X, y)``.

    Parameters
    ----------
    model_id : str or SourceModel
        A network source: an id of ``hub`` or a loaded model.
    X : raw inputs or a ready descriptor matrix
        The target's inputs.
    y : array-like of shape (n_samples,)
        The target.
    freeze : int or "all", default 0
        Leading hidden layers kept frozen (the ElemNet-style recipe); 0 retrains every layer, "all" only
        the output layer (always re-initialised).
    epochs : int, default 300
        Most epochs; training stops early on an inner validation split.
    lr : float, default 1e-3
        Adam learning rate.
    hub : str, Path, Hub or None
        Where ``model_id`` is found.
    random_state : int, default 0
        Seed of the split, the batches and the new output layer.
    **options
        Further :class:`FineTunedModel` parameters (``batch_size``, ``patience``, ``weight_decay``,
        ``validation_fraction``).

    Returns
    -------
    FineTunedModel
        Fitted; publish it with ``mdl.publish(model.to_source_model("new-id"), modelset=...)``.

    Raises
    ------
    InvalidInputError
        For a bad parameter or target, a source that is not a network, or a diverging run.

    Examples
    --------
    >>> model = finetune("elemnet-formation-energy-nn-0000", formulas, y, freeze=2)   # doctest: +SKIP
    """
    from mdl.transfer_learning import FineTunedModel

    return FineTunedModel(model_id, freeze=freeze, epochs=epochs, lr=lr, hub=hub, random_state=random_state,
                          **options).fit(X, y)


def publish(models: SourceModel | Sequence[SourceModel], modelset: str, hub: str | Path | Hub | None = None,
            meta: dict | None = None, progress: bool = True) -> list[str]:
    """Publish source models into a model set of the hub, in one batch.

    Parameters
    ----------
    models : SourceModel or sequence of SourceModel
        The models (their ids must be new to the hub).
    modelset : str
        The model set they join.
    hub : str, Path, Hub or None
        The hub (its address, or None for the default hub).
    meta : dict, optional
        Metadata of the model set (recipe, dataset, source).
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    list of str
        The ids published.

    Examples
    --------
    >>> publish(model.to_source_model("expt-tc-ft-0000"), modelset="expt-tc")   # doctest: +SKIP
    """
    from mdl.models.source import SourceModel

    if isinstance(models, SourceModel):
        models = [models]
    return open_hub(hub).publish(models, modelset=modelset, meta=meta, progress=progress)


#: ``screen`` is the screening function itself (one function, one docstring), loaded on first use: it needs torch.
__getattr__, __dir__ = lazy_names(__name__, {"screen": "mdl.screening.pipeline"})
