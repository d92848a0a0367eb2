"""How the picture has moved: past visits from the EHR's dated observations, each scored by the
same FHIR mapping and the same engine as today's.

A visit is a run of dates carrying mapped observations (BMI, waist, glucose, HbA1c, lipids,
insulin...) no more than ``SMART_TREND_VISIT_DAYS`` apart (labs are often drawn a few days from the
visit); it is scored as of its last date, with the mapping's own look-back rules (an older value
still inside its window counts, and says so). Medicines, conditions and family history are as the
EHR records them now. Every visit goes through one engine evaluation; a visit the engine refuses
is listed with its reason, never dropped. Each point keeps its provenance: which Observation, of
which date, gave each value.
"""
from __future__ import annotations

from datetime import date

from riskservice.ehr import fhir_in
from riskservice.ehr.fhir_in.helpers import parse_fhir_datetime
from riskservice.ehr.fhir_in.tables import tables

#: The measured values a trend point shows (in this order), by the mapping's field names.
SHOWN = ("bmi", "weight", "waist", "fasting_glucose", "fasting_insulin", "hba1c", "triglycerides",
         "hdl_cholesterol")


def _observation_dates(items) -> list[date]:
    """Dates of the Observations whose code the mapping knows (the ones that can make a visit)."""
    t = tables()
    out = set()
    for res, _ in items:
        if res.get("resourceType") != "Observation":
            continue
        if not any(t.observation_concept(c) for c in (res.get("code") or {}).get("coding") or []):
            continue
        when = None
        for key in ("effectiveDateTime", "effectiveInstant"):
            when = when or parse_fhir_datetime(res.get(key))
        period = res.get("effectivePeriod") or {}
        when = when or parse_fhir_datetime(period.get("end") or period.get("start"))
        if when is not None:
            out.add(when.date())
    return sorted(out)


def visits(items, as_of: date, gap_days: int) -> list[tuple[date, date]]:
    """(first, last) date of each run of observation dates at most ``gap_days`` apart, up to ``as_of``."""
    dates = [d for d in _observation_dates(items) if d <= as_of]
    out: list[tuple[date, date]] = []
    for d in dates:
        if out and (d - out[-1][1]).days <= gap_days:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def trend(scorer, items, as_of: date, lookback, drug_resolver, gap_days: int = 7, max_visits: int = 8,
          request_id=None) -> list[dict]:
    """One point per visit (oldest first, at most ``max_visits``, the latest kept): date, likelihood,
    points, band, the shown values with their sources, or why the visit could not be scored."""
    runs = visits(items, as_of, gap_days)[-max_visits:]
    if not runs:
        return []
    mappings = [fhir_in.map_resources(items, last, lookback, drug_resolver) for _, last in runs]
    parsed, ev = scorer.evaluate_rows([m.payload for m in mappings])
    points = []
    for i, ((first, last), mapping) in enumerate(zip(runs, mappings, strict=True)):
        values = []
        for name in SHOWN:
            src = mapping.sources.get(name)
            if name in mapping.payload and src:
                measured = src["effective"][:10]
                values.append({"field": name, "value": mapping.payload[name],
                               "unit": mapping.payload.get(f"{name}_unit"), "reference": src["reference"],
                               "date": measured, "carried": measured < first.isoformat()})
        point = {"date": last.isoformat(), "from": first.isoformat(), "values": values,
                 "age": mapping.payload.get("age")}
        if not ev.ok[i]:
            point["error"] = {k: list(v) for k, v in parsed.errors.by_row.get(i, {}).items()}
        else:
            s = scorer.render_row(ev, i, request_id, view="summary")
            if not s["applicable"]:
                point["error"] = {"applicable": [r.get("reason", "") if isinstance(r, dict) else str(r)
                                                 for r in s.get("not_applicable", [])]}
            else:
                prob, second = s.get("probability"), s.get("dysglycaemia_probability")
                measured = s.get("measured_homa_ir") or {}
                point.update(points=s["points"], band=s["band"], diabetes_range=s["diabetes_range"],
                             probability=prob.get("value") if isinstance(prob, dict) else None,
                             dysglycaemia_probability=second.get("value") if isinstance(second, dict) else None,
                             homa_ir=measured.get("value") if measured.get("valid") else None,
                             homa_ir_status=measured.get("status") if measured.get("valid") else None)
        points.append(point)
    return points


#: What the trend line shows, in order of preference: the first series every scored visit has.
SERIES = (("homa_ir", "Measured HOMA-IR"), ("probability", "Likelihood of insulin resistance"),
          ("dysglycaemia_probability", "Likelihood of dysglycaemia"), ("points", "Points"))


def chart(points: list[dict], cutoff: float | None = None) -> dict | None:
    """Coordinates (0-100 both ways) of one series over time for a small SVG line: measured HOMA-IR
    when every scored visit has it (with the cut-off as a dashed line), else a likelihood (0-100%),
    else the points."""
    scored = [p for p in points if not p.get("error")]
    if len(scored) < 2:
        return None
    key, name = next(((k, n) for k, n in SERIES if all(p.get(k) is not None for p in scored)), (None, None))
    if key is None:
        return None
    values = [float(p[key]) for p in scored]
    if key in ("probability", "dysglycaemia_probability"):
        lo, hi, ref = 0.0, 1.0, 0.5
    else:
        ref = cutoff if key == "homa_ir" else None
        lo = min(values + ([ref] if ref is not None else []) + ([0.0] if key == "homa_ir" else []))
        hi = max(values + ([ref] if ref is not None else []))
        pad = (hi - lo) * 0.15 or 1.0
        lo, hi = (lo if key == "homa_ir" else lo - pad), hi + pad
    first, last = date.fromisoformat(scored[0]["date"]), date.fromisoformat(scored[-1]["date"])
    span = max((last - first).days, 1)

    def y(v):
        return round(96 - 92 * (v - lo) / (hi - lo), 2)

    dots = [{"x": round(4 + 92 * (date.fromisoformat(p["date"]) - first).days / span, 2), "y": y(v)}
            for p, v in zip(scored, values, strict=True)]
    return {"key": key, "name": name, "dots": dots, "path": "M" + " L".join(f"{d['x']} {d['y']}" for d in dots),
            "ref_y": y(ref) if ref is not None else None, "ref": ref, "low": lo, "high": hi,
            "first": scored[0]["date"], "last": scored[-1]["date"]}
