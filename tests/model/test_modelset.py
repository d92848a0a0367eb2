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
            p["mvpa_minutes_per_week"] = float(RNG.choice([0.0, 60.0, 149.0, 150.0, 300.0]))
        if RNG.random() < 0.7:
            p["family_history_diabetes"] = str(RNG.choice(["none", "second_degree", "first_degree"]))
        if p["sex"] == "female" and RNG.random() < 0.7:
            p["gestational_diabetes"] = bool(RNG.random() < 0.3)
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


def test_labs_given_terms_count_only_the_labs_a_model_takes(kb, two_models):
    """A model that takes HDL and triglycerides: a patient who also gives HbA1c is in its "HDL and
    triglycerides given" pattern, in the engine and in the model's own single-patient path."""
    from riskservice.model import LoadedModel
    names = ["age", "hdl_cholesterol", "log_triglycerides", "labs_given_hdl", "labs_given_tg", "labs_given_hdl_tg"]
    small = LoadedModel(manifest={"model_id": "labs_test", "version": "0", "role": "insulin_resistance",
                                  "outcome": {"definition": "test"}, "terms": [{"name": n} for n in names]},
                        fill=[50, 50, 4.6, 0, 0, 0], mean=[50, 50, 4.6, 0, 0, 0], scale=[15, 15, 0.5, 1, 1, 1],
                        coef=[0.5, -0.3, 0.4, 0.1, 0.2, 0.7], intercept=-1.0, sha256="0" * 64)
    engine = engine_for(kb, as_model_set([small, two_models.dysglycaemia]))
    base = {"age": 50, "sex": "male", "hdl_cholesterol": 40, "triglycerides": 200, "fasting": True}
    patients = [base, dict(base, hba1c=6.0), dict(base, fasting=False), {"age": 50, "sex": "male", "hba1c": 6.0}]
    ev = engine.evaluate(from_records(patients, engine.cx))
    one = [small.predict_one(p)["probability"] for p in patients]
    np.testing.assert_allclose(ev.probability, one, rtol=1e-12)
    assert ev.probability[0] == pytest.approx(ev.probability[1], rel=1e-12)   # HbA1c is not one of its labs
    pattern = ev.model_terms[:, 3:]
    assert pattern.tolist() == [[0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 0, 0]]


def test_two_manifests_of_one_role_or_an_unknown_role_are_refused(two_model_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(two_model_dir, target)
    (ir,) = target.glob("nhanes1518_insulin_resistance_*.manifest.json")
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
