"""mdl: a pretrained model zoo for materials and chemistry, with a download-and-transfer API.

>>> import mdl
>>> mdl.search(property="band gap", material="inorganic").head()       # doctest: +SKIP
>>> model = mdl.transfer("qm9-gap-nn-0001", smiles, y)                  # doctest: +SKIP
>>> mdl.load_saved("my-model").predict(["CCO"])                          # doctest: +SKIP
"""

from pathlib import Path
from typing import Any

from mdl.api import finetune, publish, pull, search, transfer
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
from mdl.store.loader import use_model_reader

__all__ = [
    "DataUnavailableError", "DescriptorMismatchError", "EmptyHubError", "EntryNotFoundError", "HubNotFoundError", "HubConflictError", "HubError", "HubUnreachableError",
    "IntegrityError", "InvalidInputError", "MDLError", "ModelNotFoundError", "OfflineError",
    "RepositoryNotFoundError", "RevisionNotFoundError", "SourceModel", "TransferModel", "finetune", "load_saved",
    "publish", "pull", "screen", "search", "transfer",
]

#: Loaded on first use, so that ``import mdl`` and ``mdl search`` do not pay for torch and scipy.
__getattr__, __dir__ = lazy_names(__name__, {"SourceModel": "mdl.models.source",
                                             "TransferModel": "mdl.transfer_learning.model",
                                             "load_saved": "mdl.transfer_learning.saved",
                                             "screen": "mdl.screening.pipeline"})


def _read_source_model(folder: Path, files: dict[str, str]) -> Any:
    """A hub's verified model folder read as a SourceModel: the hubs call this through
    :func:`mdl.store.loader.read_model`, so they import no model code (and torch only loads here, on use)."""
    from mdl.models.source import SourceModel

    return SourceModel.load(folder, files)


use_model_reader(_read_source_model)
