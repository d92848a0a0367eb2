"""All rows of an evaluation as result columns (pyarrow arrays) for CSV, NDJSON and Parquet."""
from __future__ import annotations

import numpy as np

from riskservice.core.engine.evaluation import HOMA_STATUS, MEASURED_INVALID
from riskservice.core.render.outcome import LEADS
from riskservice.core.render.sections import medication_message, unit_inferred_message

INDEX_COLUMNS = ("homa_ir", "quicki", "tyg", "tg_hdl", "mets_ir", "mcauley", "spise")
BATCH_SCORES = ("findrisc", "ada")

#: points, band and probability estimate insulin resistance; dysglycaemia_probability is the second
#: model; measured_homa_ir is the HOMA-IR when it is a valid measurement of the outcome (it then
#: leads, and probability is empty), homa_ir_status its place against the borderline zone
#: ("not_valid" when given but not valid), leads what leads the answer
ROW_COLUMNS = ("points", "max_points", "band", "probability", "dysglycaemia_probability", "measured_homa_ir",
               "homa_ir_status", "leads", "diabetes_range", "not_applicable", *INDEX_COLUMNS,
               *(f"{s}_{part}" for s in BATCH_SCORES for part in ("points", "points_max")),
               "mechanism_1", "mechanism_2", "mechanism_3", "missing_factors", "warnings", "error")


def _row_types():
    import pyarrow as pa
    types = {name: pa.string() for name in ROW_COLUMNS}
    types.update({name: pa.int64() for name in ROW_COLUMNS if name.endswith("points") or name.endswith("points_max")})
    types.update({name: pa.float64() for name in ("probability", "dysglycaemia_probability", "measured_homa_ir",
                                                  *INDEX_COLUMNS)})
    types["diabetes_range"] = pa.bool_()
    return types


class _LazyTypes(dict):
    """ROW_TYPES without importing pyarrow until a batch needs it."""

    def __missing__(self, key):
        self.update(_row_types())
        return dict.__getitem__(self, key)

    def get(self, key, default=None):
        if not dict.__len__(self):
            self.update(_row_types())
        return dict.get(self, key, default)


ROW_TYPES = _LazyTypes()


