"""The format layer: what a model folder holds on disk, read bounded and verified, with no torch and no model code.

Below :mod:`mdl.models` and :mod:`mdl.hub`, above :mod:`mdl.descriptors`; it imports neither.

============================  ===========================================================================
:mod:`mdl.store.names`        the file names (``config.json``, ``weights.safetensors``, ``manifest.json``)
:mod:`mdl.store.parse`        the parsers of untrusted bytes: bounded JSON, safetensors with a checked header
:mod:`mdl.store.files`        the one confined, bounded, verified reader (and the writer) of a model folder
:mod:`mdl.store.manifest`     the manifest format of saved estimators
:mod:`mdl.store.fields`       the field primitives every stored estimator's check is written with
:mod:`mdl.store.registry`     the one registry of storable classes (filled by :mod:`mdl.models.state`)
:mod:`mdl.store.loader`       the reader of a verified model folder the hubs call (set by ``mdl/__init__``)
============================  ===========================================================================

>>> import mdl.store
>>> mdl.store.CONFIG, mdl.store.WEIGHTS
('config.json', 'weights.safetensors')
"""

from mdl.store.files import (
    check_manifest,
    file_hashes,
    plain_name,
    read_bytes,
    read_files,
    read_verified,
    sha256_file,
    verify,
    write_files,
)
from mdl.store.loader import StoredModel, read_model, use_model_reader
from mdl.store.manifest import read_manifest, read_record, write_manifest
from mdl.store.names import CONFIG, MANIFEST, WEIGHTS
from mdl.store.parse import load_json, load_safetensors

__all__ = ["CONFIG", "MANIFEST", "WEIGHTS", "StoredModel", "check_manifest", "file_hashes", "load_json",
           "load_safetensors", "plain_name", "read_bytes", "read_files", "read_manifest", "read_model", "read_record",
           "read_verified", "sha256_file", "use_model_reader", "verify", "write_files", "write_manifest"]
