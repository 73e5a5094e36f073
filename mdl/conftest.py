"""Doctests of the package: an example marked ``# doctest: +NEEDS_SHARED_DATA`` reads the shared data
folder, and its docstring is skipped (with the reason) where that folder is not found."""

from __future__ import annotations

import doctest

import pytest

from mdl.datasets.sources import shared_data_available

NEEDS_SHARED_DATA = doctest.register_optionflag("NEEDS_SHARED_DATA")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the doctests with an example marked NEEDS_SHARED_DATA when the shared data folder is missing.

    Parameters
    ----------
    items : list of pytest.Item
        The collected test items; a doctest item with a ``NEEDS_SHARED_DATA`` example gets a skip marker.
    """
    if shared_data_available():
        return
    skip = pytest.mark.skip(reason="shared data folder not found (set MDL_SHARED_DATA to its data/ folder)")
    for item in items:
        examples = getattr(getattr(item, "dtest", None), "examples", ())
        if any(example.options.get(NEEDS_SHARED_DATA) for example in examples):
            item.add_marker(skip)
