"""Copying a zoo, or part of it, between any two hubs (Hub → local folder, local → Hub, Hub → Hub),
verifying hashes, so a zoo can always be re-hosted.

>>> report = mirror("hf://mdl-zoo/registry", "/srv/zoo")                             # doctest: +SKIP
>>> mirror("/srv/zoo", "hf://my-org/registry", mdl.search(property="gap"))           # doctest: +SKIP

Mirroring copies bytes: every model's files are read from the source and checked against the source
index's sha256, then published into the destination verbatim, in batches (one commit per batch on a
Hub). The destination still loads each model from those bytes before publishing it, so nothing that
does not parse lands there, but it never re-saves one: any model that verifies at the source verifies
at the destination, whichever library versions wrote it. Models already in the destination with the
same files are skipped, so an interrupted mirror resumes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from mdl.errors import HubError, ModelNotFoundError
from mdl.hub import Hub, open_hub
from mdl.hub.presence import model_not_found, require_models


@dataclass
class MirrorReport:
    """What :func:`mirror` did.

    Attributes
    ----------
    copied : list of str
        The ids of the models copied.
    skipped : list of str
        The ids of those the destination already had with the same files.

    Examples
    --------
    >>> MirrorReport(copied=["m-0"]).skipped
    []
    """

    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def mirror(src: Hub | str | Path, dst: Hub | str | Path, models: pd.DataFrame | Sequence[str] | None = None, *,
           batch_size: int = 64, progress: bool = True) -> MirrorReport:
    """Copy models from one hub to another, verifying every file's hash.

    Parameters
    ----------
    src, dst : Hub, str or Path
        The hubs, or their addresses (see :func:`~mdl.hub.open_hub`).
    models : pandas.DataFrame, sequence of str or None
        The models' ids, a search result, or None for every model of ``src``.
    batch_size : int
        Models published in one go (one commit per batch on a Hub).
    progress : bool
        Show a progress bar.

    Returns
    -------
    MirrorReport
        The models copied and those skipped (already at ``dst`` with the same files).

    Raises
    ------
    HubError
        When ``src`` and ``dst`` are the same hub.
    HubNotFoundError, RepositoryNotFoundError, EmptyHubError
        When ``src`` does not exist or holds no model (nothing is created).
    ModelNotFoundError
        Naming the requested models ``src`` does not hold (with near ids, for one).

    Examples
    --------
    >>> mirror("/tmp/zoo", "/tmp/zoo")
    Traceback (most recent call last):
    mdl.errors.HubError: source and destination are the same hub (/tmp/zoo)
    """
    source, target = open_hub(src), open_hub(dst)
    if source.address == target.address and source.kind == target.kind:
        raise HubError(f"source and destination are the same hub ({source.address})", hub=source.address)
    index = require_models(source)
    if models is None:
        wanted = index
    else:
        ids = models["model_id"].tolist() if isinstance(models, pd.DataFrame) else [str(m) for m in models]
        unknown = sorted(set(ids) - set(index["model_id"]))
        if len(unknown) == 1:
            raise model_not_found(unknown[0], index["model_id"], source.address)
        if unknown:
            raise ModelNotFoundError(f"not in hub {source.address}: {', '.join(unknown[:10])}", hub=source.address,
                                     model_id=unknown[0])
        wanted = index[index["model_id"].isin(ids)]
    present = target.index()  # a destination that does not exist yet is created by the first publish
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
        meta = source.modelset_meta(modelset)
        ids = group["model_id"].tolist()
        for start in range(0, len(ids), batch_size):
            batch = ids[start:start + batch_size]
            target.publish_files(dict(zip(batch, source.model_bytes(batch))), modelset=modelset, meta=meta,
                                 progress=False)
            report.copied += batch
            bar.update(len(batch))
    bar.close()
    return report
