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

import copy
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import Tags, check_array, check_consistent_length
from sklearn.utils.validation import check_is_fitted, validate_data
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


class NeuralNetRegressor(RegressorMixin, BaseEstimator):
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

    def fit(self, X: np.ndarray, y: np.ndarray, *, start: NeuralNetRegressor | None = None,
            frozen: int = 0) -> NeuralNetRegressor:
        """Train on ``(X, y)`` with Adam and early stopping, from scratch or from a trained network.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Inputs.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Targets; NaN marks a missing label (masked out of the loss).
        start : NeuralNetRegressor, optional
            A fitted network to start from (fine-tuning): its hidden layers and input scaling are copied
            (``start`` itself is left untouched) and a new output layer is initialised for ``y``. A warm
            start is meant for small targets: the validation split holds at least one row from 10 rows
            on (from 20 when training from scratch) and any improvement above 1e-7 counts (1e-6).
        frozen : int, default 0
            With ``start``: leading hidden layers kept as they are.

        Returns
        -------
        NeuralNetRegressor
            ``self``, with ``module_``, ``loss_curve_`` (validation loss per epoch), ``best_epoch_``
            and ``validation_rows_`` (sorted) set.

        Raises
        ------
        ValueError
            When ``hidden`` differs from the widths of ``start``; for an ``X`` that is not a finite, dense,
            non-empty matrix (scikit-learn's ``validate_data``), an infinite target, no target, or ``X`` and
            ``y`` of different lengths, or a target column without any label.
        FloatingPointError
            When the validation loss stops being finite (the message names the epoch).

        Examples
        --------
        >>> X = np.random.default_rng(0).normal(size=(60, 4)); y = X[:, 0]
        >>> base = NeuralNetRegressor(hidden=[8, 4], epochs=5).fit(X, y)
        >>> tuned = NeuralNetRegressor(hidden=[8, 4], epochs=5).fit(X, -y, start=base, frozen=1)
        >>> bool((tuned.module_.hidden[0].weight == base.module_.hidden[0].weight).all())
        True
        """
        if start is not None and list(self.hidden) != start.hidden_widths:
            raise ValueError(f"hidden must equal the widths of the network started from, {start.hidden_widths}; "
                             f"got {list(self.hidden)}")
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        X = validate_data(self, X, dtype=np.float32)  # finite, dense, 2-D, not empty; sets n_features_in_
        # NaN marks a missing label (masked out of the loss); an infinite one, or a column without a label,
        # cannot be learnt
        y = check_array(y, ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan", input_name="y")
        check_consistent_length(X, y)
        if np.isnan(y).all(axis=0).any():
            raise ValueError("Input y contains NaN in every row of a target column: it has no label to learn")
        y = y.astype(np.float32)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        y = y.reshape(len(y), -1)
        if start is None:
            self.x_mean_ = X.mean(axis=0)
            self.x_scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0).astype(np.float32)
        else:
            self.x_mean_, self.x_scale_ = start.input_scaling()
        self.y_mean_ = np.nanmean(y, axis=0).astype(np.float32)
        self.y_scale_ = np.nan_to_num(np.nanstd(y, axis=0), nan=1.0).astype(np.float32)
        self.y_scale_[self.y_scale_ == 0] = 1.0

        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(X))
        if start is None:
            n_val = int(round(self.validation_fraction * len(X))) if len(X) >= 20 else 0
        else:
            n_val = max(1, int(round(self.validation_fraction * len(X)))) \
                if len(X) >= 10 and self.validation_fraction > 0 else 0
        val, train = order[:n_val], order[n_val:]
        xt = torch.from_numpy((X - self.x_mean_) / self.x_scale_)
        yt = torch.from_numpy(standardised_targets(y, self.y_mean_, self.y_scale_, self.target_clip))

        if start is None:
            self.module_ = PyramidMLP(self.n_features_in_, list(self.hidden), self.n_outputs_)
        else:
            self.module_ = _warm_module(start, self.n_outputs_, frozen)
        params = [p for p in self.module_.parameters() if p.requires_grad]
        optimiser = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        tolerance = 1e-6 if start is None else 1e-7
        best, best_state, waited = np.inf, None, 0
        self.loss_curve_: list[float] = []
        self.best_epoch_ = self.epochs
        for epoch in range(self.epochs):
            self.module_.train()
            shuffled = torch.from_numpy(train[rng.permutation(len(train))])
            for first in range(0, len(train), self.batch_size):
                batch = shuffled[first : first + self.batch_size]
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
                raise FloatingPointError(f"training diverged at epoch {epoch + 1} (validation loss is not finite)")
            if val_loss < best - tolerance:
                best, waited, self.best_epoch_ = val_loss, 0, epoch + 1
                best_state = {k: v.clone() for k, v in self.module_.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
        if best_state is not None:
            self.module_.load_state_dict(best_state)
        self.module_.requires_grad_(True)
        self.module_.eval()
        self.validation_rows_ = np.sort(val)
        return self

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # one output per column of y, missing labels masked
        return tags

    def _scaled(self, X: np.ndarray) -> torch.Tensor:
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return torch.from_numpy((X - self.x_mean_) / self.x_scale_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted targets, in the targets' units.

        Parameters
        ----------
        X : array-like
            Descriptor matrix, (n, n_features_in_).

        Returns
        -------
        numpy.ndarray
            (n,) float64 for one target, (n, k) for several.

        Raises
        ------
        ValueError
            For another number of input columns, or an ``X`` that is not a finite, dense matrix.
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        """
        Z = self._scaled(X)
        with torch.no_grad():
            out = self.module_(Z).numpy() * self.y_scale_ + self.y_mean_
        return out[:, 0].astype(np.float64) if self.n_outputs_ == 1 else out.astype(np.float64)

    @property
    def n_hidden_layers(self) -> int:
        """Number of hidden layers of the fitted network."""
        return len(self.module_.hidden)

    @property
    def hidden_widths(self) -> list[int]:
        """Width of each hidden layer of the fitted network, first to last.

        >>> NeuralNetRegressor(hidden=[6, 3], epochs=1).fit(np.eye(4), np.arange(4.0)).hidden_widths
        [6, 3]
        """
        return [layer.out_features for layer in self.module_.hidden]

    def input_scaling(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, scale) of each input column: the network sees ``(X - mean) / scale`` (float32 copies)."""
        check_is_fitted(self, "module_")
        return np.array(self.x_mean_, dtype=np.float32), np.array(self.x_scale_, dtype=np.float32)

    def hidden_parameters(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(weight of shape (in, out), bias of shape (out,)) of each hidden layer, detached from training.

        Layer ``j`` computes ``relu(x @ weight + bias)``: what a batched forward pass over several
        networks needs, without reaching into the torch module.
        """
        check_is_fitted(self, "module_")
        return [(layer.weight.detach().T, layer.bias.detach()) for layer in self.module_.hidden]

    def layer_indices(self, layers: int | Sequence[int] | str = -1) -> list[int]:
        """The hidden layers that ``layers`` picks, as sorted non-negative indices (see :func:`layer_indices`).

        Parameters
        ----------
        layers : int, sequence of int or "all", default -1
            A hidden-layer index (``-1``: the last hidden layer), a list of indices, or every layer.

        Returns
        -------
        list of int

        Raises
        ------
        ValueError
            For an index out of range, an empty list or another string.
        """
        return layer_indices(layers, self.n_hidden_layers)

    def hidden_features(self, X: np.ndarray, layers: int | Sequence[int] | str = -1) -> np.ndarray:
        """Neural descriptors: the chosen hidden layers' activations, concatenated column-wise.

        Parameters
        ----------
        X : array-like
            Descriptor matrix, (n, n_features_in_).
        layers : int, sequence of int or "all", default -1
            A hidden-layer index (``-1``: the last hidden layer), a list of indices, or every layer.

        Returns
        -------
        numpy.ndarray
            (n, total width of the layers picked), float64.

        Raises
        ------
        ValueError
            For another number of input columns or a layer index out of range.
        """
        picks = self.layer_indices(layers)
        with torch.no_grad():
            acts = self.module_.activations(self._scaled(X))
        return np.concatenate([acts[i].numpy() for i in picks], axis=1).astype(np.float64)

    def predict_from_hidden(self, H: np.ndarray) -> np.ndarray:
        """Predictions from the last hidden layer's activations (as :meth:`hidden_features` gives them):
        the output layer and the target scaling only, so that features and predictions cost one forward pass.

        Parameters
        ----------
        H : numpy.ndarray
            (n, width of the last hidden layer): float32 activations, as float32 or float64.

        Returns
        -------
        numpy.ndarray
            As :meth:`predict` gives for the inputs of ``H``.

        Examples
        --------
        >>> net = NeuralNetRegressor(hidden=[6, 3], epochs=2).fit(np.eye(4), np.arange(4.0))
        >>> bool(np.array_equal(net.predict_from_hidden(net.hidden_features(np.eye(4))), net.predict(np.eye(4))))
        True
        """
        check_is_fitted(self, "module_")
        with torch.no_grad():
            out = self.module_.output(torch.from_numpy(np.asarray(H, dtype=np.float32))).numpy()
        out = out * self.y_scale_ + self.y_mean_
        return out[:, 0].astype(np.float64) if self.n_outputs_ == 1 else out.astype(np.float64)

    def hidden_names(self, layers: int | Sequence[int] | str = -1) -> list[str]:
        """Column names of :meth:`hidden_features`, labelled by layer.

        Parameters
        ----------
        layers : int, sequence of int or "all", default -1
            A hidden-layer index (``-1``: the last hidden layer), a list of indices, or every layer.

        Returns
        -------
        list of str
            ``"h{layer}_{j}"`` for each unit ``j`` of each layer picked.
        """
        picks = self.layer_indices(layers)
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
        """Rebuild a network from :meth:`to_state`'s output.

        Untrusted input must first pass :func:`mdl.models.schema.check_network`
        (``mdl.models.state.from_state`` does that), which compares the config's widths with the arrays'
        shapes before the module is allocated here.

        Parameters
        ----------
        config : dict
            The params, ``n_features_in`` and ``n_outputs``.
        arrays : dict of str to numpy.ndarray
            The ``module.`` weights (loaded strictly) and ``x_mean``, ``x_scale``, ``y_mean``, ``y_scale``.

        Returns
        -------
        NeuralNetRegressor
            The fitted network, in eval mode.
        """
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


def _warm_module(start: NeuralNetRegressor, n_outputs: int, frozen: int) -> PyramidMLP:
    """A copy of ``start``'s network with a new output layer and its first ``frozen`` hidden layers fixed."""
    check_is_fitted(start, "module_")
    module = copy.deepcopy(start.module_)  # draws no random numbers: the new output layer is the first draw
    module.output = nn.Linear(start.hidden_widths[-1], n_outputs)
    for j, layer in enumerate(module.hidden):
        layer.requires_grad_(j >= frozen)
    return module


def layer_indices(layers: int | Sequence[int] | str, n: int) -> list[int]:
    """The hidden layers of an ``n``-layer network that ``layers`` picks, sorted, as non-negative indices.

    Parameters
    ----------
    layers : int, sequence of int or "all"
        A layer index (negative counts from the last), a list of them, or every layer.
    n : int
        Number of hidden layers.

    Returns
    -------
    list of int

    Raises
    ------
    ValueError
        For an index out of range, an empty list or another string.

    Examples
    --------
    >>> layer_indices([-1, 0], 3), layer_indices("all", 2)
    ([0, 2], [0, 1])
    """
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