def render_rows(engine, ev, audience: str = "clinician", require_approved: bool = False,
                error_prefix: dict | None = None) -> dict:
    """Every row as result columns (pyarrow arrays); a row with an error has only its error."""
    import pyarrow as pa

    n = ev.n
    kb = engine.kb
    ok = ev.ok.copy()
    error = np.empty(n, dtype=object)
    for i in ev.parsed.errors.by_row:
        error[i] = ev.parsed.errors.text(i)
    if require_approved:
        blocked = engine.unapproved_rows(ev) & ok
        if blocked.any():
            error[blocked] = ("_knowledge: REQUIRE_APPROVED is on and this result would use knowledge "
                              "entries not approved by clinical review (see GET /v1/knowledge)")
            ok &= ~blocked
    cx = engine.cx
    codes = ev.codes
    spec = kb.ruleset["diabetes_range"]
    reasons = spec["not_applicable_patient"] if audience == "patient" else spec["not_applicable"]
    na_known = codes[:, cx.coded_index["known_diabetes"]] == 1
    na_pregnant = codes[:, cx.coded_index["pregnant"]] == 1
    na_index = np.where(na_known & na_pregnant, 2, np.where(na_known, 0, np.where(na_pregnant, 1, -1)))
    na_texts = [reasons["known_diabetes"], reasons["pregnant"], reasons["known_diabetes"] + " " + reasons["pregnant"]]
    not_applicable = _coded(na_texts, na_index, ~ok)
    diabetes = pa.array(ev.diabetes_range, mask=~ok, type=pa.bool_())
    bad = ~ok | (na_index >= 0)
    out = {
        "points": pa.array(ev.points, mask=bad, type=pa.int64()),
        "max_points": pa.array(ev.max_points, mask=bad, type=pa.int64()),
        "band": _coded([t["id"] for t in kb.ruleset["bands"]["thresholds"]], ev.band, bad),
    }
    out["diabetes_range"], out["not_applicable"] = diabetes, not_applicable
    for name in ("probability", "dysglycaemia_probability"):
        values = getattr(ev, name)
        out[name] = pa.array(values, mask=bad | np.isnan(values), type=pa.float64())
    homa = ev.indices["homa_ir"]
    out["measured_homa_ir"] = pa.array(homa, mask=bad | ~ev.homa_valid, type=pa.float64())
    status = np.where(ev.homa_valid, ev.homa_status, np.where(ev.homa_given, len(HOMA_STATUS), -1))
    out["homa_ir_status"] = _coded([*HOMA_STATUS, "not_valid"], status, bad)
    out["leads"] = _coded(list(LEADS), np.where(ev.homa_valid, 0, 1), bad)
    for name in INDEX_COLUMNS:
        values = ev.indices[name]
        out[name] = pa.array(values, mask=bad | np.isnan(values), type=pa.float64())
    for sid in BATCH_SCORES:
        s = ev.scores[sid]
        out[f"{sid}_points"] = pa.array(s["points"], mask=bad, type=pa.int64())
        out[f"{sid}_points_max"] = pa.array(s["points_max"], mask=bad, type=pa.int64())
    label = "patient_name" if audience == "patient" else "name"
    names = [kb.mechanisms[m][label] for m in engine.mechanism_ids]
    rows = np.arange(n)
    for k in range(3):
        j = ev.mech_order[:, k] if ev.mech_order.shape[1] > k else np.zeros(n, dtype=np.intp)
        has = ev.mech_count[rows, j] > 0
        out[f"mechanism_{k + 1}"] = _coded(names, np.where(has, j, -1), bad)
    out["missing_factors"] = _missing_column(engine, ev, bad)
    out["warnings"] = _warnings_column(engine, ev, ~ok, audience)
    out["error"] = pa.array(error, type=pa.string())
    return out


def _coded(values, index, bad):
    """Strings from a small dictionary by index (-1 or a bad row = null), built in C++."""
    import pyarrow as pa
    import pyarrow.compute as pc

    index = np.asarray(index)
    mask = bad | (index < 0)
    indices = pa.array(np.where(mask, 0, index).astype(np.int32), mask=mask)
    return pc.take(pa.array(values if values else [""], type=pa.string()), indices)


BITS_PER_CHUNK = 8


def _bits_to_text(parts, n, extra=None, sep="; ", lead=0):
    """Join the texts of the masks that hold per row, via one integer code per row; the
    ``extra`` text of a row goes after the first ``lead`` parts. A block has about a thousand
    distinct codes: each is cut into chunks of BITS_PER_CHUNK parts, each distinct chunk
    value is joined once, and a code's text joins its chunks' texts (one join per code
    instead of a step per set bit; the same text, as a join of joins with one separator)."""
    code = np.zeros(n, dtype=np.int64)
    for bit, (mask, _) in enumerate(parts):
        code |= mask.astype(np.int64) << bit
    extra_idx = extra[0] if extra is not None else np.full(n, -1)
    stride = int(extra_idx.max(initial=0)) + 2
    uniq, inv = np.unique(code * stride + (extra_idx + 1), return_inverse=True)
    codes, which = np.divmod(uniq, stride)
    names = [text for _, text in parts]
    cuts = sorted({0, lead, *range(lead, len(names), BITS_PER_CHUNK), len(names)})
    columns = []
    for lo, hi in zip(cuts, [*cuts[1:], None], strict=True):
        if lo == lead and extra is not None:
            extras = ["", *(text or "" for text in extra[1])]
            columns.append([extras[m] for m in which.tolist()])
        if hi is None:
            break
        values = (codes >> lo) & ((1 << (hi - lo)) - 1)
        chunk = names[lo:hi]
        text = {v: sep.join([chunk[b] for b in range(hi - lo) if v >> b & 1]) for v in np.unique(values).tolist()}
        columns.append([text[v] for v in values.tolist()])
    texts = [sep.join([t for t in row if t]) for row in zip(*columns, strict=True)] if columns else [""] * len(uniq)
    return texts, inv.reshape(-1)


