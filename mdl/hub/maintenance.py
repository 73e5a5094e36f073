"""Checking a hub against what it holds, and repairing a local one from what is verifiably on disk.

``check_hub`` verifies every model of the index (hashes and load) and, on a local hub, reports model
folders the index does not have (orphans), what killed publishers left (stale staging) and model sets
whose ``modelset.json`` or ``README.md`` disagree with the index. ``repair_hub`` rebuilds a lost or
unreadable index from the model folders that verify (against their set's ``modelset.json`` entry, or,
without one, because they load and call themselves by their folder's name), adds verifiable orphans
to a readable index, removes stale staging and rewrites the metadata from the index. It never deletes
a model folder it could index: one that does not verify is left in place and reported.

>>> report = check_hub("/srv/zoo")    # doctest: +SKIP
>>> report.ok, report.orphans         # doctest: +SKIP
(False, ['qm9-gap/models/qm9-gap-nn-0007'])
>>> repair_hub("/srv/zoo").indexed    # doctest: +SKIP
['qm9-gap-nn-0007']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from mdl.errors import HubError
from mdl.hub import Hub, LocalHub, open_hub
from mdl.hub.errors import RepositoryNotFoundError
from mdl.hub.index import COLUMNS, empty_index, index_row
from mdl.hub.modelset import MODELSET, recorded_files
from mdl.hub.presence import fill_advice, hub_not_found
from mdl.hub.index_checks import check_files, check_model_id, check_name, confined
from mdl.store.files import file_hashes
from mdl.store.loader import read_model

_BATCH = 64


@dataclass
class HubReport:
    """What :func:`check_hub` found.

    Attributes
    ----------
    hub : str
        The hub's address.
    models : int
        Models in its index.
    index_error : str
        Why the index is unreadable ("" when it is readable).
    broken : dict of str to str
        Model id → why it does not verify or load.
    orphans, stale : list of str
        Model folders the index lacks, and what killed publishers left (local hubs).
    metadata : list of str
        How model sets' metadata files disagree with the index.

    Examples
    --------
    >>> HubReport("/srv/zoo").ok
    True
    """

    hub: str
    models: int = 0
    index_error: str = ""
    broken: dict[str, str] = field(default_factory=dict)
    orphans: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong.

        Returns
        -------
        bool
            No unreadable index, broken model, orphan, stale staging or metadata problem.
        """
        return not (self.index_error or self.broken or self.orphans or self.stale or self.metadata)

    @property
    def empty(self) -> bool:
        """True when the hub's index is readable and holds no model (nothing wrong, nothing to use).

        Returns
        -------
        bool
            A readable index without rows, and no model folder on disk either.
        """
        return not (self.index_error or self.models or self.orphans)

    def __str__(self) -> str:
        lines = [f"hub {self.hub}: " + ("index unreadable" if self.index_error else
                                        f"{self.models - len(self.broken)} of {self.models} model(s) verified")]
        lines += [f"  index: {self.index_error}"] if self.index_error else []
        lines += [f"  broken {model_id}: {why}" for model_id, why in self.broken.items()]
        lines += [f"  orphan (not in the index): {path}" for path in self.orphans]
        lines += [f"  stale (left by a killed publisher): {path}" for path in self.stale]
        lines += [f"  metadata: {problem}" for problem in self.metadata]
        lines += [f"  empty: the hub holds no model yet; {fill_advice(self.hub)}"] if self.empty else []
        lines.append("  ok" if self.ok else f"  {_count(self)} problem(s)")
        return "\n".join(lines)


@dataclass
class RepairReport:
    """What :func:`repair_hub` did.

    Attributes
    ----------
    hub : str
        The hub's folder.
    rebuilt : bool
        The index was rebuilt from the model folders.
    indexed : list of str
        The models added to the index.
    removed : list of str
        What killed publishers left, removed.
    metadata : list of str
        The model sets whose metadata files were rewritten from the index.
    unverifiable : dict of str to str
        Model folder → why it was left in place and not indexed.

    Examples
    --------
    >>> RepairReport("/srv/zoo").indexed
    []
    """

    hub: str
    rebuilt: bool = False
    indexed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)
    unverifiable: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"hub {self.hub}: " + ("index rebuilt from the model folders" if self.rebuilt else "index kept")
                 + f", {len(self.indexed)} model(s) added to it"]
        lines += [f"  removed (left by a killed publisher): {path}" for path in self.removed]
        lines += [f"  metadata rewritten from the index: {modelset}" for modelset in self.metadata]
        lines += [f"  left in place, not indexed: {path}: {why}" for path, why in self.unverifiable.items()]
        return "\n".join(lines)


def _count(report: HubReport) -> int:
    return (bool(report.index_error) + len(report.broken) + len(report.orphans) + len(report.stale)
            + len(report.metadata))


