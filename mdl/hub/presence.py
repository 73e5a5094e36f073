"""A hub that is missing, empty, or lacks the model asked for: errors that say what to do about it.

Reading a hub never creates one: a local folder that does not exist is a
:class:`~mdl.errors.HubNotFoundError`, a hub without models an :class:`~mdl.errors.EmptyHubError`, and
both say how to fill a hub. An id the hub does not hold is a :class:`~mdl.errors.ModelNotFoundError`
suggesting the nearest ids it does hold.

>>> str(model_not_found("qm9-gap-nn-00", ["qm9-gap-nn-0000", "qm9-homo-rf-0000"], "/srv/zoo"))
"no model 'qm9-gap-nn-00' in hub /srv/zoo; did you mean qm9-gap-nn-0000?"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from mdl.errors import EmptyHubError, HubError, HubNotFoundError, ModelNotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from mdl.hub.protocol import Hub

__all__ = ["empty_hub", "fill_advice", "hub_not_found", "model_not_found", "near_ids", "require_models"]

#: The most near ids an unknown model id's error suggests.
SUGGESTIONS = 3


def fill_advice(address: str) -> str:
    """How to put models into the hub at ``address``.

    Parameters
    ----------
    address : str
        The hub's address (a folder, or ``hf://org/registry``).

    Returns
    -------
    str
        The three ways: the starter zoo, the reference zoo, a mirror of a published zoo.

    Examples
    --------
    >>> print(fill_advice("/srv/zoo"))
    fill it with `mdl zoo build starter --hub /srv/zoo` (the starter zoo, 21 models in about 2 minutes; `MDL_HUB=/srv/zoo make demo` in a clone builds it too), `mdl zoo build --reference --hub /srv/zoo` (the reference zoo, about 4,200 models in under an hour on 2 cores), or `mdl mirror <published hub, e.g. hf://org/registry> /srv/zoo` (a published zoo); or point hub= / --hub / MDL_HUB at a hub that has models
    """
    return (f"fill it with `mdl zoo build starter --hub {address}` (the starter zoo, 21 models in about 2 "
            f"minutes; `MDL_HUB={address} make demo` in a clone builds it too), `mdl zoo build --reference --hub "
            f"{address}` (the reference zoo, about 4,200 models in under an hour on 2 cores), or `mdl mirror "
            f"<published hub, e.g. hf://org/registry> {address}` (a published zoo); or point hub= / --hub / MDL_HUB "
            "at a hub that has models")


def hub_not_found(address: str) -> HubNotFoundError:
    """The error for a local hub folder that does not exist.

    Parameters
    ----------
    address : str
        The folder.

    Returns
    -------
    HubNotFoundError
        Naming the folder and saying how to create and fill it.

    Examples
    --------
    >>> str(hub_not_found("/srv/nohub")).split(";")[0]
    'hub /srv/nohub does not exist (nothing was created)'
    """
    return HubNotFoundError(f"hub {address} does not exist (nothing was created); {fill_advice(address)}",
                            hub=address)


def empty_hub(address: str) -> EmptyHubError:
    """The error for a hub that holds no model.

    Parameters
    ----------
    address : str
        The hub's address.

    Returns
    -------
    EmptyHubError
        Naming the hub and saying how to fill it.

    Examples
    --------
    >>> str(empty_hub("/srv/zoo")).split(";")[0]
    'hub /srv/zoo is empty: it holds no model yet'
    """
    return EmptyHubError(f"hub {address} is empty: it holds no model yet; {fill_advice(address)}", hub=address)


def near_ids(model_id: str, ids: Iterable[str], n: int = SUGGESTIONS) -> list[str]:
    """The ids most like ``model_id`` (a mistyped id's likely meaning), best first.

    Parameters
    ----------
    model_id : str
        The id asked for.
    ids : iterable of str
        The ids there are.
    n : int
        The most returned.

    Returns
    -------
    list of str
        Up to ``n`` ids at least 60% alike (:func:`difflib.get_close_matches`): those that begin with
        ``model_id`` (a truncated id) first, then the most alike, equals in alphabetical order.

    Examples
    --------
    >>> near_ids("qm9-gap-rf-000", ["qm9-gap-rf-0000", "qm9-gap-nn-0000", "tc-expt-en-0003"])
    ['qm9-gap-rf-0000', 'qm9-gap-nn-0000']
    >>> near_ids("m-nn-000", ["m-nn-0005", "m-nn-0004", "m-nn-0000"], n=2)
    ['m-nn-0000', 'm-nn-0004']
    """
    query = str(model_id)
    close = difflib.get_close_matches(query, list(ids), n=max(n, 20))
    ratio = {i: difflib.SequenceMatcher(None, query, i).ratio() for i in close}
    return sorted(close, key=lambda i: (not i.startswith(query), -ratio[i], i))[:n]


def model_not_found(model_id: str, ids: Iterable[str], address: str) -> HubError | ModelNotFoundError:
    """The error for an id the hub does not hold.

    Parameters
    ----------
    model_id : str
        The id asked for.
    ids : iterable of str
        The ids the hub holds.
    address : str
        The hub's address.

    Returns
    -------
    ModelNotFoundError or EmptyHubError
        Suggesting near ids; an :class:`~mdl.errors.EmptyHubError` when the hub holds none.

    Examples
    --------
    >>> type(model_not_found("qm9-gap-nn-0000", [], "/srv/zoo")).__name__
    'EmptyHubError'
    """
    ids = list(ids)
    if not ids:
        return empty_hub(address)
    return ModelNotFoundError(f"no model {model_id!r} in hub {address}", suggestions=near_ids(model_id, ids),
                              hub=address, model_id=model_id)


def require_models(hub: Hub) -> pd.DataFrame:
    """The index of a hub that exists and holds models.

    Parameters
    ----------
    hub : Hub
        The hub.

    Returns
    -------
    pandas.DataFrame
        Its index, with at least one row.

    Raises
    ------
    HubNotFoundError, RepositoryNotFoundError
        When the hub does not exist (nothing is created).
    EmptyHubError
        When it holds no model.

    Examples
    --------
    >>> from mdl.hub import open_hub
    >>> require_models(open_hub("/nonexistent/zoo"))
    Traceback (most recent call last):
    mdl.errors.HubNotFoundError: hub /nonexistent/zoo does not exist (nothing was created); fill it with `mdl zoo build starter --hub /nonexistent/zoo` (the starter zoo, 21 models in about 2 minutes; `MDL_HUB=/nonexistent/zoo make demo` in a clone builds it too), `mdl zoo build --reference --hub /nonexistent/zoo` (the reference zoo, about 4,200 models in under an hour on 2 cores), or `mdl mirror <published hub, e.g. hf://org/registry> /nonexistent/zoo` (a published zoo); or point hub= / --hub / MDL_HUB at a hub that has models
    """
    index = hub.index(missing_ok=False)
    if len(index) == 0:
        raise empty_hub(hub.address)
    return index
