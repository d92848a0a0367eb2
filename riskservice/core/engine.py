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
from riskservice.core.compiled import NO_ETHNICITY, NO_SEX, compile_knowledge
from riskservice.core.indices import FORMULAS
from riskservice.core.inputs import Parsed
from riskservice.core.messages import fmt, range_message


@dataclass
class Items:
    """One item table's results: variant, band, whether the value is present, points."""

    variant: np.ndarray      # (n, items), -1 = not applicable
    band: np.ndarray         # (n, items), -1 = no value
    present: np.ndarray      # (n, items)
    points: np.ndarray       # (n, items)
    top: np.ndarray          # (n, items) highest points of the row's variant (0 if not applicable)
    flagged: np.ndarray      # (n, items) the band is marked "flagged" (its mechanisms apply at 0 points)
    diabetes: np.ndarray     # (n, items) the band meets a diagnostic threshold for diabetes


@dataclass
class MedicationList:
    """One distinct medication list: the scoring classes (membership and entries per class, in
    input order), notes for entries that do not score, and whether a blood-pressure medicine
    is taken systemically."""

    member: np.ndarray
    matches: dict
    notes: list
    blood_pressure: bool


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
SMALL_BATCH = 64            # up to this many rows, numeric items are banded in one broadcast


def engine_for(knowledge, model=None) -> Engine:
    """The engine of this knowledge and model, compiled once per process."""
    key = (id(knowledge), id(model))
    hit = _ENGINES.get(key)
    if hit is None or hit.kb is not knowledge or hit.model is not model:
        hit = _ENGINES[key] = Engine(knowledge, model)
    return hit


