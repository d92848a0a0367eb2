"""Renderers: one row of an :class:`Evaluation` as the full JSON answer, or all rows as columns.

Renderers look numbers up in the evaluation and texts, rules and citations up in the
knowledge; they never compute a clinical value themselves.
"""
from __future__ import annotations

import math

import numpy as np

from riskservice.core import review
from riskservice.core.fields import FIELD_BY_NAME
from riskservice.core.renderplan import effect_summary as _effect_summary
from riskservice.core.renderplan import plan_for

INDEX_COLUMNS = ("homa_ir", "quicki", "tyg", "tg_hdl", "mets_ir", "mcauley", "spise")
BATCH_SCORES = ("findrisc", "ada")


def _as_sent(x: float):
    """A number as the caller most likely wrote it: integers without a trailing .0."""
    return int(x) if float(x).is_integer() and abs(x) < 1e15 else float(x)


class _once:
    """A value computed on first read and then kept on the instance (functools.cached_property
    without its lock, which cost more than the values read here)."""

    def __init__(self, fn):
        self.fn, self.name = fn, fn.__name__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


class RowView:
    """Row ``i`` of an evaluation as plain Python values, with the look-ups the single answer needs."""

    def __init__(self, engine, ev, i: int):
        self.engine, self.ev, self.i = engine, ev, i
        self.kb, self.cx = engine.kb, engine.cx
        self.codes = ev.codes[i].tolist()
        self.values = ev.values[i].tolist()
        self.sex = self.choice("sex")
        self.ethnicity = self.choice("ethnicity")

    @_once
    def plan(self):
        """The engine's render plan (renderplan.py), looked up once per row."""
        return plan_for(self.engine)

    # Read on first use: the summary needs none of these.
    @_once
    def raw(self):
        return self.ev.parsed.raw[self.i].tolist()

    @_once
    def unit(self):
        return self.ev.parsed.unit[self.i].tolist()

    @_once
    def indices(self):
        return {k: float(v[self.i]) for k, v in self.ev.indices.items()}

    @_once
    def items(self):
        i = self.i
        return {group: [(t.variant[i].tolist(), t.band[i].tolist(), t.present[i].tolist())
                        for t in getattr(self.ev, group)]
                for group in ("factors", "established", "cutoffs")}

    def choice(self, name):
        code = self.codes[self.cx.coded_index[name]]
        if code < 0:
            return None
        f = FIELD_BY_NAME.get(name)
        if f is not None and f.kind == "enum":
            return f.choices[code]
        return bool(code)

    def number(self, name):
        x = self.values[self.cx.numeric_index[name]]
        return None if x != x else x

    def value(self, name):
        """Canonical value of a field or index (None when missing)."""
        if name in self.cx.numeric_index:
            return self.number(name)
        if name in self.indices:
            x = self.indices[name]
            return None if x != x else x
        return self.choice(name)

    def given(self, name):
        """{"value", "unit"} as sent (numbers), or None."""
        j = self.cx.numeric_index.get(name)
        if j is None:
            return None
        if name == "bmi" and self.ev.bmi_derived[self.i]:
            return {"value": round(self.values[j], 2), "unit": "kg/m2", "derived_from": ["weight", "height"]}
        raw = self.raw[j]
        if raw != raw:
            return None
        return {"value": _as_sent(raw), "unit": self.cx.unit_names[j][self.unit[j]]}

    def variants(self) -> dict:
        """factor id / index id -> the variant the engine chose for this row."""
        items = self.items
        return {owner: items[group][pair_pos][0][k]
                for owner, group, pair_pos, k in self.plan.variant_slots}

    def medications(self):
        k = int(self.ev.parsed.med_index[self.i])
        return None if k < 0 else self.ev.parsed.med_lists[k]


