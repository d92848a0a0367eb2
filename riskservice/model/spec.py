"""The two training names the ``riskservice train`` command needs at start-up.

Kept apart from :mod:`riskservice.model.train` so that building the CLI (every ``riskservice``
command, ``score`` included) does not import pandas, scikit-learn or the NHANES loader.
"""
from __future__ import annotations

DEFAULT_SEED = 20172018


class TrainingDataError(ValueError):
    """Bad user data or outcome expression (message says what is missing)."""
