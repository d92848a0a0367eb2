"""Words for people, not programs: the page's field hints, its error messages and a filter that
turns the engine's API wording (unit codes, field names, ``<=``) into what a clinician writes.

The API keeps its codes and messages (they are its contract); only the pages and the patient
handout read through here. Nothing here changes a number or a rule: units are shown by their
``display`` name from ``knowledge/units.json``, fields by their label.
"""
from __future__ import annotations

import re

from riskservice.core import units
from riskservice.core.fields import FIELD_BY_NAME, FIELDS

#: What the form says under each field (the API's descriptions are written for programmers).
HINTS = {
    "age": "Age in years (adults).",
    "sex": "Used for the sex-specific cut-offs.",
    "ethnicity": "Chooses the ethnicity-specific BMI and waist cut-offs; without it the WHO (Europid) "
                 "cut-offs are used.",
    "weight": "With height, gives the BMI.",
    "height": "With weight, gives the BMI.",
    "bmi": "Leave empty when weight and height are given (it is worked out).",
    "waist": "Measured at the navel or midway between the lowest rib and the hip bone.",
    "hip": "Used for the waist-to-hip ratio.",
    "mvpa_minutes_per_week": "Moderate or vigorous activity, such as brisk walking, in a usual week.",
    "sedentary_hours_per_day": "Time sitting or lying while awake, on a usual day.",
    "medications": "Current medicines by generic name, separated by commas or semicolons.",
    "family_history_diabetes": "First degree: parent, brother, sister or child. Second degree: grandparent, "
                               "aunt, uncle or first cousin.",
    "gestational_diabetes": "Women only.",
    "pcos": "Polycystic ovary syndrome; women only.",
    "hypertension": "Diagnosed high blood pressure, or on treatment for it.",
    "known_diabetes": "If yes, this score does not apply and none is given.",
    "pregnant": "Women only. If yes, this score does not apply and none is given.",
    "smoking": "Current, former or never.",
    "sleep_hours_per_night": "Usual sleep per night.",
    "vegetables_fruit_daily": "Vegetables, fruit or berries every day.",
    "high_glucose_history": "Ever told of a high blood sugar, for example in pregnancy or at a check-up.",
    "hs_crp": "High-sensitivity C-reactive protein.",
    "il6": "Interleukin-6.",
    "tnf_alpha": "Tumour necrosis factor alpha.",
    "fasting": "Blood taken after an overnight fast. Triglycerides count only when yes; HOMA-IR is not used when no.",
    "fasting_glucose": "Fasting plasma glucose.",
    "fasting_insulin": "Fasting insulin; with fasting glucose gives HOMA-IR.",
    "triglycerides": "Triglycerides, ideally fasting.",
    "hdl_cholesterol": "HDL cholesterol.",
    "hba1c": "Glycated haemoglobin, in % or mmol/mol.",
    "alt": "Alanine aminotransferase.",
}

#: Labels of the fields that are not measured quantities (those take their units.json label).
LABELS = {"sex": "Sex", "ethnicity": "Ethnicity", "medications": "Medications",
          "family_history_diabetes": "Family history of diabetes", "gestational_diabetes": "Gestational diabetes",
          "pcos": "Polycystic ovary syndrome (PCOS)", "hypertension": "High blood pressure",
          "known_diabetes": "Diabetes already diagnosed", "pregnant": "Pregnant now", "smoking": "Smoking",
          "fasting": "Labs drawn fasting",
          "vegetables_fruit_daily": "Vegetables or fruit every day",
          "high_glucose_history": "Ever had a high blood glucose"}
_ACRONYM_LABELS = {"bmi": "BMI", "hba1c": "HbA1c", "alt": "ALT", "hs_crp": "hs-CRP", "il6": "IL-6",
                   "tnf_alpha": "TNF-alpha", "hdl_cholesterol": "HDL cholesterol", "pcos": "PCOS"}
_NUMBER_HELP = "Enter a number, for example 52 or 5.8."


def label(kb, name: str) -> str:
    """A field's name as the form shows it (its units.json label, else the words of its name)."""
    quantities = kb.units["quantities"]
    if name in quantities and quantities[name].get("label"):
        return quantities[name]["label"]
    if name in LABELS:
        return LABELS[name]
    if name in _ACRONYM_LABELS:
        return _ACRONYM_LABELS[name]
    return name.replace("_", " ").capitalize()


def _in_sentence(text: str) -> str:
    """A label inside a sentence: lower-case first letter unless it is an acronym (HbA1c, BMI)."""
    if len(text) > 1 and (text[1].isupper() or text[1].isdigit()):
        return text
    return text[:1].lower() + text[1:]


