"""Copying a zoo, or part of it, between any two hubs (Hub → local folder, local → Hub, Hub → Hub),
verifying hashes, so a zoo can always be re-hosted.

>>> report = mirror("hf://mdl-zoo/registry", "/srv/zoo")                             # doctest: +SKIP
>>> mirror("/srv/zoo", "hf://my-org/registry", mdl.search(property="gap"))           # doctest: +SKIP

Every model is read from the source with its files checked against the source index's sha256,
published into the destination in batches (one commit per batch on a Hub), and the files recorded
by the destination must have the same sha256 as in the source, else :class:`IntegrityError`.
Models already in the destination with the same files are skipped, so an interrupted mirror resumes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from mdl.errors import HubError, IntegrityError, ModelNotFoundError
from mdl.hub import open_hub
from mdl.hub.hf import HFHub


@dataclass
class MirrorReport:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def modelset_meta(hub: Any, modelset: str) -> dict:
    """The metadata a hub records for a model set (licence, description, source…)."""
    if isinstance(hub, HFHub):
        return hub.modelset_meta(modelset)
    path = Path(hub.root) / modelset / "modelset.json"
    return json.loads(path.read_text()).get("meta", {}) if path.is_file() else {}


def mirror(src: Any, dst: Any, models: pd.DataFrame | Sequence[str] | None = None, *, batch_size: int = 64,
           progress: bool = True) -> MirrorReport:
    """Copy ``models`` (ids, a search result, or every model when None) from hub ``src`` to hub ``dst``."""
    source, target = open_hub(src), open_hub(dst)
    if source.address == target.address and type(source) is type(target):
        raise HubError(f"source and destination are the same hub ({source.address})")
    index = source.index()
    if models is None:
        wanted = index
    else:
        ids = models["model_id"].tolist() if isinstance(models, pd.DataFrame) else [str(m) for m in models]
        unknown = sorted(set(ids) - set(index["model_id"]))
        if unknown:
            raise ModelNotFoundError(f"not in hub {source.address}: {', '.join(unknown[:10])}")
        wanted = index[index["model_id"].isin(ids)]
    present = target.index()
    present_files = dict(zip(present["model_id"], present["files"]))
    report = MirrorReport()
    todo = []
    for row in wanted.itertuples():
        if row.model_id in present_files and json.loads(present_files[row.model_id]) == json.loads(row.files):
            report.skipped.append(row.model_id)
        else:
            todo.append(row)
    bar = tqdm(total=len(todo), desc=f"mirror → {target.address}", unit="model", disable=not progress)
    for modelset, group in pd.DataFrame(todo, columns=["Index", *wanted.columns]).groupby("modelset", sort=False):
        meta = modelset_meta(source, modelset)
        rows = group.to_dict("records")
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            ids = [r["model_id"] for r in batch]
            loaded = source.load_many(ids) if hasattr(source, "load_many") else [source.load(i) for i in ids]
            target.publish(loaded, modelset=modelset, meta=meta, progress=False)
            written = target.index().set_index("model_id")
            for row in batch:
                if json.loads(written.loc[row["model_id"], "files"]) != json.loads(row["files"]):
                    raise IntegrityError(f"model {row['model_id']}: files written to {target.address} differ from "
                                         f"those recorded in {source.address}")
            report.copied += ids
            bar.update(len(batch))
    bar.close()
    return report
