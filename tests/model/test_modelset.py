"""Two models, one engine: the service loads every manifest in MODEL_DIR, one per role, and the
engine's columnar terms give each model exactly what its own single-patient path gives."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from riskservice.core.engine import engine_for
from riskservice.core.inputs import from_records
from riskservice.model import ModelLoadError, load_models
from riskservice.model.modelset import as_model_set

RNG = np.random.default_rng(20)


def _patients(n=300):
    out = []
    for _ in range(n):
        p = {"age": float(RNG.uniform(20, 85)), "sex": str(RNG.choice(["female", "male"]))}
        for key, lo, hi in (("bmi", 18, 45), ("waist", 65, 140), ("height", 150, 195), ("hdl_cholesterol", 25, 90),
                            ("triglycerides", 40, 400), ("hba1c", 4.5, 6.4), ("sleep_hours_per_night", 4, 10)):
            if RNG.random() < 0.7:
                p[key] = round(float(RNG.uniform(lo, hi)), 1)
        for key in ("hypertension", "fasting"):
            if RNG.random() < 0.7:
                p[key] = bool(RNG.random() < 0.5)
        if RNG.random() < 0.7:
            p["ethnicity"] = str(RNG.choice(["europid", "asian", "south_asian", "african", "hispanic", "other",
                                             "middle_eastern"]))
        out.append(p)
    return out


def test_both_models_load_from_one_directory_each_with_its_role(two_models, models):
    assert two_models.insulin_resistance.role == "insulin_resistance" and not two_models.absent
    assert two_models.dysglycaemia.model_id == "nhanes1718_dysglycaemia_logreg"
    # the shipped directory: the dysglycaemia manifest has no role (written before roles): it is inferred
    assert models.dysglycaemia is not None
    if models.insulin_resistance is None:
        assert "not installed" in models.absent["insulin_resistance"]


def test_the_engine_gives_each_model_what_its_single_patient_path_gives(kb, two_models):
    engine = engine_for(kb, two_models)
    patients = _patients()
    ev = engine.evaluate(from_records(patients, engine.cx))
    assert ev.ok.all()
    ir = np.array([two_models.insulin_resistance.predict_one(p)["probability"] for p in patients])
    dys = np.array([two_models.dysglycaemia.predict_one(p)["probability"] for p in patients])
    np.testing.assert_allclose(ev.probability, ir, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ev.dysglycaemia_probability[ev.dysglycaemia_withheld < 0],
                               dys[ev.dysglycaemia_withheld < 0], rtol=1e-12, atol=1e-15)
    assert (ev.dysglycaemia_withheld == 0).sum() > 10          # HbA1c >= 5.7: established, withheld
    assert as_model_set(two_models) is two_models and as_model_set(None) is None


def _manifest(directory, stem):
    return directory / f"{stem}.manifest.json"


def test_two_manifests_of_one_role_or_an_unknown_role_are_refused(two_model_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(two_model_dir, target)
    (ir,) = target.glob("test_fixture_*.manifest.json")
    doc = json.loads(ir.read_text())
    doc["role"] = "dysglycaemia"
    ir.write_text(json.dumps(doc))
    with pytest.raises(ModelLoadError, match="two dysglycaemia model manifests"):
        load_models(target)
    doc["role"] = "happiness"
    ir.write_text(json.dumps(doc))
    with pytest.raises(ModelLoadError, match="role 'happiness'"):
        load_models(target)
    with pytest.raises(ModelLoadError, match="no model manifest"):
        load_models(tmp_path / "empty")
