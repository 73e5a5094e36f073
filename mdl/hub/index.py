"""The zoo index: one row per model, and the search over it.

>>> search_index(index, property="band gap", material="inorganic", min_r2=0.5)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from mdl.errors import HubError, InvalidInputError
from mdl.store.loader import StoredModel
from mdl.validation import check_known, check_material

COLUMNS = [
    "model_id", "modelset", "material", "property", "aliases", "unit", "dataset", "dataset_hash",
    "descriptor", "descriptor_spec", "family", "hyperparameters", "n_train", "n_test",
    "mae", "rmse", "r2", "pearson", "spearman", "created", "path", "files", "source_model", "property_metrics",
]
METRICS = ("mae", "rmse", "r2", "pearson", "spearman")
FAMILY_ALIASES = {
    "nn": "nn", "neural network": "nn", "network": "nn", "mlp": "nn",
    "rf": "rf", "random forest": "rf", "forest": "rf",
    "gb": "gb", "gradient boosting": "gb", "xgboost": "gb", "boosting": "gb",
    "en": "en", "elastic net": "en", "linear": "en",
    "gnn": "gnn", "graph network": "gnn", "graph neural network": "gnn", "cgcnn": "gnn",
    "foundation": "foundation", "foundation model": "foundation", "chgnet": "foundation",
}
_ASCENDING = {"mae": True, "rmse": True, "r2": False, "pearson": False, "spearman": False, "created": False}


def empty_index() -> pd.DataFrame:
    """An index without rows.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`COLUMNS`, the metrics as floats.

    Examples
    --------
    >>> list(empty_index().columns) == COLUMNS
    True
    """
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in METRICS else "object") for c in COLUMNS})


def index_row(model: StoredModel, modelset: str, path: str, files: dict[str, str]) -> dict[str, Any]:
    """The index row of a published model.

    Parameters
    ----------
    model : SourceModel
        The model.
    modelset : str
        Its model set.
    path : str
        Its folder in the hub.
    files : dict of str to str
        ``{file name: sha256}`` of its files.

    Returns
    -------
    dict
        One value per column of :data:`COLUMNS`; a multi-property network's properties are joined by
        '; ' and its per-property metrics kept in ``property_metrics``.

    Examples
    --------
    >>> row = index_row(model, "qm9-gap", "qm9-gap/models/qm9-gap-nn-0000", files)   # doctest: +SKIP
    """
    info = model.info
    aliases = sorted(set(info.get("aliases", [])))
    metrics = info.get("metrics", {})
    return {
        "model_id": model.model_id,
        "modelset": modelset,
        "material": info.get("material", model.descriptor.material),
        "property": "; ".join(model.properties),
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
        # a multi-property network's test metrics (and aliases) per property; its row's metrics are their means
        "property_metrics": _per_property(metrics.get("per_property"), info.get("property_aliases", {})),
    }


def _per_property(metrics: dict[str, dict] | None, aliases: dict[str, list[str]]) -> str:
    if not metrics:
        return ""
    return json.dumps({name: {**values, **({"aliases": aliases[name]} if name in aliases else {})}
                       for name, values in metrics.items()}, sort_keys=True)


def new_index_rows(index: pd.DataFrame, rows: list[dict], modelset: str) -> list[dict]:
    """The rows not yet in the index.

    Parameters
    ----------
    index : pandas.DataFrame
        The index.
    rows : list of dict
        Rows to publish.
    modelset : str
        The set they are published into.

    Returns
    -------
    list of dict
        Those of ``rows`` whose model id the index lacks.

    Raises
    ------
    HubError
        When a row's id is published with other files or in another set.

    Examples
    --------
    >>> new_index_rows(empty_index(), [{"model_id": "m-0", "files": "{}"}], "s")
    [{'model_id': 'm-0', 'files': '{}'}]
    """
    known = dict(zip(index["model_id"], zip(index["files"], index["modelset"])))
    new = []
    for row in rows:
        if row["model_id"] in known:
            files, where = known[row["model_id"]]
            if where != modelset or json.loads(files) != json.loads(row["files"]):
                raise HubError(f"model id {row['model_id']!r} is already published in {where!r} with different "
                               "content; nothing was changed")
            continue
        new.append(row)
    return new


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(text).lower()).strip()


_NO_MATCH = 3


def _match_tier(query: str, terms: str) -> int:
    """How well ``query`` names a model's property: 0 the name or an alias itself, 1 whole words of
    one ("gap" in "HOMO-LUMO gap"), 2 a substring, 3 no match.

    >>> [_match_tier("homo", t) for t in ("homo ; HOMO energy", "gap ; HOMO-LUMO gap", "lumo ; ")]
    [0, 1, 3]
    """
    query = _norm(query)
    names = [_norm(term) for term in terms.replace(" ; ", ";").split(";") if term.strip()]
    if query in names:
        return 0
    if any(re.search(rf"\b{re.escape(query)}\b", name) for name in names):
        return 1
    return 2 if any(query in name for name in names) else _NO_MATCH


def check_filters(material: Any, model_type: Any) -> tuple[str | None, str | None]:
    """The closed choices among the search filters, checked (before a hub is read, by its callers).

    Parameters
    ----------
    material : str or None
        One of :data:`~mdl.validation.MATERIALS`, in any case.
    model_type : str or None
        A family or one of its long names (:data:`FAMILY_ALIASES`).

    Returns
    -------
    material, family : str or None
        The material in lower case and the family's short name; None where the filter is None.

    Raises
    ------
    InvalidInputError
        Listing the valid values.

    Examples
    --------
    >>> check_filters("Molecule", "random forest")
    ('molecule', 'rf')
    """
    return check_material(material), None if model_type is None else check_known(model_type, "model_type",
                                                                                   FAMILY_ALIASES)


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
    """Filter and sort the index.

    Property matching is case-insensitive on names, aliases and substrings; models named by the query
    itself come first, then those matching whole words, then substrings.

    Parameters
    ----------
    index : pandas.DataFrame
        The index.
    property : str, optional
        A property name, alias or part of one.
    material : str, optional
        "molecule", "polymer" or "inorganic" (:data:`mdl.validation.MATERIALS`).
    descriptor : str, optional
        A descriptor name.
    model_type : str, optional
        A family ("nn", "rf", "gb", "en") or one of its long names (:data:`FAMILY_ALIASES`).
    min_r2 : float, optional
        The lowest test R².
    sort_by : str
        A metric (or "created") to sort by, best first.
    limit : int, optional
        The most rows returned.

    Returns
    -------
    pandas.DataFrame
        The matching rows, best first.

    Raises
    ------
    InvalidInputError
        For an unknown ``material``, ``model_type`` or ``sort_by``, listing those accepted.

    Examples
    --------
    >>> len(search_index(empty_index(), property="gap"))
    0
    >>> search_index(empty_index(), model_type="svm")
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: unknown model_type 'svm'; use one of 'boosting', 'cgcnn', 'chgnet', 'elastic net', 'en', 'forest', 'foundation', 'foundation model', 'gb', 'gnn', 'gradient boosting', 'graph network', 'graph neural network', 'linear', 'mlp', 'network', 'neural network', 'nn', 'random forest', 'rf', 'xgboost'
    """
    mask = np.ones(len(index), dtype=bool)
    tier = np.zeros(len(index), dtype=np.int64)
    if property is not None:
        # few distinct property/alias strings: match those, not every row
        codes, uniques = pd.factorize(index["property"].astype(str) + " ; " + index["aliases"].astype(str))
        tiers = np.array([_match_tier(property, u) for u in uniques], dtype=np.int64)
        tier = tiers[codes] if len(uniques) else tier
        mask &= tier < _NO_MATCH
    material, family = check_filters(material, model_type)
    if material is not None:
        mask &= (index["material"].str.lower() == material).to_numpy()
    if descriptor is not None:
        mask &= (index["descriptor"].str.lower() == descriptor.lower()).to_numpy()
    if family is not None:
        mask &= (index["family"] == family).to_numpy()
    if min_r2 is not None:
        mask &= (index["r2"].to_numpy(dtype=float) >= min_r2)
    if sort_by not in index.columns:
        raise InvalidInputError(f"cannot sort by {sort_by!r}; columns: {list(index.columns)}")
    rows = np.flatnonzero(mask)
    own = _own_metrics(index, rows, property) if property is not None else {}
    keys = index[sort_by].to_numpy()[rows]
    if own and sort_by in METRICS:
        keys = keys.astype(float)
        for k, row in enumerate(rows):
            if row in own:
                keys[k] = own[row][sort_by]
    if keys.dtype.kind in "fiu":
        keys = keys.astype(float)
        # NaN last in both directions; descending keeps ties in index order (stable)
        order = np.lexsort((np.arange(len(rows)), keys if _ASCENDING.get(sort_by, True) else -keys,
                            np.isnan(keys), tier[rows]))
    else:
        order = np.argsort(keys.astype(str), kind="stable")
        if not _ASCENDING.get(sort_by, True):
            order = order[::-1]
        order = order[np.argsort(tier[rows][order], kind="stable")]
    rows = rows[order][:limit] if limit is not None else rows[order]
    result = index.iloc[rows].reset_index(drop=True)
    at = [k for k, row in enumerate(rows) if row in own]  # multi-property nets: the queried property's own
    if at:
        for column in ("property", "unit", *METRICS):
            values = result[column].to_numpy(copy=True)
            values[at] = [own[rows[k]][column] for k in at]
            result[column] = values
    return result


def search_choices(index: pd.DataFrame) -> dict[str, list[str]]:
    """The values the filters of :func:`search_index` can match in this index, to explain an empty result.

    Parameters
    ----------
    index : pandas.DataFrame
        The index.

    Returns
    -------
    dict of str to list of str
        ``material``, ``property`` (names, each network's properties apart; aliases left out),
        ``descriptor`` and ``model_type`` (families): the distinct values present, sorted.

    Examples
    --------
    >>> search_choices(empty_index())
    {'material': [], 'property': [], 'descriptor': [], 'model_type': []}
    """
    properties = {name for joined in index["property"].astype(str) for name in joined.split("; ") if name}
    return {"material": sorted(set(index["material"].astype(str))), "property": sorted(properties),
            "descriptor": sorted(set(index["descriptor"].astype(str))),
            "model_type": sorted(set(index["family"].astype(str)))}


def _own_metrics(index: pd.DataFrame, rows: np.ndarray, query: str) -> dict[int, dict[str, Any]]:
    """For the multi-property networks among ``rows`` whose property names (or that property's own
    aliases) match ``query``: the matched property's name, unit and test metrics, to show and sort
    by instead of their means. Rows published without per-property aliases match by name only."""
    if "property_metrics" not in index.columns:
        return {}
    stored = index["property_metrics"].to_numpy()[rows]
    multi = [k for k, text in enumerate(stored) if isinstance(text, str) and text]
    if not multi:
        return {}
    properties, units = index["property"].to_numpy()[rows[multi]], index["unit"].to_numpy()[rows[multi]]
    best: dict[str, int | None] = {}  # per distinct property list: which of its properties the query names
    own: dict[int, dict[str, Any]] = {}
    for k, joined, unit in zip(multi, properties, units):
        names = str(joined).split("; ")
        per = json.loads(stored[k])
        if joined not in best:
            tiers = [_match_tier(query, ";".join([name, *per.get(name, {}).get("aliases", [])])) for name in names]
            best[joined] = int(np.argmin(tiers)) if min(tiers) < _NO_MATCH else None
        j = best[joined]
        if j is None:
            continue  # matched through an alias of unknown property only: keep the means
        metrics = per.get(names[j], {})
        unit_list = str(unit).split("; ")
        own[int(rows[k])] = {"property": names[j], "unit": unit_list[j] if len(unit_list) == len(names) else "",
                             **{m: float(metrics[m]) if metrics.get(m) is not None else np.nan for m in METRICS}}
    return own
