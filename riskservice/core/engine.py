"""The one engine: every clinical computation, on columns, for one patient or a million.

``Engine.evaluate(parsed)`` takes the typed arrays of :mod:`riskservice.core.inputs` and
returns an :class:`Evaluation` that holds arrays only: canonical values, per-item variants,
bands and points, totals and bands, indices and flags, established scores, mechanism
weights and order, model terms and probability, and the problems per row. Renderers
(:mod:`riskservice.core.render`) turn a row, or all rows, into an answer; nothing clinical
is computed anywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from riskservice.core import units as unit_table
from riskservice.core.compiled import (
    ATTACHED,
    BAND,
    DIABETES,
    FLAG,
    FLAGGED,
    MISSING,
    MISSING_TOP,
    POINTS,
    PRESENT,
    TOP,
    compile_knowledge,
    source_layout,
)
from riskservice.core.indices import FORMULAS
from riskservice.core.inputs import Parsed
from riskservice.core.messages import fmt, range_message


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
    model_terms: np.ndarray = None       # (n, model terms) term values, NaN = missing
    model_contrib: np.ndarray = None
    logit: np.ndarray = None
    probability: np.ndarray = None

    def error_text(self, i: int) -> str | None:
        return self.parsed.errors.text(i) if i in self.parsed.errors.by_row else None


_ENGINES: dict = {}
MED_CACHE_LIMIT = 100_000   # distinct medication lists remembered per process
SMALL_BATCH = 64            # up to this many rows, items are banded in one broadcast
GROUP_TABLE_LIMIT = 1_000_000   # exclusive groups with up to this many (context, slots) combinations are tabulated


def engine_for(knowledge, model=None) -> Engine:
    """The engine of this knowledge and model, compiled once per process."""
    key = (id(knowledge), id(model))
    hit = _ENGINES.get(key)
    if hit is None or hit.kb is not knowledge or hit.model is not model:
        hit = _ENGINES[key] = Engine(knowledge, model)
    return hit


_sum, _max, _any = np.add.reduce, np.maximum.reduce, np.logical_or.reduce   # without the method wrappers
_TRUE, _FALSE = np.ones(1, dtype=bool), np.zeros(1, dtype=bool)
# constants as 0-d arrays: a ufunc takes them faster than Python numbers (same values, same dtypes here)
_NAN, _MINUS_ONE, _ZERO, _ONE = np.array(np.nan), np.array(-1), np.array(0), np.array(1)
_PACK, _LOW_BITS, _ZERO_F, _EIGHT = np.array(256), np.array(255), np.array(0.0), np.array(8)
_NAN_ROW = np.array([np.nan])


class Engine:
    """Compiled knowledge (and optionally the model), ready to evaluate columns.

    The cost of one evaluation is a fixed number of array operations, whatever the number of
    rows: every item is banded on one axis (:class:`~riskservice.core.compiled.ItemSlots`),
    scores and mechanisms are matrix products with matrices built here, once. Arrays are
    item-major inside ((items, n), contiguous per item); the evaluation holds (n, items) views.
    """

    def __init__(self, knowledge, model=None):
        self.kb = knowledge
        self.model = model
        self.cx = compile_knowledge(knowledge)
        kb, cx = knowledge, self.cx
        self.slots = sl = cx.slots
        layout = source_layout(cx)
        nf = len(cx.numeric)
        self._width = layout["width"]
        self._values_at = slice(0, nf)
        self._indices_at = slice(layout["indices"], layout["raw"])
        self._sent_at = slice(layout["raw"], layout["codes"])
        self._codes_at = slice(layout["codes"], layout["width"])
        self.factor_order = [f["id"] for f in kb.factors if f["kind"] != "medications"]
        self.factor_pos = {fid: k for k, fid in enumerate(self.factor_order)}
        num, cat = cx.items["factors"]
        owners = [owner["id"] for owner, _, _ in num.specs] + [owner["id"] for owner, _, _ in cat.specs]
        self._factor_items = np.array([owners.index(fid) for fid in self.factor_order], dtype=np.intp)
        self.med_factor = next((f for f in kb.factors if f["kind"] == "medications"), None)
        self.class_ids = [c["id"] for c in kb.drug_classes]
        self._class_pos = {cid: k for k, cid in enumerate(self.class_ids)}
        self._bp_classes = frozenset(kb.established["derived_inputs"]["antihypertensive"]["drug_classes"])
        self.class_points = np.array([c["points"] for c in kb.drug_classes], dtype=np.int64)
        self._med_max = int(self.class_points.sum()) if self.med_factor is not None else 0
        self._no_list = MedicationList(np.zeros(len(self.class_ids), dtype=bool), {}, [], False)
        self._no_list.row = self._medication_row(self._no_list.member, False, given=False)
        self.mechanism_ids = sorted(kb.mechanisms)
        self._thresholds = np.array([t["min_points"] for t in kb.ruleset["bands"]["thresholds"]])
        self._med_cache: dict = {}
        self._groups = []
        in_group = np.zeros(len(self.factor_order), dtype=bool)
        for group in kb.ruleset.get("exclusive_groups", []):
            members = [self.factor_pos[fid] for fid in self.factor_order if fid in group["factors"]]
            in_group[members] = True
            self._groups.append([_as_slice(members), np.arange(len(members))[:, None], members, None])
        self._ungrouped = np.flatnonzero(~in_group)
        self.factor_slot = {owner["id"]: (pair_pos, k)
                            for pair_pos, table in enumerate(cx.items["factors"])
                            for k, (owner, _, _) in enumerate(table.specs)}
        self._links = _row_sums(self._link_matrix())
        self._scores = self._score_matrices()
        self._category_mins = [np.ascontiguousarray(self._scores[2][:, :, c]) for c in range(self._scores[2].shape[2])]
        self._cutoff_items = sl.blocks["cutoffs"][0]
        self._blocks = tuple(sl.blocks[group] for group in ("factors", "established", "cutoffs"))
        self._model_lookup = None
        self._height_positive = bool(cx.lower[cx.numeric_index["height"]] > 0)
        self._slot_plan = self._banding_plan()
        self._slot_count = np.uint8 if sl.n_slots < 256 else np.intp
        # the slot tables record-major, (slots, fields), so that one gather fetches a slot's results
        self._int_records = np.ascontiguousarray(sl.ints.T)
        self._bool_records = np.zeros((sl.bools.shape[1], 8), dtype=bool)
        self._bool_records[:, :len(sl.bools)] = sl.bools.T
        # the highest total the factors allow depends on the context (sex, ethnicity) only
        tops = sl.ints[TOP].take(sl.context[2].take(self._factor_items, axis=0))     # (factors, contexts)
        self._max_points = self._factor_maximum(tops) + self._med_max
        for group in self._groups:
            group[3] = self._group_table(group[2], group[1])
        self._unit_base = (np.arange(nf, dtype=np.intp) * cx.factor.shape[1])[:, None]
        self._unit_factor, self._unit_offset = cx.factor.ravel(), cx.offset.ravel()   # (field x unit)
        self._multi_unit = np.array([len(u) > 1 for u in cx.unit_names])
        self._sex_col = cx.coded_index["sex"]
        self._eth_col = cx.coded_index["ethnicity"]
        self._hypertension_col = cx.coded_index["hypertension"]
        self._antihypertensive_cols = (cx.coded_index["antihypertensive"],
                                       cx.coded_index["antihypertensive_medication"])
        from riskservice.core.fields import FIELDS
        self._female_only_cols = [(f.name, cx.coded_index[f.name]) for f in FIELDS if f.female_only]
        self._female_only_set = frozenset(j for _, j in self._female_only_cols)
        self._sex_and_female_only = np.array([self._sex_col] + [j for _, j in self._female_only_cols], dtype=np.intp)
        self._bmi_cols = tuple(cx.numeric_index[k] for k in ("weight", "height", "bmi"))
        self._bmi_inputs, self._bmi_output = frozenset(self._bmi_cols[:2]), frozenset(self._bmi_cols[2:])
        self._index_ids = [ix["id"] for ix in kb.indices]
        self._all_fields = frozenset(range(nf))
        self._index_inputs = [(ix["id"], tuple(cx.numeric_index[x] for x in ix["inputs"])) for ix in kb.indices]
        self._formula_fields = sorted({x for ix in kb.indices for x in ix["inputs"]})
        self._formula_columns = np.array([cx.numeric_index[x] for x in self._formula_fields], dtype=np.intp)
        self._cutoff_ids = [index["id"] for index, _, _ in cx.items["cutoffs"][0].specs]
        self._blood_pressure_table = self._blood_pressure_lookup()
        self._four = np.array(4)
        self._day = unit_table.constant(kb, "HOURS_PER_DAY")
        self._max_waist_to_hip = unit_table.constant(kb, "MAX_WAIST_TO_HIP")
        self._bmi_tolerance = unit_table.constant(kb, "BMI_CONSISTENCY_TOLERANCE")
        ix = cx.numeric_index
        self._implausible_cols = tuple(ix[k] for k in ("sleep_hours_per_night", "sedentary_hours_per_day",
                                                         "waist", "hip"))
        day, ratio = self._day, self._max_waist_to_hip
        self._implausible_limits = (
            (np.array(day), f"sleep and sitting time add up to more than {day:g} hours a day: check both values"),
            (np.array(ratio), f"waist is more than {ratio:g} times the hip circumference: "
                              "check the values and their units"))

    # ------------------------------------------------------------------ public
    def evaluate(self, parsed: Parsed) -> Evaluation:
        """Every computation for every row. Missing values are NaN and flow through the
        arithmetic on purpose, so floating-point warnings are silenced once, here."""
        with np.errstate(all="ignore"):
            return self._evaluate(parsed)

    def _evaluate(self, parsed: Parsed) -> Evaluation:
        n = parsed.n
        errors = parsed.errors
        # one column-major source matrix: canonical values, index values, values as sent, codes
        source = np.empty((n, self._width), order="F")
        values = source[:, self._values_at]
        assumed = self._convert(parsed, values)
        bmi_derived = self._derive_bmi(values, errors, parsed.numbers_sent)
        codes = parsed.codes
        self._female_only(codes, errors, parsed.codes_sent)
        ok = ~errors.mask() if errors.by_row else _TRUE.repeat(n)
        given = parsed.numbers_sent
        if given is not None and self._bmi_inputs <= given:
            given = given | self._bmi_output                # BMI may be derived from weight and height
        indices = self._indices(values, source[:, self._indices_at], given)
        sent = source[:, self._sent_at]
        np.subtract(values, values, out=sent)     # 0, or NaN where the canonical value is missing
        sent += parsed.raw
        med_member, med_given, bp_code, med_points, med_missing, med_drivers = self._medications(parsed)
        source_ah = self._antihypertensive(codes, bp_code)
        source[:, self._codes_at] = codes
        results, ints, bools, key, slot, flat = self._items(parsed, source, codes)
        (f_num, f_cat), (e_num, e_cat), (c_num, c_cat) = self._blocks
        ev = Evaluation(n=n, parsed=parsed, values=values, codes=codes, ok=ok, bmi_derived=bmi_derived,
                        assumed_unit=assumed, indices=indices, factors=(Items(results, f_num), Items(results, f_cat)),
                        established=(Items(results, e_num), Items(results, e_cat)),
                        cutoffs=(Items(results, c_num), Items(results, c_cat)),
                        med_member=med_member, med_given=med_given, antihypertensive_source=source_ah)
        ev.implausible = self._implausible(values, given)
        # the factors' records in knowledge order, gathered again from the tables (cheaper than
        # copying them out of the strided views)
        factor_slots = flat.take(self._factor_items, axis=0)
        fints = self._int_records.take(factor_slots, axis=0).transpose(2, 0, 1)
        fbools = self._bool_records.take(factor_slots, axis=0).transpose(2, 0, 1)
        counted = self._rules(ev, fints, fbools, key, slot, med_points, med_missing)
        self._established(ev, flat)
        flags = self.slots.bools[FLAG].take(flat[self._cutoff_items])
        self._flags(ev, results, flags)
        self._mechanisms(ev, counted, fbools, med_drivers, flags)
        if self.model is not None:
            self._model(ev, source, codes, key)
        return ev

    # ------------------------------------------------------------------ inputs
    def _convert(self, parsed, values):
        """Canonical values (written into ``values``) with range errors; returns where the
        canonical unit was assumed."""
        cx = self.cx
        raw = parsed.raw
        # field-major (the arrays are column-major, so their transposes are contiguous)
        units = parsed.unit.T + self._unit_base                         # (fields, n) into (field x unit)
        np.multiply(raw.T, self._unit_factor.take(units), out=values.T)
        np.add(values.T, self._unit_offset.take(units), out=values.T)
        bad = parsed.unit_bad
        if parsed.unit_bad_any is not False and _any(bad, axis=None):
            values[bad] = np.nan
        outside = np.less(values, cx.lower) | np.greater(values, cx.upper)
        if _any(outside, axis=None):
            for i, j in zip(*np.nonzero(outside), strict=True):
                name = cx.numeric[j]
                unit = cx.unit_names[j][parsed.unit[i, j]]
                parsed.errors.add(i, name, range_message(self.kb, name, raw[i, j], unit, values[i, j]))
            values[outside] = np.nan
        return np.greater(raw == raw, parsed.unit_given) & self._multi_unit

    def _derive_bmi(self, values, errors, sent=None):
        cx = self.cx
        jw, jh, jb = self._bmi_cols
        if sent is not None and (jw not in sent or jh not in sent):
            return _FALSE.repeat(len(values))
        w, h = values[:, jw], values[:, jh]
        both = w + h
        both = both == both
        if not _any(both):
            return np.zeros(len(w), dtype=bool)
        bmi = values[:, jb]
        derived = w / (h / 100.0) ** 2
        has_bmi = ~np.isnan(bmi)
        tol = self._bmi_tolerance
        disagree = both & has_bmi & (np.abs(bmi - derived) / derived > tol)
        errors.add_mask(disagree, "bmi", lambda i: (
            f"bmi {fmt(bmi[i])} disagrees with weight/height ({fmt(derived[i])} kg/m2) by more than "
            f"{tol:.0%}; send consistent values or only one of them"))
        fill = both & ~has_bmi
        lo, hi = cx.lower[jb], cx.upper[jb]
        outside = fill & ~((derived >= lo) & (derived <= hi))
        errors.add_mask(outside, "bmi", lambda i: (
            f"BMI derived from weight and height is {fmt(derived[i])} kg/m2, outside the accepted "
            f"range {fmt(lo)}-{fmt(hi)} kg/m2; check the weight and height units"))
        take = fill & ~outside
        values[take, jb] = derived[take]
        return take

    def _female_only(self, codes, errors, sent=None):
        if sent is not None and (self._sex_col not in sent or sent.isdisjoint(self._female_only_set)):
            return
        yes = codes.take(self._sex_and_female_only, axis=1) == _ONE   # male, then each female-only field
        hits = yes[:, 1:] & yes[:, :1]
        if not _any(hits, axis=None):
            return
        for k, (name, _) in enumerate(self._female_only_cols):
            errors.add_mask(hits[:, k], name, lambda i, name=name: f"{name} applies only to female patients")

    def _indices(self, values, block, sent=None):
        """Every index as a column of ``block`` (NaN where an input is missing or the formula is
        undefined), where items can band them; returned by id (views of the block). Formulas
        propagate NaN, so a row missing an input gets NaN; a formula whose input is missing on
        every row is not evaluated at all."""
        n = len(values)
        if sent is None:
            absent = set(np.logical_and.reduce(values != values, axis=0).nonzero()[0].tolist())  # missing in every row
        else:
            absent = self._all_fields.difference(sent)      # not sent (a value sent but refused is NaN: computed)
        columns = dict(zip(self._formula_fields, values.T.take(self._formula_columns, axis=0), strict=True))
        missing = None
        results = []
        for index_id, needs in self._index_inputs:
            if absent.isdisjoint(needs):
                results.append(FORMULAS[index_id](columns))
            else:
                missing = _NAN_ROW.repeat(n) if missing is None else missing
                results.append(missing)
        by_index = block.T                                      # (indices, n), contiguous
        np.concatenate(results, out=by_index.reshape(-1))
        block[np.isinf(block)] = np.nan                       # an undefined value (division by 0) is missing
        return dict(zip(self._index_ids, by_index, strict=True))

    def _medications(self, parsed):
        """Per row: drug-class membership, whether a list was given, the blood-pressure code
        (2 x a systemic blood-pressure medicine + 1 when a list was given) for the
        questionnaires, the points of the list, the points a missing list could add and its
        mechanism drivers; one integer row per distinct list, then one take."""
        rows = [self._classes_of(tuple(entries)).row for entries in parsed.med_lists]
        rows.append(self._no_list.row)
        per_row = np.array(rows, dtype=np.int64).take(parsed.med_index, axis=0)   # -1 (no list): last row
        c = len(self.class_ids)
        return (per_row[:, :c] > _ZERO, parsed.med_index >= _ZERO, per_row[:, c], per_row[:, c + 1],
                per_row[:, c + 2], per_row[:, c + 3:].T)

    def _medication_row(self, member, blood_pressure, given=True):
        points = int(member.astype(np.int64) @ self.class_points)
        drivers = np.where(member, self.class_points * 256 + 1, 0)
        missing = 0 if given or self.med_factor is None else self._med_max
        return (*member.astype(np.int64).tolist(), 2 * bool(blood_pressure) + int(given), points, missing,
                *drivers.tolist())

    def classes_of(self, entries) -> MedicationList:
        """What a medication list means: scoring classes, entries per class, notes, blood pressure."""
        return self._classes_of(tuple(entries))

    def _classes_of(self, entries: tuple):
        hit = self._med_cache.get(entries)
        if hit is not None:
            return hit
        kb = self.kb
        member = np.zeros(len(self.class_ids), dtype=bool)
        matches, notes = {}, []
        blood_pressure = False
        bp_classes = self._bp_classes
        for entry in entries:
            m = kb.match_medication(entry)
            if m.scores:
                for cid in m.class_ids:
                    if cid in self._class_pos:
                        member[self._class_pos[cid]] = True
                        matches.setdefault(cid, []).append(entry)
                blood_pressure |= bool(bp_classes.intersection(m.class_ids))
            message = m.message()
            if message:
                notes.append((entry, message, m.recognised))
        hit = MedicationList(member, matches, notes, blood_pressure, self._medication_row(member, blood_pressure))
        if len(self._med_cache) < MED_CACHE_LIMIT:
            self._med_cache[entries] = hit
        return hit

    @staticmethod
    def _blood_pressure_items(hyper, blood_pressure, med_given):
        """The questionnaires' blood-pressure items. ADA asks about a diagnosis of high blood
        pressure (``hypertension``, or treatment, which implies it); FINDRISC asks only whether
        blood-pressure medication was ever taken regularly: yes when one is listed, no when a
        list without one was given or high blood pressure was denied, else unknown. Also the
        source of the ADA item: 0 none, 1 hypertension, 2 medications."""
        antihypertensive = np.where((hyper == 1) | blood_pressure, 1, np.where(hyper == 0, 0, -1))
        medication = np.where(blood_pressure, 1, np.where(med_given | (hyper == 0), 0, -1))
        source = np.where(hyper == 1, 1, np.where(blood_pressure, 2, np.where(hyper == 0, 1, 0)))
        return antihypertensive, medication, source

    def _blood_pressure_lookup(self):
        """:meth:`_blood_pressure_items` for all twelve input combinations, at the position
        ``hypertension code * 4 + blood-pressure code`` (code -1 wraps to the end)."""
        hyper = np.repeat(np.array([0, 1, -1]), 4)
        bp = np.tile(np.array([False, False, True, True]), 3)
        given = np.tile(np.array([False, True]), 6)
        return np.column_stack(self._blood_pressure_items(hyper, bp, given))

    def _antihypertensive(self, codes, bp_code):
        items = self._blood_pressure_table.take(codes[:, self._hypertension_col] * self._four + bp_code, axis=0)
        a, m = self._antihypertensive_cols
        codes[:, a] = items[:, 0]
        codes[:, m] = items[:, 1]
        return items[:, 2]

    def _implausible(self, values, sent=None):
        """Combinations that cannot both be right (a data-entry check, not a clinical rule):
        (mask, field, message) each, reported as warnings; nothing is changed or refused.
        A pair not sent cannot be implausible."""
        (day, time_message), (ratio, waist_message) = self._implausible_limits
        js, jt, jw, jh = self._implausible_cols
        n = len(values)
        times = waists = None
        if sent is not None:
            times = None if js in sent and jt in sent else _FALSE.repeat(n)
            waists = None if jw in sent and jh in sent else _FALSE.repeat(n)
        return [
            (values[:, js] + values[:, jt] > day if times is None else times, "sedentary_hours_per_day", time_message),
            (values[:, jw] > ratio * values[:, jh] if waists is None else waists, "waist", waist_message),
        ]

    # ------------------------------------------------------------------ items
    def _items(self, parsed, source, codes):
        """Variant, band, presence, points and flags of every item for every row: the row's
        context picks each item's variant, the value's slot among the variant's thresholds (in
        the unit the value was sent in, edges as the guideline states them there) picks the
        band, and every result is one look-up. Arrays are item-major, (items, n); the
        results hold their transposes, (n, items)."""
        sl = self.slots
        key = sl.sex_key.take(codes[:, self._sex_col]) + sl.ethnicity_key.take(codes[:, self._eth_col])
        context = sl.context.take(key, axis=2)                    # (3, items, n)
        x = source.T.take(sl.value_columns, axis=0)
        slot = self._slots(x, context[1], parsed.unit.T)
        flat = np.add(context[2], slot, dtype=np.intp)     # indices as take wants them (no hidden copy)
        # one gather of each slot's whole record (ints, then bools padded to 8 bytes), viewed
        # field-major: (fields, items, n)
        ints = self._int_records.take(flat, axis=0).transpose(2, 0, 1)
        bools = self._bool_records.take(flat, axis=0).transpose(2, 0, 1)
        results = ItemResults(context[0].T, ints[BAND].T, bools[PRESENT].T, ints[POINTS].T, ints[TOP].T,
                              bools[FLAGGED].T, bools[DIABETES].T)
        return results, ints, bools, key, slot, flat

    def _banding_plan(self):
        """Per item, what a large block compares its values with: the thresholds that can be
        finite (column 0, -inf where the item applies, then the variant's edges; the columns
        after them are +inf in every row, so no value exceeds them), as a column (thresholds, 1)
        when only one threshold row is reachable, else as (thresholds, rows) to gather from."""
        sl = self.slots
        thresholds = sl.thresholds
        plan = []
        for reachable in sl.threshold_rows:
            width = 1 + max((int(np.isfinite(thresholds[r, 1:]).sum()) for r in reachable), default=0)
            if len(reachable) == 1:
                plan.append((reachable[0], thresholds[reachable[0], :width, None].copy()))
            else:
                plan.append((None, np.ascontiguousarray(thresholds[:, :width].T)))
        return plan

    def _slots(self, x, row_base, units):
        """(items, n): how many of its thresholds each value exceeds (0 when missing). Small
        inputs compare all thresholds at once; large ones compare each item's values with the
        few thresholds that can be finite, row by row of thresholds, and count (the same count,
        without an items x n x thresholds temporary; tests hold the two equal). NaN exceeds
        nothing, and a row where the item does not apply has only +inf thresholds."""
        sl = self.slots
        if x.shape[1] <= SMALL_BATCH:
            rows = row_base + units.take(sl.unit_columns, axis=0)
            # thresholds ascend and end with +inf, so "exceeded" is True then False: its first
            # False (argmin) is the count (0 for NaN)
            return np.greater(x[:, :, None], sl.thresholds.take(rows, axis=0)).argmin(axis=2)
        count = self._slot_count        # counts in bytes while they fit: 32 additions per instruction
        slot = np.empty(x.shape, dtype=count)
        for j, (only, edges) in enumerate(self._slot_plan):
            rows = row_base[j] + units[sl.unit_columns[j]]
            if only is None:
                exceeded = np.greater(x[j], edges.take(rows, axis=1))          # (thresholds, n)
            else:
                exceeded = np.greater(x[j], edges)
                exceeded &= rows == only          # elsewhere the item does not apply (+inf)
            _sum(exceeded.view(count) if count is np.uint8 else exceeded, axis=0, dtype=count, out=slot[j])
        return slot

    # ------------------------------------------------------------------ rules score
    def _factor_maximum(self, top):
        """The highest total the factors allow, from their tops (factors, n): the sum, less
        all but the highest top of each exclusive group."""
        total = _sum(top, axis=0)
        for members, *_ in self._groups:
            tops = top[members]
            total = total - (_sum(tops, axis=0) - _max(tops, axis=0))
        return total

    @staticmethod
    def _exclusive_group(here, points, top, positions):
        """One exclusive group, (members, n) in: only the first of its highest-scoring present
        members counts, and a missing member can add only what exceeds the best present one.
        Returns the points counted and the top a missing member could add, (members, n), and
        the group's headroom, (n,)."""
        pts = np.where(here, points, _MINUS_ONE)
        any_present = _any(here, axis=0)
        keep = (positions == pts.argmax(axis=0)) & any_present    # the first of the highest counts
        best_points = _max(pts, axis=0) * any_present             # 0 when no member is present
        adjusted = np.maximum(top - best_points, _ZERO) * ~here
        return points * keep, adjusted, _max(adjusted, axis=0)

    def _group_table(self, members, positions, limit=GROUP_TABLE_LIMIT):
        """:meth:`_exclusive_group` for every context and every slot of each member, computed
        once, so that a row's group result is one look-up; None when there are too many
        combinations (the group is then computed row by row, by the same function)."""
        sl = self.slots
        items = self._factor_items[members]
        n_slot = sl.n_slots
        contexts = sl.context.shape[2]
        m = len(members)
        if m == 0 or contexts * n_slot ** m > limit:
            return None
        grid = np.indices((contexts,) + (n_slot,) * m).reshape(1 + m, -1)     # context, then each member's slot
        flat = sl.context[2][items][:, grid[0]] + grid[1:]
        counted, adjusted, headroom = self._exclusive_group(
            sl.bools[PRESENT][flat], sl.ints[POINTS][flat], sl.ints[TOP][flat], positions)
        table = np.concatenate([counted, adjusted, headroom[None]])
        strides = n_slot ** np.arange(m - 1, -1, -1, dtype=np.int64)
        return np.arange(contexts, dtype=np.int64) * n_slot ** m, strides, items, table

    def _rules(self, ev, fints, fbools, key, slot, med_points, med_missing):
        """Totals, maximum, headroom and bands from the factors (item-major, knowledge order);
        returns the points counted per factor."""
        band_points, top, missing_top = fints[POINTS], fints[TOP], fints[MISSING_TOP]
        present = fbools[PRESENT]
        ev.factor_flagged = fbools[FLAGGED].T
        ev.diabetes_range = _any(fbools[DIABETES], axis=0)
        counted = band_points.copy()
        group_headroom = 0
        for members, positions, _, table in self._groups:
            if table is None:
                counted_m, adjusted, headroom = self._exclusive_group(
                    present[members], band_points[members], top[members], positions)
            else:
                base, strides, items, table = table
                found = table.take(base.take(key) + strides @ slot.take(items, axis=0), axis=1)
                m = len(positions)
                counted_m, adjusted, headroom = found[:m], found[m:2 * m], found[2 * m]
            counted[members] = counted_m
            missing_top[members] = adjusted
            group_headroom = group_headroom + headroom
        ev.counted, ev.factor_present, ev.factor_top = counted.T, present.T, top.T
        ev.factor_band_points, ev.missing_top = band_points.T, missing_top.T
        ev.med_points = med_points
        ev.points = points = _sum(counted, axis=0) + med_points
        ev.max_points = self._max_points.take(key)
        ev.headroom = _sum(missing_top.take(self._ungrouped, axis=0), axis=0) + group_headroom + med_missing
        ev.band = self.total_band(points)
        ev.band_if_max = self.total_band(points + ev.headroom)
        return counted

    def total_band(self, points):
        """Index of the ruleset band (the highest whose ``min_points`` is reached) per total."""
        return self._thresholds.searchsorted(points, side="right") - _ONE

    # ------------------------------------------------------------------ established scores
    def _score_matrices(self):
        """Score-to-item membership (scores, items) and the category minimums of each score,
        twice (for the points and for the maximum), padded so that nothing reaches the padding."""
        scores = self.kb.established["scores"]
        num, cat = self.cx.items["established"]
        owners = [owner[0] for owner, _, _ in num.specs + cat.specs]
        member = np.array([[owner == sid for owner in owners] for sid in scores], dtype=np.int64).reshape(
            len(scores), len(owners))
        width = max((len(s["categories"]) for s in scores.values()), default=1)
        mins = np.full((len(scores), width), np.iinfo(np.int64).max, dtype=np.int64)
        for k, score in enumerate(scores.values()):
            mins[k, :len(score["categories"])] = [c["min_points"] for c in score["categories"]]
        num_cols, cat_cols = self.slots.blocks["established"]
        columns = slice(num_cols.start, cat_cols.stop)
        return list(scores), _row_sums(member), np.concatenate([mins, mins])[:, None, :], columns

    def _established(self, ev, flat):
        """Points, maximum, completeness and categories of every questionnaire: the item
        points and the tops of missing items (gathered for the questionnaire items' slots)
        summed per score."""
        ids, per_score, mins, columns = self._scores
        s = len(ids)
        slots = flat[columns]
        sl = self.slots
        totals = np.add.accumulate(per_score(sl.ints[POINTS:MISSING_TOP + 1].take(slots, axis=1), axis=1),
                                   axis=0)                        # (2, scores, n)
        low_high = totals.reshape(2 * s, -1)                      # points, then points if missing were maximal
        complete = per_score(sl.bools[MISSING].take(slots)) == 0
        if low_high.shape[1] <= SMALL_BATCH:
            category = _sum(low_high[:, :, None] >= mins, axis=2) - _ONE
        else:   # the same count, one contiguous comparison per category (a short last axis sums slowly)
            category = np.full(low_high.shape, -1, dtype=np.int64)
            for minimum in self._category_mins:
                category += low_high >= minimum
        for k, sid in enumerate(ids):
            ev.scores[sid] = {"points": low_high[k], "points_max": low_high[s + k], "complete": complete[k],
                              "category": category[k], "category_max": category[s + k]}

    def _flags(self, ev, results, flags):
        pairs = zip(flags, results.variant.T[self._cutoff_items], strict=True)
        ev.flagged.update(zip(self._cutoff_ids, pairs, strict=True))

    # ------------------------------------------------------------------ mechanisms
    def _link_matrix(self):
        """(mechanisms, drivers) 0/1: the factors (knowledge order), drug classes and index
        cut-offs (flagged indices) that act through each mechanism."""
        kb = self.kb
        sources = [kb.factor_by_id[fid]["mechanisms"] for fid in self.factor_order]
        sources += [c["mechanisms"] for c in kb.drug_classes]
        sources += [index.get("mechanisms_when_flagged") or [] for index, _, _ in self.cx.items["cutoffs"][0].specs]
        return np.array([[mid in mechs for mechs in sources] for mid in self.mechanism_ids],
                        dtype=np.int64).reshape(len(self.mechanism_ids), len(sources))

    def attached(self, ev):
        """(n, factors): the factor's mechanisms apply (points in its band, or a flagged band)."""
        return ev.factor_present & ((ev.factor_band_points > 0) | ev.factor_flagged)

    def _mechanisms(self, ev, counted, fbools, med_drivers, flags):
        """Mechanism weights and order.

        A mechanism's weight is the sum of the points of the factors and medicines that act
        through it, each counted in full for every mechanism its sources link it to (nothing is
        split as if the split were evidence); flagged indices add supporting evidence without
        weight. Ranked by weight, then by the number of drivers and indices, then by id. Each
        driver is packed as points * 256 + 1, so one integer product (numpy's own loop, not a
        threaded BLAS) gives weight and count together; one row and a million rank alike.
        """
        factors = fbools[ATTACHED] * (counted * _PACK + _ONE)
        drivers = np.concatenate([factors, med_drivers, flags])  # (drivers, n)
        packed = self._links(drivers).T                           # (n, mechanisms)
        ev.mech_weight, ev.mech_count = packed >> _EIGHT, packed & _LOW_BITS
        ev.mech_order = (-packed).argsort(axis=1, kind="stable")

    # ------------------------------------------------------------------ review
    def unapproved_rows(self, ev) -> np.ndarray:
        """Rows whose result would use a knowledge entry below ``approved`` (the same entries
        :func:`riskservice.core.review.used_entries` lists for one answer)."""
        kb = self.kb
        below = np.zeros(ev.n, dtype=bool)
        if any(s["review_status"] != "approved" for s in kb.established["scores"].values()):
            return np.ones(ev.n, dtype=bool)
        for group in ("factors", "cutoffs"):
            for pair_pos, table in enumerate(self.cx.items[group]):
                items = getattr(ev, group)[pair_pos]
                for k, (owner, _, variants) in enumerate(table.specs):
                    if group == "factors" and owner["review_status"] != "approved":
                        below |= items.present[:, k]
                    for v, variant in enumerate(variants):
                        if group == "cutoffs":
                            if variant["cutoff"]["review_status"] != "approved":
                                below |= items.present[:, k] & (items.variant[:, k] == v)
                            continue
                        for b, band in enumerate(variant["bands"]):
                            if band["review_status"] != "approved":
                                below |= (items.variant[:, k] == v) & (items.band[:, k] == b)
        for c, cls in enumerate(kb.drug_classes):
            if cls["review_status"] != "approved":
                below |= ev.med_member[:, c]
        med = kb.factor_by_id.get("medications")
        if med is not None and med["review_status"] != "approved":
            below |= ev.med_member.any(axis=1)
        present = ev.mech_count > 0
        for j, mid in enumerate(self.mechanism_ids):
            if kb.mechanisms[mid]["review_status"] != "approved":
                below |= present[:, j]
        if kb.downstream_chain["review_status"] != "approved":
            below |= present.any(axis=1)
        return below

    # ------------------------------------------------------------------ model
    def _model_tables(self):
        """Look-up tables from the row's context (sex and ethnicity) and smoking code to the
        model's dummy terms (NaN = missing, imputed by the model; a missing code, -1, takes the
        last column), the source columns of its numeric inputs, the order of its terms among
        the rows built in :meth:`_model`, and its numbers as column vectors."""
        from riskservice.model import features as F

        cx, model = self.cx, self.model
        eth = cx.choices[cx.coded_index["ethnicity"]]
        eth_table = np.full((len(eth) + 1, len(F.ETHNICITY_DUMMIES)), np.nan)
        for k, e in enumerate(eth):
            category = F.ETHNICITY_TO_CATEGORY.get(e)
            if category is not None:        # e.g. middle_eastern: no NHANES category, treated as unknown
                eth_table[k] = [float(category == d) for d in F.ETHNICITY_DUMMIES]
        smoking = cx.choices[cx.coded_index["smoking"]]
        smoking_table = np.full((len(smoking) + 1, 2), np.nan)
        for k, value in enumerate(smoking):
            smoking_table[k] = [float(value == "current"), float(value == "former")]
        male_table = np.array([[0.0], [1.0], [np.nan]])
        # the context key is sex * (ethnicities + 1) + ethnicity, missing ones last (see ItemSlots)
        contexts = np.arange(self.slots.context.shape[2])
        sex, ethnicity = np.divmod(contexts, len(eth) + 1)
        context_table = np.concatenate([male_table[sex], eth_table[ethnicity]], axis=1).T.copy()   # (terms, contexts)
        inputs = ("age", "bmi", "hdl_cholesterol", "sedentary_hours_per_day", "sleep_hours_per_night",
                  "waist", "height", "mvpa_minutes_per_week")
        columns = np.array([cx.numeric_index[name] for name in inputs], dtype=np.intp)
        names = ["age", "age_sq", "male", *(f"eth_{d}" for d in F.ETHNICITY_DUMMIES), "bmi", "waist_to_height",
                 "hdl_cholesterol", "smoking_current", "smoking_former", "mvpa_any", "sedentary_hours", "sleep_hours"]
        order = [names.index(t) for t in model.term_names]
        order = None if order == list(range(len(names))) else np.array(order, dtype=np.intp)
        numbers = tuple(np.asarray(v, dtype=np.float64).reshape(-1, 1) for v in
                        (model.fill_, model.mean_, model.scale_, model.coef_))
        return (context_table, smoking_table.T.copy(), cx.coded_index["smoking"], order, columns,
                np.array(float(F.MVPA_ANY_MIN_MINUTES)), numbers, np.array(model.intercept_, dtype=np.float64))

    def _model(self, ev, source, codes, key):
        """The model's terms from the engine's canonical columns, then its linear predictor.
        Terms are built term-major, (terms, n); ``model_terms`` and ``model_contrib`` are
        their transposes, laid out column-major as the sum of the logit has always read them."""
        from riskservice.model.predict import sigmoid

        if self._model_lookup is None:
            self._model_lookup = self._model_tables()
        (context_table, smoking_table, smoking, order, columns, mvpa_min, (fill, mean, scale, coef),
         intercept) = self._model_lookup
        num = source.T.take(columns, axis=0)      # age, bmi, hdl, sedentary, sleep, waist, height, mvpa
        age, waist, height, mvpa = num[0:1], num[5:6], num[6:7], num[7:8]
        # a height is either missing (NaN) or within its bounds, so above 0 when they are
        whtr = waist / height if self._height_positive else np.where(height > 0, waist / height, np.nan)
        mvpa_any = (mvpa >= mvpa_min) + mvpa * _ZERO_F   # 1.0 or 0.0, NaN when missing (values are finite)
        terms = np.concatenate([
            age, age * age, context_table.take(key, axis=1), num[1:2], whtr, num[2:3],
            smoking_table.take(codes[:, smoking], axis=1), mvpa_any, num[3:5]])
        if order is not None:
            terms = terms[order]
        filled = np.where(np.isnan(terms), fill, terms)
        contrib = (coef * ((filled - mean) / scale)).T
        logit = intercept + _sum(contrib, axis=1)
        ev.model_terms, ev.model_contrib, ev.logit = terms.T, contrib, logit
        ev.probability = np.where(ev.ok, sigmoid(logit), _NAN)


def _row_sums(matrix):
    """``matrix @ x`` for a 0/1 ``matrix`` (out, in) as a function of ``x`` ((in, n), or any
    axis): for a large block, each output row sums the rows of ``x`` it names (the same
    integer sums, with one addition per link instead of a product per matrix cell, and an
    output nothing links to sums nothing: 0); for a few rows, the product itself."""
    links = [np.flatnonzero(row) for row in matrix]

    def product(x, axis=0):
        if (x.shape[-1] <= SMALL_BATCH and axis == x.ndim - 2) or not links:    # a few rows: one product
            return matrix @ x
        return np.stack([_sum(x.take(rows, axis=axis), axis=axis, dtype=np.int64) for rows in links], axis=axis)

    return product


def _as_slice(positions):
    """``positions`` as a slice when they are consecutive (a view instead of a copy)."""
    if positions and positions == list(range(positions[0], positions[-1] + 1)):
        return slice(positions[0], positions[-1] + 1)
    return np.array(positions, dtype=np.intp)
