"""The zoo index: one row per model, and the search over it.

>>> search_index(index, property="band gap", material="inorganic", min_r2=0.5)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from mdl.models.source import SourceModel

COLUMNS = [
    "model_id", "modelset", "material", "property", "aliases", "unit", "dataset", "dataset_hash",
    "descriptor", "descriptor_spec", "family", "hyperparameters", "n_train", "n_test",
    "mae", "rmse", "r2", "pearson", "spearman", "created", "path", "files", "source_model",
]
METRICS = ("mae", "rmse", "r2", "pearson", "spearman")
FAMILY_ALIASES = {
    "nn": "nn", "neural network": "nn", "network": "nn", "mlp": "nn",
    "rf": "rf", "random forest": "rf", "forest": "rf",
    "gb": "gb", "gradient boosting": "gb", "xgboost": "gb", "boosting": "gb",
    "en": "en", "elastic net": "en", "linear": "en",
}
_ASCENDING = {"mae": True, "rmse": True, "r2": False, "pearson": False, "spearman": False, "created": False}


def empty_index() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in METRICS else "object") for c in COLUMNS})


def index_row(model: SourceModel, modelset: str, path: str, files: dict[str, str]) -> dict[str, Any]:
    """The index row of a published model (properties of a multi-property net joined by '; ')."""
    info = model.info
    properties = info.get("properties") or [info.get("property", "")]
    aliases = sorted(set(info.get("aliases", [])))
    metrics = info.get("metrics", {})
    return {
        "model_id": model.model_id,
        "modelset": modelset,
        "material": info.get("material", model.descriptor.material),
        "property": "; ".join(properties),
        "aliases": "; ".join(aliases),
        "unit": info.get("unit", ""),
        "dataset": info.get("dataset", ""),
        "dataset_hash": info.get("dataset_hash", ""),
        "descriptor": model.descriptor.name,
        "descriptor_spec": json.dumps(model.descriptor.to_dict(), sort_keys=True),
        "family": model.family,
        "hyperparameters": json.dumps(info.get("hyperparameters", {}), sort_keys=True),
        "n_train": int(info.get("n_train", 0)),
        "n_test": int(info.get("n_test", 0)),
        **{m: float(metrics[m]) if metrics.get(m) is not None else np.nan for m in METRICS},
        "created": info.get("created", ""),
        "path": path,
        "files": json.dumps(files, sort_keys=True),
        "source_model": info.get("source_model", ""),
    }


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(text).lower()).strip()


def search_index(
    index: pd.DataFrame,
    property: str | None = None,
    material: str | None = None,
    descriptor: str | None = None,
    model_type: str | None = None,
    min_r2: float | None = None,
    sort_by: str = "r2",
    limit: int | None = None,
) -> pd.DataFrame:
    """Filter and sort the index. Property matching is case-insensitive on names, aliases and substrings."""
    mask = np.ones(len(index), dtype=bool)
    if property is not None:
        query = _norm(property)
        # few distinct property/alias strings: normalise those, not every row
        codes, uniques = pd.factorize(index["property"].astype(str) + " ; " + index["aliases"].astype(str))
        hit = np.array([query in _norm(u) for u in uniques], dtype=bool)
        mask &= hit[codes] if len(uniques) else np.zeros(len(index), dtype=bool)
    if material is not None:
        mask &= (index["material"].str.lower() == material.lower()).to_numpy()
    if descriptor is not None:
        mask &= (index["descriptor"].str.lower() == descriptor.lower()).to_numpy()
    if model_type is not None:
        family = FAMILY_ALIASES.get(_norm(model_type))
        if family is None:
            raise ValueError(f"unknown model_type {model_type!r}; use one of {sorted(set(FAMILY_ALIASES))}")
        mask &= (index["family"] == family).to_numpy()
    if min_r2 is not None:
        mask &= (index["r2"].to_numpy(dtype=float) >= min_r2)
    if sort_by not in index.columns:
        raise ValueError(f"cannot sort by {sort_by!r}; columns: {list(index.columns)}")
    rows = np.flatnonzero(mask)
    keys = index[sort_by].to_numpy()[rows]
    if keys.dtype.kind in "fiu":
        keys = keys.astype(float)
        # NaN last in both directions; descending keeps ties in index order (stable)
        order = np.lexsort((np.arange(len(rows)), keys if _ASCENDING.get(sort_by, True) else -keys,
                            np.isnan(keys)))
    else:
        order = np.argsort(keys.astype(str), kind="stable")
        if not _ASCENDING.get(sort_by, True):
            order = order[::-1]
    rows = rows[order][:limit] if limit is not None else rows[order]
    result = index.iloc[rows]
    return result.reset_index(drop=True)
