"""Deprecated: moved to :mod:`mdl.store.parse` (the format layer, which needs no torch); this name goes in the
next release."""

import warnings

from mdl.store.parse import DTYPES, json_depth, load_json, load_safetensors, safetensors_header

__all__ = ["DTYPES", "json_depth", "load_json", "load_safetensors", "safetensors_header"]

warnings.warn("mdl.models.parse moved to mdl.store.parse; the old name goes in the next release",
              DeprecationWarning, stacklevel=2)
