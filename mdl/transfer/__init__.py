"""Transfer learning from zoo models: frozen neural descriptors plus a head, fine-tuning, screening.

Its names are loaded on first use (they need torch), so that ``import mdl`` stays light; the
screening function is ``mdl.screen`` (the submodule :mod:`mdl.transfer.screen` holds it).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "FineTunedModel": "finetune", "to_source_model": "finetune",
    "HEADS": "heads", "make_head": "heads",
    "TransferModel": "model", "cross_validated": "model", "source_features": "model",
    "Leaderboard": "screen", "SkippedSourcesWarning": "screen", "TransferEnsemble": "screen",
    "value_range_groups": "screen",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'mdl.transfer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mdl.transfer.{_HOME[name]}"), name)
    globals()[name] = value
    return value
