"""Transfer learning from zoo models: frozen neural descriptors plus a head."""

from mdl.transfer.finetune import FineTunedModel, to_source_model
from mdl.transfer.heads import HEADS, make_head
from mdl.transfer.model import TransferModel, cross_validated, source_features
from mdl.transfer.screen import Leaderboard, SkippedSourcesWarning, TransferEnsemble, screen, value_range_groups

__all__ = ["HEADS", "FineTunedModel", "Leaderboard", "SkippedSourcesWarning", "TransferEnsemble", "TransferModel",
           "cross_validated", "make_head", "screen", "source_features", "to_source_model", "value_range_groups"]
