"""The neural-network family: a pyramid multilayer perceptron trained with PyTorch.

The estimator follows the scikit-learn contract and standardises inputs and targets itself, so a
stored network is self-contained: weights plus scaling statistics, all plain tensors.

>>> import numpy as np
>>> X = np.random.default_rng(0).normal(size=(200, 8)); y = X[:, 0] - X[:, 1]
>>> net = NeuralNetRegressor(hidden=[16, 8], epochs=50).fit(X, y)
>>> net.hidden_features(X).shape
(200, 8)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn


class PyramidMLP(nn.Module):
    """Linear → ReLU blocks of the given hidden widths, then a linear output layer.

    Parameters
    ----------
    n_in : int
        Input width.
    hidden : sequence of int
        Hidden widths.
    n_out : int
        Outputs (one per property).

    Examples
    --------
    >>> PyramidMLP(4, [8, 2])(torch.zeros(3, 4)).shape
    torch.Size([3, 1])
    """

    def __init__(self, n_in: int, hidden: Sequence[int], n_out: int = 1):
        super().__init__()
        widths = [n_in, *hidden]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.output = nn.Linear(widths[-1], n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network's output.

        Parameters
        ----------
        x : torch.Tensor
            Inputs (rows, ``n_in``).

        Returns
        -------
        torch.Tensor
            Outputs (rows, ``n_out``).
        """
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.output(x)

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every hidden layer's output (after its ReLU); the output layer is never run.

        Parameters
        ----------
        x : torch.Tensor
            Inputs (rows, ``n_in``).

        Returns
        -------
        list of torch.Tensor
            One per hidden layer.
        """
        out = []
        for layer in self.hidden:
            x = torch.relu(layer(x))
            out.append(x)
        return out


def masked_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the finite targets only (multi-property training with gaps).

    Parameters
    ----------
    pred, target : torch.Tensor
        Predictions and targets, NaN where a label is missing.

    Returns
    -------
    torch.Tensor
        The loss, a scalar.

    Examples
    --------
    >>> float(masked_mse(torch.tensor([1.0, 5.0]), torch.tensor([3.0, float("nan")])))
    4.0
    """
    mask = torch.isfinite(target)
    diff = torch.where(mask, pred - torch.nan_to_num(target), torch.zeros_like(pred))
    return (diff**2).sum() / mask.sum().clamp(min=1)


def standardised_targets(y: np.ndarray, mean: np.ndarray, scale: np.ndarray, clip: float | None) -> np.ndarray:
    """Standardised training targets.

    Parameters
    ----------
    y : numpy.ndarray
        Targets, NaN where a label is missing.
    mean, scale : numpy.ndarray
        Per column.
    clip : float or None
        Clip to ``[-clip, clip]`` when given.

    Returns
    -------
    numpy.ndarray
        ``(y - mean) / scale`` as float32 (NaN stays NaN).

    Examples
    --------
    >>> standardised_targets(np.array([[0.0], [4.0], [np.nan], [100.0]]), np.array([2.0]), np.array([2.0]), 5.0).ravel()
    array([-1.,  1., nan,  5.], dtype=float32)
    """
    t = ((y - mean) / scale).astype(np.float32)
    return t if clip is None else np.clip(t, -clip, clip)


