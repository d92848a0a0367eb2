"""The answer's parts about its outcomes: what the estimate estimates (``outcome``), the measured
HOMA-IR that leads when it is valid (``measured``), the two probabilities and why one is withheld,
and the diabetes-range texts (confirmed by two tests, or to be confirmed). Numbers come from the
evaluation, texts from ruleset.json; nothing is computed here."""
from __future__ import annotations

import math

from riskservice.core.engine.evaluation import (
    AGREEMENT,
    DYSGLYCAEMIA_WITHHELD,
    HOMA_STATUS,
    IR_WITHHELD,
    MEASURED_INVALID,
)

LEADS = ("measured_homa_ir", "risk_factor_estimate")
NOT_APPLICABLE_WITHHELD = "the score does not apply to this patient (see not_applicable)"
MODELS_OFF = "the models are switched off on this server (RISKSERVICE_MODEL=off)"


def outcome_block(kb) -> dict:
    """What the points, band and insulin-resistance probability estimate."""
    o = kb.ruleset["outcome"]
    return {"id": o["id"], "text": o["text"], "short_text": o["short_text"], "cutoff": o["cutoff"],
            "comparison": o["comparison"],
            "population": o["population"], "references": list(o["references"])}


def leads(row) -> str:
    return LEADS[0] if row.ev.homa_valid[row.i] else LEADS[1]


def _percentile(row):
    """The measured HOMA-IR's NHANES percentile for the patient's sex and age band (the answer's
    ``percentiles`` entry for it), or None when the patient has no reference group."""
    from riskservice.core.render.percentiles import percentiles_of

    return percentiles_of(row).get("homa_ir")


def _percentile_value(row):
    """The percentile alone (1-99), for the summary."""
    ev, i = row.ev, row.i
    table = row.engine.percentile_table
    if "homa_ir" not in table.measures:
        return None
    pct, _, band = row.engine.percentiles(ev)
    p = float(pct[i][table.measures.index("homa_ir")])
    return None if band[i] < 0 or math.isnan(p) else round(p, 1)


def measured_of(row, audience: str = "clinician") -> dict | None:
    """The measured HOMA-IR (None when fasting glucose and insulin are not both given)."""
    ev, i, kb = row.ev, row.i, row.kb
    if not ev.homa_given[i]:
        return None
    rs = kb.ruleset
    o, m = rs["outcome"], rs["measured"]
    value = float(ev.indices["homa_ir"][i])
    status = HOMA_STATUS[int(ev.homa_status[i])]
    valid = bool(ev.homa_valid[i])
    bits = int(ev.homa_invalid[i])
    text_key = "patient_text" if audience == "patient" else "text"
    reasons = [{"code": code, "text": m["invalid"][code][text_key]}
               for k, code in enumerate(MEASURED_INVALID) if bits >> k & 1]
    border = o["borderline"]
    zone = f"borderline zone ({border['low']:g}-{border['high']:g})"
    status_text = (m["patient_status"][status] if audience == "patient"
                   else m["status"][status].replace("borderline zone", zone, 1))
    agreement = int(ev.agreement[i])
    statement = None
    if agreement >= 0 and AGREEMENT[agreement] == "disagree":
        spec = m["agreement"][status]
        statement = spec["patient_disagree_text" if audience == "patient" else "disagree_text"]
    if valid:
        text = f"Measured HOMA-IR {value:.3g}: {status_text}. Cut-off: {o['text']}."
        if audience != "patient":
            text += " " + o["assay_note"]
    else:
        text = (f"Measured HOMA-IR {value:.3g}, not valid as a measurement of the outcome: "
                + "; ".join(r["text"] for r in reasons) + ". The risk-factor estimate leads.")
    return {
        "homa_ir": {
            "value": value, "valid": valid, "invalid_reasons": reasons, "cutoff": o["cutoff"],
            "cutoff_text": o["text"], "borderline": {"low": border["low"], "high": border["high"]},
            "status": status, "percentile": _percentile(row), "text": text},
        "leads": valid,
        "agreement": AGREEMENT[agreement] if agreement >= 0 else None,
        "statement": statement,
        "references": list(m["references"]),
    }


def measured_summary(row) -> dict | None:
    ev, i = row.ev, row.i
    if not ev.homa_given[i]:
        return None
    valid = bool(ev.homa_valid[i])
    return {"value": float(ev.indices["homa_ir"][i]), "cutoff": row.kb.ruleset["outcome"]["cutoff"],
            "status": HOMA_STATUS[int(ev.homa_status[i])], "valid": valid, "percentile": _percentile_value(row),
            "leads": valid}


