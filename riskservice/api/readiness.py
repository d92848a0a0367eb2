"""Readiness: knowledge loaded and verified, model loaded and verified (or deliberately off),
and one known patient scored end to end. Checked once at start-up, after the loaders'
own verification (schema, sha256, scikit-learn version, self-check) has passed.
"""
from __future__ import annotations

from riskservice.core.errors import UnapprovedKnowledge

# The README's acceptance patient: every part of the pipeline (rules, indices, established
# scores, mechanisms, model, narrative) runs on it.
PROBE = {"age": 52, "sex": "male", "bmi": 31.2, "waist": 104, "mvpa_minutes_per_week": 30,
         "family_history_diabetes": "first_degree", "hs_crp": 4.1, "medications": ["prednisolone"],
         "fasting": True, "fasting_glucose": 104, "fasting_glucose_unit": "mg/dL", "fasting_insulin": 14,
         "fasting_insulin_unit": "uU/mL", "hs_crp_unit": "mg/L", "triglycerides": 180, "hdl_cholesterol": 38}
# A patient without labs: nothing is measured or established, so each loaded model must give its probability.
PROBE_NO_LABS = {"age": 52, "sex": "male", "bmi": 31.2, "waist": 104, "hypertension": True}


def check(scorer, model_enabled: bool) -> dict:
    """{"ready": bool, "reasons": [...], "knowledge": {...}, "model": {...}}."""
    kb, model = scorer.knowledge, scorer.model
    reasons, fatal = [], []
    knowledge = {"ruleset_version": kb.version, "ruleset_sha256": kb.sha256, "state": "loaded"}
    if model is not None:
        model_state = {"state": "loaded",
                       "models": {m.role: {"model_id": m.model_id, "version": m.version, "sha256": m.sha256}
                                  for m in model},
                       "absent": dict(model.absent)}
    elif model_enabled:
        model_state = {"state": "missing"}
        reasons.append("the model is enabled but not loaded")
    else:
        model_state = {"state": "off", "note": "RISKSERVICE_MODEL=off: rules and indices only, model is null"}
    try:
        scorer.score(dict(PROBE), request_id="readiness-probe")
        if model is not None:
            result = scorer.score(dict(PROBE_NO_LABS), request_id="readiness-probe", view="standard")
            shown = {"insulin_resistance": (result.get("model") or {}).get("probability"),
                     "dysglycaemia": (result.get("dysglycaemia") or {}).get("probability")}
            for m in model:
                if shown[m.role] is None:
                    fatal.append(f"the {m.role} model is loaded but the probe result has no probability from it")
    except UnapprovedKnowledge as exc:
        reasons.append(f"REQUIRE_APPROVED is on and {len(exc.entries)} knowledge entries used by a "
                       "typical patient are not approved by clinical review")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready, with its type
        fatal.append(f"scoring the probe patient failed: {type(exc).__name__}")
    reasons += fatal
    # "fatal": knowledge or model that cannot score a typical patient; the app refuses to start
    # rather than serve it (REQUIRE_APPROVED is an operator policy: 503s, but it starts).
    return {"ready": not reasons, "reasons": reasons, "fatal": fatal, "knowledge": knowledge, "model": model_state}
