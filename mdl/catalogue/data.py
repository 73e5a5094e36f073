"""What a hub's catalogue shows, computed from its index (and its model sets' metadata) alone: the table
of every model, one summary per model set, the test R² of every model per property, and one model's page.

>>> index = pd.DataFrame({"model_id": ["s-nn-0000", "s-rf-0000"], "modelset": ["s", "s"],
...                       "material": ["molecule"] * 2, "property": ["gap"] * 2, "unit": ["eV"] * 2,
...                       "dataset": ["qm9"] * 2, "family": ["nn", "rf"], "descriptor": ["morgan"] * 2,
...                       "n_train": [320, 320], "mae": [0.31, 0.42], "rmse": [0.4, 0.5], "r2": [0.81, 0.7],
...                       "property_metrics": ["", ""]})
>>> table_records(index)["rows"][0][:3]
['s-nn-0000', 's', 'gap']
>>> modelset_summaries(index, {"s": {"license": "MIT"}})[0]["families"]
{'nn': 1, 'rf': 1}
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["TABLE_COLUMNS", "model_page", "modelset_summaries", "r2_by_property", "table_records"]

#: The columns of the catalogue's table of models, in order (the JavaScript reads them by name).
TABLE_COLUMNS = ("model_id", "modelset", "property", "unit", "material", "family", "descriptor", "n_train",
                 "r2", "mae", "rmse")
_NUMBERS = {"r2", "mae", "rmse"}
#: significant digits kept of a metric in the table (the model's page shows it in full)
DIGITS = 6


def _number(value: Any) -> float | None:
    """A metric as JSON can hold it: rounded to :data:`DIGITS` significant digits, None for NaN."""
    if value is None or not math.isfinite(float(value)):
        return None
    return float(f"{float(value):.{DIGITS}g}")


def table_records(index: pd.DataFrame) -> dict[str, list]:
    """The table of every model, column-wise names and one list per model (the compact form a browser reads).

    Parameters
    ----------
    index : pandas.DataFrame
        A hub's index (the columns :data:`TABLE_COLUMNS` are read).

    Returns
    -------
    dict
        ``{"columns": [...], "rows": [[...], ...]}``, rows in the index's order; metrics rounded to
        :data:`DIGITS` significant digits, a missing metric None.

    Examples
    --------
    >>> index = pd.DataFrame({c: ["x"] for c in TABLE_COLUMNS} | {"n_train": [5], "r2": [0.123456789],
    ...                      "mae": [float("nan")], "rmse": [1.0]})
    >>> table_records(index)["rows"][0][-3:]
    [0.123457, None, 1.0]
    """
    columns = [index[c].tolist() for c in TABLE_COLUMNS]
    rows = []
    for values in zip(*columns):
        rows.append([_number(v) if c in _NUMBERS else int(v) if c == "n_train" else str(v)
                     for c, v in zip(TABLE_COLUMNS, values)])
    return {"columns": list(TABLE_COLUMNS), "rows": rows}


def _spread(values: pd.Series) -> dict[str, float | None]:
    finite = values.dropna()
    if finite.empty:
        return {"min": None, "median": None, "max": None}
    return {"min": _number(finite.min()), "median": _number(finite.median()), "max": _number(finite.max())}


def modelset_summaries(index: pd.DataFrame, metas: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One summary per model set: what it was trained on and how well each family scores.

    Parameters
    ----------
    index : pandas.DataFrame
        A hub's index.
    metas : mapping of str to dict
        Each set's metadata (``modelset.json``'s ``meta``: ``license``, ``description``, ``source``…).

    Returns
    -------
    list of dict
        Sorted by model set: ``modelset``, ``dataset``, ``license``, ``material``, ``property``, ``unit``,
        ``description``, ``source``, ``models``, ``families`` (family → count), ``n_train`` (min, max
        rows trained on) and ``r2`` (family → min, median, max of the test R²).

    Examples
    --------
    >>> index = pd.DataFrame({"modelset": ["s", "s"], "dataset": ["d", "d"], "material": ["molecule"] * 2,
    ...                       "property": ["gap"] * 2, "unit": ["eV"] * 2, "family": ["rf", "rf"],
    ...                       "n_train": [100, 80], "r2": [0.5, 0.7]})
    >>> summary = modelset_summaries(index, {})[0]
    >>> summary["license"], summary["n_train"], summary["r2"]
    ('not stated', [80, 100], {'rf': {'min': 0.5, 'median': 0.6, 'max': 0.7}})
    """
    out = []
    for name, rows in index.groupby("modelset", sort=True):
        meta = metas.get(str(name), {})

        def joined(column: str) -> str:
            return ", ".join(sorted({str(v) for v in rows[column] if str(v)}))

        families = rows["family"].value_counts()
        out.append({
            "modelset": str(name), "dataset": joined("dataset"), "license": str(meta.get("license", "not stated")),
            "material": joined("material"), "property": joined("property"), "unit": joined("unit"),
            "description": str(meta.get("description", "")), "source": str(meta.get("source", "")),
            "models": len(rows), "families": {str(f): int(families[f]) for f in sorted(families.index)},
            "n_train": [int(rows["n_train"].min()), int(rows["n_train"].max())],
            "r2": {str(f): _spread(group["r2"]) for f, group in rows.groupby("family", sort=True)},
        })
    return out


