"""Writing a hub's catalogue: a static site of plain files that opens from disk, with nothing fetched.

``index.html`` (the overview: model sets, and the spread of test R² per family for every property),
``models.html`` with ``models.js`` (a searchable, sortable, filterable, paged table of every model),
``models/<id>.html`` (one page per model), ``plots/*.svg`` and ``assets/`` (one stylesheet, one script).
Everything shown comes from the hub's index and its model sets' records; a folder hub's networks add their
validation-loss curve from their ``config.json``, and no weights file is ever opened. Text from the hub is
escaped (Jinja2's autoescape in the pages, JSON in ``models.js``, DOM text in the table).

>>> print(write_catalogue("/srv/zoo", "catalogue/", progress=False))   # doctest: +SKIP
catalogue of 544 models in 9 model sets written to catalogue/ (index.html) in 7.1 s, 2.9 MB
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from mdl.catalogue.curves import CURVE_FAMILIES, curve_svg, validation_curve
from mdl.catalogue.data import model_page, modelset_summaries, r2_by_property, table_records
from mdl.catalogue.plots import family_colours, overview_figure, property_figure
from mdl.config import VERSION
from mdl.errors import IntegrityError, InvalidInputError
from mdl.hub import Hub, open_hub
from mdl.hub.presence import require_models

__all__ = ["MARKER", "CatalogueReport", "write_catalogue"]

#: The file that marks a folder as a catalogue mdl wrote (so that writing again may replace it).
MARKER = ".mdl-catalogue"
_TABLE_COLUMNS = (("model_id", "model"), ("property", "property"), ("unit", "unit"), ("material", "material"),
                  ("family", "family"), ("descriptor", "descriptor"), ("r2", "test R²"), ("mae", "test MAE"),
                  ("n_train", "rows"), ("modelset", "model set"))
_FILTERS = (("material", "material"), ("family", "family"), ("property", "property"),
            ("descriptor", "descriptor"), ("modelset", "model set"))
_METRICS = {"mae": "MAE", "rmse": "RMSE", "r2": "R²", "pearson": "Pearson r", "spearman": "Spearman ρ"}


@dataclass(frozen=True)
class CatalogueReport:
    """What :func:`write_catalogue` wrote.

    Attributes
    ----------
    out : Path
        The site's folder (open ``out / "index.html"``).
    models, modelsets, curves : int
        Models (one page each), model sets, and networks whose page shows a validation-loss curve.
    seconds : float
        Time taken.
    bytes : int
        Size of everything written.

    Examples
    --------
    >>> print(CatalogueReport(Path("site"), 2, 1, 1, 0.5, 3_000_000))
    catalogue of 2 models in 1 model sets written to site (index.html) in 0.5 s, 3.0 MB
    """

    out: Path
    models: int
    modelsets: int
    curves: int
    seconds: float
    bytes: int

    def __str__(self) -> str:
        return (f"catalogue of {self.models:,} models in {self.modelsets} model sets written to {self.out} "
                f"(index.html) in {self.seconds:.1f} s, {self.bytes / 1e6:.1f} MB")


def write_catalogue(hub: str | Path | Hub | None, out: str | Path, *, progress: bool = True) -> CatalogueReport:
    """Write the static catalogue of a hub (a folder or a Hugging Face registry) into a folder.

    Parameters
    ----------
    hub : str, Path, Hub or None
        The hub (as :func:`~mdl.hub.open_hub` takes it; None for the default hub).
    out : str or Path
        The folder to write: new, empty, or a catalogue written before (replaced).
    progress : bool, default True
        Show a progress bar over the model pages.

    Returns
    -------
    CatalogueReport
        Where, how many pages, how long and how large.

    Raises
    ------
    InvalidInputError
        When ``out`` is a file, or a folder holding other files than an earlier catalogue.
    HubNotFoundError, EmptyHubError
        When the hub does not exist or holds no model.

    Examples
    --------
    >>> write_catalogue("/nonexistent/zoo", "/tmp/site")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    mdl.errors.HubNotFoundError: hub /nonexistent/zoo does not exist (nothing was created); fill it with ...
    """
    start = time.perf_counter()
    hub = open_hub(hub)
    index = require_models(hub).reset_index(drop=True)
    out = _prepare(Path(out))
    (out / MARKER).write_text(f"written by mdl {VERSION} from {hub.address}\n", encoding="utf-8")
    metas = {str(name): hub.modelset_meta(str(name)) for name in sorted(index["modelset"].unique())}
    context = {"hub": hub.address, "n_models": len(index), "n_modelsets": len(metas), "version": VERSION}
    env = _environment()

    assets = resources.files("mdl.catalogue") / "assets"
    (out / "assets").mkdir()
    for name in ("catalogue.css", "table.js"):
        (out / "assets" / name).write_bytes((assets / name).read_bytes())
    records = json.dumps(table_records(index), separators=(",", ":"), allow_nan=False)
    (out / "models.js").write_text(f"window.MDL_CATALOGUE = {records};\n", encoding="utf-8")

    plots = _write_plots(index, out / "plots")
    families = index["family"].value_counts()
    overview = env.get_template("overview.html").render(
        root="", **context, modelsets=modelset_summaries(index, metas), **plots,
        families={str(f): int(families[f]) for f in sorted(families.index)},
        properties=sorted({p["property"] for p in plots["property_plots"]}),
        materials=sorted(index["material"].unique()))
    (out / "index.html").write_text(overview, encoding="utf-8")
    table = env.get_template("models.html").render(root="", **context, columns=_TABLE_COLUMNS, filters=_FILTERS)
    (out / "models.html").write_text(table, encoding="utf-8")

    template = env.get_template("model.html")
    (out / "models").mkdir()
    curves = 0
    for _, row in tqdm(index.iterrows(), total=len(index), desc="model pages", unit="page", disable=not progress):
        page = model_page(row, metas[str(row["modelset"])], hub.address)
        curve, note = _curve(hub, row)
        curves += curve is not None
        html = template.render(root="../", **context, **page, curve=curve, curve_note=note, metric_names=_METRICS,
                               per_property_metrics=[m for m in _METRICS if any(
                                   m in scores for scores in page["per_property"].values())])
        (out / "models" / f"{row['model_id']}.html").write_text(html, encoding="utf-8")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return CatalogueReport(out, len(index), len(metas), curves, time.perf_counter() - start, size)


def _prepare(out: Path) -> Path:
    """``out`` made ready: created, or emptied when it holds an earlier catalogue; refused otherwise."""
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"--out {out} is a file; give a folder for the catalogue")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise InvalidInputError(f"--out {out} holds other files; give a new or empty folder (or one an "
                                    "earlier `mdl hub catalogue` wrote, which is replaced)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("mdl.catalogue", "templates"), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _write_plots(index: pd.DataFrame, folder: Path) -> dict[str, Any]:
    """The overview figure and one figure per property as SVG files; what the overview page links."""
    import matplotlib

    folder.mkdir()
    scores = r2_by_property(index)
    colours = family_colours(list(index["family"]))
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mdl-catalogue"}):
        overview_figure(scores, colours).savefig(folder / "all-properties.svg", metadata={"Date": None})
        listed = []
        for i, prop in enumerate(sorted(scores["property"].unique())):
            name = f"property-{i:03d}.svg"
            property_figure(scores, prop, colours).savefig(folder / name, metadata={"Date": None})
            listed.append({"property": prop, "file": name, "models": int((scores["property"] == prop).sum())})
    return {"overview_plot": "all-properties.svg", "property_plots": listed}


def _curve(hub: Hub, row: pd.Series) -> tuple[str | None, str | None]:
    """A network's validation-loss curve as SVG, or why the page shows none (None for other families)."""
    if row["family"] not in CURVE_FAMILIES:
        return None, None
    if hub.kind != "local":
        return None, (f"Not shown for a Hugging Face registry: the curve is in the model's config.json, which "
                      f"the catalogue does not download (`mdl info {row['model_id']} --hub {hub.address}` "
                      f"lists the files; `mdl pull` fetches them).")
    try:
        losses = validation_curve(hub, row)
    except IntegrityError as exc:
        return None, f"Not shown: {exc}"
    if not losses:
        return None, "This model's card records no validation loss."
    from markupsafe import Markup

    return Markup(curve_svg(losses)), None
