"""Where the first stage of a screening runs: in this process, or sharded over a Ray cluster.

The first stage is the part of a screening whose cost grows with the zoo: every source's features, exact
held-out scores and predictions. It is cut into blocks (:func:`~mdl.screening.ranking.blocks`), each scored
by :func:`~mdl.screening.ranking.score_block`; an engine runs the blocks and hands back their
:class:`~mdl.screening.ranking.BlockScores` in order, so every engine gives the same ranking, profile and
board. Two engines play that role (:class:`Engine`):

* :class:`LocalEngine` (``engine="local"``, the default): one block after another, in this process;
* :class:`RayEngine` (``engine="ray"``): one Ray task per block, so that a zoo that outgrows one machine
  is screened by a cluster. The descriptor matrices go to the object store once. A task gets its
  sources as the hub ids it loads them by (each file verified against the hub's manifest) or, for a
  source that is not in the hub, as the bytes of its saved files (loaded and hash-checked there); what
  comes back is numbers and ids. Models never travel as pickled objects.

>>> LocalEngine().name
'local'
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mdl.errors import InvalidInputError
from mdl.hub import Hub, open_hub
from mdl.models.source import SourceModel
from mdl.screening.ranking import BlockScores, Engine, LocalEngine, StageOne, score_block

__all__ = ["ENGINES", "Engine", "LocalEngine", "RayEngine", "make_engine"]

#: The engines ``mdl.screen(engine=...)`` accepts.
ENGINES = ("local", "ray")


class RayEngine:
    """The first stage as Ray tasks, one per block, on the cluster at ``address`` (a local Ray instance
    when None and none is running).

    Parameters
    ----------
    address : str or None
        A Ray cluster address ("auto", "ray://host:10001") or None.
    hub : str, Path, Hub or None
        The hub the screened sources came from: a task loads the sources of ``hub_ids`` from it by id.
    hub_ids : collection of str
        Ids of the sources that are in ``hub`` as loaded (others travel as their files' bytes).
    """

    name = "ray"

    def __init__(self, address: str | None = None, hub: str | Path | Hub | None = None,
                 hub_ids: Sequence[str] = ()):
        self.address = address
        self.hub = hub
        self.hub_ids = set(hub_ids)

    def score_blocks(self, work: Sequence[tuple[str, list[SourceModel]]], matrices: dict[str, Any],
                     stage: StageOne) -> Iterator[BlockScores]:
        """Submit one task per block, then collect them in order (see :class:`Engine`).

        Parameters
        ----------
        work : sequence of (spec key, sources)
        matrices : dict of str to ndarray
        stage : StageOne

        Returns
        -------
        iterator of BlockScores
            One per block, in the order of ``work``.
        """
        ray = _ray(self.address)
        task = ray.remote(_score_remote)
        address = open_hub(self.hub).address if self.hub_ids else None
        refs = {key: ray.put(matrices[key]) for key in {key for key, _ in work}}
        stage_ref = ray.put(stage)
        pending = [task.remote(_payload(block, self.hub_ids), address, refs[key], stage_ref) for key, block in work]
        for ref in pending:  # in order: the same ranking as the local engine
            yield ray.get(ref)


def make_engine(engine: str, address: str | None, hub: str | Path | Hub | None,
                hub_ids: Sequence[str]) -> LocalEngine | RayEngine:
    """The engine named by ``mdl.screen(engine=...)``.

    Parameters
    ----------
    engine : {"local", "ray"}
    address : str or None
        Ray cluster address (``engine="ray"`` only).
    hub, hub_ids
        As for :class:`RayEngine`.

    Returns
    -------
    LocalEngine or RayEngine

    Raises
    ------
    InvalidInputError
        For another name, or an address without ``engine="ray"``.

    Examples
    --------
    >>> make_engine("local", None, None, []).name
    'local'
    >>> make_engine("spark", None, None, [])
    Traceback (most recent call last):
    mdl.errors.InvalidInputError: engine must be one of 'local', 'ray', got 'spark'
    """
    if engine not in ENGINES:
        raise InvalidInputError(f"engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}")
    if engine == "local":
        if address is not None:
            raise InvalidInputError("address is a Ray cluster's: give it with engine='ray'")
        return LocalEngine()
    return RayEngine(address, hub, hub_ids)


def _ray(address: str | None) -> Any:
    """The ray module, connected (to ``address``, or a local instance started now)."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError("engine='ray' needs Ray: pip install 'mdl[ray]'") from exc
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return ray


def _payload(block: Sequence[SourceModel], hub_ids: set[str]) -> list[tuple[str, str | dict[str, bytes]]]:
    """How each source of a block travels: ("id", model id) when it is in the hub, else ("files", bytes)."""
    return [("id", s.model_id) if s.model_id in hub_ids else ("files", s.to_bytes()) for s in block]


def _score_remote(payload: list[tuple[str, str | dict[str, bytes]]], hub: str | None, D: Any,
                  stage: StageOne) -> BlockScores:
    """A Ray task: load the block's sources (from the hub by id, or from their files' bytes, every file
    verified) and score them."""
    from mdl.transfer_learning.loading import load_sources

    ids = [value for how, value in payload if how == "id"]
    loaded = dict(zip(ids, load_sources(ids, hub))) if ids else {}
    block = [loaded[value] if how == "id" else SourceModel.from_bytes(value) for how, value in payload]
    return score_block(block, D, stage)