# --------------------------------------------------------------------------- the single answer
def render_one(engine, ev, i: int, audience: str, meta: dict, require_approved: bool = False) -> dict:
    """The full answer for row ``i`` (which must have no errors): the standard answer plus the
    narrative for the audience and the numbered references it cites."""
    from riskservice.core import narrative

    result = render_standard(engine, ev, i, audience, meta, require_approved)
    if not result["applicable"]:
        return _not_applicable_answer(RowView(engine, ev, i), result["not_applicable"], audience, meta)
    text, cited = narrative.build(result, engine.kb, audience)
    result["explanation"] = text
    result["references"] = _references(engine, cited, result["rules"], result["indices"],
                                       result["established"], result["mechanisms"])
    return result


def render_standard(engine, ev, i: int, audience: str, meta: dict, require_approved: bool = False) -> dict:
    """Every number, rule and stored text of the answer for row ``i``, without the narrative and
    the reference list (never built here, so it costs less)."""
    kb = engine.kb
    row = RowView(engine, ev, i)
    not_applicable = _not_applicable(row)
    if not_applicable:
        answer = _not_applicable_answer(row, not_applicable, audience, meta)
        del answer["explanation"], answer["references"]
        return answer
    rules, missing_factors = _rules(row)
    indices, missing_indices = _indices(row)
    established = _established(row)
    mechanisms = _mechanisms(row, rules["contributions"], indices)
    warnings = _warnings(row)
    for c in rules["contributions"]:
        if c.get("warning"):
            warnings.append({"field": c["input"], "message": c["warning"]})
    diabetes = bool(ev.diabetes_range[i])
    if diabetes:
        inputs = [c["input"] for c in rules["contributions"] if c.get("diabetes_range")]
        _glycaemia_in_diabetes_range(kb, rules["contributions"])
        warnings.insert(0, {"field": "diabetes_range", "code": "diabetes_range", "inputs": inputs,
                            "message": kb.ruleset["diabetes_range"]["message"]})
    used = review.used_entries(kb, rules, indices, mechanisms, established, row.variants())
    if require_approved:
        review.enforce_approved(used)
    key = f"{audience}_text"
    for c in rules["contributions"]:
        if c.get("diabetes_range"):
            c["text"] = kb.ruleset["diabetes_range"][key]
            continue
        source = kb.factor_by_id["medications"] if c["factor"].startswith("medication:") \
            else kb.factor_by_id[c["factor"]]
        c["text"] = source[key]
    for m in mechanisms:
        m["text"] = kb.mechanisms[m["id"]][key]
    return {
        "applicable": True,
        "not_applicable": [],
        "diabetes_range": diabetes,
        "rules": rules,
        "indices": indices,
        "established": established,
        "mechanisms": mechanisms,
        "model": _model(row) if engine.model is not None else None,
        "missing": missing_factors + missing_indices,
        "assumed": _assumed(row),
        "warnings": warnings,
        "disclaimer": _disclaimer(kb, audience),
        "meta": {**meta, "audience": audience, **review.summarise(used)},
    }


def _glycaemia_in_diabetes_range(kb, contributions):
    """Once a value is in the diabetes range, every glycaemia contribution reads the
    diabetes-range text, and no band label calls a value "prediabetes" (its rule is shown)."""
    glycaemic = {f["id"] for f in kb.factors
                 if any(b.get("diabetes_range") for v in f.get("variants", []) for b in v["bands"])}
    for c in contributions:
        if c["factor"] in glycaemic:
            c["diabetes_range"] = True
            if "prediabetes" in c["band_label"].lower():
                c["band_label"] = c["rule"]


def _disclaimer(kb, audience):
    text = kb.ruleset["disclaimer"].get("patient_text") if audience == "patient" else None
    return text or kb.disclaimer


def _not_applicable(row) -> list:
    """Why the score does not apply to this patient (known diabetes, pregnancy), if it does not."""
    texts = row.kb.ruleset["diabetes_range"]["not_applicable"]
    return [{"field": name, "reason": texts[name]} for name in ("known_diabetes", "pregnant")
            if row.choice(name) is True]


