"""The file names of a stored model, defined once for the models, the hubs and the saved estimators.

>>> CONFIG, WEIGHTS, MANIFEST
('config.json', 'weights.safetensors', 'manifest.json')
"""

from __future__ import annotations

__all__ = ["CONFIG", "MANIFEST", "WEIGHTS"]

#: A stored estimator's JSON config (with the names of its blobs).
CONFIG = "config.json"
#: A stored estimator's arrays, in safetensors format.
WEIGHTS = "weights.safetensors"
#: A saved transfer model's list of every file with its sha256 (:mod:`mdl.store.manifest`).
MANIFEST = "manifest.json"
