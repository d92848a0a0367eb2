"""What one evaluation holds: arrays only, one row per patient (the renderers read them)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from riskservice.core.inputs import Parsed


@dataclass
class ItemResults:
    """Every banded item's results for every row, (n, items) each, items in the compiled order
    (:class:`~riskservice.core.compiled.ItemSlots`)."""

    variant: np.ndarray      # -1 = not applicable
    band: np.ndarray         # -1 = no value
    present: np.ndarray
    points: np.ndarray
    top: np.ndarray          # highest points of the row's variant (0 if not applicable)
    flagged: np.ndarray      # the band is marked "flagged" (its mechanisms apply at 0 points)
    diabetes: np.ndarray     # the band meets a diagnostic threshold for diabetes


def _columns_of(name):
    return property(lambda self: getattr(self.results, name)[:, self.columns])


class Items:
    """One item table's results (a column range of :class:`ItemResults`): variant, band, whether
    the value is present, points, top, flagged and diabetes, each (n, items of the table).
    Views are taken when read, so building an evaluation costs nothing per table."""

    __slots__ = ("results", "columns")

    def __init__(self, results: ItemResults, columns: slice):
        self.results, self.columns = results, columns

    variant = _columns_of("variant")
    band = _columns_of("band")
    present = _columns_of("present")
    points = _columns_of("points")
    top = _columns_of("top")
    flagged = _columns_of("flagged")
    diabetes = _columns_of("diabetes")


@dataclass
class MedicationList:
    """One distinct medication list: the scoring classes (membership and entries per class, in
    input order), notes for entries that do not score, and whether a blood-pressure medicine
    is taken systemically."""

    member: np.ndarray
    matches: dict
    notes: list
    blood_pressure: bool
    row: tuple = ()          # the engine's numbers for the list: membership, blood pressure, points, drivers
    glucose_lowering: list = field(default_factory=list)   # entries that make a measured HOMA-IR invalid


#: reasons a measured HOMA-IR is not valid (bits of ``homa_invalid``; ruleset.json measured.invalid)
MEASURED_INVALID = ("not_fasting", "pregnant", "known_diabetes", "diabetes_range", "glucose_lowering")
HOMA_STATUS = ("below", "borderline", "above")
AGREEMENT = ("agree", "disagree")
#: why the insulin-resistance probability is not shown
IR_WITHHELD = ("measured", "absent")
#: why the dysglycaemia probability is not shown (ruleset.json dysglycaemia.withheld, then "absent")
DYSGLYCAEMIA_WITHHELD = ("established", "known_diabetes", "pregnant", "absent")


@dataclass
class Evaluation:
    n: int
    parsed: Parsed
    values: np.ndarray                   # (n, numeric fields) canonical values, NaN = missing
    codes: np.ndarray                    # (n, coded fields incl. derived), -1 = missing
    ok: np.ndarray                       # rows without errors
    bmi_derived: np.ndarray
    assumed_unit: np.ndarray             # (n, numeric fields): unit not given, canonical assumed
    indices: dict                        # index id -> values (NaN = not computable)
    factors: tuple                       # (Items numeric, Items categorical)
    established: tuple
    cutoffs: tuple
    counted: np.ndarray = None           # (n, factors in kb order) points after exclusive groups
    factor_present: np.ndarray = None
    factor_top: np.ndarray = None
    factor_band_points: np.ndarray = None
    factor_flagged: np.ndarray = None
    diabetes_range: np.ndarray = None    # a glycaemia value meets a diagnostic threshold for diabetes
    implausible: list = field(default_factory=list)   # (mask, field, message): data-entry checks
    caveats: list = field(default_factory=list)       # (mask, message): held-out calibration of the patient's group
    unit_inferred: list = field(default_factory=list)  # (mask, field column, unit index, rests on): unitless labs
    med_member: np.ndarray = None        # (n, drug classes)
    med_points: np.ndarray = None
    med_given: np.ndarray = None
    points: np.ndarray = None
    max_points: np.ndarray = None
    headroom: np.ndarray = None
    missing_top: np.ndarray = None       # (n, factors in kb order) points a missing factor could add
    band: np.ndarray = None              # index into the ruleset's thresholds
    band_if_max: np.ndarray = None
    scores: dict = field(default_factory=dict)     # established id -> dict of arrays
    flagged: dict = field(default_factory=dict)    # index id -> (flag bool, cut-off variant or -1)
    mech_weight: np.ndarray = None
    mech_count: np.ndarray = None
    mech_order: np.ndarray = None
    antihypertensive_source: np.ndarray = None
    diabetes_confirmed: np.ndarray = None   # two different tests (fasting glucose, HbA1c) in the diabetes range
    triglycerides_unscored: np.ndarray = None   # triglycerides given but not scored: the labs were not fasting
    glucose_lowering: np.ndarray = None  # the medication list holds insulin or an insulin secretagogue
    # the measured HOMA-IR (issue 20): validity, its reasons, status and agreement with the estimate
    homa_given: np.ndarray = None        # fasting glucose and insulin both given
    homa_invalid: np.ndarray = None      # bit k set: reason k of MEASURED_INVALID (0 when valid or not given)
    homa_valid: np.ndarray = None        # the measurement leads the answer
    homa_status: np.ndarray = None       # index into HOMA_STATUS, -1 when not given
    agreement: np.ndarray = None         # index into AGREEMENT, -1 when not valid or borderline
    model_terms: np.ndarray = None       # (n, model terms) the insulin-resistance model's term values, NaN = missing
    model_contrib: np.ndarray = None
    logit: np.ndarray = None
    probability: np.ndarray = None       # insulin resistance (NaN when withheld or no model)
    probability_withheld: np.ndarray = None      # index into IR_WITHHELD, -1 when shown
    dysglycaemia_probability: np.ndarray = None  # the dysglycaemia model (NaN when withheld or no model)
    dysglycaemia_withheld: np.ndarray = None     # index into DYSGLYCAEMIA_WITHHELD, -1 when shown
    percentiles: tuple = None            # (measure -> (percentile, beyond), age band): on demand

    def error_text(self, i: int) -> str | None:
        return self.parsed.errors.text(i) if i in self.parsed.errors.by_row else None

