"""The packages, which pyproject.toml alone cannot say: every package under mdl/, found as it grows, and the
zoo's recipes, kept at the top of the repository in registry/, installed as the package ``mdl.registry``
(its folders as data packages), where :func:`mdl.zoo.recipes.registry_path` finds them with
importlib.resources in a wheel and in an editable install alike. Everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

setup(packages=[*find_namespace_packages(include=["mdl", "mdl.*"]), "mdl.registry",
                *(f"mdl.registry.{name}" for name in find_namespace_packages(where="registry"))],
      package_dir={"mdl.registry": "registry"})
