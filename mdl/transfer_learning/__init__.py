"""Transfer learning from zoo models: frozen neural descriptors plus a head, fine-tuning, screening.

Its names are loaded on first use (they need torch), so that ``import mdl`` stays light; the
screening function is :func:`mdl.screen` (its stages: :mod:`mdl.transfer_learning.screening`).
"""

from mdl.lazy import lazy_names

_HOMES = {
    "FineTunedModel": "finetune", "to_source_model": "finetune",
    "HEADS": "heads", "make_head": "heads",
    "TransferModel": "model", "cross_validated": "cv", "source_features": "model", "transfer_features": "model",
    "ScratchModel": "scratch", "StackedTransferModel": "stacking", "ProfileModel": "profile", "MeanModel": "mean",
    "Leaderboard": "leaderboard", "TransferEnsemble": "leaderboard", "SkippedSourcesWarning": "sources",
    "value_range_groups": "cv",
}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_names(__name__, {name: f"{__name__}.{module}" for name, module in _HOMES.items()})
