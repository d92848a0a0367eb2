"""The page's "what would change it" form: the targets a clinician picks, as core.whatif scenarios.

Targets are typed in the canonical units the form shows next to them (min/week, h/day, cm); an
empty target is not used, and without any target the page shows the defaults that apply
(``core.whatif.default_scenarios``). The numbers always come from ``core.whatif.what_if``.
"""
from __future__ import annotations

import re

from riskservice.core import units, whatif

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
#: (form name, scenario change key, label, unit field) of the numeric targets, in display order.
TARGETS = (
    ("whatif_weight_percent", "weight_change_percent", "Weight (and BMI) change", None),
    ("whatif_waist", "waist", "Waist", "waist"),
    ("whatif_mvpa", "mvpa_minutes_per_week", "Moderate or vigorous activity", "mvpa_minutes_per_week"),
    ("whatif_sedentary", "sedentary_hours_per_day", "Sitting time", "sedentary_hours_per_day"),
    ("whatif_sleep", "sleep_hours_per_night", "Sleep", "sleep_hours_per_night"),
)
FORM_KEYS = tuple(t[0] for t in TARGETS) + ("whatif_stop_smoking", "whatif_stop_med")


def widgets(kb, values: dict) -> list[dict]:
    """The numeric targets as the template draws them (with the unit they are typed in)."""
    return [{"name": name, "label": label, "value": values.get(name, ""),
             "unit": units.display(kb, units.canonical_unit(kb, unit_of)) if unit_of else "%"}
            for name, _, label, unit_of in TARGETS]


def form_values(form) -> dict:
    """The what-if fields of a posted form, as strings (medicines as a list), echoed back."""
    out = {name: str(form.get(name) or "").strip() for name, *_ in TARGETS}
    out = {k: v for k, v in out.items() if v}
    if form.get("whatif_stop_smoking"):
        out["whatif_stop_smoking"] = "yes"
    meds = [m for m in (form.getlist("whatif_stop_med") if hasattr(form, "getlist") else []) if m.strip()]
    if meds:
        out["whatif_stop_med"] = meds
    return out


def scenarios(kb, picked: dict) -> tuple[list | None, list[str]]:
    """(scenarios, problems) for the picked targets; (None, []) when none was picked (defaults)."""
    if not picked:
        return None, []
    problems, out, together = [], [], {}
    for name, key, label, unit_of in TARGETS:
        text = picked.get(name)
        if not text:
            continue
        if not _NUMBER.match(text):
            problems.append(f"{label}: enter a number, for example {'-5' if unit_of is None else '150'}.")
            continue
        value = float(text)
        change = {key: value}
        if unit_of is None:
            lo, hi = whatif.WEIGHT_CHANGE_LIMITS
            if value == 0 or not lo <= value <= hi:
                problems.append(f"{label}: enter a change from {lo:g} to {hi:g} (not 0).")
                continue
            title = f"Weight {value:+g}% (BMI with it)"
        else:
            change[f"{key}_unit"] = units.canonical_unit(kb, unit_of)
            title = f"{label} {value:g} {units.display(kb, change[f'{key}_unit'])}"
        out.append(whatif.Scenario(name, title, change))
        together.update(change)
    if picked.get("whatif_stop_smoking"):
        out.append(whatif.Scenario("whatif_stop_smoking", "Not smoking (a former smoker)", {"smoking": "former"}))
        together["smoking"] = "former"
    meds = picked.get("whatif_stop_med") or []
    if meds:
        out.append(whatif.Scenario("whatif_stop_med", "Medicines stopped on review: " + ", ".join(meds),
                                   {"medications_stop": list(meds)}))
        together["medications_stop"] = list(meds)
    if len(out) > 1:
        out.append(whatif.Scenario("together", "All of these together", together))
    return out, problems
