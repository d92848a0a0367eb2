"""The first screen of a result: what a clinician reads in thirty seconds.

Picks, from the engine's full answer, the likelihood and band, a measured HOMA-IR with its
cut-off, the diabetes-range warning, the three factors that add the most points and the missing
inputs that could change the score. Nothing is computed here: every number is the engine's,
only chosen and put into words (through :class:`riskservice.web.wording.Plain`).
"""
from __future__ import annotations

TOP_FACTORS = 3
BAND_WORDS = {"low": "Low", "moderate": "Moderate", "high": "High", "very_high": "Very high"}


def percent(p) -> str:
    """A probability as a whole percentage; '<1%' and '>99%' rather than a false 0 or 100."""
    if p is None:
        return ""
    if p < 0.005:
        return "<1%"
    if p > 0.995:
        return ">99%"
    return f"{p * 100:.0f}%"


def change_words(d) -> str:
    """A change of probability in percentage points, for reading: '-2.1 percentage points'."""
    if d is None:
        return ""
    if abs(d) < 0.0005:
        return "no change"
    return f"{d * 100:+.1f} percentage points".replace("-", "−")


def number(x, digits: int = 3) -> str:
    """A measured or derived value for reading: ``digits`` significant digits, no trailing zeros."""
    if x is None:
        return ""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.{digits}g}"


def outcome_name(outcome: str) -> str:
    """The outcome's name (its text before the first colon or sentence end): 'Dysglycaemia'."""
    head = (outcome or "").split(":")[0].split(". ")[0].strip()
    return head[:1].lower() + head[1:] if head[1:2].islower() else head


def _value_text(c, plain) -> str:
    value = c.get("value")
    if c["factor"].startswith("medication:") and isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, bool) or value is None:
        return plain(c.get("band_label", ""))
    if isinstance(value, str):
        return plain(value)
    unit = plain.unit(c.get("unit") or "")
    return f"{number(value)} {unit}".strip()


def top_factors(result: dict, plain, n: int = TOP_FACTORS) -> list[dict]:
    """The ``n`` factors adding the most points (ties in the engine's order), with modifiability."""
    ranked = sorted((c for c in result["rules"]["contributions"] if c["points"] > 0),
                    key=lambda c: -c["points"])  # sorted() is stable: ties keep the engine's order
    return [{"label": plain(c["label"]), "value": _value_text(c, plain), "points": c["points"],
             "modifiable": bool(c.get("modifiable")), "factor": c["factor"]} for c in ranked[:n]]


def missing_that_matter(result: dict, plain) -> list[dict]:
    """Missing inputs that could add points (most first), then indices that need more labs."""
    factors = sorted((m for m in result["missing"] if m["kind"] == "factor" and m.get("max_points", 0) > 0),
                     key=lambda m: -m["max_points"])
    out = [{"label": plain(m["label"]), "max_points": m["max_points"], "kind": "factor"} for m in factors]
    needs = {}
    for m in result["missing"]:
        if m["kind"] == "index":
            needs.setdefault(tuple(m["needs"]), []).append(plain(m["name"]))
    for inputs, names in needs.items():
        out.append({"label": ", ".join(plain(i) for i in inputs), "enables": ", ".join(names), "kind": "index"})
    return out


