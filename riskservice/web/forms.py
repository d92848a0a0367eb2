"""The page's form, built from the API's one field table and the knowledge's unit table.

Nothing here restates a field, unit, range or choice: ``GROUPS`` only says in which section
(the article's grouping of risk factors) each field of ``core.fields.FIELDS`` is shown, and a
test checks that every field is placed exactly once. Form text goes to the engine with the
least interpretation possible: numbers that parse become numbers, anything else is passed on
as typed so the engine's own 422 messages report it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from riskservice.core import units
from riskservice.core.fields import FIELD_BY_NAME, FIELDS
from riskservice.web import wording

# (section id, heading, field names), in the order the article groups the factors.
GROUPS = (
    ("patient", "Patient", ("age", "sex", "ethnicity")),
    ("adiposity", "Adiposity", ("weight", "height", "bmi", "waist", "hip")),
    ("activity", "Activity and lifestyle", ("mvpa_minutes_per_week", "sedentary_hours_per_day",
                                            "sleep_hours_per_night", "smoking", "vegetables_fruit_daily")),
    ("medications", "Medications", ("medications",)),
    ("family", "Family history", ("family_history_diabetes",)),
    ("inflammation", "Inflammatory markers", ("hs_crp", "il6", "tnf_alpha")),
    ("history", "History", ("known_diabetes", "pregnant", "hypertension", "high_glucose_history",
                            "gestational_diabetes", "pcos")),
    ("labs", "Labs", ("fasting", "fasting_glucose", "fasting_insulin", "triglycerides", "hdl_cholesterol", "hba1c",
                      "alt")),
)
BOOL_CHOICES = (("yes", "Yes"), ("no", "No"))
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_LIST_SPLIT = re.compile(r"[;,\n]")


@dataclass(frozen=True)
class Widget:
    """One field as the template draws it."""
    name: str
    kind: str
    label: str
    hint: str
    required: bool
    choices: tuple = ()          # (value, label)
    units: tuple = ()            # accepted units (code, as people write it), canonical first
    range_text: str = ""


def humanise(value: str) -> str:
    return value.replace("_", " ")


def _label(kb, field) -> str:
    return wording.label(kb, field.name)


def _number_format(x) -> str:
    return f"{x:.10g}"


def widget(kb, field) -> Widget:
    """One field: its label, the page's plain hint, choices, and units as people write them."""
    choices, unit_list, range_text = (), (), ""
    if field.kind == "enum":
        choices = tuple((c, humanise(c)) for c in field.choices)
    elif field.kind == "bool":
        choices = BOOL_CHOICES
    if field.kind == "number" and field.name in kb.units["quantities"]:
        canonical = units.canonical_unit(kb, field.name)
        accepted = units.accepted_units(kb, field.name)
        codes = (canonical,) + tuple(u for u in accepted if u != canonical) if field.has_unit else ()
        unit_list = tuple((u, units.display(kb, u)) for u in codes)
        lo, hi = units.bounds(kb, field.name)
        range_text = f"accepted {_number_format(lo)} to {_number_format(hi)} {units.display(kb, canonical)}"
    return Widget(field.name, field.kind, _label(kb, field), wording.HINTS[field.name], field.required, choices,
                  unit_list, range_text)


def sections(kb) -> list[dict]:
    """The form's sections with their widgets, in display order."""
    return [{"id": gid, "title": title, "widgets": [widget(kb, FIELD_BY_NAME[n]) for n in names]}
            for gid, title, names in GROUPS]


def placed_fields() -> list[str]:
    return [n for _, _, names in GROUPS for n in names]


def to_raw(form) -> dict:
    """Form fields (a MultiDict or dict of strings) -> the engine's raw input dict.

    Empty inputs are left out (not recorded); a unit is sent only with its value.
    """
    raw = {}
    for field in FIELDS:
        text = (form.get(field.name) or "").strip()
        if not text:
            continue
        if field.kind == "number":
            raw[field.name] = float(text) if _NUMBER.match(text) else text
            unit = (form.get(f"{field.name}_unit") or "").strip()
            if field.has_unit and unit:
                raw[f"{field.name}_unit"] = unit
        elif field.kind == "bool":
            raw[field.name] = {"yes": True, "no": False}.get(text, text)
        elif field.kind == "list":
            raw[field.name] = [item.strip() for item in _LIST_SPLIT.split(text) if item.strip()]
        else:
            raw[field.name] = text
    return raw


def from_payload(payload: dict) -> dict:
    """The engine's input dict (e.g. mapped from FHIR) -> form values (strings) to prefill."""
    values = {}
    for field in FIELDS:
        if field.name not in payload or payload[field.name] is None:
            continue
        value = payload[field.name]
        if field.kind == "bool":
            values[field.name] = "yes" if value else "no"
        elif field.kind == "list":
            values[field.name] = "; ".join(str(v) for v in value)
        elif field.kind == "number":
            values[field.name] = _number_format(float(value)) if isinstance(value, (int, float)) else str(value)
            unit = payload.get(f"{field.name}_unit")
            if unit:
                values[f"{field.name}_unit"] = str(unit)
        else:
            values[field.name] = str(value)
    return values


def form_values(form) -> dict:
    """The filled fields (and the units of filled fields) as strings, echoed back into the page."""
    values = {}
    for f in FIELDS:
        value = str(form.get(f.name) or "").strip()
        if value:
            values[f.name] = value
            unit = str(form.get(f"{f.name}_unit") or "").strip()
            if f.has_unit and unit:
                values[f"{f.name}_unit"] = unit
    return values


def errors_by_field(errors: dict) -> tuple[dict, dict]:
    """Split engine errors into those shown next to a form field and the rest (shown on top).

    A unit error (``weight_unit``) is shown next to its field.
    """
    known = {f.name for f in FIELDS}
    inline, other = {}, {}
    for key, messages in errors.items():
        target = key[:-5] if key.endswith("_unit") and key[:-5] in known else key
        if target in known:
            inline.setdefault(target, []).extend(
                f"Unit: {m}" if key != target else m for m in messages)
        else:
            other[key] = list(messages)
    return inline, other
