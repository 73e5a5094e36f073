"""The foundation source: the pretrained CHGNet crystal model, rebuilt from plain arrays.

:class:`CHGNetFeaturizer` holds a ``chgnet.model.CHGNet`` built from a checked config (its
``model_args``) and loaded from safetensors arrays. It takes pymatgen Structures (what the
``crystal_structure`` descriptor hands a model) and exposes the hidden-layer API of the zoo's
networks: layer ``i`` is the atom features after interaction block ``i``, pooled over each crystal;
the last block's are taken after the readout norm, as CHGNet's own crystal feature vector is
(``return_crystal_feas``). ``pooling="model"`` pools with the model's readout (a sum for the MLP-first
0.3.0 checkpoint: the last layer is then exactly CHGNet's crystal features); ``pooling="mean"`` (the
default) averages over the atoms, so that the features do not grow with the cell (on optimal_ptft_fe,
1,000/500 split, a random forest on the crystal features reaches test R² 0.91 averaged, 0.85 summed;
tools/bench_foundation.py).
``predict`` returns the model's own output, the energy per atom (eV/atom). The model is pretrained:
``fit`` only checks its inputs.

chgnet is an optional dependency (``pip install 'mdl[crystals]'``); without it, building the estimator
raises ImportError saying so.

>>> from pymatgen.core import Lattice, Structure
>>> nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3])
>>> model = open_hub().load("chgnet-0-3-0").estimator   # doctest: +SKIP
>>> model.hidden_features([nacl], "all").shape         # doctest: +SKIP
(1, 256)
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from mdl.descriptors.base import check_rows
from mdl.errors import InvalidInputError
from mdl.models.nn import layer_indices

INSTALL_HINT = "the CHGNet foundation source needs the optional package chgnet: pip install 'mdl[crystals]'"
#: Elements CHGNet embeds (H to Pu).
MAX_Z = 94
POOLINGS = ("mean", "model")


def require_chgnet() -> Any:
    """The ``chgnet.model`` module, or ImportError with the install hint."""
    try:
        import chgnet.model
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return chgnet.model


def build_chgnet(model_args: dict[str, Any], device: str | None = None) -> torch.nn.Module:
    """A fresh ``CHGNet(**model_args)`` (its start-up message silenced), on ``device`` ("meta": no memory).

    Parameters
    ----------
    model_args : dict
        CHGNet's constructor arguments (checked first by :func:`mdl.models.foundation_schema.check_args`
        when untrusted).
    device : str, optional
        The torch device to build on; None is the CPU.

    Returns
    -------
    torch.nn.Module
        The untrained ``chgnet.model.CHGNet``.

    Raises
    ------
    ImportError
        When chgnet is not installed (with the install hint).
    """
    chgnet_model = require_chgnet()
    with contextlib.redirect_stdout(io.StringIO()), torch.device(device or "cpu"):
        return chgnet_model.CHGNet(**model_args)


class CHGNetFeaturizer(RegressorMixin, BaseEstimator):
    """Pretrained CHGNet on a list of pymatgen Structures: crystal features and energy per atom.

    Parameters
    ----------
    batch_size : int
        Structures per forward pass.
    pooling : {"mean", "model"}
        How atom features become crystal features: averaged over the atoms, or the model's own readout
        pooling (CHGNet's ``return_crystal_feas``).

    Examples
    --------
    >>> CHGNetFeaturizer(batch_size=8).get_params()
    {'batch_size': 8, 'pooling': 'mean'}
    """

    #: the graph descriptor whose inputs (parsed pymatgen Structures) this estimator reads
    input_descriptors: ClassVar[tuple[str, ...]] = ("crystal_structure",)

    def __init__(self, batch_size: int = 16, pooling: str = "mean"):
        self.batch_size = batch_size
        self.pooling = pooling

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_weights(cls, model_args: dict[str, Any], arrays: dict[str, np.ndarray], batch_size: int = 16,
                     pooling: str = "mean") -> CHGNetFeaturizer:
        """Build from CHGNet's ``model_args`` and its state_dict as numpy arrays (``module.`` keys or bare).

        Untrusted input must first pass :func:`mdl.models.foundation_schema.check_chgnet`, which bounds
        the arguments and compares every array's shape with a module built on the meta device.

        Parameters
        ----------
        model_args : dict
            CHGNet's constructor arguments.
        arrays : dict of str to numpy.ndarray
            The state_dict, one array per name (``module.`` prefixes are dropped); loaded strictly.
        batch_size : int, default 16
            Structures per forward pass.
        pooling : {"mean", "model"}, default "mean"
            How atom features become crystal features (see the class).

        Returns
        -------
        CHGNetFeaturizer
            The fitted estimator, its module in eval mode.

        Raises
        ------
        ValueError
            For an unknown ``pooling``.
        ImportError
            When chgnet is not installed.
        """
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        est = cls(batch_size=batch_size, pooling=pooling)
        est.model_args_ = dict(model_args)
        module = build_chgnet(est.model_args_)
        state = {k.removeprefix("module."): torch.from_numpy(np.array(v)) for k, v in arrays.items()}
        module.load_state_dict(state, strict=True)
        est.module_ = module.eval()
        est.n_features_in_ = 0  # its input is structures, not descriptor columns
        return est

    # -- scikit-learn contract -------------------------------------------------------------------
    def fit(self, X: Sequence[Any], y: Any = None) -> CHGNetFeaturizer:
        """Pretrained: checks that ``X`` holds structures CHGNet can read (and ``y`` as many rows); no training.

        Parameters
        ----------
        X : sequence of Structure
            Parsed pymatgen structures (what the ``crystal_structure`` descriptor hands a model).
        y : array-like, optional
            Targets, one per structure (only counted).

        Returns
        -------
        CHGNetFeaturizer
            ``self``.

        Raises
        ------
        InvalidInputError
            For no structures, structures CHGNet cannot read, or a ``y`` of another length.
        """
        check_is_fitted(self, "module_")
        graphs = self._graphs(X)
        if y is not None and len(np.asarray(y)) != len(graphs):
            raise InvalidInputError(f"{len(graphs)} structures but {len(np.asarray(y))} targets")
        return self

    def predict(self, X: Sequence[Any]) -> np.ndarray:
        """The model's own output: energy per atom (eV/atom) of each structure.

        Parameters
        ----------
        X : sequence of Structure
            Parsed pymatgen structures.

        Returns
        -------
        numpy.ndarray
            Shape (n_structures,).
        """
        return self._run(X, want_layers=False)[0]

    # -- hidden layers ---------------------------------------------------------------------------
    @property
    def n_hidden_layers(self) -> int:
        """One per interaction block (``n_conv``); the last is CHGNet's crystal feature vector."""
        check_is_fitted(self, "module_")
        return int(self.module_.n_conv)

    def hidden_features(self, X: Sequence[Any], layers: int | Sequence[int] | str = -1) -> np.ndarray:
        """Pooled atom features after the chosen interaction blocks, concatenated column-wise (float64).

        Parameters
        ----------
        X : sequence of Structure
            Parsed pymatgen structures.
        layers : int, sequence of int or "all", default -1
            A block index (``-1``: the crystal feature vector), a list of indices, or every block.

        Returns
        -------
        numpy.ndarray
            Shape (n_structures, atom_fea_dim * n_layers picked), float64.

        Raises
        ------
        ValueError
            For a layer index out of range.
        """
        picks = layer_indices(layers, self.n_hidden_layers)
        pooled = self._run(X, want_layers=True)[1]
        return np.concatenate([pooled[i] for i in picks], axis=1).astype(np.float64)

    def hidden_names(self, layers: int | Sequence[int] | str = -1) -> list[str]:
        """Column names of :meth:`hidden_features`, labelled by block.

        Parameters
        ----------
        layers : int, sequence of int or "all", default -1
            The blocks, as for :meth:`hidden_features`.

        Returns
        -------
        list of str
            ``"chgnet{block}_{j}"`` for each feature ``j`` of each block picked.
        """
        picks = layer_indices(layers, self.n_hidden_layers)
        return [f"chgnet{i}_{j}" for i in picks for j in range(self.module_.atom_fea_dim)]

    # -- persistence as plain data --------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(CHGNet's ``model_args``, its state_dict as float32 numpy arrays under ``module.``)."""
        check_is_fitted(self, "module_")
        arrays = {f"module.{k}": v.detach().numpy() for k, v in self.module_.state_dict().items()}
        return dict(self.model_args_), arrays

    # -- running ---------------------------------------------------------------------------------
    def unreadable(self, X: Sequence[Any]) -> list[int]:
        """The rows of ``X`` that CHGNet cannot read (not a Structure, an element past Pu, isolated atoms).

        Parameters
        ----------
        X : sequence of pymatgen Structure

        Returns
        -------
        list of int
            Their positions, sorted; empty when every row can be read.

        Examples
        --------
        >>> model.unreadable(structures)                    # doctest: +SKIP
        [17]
        """
        try:
            self._graphs(X)
        except InvalidInputError as exc:
            return sorted(exc.rows)
        return []

    def _graphs(self, X: Sequence[Any]) -> list[Any]:
        """CHGNet crystal graphs of ``X``; one InvalidInputError naming every cause and every row that cannot
        become a graph (:func:`~mdl.descriptors.base.check_rows`)."""
        from pymatgen.core import Structure

        if isinstance(X, Structure):
            X = [X]
        problems: dict[str, list[int]] = {}
        graphs = []
        for row, item in enumerate(X):
            if not isinstance(item, Structure):
                problems.setdefault("not a pymatgen Structure", []).append(row)
                continue
            if max(site.specie.Z for site in item) > MAX_Z:
                problems.setdefault(f"an element beyond Z = {MAX_Z} (CHGNet embeds H to Pu)", []).append(row)
                continue
            try:
                graphs.append(self.module_.graph_converter(item, graph_id=str(row)))
            except (ValueError, RuntimeError) as exc:
                reason = "isolated atoms" if "isolated" in str(exc) else str(exc).splitlines()[0][:120]
                problems.setdefault(f"CHGNet cannot build its graph ({reason})", []).append(row)
        check_rows(problems)
        if not graphs:
            raise InvalidInputError("no structures given")
        return graphs

    def _run(self, X: Sequence[Any], want_layers: bool) -> tuple[np.ndarray, list[np.ndarray]]:
        """Energies per atom and (if ``want_layers``) each layer's pooled features, in batches."""
        check_is_fitted(self, "module_")
        graphs = self._graphs(X)
        module = self.module_
        mean = self.pooling == "mean"
        watched = [*module.atom_conv_layers[:-1]]
        if mean:  # the last block's atom features as the readout sees them
            watched.append(module.readout_norm if module.readout_norm is not None else module.atom_conv_layers[-1])
        captured: list[torch.Tensor] = []
        hooks = [layer.register_forward_hook(lambda _m, _i, out: captured.append(out))
                 for layer in watched] if want_layers else []
        energies, layers = [], []
        try:
            with torch.no_grad():
                for start in range(0, len(graphs), self.batch_size):
                    batch = graphs[start : start + self.batch_size]
                    captured.clear()
                    out = module(batch, task="e", return_crystal_feas=want_layers and not mean)
                    energies.append(out["e"].numpy())
                    if want_layers:
                        counts = out["atoms_per_graph"]
                        owners = torch.arange(len(batch)).repeat_interleave(counts)
                        if mean:
                            pooled = [torch.zeros(len(batch), a.shape[1]).index_add_(0, owners, a) / counts[:, None]
                                      for a in captured]
                        else:
                            pooled = [*(module.pooling(a, owners) for a in captured), out["crystal_fea"]]
                        layers.append([p.numpy() for p in pooled])
        finally:
            for hook in hooks:
                hook.remove()
        pooled = [np.concatenate([batch[i] for batch in layers]) for i in range(len(layers[0]))] if layers else []
        return np.concatenate(energies).astype(np.float64), pooled
