"""The flat input contract: one list of fields shared by JSON, CSV, FHIR and the CLI.

Each numeric field names a quantity in ``knowledge/units.json`` (its canonical unit, the
units accepted in ``<field>_unit`` and its plausibility bounds). Adding a field here and
in the knowledge files is all it takes to accept it on every surface.
"""
from __future__ import annotations

from dataclasses import dataclass

SEX = ("female", "male")
ETHNICITY = ("europid", "south_asian", "east_asian", "japanese", "asian", "african", "hispanic",
             "middle_eastern", "other")
FAMILY_HISTORY = ("none", "second_degree", "first_degree")
SMOKING = ("never", "former", "current")

#: Cell spellings that mean "not given", in CSV cells and JSON values alike (compared trimmed,
#: case-insensitively). JSON null means the same.
MISSING_SPELLINGS = frozenset({"", "na", "n/a", "nan", "null"})
#: Yes/no spellings accepted in CSV cells (JSON takes true and false only).
BOOL_TRUE = ("true", "1", "yes", "y", "t")
BOOL_FALSE = ("false", "0", "no", "n", "f")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str                 # number | enum | bool | list
    description: str
    required: bool = False
    choices: tuple = ()
    has_unit: bool = False    # accepts <name>_unit
    female_only: bool = False


FIELDS = (
    Field("age", "number", "Age in years (adults 18-120); no clock is used, so pass the age.", required=True),
    Field("sex", "enum", "Sex used by sex-specific cut-offs.", required=True, choices=SEX),
    Field("ethnicity", "enum", "Ethnicity as NHANES groups it for the insulin-resistance fit: `asian` when the "
          "region is not given (south_asian, east_asian and japanese score the same: NHANES's non-Hispanic Asian "
          "group includes all of them); `middle_eastern` has no NHANES group. Also selects index cut-offs.",
          choices=ETHNICITY),
    Field("weight", "number", "Body weight (kg or [lb_av]); with height gives BMI.", has_unit=True),
    Field("height", "number", "Height (cm, m or [in_i]).", has_unit=True),
    Field("bmi", "number", "Body-mass index (kg/m2); must agree within 5% with weight/height if all are given.", has_unit=True),
    Field("waist", "number", "Waist circumference (cm or [in_i]).", has_unit=True),
    Field("hip", "number", "Hip circumference (cm or [in_i]); reported as waist-to-hip ratio.", has_unit=True),
    Field("mvpa_minutes_per_week", "number", "Moderate-to-vigorous physical activity (min/wk or h/wk).", has_unit=True),
    Field("sedentary_hours_per_day", "number", "Sedentary (sitting) time, hours per day.", has_unit=True),
    Field("medications", "list", "Current medications: generic names or ATC codes (CSV: separated by ';')."),
    Field("family_history_diabetes", "enum", "Diabetes in a first-degree (parent, sibling, child) or "
          "second-degree (grandparent, aunt, uncle, first cousin) relative.", choices=FAMILY_HISTORY),
    Field("gestational_diabetes", "bool", "Ever diagnosed with gestational diabetes (women only).", female_only=True),
    Field("pcos", "bool", "Polycystic ovary syndrome (women only).", female_only=True),
    Field("hypertension", "bool", "Diagnosed high blood pressure or antihypertensive treatment."),
    Field("known_diabetes", "bool", "Diabetes already diagnosed. When true the score does not apply and no points, "
          "band or probability are given (the answer says why)."),
    Field("pregnant", "bool", "Currently pregnant (women only). When true the score does not apply and no points, "
          "band or probability are given (the answer says why).", female_only=True),
    Field("smoking", "enum", "Smoking status.", choices=SMOKING),
    Field("sleep_hours_per_night", "number", "Usual sleep duration, hours per night.", has_unit=True),
    Field("vegetables_fruit_daily", "bool", "Eats vegetables, fruit or berries every day (FINDRISC item)."),
    Field("high_glucose_history", "bool", "Ever found to have high blood glucose (FINDRISC item)."),
    Field("hs_crp", "number", "High-sensitivity C-reactive protein (mg/L or mg/dL).", has_unit=True),
    Field("il6", "number", "Interleukin-6 (pg/mL).", has_unit=True),
    Field("tnf_alpha", "number", "Tumour necrosis factor alpha (pg/mL).", has_unit=True),
    Field("fasting", "bool", "The labs were drawn after an overnight fast. Triglycerides score (points and "
          "model) only when true, otherwise they are reported, not scored; a measured HOMA-IR is not valid "
          "when false."),
    Field("fasting_glucose", "number", "Fasting plasma glucose (mg/dL or mmol/L).", has_unit=True),
    Field("fasting_insulin", "number", "Fasting insulin (uU/mL or pmol/L; 6.0 pmol/L per uU/mL).", has_unit=True),
    Field("triglycerides", "number", "Fasting triglycerides (mg/dL or mmol/L).", has_unit=True),
    Field("hdl_cholesterol", "number", "HDL cholesterol (mg/dL or mmol/L).", has_unit=True),
    Field("hba1c", "number", "Glycated haemoglobin (% NGSP or mmol/mol IFCC).", has_unit=True),
    Field("alt", "number", "Alanine aminotransferase (U/L).", has_unit=True),
)

FIELD_BY_NAME = {f.name: f for f in FIELDS}
FIELD_NAMES = tuple(f.name for f in FIELDS)
UNIT_FIELDS = tuple(f"{f.name}_unit" for f in FIELDS if f.has_unit)
ALL_KEYS = FIELD_NAMES + UNIT_FIELDS
NUMERIC_FIELDS = tuple(f.name for f in FIELDS if f.kind == "number")
