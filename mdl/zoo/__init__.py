"""The zoo: recipes (the reference zoo's ship in ``mdl.registry``), the batch builder that turns them into
published models, and the reference zoo's build and tables."""

from mdl.zoo.builder import BuildReport, build, plan
from mdl.zoo.recipes import Recipe, load_recipes, parse_recipe, registry_path
from mdl.zoo.reference import ReferenceReport, build_reference, reference_folders, reference_summary

__all__ = ["BuildReport", "Recipe", "ReferenceReport", "build", "build_reference", "load_recipes", "parse_recipe",
           "plan", "reference_folders", "reference_summary", "registry_path"]
