"""Which sources a screening uses: resolved from ids, models or a hub query, loaded in one batch, grouped
by descriptor spec (:mod:`mdl.transfer_learning.loading`), with each spec's descriptor matrix computed once
for the target.

A source whose descriptor cannot be computed for the input is skipped, with its cause and rows
(:class:`SkippedSourcesWarning`); rows of the target are never dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mdl.errors import DescriptorMismatchError, InvalidInputError, ModelNotFoundError
from mdl.hub import Hub, open_hub
from mdl.hub.index import search_index
from mdl.hub.presence import require_models
from mdl.models.source import SourceModel
from mdl.screening.cache import screen_cache
from mdl.transfer_learning.loading import load_sources
from mdl.validation import group_by_cause, split_rows, summary_by_cause

__all__ = ["SkippedSourcesWarning", "Skipped", "descriptor_matrices", "no_usable_source", "resolve_sources"]

#: {model id: (cause, offending rows)} of the sources a screening could not use
Skipped = dict[str, tuple[str, list[int]]]


class SkippedSourcesWarning(UserWarning):
    """Some sources could not be used for this target (their descriptor or features failed)."""


def resolve_sources(sources: Any = None, *, property: str | None = None, material: str | None = None,
                    model_type: str | None = None, limit: int | None = None,
                    hub: str | Path | Hub | None = None) -> list[SourceModel]:
    """The sources to screen: ``sources`` (ids, SourceModels or a search result) or a hub query.

    Parameters
    ----------
    sources : str, SourceModel, sequence of them, DataFrame or None
        Explicit sources; None searches ``hub`` with the filters.
    property, material, model_type, limit : optional
        Filters of the hub search (as :func:`mdl.search`); only without ``sources``.
    hub : str, Path, Hub or None
        Where ids are looked up and loaded.

    Returns
    -------
    list of SourceModel
        Loaded and verified, with distinct ids.

    Raises
    ------
    ModelNotFoundError
        When the search finds nothing or ``sources`` is empty.
    HubNotFoundError, EmptyHubError
        When a search is asked of a hub that does not exist or holds no model.
    InvalidInputError
        For both ``sources`` and filters, a table without ``model_id`` or duplicate ids.

    Examples
    --------
    >>> resolve_sources([])
    Traceback (most recent call last):
    mdl.errors.ModelNotFoundError: no source model to screen: the list of sources is empty
    """
    filters = {"property": property, "material": material, "model_type": model_type, "limit": limit}
    if sources is None:  # a missing or empty hub is an error that says how to fill it
        opened = open_hub(hub)
        sources = search_index(require_models(opened), property=property, material=material, model_type=model_type,
                               limit=limit)
        if len(sources) == 0:
            query = ", ".join(f"{k}={v!r}" for k, v in filters.items() if v is not None) or "no filter"
            raise ModelNotFoundError(f"no source model in hub {opened.address} matches {query}")
    elif any(v is not None for v in filters.values()):
        raise InvalidInputError("give either sources= or search filters (property, material, model_type, "
                                "limit), not both: filter with mdl.search and pass its result")
    if isinstance(sources, (str, SourceModel)):
        sources = [sources]
    if isinstance(sources, pd.DataFrame):
        if "model_id" not in sources.columns:
            raise InvalidInputError("a table of sources needs a 'model_id' column (an mdl.search result)")
        sources = sources["model_id"].tolist()
    sources = list(sources)
    if not sources:
        raise ModelNotFoundError("no source model to screen: the list of sources is empty")
    ids = [s for s in sources if not isinstance(s, SourceModel)]
    if ids:
        loaded = dict(zip(ids, load_sources(ids, hub)))
        sources = [s if isinstance(s, SourceModel) else loaded[s] for s in sources]
    ids = [s.model_id for s in sources]
    if len(set(ids)) != len(ids):
        raise InvalidInputError(f"duplicate source ids: {sorted({i for i in ids if ids.count(i) > 1})[:5]}")
    return sources


def descriptor_matrices(by_spec: dict[str, list[SourceModel]], X: Any,
                        keys: list[str] | None = None) -> tuple[dict[str, np.ndarray], Skipped]:
    """Each spec's descriptor matrix of ``X``, computed once (rows seen by an earlier screening come from
    :func:`~mdl.screening.cache.screen_cache`); a spec that fails skips its sources.

    Parameters
    ----------
    by_spec : dict
        Sources by spec (:func:`group_by_spec`).
    X : raw inputs or a ready descriptor matrix
    keys : list of str, optional
        The inputs' content keys (:func:`~mdl.screening.cache.row_keys`); None computes them.

    Returns
    -------
    matrices : dict of str to ndarray or list
        By spec fingerprint, for the specs that could be computed (all with the same rows); a graph
        descriptor's entry is its list of records (one per input), which its networks read.
    skipped : dict
        {model id: (cause, rows)} of the sources of the other specs.

    Raises
    ------
    InvalidInputError
        When two descriptors give different row counts for one input.
    """
    matrices: dict[str, np.ndarray] = {}
    skipped: Skipped = {}
    for key, members in by_spec.items():
        try:
            source = members[0]  # a graph descriptor has no matrix: its records (graphs, structures) stand in
            compute = source.inputs if source.takes_graphs else source.descriptor_matrix
            matrices[key] = screen_cache().rows(f"descriptor:{key}", X, compute, stack=not source.takes_graphs,
                                                keys=keys)
        except (InvalidInputError, DescriptorMismatchError) as exc:
            cause, rows = split_rows(exc)
            reason = f"descriptor {members[0].descriptor.name!r} cannot be computed for this input: {cause}"
            skipped.update({s.model_id: (reason, rows) for s in members})
    n_rows = {len(D) for D in matrices.values()}
    if len(n_rows) > 1:
        raise InvalidInputError(f"descriptors gave different row counts {sorted(n_rows)} for one input")
    return matrices, skipped


def no_usable_source(skipped: Skipped) -> InvalidInputError:
    """The error when every source was skipped: one line per cause, and every offending row.

    Parameters
    ----------
    skipped : dict
        {model id: (cause, rows)}.

    Returns
    -------
    InvalidInputError
        To be raised by the caller.

    Examples
    --------
    >>> print(no_usable_source({"m-1": ("bad descriptor", [3])}))
    no source can be used for this input (1 skipped, by cause):
    1 source: bad descriptor (rows 3; m-1) [rows: 3]
    """
    groups = group_by_cause(skipped)
    return InvalidInputError(f"no source can be used for this input ({len(skipped)} skipped, by cause):\n"
                             + summary_by_cause(groups), rows=sorted({r for g in groups for r in g["rows"]}))