def _missing_column(engine, ev, bad):
    kb = engine.kb
    parts = []
    for factor in kb.factors:
        if factor["kind"] == "medications":
            parts.append((~ev.med_given, factor["id"]))
        else:
            col = engine.factor_pos[factor["id"]]
            missing = ~ev.factor_present[:, col] & _applicable(engine, ev, col)
            if factor["id"] in engine.fasting_factors:     # given but not scored (not fasting): not missing
                missing &= ~(ev.triglycerides_unscored & _given(engine, ev, factor["input"]))
            parts.append((missing, factor["id"]))
    texts, idx = _bits_to_text(parts, ev.n, sep=";")
    return _coded(texts, np.where([t == "" for t in texts], -1, np.arange(len(texts)))[idx], bad)


def _given(engine, ev, name):
    """The input (a field or an index) has a value in each row."""
    values = ev.indices[name] if name in ev.indices else ev.values[:, engine.cx.numeric_index[name]]
    return ~np.isnan(values)


def _applicable(engine, ev, col):
    """The factor applies to the row (its sex) — a variant was chosen."""
    pair_pos, k = engine.factor_slot[engine.factor_order[col]]
    return ev.factors[pair_pos].variant[:, k] >= 0


def _warnings_column(engine, ev, bad, audience="clinician"):
    cx = engine.cx
    p = ev.parsed
    rs = engine.kb.ruleset
    spec = rs["diabetes_range"]
    # the diabetes range first (confirmed by two tests, or to be confirmed), then the rest
    parts = [(ev.diabetes_range & ~ev.diabetes_confirmed, "diabetes_range: " + spec["message"]),
             (ev.diabetes_confirmed, "diabetes_range: " + spec["confirmed"]["message"])]
    for fid in engine.factor_order:
        pair_pos, k = engine.factor_slot[fid]
        items = ev.factors[pair_pos]
        factor, _, variants = cx.items["factors"][pair_pos].specs[k]
        if True:
            for v, variant in enumerate(variants):
                for b, band in enumerate(variant["bands"]):
                    if band.get("warning"):
                        mask = (items.variant[:, k] == v) & (items.band[:, k] == b)
                        parts.append((mask, f"{factor['input']}: {band['warning']}"))
    parts += [(mask, f"{field}: {message}") for mask, field, message in ev.implausible]
    parts += [(mask, f"probability: {message}") for mask, message in ev.caveats]
    parts.append((ev.triglycerides_unscored, "triglycerides: " + rs["triglycerides_not_fasting"]["text"]))
    invalid = rs["measured"]["invalid"]
    for bit, code in enumerate(MEASURED_INVALID):
        parts.append(((ev.homa_invalid >> bit) & 1 == 1,
                      f"homa_ir: not valid as a measurement of the outcome: {invalid[code]['text']}"))
    jw, jh, jb = (cx.numeric_index[k] for k in ("weight", "height", "bmi"))
    w_given, h_given = ~np.isnan(ev.values[:, jw]), ~np.isnan(ev.values[:, jh])
    no_bmi = np.isnan(ev.values[:, jb])
    parts.append((w_given & ~h_given & no_bmi, "weight: weight without height: BMI not derived"))
    parts.append((h_given & ~w_given & no_bmi, "height: height without weight: BMI not derived"))
    # a unit cell beside an empty lab cell is how exports look: nothing to warn about on each row
    for mask, j, u, basis in ev.unit_inferred:
        name = cx.numeric[j]
        parts.append((mask, f"{name}: {unit_inferred_message(cx.unit_names[j][u], basis)}"))
    unknown = []
    for entries in p.med_lists:
        notes = engine.classes_of(entries).notes
        unknown.append(f"medications: {medication_message(notes)}" if notes else None)
    texts, idx = _bits_to_text(parts, ev.n, extra=(p.med_index, unknown), lead=2)
    return _coded(texts, np.where([t == "" for t in texts], -1, np.arange(len(texts)))[idx], bad)
