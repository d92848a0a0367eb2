"""The single answer: standard (every number, rule and stored text) and full (plus the
narrative and its numbered references), or the answer when the score does not apply."""
from __future__ import annotations

from riskservice.core import review
from riskservice.core.render import contributions, sections
from riskservice.core.render import outcome as O
from riskservice.core.render.percentiles import percentiles_of
from riskservice.core.render.plan import plan_for
from riskservice.core.render.row import RowView


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
    not_applicable = not_applicable_reasons(row, audience)
    if not_applicable:
        answer = _not_applicable_answer(row, not_applicable, audience, meta)
        del answer["explanation"], answer["references"]
        return answer
    rules, missing_factors = contributions.rules_of(row)
    indices, missing_indices = sections.indices_of(row)
    established = sections.established_of(row)
    mechanisms = sections.mechanisms_of(row, rules["contributions"], indices)
    warnings = sections.warnings_of(row)
    for c in rules["contributions"]:
        if c.get("warning"):
            warnings.append({"field": c["input"], "message": c["warning"]})
    unscored = O.triglycerides_warning(row)
    if unscored:
        warnings.append(unscored)
    warnings.extend(O.measured_warnings(row))
    diabetes = bool(ev.diabetes_range[i])
    if diabetes:
        inputs = [c["input"] for c in rules["contributions"] if c.get("diabetes_range")]
        _glycaemia_in_diabetes_range(kb, rules["contributions"])
        warnings.insert(0, O.diabetes_range_warning(row, inputs))
    used = review.used_entries(kb, rules, indices, mechanisms, established, row.variants())
    if require_approved:
        review.enforce_approved(used)
    key = f"{audience}_text"
    confirmed = bool(ev.diabetes_confirmed[i])
    for c in rules["contributions"]:
        if c.get("diabetes_range"):
            c["text"] = O.diabetes_range_text(kb, confirmed, key)
            continue
        source = kb.factor_by_id["medications"] if c["factor"].startswith("medication:") \
            else kb.factor_by_id[c["factor"]]
        c["text"] = source[key]
    for m in mechanisms:
        m["text"] = kb.mechanisms[m["id"]][key]
    rules["outcome"] = kb.ruleset["outcome"]["text"]
    return {
        "applicable": True,
        "not_applicable": [],
        "diabetes_range": diabetes,
        "leads": O.leads(row),
        "outcome": O.outcome_block(kb),
        "measured": O.measured_of(row, audience),
        "rules": rules,
        "indices": indices,
        "established": established,
        "mechanisms": mechanisms,
        "model": sections.model_of(row),
        "dysglycaemia": O.dysglycaemia_of(row),
        "missing": missing_factors + missing_indices,
        "percentiles": percentiles_of(row),
        "assumed": sections.assumed_of(row),
        "warnings": warnings,
        "disclaimer": disclaimer_for(kb, audience),
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


def disclaimer_for(kb, audience):
    text = kb.ruleset["disclaimer"].get("patient_text") if audience == "patient" else None
    return text or kb.disclaimer


def not_applicable_reasons(row, audience: str = "clinician") -> list:
    """Why the score does not apply to this patient (known diabetes, pregnancy), if it does not,
    in the audience's wording."""
    spec = row.kb.ruleset["diabetes_range"]
    texts = spec["not_applicable_patient"] if audience == "patient" else spec["not_applicable"]
    return [{"field": name, "reason": texts[name]} for name in ("known_diabetes", "pregnant")
            if row.choice(name) is True]


def _not_applicable_answer(row, reasons, audience, meta):
    """The answer when the score does not apply: the reasons, and nothing that could be read as a
    score. A value in the diabetes range still leads, in the warnings and the narrative."""
    kb = row.kb
    refs = kb.ruleset["diabetes_range"]["references"]
    warnings = [{"field": r["field"], "code": "not_applicable", "message": r["reason"]} for r in reasons]
    diabetes = bool(row.ev.diabetes_range[row.i])
    lead = ""
    if diabetes:
        warnings.insert(0, O.diabetes_range_warning(row))
        confirmed = bool(row.ev.diabetes_confirmed[row.i])
        lead = f"**Diabetes range.** {O.diabetes_range_text(kb, confirmed, f'{audience}_text')} [1]\n\n"
    probability, dysglycaemia = O.not_applicable_probabilities(row, reasons)
    models = row.engine.models
    return {
        "applicable": False, "not_applicable": reasons, "diabetes_range": diabetes, "leads": None,
        "outcome": O.outcome_block(kb), "measured": None,
        "rules": None, "indices": {}, "established": {}, "mechanisms": [], "model": None,
        "dysglycaemia": None if models is None else {
            "probability": None, "outcome": kb.ruleset["dysglycaemia"]["text"],
            "model_id": models.dysglycaemia.model_id if models.dysglycaemia else None,
            "version": models.dysglycaemia.version if models.dysglycaemia else None,
            "withheld": dysglycaemia["withheld"]},
        "missing": [], "assumed": [], "warnings": warnings, "disclaimer": disclaimer_for(kb, audience),
        "meta": {**meta, "audience": audience, **review.summarise({})},
        "explanation": lead + "**The score does not apply.** " + " ".join(r["reason"] for r in reasons) + " [1]\n",
        "references": [{"number": n, **kb.references[rid], "in_explanation": n == 1}
                       for n, rid in enumerate(refs, start=1)],
    }



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
