"""Doctests of the package run offline (``MDL_DATA_OFFLINE=1``: no data set file is ever downloaded), and an
example marked ``# doctest: +NEEDS_SHARED_DATA`` reads the mirror of the extra data sets: its docstring is
skipped (with the reason) where ``MDL_SHARED_DATA`` does not name one."""

from __future__ import annotations

import doctest
from collections.abc import Iterator

import pytest

from mdl.config import DATA_OFFLINE_ENV, SHARED_DATA_ENV
from mdl.datasets.files import shared_data_available

NEEDS_SHARED_DATA = doctest.register_optionflag("NEEDS_SHARED_DATA")
#: Deprecated old module paths (issue 21), each a re-export that warns when imported: no doctests of their own, and
#: collecting them would only raise their warning (tests/test_moved.py imports each on purpose)
collect_ignore = ["datasets/sources.py", "hub/check.py", "hub/rawfiles.py", "hub/validate.py", "models/batched.py",
                  "models/parse.py", "models/samplers.py", "models/storage.py",
                  "models/schema.py", "models/stacked.py", "zoo/foundation.py", "zoo/schema.py"]


@pytest.fixture(autouse=True, scope="session")
def _offline_data() -> Iterator[None]:
    """No doctest downloads a data set file: what is neither mirrored, shipped nor cached is an error."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATA_OFFLINE_ENV, "1")
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the doctests with an example marked NEEDS_SHARED_DATA when no mirror of the extra data sets is set.

    Parameters
    ----------
    items : list of pytest.Item
        The collected test items; a doctest item with a ``NEEDS_SHARED_DATA`` example gets a skip marker.
    """
    if shared_data_available():
        return
    skip = pytest.mark.skip(reason=f"needs the extra data sets' mirror: set {SHARED_DATA_ENV} (tests never download)")
    for item in items:
        examples = getattr(getattr(item, "dtest", None), "examples", ())
        if any(example.options.get(NEEDS_SHARED_DATA) for example in examples):
            item.add_marker(skip)
