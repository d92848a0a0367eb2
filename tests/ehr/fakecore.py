"""A stand-in with the real core's interface (``score(raw, request_id=None, audience=...)``, response shape of
riskservice.core.scoring), used by the adapter unit tests that must not depend on the rules'
exact points. End-to-end tests use the real app (see test_end_to_end.py)."""
from __future__ import annotations


class FakeKnowledge:
    CLASSES = {
        "glucocorticoids": {"id": "glucocorticoids", "name": "Systemic glucocorticoids",
                            "mechanisms": ["hepatic_gluconeogenesis"], "atc_prefixes": ["H02AB"],
                            "names": ["prednisolone", "prednisone"]},
        "atypical_antipsychotics": {"id": "atypical_antipsychotics", "name": "Atypical antipsychotics",
                                    "mechanisms": ["weight_gain"], "atc_prefixes": ["N05AH03", "N05AH04"],
                                    "names": ["olanzapine", "quetiapine"]},
        "thiazides": {"id": "thiazides", "name": "Thiazides", "mechanisms": ["hypokalaemia"],
                      "atc_prefixes": ["C03AA"], "names": ["hydrochlorothiazide"]},
    }
    mechanisms = {"hepatic_gluconeogenesis": {"name": "Hepatic gluconeogenesis"},
                  "weight_gain": {"name": "Weight gain"}, "ectopic_fat": {"name": "Ectopic fat"}}

    def drug_class_for(self, name_or_atc: str):
        key = name_or_atc.strip()
        for cls in self.CLASSES.values():
            if key.lower() in cls["names"] or any(key.upper().startswith(p) for p in cls["atc_prefixes"]):
                return cls
        return None


OUTCOME_TEXT = ("Insulin resistance: HOMA-IR above 3.51 (the 75th percentile of US adults without diabetes, "
                "NHANES 2015-2018)")
OUTCOME_SHORT = "HOMA-IR above 3.51 (75th percentile of US adults without diabetes)"


class FakeCore:
    knowledge = FakeKnowledge()

    def score(self, raw: dict, request_id=None, audience="clinician") -> dict:
        points = 0
        contributions = []
        if raw.get("bmi", 0) >= 30:
            points += 3
            contributions.append({"factor": "bmi", "label": "BMI", "points": 3, "band": "obese",
                                  "mechanisms": ["ectopic_fat"]})
        if raw.get("family_history_diabetes") == "first_degree":
            points += 2
            contributions.append({"factor": "family_history_diabetes", "label": "Family history of diabetes",
                                  "points": 2, "band": "first_degree", "mechanisms": ["genetic"]})
        if raw.get("medications"):
            points += 2
            contributions.append({"factor": "medications", "label": "Medications", "points": 2, "band": "yes",
                                  "mechanisms": ["hepatic_gluconeogenesis"]})
        band = "low" if points < 3 else "moderate" if points < 5 else "high" if points < 7 else "very_high"
        indices = {}
        if "fasting_insulin" in raw:
            indices["homa_ir"] = {"name": "HOMA-IR", "value": 4.7, "flagged": True,
                                  "cutoff": {"value": 2.5, "comparison": ">="}, "interpretation": "high"}
        missing = [] if "waist" in raw else [{"kind": "factor", "factor": "waist", "label": "Waist circumference",
                                              "input": "waist", "max_points": 2}]
        missing.append({"kind": "index", "index": "tyg", "name": "TyG index", "needs": ["triglycerides"]})
        return {
            "applicable": True, "leads": "risk_factor_estimate", "measured": None,
            "outcome": {"id": "insulin_resistance", "text": OUTCOME_TEXT, "short_text": OUTCOME_SHORT},
            "rules": {"points": points, "max_points": 10, "band": band, "contributions": contributions},
            "indices": indices,
            "established": {},
            "mechanisms": [{"rank": 1, "id": "ectopic_fat", "name": "Ectopic fat", "weight": 0.6,
                            "factors": [], "chain": ["fat", "DAG", "PKC"],
                            "explanation": "Liver and muscle fat impair insulin signalling."}],
            "model": None, "dysglycaemia": None,
            "missing": missing,
            "assumed": [], "warnings": [], "references": [],
            "disclaimer": "Decision support only; not a diagnosis.",
            "meta": {"service_version": "0.0.0-test", "ruleset_version": "test", "ruleset_sha256": "0" * 64,
                     "request_id": request_id},
        }