def probability_withheld(row) -> str | None:
    """Why the insulin-resistance probability is not shown, or None when it is."""
    ev, i = row.ev, row.i
    code = int(ev.probability_withheld[i])
    if code < 0:
        return None
    if IR_WITHHELD[code] == "measured":
        return row.kb.ruleset["measured"]["withheld_probability"]
    models = row.engine.models
    return models.absent.get("insulin_resistance") if models is not None else MODELS_OFF


def dysglycaemia_withheld(row) -> str | None:
    ev, i = row.ev, row.i
    code = int(ev.dysglycaemia_withheld[i])
    if code < 0:
        return None
    reason = DYSGLYCAEMIA_WITHHELD[code]
    if reason == "absent":
        models = row.engine.models
        return models.absent.get("dysglycaemia") if models is not None else MODELS_OFF
    return row.kb.ruleset["dysglycaemia"]["withheld"][reason]


def _value(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def probability_summary(row) -> dict:
    """The summary's insulin-resistance probability: the outcome in its short wording (the summary
    stays under 2 kB; the standard view has the full text)."""
    return {"value": _value(row.ev.probability[row.i]), "outcome": row.kb.ruleset["outcome"]["short_text"],
            "withheld": probability_withheld(row)}


def dysglycaemia_summary(row) -> dict:
    return {"value": _value(row.ev.dysglycaemia_probability[row.i]),
            "outcome": row.kb.ruleset["dysglycaemia"]["short_text"], "withheld": dysglycaemia_withheld(row)}


def dysglycaemia_of(row) -> dict | None:
    """The standard view's ``dysglycaemia`` block (None when the models are switched off)."""
    models = row.engine.models
    if models is None:
        return None
    model = models.dysglycaemia
    return {"probability": _value(row.ev.dysglycaemia_probability[row.i]),
            "outcome": row.kb.ruleset["dysglycaemia"]["text"],
            "model_id": model.model_id if model else None, "version": model.version if model else None,
            "withheld": dysglycaemia_withheld(row)}


def not_applicable_probabilities(row, reasons: list) -> tuple:
    """(probability, dysglycaemia probability) summaries when the score does not apply."""
    kb = row.kb
    fields = {r["field"] for r in reasons}
    dys = kb.ruleset["dysglycaemia"]["withheld"]
    why = dys["known_diabetes"] if "known_diabetes" in fields else dys["pregnant"]
    return ({"value": None, "outcome": kb.ruleset["outcome"]["short_text"], "withheld": NOT_APPLICABLE_WITHHELD},
            {"value": None, "outcome": kb.ruleset["dysglycaemia"]["short_text"], "withheld": why})


def diabetes_range_text(kb, confirmed: bool, key: str) -> str:
    """The diabetes-range text (``message``, ``clinician_text`` or ``patient_text``): when two
    different tests are in the range the diagnosis is confirmed and no repeat is asked for."""
    spec = kb.ruleset["diabetes_range"]
    return spec["confirmed"][key] if confirmed else spec[key]


def diabetes_range_warning(row, inputs=None) -> dict:
    kb, confirmed = row.kb, bool(row.ev.diabetes_confirmed[row.i])
    warning = {"field": "diabetes_range", "code": "diabetes_range"}
    if inputs is not None:
        warning["inputs"] = inputs
    warning["confirmed"] = confirmed
    warning["message"] = diabetes_range_text(kb, confirmed, "message")
    return warning


def measured_warnings(row) -> list:
    """One warning per reason a given HOMA-IR is not a valid measurement of the outcome."""
    bits = int(row.ev.homa_invalid[row.i])
    invalid = row.kb.ruleset["measured"]["invalid"]
    return [{"field": "homa_ir", "code": "homa_ir_not_valid",
             "message": f"not valid as a measurement of the outcome: {invalid[code]['text']}"}
            for k, code in enumerate(MEASURED_INVALID) if bits >> k & 1]


def triglycerides_warning(row) -> dict | None:
    if not row.ev.triglycerides_unscored[row.i]:
        return None
    return {"field": "triglycerides", "code": "triglycerides_not_scored",
            "message": row.kb.ruleset["triglycerides_not_fasting"]["text"]}