def _not_applicable_answer(row, reasons, audience, meta):
    """The answer when the score does not apply: the reasons, and nothing that could be read as a score."""
    kb = row.kb
    refs = kb.ruleset["diabetes_range"]["references"]
    warnings = [{"field": r["field"], "code": "not_applicable", "message": r["reason"]} for r in reasons]
    return {
        "applicable": False, "not_applicable": reasons, "diabetes_range": bool(row.ev.diabetes_range[row.i]),
        "rules": None, "indices": {}, "established": {}, "mechanisms": [], "model": None, "missing": [],
        "assumed": [], "warnings": warnings, "disclaimer": _disclaimer(kb, audience),
        "meta": {**meta, "audience": audience, **review.summarise({})},
        "explanation": "**The score does not apply.** " + " ".join(r["reason"] for r in reasons) + " [1]\n",
        "references": [{"number": n, **kb.references[rid], "in_explanation": n == 1}
                       for n, rid in enumerate(refs, start=1)],
    }


def _rules(row):
    ev, i, kb = row.ev, row.i, row.kb
    plan = row.plan
    contributions, missing = [], []
    present, missing_top, counted = ev.factor_present[i].tolist(), ev.missing_top[i].tolist(), ev.counted[i].tolist()
    items = row.items["factors"]
    for fid, factor, col, pair_pos, k in plan.factors:
        if fid is None:  # the medication list
            if row.sex not in factor.get("sexes", ("female", "male")):
                continue
            meds = row.medications()
            if meds is None:
                missing.append(_missing(factor, plan.medications_max))
            else:
                contributions.extend(_drug_contributions(row, meds))
            continue
        variants, bands, _ = items[pair_pos]
        v = variants[k]
        if v < 0:
            continue
        if not present[col]:
            missing.append(_missing(factor, missing_top[col]))
            continue
        contributions.append(_contribution(row, plan.contribution[fid, v, bands[k]], counted[col]))
    for group in kb.ruleset.get("exclusive_groups", []):
        members = [c for c in contributions if c["factor"] in group["factors"]]
        best = next((c for c in members if c["points"]), None)
        for c in members:
            if best is not None and c is not best and c["band_points_raw"]:
                c["band_points"] = c["band_points_raw"]
                c["note"] = (f"{group['label']}: only the highest of {', '.join(group['factors'])} "
                             f"counts (here {best['factor']}); {group['reason']}")
    for c in contributions:
        c.pop("band_points_raw", None)
    total = int(ev.points[i])
    headroom = int(ev.headroom[i])
    thresholds = kb.ruleset["bands"]["thresholds"]
    result = {
        "points": total,
        "max_points": int(ev.max_points[i]),
        "band": thresholds[int(ev.band[i])]["id"],
        "base_relative_risk": kb.base_relative_risk,
        "contributions": contributions,
        "lower_bound": headroom > 0,
    }
    if headroom:
        result["band_if_missing_were_maximal"] = thresholds[int(ev.band_if_max[i])]["id"]
        result["lower_bound_statement"] = (
            f"{len([m for m in missing if m['max_points']])} factor(s) were not given and could add up to "
            f"{headroom} point(s): the total of {total} is a lower bound.")
    return result, missing


def _missing(factor, top):
    return {"kind": "factor", "factor": factor["id"], "label": factor["label"],
            "input": factor["input"], "max_points": top}


def _contribution(row, template, counted_points):
    """The band's contribution (renderplan.contribution_template) with this patient's values."""
    name = template["input"]
    value = row.value(name)
    given = row.given(name)
    entry = template.copy()
    if given:
        entry["value"], entry["unit"] = given["value"], given["unit"]
    else:
        entry["value"] = value
    entry["canonical_value"] = value
    entry["points"] = counted_points
    entry["mechanisms"] = template["mechanisms"].copy()
    entry["references"] = template["references"].copy()
    if "effect" in template:
        entry["effect"] = template["effect"].copy()
    return entry


