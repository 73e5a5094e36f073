"""mdl: a pretrained model zoo for materials and chemistry, with a download-and-transfer API.

>>> import mdl
>>> mdl.search(property="band gap", material="inorganic").head()       # doctest: +SKIP
>>> model = mdl.transfer("qm9-gap-nn-0001", smiles, y)                  # doctest: +SKIP
"""

from mdl.api import finetune, publish, pull, screen, search, transfer
from mdl.errors import (
    DescriptorMismatchError,
    HubError,
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
from mdl.models.source import SourceModel
from mdl.transfer import TransferModel

__version__ = "0.1.0"

__all__ = [
    "DescriptorMismatchError", "EntryNotFoundError", "HubConflictError", "HubError", "HubUnreachableError",
    "IntegrityError", "InvalidInputError", "MDLError", "ModelNotFoundError", "OfflineError",
    "RepositoryNotFoundError", "RevisionNotFoundError", "SourceModel", "TransferModel", "finetune", "publish",
    "pull", "screen", "search", "transfer",
]