def measured_homa(result: dict, plain) -> dict | None:
    """Measured HOMA-IR (fasting glucose and insulin given) with its cut-off and source population.

    Reads the contract's ``measured.homa_ir`` when the engine sends it, else the index block."""
    measured = (result.get("measured") or {}).get("homa_ir") if isinstance(result.get("measured"), dict) else None
    if measured:
        zone = measured.get("borderline") or {}
        pct = measured.get("percentile")
        return {"value": number(measured.get("value")), "cutoff": number(measured.get("cutoff")),
                "comparison": "", "status": measured.get("status"), "valid": measured.get("valid", True),
                "borderline": (number(zone.get("low")), number(zone.get("high"))) if zone else None,
                "text": plain(measured.get("text") or ""), "leads": bool(result["measured"].get("leads")),
                "invalid_reasons": [plain(r["text"] if isinstance(r, dict) else r)
                                    for r in measured.get("invalid_reasons") or []],
                "statement": plain(result["measured"].get("statement") or ""),
                "percentile_text": pct.get("text") if isinstance(pct, dict) else None, "population": ""}
    ix = (result.get("indices") or {}).get("homa_ir")
    if not ix:
        return None
    cut = ix.get("cutoff")
    status = None if ix.get("flagged") is None else ("above" if ix["flagged"] else "below")
    pct = (result.get("percentiles") or {}).get("homa_ir")
    return {"value": number(ix["value"]), "cutoff": number(cut["value"]) if cut else "",
            "comparison": cut["comparison"] if cut else "", "status": status, "valid": True, "borderline": None,
            "population": plain(cut["population"]) if cut else "", "text": plain(ix.get("interpretation") or ""),
            "leads": False, "invalid_reasons": [], "statement": "",
            "percentile_text": pct["text"] if pct else None}


def likelihood(result: dict, plain) -> dict | None:
    """The model's likelihood and what it is a likelihood of (None when the model is off)."""
    model = result.get("model")
    if not model:
        return None
    withheld = model.get("withheld")
    value = model.get("probability")
    if value is None and not withheld:
        withheld = "not computed for this patient"
    outcome = (result.get("outcome") or {}).get("text") or model.get("outcome", "")
    first = outcome.split(". ")[0].rstrip(".") + "." if outcome else ""
    return {"value": value, "percent": percent(value), "outcome": plain(outcome), "outcome_first": plain(first),
            "name": plain(outcome_name(outcome)), "withheld": plain(withheld) if withheld else None,
            "model": f"{model.get('model_id', '')} {model.get('version', '')}".strip()}


def dysglycaemia(result: dict, plain) -> dict | None:
    """The second, labelled estimate (issue 20 contract), when the engine sends it."""
    d = result.get("dysglycaemia")
    if not d:
        return None
    return {"value": d.get("probability"), "percent": percent(d.get("probability")),
            "outcome": plain(d.get("outcome", "")), "name": plain(outcome_name(d.get("outcome", ""))),
            "withheld": plain(d["withheld"]) if d.get("withheld") else None}


def band_description(kb, band: str, plain) -> str:
    """What the band means, from the ruleset's threshold label without its leading name
    ('very high: predicted insulin resistance ... 50% or more; 67% of ...' -> 'Predicted ...')."""
    label = next((t.get("label", "") for t in kb.ruleset["bands"]["thresholds"] if t["id"] == band), "")
    head, _, rest = label.partition(": ")
    text = rest if rest and head.replace("_", " ") == band.replace("_", " ") else label
    return plain(text[:1].upper() + text[1:]) if text else ""


def answer(result: dict, plain) -> dict:
    """Everything the first screen shows, in reading order."""
    rules = result["rules"]
    band = rules["band"]
    return {
        "warnings": [plain(w["message"]) for w in result["warnings"] if w.get("code") == "diabetes_range"],
        "measured": measured_homa(result, plain),
        "likelihood": likelihood(result, plain),
        "dysglycaemia": dysglycaemia(result, plain),
        "band": {"id": band, "words": plain(rules.get("band_label") or BAND_WORDS.get(band, band)),
                 "points": rules["points"], "max_points": rules["max_points"],
                 "lower_bound": bool(rules.get("lower_bound")),
                 "statement": plain(rules.get("lower_bound_statement") or ""),
                 "description": band_description(plain.kb, band, plain),
                 "if_missing_worst": (BAND_WORDS.get(rules.get("band_if_missing_were_maximal"))
                                      if rules.get("band_if_missing_were_maximal") not in (None, band) else None)},
        "top_factors": top_factors(result, plain),
        "missing": missing_that_matter(result, plain),
    }
