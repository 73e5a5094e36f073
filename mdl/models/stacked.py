"""Deprecated: moved to :mod:`mdl.models.packed_training` (training many networks at once is *packed* training now
(:mod:`mdl.models.packed`), so that *stacking* means one thing (:mod:`mdl.transfer_learning.stacking`);
:func:`train_network_sources` builds a zoo's models and moved to :mod:`mdl.zoo.network_sources`); this path goes in
the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

import warnings
from typing import Any

import mdl.models.packed_training as _moved
import mdl.zoo.network_sources as _moved1
import mdl.models.packed_schedule as _moved2
import mdl.models.packed_engine as _moved3
import mdl.models.packed as _moved4

warnings.warn("mdl.models.stacked moved to mdl.models.packed_training; the old path goes in the next release of mdl",
              DeprecationWarning, stacklevel=2)


def __getattr__(name: str) -> Any:
    """A name of :mod:`mdl.models.packed_training` (or of the modules it was split into), served under the old path."""
    for module in (_moved, _moved1, _moved2, _moved3, _moved4):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module 'mdl.models.stacked' has no attribute {name!r}")
