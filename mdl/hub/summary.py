"""A search result to read: the few columns a person needs, with units, instead of the whole index row.

:func:`mdl.search` returns every index column (:data:`mdl.hub.index.COLUMNS`), which :func:`mdl.screen`
takes as ``sources=``; :func:`search_summary` is what to print or send as JSON.

>>> hits = pd.DataFrame({"model_id": ["a", "b"], "property": ["gap", "gap"], "unit": ["eV", "eV"],
...                      "mae": [0.21, 0.3], "descriptor_spec": ['{"name": "morgan"}'] * 2})
>>> list(search_summary(hits).columns)
['model_id', 'property', 'mae (eV)']
"""

from __future__ import annotations

import pandas as pd

from mdl.validation import check_choice

__all__ = ["BULKY_COLUMNS", "SHORT_COLUMNS", "UNIT_COLUMNS", "search_summary"]

#: The columns of a search result shown by default, in order.
SHORT_COLUMNS = ("model_id", "property", "unit", "material", "family", "descriptor", "n_train", "mae", "r2")
#: Index columns in the property's unit.
UNIT_COLUMNS = ("mae", "rmse")
#: Index columns that hold JSON (a descriptor spec alone is kilobytes): never in the short view.
BULKY_COLUMNS = ("descriptor_spec", "hyperparameters", "files", "property_metrics")


def search_summary(frame: pd.DataFrame, columns: str = "short", unit_in_header: bool = True) -> pd.DataFrame:
    """The columns of a search result to show, with units.

    Parameters
    ----------
    frame : DataFrame
        A :func:`mdl.search` result (or any frame of index rows).
    columns : {"short", "all"}, default "short"
        "short": :data:`SHORT_COLUMNS` (those the frame has); "all": every column, the JSON ones included.
    unit_in_header : bool, default True
        When every row has the same unit, name it in the headers of :data:`UNIT_COLUMNS` (``"mae (eV)"``),
        and the short view leaves the ``unit`` column out; otherwise, or when False (for JSON, whose keys should not
        change with the data), the ``unit`` column stays and the headers are the plain names.

    Returns
    -------
    DataFrame
        A new frame; the rows and their order are ``frame``'s, the index reset.

    Examples
    --------
    >>> hits = pd.DataFrame({"model_id": ["a", "b"], "property": ["gap", "homo"], "unit": ["eV", "Ha"],
    ...                      "mae": [0.21, 0.01], "files": ['{"model.safetensors": "9f…"}'] * 2})
    >>> search_summary(hits)
      model_id property unit   mae
    0        a      gap   eV  0.21
    1        b     homo   Ha  0.01
    >>> list(search_summary(hits.iloc[:1]).columns), list(search_summary(hits, "all").columns)
    (['model_id', 'property', 'mae (eV)'], ['model_id', 'property', 'unit', 'mae', 'files'])
    """
    check_choice(columns, "columns", ("short", "all"))
    view = frame.reset_index(drop=True)
    if columns == "short":
        view = view[[c for c in SHORT_COLUMNS if c in view.columns]]
    units = view["unit"].dropna().unique() if "unit" in view.columns else []
    if unit_in_header and len(view) and len(units) == 1 and units[0]:
        view = view.rename(columns={c: f"{c} ({units[0]})" for c in UNIT_COLUMNS})
        view = view.drop(columns="unit") if columns == "short" else view
    return view.copy()
