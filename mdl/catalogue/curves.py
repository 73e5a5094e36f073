"""A network's validation loss per epoch, as its card records it (``config.json``: ``info.training``), and
that curve drawn as a small inline SVG.

Only a folder hub's curves are read: the curve is in ``config.json`` beside the weights, and a catalogue
of a Hugging Face registry downloads nothing but the index and the model-set records. Each
``config.json`` read is bounded in size and depth and checked against its sha256 first.

>>> print(curve_svg([1.0, 0.5, 0.25])[:4])
<svg
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mdl.hub.protocol import Hub
from mdl.hub.index_checks import check_files, check_path, confined
from mdl.store.files import read_bytes
from mdl.store.parse import load_json

__all__ = ["CURVE_FAMILIES", "curve_svg", "validation_curve"]

#: the families whose card records a validation loss per epoch
CURVE_FAMILIES = ("nn", "gnn")
CONFIG = "config.json"


def validation_curve(hub: Hub, row: pd.Series) -> list[float] | None:
    """A network's validation loss per epoch, read from its verified ``config.json`` in a folder hub.

    Parameters
    ----------
    hub : Hub
        The hub; only a folder hub (``kind == "local"``) is read.
    row : pandas.Series
        The model's index row.

    Returns
    -------
    list of float or None
        The losses, None for another family, a registry, or a card without a curve.

    Raises
    ------
    IntegrityError
        Naming the model, when its ``config.json`` is unlisted, missing, leads outside the hub, does not match
        its sha256 or is not bounded JSON (a :class:`~mdl.errors.ModelFormatError`).

    Examples
    --------
    >>> from mdl.hub import open_hub
    >>> validation_curve(open_hub("/tmp/zoo"), pd.Series({"family": "rf"})) is None
    True
    """
    if hub.kind != "local" or row["family"] not in CURVE_FAMILIES:
        return None
    model_id = str(row["model_id"])
    root = Path(hub.address)
    path = check_path(model_id, row["path"], f"{row['modelset']}/models/{model_id}")
    folder = confined(root, root / path, model_id, "path")
    data = read_bytes(folder, CONFIG, check_files(model_id, row["files"]), model=model_id)
    card = load_json(data, model=model_id, file=CONFIG)
    info = card.get("info") if isinstance(card, dict) else None
    training = info.get("training") if isinstance(info, dict) else None
    losses = training.get("validation_loss") if isinstance(training, dict) else None
    if not isinstance(losses, list) or not losses:
        return None
    return [float(v) for v in losses if isinstance(v, (int, float))]


def curve_svg(losses: Sequence[float], width: int = 480, height: int = 200) -> str:
    """A validation-loss curve as an SVG element: the loss on a log axis against the epoch, the best epoch marked.

    Parameters
    ----------
    losses : sequence of float
        The loss per epoch (positive).
    width, height : int
        The drawing's size in pixels.

    Returns
    -------
    str
        ``<svg …>…</svg>``: numbers only, no text from the hub.

    Examples
    --------
    >>> svg = curve_svg([4.0, 2.0, 1.0, 2.0])
    >>> "best epoch 3 of 4" in svg and svg.count("<circle") == 1
    True
    """
    import numpy as np

    values = np.log10(np.clip(np.asarray(losses, dtype=float), 1e-12, None))
    left, right, top, bottom = 56, 10, 10, 34
    low, high = float(values.min()), float(values.max())
    span = high - low or 1.0
    steps = max(len(values) - 1, 1)
    xs = left + (width - left - right) * np.arange(len(values)) / steps
    ys = top + (height - top - bottom) * (high - values) / span
    best = int(np.argmin(values))
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    axis = f"M{left},{top} V{height - bottom} H{width - right}"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="curve" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="validation loss per epoch">'
            f'<path d="{axis}" fill="none" stroke="#888"/>'
            f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>'
            f'<circle cx="{xs[best]:.1f}" cy="{ys[best]:.1f}" r="3.5" fill="#d62728"/>'
            f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{10 ** high:.3g}</text>'
            f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">{10 ** low:.3g}</text>'
            f'<text x="{left}" y="{height - 14}">epoch 1</text>'
            f'<text x="{width - right}" y="{height - 14}" text-anchor="end">{len(values)}</text>'
            f'<text x="{(left + width) / 2:.0f}" y="{height - 2}" text-anchor="middle">validation loss (log scale), '
            f'best epoch {best + 1} of {len(values)}</text></svg>')
