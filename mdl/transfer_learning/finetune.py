"""Fine-tuning a zoo network on a small target: freeze the first k hidden layers, retrain the rest.

>>> model = FineTunedModel("elemnet-formation-energy-nn-0000", freeze=2).fit(formulas, y)  # doctest: +SKIP
>>> model.predict(["Fe2O3"])                                                   # doctest: +SKIP
>>> mdl.publish(model.to_source_model("expt-fe-ft-0000"), modelset="expt-fe")  # doctest: +SKIP

Recipes: ``freeze=k`` keeps the first k hidden layers as they are (the ElemNet-style recipe);
``freeze=0`` retrains every layer (found best by multi-property pretraining work); ``freeze="all"``
retrains only the output layer, i.e. a linear head on the frozen neural descriptors. The output layer
is always re-initialised for the new target (a multi-property source gets a single output). Inputs
keep the source's scaling; the target gets its own. Training stops early on an inner validation split
and restores the best epoch.

A fine-tuned network *is* a source model with a new estimator: :meth:`FineTunedModel.to_source_model`
returns a :class:`SourceModel` (card marked ``transferred`` and naming ``source_model``) stored in the
same safe format (JSON + safetensors) and publishable with :func:`mdl.publish`.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from mdl.errors import InvalidInputError, ModelFormatError
from mdl.hub import Hub
from mdl.models.metrics import regression_metrics
from mdl.models.nn import NeuralNetRegressor
from mdl.models.source import SourceModel
from mdl.models.train import library_versions
from mdl.validation import check_freeze, check_number, check_targets, n_inputs

__all__ = ["FineTunedModel", "to_source_model"]


def _load_source(source: str | SourceModel, hub: str | Path | Hub | None) -> SourceModel:
    if isinstance(source, SourceModel):
        return source
    from mdl.hub import open_hub

    return open_hub(hub).load(source)


class FineTunedModel(RegressorMixin, BaseEstimator):
    """A zoo network retrained on a new target, as a scikit-learn regressor.

    Parameters
    ----------
    source : str or SourceModel
        Model id in ``hub`` or a loaded network.
    freeze : int or "all", default 0
        Leading hidden layers kept frozen (0: retrain all; "all": only the new output layer).
    epochs, lr, weight_decay, batch_size : int, float, float, int
        Adam training of the unfrozen layers (through :meth:`NeuralNetRegressor.fit`, started from the
        source's weights).
    patience : int, default 30
        Epochs without improvement of the inner validation loss before stopping.
    validation_fraction : float, default 0.15
        Inner validation split for early stopping (none below 10 samples).
    hub : str, Path, Hub or None
        Where to find ``source`` (default hub when None).
    random_state : int, default 0
        Seed of the split, the batches and the new output layer.

    Attributes
    ----------
    model_ : SourceModel
        The fine-tuned network as a source model.
    estimator_ : NeuralNetRegressor
        Its network.
    frozen_layers_, loss_curve_, best_epoch_, validation_rows_, n_features_in_
        Layers kept, validation loss per epoch, the epoch restored, the validation rows, input width.

    Examples
    --------
    >>> model = FineTunedModel("elemnet-formation-energy-nn-0000", freeze=2).fit(formulas, y)  # doctest: +SKIP
    """

    def __init__(self, source: str | SourceModel, freeze: int | str = 0, epochs: int = 300, lr: float = 1e-3,
                 weight_decay: float = 1e-5, batch_size: int = 32, patience: int = 30,
                 validation_fraction: float = 0.15, hub: str | Path | Hub | None = None, random_state: int = 0):
        self.source = source
        self.freeze = freeze
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.hub = hub
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> FineTunedModel:
        """Retrain the source network on ``(X, y)``.

        Parameters and targets are checked before the source is loaded or any descriptor computed.

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix
        y : array-like of shape (n_samples,)

        Returns
        -------
        FineTunedModel
            ``self``, fitted.

        Raises
        ------
        InvalidInputError
            For a bad parameter or target (naming it or the rows), a source that is not a network, or a
            run whose validation loss stops being finite (naming the epoch and ``lr``).
        """
        self._check_params()
        y = check_targets(y, n_inputs(X), multi_output=False, min_rows=2, allow_constant=False)
        source = _load_source(self.source, self.hub)
        if not source.is_network:
            raise InvalidInputError(f"fine-tuning needs a network source; {source.model_id} is a "
                                    f"{source.family!r} model (use mdl.transfer for other families)")
        if source.takes_graphs and not hasattr(source.estimator, "fine_tune"):
            raise InvalidInputError(f"{source.model_id} is a pretrained {source.family!r} source that mdl does not "
                                    "retrain (use mdl.transfer on its hidden layers)")
        frozen = check_freeze(self.freeze, source.estimator.n_hidden_layers)
        features = source.features(X)
        y = check_targets(y, len(features), multi_output=False)
        if source.takes_graphs:  # graph networks train themselves with frozen layers (GraphNetRegressor.fine_tune)
            net = _copy_network(source.estimator)
            net.set_params(lr=self.lr, weight_decay=self.weight_decay, epochs=self.epochs, batch_size=self.batch_size,
                           patience=self.patience, validation_fraction=self.validation_fraction,
                           random_state=self.random_state)
            net.fine_tune(features, y, frozen)
            self.loss_curve_ = net.loss_curve_
            self.best_epoch_ = int(np.argmin(net.loss_curve_)) + 1 if net.loss_curve_ else self.epochs
            self.validation_rows_ = net.validation_rows_
        else:
            net = NeuralNetRegressor(hidden=source.estimator.hidden_widths, lr=self.lr, weight_decay=self.weight_decay,
                                     epochs=self.epochs, batch_size=self.batch_size, patience=self.patience,
                                     validation_fraction=self.validation_fraction, random_state=self.random_state)
            try:
                net.fit(features, y, start=source.estimator, frozen=frozen)
            except FloatingPointError as exc:
                raise InvalidInputError(f"fine-tuning failed: {exc}: lower lr (now {self.lr:g})") from None
            self.loss_curve_ = net.loss_curve_
            self.best_epoch_ = net.best_epoch_
            self.validation_rows_ = net.validation_rows_
        self.frozen_layers_ = frozen
        self.n_features_in_ = len(source.columns)
        self.estimator_ = net
        self.model_ = SourceModel(model_id=f"{source.model_id}-finetuned", estimator=net,
                                  descriptor=source.descriptor, columns=np.array(source.columns),
                                  info=self._card(source, y, features))
        return self

    def _check_params(self) -> None:
        check_freeze(self.freeze)
        check_number(self.epochs, "epochs", low=1)
        check_number(self.lr, "lr", integer=False, low=0, low_open=True)
        check_number(self.weight_decay, "weight_decay", integer=False, low=0)
        check_number(self.batch_size, "batch_size", low=1)
        check_number(self.patience, "patience", low=1)
        check_number(self.validation_fraction, "validation_fraction", integer=False, low=0, high=1, high_open=True)

    def _card(self, source: SourceModel, y: np.ndarray, features: np.ndarray) -> dict[str, Any]:
        val = self.validation_rows_
        return _transferred_card(
            source, self.estimator_,
            transfer={"method": "fine-tuning", "freeze": self.freeze, "frozen_layers": self.frozen_layers_,
                      "output_layer": "re-initialised", "epochs": self.epochs,
                      "epochs_run": len(self.loss_curve_) or self.epochs, "best_epoch": self.best_epoch_,
                      "lr": self.lr, "weight_decay": self.weight_decay, "batch_size": self.batch_size,
                      "patience": self.patience, "validation_fraction": self.validation_fraction,
                      "seed": self.random_state},
            n_train=int(len(y)), n_test=0,
            metrics=regression_metrics(y[val], self.estimator_.predict(_rows(features, val))) if len(val) >= 2 else {},
            metrics_on=f"inner validation split of {len(val)} rows, used for early stopping (slightly "
                       "optimistic): cross-validate the FineTunedModel for an unbiased error",
        )

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the fine-tuned network.

        Parameters
        ----------
        X : raw inputs or a ready descriptor matrix

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "model_")
        return self.model_.predict(X)

    def to_source_model(self, model_id: str, info: dict[str, Any] | None = None) -> SourceModel:
        """The fine-tuned network as a zoo model of its own, ready for :func:`mdl.publish`.

        Parameters
        ----------
        model_id : str
            Its id in the hub.
        info : dict, optional
            Updates of its card (property, unit...).

        Returns
        -------
        SourceModel
            Marked ``transferred`` and naming its source.
        """
        check_is_fitted(self, "model_")
        card = copy.deepcopy(self.model_.info)
        card.update(info or {})
        card["transferred"], card["source_model"] = True, self.model_.info["source_model"]
        return SourceModel(model_id=model_id, estimator=self.estimator_, descriptor=self.model_.descriptor,
                           columns=np.array(self.model_.columns), info=card)

    # -- persistence: the SourceModel format ---------------------------------------------------
    def save(self, folder: str | Path) -> dict[str, str]:
        """Write the fine-tuned model in the SourceModel format (JSON + safetensors).

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        dict of str to str
            sha256 of each file written.
        """
        check_is_fitted(self, "model_")
        return self.model_.save(folder)

    @classmethod
    def load(cls, folder: str | Path) -> FineTunedModel:
        """Read a model written by :meth:`save` (or any published fine-tuned SourceModel folder).

        Parameters
        ----------
        folder : str or Path

        Returns
        -------
        FineTunedModel
        """
        return cls.from_source_model(SourceModel.load(folder))

    @classmethod
    def from_source_model(cls, model: SourceModel) -> FineTunedModel:
        """A fitted FineTunedModel around a fine-tuned network (its recipe read back from the card).

        Parameters
        ----------
        model : SourceModel
            A network marked ``transferred``.

        Returns
        -------
        FineTunedModel

        Raises
        ------
        InvalidInputError
            For a model that is not a fine-tuned network.
        ModelFormatError
            For a recipe field of the card that is not a short JSON scalar.
        """
        if not model.is_network or not model.info.get("transferred"):
            raise InvalidInputError(f"{model.model_id} is not a fine-tuned network (no 'transferred' mark)")
        recipe = model.info.get("transfer") or {}
        odd = [k for k in (*_RECIPE, "seed", "frozen_layers", "best_epoch") if not _scalar(recipe.get(k))]
        if odd:
            raise ModelFormatError("expected a JSON scalar", model=model.model_id, file="config.json",
                                   field=f"info.transfer.{odd[0]}")
        params = {k: recipe[k] for k in _RECIPE if k in recipe}
        out = cls(source=model.info.get("source_model", ""), random_state=recipe.get("seed", 0), **params)
        out.model_, out.estimator_ = model, model.estimator
        out.frozen_layers_ = recipe.get("frozen_layers", 0)
        out.n_features_in_ = len(model.columns)
        out.loss_curve_, out.best_epoch_ = [], recipe.get("best_epoch")
        return out


_RECIPE = ("freeze", "epochs", "lr", "weight_decay", "batch_size", "patience", "validation_fraction")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float)) or isinstance(value, str) and len(value) <= 100


def to_source_model(model: Any, model_id: str, info: dict[str, Any] | None = None) -> SourceModel:
    """A transferred model as a publishable zoo model, marked ``transferred`` and naming its source.

    * :class:`FineTunedModel`: the fine-tuned network.
    * :class:`~mdl.transfer_learning.TransferModel` on a network source with a linear head (``head="ridge"``,
      last hidden layer): the head is folded exactly into a new output layer of the network.

    Parameters
    ----------
    model : FineTunedModel or TransferModel
        Fitted.
    model_id : str
        Its id in the hub.
    info : dict, optional
        Updates of its card (property, unit...).

    Returns
    -------
    SourceModel

    Raises
    ------
    TypeError
        For another model, or a head with no storable single-estimator form (a random forest on neural
        descriptors: save it with ``TransferModel.save``, or fine-tune with ``freeze="all"`` instead).

    Examples
    --------
    >>> mdl.publish(to_source_model(model, "expt-tc-nn-0000"), modelset="expt-tc")   # doctest: +SKIP
    """
    if isinstance(model, FineTunedModel):
        return model.to_source_model(model_id, info)
    from mdl.transfer_learning.model import TransferModel

    if not isinstance(model, TransferModel):
        raise TypeError(f"cannot publish a {type(model).__name__}: expected a FineTunedModel or TransferModel")
    check_is_fitted(model, "head_")
    source = model.source_
    weights = _linear_head(model.head_)
    picks = model.layers in (-1, [-1]) or (isinstance(model.layers, (list, tuple)) and list(model.layers) ==
                                            [source.estimator.n_hidden_layers - 1])
    if not source.is_network or source.takes_graphs or weights is None or not picks:
        raise TypeError("only a linear head (head='ridge') on the last hidden layer of a network source folds "
                        "into a zoo network; save this model with TransferModel.save instead")
    coef, intercept = weights
    net = _copy_network(source.estimator)
    width = net.module_.hidden[-1].out_features
    net.module_.output = nn.Linear(width, 1)
    with torch.no_grad():
        net.module_.output.weight.copy_(torch.as_tensor(coef, dtype=torch.float32).reshape(1, width))
        net.module_.output.bias.fill_(float(intercept))
    net.n_outputs_ = 1
    net.y_mean_, net.y_scale_ = np.zeros(1, np.float32), np.ones(1, np.float32)
    cv_scores = getattr(model, "cv_scores_", None)
    card = _transferred_card(
        source, net,
        transfer={"method": "frozen featurizer + linear head folded into the output layer",
                  "layers": model.layers, "cv_scores": cv_scores},
        metrics={k: cv_scores[k] for k in ("mae", "rmse", "r2")} if cv_scores is not None else {},
        metrics_on="cross-validation of the transfer model" if cv_scores is not None else "none",
    )
    card.update(info or {})
    card["transferred"], card["source_model"] = True, source.model_id
    return SourceModel(model_id=model_id, estimator=net, descriptor=source.descriptor,
                       columns=np.array(source.columns), info=card)


def _transferred_card(source: SourceModel, net: NeuralNetRegressor, **fields: Any) -> dict[str, Any]:
    """The card of a network derived from ``source``: marked ``transferred``, naming its source."""
    return {
        "material": source.info.get("material", source.descriptor.material), "property": "target", "family": "nn",
        "transferred": True, "source_model": source.model_id, "source_property": "; ".join(source.properties),
        "hyperparameters": {"hidden": [layer.out_features for layer in net.module_.hidden]} if hasattr(
            net.module_, "hidden") else source.info.get("hyperparameters", {}),
        **fields,
        "versions": library_versions(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _linear_head(head: Any) -> tuple[np.ndarray, float] | None:
    """(coef, intercept) of a linear head on raw neural descriptors, scaling folded in; None otherwise."""
    from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge, RidgeCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    linear = (LinearRegression, Ridge, RidgeCV, ElasticNet, Lasso)
    if isinstance(head, linear):
        return np.ravel(head.coef_), float(np.ravel(head.intercept_)[0])
    if isinstance(head, Pipeline) and len(head.steps) == 2 and isinstance(head.steps[0][1], StandardScaler) \
            and isinstance(head.steps[1][1], linear):
        scaler, reg = head.steps[0][1], head.steps[1][1]
        mean = scaler.mean_ if scaler.with_mean else np.zeros_like(scaler.scale_)
        coef = np.ravel(reg.coef_) / scaler.scale_
        return coef, float(np.ravel(reg.intercept_)[0] - coef @ mean)
    return None


def _copy_network(net: Any) -> Any:
    """A copy of a network (NeuralNetRegressor or GraphNetRegressor) through its stored state."""
    config, arrays = net.to_state()
    return type(net).from_state(config, {k: np.array(v, copy=True) for k, v in arrays.items()})


def _rows(features: Any, rows: np.ndarray) -> Any:
    """``rows`` of a feature matrix or of a list of graphs."""
    return features[rows] if isinstance(features, np.ndarray) else [features[i] for i in rows]
