"""Vectorised scoring of many patients: the same tables, conversions and formulas as the
single-patient path, applied column-wise with numpy (no per-row loop over ``Scorer.score``).

Input is a mapping of field name -> column (pyarrow or numpy array; CSV cells as strings,
JSON-array cells as typed values). Every row comes back: a row with a problem gets its
error text and empty result cells, every other row is scored. ``tests/core/test_batch.py``
scores thousands of random patients both ways and requires identical results.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskservice.core import units as unit_table
from riskservice.core.fields import ALL_KEYS, FIELDS, FIELD_BY_NAME
from riskservice.core.indices import COMPARE, FORMULAS, cutoff_for
from riskservice.core.patient import fmt, range_message

INDEX_COLUMNS = ("homa_ir", "quicki", "tyg", "tg_hdl", "mets_ir", "mcauley", "spise")
TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")


# --------------------------------------------------------------------------- header
@dataclass
class ColumnPlan:
    """How input columns map to fields; anything else is passed through in its place."""

    fields: dict = field(default_factory=dict)      # field or unit key -> source column name
    passthrough: list = field(default_factory=list)
    problems: dict = field(default_factory=dict)    # column -> messages (422 before scoring)


def plan_columns(header) -> ColumnPlan:
    plan = ColumnPlan()
    for name in header:
        key = str(name).strip().lower()
        if key in ALL_KEYS:
            if key in plan.fields:
                plan.problems.setdefault(name, []).append(
                    f"duplicate column for field {key!r} (also {plan.fields[key]!r})")
            else:
                plan.fields[key] = name
            continue
        near = _near_miss(key)
        if near:
            plan.problems.setdefault(name, []).append(
                f"unknown column {name!r} looks like a misspelling of {near!r}; rename it, "
                f"or rename it clearly (e.g. 'x_{key}') to pass it through")
        plan.passthrough.append(name)
    for required in ("age", "sex"):
        if required not in plan.fields:
            plan.problems.setdefault(required, []).append(f"required column {required!r} is missing")
    return plan


def _near_miss(key: str):
    best = None
    for candidate in ALL_KEYS:
        d = _distance(key, candidate)
        shortest = min(len(key), len(candidate))
        if (d == 1 and shortest >= 3) or (d == 2 and shortest >= 5):
            if best is None or d < best[0]:
                best = (d, candidate)
    return best[1] if best else None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (tiny strings, header-only, so the plain DP is fine)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# --------------------------------------------------------------------------- parsing
class Errors:
    """Per-row error messages, kept only for the rows that have them."""

    def __init__(self, n):
        self.n = n
        self.by_row: dict = {}

    def add(self, mask, field_name, message_for_row):
        for i in np.flatnonzero(mask):
            self.by_row.setdefault(int(i), {}).setdefault(field_name, []).append(message_for_row(int(i)))

    def mask(self):
        m = np.zeros(self.n, dtype=bool)
        if self.by_row:
            m[list(self.by_row)] = True
        return m

    def text(self, i):
        errs = self.by_row[i]
        return " | ".join(f"{k}: {'; '.join(v)}" for k, v in sorted(errs.items()))


@dataclass
class Columns:
    """Parsed, canonical columns: floats with NaN for missing, int8 codes (-1 missing)."""

    n: int
    numeric: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    given_unit_assumed: dict = field(default_factory=dict)
    med_classes: list = field(default_factory=list)      # per class id: bool array
    med_present: np.ndarray = None
    med_unknown_text: list = None                         # per distinct cell: warning text or None
    med_unknown_idx: np.ndarray = None                    # per row: index into med_unknown_text
    unit_without_value: dict = field(default_factory=dict)


def _pylist(column, n):
    """JSON-array columns arrive as Python lists; keep their types for strict checks."""
    if column is None:
        return [None] * n
    if isinstance(column, list):
        return column
    return column.to_pylist()


def _as_arrow(column, n):
    if column is None:
        return pa.nulls(n, type=pa.string())
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        return column
    return pa.array(column, from_pandas=True)


def _strings(arr):
    """Cells as trimmed strings with nulls for empty cells."""
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def parse(columns: dict, n: int, kb, strict_types: bool = False):
    """Parse input columns into canonical arrays; collect every problem per row."""
    errors = Errors(n)
    out = Columns(n=n)
    for f in FIELDS:
        raw = columns.get(f.name)
        if f.kind == "number":
            _parse_number(kb, f.name, raw, columns.get(f"{f.name}_unit") if f.has_unit else None,
                          n, out, errors, strict_types)
        elif f.kind in ("enum", "bool"):
            _parse_choice(f, raw, n, out, errors, strict_types)
        elif f.kind == "list":
            _parse_medications(kb, raw, n, out, errors, strict_types)
    for f in FIELDS:
        if f.required:
            missing = out.codes[f.name] == -1 if f.kind != "number" else np.isnan(out.numeric[f.name])
            missing &= ~_has_error(errors, f.name, n)
            errors.add(missing, f.name, lambda i: "Missing data for required field.")
    _derive_bmi(kb, out, errors)
    male = out.codes["sex"] == 1
    for f in FIELDS:
        if f.female_only:
            errors.add(male & (out.codes[f.name] == 1), f.name,
                       lambda i, name=f.name: f"{name} applies only to female patients")
    return out, errors


def _has_error(errors, name, n):
    m = np.zeros(n, dtype=bool)
    for i, errs in errors.by_row.items():
        if name in errs:
            m[i] = True
    return m


def _parse_number(kb, name, raw, raw_unit, n, out, errors, strict):
    if strict:
        values, bad = _typed_numbers(_pylist(raw, n), n)
        errors.add(bad, name, lambda i: "Not a number: send a JSON number.")
    else:
        s = _strings(_as_arrow(raw, n))
        try:
            values = pc.cast(s, pa.float64()).to_numpy(zero_copy_only=False).copy()  # writable: inf -> NaN below
            bad = np.zeros(n, dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values, bad = _slow_numbers(s, n)
        nonfinite = ~np.isfinite(values) & ~np.isnan(values)
        if nonfinite.any():
            bad |= nonfinite
            values[nonfinite] = np.nan
        text = s
        errors.add(bad, name, lambda i: f"{text[i].as_py()!r} is not a number")
    values = np.asarray(values, dtype="float64").copy()
    spec = unit_table.quantity(kb, name)
    canon = spec["canonical"]
    factor = np.ones(n)
    offset = np.zeros(n)
    unit_of = lambda i: canon  # noqa: E731  (only error rows ask for their unit)
    if raw_unit is not None:
        if strict:
            py = _pylist(raw_unit, n)
            nonstr = np.array([v is not None and not isinstance(v, str) for v in py], dtype=bool)
            errors.add(nonstr, f"{name}_unit", lambda i: "Not a valid string.")
            raw_unit = pa.array([v if isinstance(v, str) else None for v in py], type=pa.string())
        u = _strings(_as_arrow(raw_unit, n))
        choices = list(spec["units"])
        given = ~np.asarray(pc.is_null(u))
        idx = np.asarray(pc.fill_null(pc.index_in(u, value_set=pa.array(choices)), -1))
        invalid = given & (idx < 0)
        errors.add(invalid, f"{name}_unit", lambda i: f"Must be one of: {', '.join(choices)}.")
        factors = np.array([spec["units"][c]["factor"] for c in choices] + [1.0])
        offsets = np.array([spec["units"][c].get("offset", 0.0) for c in choices] + [0.0])
        names = np.array(choices + [canon], dtype=object)
        pick = np.where(given & ~invalid, idx, len(choices))
        factor, offset = factors[pick], offsets[pick]
        unit_of = lambda i: names[pick[i]]  # noqa: E731
        assumed = ~given
    else:
        assumed = np.ones(n, dtype=bool)
    present = ~np.isnan(values)
    if raw_unit is not None:
        out.unit_without_value[name] = given & ~present
    converted = values * factor + offset
    lo, hi = spec["bounds"]
    outside = present & ~((converted >= lo) & (converted <= hi))
    if raw_unit is not None:
        outside &= ~invalid  # the unit is already reported; a range in the wrong unit would mislead
    errors.add(outside, name, lambda i: range_message(kb, name, _clean(values[i]), unit_of(i), converted[i]))
    converted[outside] = np.nan
    out.numeric[name] = converted
    if len(spec["units"]) > 1:
        out.given_unit_assumed[name] = assumed & present


def _clean(x):
    return int(x) if float(x).is_integer() else float(x)


def _typed_numbers(py, n):
    values = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    for i, v in enumerate(py):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
            bad[i] = True
        else:
            values[i] = float(v)
    return values, bad


def _slow_numbers(s, n):
    """Fallback when a chunk has unparseable cells: parse the distinct strings once."""
    enc = pc.dictionary_encode(s).combine_chunks() if isinstance(s, pa.ChunkedArray) else pc.dictionary_encode(s)
    dictionary = enc.dictionary.to_pylist()
    parsed = np.empty(len(dictionary) + 1)
    badmap = np.zeros(len(dictionary) + 1, dtype=bool)
    for k, text in enumerate(dictionary):
        try:
            parsed[k] = float(text)
        except ValueError:
            parsed[k], badmap[k] = np.nan, True
    parsed[-1] = np.nan
    idx = np.asarray(pc.fill_null(enc.indices, -1)).astype(np.intp)
    return parsed[idx].copy(), badmap[idx]


def _parse_choice(f, raw, n, out, errors, strict):
    arr = None if strict else _as_arrow(raw, n)
    if f.kind == "bool":
        if strict:
            codes = np.full(n, -1, dtype=np.int8)
            bad = np.zeros(n, dtype=bool)
            for i, v in enumerate(_pylist(raw, n)):
                if v is None:
                    continue
                if isinstance(v, bool):
                    codes[i] = int(v)
                else:
                    bad[i] = True
        else:
            s = pc.utf8_lower(_strings(arr))
            words = list(TRUE_WORDS + FALSE_WORDS)
            idx = np.asarray(pc.fill_null(pc.index_in(s, value_set=pa.array(words)), -1))
            present = ~np.asarray(pc.is_null(s))
            bad = present & (idx < 0)
            codes = np.where(idx < 0, -1, np.where(idx < len(TRUE_WORDS), 1, 0)).astype(np.int8)
        errors.add(bad, f.name, lambda i: "Not a boolean: send true or false.")
        out.codes[f.name] = codes
        return
    if strict:
        py = _pylist(raw, n)
        bad = np.array([v is not None and not isinstance(v, str) for v in py], dtype=bool)
        lowered = pa.array([v if isinstance(v, str) else None for v in py], type=pa.string())
        errors.add(bad, f.name, lambda i: "Not a valid string.")
    else:
        lowered = pc.utf8_lower(_strings(arr))
    idx = np.asarray(pc.fill_null(pc.index_in(lowered, value_set=pa.array(list(f.choices))), -1))
    present = ~np.asarray(pc.is_null(lowered))
    bad = present & (idx < 0)
    errors.add(bad, f.name, lambda i: f"Must be one of: {', '.join(f.choices)}.")
    out.codes[f.name] = np.where(bad, -1, idx).astype(np.int8)


def _parse_medications(kb, raw, n, out, errors, strict):
    ids = [c["id"] for c in kb.drug_classes]
    if strict:
        py = _pylist(raw, n)
        keys = []
        for i, v in enumerate(py):
            if v is None:
                keys.append(None)
            elif isinstance(v, list) and all(isinstance(x, str) and 0 < len(x) <= 100 for x in v) and len(v) <= 50:
                keys.append(";".join(v) if v else "\0")
            else:
                keys.append(None)
                errors.add(np.arange(n) == i, "medications", lambda j: "Not a list of medication names.")
        arr = pa.array(keys, type=pa.string())
        splitter = lambda text: [] if text == "\0" else text.split(";")  # noqa: E731
    else:
        arr = _strings(_as_arrow(raw, n))
        splitter = lambda text: [x.strip() for x in text.split(";") if x.strip()]  # noqa: E731
    enc = pc.dictionary_encode(arr)
    dictionary = enc.dictionary.to_pylist()
    k = len(dictionary)
    member = np.zeros((k + 1, len(ids)), dtype=bool)
    unknown = [None] * (k + 1)
    for d, text in enumerate(dictionary):
        entries = splitter(text)
        missing = []
        for entry in entries:
            cls = kb.drug_class_for(entry)
            if cls is None:
                missing.append(entry)
            else:
                member[d, ids.index(cls["id"])] = True
        unknown[d] = ("not in the drug-class vocabulary, so not scored: " + ", ".join(missing)) if missing else None
    idx = np.asarray(pc.fill_null(enc.indices, -1)).astype(np.intp)
    out.med_present = idx >= 0
    out.med_classes = [member[idx, j] for j in range(len(ids))]
    out.med_unknown_text = unknown
    out.med_unknown_idx = np.where(idx >= 0, idx, k)


def _derive_bmi(kb, out, errors):
    w, h, bmi = out.numeric["weight"], out.numeric["height"], out.numeric["bmi"]
    both = ~np.isnan(w) & ~np.isnan(h)
    with np.errstate(invalid="ignore", divide="ignore"):
        derived = w / (h / 100.0) ** 2
    tol = unit_table.constant(kb, "BMI_CONSISTENCY_TOLERANCE")
    has_bmi = ~np.isnan(bmi)
    with np.errstate(invalid="ignore"):
        disagree = both & has_bmi & (np.abs(bmi - derived) / derived > tol)
    errors.add(disagree, "bmi", lambda i: (
        f"bmi {fmt(bmi[i])} disagrees with weight/height ({fmt(derived[i])} kg/m2) by more than "
        f"{tol:.0%}; send consistent values or only one of them"))
    fill = both & ~has_bmi
    lo, hi = unit_table.bounds(kb, "bmi")
    outside = fill & ~((derived >= lo) & (derived <= hi))
    errors.add(outside, "bmi", lambda i: (
        f"BMI derived from weight and height is {fmt(derived[i])} kg/m2, outside the accepted "
        f"range {fmt(lo)}-{fmt(hi)} kg/m2; check the weight and height units"))
    bmi = bmi.copy()
    take = fill & ~outside
    bmi[take] = derived[take]
    out.numeric["bmi"] = bmi
    out.bmi_half_given = (np.isnan(w) != np.isnan(h)) & ~has_bmi


# --------------------------------------------------------------------------- scoring
def _value_present(cols, factor):
    name = factor["input"]
    if name in cols.numeric:
        return ~np.isnan(cols.numeric[name])
    return cols.codes[name] >= 0


def _lut_mask(codes, allowed_codes, size):
    """codes in allowed_codes, by table lookup (codes are small ints, -1 = missing)."""
    lut = np.zeros(size + 1, dtype=bool)
    lut[list(allowed_codes)] = True
    return lut[codes]          # -1 indexes the last (False) slot


def _variant_masks(variants, cols, n):
    sex = cols.codes["sex"]
    eth = cols.codes["ethnicity"]
    sex_choices = FIELD_BY_NAME["sex"].choices
    eth_choices = FIELD_BY_NAME["ethnicity"].choices
    remaining = np.ones(n, dtype=bool)
    masks = []
    for v in variants:
        cond = remaining.copy()
        when = v["when"]
        if "sex" in when:
            cond &= _lut_mask(sex, [sex_choices.index(x) for x in when["sex"]], len(sex_choices))
        if "ethnicity" in when:
            cond &= _lut_mask(eth, [eth_choices.index(e) for e in when["ethnicity"] if e in eth_choices],
                              len(eth_choices))
        masks.append(cond)
        remaining &= ~cond
    return masks


def _band_mask(band, factor, cols):
    name = factor["input"]
    if "equals" in band:
        codes = cols.codes[name]
        f = FIELD_BY_NAME[name]
        target = int(band["equals"]) if f.kind == "bool" else f.choices.index(band["equals"])
        return codes == target
    x = cols.numeric[name]
    m = ~np.isnan(x)
    if band["lower"] is not None:
        m &= (x >= band["lower"]) if band["lower_inclusive"] else (x > band["lower"])
    if band["upper"] is not None:
        m &= (x <= band["upper"]) if band["upper_inclusive"] else (x < band["upper"])
    return m


@dataclass
class Coded:
    """A string column as distinct values plus one index per row (-1 = empty), so that
    millions of rows never become millions of Python strings."""

    values: list
    index: np.ndarray


@dataclass
class FactorColumns:
    factor: dict
    applicable: np.ndarray
    present: np.ndarray
    band_points: np.ndarray
    top: np.ndarray
    attached: np.ndarray      # mechanisms attached (band points > 0 or flagged band)
    warning: list             # (mask, message)


def _factor_columns(factor, cols, n):
    sexes = factor.get("sexes", ("female", "male"))
    applicable = _lut_mask(cols.codes["sex"], [FIELD_BY_NAME["sex"].choices.index(s) for s in sexes], 2)
    present = _value_present(cols, factor) & applicable
    band_points = np.zeros(n, dtype=np.int64)
    top = np.zeros(n, dtype=np.int64)
    attached = np.zeros(n, dtype=bool)
    warnings = []
    for vmask, variant in zip(_variant_masks(factor["variants"], cols, n), factor["variants"]):
        top[vmask] = max(b["points"] for b in variant["bands"])
        for band in variant["bands"]:
            m = vmask & present & _band_mask(band, factor, cols)
            band_points[m] = band["points"]
            if band["points"] > 0 or band.get("flagged"):
                attached |= m
            if band.get("warning"):
                warnings.append((m, band["warning"]))
    top[~applicable] = 0
    return FactorColumns(factor, applicable, present, band_points, top, attached, warnings)


def score_columns(cols: Columns, errors: Errors, kb, model=None, audience: str = "clinician") -> dict:
    """Result columns (numpy arrays, NaN/None where a row has an error)."""
    n = cols.n
    ok = ~errors.mask()
    factors = [f for f in kb.factors if f["kind"] != "medications"]
    fc = {f["id"]: _factor_columns(f, cols, n) for f in factors}
    counted = {fid: c.band_points.copy() for fid, c in fc.items()}
    overlap = np.zeros(n, dtype=np.int64)
    for group in kb.ruleset.get("exclusive_groups", []):
        members = [fid for fid in (f["id"] for f in factors) if fid in group["factors"]]
        best = np.full(n, -1, dtype=np.int64)
        best_idx = np.full(n, -1, dtype=np.int64)
        for k, fid in enumerate(members):
            c = fc[fid]
            better = c.present & (c.band_points > best)
            best = np.where(better, c.band_points, best)
            best_idx = np.where(better, k, best_idx)
        for k, fid in enumerate(members):
            counted[fid] = np.where(best_idx == k, fc[fid].band_points, 0)
        tops = np.stack([fc[fid].top for fid in members])
        overlap += tops.sum(axis=0) - tops.max(axis=0)
    med_max = sum(c["points"] for c in kb.drug_classes)
    med_points = np.zeros(n, dtype=np.int64)
    for cls, member in zip(kb.drug_classes, cols.med_classes):
        med_points += np.where(member, cls["points"], 0)
    points = sum(counted.values()) + med_points
    max_points = sum(c.top for c in fc.values()) + med_max - overlap
    thresholds = kb.ruleset["bands"]["thresholds"]
    mins = np.array([t["min_points"] for t in thresholds])
    band = Coded([t["id"] for t in thresholds], np.searchsorted(mins, points, side="right") - 1)

    # indices
    ctx_values = dict(cols.numeric)
    index_out = {}
    flagged = {}
    for index in kb.indices:
        if index["id"] not in INDEX_COLUMNS and not index.get("mechanisms_when_flagged"):
            continue
        with np.errstate(all="ignore"):
            value = FORMULAS[index["id"]](ctx_values)
        value = np.where(np.all([~np.isnan(cols.numeric[x]) for x in index["inputs"]], axis=0), value, np.nan)
        if index["id"] in INDEX_COLUMNS:
            index_out[index["id"]] = value
        flagged[index["id"]] = _flagged(index, value, cols, n)

    top3 = _top_mechanisms(kb, fc, counted, cols, flagged, n, audience)
    missing_factors = _missing_strings(kb, fc, cols, n)
    warnings = _warnings(fc, cols, n)
    probability = np.full(n, np.nan)
    if model is not None and ok.any():
        probability[ok] = model.predict_columns(_model_columns(cols, ok), int(ok.sum()))
    result = {
        "points": points, "max_points": max_points, "band": band, "probability": probability,
        **index_out, **top3, "missing_factors": missing_factors, "warnings": warnings,
    }
    error_text = np.empty(n, dtype=object)
    for i in errors.by_row:
        error_text[i] = errors.text(i)
    result["error"] = error_text
    result["_ok"] = ok
    return result


def _flagged(index, value, cols, n):
    out = np.zeros(n, dtype=bool)
    if not index.get("cutoffs"):
        return out
    variants = [dict(c, bands=[]) for c in index["cutoffs"]]
    for mask, cut in zip(_variant_masks(variants, cols, n), index["cutoffs"]):
        with np.errstate(invalid="ignore"):
            out |= mask & COMPARE[cut["comparison"]](value, cut["value"])
    return out


def _top_mechanisms(kb, fc, counted, cols, flagged, n, audience="clinician"):
    mech_ids = sorted(kb.mechanisms)
    col = {m: j for j, m in enumerate(mech_ids)}
    shares, attached, links = [], [], []
    for fid, c in fc.items():
        mechs = c.factor["mechanisms"]
        if mechs:
            shares.append(counted[fid] / len(mechs))
            attached.append(c.attached)
            links.append(mechs)
    for cls, member in zip(kb.drug_classes, cols.med_classes):
        shares.append(np.full(n, cls["points"] / len(cls["mechanisms"])))
        attached.append(member)
        links.append(cls["mechanisms"])
    link = np.zeros((len(links), len(mech_ids)))
    for k, mechs in enumerate(links):
        link[k, [col[m] for m in mechs]] = 1.0
    A = np.column_stack(attached).astype(np.float64)
    weight = (np.column_stack(shares) * A) @ link
    count = A @ link
    flags = [(flagged[ix["id"]], ix.get("mechanisms_when_flagged", [])) for ix in kb.indices
             if ix["id"] in flagged and ix.get("mechanisms_when_flagged")]
    if flags:
        F = np.column_stack([f for f, _ in flags]).astype(np.float64)
        flink = np.zeros((len(flags), len(mech_ids)))
        for k, (_, mechs) in enumerate(flags):
            flink[k, [col[m] for m in mechs]] = 1.0
        count += F @ flink
    count = np.rint(count).astype(np.int64)
    present = count > 0
    # One integer sort key per cell reproduces the single path's ranking:
    # weight (rounded like weight_key) descending, then driver count descending, then id.
    w_int = np.rint(weight * 1e6).astype(np.int64)
    key = (w_int.max(initial=0) - w_int) * 65536 + (255 - np.minimum(count, 255)) * 256 \
        + np.arange(len(mech_ids))
    order = np.argsort(key, axis=1, kind="stable")
    label = "patient_name" if audience == "patient" else "name"
    names = [kb.mechanisms[m][label] for m in mech_ids]
    out = {}
    for k in range(3):
        j = order[:, k]
        has = present[np.arange(n), j]
        out[f"mechanism_{k + 1}"] = Coded(names, np.where(has, j, -1))
    return out


def _missing_strings(kb, fc, cols, n):
    ids, masks = [], []
    for factor in kb.factors:
        if factor["kind"] == "medications":
            ids.append(factor["id"])
            masks.append(~cols.med_present)
        else:
            c = fc[factor["id"]]
            ids.append(factor["id"])
            masks.append(c.applicable & ~c.present)
    code = np.zeros(n, dtype=np.int64)
    for bit, m in enumerate(masks):
        code |= m.astype(np.int64) << bit
    uniq, inv = np.unique(code, return_inverse=True)
    return Coded([";".join(ids[b] for b in range(len(ids)) if (u >> b) & 1) for u in uniq], inv)


def _warnings(fc, cols, n):
    parts = []
    for c in fc.values():
        for mask, message in c.warning:
            parts.append((mask, f"{c.factor['input']}: {message}"))
    half = getattr(cols, "bmi_half_given", np.zeros(n, dtype=bool))
    w_only = half & ~np.isnan(cols.numeric["weight"])
    h_only = half & ~np.isnan(cols.numeric["height"])
    parts.append((w_only, "weight: weight without height: BMI not derived"))
    parts.append((h_only, "height: height without weight: BMI not derived"))
    for name, mask in cols.unit_without_value.items():
        parts.append((mask, f"{name}_unit: {name}_unit was given without {name}; ignored"))
    code = np.zeros(n, dtype=np.int64)
    for bit, (mask, _) in enumerate(parts):
        code |= mask.astype(np.int64) << bit
    med = cols.med_unknown_idx if cols.med_unknown_idx is not None else np.full(n, -1)
    stride = int(med.max(initial=0)) + 2
    uniq, inv = np.unique(code * stride + (med + 1), return_inverse=True)
    texts = []
    for u in uniq:
        c, m = divmod(int(u), stride)
        m -= 1
        items = [parts[b][1] for b in range(len(parts)) if (c >> b) & 1]
        if m >= 0 and cols.med_unknown_text[m]:
            items.insert(0, f"medications: {cols.med_unknown_text[m]}")
        texts.append("; ".join(items))
    return Coded(texts, inv.reshape(-1))


def _model_columns(cols, ok):
    """Canonical columns for the model: floats with NaN, categories as objects with None."""
    frame = {name: arr[ok] for name, arr in cols.numeric.items()}
    for name, codes in cols.codes.items():
        f = FIELD_BY_NAME[name]
        lookup = np.array([False, True, None] if f.kind == "bool" else list(f.choices) + [None], dtype=object)
        c = codes[ok].astype(np.intp)
        frame[name] = lookup[np.where(c < 0, len(lookup) - 1, c)]
    return frame