def r2_by_property(index: pd.DataFrame) -> pd.DataFrame:
    """The test R² of every model per property it predicts: a network trained on several properties at
    once counts once per property, with that property's own score.

    Parameters
    ----------
    index : pandas.DataFrame
        A hub's index (``model_id``, ``property``, ``unit``, ``family``, ``r2``, ``property_metrics``).

    Returns
    -------
    pandas.DataFrame
        Columns ``property``, ``unit``, ``family``, ``model_id``, ``r2``; models without an R² left out.

    Examples
    --------
    >>> index = pd.DataFrame({"model_id": ["m-nn-0000"], "property": ["a; b"], "unit": ["eV"],
    ...                       "family": ["nn"], "r2": [0.6],
    ...                       "property_metrics": ['{"a": {"r2": 0.9}, "b": {"r2": 0.3}}']})
    >>> r2_by_property(index)[["property", "r2"]].values.tolist()
    [['a', 0.9], ['b', 0.3]]
    """
    out = []
    for row in index[["model_id", "property", "unit", "family", "r2", "property_metrics"]].itertuples(index=False):
        per = json.loads(row.property_metrics) if row.property_metrics else {}
        if per:
            out += [(name, row.unit, row.family, row.model_id, float(scores["r2"]))
                    for name, scores in per.items() if scores.get("r2") is not None]
        else:
            out.append((row.property, row.unit, row.family, row.model_id, float(row.r2)))
    frame = pd.DataFrame(out, columns=["property", "unit", "family", "model_id", "r2"])
    return frame[frame["r2"].notna()].reset_index(drop=True)


def _json_cell(row: pd.Series, column: str) -> Any:
    value = row.get(column)
    return json.loads(value) if isinstance(value, str) and value else {}


def model_page(row: pd.Series, meta: Mapping[str, Any], address: str) -> dict[str, Any]:
    """What one model's page shows, from its index row and its model set's metadata.

    Parameters
    ----------
    row : pandas.Series
        The model's index row.
    meta : mapping
        Its model set's metadata.
    address : str
        The hub's address, for the lines that use the model.

    Returns
    -------
    dict
        ``row`` (the plain cells), ``hyperparameters``, ``descriptor`` (name, params, width, version,
        the first and last column names), ``metrics`` (name → value), ``per_property`` (property →
        metrics), ``files`` (name → sha256), ``meta`` and ``usage`` (the command and Python lines).

    Examples
    --------
    >>> row = pd.Series({"model_id": "s-rf-0000", "descriptor_spec": '{"name": "morgan", "width": 2,'
    ...                  ' "columns": ["a", "b"]}', "hyperparameters": '{"n_estimators": 10}',
    ...                  "files": '{"config.json": "ab"}', "mae": 0.1, "r2": 0.9})
    >>> page = model_page(row, {}, "/srv/zoo")
    >>> for line in page["usage"]:
    ...     print(line)
    mdl pull s-rf-0000 --hub /srv/zoo
    mdl.transfer("s-rf-0000", X, y, hub="/srv/zoo")
    >>> page["descriptor"]["columns"]
    'a … b (2)'
    """
    spec = _json_cell(row, "descriptor_spec")
    columns = spec.pop("columns", [])
    model_id = str(row["model_id"])
    cells = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()
             if k not in ("descriptor_spec", "hyperparameters", "files", "property_metrics")}
    return {
        "row": cells,
        "hyperparameters": _json_cell(row, "hyperparameters"),
        "descriptor": {**spec, "columns": f"{columns[0]} … {columns[-1]} ({len(columns)})" if columns else ""},
        "metrics": {m: row.get(m) for m in ("mae", "rmse", "r2", "pearson", "spearman")
                    if row.get(m) is not None and not pd.isna(row.get(m))},
        "per_property": _json_cell(row, "property_metrics"),
        "files": dict(sorted(_json_cell(row, "files").items())),
        "meta": dict(meta),
        "usage": [f"mdl pull {shlex.quote(model_id)} --hub {shlex.quote(address)}",
                  f"mdl.transfer({json.dumps(model_id)}, X, y, hub={json.dumps(address)})"],
    }
