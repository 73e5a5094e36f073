"""The graph-network family: a compact CGCNN (Xie & Grossman, PRL 120, 145301 (2018)) in plain PyTorch.

Atoms start from a learned embedding of their element; each gated convolution updates an atom from
its neighbours (the pair's features and their distance expanded on Gaussians), summed with
``index_add_`` over the batch's edge list; atoms are pooled (mean or sum) into a crystal vector, then
a hidden layer and a linear output. The hidden layers (:meth:`GraphNetRegressor.hidden_features`) are
each convolution's pooled output and the crystal embedding (the head's hidden layer, ``-1``).

>>> from pymatgen.core import Lattice, Structure
>>> from mdl.descriptors import get_descriptor
>>> crystals = [Structure(Lattice.cubic(a), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]) for a in (3.9, 4.1, 4.3, 4.5)]
>>> graphs = get_descriptor("crystal_graph", cutoff=5.0, max_neighbors=8).inputs(crystals)
>>> net = GraphNetRegressor(width=8, n_conv=2, head_width=8, epochs=5).fit(graphs, [1.0, 2.0, 3.0, 4.0])
>>> net.predict(graphs).shape, net.hidden_features(graphs, "all").shape, net.n_hidden_layers
((4,), (4, 24), 3)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from mdl.models.graph_batch import MAX_Z, Batch, GraphSet
from mdl.models.nn import layer_indices, masked_mse, standardised_targets

POOLINGS = ("mean", "sum")
_PREDICT_BATCH = 512  # graphs per forward pass when predicting


class GatedConv(nn.Module):
    """CGCNN's convolution: ``h_i += norm(sum_j sigmoid(W_f z_ij) * softplus(W_s z_ij))``,
    ``z_ij = [h_i, h_j, e_ij]``; LayerNorm in place of BatchNorm (no running statistics to store).

    The linear map of ``z_ij`` is split by part: the atoms' parts are computed once per atom (``node``:
    centre and neighbour halves) and gathered per edge, so an edge costs only its distance part (``edge``),
    about 4x less work than the concatenated form for the same function.

    Parameters
    ----------
    width : int
        Atom feature width (input and output).
    n_gaussians : int
        Width of the distance expansion of each edge.
    """

    def __init__(self, width: int, n_gaussians: int):
        super().__init__()
        self.node = nn.Linear(width, 4 * width)
        self.edge = nn.Linear(n_gaussians, 2 * width, bias=False)
        self.norm = nn.LayerNorm(width)

    def forward(self, h: torch.Tensor, edges: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """One convolution of the atom features.

        Parameters
        ----------
        h : torch.Tensor
            Atom features, (n_atoms, width).
        edges : torch.Tensor
            (2, n_edges) atom indices: row 0 the centre atom, row 1 its neighbour.
        e : torch.Tensor
            Expanded edge distances, (n_edges, n_gaussians).

        Returns
        -------
        torch.Tensor
            The new atom features, (n_atoms, width).
        """
        centre, neighbour = self.node(h).chunk(2, dim=1)
        z = centre.index_select(0, edges[0]) + neighbour.index_select(0, edges[1]) + self.edge(e)
        gate, core = z.chunk(2, dim=1)
        messages = torch.sigmoid(gate) * F.softplus(core)
        summed = torch.zeros_like(h).index_add_(0, edges[0], messages)
        return F.softplus(h + self.norm(summed))


class CrystalGraphNet(nn.Module):
    """Embedding -> ``n_conv`` gated convolutions -> pooling -> hidden layer -> linear output.

    Parameters
    ----------
    width : int
        Atom feature width.
    n_conv : int
        Number of gated convolutions.
    n_gaussians : int
        Gaussians of the distance expansion.
    head_width : int
        Width of the crystal embedding (the hidden layer after pooling).
    n_out : int
        Number of outputs.
    r_max : float
        The distance expansion spans [0, r_max] Å.
    pooling : {"mean", "sum"}, default "mean"
        How atom features are pooled over each crystal.
    """

    def __init__(self, width: int, n_conv: int, n_gaussians: int, head_width: int, n_out: int, r_max: float,
                 pooling: str = "mean"):
        super().__init__()
        self.embed = nn.Embedding(MAX_Z + 1, width)
        self.convs = nn.ModuleList(GatedConv(width, n_gaussians) for _ in range(n_conv))
        self.head = nn.Linear(width, head_width)
        self.output = nn.Linear(head_width, n_out)
        self.pooling, self.n_gaussians, self.r_max = pooling, n_gaussians, r_max

    def expand(self, distances: torch.Tensor) -> torch.Tensor:
        """Distances on ``n_gaussians`` Gaussians centred evenly on [0, r_max], as wide as their spacing.

        Parameters
        ----------
        distances : torch.Tensor
            Edge distances, (n_edges,).

        Returns
        -------
        torch.Tensor
            (n_edges, n_gaussians); values below about 1e-13 are exact zeros.
        """
        centres = torch.linspace(0.0, self.r_max, self.n_gaussians)
        step = self.r_max / max(self.n_gaussians - 1, 1)
        exponent = ((distances[:, None] - centres) / step) ** 2
        # far tails (< 1e-13) are exact zeros: denormal floats made the weight gradients' matrix product
        # 9x slower (measured on perov5, width 64: 1.8 -> 0.2 ms per graph and epoch)
        return torch.exp(-exponent).masked_fill(exponent > 30.0, 0.0)

    def pool(self, h: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Atom features pooled over each crystal of the batch (mean or sum, by ``pooling``).

        Parameters
        ----------
        h : torch.Tensor
            Atom features, (n_atoms, width).
        batch : Batch
            The batch the atoms belong to.

        Returns
        -------
        torch.Tensor
            (n_graphs, width).
        """
        total = torch.zeros(batch.n_graphs, h.shape[1]).index_add_(0, batch.graph_of_atom, h)
        if self.pooling == "sum":
            return total
        counts = torch.bincount(batch.graph_of_atom, minlength=batch.n_graphs).clamp(min=1)
        return total / counts[:, None]

    def activations(self, batch: Batch) -> list[torch.Tensor]:
        """Each convolution's pooled output, then the crystal embedding (the output layer is never run).

        Parameters
        ----------
        batch : Batch
            The graphs.

        Returns
        -------
        list of torch.Tensor
            ``n_conv`` tensors (n_graphs, width), then one (n_graphs, head_width).
        """
        h, e = self.embed(batch.numbers), self.expand(batch.distances)
        out = []
        for conv in self.convs:
            h = conv(h, batch.edges, e)
            out.append(self.pool(h, batch))
        out.append(F.softplus(self.head(out[-1])))
        return out

    def forward(self, batch: Batch) -> torch.Tensor:
        """The network's output for each graph.

        Parameters
        ----------
        batch : Batch
            The graphs.

        Returns
        -------
        torch.Tensor
            (n_graphs, n_out), in standardised target units.
        """
        return self.output(self.activations(batch)[-1])

    def trainable(self, frozen: int) -> list[nn.Parameter]:
        """Parameters outside the first ``frozen`` hidden layers (layer 0 carries the embedding with it);
        the frozen ones get ``requires_grad`` False.

        Parameters
        ----------
        frozen : int
            Number of leading hidden layers to freeze (0: none; the output layer always learns).

        Returns
        -------
        list of torch.nn.Parameter
            The parameters left trainable.
        """
        blocks = [nn.ModuleList([self.embed, self.convs[0]]), *self.convs[1:], self.head]
        for j, block in enumerate(blocks):
            block.requires_grad_(j >= frozen)
        self.output.requires_grad_(True)
        return [p for p in self.parameters() if p.requires_grad]