def _drug_contributions(row, entries):
    kb = row.kb
    matches = row.engine.classes_of(entries).matches
    out = []
    for class_id in matches:
        cls = kb.drug_by_id[class_id]
        entry = {
            "factor": f"medication:{class_id}",
            "label": cls["name"],
            "input": "medications",
            "value": list(matches[class_id]),
            "unit": None,
            "canonical_value": class_id,
            "canonical_unit": None,
            "band": "taking",
            "band_label": f"taking {cls['name'].lower()}",
            "points": cls["points"],
            "band_points_raw": cls["points"],
            "rule": f"any of ATC {', '.join(cls['atc_prefixes'])} or the listed generic names",
            "population": cls.get("population", ""),
            "modifiable": True,
            "mechanisms": list(cls["mechanisms"]),
            "evidence": cls["evidence"],
            "references": list(cls["references"]),
        }
        if cls.get("effect"):
            entry["effect"] = _effect_summary(cls["effect"])
        if cls.get("note"):
            entry["note"] = cls["note"]
        out.append(entry)
    return out


def _indices(row):
    ev, i, kb = row.ev, row.i, row.kb
    plan = row.plan
    out, missing = {}, []
    for index in kb.indices:
        iid = index["id"]
        value = float(ev.indices[iid][i])
        if math.isnan(value):
            absent = [name for name in index["inputs"] if row.value(name) is None]
            missing.append({"kind": "index", "index": iid, "name": index["name"], "needs": absent})
            continue
        flag = ev.flagged.get(iid)
        cut, flagged = -1, None
        if flag is not None and flag[1][i] >= 0:
            cut, flagged = int(flag[1][i]), bool(flag[0][i])
        entry = out[iid] = plan.index_entry(index, cut, flagged)
        entry["value"] = value
    return out, missing


def _established(row):
    ev, i, kb = row.ev, row.i, row.kb
    out = {}
    slots = row.plan.established
    row_items = row.items["established"]
    for sid, spec in kb.established["scores"].items():
        items, missing = [], []
        for pair_pos, k, item, variants, position, tops in slots[sid]:
            variant, band_of, present = row_items[pair_pos]
            v = variant[k]
            if v < 0:
                continue
            if not present[k]:
                missing.append((position, {"item": item["id"], "input": item["input"], "max_points": tops[v]}))
                continue
            band = variants[v]["bands"][band_of[k]]
            entry = {"item": item["id"], "input": item["input"], "value": row.value(item["input"]),
                     "points": band["points"], "rule": band["rule"]}
            if item["input"] == "antihypertensive":
                entry["source"] = (None, "hypertension", "medications")[int(ev.antihypertensive_source[i])]
            elif item["input"] == "antihypertensive_medication":
                entry["source"] = "medications" if row.medications() is not None else "hypertension"
            if item.get("input_note"):
                entry["note"] = item["input_note"]
            items.append((position, entry))
        s = ev.scores[sid]
        cats = spec["categories"]
        result = {
            "name": spec["name"],
            "outcome": spec["outcome"],
            "complete": bool(s["complete"][i]),
            "points": int(s["points"][i]),
            "items": [e for _, e in sorted(items, key=lambda t: t[0])],
            "missing": [e for _, e in sorted(missing, key=lambda t: t[0])],
            "references": list(spec["references"]),
        }
        low, high = cats[int(s["category"][i])]["id"], cats[int(s["category_max"][i])]["id"]
        if missing:
            result["points_range"] = [int(s["points"][i]), int(s["points_max"][i])]
            result["category"] = low if low == high else None
            result["category_range"] = [low, high]
            result["note"] = ("Some items are missing: points is a lower bound and the category is given only "
                              "when every possible answer leads to the same one.")
        else:
            result["category"] = low
        out[sid] = result
    return out


