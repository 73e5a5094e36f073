"""A browsable catalogue of any hub: a static site (plain files, no server, nothing fetched) with an
overview of the model sets and the spread of their test R², a searchable table of every model, and one
page per model. ``mdl hub catalogue --hub HUB --out DIR`` on the command line.

>>> report = write_catalogue("hf://mdl-zoo/registry", "catalogue/")   # doctest: +SKIP
"""

from __future__ import annotations

from mdl.catalogue.site import CatalogueReport, write_catalogue

__all__ = ["CatalogueReport", "write_catalogue"]
