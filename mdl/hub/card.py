"""The model card (``README.md``) of a model set, with Hugging Face Hub metadata."""

from __future__ import annotations

import pandas as pd


def model_card(modelset: str, rows: pd.DataFrame, meta: dict) -> str:
    """Markdown card with YAML front matter: library, licence, tags, data sets and a model-index."""
    materials = sorted(set(rows["material"]))
    properties = sorted({p for value in rows["property"] for p in value.split("; ")})
    datasets = sorted(set(rows["dataset"]))
    lines = ["---", "library_name: mdl", f"license: {meta.get('license', 'other')}", "tags:", "- mdl",
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
