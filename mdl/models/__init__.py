"""Source-model families, their training (one by one, or many at once as packed networks) and safe persistence."""

from mdl.models.metrics import regression_metrics
from mdl.models.nn import NeuralNetRegressor
from mdl.models.source import FAMILIES, SourceModel
from mdl.models.train import make_estimator, train_source

__all__ = ["FAMILIES", "NeuralNetRegressor", "SourceModel", "make_estimator", "regression_metrics", "train_source"]
