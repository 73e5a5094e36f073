"""Transfer learning from zoo models: frozen neural descriptors plus a head, fine-tuning, screening.

Its names are loaded on first use (they need torch), so that ``import mdl`` stays light; the
screening function is ``mdl.screen`` (the submodule :mod:`mdl.transfer_learning.screening` holds it).
"""

from mdl.lazy import lazy_names

_HOMES = {
    "FineTunedModel": "finetune", "to_source_model": "finetune",
    "HEADS": "heads", "make_head": "heads",
    "TransferModel": "model", "cross_validated": "model", "source_features": "model",
    "ScratchModel": "scratch", "StackedTransferModel": "stacking",
    "Leaderboard": "screening", "SkippedSourcesWarning": "screening", "TransferEnsemble": "screening",
    "value_range_groups": "screening",
}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_names(__name__, {name: f"{__name__}.{module}" for name, module in _HOMES.items()})