class NeuralNetRegressor(BaseEstimator, RegressorMixin):
    """Pyramid MLP regressor with early stopping on an inner validation split.

    ``y`` may have several columns (one per property) with NaN where a label is missing; missing labels
    are masked out of the loss.

    Parameters
    ----------
    hidden : sequence of int
        Hidden widths.
    lr, weight_decay : float
        Adam's learning rate and weight decay.
    epochs : int
        The most epochs.
    batch_size : int
        Rows per step.
    patience : int
        Epochs without a better validation loss before stopping (the best weights are kept).
    validation_fraction : float
        The rows held out for early stopping.
    random_state : int
        Seeds the split, the initial weights and the batches.
    target_clip : float, optional
        Clips the standardised training targets to ``[-target_clip, target_clip]`` standard
        deviations, so that a few outlier rows (metals among organic molecules) do not dominate the
        squared loss; predictions are never clipped beyond what the network learns. None trains on
        the targets as they are.

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(300, 4)); y = X[:, 0].copy(); y[:3] = 1e6
    >>> clipped = NeuralNetRegressor(hidden=[8], epochs=30, target_clip=5.0).fit(X, y)
    >>> bool(abs(clipped.predict(X[3:]).mean()) < abs(NeuralNetRegressor(hidden=[8], epochs=30).fit(X, y)
    ...                                                .predict(X[3:]).mean()))
    True
    """

    def __init__(
        self,
        hidden: Sequence[int] = (128, 64, 32),
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        epochs: int = 200,
        batch_size: int = 128,
        patience: int = 20,
        validation_fraction: float = 0.1,
        random_state: int = 0,
        target_clip: float | None = None,
    ):
        self.hidden = hidden
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.target_clip = target_clip

    def fit(self, X: np.ndarray, y: np.ndarray) -> NeuralNetRegressor:
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=np.float32)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        y = y.reshape(len(y), -1)
        self.n_features_in_ = X.shape[1]
        self.x_mean_ = X.mean(axis=0)
        self.x_scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0).astype(np.float32)
        self.y_mean_ = np.nanmean(y, axis=0).astype(np.float32)
        self.y_scale_ = np.nan_to_num(np.nanstd(y, axis=0), nan=1.0).astype(np.float32)
        self.y_scale_[self.y_scale_ == 0] = 1.0

        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(X))
        n_val = int(round(self.validation_fraction * len(X))) if len(X) >= 20 else 0
        val, train = order[:n_val], order[n_val:]
        xt = torch.from_numpy((X - self.x_mean_) / self.x_scale_)
        yt = torch.from_numpy(standardised_targets(y, self.y_mean_, self.y_scale_, self.target_clip))

        self.module_ = PyramidMLP(self.n_features_in_, list(self.hidden), self.n_outputs_)
        optimiser = torch.optim.Adam(self.module_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        best, best_state, waited = np.inf, None, 0
        self.loss_curve_: list[float] = []
        for _ in range(self.epochs):
            self.module_.train()
            epoch = torch.from_numpy(train[rng.permutation(len(train))])
            for start in range(0, len(train), self.batch_size):
                batch = epoch[start : start + self.batch_size]
                optimiser.zero_grad()
                loss = masked_mse(self.module_(xt[batch]), yt[batch])
                loss.backward()
                optimiser.step()
            if n_val == 0:
                continue
            with torch.no_grad():
                self.module_.eval()
                val_loss = float(masked_mse(self.module_(xt[val]), yt[val]))
            self.loss_curve_.append(val_loss)
            if not np.isfinite(val_loss):
                raise FloatingPointError("training diverged (validation loss is not finite)")
            if val_loss < best - 1e-6:
                best, waited = val_loss, 0
                best_state = {k: v.clone() for k, v in self.module_.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
        if best_state is not None:
            self.module_.load_state_dict(best_state)
        self.module_.eval()
        return self

    def _scaled(self, X: np.ndarray) -> torch.Tensor:
        check_is_fitted(self, "module_")
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} input columns, got shape {X.shape}")
        return torch.from_numpy((X - self.x_mean_) / self.x_scale_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = self.module_(self._scaled(X)).numpy() * self.y_scale_ + self.y_mean_
        return out[:, 0].astype(np.float64) if self.n_outputs_ == 1 else out.astype(np.float64)

    @property
    def n_hidden_layers(self) -> int:
        return len(self.module_.hidden)

    def hidden_features(self, X: np.ndarray, layers: int | Sequence[int] | str = -1) -> np.ndarray:
        """Neural descriptors: the chosen hidden layers' activations, concatenated column-wise.

        ``layers`` is a hidden-layer index (``-1`` = last hidden layer), a list of indices, or
        ``"all"``.
        """
        picks = _layer_indices(layers, self.n_hidden_layers)
        with torch.no_grad():
            acts = self.module_.activations(self._scaled(X))
        return np.concatenate([acts[i].numpy() for i in picks], axis=1).astype(np.float64)

    def hidden_names(self, layers: int | Sequence[int] | str = -1) -> list[str]:
        """Column names of :meth:`hidden_features`, labelled by layer."""
        picks = _layer_indices(layers, self.n_hidden_layers)
        return [f"h{i}_{j}" for i in picks for j in range(self.module_.hidden[i].out_features)]

    # -- persistence as plain tensors -------------------------------------------------------
    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON config, named arrays) describing the fitted network completely."""
        check_is_fitted(self, "module_")
        config = {**self.get_params(), "hidden": list(self.hidden), "n_features_in": self.n_features_in_,
                  "n_outputs": self.n_outputs_}
        arrays = {f"module.{k}": v.numpy() for k, v in self.module_.state_dict().items()}
        arrays.update(x_mean=self.x_mean_, x_scale=self.x_scale_, y_mean=self.y_mean_, y_scale=self.y_scale_)
        return config, arrays

    @classmethod
    def from_state(cls, config: dict, arrays: dict[str, np.ndarray]) -> NeuralNetRegressor:
        """Rebuild a network from :meth:`to_state`'s output. Untrusted input must first pass
        :func:`mdl.models.schema.check_network` (``mdl.models.state.from_state`` does that), which compares
        the config's widths with the arrays' shapes before the module is allocated here."""
        params = {k: v for k, v in config.items() if k not in ("n_features_in", "n_outputs")}
        net = cls(**params)
        net.n_features_in_, net.n_outputs_ = config["n_features_in"], config["n_outputs"]
        net.module_ = PyramidMLP(net.n_features_in_, list(net.hidden), net.n_outputs_)
        state = {k[len("module."):]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("module.")}
        net.module_.load_state_dict(state, strict=True)
        net.module_.eval()
        net.x_mean_, net.x_scale_ = arrays["x_mean"], arrays["x_scale"]
        net.y_mean_, net.y_scale_ = arrays["y_mean"], arrays["y_scale"]
        return net


def _layer_indices(layers: int | Sequence[int] | str, n: int) -> list[int]:
    if isinstance(layers, str):
        if layers != "all":
            raise ValueError(f"layers must be an index, a list of indices or 'all', got {layers!r}")
        return list(range(n))
    picks = [layers] if isinstance(layers, (int, np.integer)) else list(layers)
    if not picks:
        raise ValueError("layers is empty")
    for i in picks:
        if not -n <= i < n:
            raise ValueError(f"hidden layer {i} out of range: the network has {n} hidden layers")
    return sorted({i % n for i in picks})
