"""Transfer learning from zoo models: frozen neural descriptors plus a head, fine-tuning, the estimators
a screening hands back (transfer, stacked, profile, mean, scratch, ensemble), and
:class:`NeuralDescriptors`, a source network's hidden layers as the feature step of a scikit-learn
``Pipeline``.

Its names are loaded on first use (they need torch), so that ``import mdl`` stays light. Screening itself
is :mod:`mdl.screening` (:func:`mdl.screen`); its old paths here (``mdl.transfer_learning.screening``,
``.leaderboard``, ``.report``... and the names ``Leaderboard`` and ``SkippedSourcesWarning``) still work
for one release, with a DeprecationWarning.
"""

import importlib
from typing import Any

from mdl.lazy import lazy_names
from mdl.transfer_learning.deprecated import warn_moved

_HOMES = {
    "FineTunedModel": "finetune", "to_source_model": "finetune",
    "HEADS": "heads", "make_head": "heads",
    "TransferModel": "model", "cross_validated": "cv", "source_features": "model", "transfer_features": "model",
    "ScratchModel": "scratch", "StackedTransferModel": "stacking", "ProfileModel": "profile", "MeanModel": "mean",
    "TransferEnsemble": "ensemble", "value_range_groups": "cv",
    "NeuralDescriptors": "featurizer",
}
#: names that moved to :mod:`mdl.screening`, by their new module
_MOVED = {"Leaderboard": "mdl.screening.leaderboard", "SkippedSourcesWarning": "mdl.screening.sources"}

__all__ = sorted(_HOMES)
_lazy, __dir__ = lazy_names(__name__, {name: f"{__name__}.{module}" for name, module in _HOMES.items()})


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warn_moved(f"{__name__}.{name}", f"{_MOVED[name]}.{name}")
        return getattr(importlib.import_module(_MOVED[name]), name)
    return _lazy(name)
