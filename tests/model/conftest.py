"""Fixtures for the model tests; `model` (the shipped model) comes from tests/conftest.py."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.paths import REPO

MODELS = REPO / "models"

ETHNICITIES = [None, "europid", "south_asian", "east_asian", "japanese", "african", "hispanic",
               "middle_eastern", "other"]


DYSGLYCAEMIA = "nhanes1718_dysglycaemia_logreg-1.0.0"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """The shipped dysglycaemia model alone in a directory: the artifact and training tests exercise one
    model's files (the insulin-resistance model's are tested in test_ir_model.py)."""
    d = tmp_path_factory.mktemp("dysglycaemia_model")
    for f in MODELS.glob(DYSGLYCAEMIA + ".*"):
        shutil.copy(f, d)
    shutil.copy(MODELS / "MODEL_CARD_dysglycaemia.md", d)
    return d


@pytest.fixture(scope="session")
def pipeline(models_dir):
    """The shipped scikit-learn Pipeline (verified joblib): the reference the served JSON must match."""
    from riskservice.model.sklearn_io import load_pipeline

    return load_pipeline(models_dir)[0]


@pytest.fixture()
def models_copy(tmp_path, models_dir) -> Path:
    dst = tmp_path / "models"
    shutil.copytree(models_dir, dst)
    return dst


@pytest.fixture(scope="session")
def make_patients():
    """Factory: make_patients(n, seed=..., p_missing=...) -> list of canonical dicts."""
    return random_patients


def random_patients(n: int, seed: int = 12345, p_missing: float = 0.25) -> list[dict]:
    """Random canonical patients, including missing values and some values outside the training range."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        height = float(rng.uniform(135, 205))
        weight = float(rng.uniform(35, 200))
        c = {
            "age": float(rng.uniform(15, 95)),
            "sex": str(rng.choice(["female", "male"])),
            "ethnicity": ETHNICITIES[int(rng.integers(len(ETHNICITIES)))],
            "bmi": float(rng.uniform(14, 70)),
            "waist": float(rng.uniform(55, 175)),
            "height": height,
            "weight": weight,
            "hdl_cholesterol": float(rng.uniform(10, 190)),
            "smoking": str(rng.choice(["never", "former", "current"])),
            "mvpa_minutes_per_week": float(rng.choice([0.0, 5.0, 10.0, 60.0, 300.0, 900.0])),
            "sedentary_hours_per_day": float(rng.uniform(0, 20)),
            "sleep_hours_per_night": float(rng.uniform(2, 14)),
            "hypertension": bool(rng.integers(2)),
        }
        for k in list(c):
            if k not in ("age", "sex") and rng.random() < p_missing:
                c[k] = None
        out.append(c)
    return out