def _mechanisms(row, contributions, indices):
    engine, ev, i = row.engine, row.ev, row.i
    plan = row.plan
    drivers, support = {}, {}
    for c in contributions:
        for mid in c["mechanisms"]:
            drivers.setdefault(mid, []).append({"factor": c["factor"], "label": c["label"], "points": c["points"]})
    spec_by_id = plan.index_by_id
    for ix_id, result in indices.items():
        if result.get("flagged"):
            for mid in spec_by_id[ix_id].get("mechanisms_when_flagged", []):
                support.setdefault(mid, []).append({"index": ix_id, "name": result["name"], "value": result["value"]})
    total = int(ev.points[i])
    count, weights = ev.mech_count[i].tolist(), ev.mech_weight[i].tolist()
    out = []
    for j in ev.mech_order[i].tolist():
        if count[j] <= 0:
            continue
        mid = engine.mechanism_ids[j]
        template = plan.mechanism[mid]
        weight = int(weights[j])
        m = template.copy()
        m["rank"] = len(out) + 1
        m["weight"] = weight
        m["share_of_points"] = round(weight / total, 4) if total else 0.0
        m["factors"] = drivers.get(mid, [])
        m["supporting_indices"] = support.get(mid, [])
        m["chain"] = template["chain"].copy()
        m["references"] = template["references"].copy()
        out.append(m)
    return out


def _warnings(row):
    ev, i = row.ev, row.i
    out = []
    p = ev.parsed
    unit_given = p.unit_given[i].tolist()
    raw = row.raw
    for name, j, is_list in row.plan.fields:
        if j is not None and unit_given[j] and raw[j] != raw[j]:
            out.append({"field": f"{name}_unit", "message": f"{name}_unit was given without {name}; ignored"})
        if is_list and row.medications() is not None:
            notes = row.engine.classes_of(row.medications()).notes
            if notes:
                out.append({"field": "medications",
                            "unrecognised": [e for e, _, known in notes if not known],
                            "not_scored": [e for e, _, known in notes if known],
                            "message": medication_message(notes)})
    for mask, field, message in ev.implausible:
        if mask[i]:
            out.append({"field": field, "code": "implausible", "message": message})
    w, h = row.number("weight"), row.number("height")
    if (w is None) != (h is None) and row.number("bmi") is None:
        which = "weight" if w is not None else "height"
        other = "height" if w is not None else "weight"
        out.append({"field": which, "message": f"{which} without {other}: BMI not derived"})
    return out


def _assumed(row):
    ev, i, cx = row.ev, row.i, row.cx
    out = []
    assumed = ev.assumed_unit[i].tolist()
    for j, name in enumerate(cx.numeric):
        if assumed[j]:
            out.append({"field": f"{name}_unit", "assumption": f"not given: {cx.unit_names[j][cx.canonical_unit[j]]} assumed"})
    if row.ethnicity is None and (row.number("bmi") is not None or row.number("waist") is not None):
        out.append({"field": "ethnicity", "assumption":
                    "not given: WHO/Europid BMI and waist cut-offs were applied"})
    return out


def _model(row):
    ev, i = row.ev, row.i
    terms = ev.model_terms[i]
    derived = {
        "age": row.number("age"), "sex": row.sex, "ethnicity": row.ethnicity, "bmi": row.number("bmi"),
        "bmi_derived": False, "waist": row.number("waist"), "height": row.number("height"),
        "waist_to_height": None, "hdl_cholesterol": row.number("hdl_cholesterol"),
        "smoking": row.choice("smoking"), "mvpa_minutes_per_week": row.number("mvpa_minutes_per_week"),
        "sedentary_hours_per_day": row.number("sedentary_hours_per_day"),
        "sleep_hours_per_night": row.number("sleep_hours_per_night"),
    }
    model = row.engine.model
    if "waist_to_height" in model.term_names:
        x = terms[model.term_names.index("waist_to_height")]
        derived["waist_to_height"] = None if math.isnan(x) else float(x)
    return model.explain(float(ev.logit[i]), ev.model_contrib[i].tolist(), np.isnan(terms).tolist(), derived,
                         probability=float(ev.probability[i]))


