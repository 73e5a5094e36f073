"""A source network's hidden layers as a scikit-learn feature step (XenonPy's ``FrozenFeaturizer``).

:class:`NeuralDescriptors` is a transformer: in a :class:`~sklearn.pipeline.Pipeline` it turns raw inputs
(SMILES, formulas, structures) into the frozen network's hidden-layer activations, named
``<model_id>:h<layer>_<unit>``, so any scikit-learn head, scaler or selector can follow it and
``cross_val_score``, ``GridSearchCV`` and ``clone`` treat it as any other step. It is exported as
``mdl.transfer_learning.NeuralDescriptors``. It is the one feature step among the estimators: the
regressors (:class:`~mdl.transfer_learning.TransferModel` and the others) name the features their head sees
``head_features``, not ``transform``, so that scikit-learn never takes a regressor for a transformer.

Examples
--------
>>> from sklearn.linear_model import Ridge
>>> from sklearn.pipeline import make_pipeline
>>> from mdl.transfer_learning import NeuralDescriptors
>>> model = make_pipeline(NeuralDescriptors("qm9-gap-nn-0000"), Ridge()).fit(smiles, y)   # doctest: +SKIP
>>> model[:-1].get_feature_names_out()[:2]                                                 # doctest: +SKIP
array(['qm9-gap-nn-0000:h2_0', 'qm9-gap-nn-0000:h2_1'], dtype=object)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mdl.errors import InvalidInputError
from mdl.hub import Hub, open_hub
from mdl.models import SourceModel
from mdl.validation import check_layers


class NeuralDescriptors(TransformerMixin, BaseEstimator):
    """The hidden-layer activations of a frozen source network, as features of raw inputs.

    ``fit`` loads the source (from ``hub`` when it is an id) and checks ``layers``; nothing is learnt,
    so ``transform`` gives the same features whatever ``fit`` saw.

    Parameters
    ----------
    source : str or SourceModel
        A network's model id in ``hub``, or a loaded network source.
    layers : int, sequence of int or "all", default -1
        The hidden layers read (-1: the last), side by side.
    hub : str, Path, Hub or None
        Where to find ``source`` when it is an id (the default hub when None).

    Attributes
    ----------
    source_ : SourceModel
        The network.
    feature_names_out_ : numpy.ndarray
        ``<model_id>:h<layer>_<unit>`` for each column of :meth:`transform`.

    Examples
    --------
    >>> from mdl.models.train import train_source
    >>> from mdl.descriptors import get_descriptor
    >>> morgan = get_descriptor("morgan", n_bits=64, counts=True)
    >>> smiles = ["C", "CC", "CCO", "CCCO", "c1ccccc1", "CC(=O)O"]
    >>> source = train_source(morgan.transform(smiles), np.arange(6.0), morgan.spec, family="nn",
    ...                       hyperparameters={"hidden": [8, 4], "epochs": 3}, model_id="toy-nn-0000", seed=0)
    >>> step = NeuralDescriptors(source, layers="all").fit(smiles)
    >>> step.transform(["CCN"]).shape, list(step.get_feature_names_out()[[0, -1]])
    ((1, 12), ['toy-nn-0000:h0_0', 'toy-nn-0000:h1_3'])
    """

    def __init__(self, source: str | SourceModel, layers: int | Sequence[int] | str = -1,
                 hub: str | Path | Hub | None = None):
        self.source = source
        self.layers = layers
        self.hub = hub

    def fit(self, X: Any = None, y: Any = None) -> NeuralDescriptors:
        """Load the source and check that it is a network with the hidden ``layers`` asked for.

        Parameters
        ----------
        X, y : ignored
            Accepted for scikit-learn pipelines.

        Returns
        -------
        NeuralDescriptors
            ``self``.

        Raises
        ------
        InvalidInputError
            For a source that is not a network, or ``layers`` it does not have.
        ModelNotFoundError
            For an id ``hub`` does not hold.
        """
        source = self.source if isinstance(self.source, SourceModel) else open_hub(self.hub).load(self.source)
        if not source.is_network:
            raise InvalidInputError(f"source {source.model_id} is a {source.family!r} model: only a network has "
                                    "hidden layers to read (use TransferModel for its descriptor and prediction)")
        check_layers(self.layers, source.estimator.n_hidden_layers, model=source.model_id)
        self.source_ = source
        self.feature_names_out_ = np.asarray(
            [f"{source.model_id}:{name}" for name in source.estimator.hidden_names(self.layers)], dtype=object)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The hidden-layer activations of each input.

        Parameters
        ----------
        X : sequence
            Raw inputs of the source's descriptor (or its ready descriptor matrix).

        Returns
        -------
        numpy.ndarray
            (n_inputs, len(:attr:`feature_names_out_`)).

        Raises
        ------
        InvalidInputError
            Naming every input the source's descriptor refuses.
        """
        check_is_fitted(self, "source_")
        return self.source_.neural_descriptors(X, self.layers)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The names of :meth:`transform`'s columns, ``<model_id>:h<layer>_<unit>``.

        Parameters
        ----------
        input_features : ignored
            Accepted for scikit-learn (the inputs are raw, not named columns).

        Returns
        -------
        numpy.ndarray
            An object array of the names.
        """
        check_is_fitted(self, "source_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):  # inputs are raw strings or structures, not a numeric matrix
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
