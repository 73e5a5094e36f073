"""Source-model families, their training (one by one, or many at once as packed networks) and safe persistence.

Its names are loaded on first use, so that importing one light module of it (:mod:`mdl.models.svr`, as a
screening's worker processes do) does not import torch.
"""

from mdl.lazy import lazy_names

_HOMES = {"regression_metrics": "metrics", "NeuralNetRegressor": "nn", "FAMILIES": "source", "SourceModel": "source",
          "make_estimator": "train", "train_source": "train"}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_names(__name__, {name: f"{__name__}.{module}" for name, module in _HOMES.items()})
