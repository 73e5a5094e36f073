"""The API pages name objects by their public path (``::: mdl.screen``); this mkdocs hook points
mkdocstrings at where each is defined, found by importing it, and keeps the public path as its heading.

mkdocstrings reads source statically and cannot follow the names ``mdl`` loads on first use (``mdl.screen``,
``mdl.SourceModel``...), nor should a page name a module a refactoring may move: the public path is the one
users import, and where it lives today is looked up at each build.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

DIRECTIVE = re.compile(r"^::: (?P<path>mdl(?:\.\w+)*)[ \t]*\n(?P<options>    options:[ \t]*\n)?", re.M)


def find(path: str) -> Any:
    """The object at a public dotted path: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ModuleNotFoundError(path)


def home(path: str) -> str:
    """Where the object at ``path`` is defined (``module.qualname``), or ``path`` for a module."""
    obj = find(path)
    return path if inspect.ismodule(obj) else f"{obj.__module__}.{obj.__qualname__}"


def rewrite(markdown: str) -> str:
    """Each ``::: public.path`` defined elsewhere becomes ``::: its.home`` headed by the public path."""
    def point(match: re.Match) -> str:
        path = match["path"]
        target = home(path)
        if target == path:
            return match[0]
        return f"::: {target}\n    options:\n      heading: {path}\n"

    return DIRECTIVE.sub(point, markdown)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001  (mkdocs' hook signature)
    """mkdocs hook: rewrite the directives of the API pages."""
    return rewrite(markdown) if page.file.src_uri.startswith("api/") else markdown
