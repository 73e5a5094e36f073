"""The catalogue's figures: the spread of test R² per family for one property, and for every property
side by side (matplotlib, saved as static SVG; no script is needed to view them).

>>> scores = pd.DataFrame({"property": ["gap"] * 3, "unit": ["eV"] * 3, "family": ["nn", "rf", "rf"],
...                        "model_id": ["a", "b", "c"], "r2": [0.9, 0.7, 0.8]})
>>> property_figure(scores, "gap").axes[0].get_xlabel()
'test R²'
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["FLOOR", "family_colours", "overview_figure", "property_figure"]

#: R² below this is drawn at it (a model worse than the mean by far would squash every other one)
FLOOR = -1.0
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def family_colours(families: list[str]) -> dict[str, str]:
    """One colour per family, the same in every figure of a catalogue.

    Parameters
    ----------
    families : list of str
        Every family of the hub.

    Returns
    -------
    dict of str to str
        Family → hex colour, in sorted order of the families.

    Examples
    --------
    >>> family_colours(["rf", "nn"])
    {'nn': '#1f77b4', 'rf': '#ff7f0e'}
    """
    return {f: _PALETTE[i % len(_PALETTE)] for i, f in enumerate(sorted(set(families)))}


def property_figure(scores: pd.DataFrame, prop: str, colours: dict[str, str] | None = None) -> Figure:
    """The test R² of one property's models, one box (quartiles, median, range) and its models as dots per family.

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`~mdl.catalogue.data.r2_by_property`'s table.
    prop : str
        The property.
    colours : dict, optional
        Family → colour (default: :func:`family_colours` of these families).

    Returns
    -------
    matplotlib.figure.Figure
        One axis: families on the y axis (from the top down), R² on the x axis (below :data:`FLOOR` drawn at it).

    Examples
    --------
    >>> scores = pd.DataFrame({"property": ["gap"] * 2, "unit": ["eV"] * 2, "family": ["nn", "rf"],
    ...                        "model_id": ["a", "b"], "r2": [0.9, -5.0]})
    >>> ax = property_figure(scores, "gap").axes[0]
    >>> [t.get_text() for t in ax.get_yticklabels()], bool(ax.get_xlim()[0] <= FLOOR)
    (['nn (1)', 'rf (1)'], True)
    """
    rows = scores[scores["property"] == prop]
    families = sorted(rows["family"].unique())
    colours = colours or family_colours(families)
    fig = Figure(figsize=(6.0, 0.5 * len(families) + 1.3))
    ax = fig.add_subplot()
    data = [np.maximum(rows.loc[rows["family"] == f, "r2"].to_numpy(), FLOOR) for f in families]
    rng = np.random.default_rng(0)
    for i, (family, values) in enumerate(zip(families, data), start=1):  # a box: quartiles, median, whiskers
        low, q1, median, q3, high = np.percentile(values, [0, 25, 50, 75, 100])
        ax.hlines(i, low, high, color=colours[family], lw=1)
        ax.add_patch(Rectangle((q1, i - 0.27), q3 - q1, 0.54, facecolor=colours[family], alpha=0.35,
                               edgecolor=colours[family]))
        ax.vlines(median, i - 0.27, i + 0.27, color="black", lw=1.5)
        ax.scatter(values, i + rng.uniform(-0.18, 0.18, len(values)), s=9, color=colours[family], zorder=3)
    ax.set_yticks(range(1, len(families) + 1), [f"{f} ({len(v)})" for f, v in zip(families, data)])
    unit = ", ".join(sorted({u for u in rows["unit"] if u}))
    ax.set_title(f"{prop}" + (f" ({unit})" if unit else ""), fontsize=10)
    ax.set_ylim(len(families) + 0.6, 0.4)  # the first family at the top, as in the overview
    ax.set_xlabel("test R²")
    ax.set_xlim(right=max(1.0, ax.get_xlim()[1]))
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def overview_figure(scores: pd.DataFrame, colours: dict[str, str] | None = None) -> Figure:
    """Every property side by side: per property one row, per family its range of test R² and its median.

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`~mdl.catalogue.data.r2_by_property`'s table.
    colours : dict, optional
        Family → colour (default: :func:`family_colours` of every family).

    Returns
    -------
    matplotlib.figure.Figure
        One axis: properties on the y axis (sorted from the top down), R² on the x axis, a legend of the families.

    Examples
    --------
    >>> scores = pd.DataFrame({"property": ["a", "b", "b"], "unit": [""] * 3, "family": ["nn", "rf", "rf"],
    ...                        "model_id": ["x", "y", "z"], "r2": [0.9, 0.6, 0.8]})
    >>> ax = overview_figure(scores).axes[0]
    >>> [t.get_text() for t in ax.get_yticklabels()], [t.get_text() for t in ax.get_legend().get_texts()]
    (['b', 'a'], ['nn', 'rf'])
    """
    properties = sorted(scores["property"].unique(), reverse=True)  # the first at the top
    families = sorted(scores["family"].unique())
    colours = colours or family_colours(families)
    fig = Figure(figsize=(8.0, 0.32 * len(properties) + 1.6))
    ax = fig.add_subplot()
    step = 0.7 / max(len(families), 1)
    grouped = {key: np.maximum(group["r2"].to_numpy(), FLOOR)
               for key, group in scores.groupby(["property", "family"], sort=False)}
    for y, prop in enumerate(properties):
        for j, family in enumerate(families):
            values = grouped.get((prop, family))
            if values is None:
                continue
            offset = y - 0.35 + step * (j + 0.5)
            ax.hlines(offset, values.min(), values.max(), color=colours[family], lw=2)
            ax.plot([np.median(values)], [offset], "o", ms=4, color=colours[family],
                    label=family if family not in ax.get_legend_handles_labels()[1] else None)
    ax.set_yticks(range(len(properties)), properties, fontsize=8)
    ax.set_ylim(-0.6, len(properties) - 0.4)
    ax.set_xlabel(f"test R² of each family's models (range and median; below {FLOOR:g} drawn at {FLOOR:g})")
    ax.grid(axis="x", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=labels.__getitem__)
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower left", fontsize=8,
              ncols=min(len(labels), 6), bbox_to_anchor=(0, 1.0), frameon=False)
    fig.tight_layout()
    return fig
