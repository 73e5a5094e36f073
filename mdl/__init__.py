"""mdl: a pretrained model zoo for materials and chemistry, with a download-and-transfer API.

>>> import mdl
>>> mdl.search(property="band gap", material="inorganic").head()       # doctest: +SKIP
>>> model = mdl.transfer("qm9-gap-nn-0001", smiles, y)                  # doctest: +SKIP
>>> mdl.load_saved("my-model").predict(["CCO"])                          # doctest: +SKIP
"""

from mdl.api import finetune, publish, pull, screen, search, transfer
from mdl.errors import (
    DataUnavailableError,
    DescriptorMismatchError,
    EmptyHubError,
    HubError,
    HubNotFoundError,
    IntegrityError,
    InvalidInputError,
    MDLError,
    ModelNotFoundError,
)
from mdl.hub.errors import (
    EntryNotFoundError,
    HubConflictError,
    HubUnreachableError,
    OfflineError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from mdl.config import VERSION as __version__  # noqa: F401  (mdl.__version__, read from the package metadata)
from mdl.lazy import lazy_names

__all__ = [
    "DataUnavailableError", "DescriptorMismatchError", "EmptyHubError", "EntryNotFoundError", "HubNotFoundError", "HubConflictError", "HubError", "HubUnreachableError",
    "IntegrityError", "InvalidInputError", "MDLError", "ModelNotFoundError", "OfflineError",
    "RepositoryNotFoundError", "RevisionNotFoundError", "SourceModel", "TransferModel", "finetune", "load_saved",
    "publish", "pull", "screen", "search", "transfer",
]

#: Loaded on first use, so that ``import mdl`` and ``mdl search`` do not pay for torch and scipy.
__getattr__, __dir__ = lazy_names(__name__, {"SourceModel": "mdl.models.source",
                                             "TransferModel": "mdl.transfer_learning.model",
                                             "load_saved": "mdl.transfer_learning.saved"})
