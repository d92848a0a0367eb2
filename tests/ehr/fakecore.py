"""A stand-in for the core's scoring object, used only until the real core is merged."""
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

    def drug_class_for(self, name_or_atc: str):
        key = name_or_atc.strip()
        for cls in self.CLASSES.values():
            if key.lower() in cls["names"] or any(key.upper().startswith(p) for p in cls["atc_prefixes"]):
                return {k: v for k, v in cls.items() if k != "names"}
        return None


class FakeCore:
    knowledge = FakeKnowledge()

    def score(self, payload: dict, audience: str = "clinician") -> dict:
        points = 0
        contributions = []
        if payload.get("bmi", 0) >= 30:
            points += 3
            contributions.append({"factor": "bmi", "label": "BMI", "points": 3, "band": "obese",
                                  "mechanisms": ["ectopic_fat"]})
        if payload.get("family_history_diabetes") == "first_degree":
            points += 2
            contributions.append({"factor": "family_history_diabetes", "label": "Family history of diabetes",
                                  "points": 2, "band": "first_degree", "mechanisms": ["genetic"]})
        if payload.get("medications"):
            points += 2
            contributions.append({"factor": "medications", "label": "Medications", "points": 2, "band": "yes",
                                  "mechanisms": ["hepatic_gluconeogenesis"]})
        band = "low" if points < 3 else "moderate" if points < 5 else "high" if points < 7 else "very_high"
        return {
            "rules": {"points": points, "max_points": 10, "band": band, "contributions": contributions},
            "indices": {"homa_ir": {"value": 4.7, "cutoff": 2.5, "elevated": True, "interpretation": "high"}}
            if "fasting_insulin" in payload else {},
            "established": [],
            "mechanisms": [{"id": "ectopic_fat", "name": "Ectopic fat", "weight": 0.6, "factors": ["bmi"],
                            "chain": ["fat", "DAG", "PKC"], "explanation": "Liver and muscle fat impair insulin signalling."}],
            "missing": [{"factor": "waist", "label": "Waist circumference", "max_points": 2}]
            if "waist" not in payload else [],
            "assumed": [], "warnings": [], "references": [],
            "disclaimer": "Decision support only; not a diagnosis.",
            "model": None,
            "meta": {"service_version": "0.0.0-test", "ruleset_version": "test", "ruleset_sha256": "0" * 64,
                     "request_id": "req-1"},
        }