class Engine:
    """Compiled knowledge (and optionally the model), ready to evaluate columns."""

    def __init__(self, knowledge, model=None):
        self.kb = knowledge
        self.model = model
        self.cx = compile_knowledge(knowledge)
        kb, cx = knowledge, self.cx
        self.factor_order = [f["id"] for f in kb.factors if f["kind"] != "medications"]
        self.factor_pos = {fid: k for k, fid in enumerate(self.factor_order)}
        num, cat = cx.items["factors"]
        self._factor_cols = [(0, k) for k in range(len(num))] + [(1, k) for k in range(len(cat))]
        owners = [owner["id"] for owner, _, _ in num.specs] + [owner["id"] for owner, _, _ in cat.specs]
        self._factor_perm = np.array([owners.index(fid) for fid in self.factor_order], dtype=np.intp)
        self.med_factor = next((f for f in kb.factors if f["kind"] == "medications"), None)
        self.class_ids = [c["id"] for c in kb.drug_classes]
        self._class_pos = {cid: k for k, cid in enumerate(self.class_ids)}
        self._bp_classes = frozenset(kb.established["derived_inputs"]["antihypertensive"]["drug_classes"])
        self.class_points = np.array([c["points"] for c in kb.drug_classes], dtype=np.int64)
        self.mechanism_ids = sorted(kb.mechanisms)
        self._mech_col = {m: j for j, m in enumerate(self.mechanism_ids)}
        self._thresholds = np.array([t["min_points"] for t in kb.ruleset["bands"]["thresholds"]])
        self._med_cache: dict = {}
        self._groups = []
        for group in kb.ruleset.get("exclusive_groups", []):
            members = [self.factor_pos[fid] for fid in self.factor_order if fid in group["factors"]]
            self._groups.append((group, np.array(members, dtype=np.intp)))
        self._links = self._link_matrices()
        self.factor_slot = {owner["id"]: (pair_pos, k)
                            for pair_pos, table in enumerate(cx.items["factors"])
                            for k, (owner, _, _) in enumerate(table.specs)}
        self._score_cols: dict = {}
        self._model_lookup = None
        self._numeric_cols = np.arange(len(cx.numeric))
        self._multi_unit = np.array([len(u) > 1 for u in cx.unit_names])
        self._sex_col = cx.coded_index["sex"]
        self._eth_col = cx.coded_index["ethnicity"]
        from riskservice.core.fields import FIELDS
        self._female_only_cols = [(f.name, cx.coded_index[f.name]) for f in FIELDS if f.female_only]
        self._index_ids = [ix["id"] for ix in kb.indices]
        self._index_needs = np.zeros((len(cx.numeric), len(kb.indices)), dtype=bool)
        for k, ix in enumerate(kb.indices):
            self._index_needs[[cx.numeric_index[x] for x in ix["inputs"]], k] = True

    # ------------------------------------------------------------------ public
    def evaluate(self, parsed: Parsed) -> Evaluation:
        """Every computation for every row. Missing values are NaN and flow through the
        arithmetic on purpose, so floating-point warnings are silenced once, here."""
        with np.errstate(all="ignore"):
            return self._evaluate(parsed)

    def _evaluate(self, parsed: Parsed) -> Evaluation:
        n = parsed.n
        cx = self.cx
        errors = parsed.errors
        values, assumed = self._convert(parsed)
        bmi_derived = self._derive_bmi(values, errors)
        codes = parsed.codes
        self._female_only(codes, errors)
        ok = ~errors.mask() if errors.by_row else np.ones(n, dtype=bool)
        sex = codes[:, self._sex_col].astype(np.intp)
        sex[sex < 0] = NO_SEX
        eth_code = codes[:, self._eth_col]
        eth = eth_code.astype(np.intp)
        eth[eth < 0] = NO_ETHNICITY
        full = np.empty((n, len(cx.numeric) + len(cx.index_ids)), order="F")
        full[:, :len(cx.numeric)] = values
        indices = self._indices(values, full)
        med_member, med_given, blood_pressure = self._medications(parsed)
        source = self._antihypertensive(codes, med_given, blood_pressure)
        num = self._evaluate_table(cx.numeric_items, full, sex, eth, numeric=True, parsed=parsed)
        cat = self._evaluate_table(cx.coded_items, codes, sex, eth, numeric=False)
        groups = {name: (_take(num, sl[0]), _take(cat, sl[1])) for name, sl in cx.slices.items()}
        ev = Evaluation(n=n, parsed=parsed, values=values, codes=codes, ok=ok, bmi_derived=bmi_derived,
                        assumed_unit=assumed, indices=indices, factors=groups["factors"],
                        established=groups["established"], cutoffs=groups["cutoffs"],
                        med_member=med_member, med_given=med_given, antihypertensive_source=source)
        ev.implausible = self._implausible(values)
        self._rules(ev)
        self._established(ev)
        self._flags(ev)
        self._mechanisms(ev)
        if self.model is not None:
            self._model(ev, values, sex, eth_code)
        return ev

    # ------------------------------------------------------------------ inputs
    def _convert(self, parsed):
        cx = self.cx
        cols = self._numeric_cols
        values = parsed.raw * cx.factor[cols, parsed.unit] + cx.offset[cols, parsed.unit]
        present = ~np.isnan(values)
        outside = present & ~parsed.unit_bad & ((values < cx.lower) | (values > cx.upper))
        if outside.any():
            for i, j in zip(*np.nonzero(outside), strict=True):
                name = cx.numeric[j]
                unit = cx.unit_names[j][parsed.unit[i, j]]
                parsed.errors.add(i, name, range_message(self.kb, name, parsed.raw[i, j], unit, values[i, j]))
            values[outside] = np.nan
        values[parsed.unit_bad] = np.nan
        assumed = ~parsed.unit_given & present & self._multi_unit
        return values, assumed

    def _derive_bmi(self, values, errors):
        cx = self.cx
        jw, jh, jb = (cx.numeric_index[k] for k in ("weight", "height", "bmi"))
        w, h, bmi = values[:, jw], values[:, jh], values[:, jb]
        both = ~np.isnan(w) & ~np.isnan(h)
        derived = w / (h / 100.0) ** 2
        has_bmi = ~np.isnan(bmi)
        if not both.any():
            return np.zeros(len(w), dtype=bool)
        tol = unit_table.constant(self.kb, "BMI_CONSISTENCY_TOLERANCE")
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

    def _female_only(self, codes, errors):
        male = codes[:, self._sex_col] == 1
        if not male.any():
            return
        for name, j in self._female_only_cols:
            errors.add_mask(male & (codes[:, j] == 1), name, lambda i, name=name: f"{name} applies only to female patients")

    def _indices(self, values, full):
        """Every index as a column (NaN where an input is missing or the formula is undefined);
        also written after the fields in ``full`` so that items can band them."""
        out = {}
        have = ~(np.isnan(values) @ self._index_needs)            # (n, indices): every input present
        base = len(self.cx.numeric)
        columns = None
        computable = have.any(axis=0).tolist()
        for k, index_id in enumerate(self._index_ids):
            if computable[k]:
                if columns is None:
                    columns = {name: values[:, j] for j, name in enumerate(self.cx.numeric)}
                value = np.asarray(FORMULAS[index_id](columns), dtype=np.float64)
                value = np.where(have[:, k] & np.isfinite(value), value, np.nan)
            else:
                value = np.full(len(values), np.nan)
            out[index_id] = value
            full[:, base + k] = value
        return out

    def _medications(self, parsed):
        """(n, drug classes) membership, whether a list was given, and whether it holds a
        blood-pressure medicine taken systemically (for the questionnaires)."""
        k = len(parsed.med_lists)
        member_of_list = np.zeros((k + 1, len(self.class_ids)), dtype=bool)
        bp_of_list = np.zeros(k + 1, dtype=bool)
        for j, entries in enumerate(parsed.med_lists):
            info = self._classes_of(tuple(entries))
            member_of_list[j], bp_of_list[j] = info.member, info.blood_pressure
        index = np.where(parsed.med_index >= 0, parsed.med_index, k)
        return member_of_list[index], parsed.med_index >= 0, bp_of_list[index]

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
        hit = MedicationList(member, matches, notes, blood_pressure)
        if len(self._med_cache) < MED_CACHE_LIMIT:
            self._med_cache[entries] = hit
        return hit

    def _antihypertensive(self, codes, med_given, blood_pressure):
        """The questionnaires' blood-pressure items. ADA asks about a diagnosis of high blood
        pressure (``hypertension``, or treatment, which implies it); FINDRISC asks only whether
        blood-pressure medication was ever taken regularly: yes when one is listed, no when a
        list without one was given or high blood pressure was denied, else unknown."""
        cx = self.cx
        hyper = codes[:, cx.coded_index["hypertension"]]
        codes[:, cx.coded_index["antihypertensive"]] = np.where(
            (hyper == 1) | blood_pressure, 1, np.where(hyper == 0, 0, -1))
        codes[:, cx.coded_index["antihypertensive_medication"]] = np.where(
            blood_pressure, 1, np.where(med_given | (hyper == 0), 0, -1))
        # source of the ADA item: 0 none, 1 hypertension, 2 medications
        return np.where(hyper == 1, 1, np.where(blood_pressure, 2, np.where(hyper == 0, 1, 0)))

    def _implausible(self, values):
        """Combinations that cannot both be right (a data-entry check, not a clinical rule):
        (mask, field, message) each, reported as warnings; nothing is changed or refused."""
        ix = self.cx.numeric_index
        day = unit_table.constant(self.kb, "HOURS_PER_DAY")
        ratio = unit_table.constant(self.kb, "MAX_WAIST_TO_HIP")
        sleep, sitting = values[:, ix["sleep_hours_per_night"]], values[:, ix["sedentary_hours_per_day"]]
        waist, hip = values[:, ix["waist"]], values[:, ix["hip"]]
        return [
            (sleep + sitting > day, "sedentary_hours_per_day",
             f"sleep and sitting time add up to more than {day:g} hours a day: check both values"),
            (waist > ratio * hip, "waist",
             f"waist is more than {ratio:g} times the hip circumference: check the values and their units"),
        ]

    # ------------------------------------------------------------------ items
    @staticmethod
    def _evaluate_table(t, matrix, sex, eth, numeric: bool, parsed=None) -> Items:
        """Variant, band, presence and points of every item in ``t`` for every row.

        A numeric band is the count of the variant's strict thresholds below the value, in the
        unit the value was sent in (edges as the guideline states them in that unit). Small
        inputs compare all thresholds at once; large ones use one binary search per item,
        variant and unit (the same count, without an n x items x edges temporary)."""
        n, k = len(sex), len(t)
        items = np.arange(k)
        variant = t.variant.reshape(k, -1).take(sex * t.variant.shape[2] + eth, axis=1).T   # (n, k)
        v = np.maximum(variant, 0)
        nv, nb = t.points.shape[1], t.points.shape[2]
        iv = items * nv + v                                       # (item, variant) as one flat index
        x = np.asfortranarray(matrix[:, t.columns])
        if numeric:
            present = ~np.isnan(x) & (variant >= 0)
            u = np.zeros((n, k), dtype=np.intp, order="F")
            multi = np.flatnonzero(t.unit_field >= 0)
            xs = x
            if parsed is not None and len(multi):
                xs = x.copy(order="F")
                xs[:, multi] = parsed.raw[:, t.unit_field[multi]]
                u[:, multi] = parsed.unit[:, t.unit_field[multi]]
            if n <= SMALL_BATCH:
                band = (xs[:, :, None] > t.unit_thresholds[items, u, v]).sum(axis=2)
            else:
                band = np.zeros((n, k), dtype=np.intp, order="F")
                for j in range(k):
                    used = t.variants_used[j]
                    units = np.unique(u[:, j]) if t.unit_field[j] >= 0 else (0,)
                    for var in used:
                        for unit in units:
                            if len(used) == 1 and len(units) == 1:
                                band[:, j] = np.searchsorted(t.unit_thresholds[j, unit, var], xs[:, j], side="left")
                                continue
                            rows = (v[:, j] == var) & (u[:, j] == unit)
                            band[rows, j] = np.searchsorted(t.unit_thresholds[j, unit, var], xs[rows, j], side="left")
        else:
            width = t.band_of_code.shape[2]
            x = x.astype(np.intp)
            band = t.band_of_code.ravel().take(iv * width + np.where(x < 0, width - 1, x))   # -1: the "no band" slot
            present = (band >= 0) & (variant >= 0)
        band = np.where(present, band, -1)
        flat = iv * nb + np.maximum(band, 0)                      # (item, variant, band) as one flat index
        points = np.where(present, t.points.ravel().take(flat), 0)
        top = np.where(variant >= 0, t.top.ravel().take(iv), 0)
        flagged = present & t.flagged_band.ravel().take(flat)
        diabetes = present & t.diabetes.ravel().take(flat) if numeric else np.zeros((n, k), dtype=bool)
        return Items(variant, band, present, points, top, flagged, diabetes)

    def _factor_matrix(self, pair, attr):
        num, cat = pair
        return np.concatenate([getattr(num, attr), getattr(cat, attr)], axis=1)[:, self._factor_perm]

    # ------------------------------------------------------------------ rules score
    def _rules(self, ev):
        n = ev.n
        band_points = self._factor_matrix(ev.factors, "points")
        present = self._factor_matrix(ev.factors, "present")
        top = self._factor_matrix(ev.factors, "top")
        ev.factor_flagged = self._factor_matrix(ev.factors, "flagged")
        ev.diabetes_range = self._factor_matrix(ev.factors, "diabetes").any(axis=1)
        counted = band_points.copy()
        missing_top = np.where(present, 0, top)
        overlap = np.zeros(n, dtype=np.int64)
        group_headroom = np.zeros(n, dtype=np.int64)
        in_group = np.zeros(len(self.factor_order), dtype=bool)
        for _, members in self._groups:
            in_group[members] = True
            pts = np.where(present[:, members], band_points[:, members], -1)
            best = pts.argmax(axis=1)                  # first of the highest, in knowledge order
            any_present = present[:, members].any(axis=1)
            keep = np.zeros((n, len(members)), dtype=bool)
            keep[np.arange(n), best] = True
            keep &= any_present[:, None]
            counted[:, members] = np.where(keep, band_points[:, members], 0)
            best_points = np.where(any_present, pts.max(axis=1), 0)
            adjusted = np.where(present[:, members], 0, np.maximum(0, top[:, members] - best_points[:, None]))
            missing_top[:, members] = adjusted
            group_headroom += adjusted.max(axis=1) if len(members) else 0
            tops = top[:, members]
            overlap += tops.sum(axis=1) - tops.max(axis=1)
        med_applicable = self.med_factor is not None
        med_points = ev.med_member.astype(np.int64) @ self.class_points
        med_max = int(self.class_points.sum()) if med_applicable else 0
        ev.counted, ev.factor_present, ev.factor_top, ev.factor_band_points = counted, present, top, band_points
        ev.med_points = med_points
        ev.points = counted.sum(axis=1) + med_points
        ev.max_points = top.sum(axis=1) + med_max - overlap
        ev.missing_top = missing_top
        med_missing = np.where(ev.med_given, 0, med_max) if med_applicable else 0
        ev.headroom = missing_top[:, ~in_group].sum(axis=1) + group_headroom + med_missing
        ev.band = self.total_band(ev.points)
        ev.band_if_max = self.total_band(ev.points + ev.headroom)

    def total_band(self, points):
        """Index of the ruleset band (the highest whose ``min_points`` is reached) per total."""
        return np.searchsorted(self._thresholds, points, side="right") - 1

    # ------------------------------------------------------------------ established scores
    def _established(self, ev):
        num, cat = ev.established
        specs = self.cx.items["established"][0].specs + self.cx.items["established"][1].specs
        points = np.concatenate([num.points, cat.points], axis=1)
        present = np.concatenate([num.present, cat.present], axis=1)
        applicable = np.concatenate([num.variant, cat.variant], axis=1) >= 0
        top = np.concatenate([num.top, cat.top], axis=1)
        for sid, score in self.kb.established["scores"].items():
            cols = self._score_cols.get(sid)
            if cols is None:
                cols = self._score_cols[sid] = np.array(
                    [k for k, (owner, _, _) in enumerate(specs) if owner[0] == sid], dtype=np.intp)
            low = points[:, cols].sum(axis=1)
            missing = applicable[:, cols] & ~present[:, cols]
            high = low + np.where(missing, top[:, cols], 0).sum(axis=1)
            mins = np.array([c["min_points"] for c in score["categories"]])
            ev.scores[sid] = {
                "points": low, "points_max": high, "complete": ~missing.any(axis=1),
                "category": np.searchsorted(mins, low, side="right") - 1,
                "category_max": np.searchsorted(mins, high, side="right") - 1,
            }

    def _flags(self, ev):
        num, _ = ev.cutoffs
        t = self.cx.items["cutoffs"][0]
        items = np.arange(len(t))
        v = np.maximum(num.variant, 0)
        flag = t.flag[items, v, np.maximum(num.band, 0)] & num.present
        for k, (index, _, _) in enumerate(t.specs):
            ev.flagged[index["id"]] = (flag[:, k], num.variant[:, k])

    # ------------------------------------------------------------------ mechanisms
    def _link_matrices(self):
        """For each mechanism, the driver columns (factors, then drug classes, then flagged
        indices) that act through it."""
        kb = self.kb
        sources = [kb.factor_by_id[fid]["mechanisms"] for fid in self.factor_order]
        sources += [c["mechanisms"] for c in kb.drug_classes]
        flagged = [ix for ix in kb.indices if ix.get("mechanisms_when_flagged")]
        sources += [ix["mechanisms_when_flagged"] for ix in flagged]
        columns = [np.array([k for k, mechs in enumerate(sources) if mid in mechs], dtype=np.intp)
                   for mid in self.mechanism_ids]
        return {"columns": columns, "index_ids": [ix["id"] for ix in flagged]}

    def attached(self, ev):
        """(n, factors): the factor's mechanisms apply (points in its band, or a flagged band)."""
        return ev.factor_present & ((ev.factor_band_points > 0) | ev.factor_flagged)

    def _mechanisms(self, ev):
        """Mechanism weights and order.

        A mechanism's weight is the sum of the points of the factors and medicines that act
        through it, each counted in full for every mechanism its sources link it to (nothing is
        split as if the split were evidence); flagged indices add supporting evidence without
        weight. Ranked by weight, then by the number of drivers and indices, then by id. All
        integer arithmetic, so one row and a million rows rank alike.
        """
        links = self._links
        drivers = [np.where(self.attached(ev), ev.counted * 256 + 1, 0)]
        if len(self.class_ids):
            drivers.append(np.where(ev.med_member, self.class_points * 256 + 1, 0))
        for ix in links["index_ids"]:
            flag = ev.flagged.get(ix)
            drivers.append((flag[0] if flag is not None else np.zeros(ev.n, dtype=bool)).astype(np.int64)[:, None])
        packed_in = np.concatenate(drivers, axis=1)
        packed = np.column_stack([packed_in[:, cols].sum(axis=1) for cols in links["columns"]]) \
            if links["columns"] else np.zeros((ev.n, 0), dtype=np.int64)
        ev.mech_weight, ev.mech_count = packed >> 8, packed & 255
        key = (packed.max(initial=0) - packed) * 64 + np.arange(packed.shape[1])
        ev.mech_order = np.argsort(key, axis=1, kind="stable")

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
        """Look-up tables from codes to the model's dummy terms (NaN = missing, imputed by the
        model), and the order of the model's terms among the columns built below."""
        from riskservice.model import features as F

        cx = self.cx
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
        male_table = np.array([0.0, 1.0, np.nan])
        names = ["age", "age_sq", "male", *(f"eth_{d}" for d in F.ETHNICITY_DUMMIES), "bmi", "waist_to_height",
                 "hdl_cholesterol", "smoking_current", "smoking_former", "mvpa_any", "sedentary_hours",
                 "sleep_hours"]
        order = np.array([names.index(t) for t in self.model.term_names], dtype=np.intp)
        ix = {name: cx.numeric_index[name] for name in ("age", "height", "waist", "bmi", "hdl_cholesterol",
                                                          "mvpa_minutes_per_week", "sedentary_hours_per_day",
                                                          "sleep_hours_per_night")}
        return eth_table, smoking_table, male_table, order, ix, F.MVPA_ANY_MIN_MINUTES

    def _model(self, ev, values, sex, eth_code):
        """The model's terms from the engine's canonical columns, then its linear predictor."""
        from riskservice.model.predict import sigmoid

        model = self.model
        if self._model_lookup is None:
            self._model_lookup = self._model_tables()
        eth_table, smoking_table, male_table, order, ix, mvpa_min = self._model_lookup
        age, height, waist = values[:, ix["age"]], values[:, ix["height"]], values[:, ix["waist"]]
        mvpa = values[:, ix["mvpa_minutes_per_week"]]
        whtr = np.where(height > 0, waist / height, np.nan)
        mvpa_any = np.where(np.isnan(mvpa), np.nan, (mvpa >= mvpa_min).astype(np.float64))
        smoking = ev.codes[:, self.cx.coded_index["smoking"]]
        columns = np.column_stack([
            age, age * age, male_table[sex], eth_table[eth_code], values[:, ix["bmi"]], whtr,
            values[:, ix["hdl_cholesterol"]], smoking_table[smoking], mvpa_any,
            values[:, ix["sedentary_hours_per_day"]], values[:, ix["sleep_hours_per_night"]]])
        X = columns[:, order]
        filled = np.where(np.isnan(X), model.fill_, X)
        contrib = model.coef_ * ((filled - model.mean_) / model.scale_)
        logit = model.intercept_ + contrib.sum(axis=1)
        ev.model_terms, ev.model_contrib, ev.logit = X, contrib, logit
        ev.probability = np.where(ev.ok, sigmoid(logit), np.nan)


def _take(items: Items, sl: slice) -> Items:
    return Items(items.variant[:, sl], items.band[:, sl], items.present[:, sl], items.points[:, sl],
                 items.top[:, sl], items.flagged[:, sl], items.diabetes[:, sl])
