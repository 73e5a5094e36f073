"""A browsable catalogue of any hub: a static site (plain files, no server, nothing fetched) with an
overview of the model sets and the spread of their test R², a searchable table of every model, and one
page per model. ``mdl hub catalogue --hub HUB --out DIR`` on the command line.

>>> report = write_catalogue("hf://mdl-zoo/registry", "catalogue/")   # doctest: +SKIP
"""

from mdl.lazy import lazy_names

__all__ = ["CatalogueReport", "write_catalogue"]

#: Loaded on first use: the site needs matplotlib and jinja2, which reading a model's card does not.
__getattr__, __dir__ = lazy_names(__name__, {name: "mdl.catalogue.site" for name in __all__})