def _references(engine, cited, rules, indices, established, mechanisms) -> list:
    """The references of the result: first those the explanation cites, numbered in its order
    of first use ([n] is item n), then any other id the structured parts cite."""
    kb = engine.kb
    ids = list(cited)
    for c in rules["contributions"]:
        ids.extend(c["references"])
    for ix in indices.values():
        ids.extend(ix["references"])
    for m in mechanisms:
        ids.extend(m["references"])
    if mechanisms:
        ids.extend(kb.downstream_chain["references"])
    for s in established.values():
        ids.extend(s["references"])
    refs, templates, cited = kb.references, plan_for(engine).reference, set(cited)
    out = []
    for n, rid in enumerate(dict.fromkeys(ids), start=1):
        template = templates.get(rid)
        if template is None:
            out.append({"number": n, **refs[rid], "in_explanation": rid in cited})
            continue
        entry = template.copy()
        entry["number"] = n
        entry["in_explanation"] = rid in cited
        out.append(entry)
    return out


def medication_message(notes) -> str:
    """One line for the entries of a list that do not score, each with its reason."""
    return " ".join(f"{entry!r}: {message}" for entry, message, _ in notes)


# --------------------------------------------------------------------------- rows (batch)
ROW_COLUMNS = ("points", "max_points", "band", "probability", "diabetes_range", "not_applicable", *INDEX_COLUMNS,
               *(f"{s}_{part}" for s in BATCH_SCORES for part in ("points", "points_max")),
               "mechanism_1", "mechanism_2", "mechanism_3", "missing_factors", "warnings", "error")


def _row_types():
    import pyarrow as pa
    types = {name: pa.string() for name in ROW_COLUMNS}
    types.update({name: pa.int64() for name in ROW_COLUMNS if name.endswith("points") or name.endswith("points_max")})
    types.update({name: pa.float64() for name in ("probability", *INDEX_COLUMNS)})
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
    reasons = kb.ruleset["diabetes_range"]["not_applicable"]
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
    prob = ev.probability if ev.probability is not None else np.full(n, np.nan)
    out["probability"] = pa.array(prob, mask=bad | np.isnan(prob), type=pa.float64())
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
    out["warnings"] = _warnings_column(engine, ev, ~ok)
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
            parts.append((~ev.factor_present[:, col] & _applicable(engine, ev, col), factor["id"]))
    texts, idx = _bits_to_text(parts, ev.n, sep=";")
    return _coded(texts, np.where([t == "" for t in texts], -1, np.arange(len(texts)))[idx], bad)


def _applicable(engine, ev, col):
    """The factor applies to the row (its sex) — a variant was chosen."""
    pair_pos, k = engine.factor_slot[engine.factor_order[col]]
    return ev.factors[pair_pos].variant[:, k] >= 0


def _warnings_column(engine, ev, bad):
    cx = engine.cx
    p = ev.parsed
    parts = [(ev.diabetes_range, "diabetes_range: " + engine.kb.ruleset["diabetes_range"]["message"])]
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
    jw, jh, jb = (cx.numeric_index[k] for k in ("weight", "height", "bmi"))
    w_given, h_given = ~np.isnan(ev.values[:, jw]), ~np.isnan(ev.values[:, jh])
    no_bmi = np.isnan(ev.values[:, jb])
    parts.append((w_given & ~h_given & no_bmi, "weight: weight without height: BMI not derived"))
    parts.append((h_given & ~w_given & no_bmi, "height: height without weight: BMI not derived"))
    for j, name in enumerate(cx.numeric):
        mask = p.unit_given[:, j] & np.isnan(p.raw[:, j])
        if mask.any():
            parts.append((mask, f"{name}_unit: {name}_unit was given without {name}; ignored"))
    unknown = []
    for entries in p.med_lists:
        notes = engine.classes_of(entries).notes
        unknown.append(f"medications: {medication_message(notes)}" if notes else None)
    texts, idx = _bits_to_text(parts, ev.n, extra=(p.med_index, unknown), lead=1)
    return _coded(texts, np.where([t == "" for t in texts], -1, np.arange(len(texts)))[idx], bad)


# --------------------------------------------------------------------------- views (summary, standard)
VIEWS = ("summary", "standard", "full")
SUMMARY_MECHANISMS = 3


