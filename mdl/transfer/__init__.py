"""Transfer learning from zoo models: frozen neural descriptors plus a head."""

from mdl.transfer.heads import HEADS, make_head
from mdl.transfer.model import TransferModel, cross_validated, source_features

__all__ = ["HEADS", "TransferModel", "cross_validated", "make_head", "source_features"]
