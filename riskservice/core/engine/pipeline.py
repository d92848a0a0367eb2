"""The engine: compiled knowledge (and optionally the model) and the order of its steps.

``Engine.evaluate`` runs every step on columns; each step lives in its own module of this
package (inputs, medications, items, rules, established, mechanisms, approval, model).
"""
from __future__ import annotations

import numpy as np

from riskservice.core import units as unit_table
from riskservice.core.compiled import FLAG, TOP, compile_knowledge, source_layout
from riskservice.core.engine.approval import ApprovalSteps
from riskservice.core.engine.arrays import _TRUE, as_slice, row_sums
from riskservice.core.engine.established import EstablishedSteps
from riskservice.core.engine.evaluation import Evaluation, Items, MedicationList
from riskservice.core.engine.inputs import InputSteps
from riskservice.core.engine.items import ItemSteps
from riskservice.core.engine.mechanisms import MechanismSteps
from riskservice.core.engine.medications import MedicationSteps
from riskservice.core.engine.model import ModelSteps
from riskservice.core.engine.outcome import OutcomeSteps
from riskservice.core.engine.percentiles import PercentileSteps
from riskservice.core.engine.rules import RuleSteps
from riskservice.core.engine.units import UnitSteps
from riskservice.core.inputs import Parsed

_ENGINES: dict = {}


def engine_for(knowledge, model=None) -> Engine:
    """The engine of this knowledge and model(s), compiled once per process."""
    key = (id(knowledge), id(model))
    hit = _ENGINES.get(key)
    if hit is None or hit.kb is not knowledge or hit.model is not model:
        hit = _ENGINES[key] = Engine(knowledge, model)
    return hit



class Engine(InputSteps, UnitSteps, MedicationSteps, ItemSteps, RuleSteps, EstablishedSteps, MechanismSteps,
             ApprovalSteps, ModelSteps, OutcomeSteps, PercentileSteps):
    """Compiled knowledge (and optionally the models), ready to evaluate columns.

    ``model`` is None (rules only), a :class:`~riskservice.model.modelset.ModelSet` (one model per
    role: insulin resistance, dysglycaemia) or one loaded model (placed under its role).

    The cost of one evaluation is a fixed number of array operations, whatever the number of
    rows: every item is banded on one axis (:class:`~riskservice.core.compiled.ItemSlots`),
    scores and mechanisms are matrix products with matrices built here, once. Arrays are
    item-major inside ((items, n), contiguous per item); the evaluation holds (n, items) views.
    """

    def __init__(self, knowledge, model=None):
        from riskservice.model.modelset import as_model_set

        self.kb = knowledge
        self.model = model                    # as given (the cache key of engine_for)
        self.models = as_model_set(model)     # None, or one model per role
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
            self._groups.append([as_slice(members), np.arange(len(members))[:, None], members, None])
        self._ungrouped = np.flatnonzero(~in_group)
        self.factor_slot = {owner["id"]: (pair_pos, k)
                            for pair_pos, table in enumerate(cx.items["factors"])
                            for k, (owner, _, _) in enumerate(table.specs)}
        self._links = row_sums(self._link_matrix())
        self._scores = self._score_matrices()
        self._category_mins = [np.ascontiguousarray(self._scores[2][:, :, c]) for c in range(self._scores[2].shape[2])]
        self._cutoff_items = sl.blocks["cutoffs"][0]
        self._blocks = tuple(sl.blocks[group] for group in ("factors", "established", "cutoffs"))
        self._model_lookup = None
        self._caveat_lookup = None
        self._outcome_tables()
        self._fasting_col = cx.coded_index["fasting"]
        self._triglycerides_col = cx.numeric_index["triglycerides"]
        self._fasting_items, self.fasting_factors = self._fasting_only_items()
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
        self._units_plan = self._unit_plan()
        inferred = {j for j, *_ in self._units_plan}
        # "canonical unit assumed" is reported for the body measures; a lab's unit is inferred per value
        self._multi_unit = np.array([len(u) > 1 and j not in inferred for j, u in enumerate(cx.unit_names)])
        self._sex_col = cx.coded_index["sex"]
        self._percentile_setup()
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

    def _fasting_only_items(self):
        """The factor items that score triglycerides (their input, or an index computed from
        them): they band only when the labs were drawn fasting. (Slot positions, factor ids.)"""
        kb, cx = self.kb, self.cx
        inputs = {"triglycerides"} | {ix["id"] for ix in kb.indices if "triglycerides" in ix["inputs"]}
        items, ids = [], []
        for pair_pos, table in enumerate(cx.items["factors"]):
            block = self.slots.blocks["factors"][pair_pos]
            for k, (owner, _, _) in enumerate(table.specs):
                if owner["input"] in inputs:
                    items.append(block.start + k)
                    ids.append(owner["id"])
        return np.array(items, dtype=np.intp), frozenset(ids)

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
        inferred = self._infer_units(parsed)
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
        (med_member, med_given, bp_code, med_points, med_missing, med_drivers,
         glucose_lowering) = self._medications(parsed)
        source_ah = self._antihypertensive(codes, bp_code)
        source[:, self._codes_at] = codes
        results, ints, bools, key, slot, flat = self._items(parsed, source, codes)
        (f_num, f_cat), (e_num, e_cat), (c_num, c_cat) = self._blocks
        ev = Evaluation(n=n, parsed=parsed, values=values, codes=codes, ok=ok, bmi_derived=bmi_derived,
                        assumed_unit=assumed, indices=indices, factors=(Items(results, f_num), Items(results, f_cat)),
                        established=(Items(results, e_num), Items(results, e_cat)),
                        cutoffs=(Items(results, c_num), Items(results, c_cat)),
                        med_member=med_member, med_given=med_given, antihypertensive_source=source_ah)
        ev.implausible = self._implausible(values, given) + self._implausible_units(parsed, values)
        ev.unit_inferred = inferred
        ev.triglycerides_unscored = (codes[:, self._fasting_col] != 1) & ~np.isnan(values[:, self._triglycerides_col])
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
        if self.models:
            self._model(ev, source, codes, key)
        self._outcomes(ev, glucose_lowering)
        return ev