def render_summary(engine, ev, i: int, audience: str, meta: dict, require_approved: bool = False) -> dict:
    """A compact answer (under 2 kB) read straight from the evaluation's arrays: points, band,
    probability with its outcome, flagged indices, top mechanisms, missing inputs, disclaimer and
    versions. No contribution, text, narrative or reference is built."""
    kb = engine.kb
    row = RowView(engine, ev, i)
    not_applicable = _not_applicable(row)
    if not_applicable:
        return {"view": "summary", "applicable": False, "not_applicable": not_applicable,
                "diabetes_range": bool(ev.diabetes_range[i]), "disclaimer": _disclaimer(kb, audience),
                "meta": {**meta, "audience": audience}}
    if require_approved and engine.unapproved_rows(ev)[i]:
        render_standard(engine, ev, i, audience, meta, require_approved=True)  # raises, naming the entries
    thresholds = kb.ruleset["bands"]["thresholds"]
    headroom = int(ev.headroom[i])
    out = {
        "view": "summary",
        "applicable": True,
        "diabetes_range": bool(ev.diabetes_range[i]),
        "points": int(ev.points[i]),
        "max_points": int(ev.max_points[i]),
        "band": thresholds[int(ev.band[i])]["id"],
        "lower_bound": headroom > 0,
    }
    if headroom:
        out["band_if_missing_were_maximal"] = thresholds[int(ev.band_if_max[i])]["id"]
    model = engine.model
    if model is None:
        out["probability"] = None
    else:
        out["probability"] = {"value": float(ev.probability[i]), "outcome": model.manifest["outcome"]["expression"]}
    flagged = {}
    for index in kb.indices:
        flag = ev.flagged.get(index["id"])
        if flag is not None and flag[1][i] >= 0 and flag[0][i]:
            flagged[index["id"]] = float(ev.indices[index["id"]][i])
    out["flagged_indices"] = flagged
    label = "patient_name" if audience == "patient" else "name"
    mechs = []
    count, weights = ev.mech_count[i].tolist(), ev.mech_weight[i].tolist()
    for j in ev.mech_order[i].tolist():
        if len(mechs) == SUMMARY_MECHANISMS:
            break
        if count[j] <= 0:
            continue
        mid = engine.mechanism_ids[j]
        mechs.append({"id": mid, "name": kb.mechanisms[mid][label], "weight": int(weights[j])})
    out["mechanisms"] = mechs
    out["missing_inputs"] = _missing_inputs(row)
    if out["diabetes_range"]:
        out["warnings"] = [{"code": "diabetes_range", "message": kb.ruleset["diabetes_range"]["message"]}]
    out["disclaimer"] = _disclaimer(kb, audience)
    out["meta"] = {**meta, "audience": audience}
    return out


def _missing_inputs(row) -> list:
    """Inputs not given that a factor (one that applies to this patient) or an index needs."""
    ev, i = row.ev, row.i
    names = []
    variants = [t.variant[i].tolist() for t in ev.factors]
    present = ev.factor_present[i].tolist()
    for fid, factor, col, pair_pos, k in row.plan.factors:
        if fid is None:  # the medication list
            if row.sex in factor.get("sexes", ("female", "male")) and row.medications() is None:
                names.append(factor["input"])
            continue
        if variants[pair_pos][k] >= 0 and not present[col] and factor["input"] not in ev.indices:
            names.append(factor["input"])   # a factor scored on an index: its inputs are listed below
    for index in row.kb.indices:
        if math.isnan(ev.indices[index["id"]][i]):
            names.extend(name for name in index["inputs"] if row.value(name) is None)
    return list(dict.fromkeys(names))


def render_view(engine, ev, i: int, audience: str, meta: dict, view: str = "full",
                require_approved: bool = False) -> dict:
    """Row ``i`` rendered for ``view`` (summary, standard or full)."""
    if view == "summary":
        return render_summary(engine, ev, i, audience, meta, require_approved)
    if view == "standard":
        return render_standard(engine, ev, i, audience, meta, require_approved)
    return render_one(engine, ev, i, audience, meta, require_approved=require_approved)
