"""The hidden-layer API shared by every network source (multilayer perceptrons, graph networks).

A source whose estimator has it is a network: ``SourceModel.is_network`` is true, and transfer reads
its hidden layers as neural descriptors.

>>> import numpy as np
>>> from mdl.models.nn import NeuralNetRegressor
>>> isinstance(NeuralNetRegressor(hidden=[4], epochs=1).fit(np.eye(4), np.arange(4.0)), HiddenLayers)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class HiddenLayers(Protocol):
    """An estimator whose hidden layers can be read: ``layers`` is an index (-1: the last), a list of
    indices or ``"all"``; ``inputs`` is what the estimator's ``predict`` takes."""

    @property
    def n_hidden_layers(self) -> int:
        """The number of hidden layers."""
        ...

    def hidden_features(self, inputs: Any, layers: int | Sequence[int] | str = -1) -> np.ndarray:
        """The chosen hidden layers' features of each input, concatenated column-wise.

        Parameters
        ----------
        inputs : object
            What the estimator's ``predict`` takes.
        layers : int, sequence of int or "all", default -1
            A hidden-layer index (-1: the last), a list of indices, or every layer.

        Returns
        -------
        numpy.ndarray
            (n_inputs, total width of the layers picked).
        """
        ...

    def hidden_names(self, layers: int | Sequence[int] | str = -1) -> list[str]:
        """Column names of :meth:`hidden_features`.

        Parameters
        ----------
        layers : int, sequence of int or "all", default -1
            The layers, as for :meth:`hidden_features`.

        Returns
        -------
        list of str
            One name per column.
        """
        ...
