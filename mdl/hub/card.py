"""The metadata documents of a model set, derived from its index rows: the model card (``README.md``,
with Hugging Face Hub metadata) and ``modelset.json`` (the set's metadata and its models' files and
hashes); and what makes them disagree with the index.

>>> rows = pd.DataFrame({"model_id": ["m-0"], "files": ['{"config.json": "ab"}']})
>>> disagreement("s", rows, b'{"models": {}}', None)
['s: modelset.json lacks 1 model(s) of the index: m-0', 's: README.md is missing']
"""

from __future__ import annotations

import json
import re

import pandas as pd

from mdl.config import LIBRARY_NAME
from mdl.errors import ModelFormatError
from mdl.hub.modelset import MODELSET, README, read_modelset
_CARD_MODEL = re.compile(r"^- name: (\S+)$", re.MULTILINE)


def model_card(modelset: str, rows: pd.DataFrame, meta: dict) -> str:
    """A model set's card (``README.md``): Markdown with Hub metadata.

    Parameters
    ----------
    modelset : str
        The set's name.
    rows : pandas.DataFrame
        The set's index rows.
    meta : dict
        The set's metadata (``license``, ``description``, ``source`` are read).

    Returns
    -------
    str
        YAML front matter (library, licence, tags, data sets, a model-index with the test metrics),
        then a table of the models.

    Examples
    --------
    >>> from mdl.hub.index import empty_index
    >>> model_card("s", empty_index(), {}).splitlines()[1]
    'library_name: mdl'
    """
    materials = sorted(set(rows["material"]))
    properties = sorted({p for value in rows["property"] for p in value.split("; ")})
    datasets = sorted(set(rows["dataset"]))
    lines = ["---", f"library_name: {LIBRARY_NAME}", f"license: {meta.get('license', 'other')}", "tags:", "- mdl",
             "- materials-science", *[f"- material:{m}" for m in materials],
             *[f"- property:{p}" for p in properties], "datasets:", *[f"- {d}" for d in datasets],
             "model-index:"]
    for row in rows.itertuples():
        lines += [f"- name: {row.model_id}", "  results:", "  - task:", "      type: tabular-regression",
                  "    dataset:", f"      name: {row.dataset}", f"      type: {row.dataset}", "    metrics:"]
        for metric in ("mae", "rmse", "r2"):
            value = getattr(row, metric)
            if pd.notna(value):
                lines += [f"    - type: {metric}", f"      value: {value:.6g}"]
    lines += ["---", "", f"# Model set `{modelset}`", "",
              meta.get("description", f"{len(rows)} source models for {', '.join(properties)}."), "",
              f"- Material: {', '.join(materials)}", f"- Properties: {', '.join(properties)}",
              f"- Data: {', '.join(datasets)}", f"- Source of the data: {meta.get('source', 'see modelset.json')}",
              "- Metrics are on a held-out test split recorded with each model (`models/<id>/config.json`).",
              "", "| model | family | descriptor | n_train | test MAE | test R² |", "|---|---|---|---|---|---|"]
    for row in rows.itertuples():
        lines.append(f"| {row.model_id} | {row.family} | {row.descriptor} | {row.n_train} | "
                     f"{row.mae:.4g} | {row.r2:.3f} |")
    lines += ["", "Load with `mdl.pull(model_id)`; files are safetensors and JSON, verified by sha256.", ""]
    return "\n".join(lines)


def disagreement(modelset: str, rows: pd.DataFrame, record: bytes | None, card: str | None) -> list[str]:
    """How a set's ``modelset.json`` and ``README.md`` disagree with its index rows.

    Parameters
    ----------
    modelset : str
        The set's name.
    rows : pandas.DataFrame
        The set's index rows.
    record : bytes or None
        The ``modelset.json``, None where absent.
    card : str or None
        The ``README.md``, None where absent.

    Returns
    -------
    list of str
        One line per problem: models listed that the index lacks, or the other way round; empty when
        they agree.

    Examples
    --------
    >>> disagreement("s", pd.DataFrame({"model_id": [], "files": []}), None, None)
    []
    """
    indexed = {r.model_id: json.loads(r.files) for r in rows.itertuples()}
    problems = []
    if record is None:
        if indexed:
            problems.append(f"{modelset}: {MODELSET} is missing")
    else:
        try:
            listed = {k: v.get("files") for k, v in read_modelset(record, modelset)["models"].items()}
        except (ModelFormatError, AttributeError) as exc:
            problems.append(f"{modelset}: {MODELSET} is unreadable ({type(exc).__name__})")
        else:
            problems += _differences(modelset, MODELSET, set(listed), set(indexed))
            changed = sorted(k for k in set(listed) & set(indexed) if listed[k] != indexed[k])
            if changed:
                problems.append(f"{modelset}: {MODELSET} records other files than the index for {_few(changed)}")
    if card is None:
        if indexed:
            problems.append(f"{modelset}: {README} is missing")
    else:
        problems += _differences(modelset, README, set(_CARD_MODEL.findall(card)), set(indexed))
    return problems


def _differences(modelset: str, name: str, listed: set[str], indexed: set[str]) -> list[str]:
    out = []
    if listed - indexed:
        out.append(f"{modelset}: {name} lists {len(listed - indexed)} model(s) the index does not have: "
                   f"{_few(sorted(listed - indexed))}")
    if indexed - listed:
        out.append(f"{modelset}: {name} lacks {len(indexed - listed)} model(s) of the index: "
                   f"{_few(sorted(indexed - listed))}")
    return out


def _few(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
