"""The zoo: recipes and the batch builder that turns them into published models."""

from mdl.zoo.builder import BuildReport, build, plan
from mdl.zoo.recipes import Recipe, load_recipes, parse_recipe

__all__ = ["BuildReport", "Recipe", "build", "load_recipes", "parse_recipe", "plan"]
