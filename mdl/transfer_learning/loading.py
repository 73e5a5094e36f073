"""Loading source models for the estimators that read several (stacked, profile, screening): in one batch,
and grouped by descriptor spec so that each descriptor is computed once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from mdl.hub import Hub, open_hub
from mdl.models.source import SourceModel

__all__ = ["group_by_spec", "load_sources"]


def load_sources(model_ids: Sequence[str], hub: str | Path | Hub | None = None) -> list[SourceModel]:
    """Load and verify several models of a hub, in one batch where the hub downloads in batches.

    Parameters
    ----------
    model_ids : sequence of str
        Model ids of the hub.
    hub : str, Path, Hub or None
        The hub (its address, or None for the default hub).

    Returns
    -------
    list of SourceModel
        In the order of ``model_ids``.

    Raises
    ------
    ModelNotFoundError
        For an id the hub does not hold.
    """
    return list(open_hub(hub).load_many(list(model_ids)))


def group_by_spec(sources: Iterable[SourceModel]) -> dict[str, list[SourceModel]]:
    """Sources grouped by the fingerprint of their descriptor spec, in first-seen order.

    Parameters
    ----------
    sources : iterable of SourceModel

    Returns
    -------
    dict of str to list of SourceModel
    """
    groups: dict[str, list[SourceModel]] = defaultdict(list)
    for s in sources:
        groups[s.descriptor.fingerprint()].append(s)
    return groups