def check_hub(hub: Hub | str | Path | None = None, progress: bool = True) -> HubReport:
    """Verify every model of a hub (a local one under its publishing lock) and report what is wrong.

    Parameters
    ----------
    hub : Hub, str, Path or None
        The hub or its address (None: the default hub).
    progress : bool
        Show a progress bar.

    Returns
    -------
    HubReport
        What was found; ``ok`` when nothing, ``empty`` when the hub holds no model.

    Raises
    ------
    HubNotFoundError, RepositoryNotFoundError
        When the hub does not exist (nothing is created).

    Examples
    --------
    >>> check_hub("/srv/zoo").ok   # doctest: +SKIP
    True
    """
    store = open_hub(hub)
    if store.kind == "hf":
        return _check_remote(store, progress)
    if not store.root.is_dir():  # before the lock, which would create the folder
        raise hub_not_found(store.address)
    report = HubReport(store.address)
    with store.locked():
        try:
            index = store.index()
        except HubError as exc:
            report.index_error = str(exc)
            index = None
        if index is not None:
            report.models = len(index)
            for model_id in tqdm(index["model_id"], desc="verifying", unit="model", disable=not progress):
                try:
                    store.read_model(model_id)
                except Exception as exc:  # a check reports whatever a model does wrong, and goes on
                    report.broken[model_id] = f"{type(exc).__name__}: {exc}"
            paths = set(index["path"])
            report.orphans = [f"{s}/models/{m}" for s, m in store.model_folders() if f"{s}/models/{m}" not in paths]
            report.metadata = [p for problems in store.metadata_problems(index).values() for p in problems]
        report.stale = [str(p.relative_to(store.root)) for p in store.stale_staging()]
    return report


def _check_remote(store: Hub, progress: bool) -> HubReport:
    """A Hub registry: its index, and every model downloaded (or read from the cache) and verified."""
    report = HubReport(store.address)
    try:
        ids = store.index(missing_ok=False)["model_id"].tolist()
    except RepositoryNotFoundError:
        raise  # no such hub: nothing to report on, as for a folder that does not exist
    except HubError as exc:
        report.index_error = str(exc)
        return report
    report.models = len(ids)
    with tqdm(total=len(ids), desc="verifying", unit="model", disable=not progress) as bar:
        for start in range(0, len(ids), _BATCH):
            batch = ids[start:start + _BATCH]
            try:
                store.load_many(batch)
            except Exception:  # find which: one at a time
                for model_id in batch:
                    try:
                        store.load(model_id)
                    except Exception as exc:
                        report.broken[model_id] = f"{type(exc).__name__}: {exc}"
            bar.update(len(batch))
    return report


def repair_hub(hub: Hub | str | Path | None = None, progress: bool = True) -> RepairReport:
    """Repair a local hub under its publishing lock (see the module's documentation).

    Parameters
    ----------
    hub : Hub, str, Path or None
        The hub or its folder (None: the default hub).
    progress : bool
        Show a progress bar.

    Returns
    -------
    RepairReport
        What was done.

    Raises
    ------
    HubError
        For a Hub registry (mirror it into a folder, repair that, mirror it back).
    HubNotFoundError
        For a folder that does not exist (nothing is created: there is nothing to repair).

    Examples
    --------
    >>> repair_hub("hf://org/registry")
    Traceback (most recent call last):
    mdl.errors.HubError: hf://org/registry: repair works on a hub folder; mirror the registry into one (`mdl mirror`), repair that, and mirror it back
    """
    store = open_hub(hub)
    if not isinstance(store, LocalHub):
        raise HubError(f"{store.address}: repair works on a hub folder; mirror the registry into one "
                       "(`mdl mirror`), repair that, and mirror it back")
    if not store.root.is_dir():  # before the lock, which would create the folder
        raise hub_not_found(store.address)
    report = RepairReport(store.address)
    with store.locked():
        try:
            index = store.index()
        except HubError:
            index, report.rebuilt = None, True
        # with a readable index, folders a killed publisher moved but never indexed are removed here
        report.removed = [str(p.relative_to(store.root)) for p in store.remove_stale_staging(index)]
        index = index if index is not None else empty_index()
        recorded = {path: files for modelset in store.model_sets() for path, files in _recorded(store, modelset)}
        paths, ids = set(index["path"]), set(index["model_id"])
        rows = []
        for modelset, name in tqdm(store.model_folders(), desc="scanning", unit="model", disable=not progress):
            path = f"{modelset}/models/{name}"
            if path in paths:
                continue
            try:
                row = _recover(store, modelset, name, recorded.get(path))
            except Exception as exc:  # whatever is wrong with it, it is not indexed (and not deleted)
                report.unverifiable[path] = f"{type(exc).__name__}: {exc}"
                continue
            if row["model_id"] in ids:
                report.unverifiable[path] = f"model id {row['model_id']} is indexed in another model set"
                continue
            rows.append(row)
            ids.add(row["model_id"])
        report.indexed = [row["model_id"] for row in rows]
        if rows or report.rebuilt:
            new = pd.DataFrame(rows, columns=COLUMNS)
            index = pd.concat([index, new], ignore_index=True) if len(index) else new
            store.write_index(index)
        report.metadata = store.sync_metadata(index)
    return report


def _recorded(store: LocalHub, modelset: str) -> list[tuple[str, Any]]:
    """(model folder, files map) of every model a set's ``modelset.json`` lists (none if unreadable)."""
    try:
        record = (store.root / modelset / MODELSET).read_bytes()
    except OSError:
        return []
    return [(f"{modelset}/models/{model_id}", files) for model_id, files in recorded_files(record, modelset).items()]


def _recover(store: LocalHub, modelset: str, name: str, files: Any) -> dict[str, Any]:
    """The index row of the model in ``<modelset>/models/<name>`` if its files verify against
    ``files`` (its ``modelset.json`` entry) or, with none recorded, load as they are; it must call
    itself ``name``."""
    check_name("model set", modelset)
    check_name("model id", name)
    folder: Path = confined(store.root, store.root / modelset / "models" / name, name, "path")
    files = check_files(name, files if files is not None else file_hashes(folder, name), folder)
    for file_name in files:
        confined(store.root, folder / file_name, name, "files")
    model = check_model_id(read_model(folder, files), name)
    return index_row(model, modelset, f"{modelset}/models/{name}", files)
