"""What would change it: the same engine, re-run with modifiable inputs changed.

A scenario changes only the patient's own modifiable inputs (weight or BMI by a percentage, waist,
activity, sitting, sleep, smoking, a medicine stopped on review); every other input stays as given.
The patient and all scenarios go through one engine evaluation (one row each), so a scenario's
numbers are exactly a fresh score of its changed inputs. Nothing here estimates an effect: the
answer is the model's cross-sectional association, and says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from riskservice.core import units
from riskservice.core.errors import ValidationProblem
from riskservice.core.fields import FIELD_BY_NAME, SMOKING

STATEMENT = ("These figures are the same model and points score recomputed with the changed inputs, every other "
             "input as given. They show an association seen across people in a cross-sectional survey, not the "
             "effect of making the change: they are not a promise of what the change will do for this patient.")
STATEMENT_PATIENT = ("These numbers come from the same calculation with the change put in. They show what is seen "
                     "across many people at one point in time, not what the change will do for you: they are not "
                     "a promise.")
#: The defaults of issue 23: BMI 5% lower, 150 min/week of moderate-to-vigorous activity, not smoking.
DEFAULT_WEIGHT_CHANGE_PERCENT = -5.0
DEFAULT_ACTIVITY_MIN_PER_WEEK = 150.0
MAX_SCENARIOS = 8
#: The inputs a scenario may set to a target value (with the unit keys of the numeric ones).
TARGET_FIELDS = ("waist", "mvpa_minutes_per_week", "sedentary_hours_per_day", "sleep_hours_per_night", "smoking")
CHANGE_KEYS = ("weight_change_percent", "medications_stop") + TARGET_FIELDS + tuple(
    f"{name}_unit" for name in TARGET_FIELDS if FIELD_BY_NAME[name].has_unit)
WEIGHT_CHANGE_LIMITS = (-50.0, 50.0)


@dataclass
class Scenario:
    id: str
    label: str
    changes: dict = field(default_factory=dict)


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _canonical(kb, raw: dict, name: str) -> float | None:
    """A numeric input of ``raw`` in its canonical unit (None when absent or not a valid number/unit)."""
    value, unit = raw.get(name), raw.get(f"{name}_unit") or units.canonical_unit(kb, name)
    if not _number(value) or unit not in units.accepted_units(kb, name):
        return None
    return float(units.to_canonical(kb, name, value, unit))


def default_scenarios(kb, raw: dict) -> list[Scenario]:
    """The issue's defaults that apply to this patient: weight (or BMI) 5% lower when given,
    150 min/week of activity when less was recorded, not smoking for a current smoker, and all of
    those together when more than one applies."""
    out = []
    if _number(raw.get("weight")) or _number(raw.get("bmi")):
        out.append(Scenario("weight", "BMI 5% lower (weight 5% lower, height as given)",
                            {"weight_change_percent": DEFAULT_WEIGHT_CHANGE_PERCENT}))
    mvpa = _canonical(kb, raw, "mvpa_minutes_per_week")
    if mvpa is not None and mvpa < DEFAULT_ACTIVITY_MIN_PER_WEEK:
        out.append(Scenario("activity", "150 minutes a week of moderate or vigorous activity",
                            {"mvpa_minutes_per_week": DEFAULT_ACTIVITY_MIN_PER_WEEK,
                             "mvpa_minutes_per_week_unit": units.canonical_unit(kb, "mvpa_minutes_per_week")}))
    if str(raw.get("smoking", "")).strip().lower() == "current":
        out.append(Scenario("smoking", "Not smoking (a former smoker)", {"smoking": "former"}))
    if len(out) > 1:
        together = {}
        for s in out:
            together.update(s.changes)
        out.append(Scenario("together", "All of these together", together))
    return out


def parse_scenarios(value) -> list[Scenario]:
    """The ``scenarios`` of a request: a list of ``{"id"?, "label"?, "changes": {...}}``; every
    problem is reported, by position, as a ValidationProblem."""
    problems: dict = {}
    if not isinstance(value, list) or not value:
        raise ValidationProblem({"scenarios": ["Must be a non-empty list of scenarios."]})
    if len(value) > MAX_SCENARIOS:
        raise ValidationProblem({"scenarios": [f"At most {MAX_SCENARIOS} scenarios per request."]})
    out = []
    for k, item in enumerate(value):
        where = f"scenarios[{k}]"
        if not isinstance(item, dict) or not isinstance(item.get("changes"), dict) or not item["changes"]:
            problems[where] = ["Must be an object with a non-empty 'changes' object."]
            continue
        unknown = sorted(set(item) - {"id", "label", "changes"})
        if unknown:
            problems[where] = [f"Unknown key(s): {', '.join(map(repr, unknown))}."]
        changes = item["changes"]
        for key, v in changes.items():
            at = f"{where}.changes.{key}"
            if key not in CHANGE_KEYS:
                problems[at] = [f"Not a change a scenario can make; one of: {', '.join(CHANGE_KEYS)}."]
            elif key == "weight_change_percent":
                lo, hi = WEIGHT_CHANGE_LIMITS
                if not _number(v) or not lo <= v <= hi or v == 0:
                    problems[at] = [f"Must be a number from {lo:g} to {hi:g}, not 0 (a percentage of weight or BMI)."]
            elif key == "medications_stop":
                if not isinstance(v, list) or not v or not all(isinstance(x, str) and x.strip() for x in v):
                    problems[at] = ["Must be a non-empty list of medication names from the patient's list."]
            elif key == "smoking":
                if v not in SMOKING:
                    problems[at] = [f"Must be one of: {', '.join(SMOKING)}."]
            elif key.endswith("_unit"):
                if not isinstance(v, str) or key[:-5] not in changes:
                    problems[at] = [f"A unit goes with a value for {key[:-5]!r} in the same scenario."]
            elif not _number(v):
                problems[at] = ["Must be a JSON number."]
        for key in ("id", "label"):
            if key in item and not (isinstance(item[key], str) and 0 < len(item[key]) <= 100):
                problems[f"{where}.{key}"] = ["Must be a string of 1 to 100 characters."]
        out.append(item)
    if problems:
        raise ValidationProblem(problems, title="Invalid scenarios")
    return [Scenario(item.get("id") or f"scenario_{k + 1}", item.get("label") or _label(item["changes"]),
                     dict(item["changes"])) for k, item in enumerate(out)]


def _label(changes: dict) -> str:
    parts = []
    for key, v in changes.items():
        if key == "weight_change_percent":
            parts.append(f"weight {v:+g}%")
        elif key == "medications_stop":
            parts.append("stop " + ", ".join(v))
        elif not key.endswith("_unit"):
            unit = changes.get(f"{key}_unit", "")
            parts.append(f"{key.replace('_', ' ')} {v}{(' ' + unit) if unit else ''}")
    return "; ".join(parts)


def apply(kb, raw: dict, scenario: Scenario) -> tuple[dict, list[dict], str | None]:
    """(changed inputs, what changed, why it does not apply or None)."""
    out = dict(raw)
    changed = []
    for key, v in scenario.changes.items():
        if key.endswith("_unit"):
            continue
        if key == "weight_change_percent":
            factor = 1.0 + v / 100.0
            scaled = [name for name in ("weight", "bmi") if _number(raw.get(name))]
            if not scaled:
                return out, changed, "weight and BMI were not given"
            for name in scaled:   # both when both are given: they must keep agreeing
                out[name] = raw[name] * factor
                changed.append({"field": name, "from": raw[name], "to": out[name], "unit": raw.get(f"{name}_unit")
                                or units.canonical_unit(kb, name)})
        elif key == "medications_stop":
            current = raw.get("medications")
            if not isinstance(current, list):
                return out, changed, "no medication list was given"
            stop = {m.strip().lower() for m in v}
            kept = [m for m in current if not (isinstance(m, str) and m.strip().lower() in stop)]
            if len(kept) == len(current):
                return out, changed, "none of these medicines is on the patient's list"
            out["medications"] = kept
            changed.append({"field": "medications", "from": current, "to": kept, "unit": None})
        else:
            unit_key = f"{key}_unit"
            before, before_unit = raw.get(key), raw.get(unit_key)
            out[key] = v
            if FIELD_BY_NAME[key].has_unit:
                out[unit_key] = scenario.changes.get(unit_key) or units.canonical_unit(kb, key)
                if out[unit_key] == (before_unit or units.canonical_unit(kb, key)) and before == v:
                    continue
            elif before == v:
                continue
            changed.append({"field": key, "from": before, "to": v,
                            "unit": out.get(unit_key) if FIELD_BY_NAME[key].has_unit else None})
    if not changed:
        return out, changed, "the inputs already meet this target"
    return out, changed, None


def _estimate(summary: dict) -> dict:
    """The numbers of a summary answer that a scenario compares."""
    if not summary.get("applicable"):
        return {"applicable": False, "points": None, "band": None, "probability": None}
    prob = summary.get("probability")
    out = {"applicable": True, "points": summary["points"], "band": summary["band"],
           "probability": prob.get("value") if isinstance(prob, dict) else prob}
    second = summary.get("dysglycaemia_probability")
    if isinstance(second, dict):
        out["dysglycaemia_probability"] = second.get("value")
    return out


def what_if(scorer, raw, scenarios: list[Scenario] | None = None, request_id=None, audience="clinician") -> dict:
    """The patient's estimate and each scenario's, from one engine evaluation of all of them."""
    if not isinstance(raw, dict):
        raise ValidationProblem({"patient": ["Must be a JSON object with patient fields."]})
    kb = scorer.knowledge
    chosen = default_scenarios(kb, raw) if scenarios is None else scenarios
    applied = [apply(kb, raw, s) for s in chosen]
    parsed, ev = scorer.evaluate_rows([raw] + [a[0] for a in applied])
    if not ev.ok[0]:
        raise ValidationProblem(parsed.errors.by_row[0])
    meta = scorer.meta(request_id)

    def summary(i):
        return scorer.render_row(ev, i, request_id, audience, view="summary")

    first = summary(0)
    base = _estimate(first)
    out = []
    for k, (scenario, (_, changed, reason)) in enumerate(zip(chosen, applied, strict=True), start=1):
        item = {"id": scenario.id, "label": scenario.label, "changes": changed, "applies": reason is None,
                "reason": reason}
        if reason is None and not ev.ok[k]:
            item.update(applies=False, reason="the changed inputs are not valid",
                        errors=parsed.errors.by_row.get(k, {}))
        elif reason is None:
            est = _estimate(summary(k))
            item.update(est)
            if base["probability"] is not None and est["probability"] is not None:
                item["probability_change"] = est["probability"] - base["probability"]
            if base["points"] is not None and est["points"] is not None:
                item["points_change"] = est["points"] - base["points"]
            if base.get("dysglycaemia_probability") is not None and est.get("dysglycaemia_probability") is not None:
                item["dysglycaemia_probability_change"] = est["dysglycaemia_probability"] - base["dysglycaemia_probability"]
        out.append(item)
    return {"baseline": base, "scenarios": out,
            "statement": STATEMENT_PATIENT if audience == "patient" else STATEMENT,
            "disclaimer": first["disclaimer"], "meta": {**meta, "audience": audience}}
