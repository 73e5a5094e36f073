"""Building a zoo: recipes (the reference zoo's ship in ``mdl.registry``) and their schema, the paper's random
hyperparameter setups (:mod:`mdl.zoo.samplers`), network sources trained many at once
(:mod:`mdl.zoo.network_sources`), the batch builder that turns recipes into published models, the reference zoo's
build and tables, and importing the CHGNet foundation source (:mod:`mdl.zoo.foundation_import`)."""

from mdl.zoo.builder import BuildReport, build, plan
from mdl.zoo.recipes import Recipe, load_recipes, parse_recipe, registry_path
from mdl.zoo.reference import ReferenceReport, build_reference, reference_folders, reference_summary

__all__ = ["BuildReport", "Recipe", "ReferenceReport", "build", "build_reference", "load_recipes", "parse_recipe",
           "plan", "reference_folders", "reference_summary", "registry_path"]