class GraphNetRegressor(RegressorMixin, BaseEstimator):
    """CGCNN-style regressor on crystal graphs, scikit-learn compatible.

    ``fit``/``predict`` take the ``crystal_graph`` descriptor's records (a list of
    :class:`~mdl.descriptors.graphs.CrystalGraph`) or a packed :class:`~mdl.models.graph_batch.GraphSet`.
    Targets are standardised; ``y`` may have several columns with NaN for missing labels (masked out of
    the loss). Adam with early stopping on a ``validation_fraction`` slice, as
    :class:`~mdl.models.nn.NeuralNetRegressor`; the best epoch's weights are kept. Several networks train best
    as processes of one torch thread each (the zoo builder's ``workers=2``; tools/bench_gnn.py: as fast
    as two threads on an idle 2-core machine, and robust on a busy one, where two threads ran 8x slower
    than one).

    Parameters
    ----------
    width : atom feature width; n_conv : convolutions; head_width : width of the crystal embedding;
    n_gaussians : Gaussians of the distance expansion over [0, the longest training edge];
    pooling : "mean" or "sum" over atoms; cutoff (Å), max_neighbors : the network keeps only the edges
    within ``cutoff`` among each atom's ``max_neighbors`` nearest (None: every edge of the graphs given), so
    networks of one family differ in neighbourhood while sharing graphs built once at the largest; lr, weight_decay, epochs, batch_size (graphs), patience,
    validation_fraction, random_state, target_clip : training, as NeuralNetRegressor.
    """

    #: the descriptor whose records this estimator reads (checked when a source is loaded)
    input_descriptors: ClassVar[tuple[str, ...]] = ("crystal_graph",)

    def __init__(self, width: int = 64, n_conv: int = 3, head_width: int = 64, n_gaussians: int = 40,
                 pooling: str = "mean", cutoff: float | None = None, max_neighbors: int | None = None,
                 lr: float = 2e-3, weight_decay: float = 0.0, epochs: int = 100,
                 batch_size: int = 64, patience: int = 15, validation_fraction: float = 0.1,
                 random_state: int = 0, target_clip: float | None = None):
        self.width = width
        self.n_conv = n_conv
        self.head_width = head_width
        self.n_gaussians = n_gaussians
        self.pooling = pooling
        self.cutoff = cutoff
        self.max_neighbors = max_neighbors
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.target_clip = target_clip

    def fit(self, X: Sequence[Any] | GraphSet, y: Any) -> GraphNetRegressor:
        """Train from scratch on graphs ``X`` and targets ``y`` (n,) or (n, k).

        Parameters
        ----------
        X : list of CrystalGraph or GraphSet
            The ``crystal_graph`` descriptor's records, or them packed.
        y : array-like
            Targets, (n,) or (n, k); NaN marks a missing label.

        Returns
        -------
        GraphNetRegressor
            ``self``, fitted.

        Raises
        ------
        ValueError
            For an unknown ``pooling``, an ``n_conv`` below 1, or targets not one row per graph.
        InvalidInputError
            For inputs that are not well-formed crystal graphs.
        FloatingPointError
            When training diverges.
        """
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if isinstance(self.n_conv, bool) or not isinstance(self.n_conv, int) or self.n_conv < 1:
            raise ValueError(f"n_conv must be a whole number >= 1, got {self.n_conv!r}")
        graphs = self._graphs(X)
        y = _targets(y, len(graphs))
        self.n_outputs_ = y.shape[1]
        self.r_max_ = max(graphs.max_distance(), 1.0)
        torch.manual_seed(self.random_state)
        self.module_ = CrystalGraphNet(self.width, self.n_conv, self.n_gaussians, self.head_width,
                                       self.n_outputs_, self.r_max_, self.pooling)
        self._train(graphs, y, frozen=0)
        return self

    def fine_tune(self, X: Sequence[Any] | GraphSet, y: Any, frozen: int) -> GraphNetRegressor:
        """Retrain in place on a new single target: a new output layer, the first ``frozen`` hidden layers
        fixed (``n_hidden_layers``: only the output layer learns).

        Parameters
        ----------
        X : list of CrystalGraph or GraphSet
            The graphs of the new data.
        y : array-like
            One target column, (n,) or (n, 1).
        frozen : int
            Number of leading hidden layers kept fixed.

        Returns
        -------
        GraphNetRegressor
            ``self``; ``validation_rows_`` are the rows held out for early stopping.

        Raises
        ------
        ValueError
            For more than one target column, or targets not one row per graph.
        """
        check_is_fitted(self, "module_")
        graphs = self._graphs(X)
        y = _targets(y, len(graphs))
        if y.shape[1] != 1:
            raise ValueError("fine-tuning takes one target column")
        torch.manual_seed(self.random_state)
        self.module_.output = nn.Linear(self.head_width, 1)
        self.n_outputs_ = 1
        self._train(graphs, y, frozen=frozen)
        return self

    def _graphs(self, X: Sequence[Any] | GraphSet) -> GraphSet:
        return GraphSet.pack(X).prune(self.cutoff, self.max_neighbors)

    def _train(self, graphs: GraphSet, y: np.ndarray, frozen: int) -> None:
        self.y_mean_ = np.nan_to_num(np.nanmean(y, axis=0)).astype(np.float32)
        self.y_scale_ = np.nan_to_num(np.nanstd(y, axis=0), nan=1.0).astype(np.float32)
        self.y_scale_[self.y_scale_ == 0] = 1.0
        yt = torch.from_numpy(standardised_targets(y, self.y_mean_, self.y_scale_, self.target_clip))
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(graphs))
        n_val = int(round(self.validation_fraction * len(graphs))) if len(graphs) >= 20 else 0
        val, train = order[:n_val], order[n_val:]
        self.validation_rows_ = np.sort(val)
        module = self.module_
        optimiser = torch.optim.Adam(module.trainable(frozen), lr=self.lr, weight_decay=self.weight_decay)
        val_batch = graphs.batch(val) if n_val else None
        best, best_state, waited = np.inf, None, 0
        self.loss_curve_: list[float] = []
        for _ in range(self.epochs):
            module.train()
            epoch = train[rng.permutation(len(train))]
            for start in range(0, len(epoch), self.batch_size):
                rows = epoch[start : start + self.batch_size]
                optimiser.zero_grad()
                loss = masked_mse(module(graphs.batch(rows)), yt[rows])
                loss.backward()
                optimiser.step()
            if val_batch is None:
                continue
            module.eval()
            with torch.no_grad():
                val_loss = float(masked_mse(module(val_batch), yt[val]))
            self.loss_curve_.append(val_loss)
            if not np.isfinite(val_loss):
                raise FloatingPointError("training diverged (validation loss is not finite): lower lr")
            if val_loss < best - 1e-6:
                best, waited = val_loss, 0
                best_state = copy.deepcopy(module.state_dict())
            else:
                waited += 1
                if waited >= self.patience:
                    break
        if best_state is not None:
            module.load_state_dict(best_state)
        module.trainable(0)
        module.eval()

    # -- outputs -------------------------------------------------------------------------------
    def _run(self, X: Sequence[Any] | GraphSet, fn: Any) -> np.ndarray:
        check_is_fitted(self, "module_")
        graphs = self._graphs(X)
        parts = []
        with torch.no_grad():
            for start in range(0, len(graphs), _PREDICT_BATCH):
                parts.append(fn(graphs.batch(np.arange(start, min(start + _PREDICT_BATCH, len(graphs))))))
        return np.concatenate(parts).astype(np.float64)

    def predict(self, X: Sequence[Any] | GraphSet) -> np.ndarray:
        """Predicted targets of each graph, in the targets' units.

        Parameters
        ----------
        X : list of CrystalGraph or GraphSet
            The graphs.

        Returns
        -------
        numpy.ndarray
            (n,) for one target, (n, k) for several.
        """
        out = self._run(X, lambda b: self.module_(b).numpy()) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self.n_outputs_ == 1 else out

    @property
    def n_hidden_layers(self) -> int:
        """One per convolution, plus the crystal embedding."""
        return len(self.module_.convs) + 1

    def hidden_features(self, X: Sequence[Any] | GraphSet, layers: int | Sequence[int] | str = -1) -> np.ndarray:
        """Neural descriptors of crystals: the chosen hidden layers (pooled convolutions, crystal embedding
        ``-1``), concatenated column-wise.

        Parameters
        ----------
        X : list of CrystalGraph or GraphSet
            The graphs.
        layers : int, sequence of int or "all", default -1
            A hidden-layer index (``-1``: the crystal embedding), a list of indices, or every layer.

        Returns
        -------
        numpy.ndarray
            (n_graphs, total width of the layers picked), float64.

        Raises
        ------
        ValueError
            For a layer index out of range.
        """
        picks = layer_indices(layers, self.n_hidden_layers)
        return self._run(X, lambda b: torch.cat([self.module_.activations(b)[i] for i in picks], dim=1).numpy())

    def hidden_names(self, layers: int | Sequence[int] | str = -1) -> list[str]:
        """Column names of :meth:`hidden_features`: ``conv<i>_<j>`` and ``crystal_<j>``.

        Parameters
        ----------
        layers : int, sequence of int or "all", default -1
            A hidden-layer index (``-1``: the crystal embedding), a list of indices, or every layer.

        Returns
        -------
        list of str
            One name per column.
        """
        picks = layer_indices(layers, self.n_hidden_layers)
        n_conv = len(self.module_.convs)
        return [f"conv{i}_{j}" if i < n_conv else f"crystal_{j}" for i in picks
                for j in range(self.width if i < n_conv else self.head_width)]

    # -- persistence as plain tensors -------------------------------------------------------
    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON config, named float32 arrays) describing the fitted network completely."""
        check_is_fitted(self, "module_")
        config = {**self.get_params(), "n_outputs": int(self.n_outputs_), "r_max": float(self.r_max_)}
        arrays = {f"module.{k}": v.detach().numpy() for k, v in self.module_.state_dict().items()}
        arrays.update(y_mean=self.y_mean_, y_scale=self.y_scale_)
        return config, arrays

    @classmethod
    def from_state(cls, config: dict, arrays: dict[str, np.ndarray]) -> GraphNetRegressor:
        """Rebuild from :meth:`to_state`'s output, once :func:`mdl.models.stored_schema.check_graph_network`
        accepted it (shapes against the config before the module is allocated).

        Parameters
        ----------
        config : dict
            The params, ``n_outputs`` and ``r_max``.
        arrays : dict of str to numpy.ndarray
            The ``module.`` weights (loaded strictly), ``y_mean`` and ``y_scale``.

        Returns
        -------
        GraphNetRegressor
            The fitted network, in eval mode.
        """
        net = cls(**{k: v for k, v in config.items() if k not in ("n_outputs", "r_max")})
        net.n_outputs_, net.r_max_ = config["n_outputs"], config["r_max"]
        net.module_ = CrystalGraphNet(net.width, net.n_conv, net.n_gaussians, net.head_width, net.n_outputs_,
                                      net.r_max_, net.pooling)
        state = {k[len("module."):]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("module.")}
        net.module_.load_state_dict(state, strict=True)
        net.module_.eval()
        net.y_mean_, net.y_scale_ = np.array(arrays["y_mean"]), np.array(arrays["y_scale"])
        return net


def _targets(y: Any, n: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    y = y.reshape(len(y), -1) if y.ndim == 1 else y
    if y.ndim != 2 or len(y) != n:
        raise ValueError(f"expected {n} targets (one row per graph), got shape {y.shape}")
    return y
