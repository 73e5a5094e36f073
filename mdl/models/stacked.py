"""Deprecated: moved to :mod:`mdl.models.packed_training` (training many networks at once is *packed* training now
(:mod:`mdl.models.packed`), so that *stacking* means one thing (:mod:`mdl.transfer_learning.stacking`);
:func:`train_network_sources` builds a zoo's models and moved to :mod:`mdl.zoo.network_sources`); this path goes in
the next release of mdl.

Every name of the new module (and of those named below) is served from here unchanged, with a
``DeprecationWarning`` on import.
"""

from mdl.lazy import moved

__getattr__ = moved(__name__, "mdl.models.packed_training",
                    "mdl.zoo.network_sources",
                    "mdl.models.packed_schedule",
                    "mdl.models.packed_engine",
                    "mdl.models.packed")