class Plain:
    """The text filter for one knowledge base (unit and field tables compiled once)."""

    def __init__(self, kb):
        self.kb = kb
        names = {code: shown for code, shown in units.display_names(kb).items() if shown != code}
        self._units = names
        self._unit_re = (re.compile(r"(?<![\w\[])(" + "|".join(re.escape(c) for c in
                                                                  sorted(names, key=len, reverse=True))
                                    + r")(?![\w\]])") if names else None)
        fields = {f.name: _in_sentence(label(kb, f.name)) for f in FIELDS if "_" in f.name or f.name in _ACRONYM_LABELS}
        fields.update({f"{n}_unit": f"{lbl} unit" for n, lbl in list(fields.items())})
        fields.update({f"{f.name}_unit": f"{_in_sentence(label(kb, f.name))} unit" for f in FIELDS if f.has_unit})
        self._fields = fields
        self._field_re = re.compile(r"\b(" + "|".join(sorted(fields, key=len, reverse=True)) + r")\b")

    def unit(self, code) -> str:
        return units.display(self.kb, code) if code else ""

    def __call__(self, text) -> str:
        """API wording -> page wording: unit codes, field names, comparison signs, code quotes."""
        if text is None:
            return ""
        text = str(text)
        if self._unit_re is not None:
            text = self._unit_re.sub(lambda m: self._units[m.group(1)], text)
        text = self._field_re.sub(lambda m: self._fields[m.group(1)], text)
        text = text.replace("<=", "≤").replace(">=", "≥").replace("`", "")
        text = re.sub(r"\s*\((?:[A-Z][A-Z0-9]*_)+[A-Z0-9]+\)", "", text)   # "(MODEL_DIR)": a setting, for IT
        return re.sub(r"(?<=[a-z])_(?=[a-z])", " ", text)

    # -- errors --------------------------------------------------------------------------------
    def error(self, field: str, message: str) -> str:
        """One engine message for a form field, in plain words (unknown messages: the filter only)."""
        m = message.strip()
        if m.startswith("Not a number") or m.endswith("is not a number"):
            return _NUMBER_HELP
        if m.startswith(("Number too large", "Not a finite number")) or m.endswith("is not a finite number"):
            return "Enter an ordinary number: this one is too large."
        if m.startswith("Missing data for required field"):
            return "Required: please fill this in."
        if m.startswith("Not a boolean"):
            return "Choose yes or no."
        if m.startswith("Must be one of"):
            return ("Choose a unit from the list." if field.endswith("_unit")
                    else "Choose one of the options in the list.")
        if m.endswith("applies only to female patients"):
            return "Only for female patients: clear this answer, or check the sex."
        if m.startswith("Not a valid string"):
            return "Enter text only."
        if m.startswith("Longer than maximum length"):
            return f"Too many medicines: at most {m.rsplit(' ', 1)[-1].rstrip('.')} can be listed."
        item = re.match(r"item (\d+): (.*)", m)
        if item and field == "medications":
            n = int(item.group(1)) + 1
            limit = re.search(r"and (\d+)", item.group(2))
            return (f"Medicine {n} is too long (at most {limit.group(1)} characters)." if limit
                    else f"Medicine {n} could not be read: enter its name as text.")
        m = m.replace("send consistent values or only one of them", "enter matching values, or leave BMI empty")
        m = m.replace("weight/height", "weight and height")
        return self(m[:1].upper() + m[1:])

    def errors(self, errors: dict) -> dict:
        return {field: [self.error(field, m) for m in messages] for field, messages in errors.items()}

    # -- the engine's assumptions ----------------------------------------------------------------
    def assumption(self, item: dict) -> str:
        """``{"field": "weight_unit", "assumption": "not given: kg assumed"}`` -> "Body weight: no
        unit given, read as kg"."""
        field = item.get("field", "")
        if field.endswith("_unit") and field[:-5] in FIELD_BY_NAME:
            name = field[:-5]
            return f"{label(self.kb, name)}: no unit given, read as {self.unit(units.canonical_unit(self.kb, name))}"
        text = re.sub(r"\bassumed\b", "used", str(item.get("assumption", "")))
        text = re.sub(r"^not given: ", "not given, so ", text)
        return f"{label(self.kb, field) if field in FIELD_BY_NAME else self(field)}: {self(text)}"


def plain_for(app_extensions: dict, kb) -> Plain:
    """The app's one :class:`Plain` (built on first use)."""
    plain = app_extensions.get("riskservice.plain")
    if plain is None or plain.kb is not kb:
        plain = app_extensions["riskservice.plain"] = Plain(kb)
    return plain
