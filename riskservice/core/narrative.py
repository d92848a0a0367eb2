"""The ``explanation`` narrative (markdown) and the numbered reference list it cites.

The narrative only strings together texts stored in the knowledge files (factor and
mechanism ``clinician_text`` / ``patient_text``, the downstream chain and its consequences)
with the patient's own numbers; the joining sentences below make no clinical claim.
Citations are numbered in order of first use: [1] is ``references[0]`` of the response.
"""
from __future__ import annotations

from riskservice.core import markdown
from riskservice.core.units import DISPLAY

AUDIENCES = ("clinician", "patient")
PATIENT_MECHANISMS = 3  # the patient narrative stays short: the top routes only
BAND_WORDS = {"low": "low", "moderate": "moderate", "high": "high", "very_high": "very high"}


class Citations:
    """Assigns numbers to reference ids in order of first use."""

    def __init__(self):
        self.number: dict = {}   # reference id -> its number; insertion order = order of first use

    @property
    def order(self) -> list:
        return list(self.number)

    def cite(self, ids) -> str:
        number = self.number
        nums = []
        for rid in dict.fromkeys(ids):
            n = number.get(rid)
            if n is None:
                n = number[rid] = len(number) + 1
            nums.append(str(n))
        return f" [{', '.join(nums)}]" if nums else ""


def _value(c, audience: str = "clinician") -> str:
    """The value as given, with its unit as people write it; empty for yes/no answers (the band
    label says it). A value worked out here (an index: no unit was sent) has 3 significant digits,
    and for patients no unit (its unit is a description such as 'ratio (mg/dL / mg/dL)'). Text the
    caller or the EHR wrote (a medication entry) is escaped: it reads as text, never as markdown."""
    if c["factor"].startswith("medication:"):
        return ", ".join(markdown.text(v) for v in c["value"])
    value = c["value"]
    if isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return markdown.text(value.replace("_", " "))
    derived = c["unit"] is None and c["canonical_unit"] is not None
    unit = None if derived and audience == "patient" else (c["unit"] or c["canonical_unit"])
    shown = f"{value:.3g}" if derived else f"{value:g}"
    return f"{shown} {DISPLAY.get(unit, unit)}" if unit else shown


LABELS = {"hdl_cholesterol": "HDL cholesterol", "hba1c": "HbA1c", "alt": "ALT", "hs_crp": "hs-CRP"}


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def _missing_sentences(missing: list, audience: str) -> list:
    """What the absent inputs would allow: per set of inputs (clinician), or in one line (patient)."""
    index_gaps = [m for m in missing if m["kind"] == "index"]
    if not index_gaps:
        return []
    if audience == "patient":
        inputs = list(dict.fromkeys(n for m in index_gaps for n in m["needs"]))
        n = len(index_gaps)
        return [f"Adding {_join([_label(i) for i in inputs])} would allow {n} more "
                f"{'measure' if n == 1 else 'measures'} of how well insulin works."]
    by_needs = {}
    for m in index_gaps:
        by_needs.setdefault(tuple(m["needs"]), []).append(m["name"])
    return [f"Adding {_join([_label(n) for n in needs])} would allow {', '.join(names)}."
            for needs, names in by_needs.items()]


def _join(items: list) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def build(result: dict, kb, audience: str) -> tuple:
    """(markdown narrative, ordered reference ids it cites) for one scored result. A value in the
    diabetes range leads the narrative, before any score; then a valid measured HOMA-IR, before
    what the risk factors predict."""
    cites = Citations()
    lead = ""
    if result.get("diabetes_range"):
        spec = kb.ruleset["diabetes_range"]
        warning = next((w for w in result.get("warnings", []) if w.get("code") == "diabetes_range"), {})
        texts = spec["confirmed"] if warning.get("confirmed") else spec
        lead = (f"**Diabetes range.** {texts['patient_text'] if audience == 'patient' else texts['clinician_text']}"
                + cites.cite(spec["references"]) + "\n\n")
    text = _patient(result, kb, cites) if audience == "patient" else _clinician(result, kb, cites)
    return lead + text, list(cites.order)


def _factor_text(c, kb, audience):
    """The stored text of a contribution's factor; a value in the diabetes range reads the
    diabetes-range text instead (never "prediabetes")."""
    if c.get("diabetes_range"):     # the answer's text: confirmed by two tests, or to be confirmed
        return c.get("text") or kb.ruleset["diabetes_range"][f"{audience}_text"]
    return kb.factor_by_id[c["factor"]][f"{audience}_text"]


def _model_sentence(r, audience: str) -> list:
    """The insulin-resistance probability with what it is a probability of, or why it is not shown."""
    model = r.get("model")
    if not model:
        return []
    if model.get("probability") is None:
        return [] if audience == "patient" else [f"\n**Model probability:** not shown: {model['withheld']}."]
    if r.get("diabetes_range"):   # a risk estimate is moot once a value is in the diabetes range
        return [] if audience == "patient" else \
            ["\n**Model probability:** not shown: a value is already in the diabetes range."]
    p = f"{model['probability']:.0%}"
    if audience == "patient":
        return [f"A statistical model puts the chance of insulin resistance at {p}."]
    return [f"\n**Model probability:** {p} ({model['model_id']} {model['version']}). Outcome: {model['outcome']}."]


def _dysglycaemia_sentence(r, kb, audience: str) -> list:
    """The second model's probability (dysglycaemia), labelled as such, or why it is not shown."""
    d = r.get("dysglycaemia")
    if not d:
        return []
    if d["probability"] is None:
        return [] if audience == "patient" else [f"\n**Dysglycaemia model:** not shown: {d['withheld']}."]
    p = f"{d['probability']:.0%}"
    if audience == "patient":
        return [f"A second model, for a related outcome, puts the chance at {p} that "
                f"{kb.ruleset['dysglycaemia']['patient_text']}."]
    return [f"\n**Dysglycaemia model:** {p} ({d['model_id']} {d['version']}). Outcome: {d['outcome']}."]


def _measured_lines(r, kb, cites, audience: str) -> list:
    """The measured HOMA-IR: it leads when valid (with a sentence when the risk factors disagree);
    when not valid, why not."""
    m = r.get("measured")
    if not m:
        return []
    h = m["homa_ir"]
    refs = cites.cite(m["references"])
    if audience == "patient":
        if not h["valid"]:
            return [f"\nYour HOMA-IR blood test ({h['value']:.3g}) was not used to decide this, because "
                    + _join([x["text"] for x in h["invalid_reasons"]]) + "." + refs]
        lines = [f"**Your blood test:** your HOMA-IR is {h['value']:.3g}. {kb.ruleset['outcome']['patient_text']} "
                 f"{kb.ruleset['measured']['patient_status'][h['status']]}" + refs]
    else:
        lines = [f"**Measured HOMA-IR** {h['text'].removeprefix('Measured HOMA-IR ')}" + refs]
        if not h["valid"]:
            lines[0] = "\n" + lines[0]
    if m["statement"]:
        lines.append(m["statement"])
    return lines


def _estimate_head(r, kb, audience: str) -> list:
    """The points and band: the answer's head, or the context after a valid measured HOMA-IR."""
    rules = r["rules"]
    band = BAND_WORDS[rules["band"]]
    measured = (r.get("measured") or {}).get("leads")
    if audience == "patient":
        head = "\n**What your risk factors predict:**" if measured else "**Your result:**"
        lines = [f"{head} {rules['points']} points. This is in the **{band}** group for insulin resistance. "
                 "It is not a diagnosis."]
        if rules.get("lower_bound"):
            lines.append("Some facts about you were not given, so your real score could be higher.")
        return lines
    head = "\n**What the risk factors predict:**" if measured else "**Rules score:**"
    return [f"{head} {rules['points']} of {rules['max_points']} possible points, band **{band}** for the "
            f"likelihood of insulin resistance, {kb.ruleset['outcome']['short_text']}."
            + (f" {rules['lower_bound_statement']}" if rules.get("lower_bound") else "")]


def _head(r, kb, cites, audience: str) -> list:
    """What leads: a valid measured HOMA-IR, then the estimate as context; otherwise the estimate,
    then why the measurement (if any) is not valid; then both models' probabilities."""
    measured = _measured_lines(r, kb, cites, audience)
    if (r.get("measured") or {}).get("leads"):
        lines = measured + _estimate_head(r, kb, audience)
    else:
        lines = _estimate_head(r, kb, audience) + measured
    return lines + _model_sentence(r, audience) + _dysglycaemia_sentence(r, kb, audience)


def _clinician(r, kb, cites) -> str:
    rules = r["rules"]
    lines = _head(r, kb, cites, "clinician")
    scoring = [c for c in rules["contributions"] if c["points"] or c.get("band_points") or c["mechanisms"]]
    if scoring:
        lines.append("\n**Contributing factors**")
        for c in scoring:
            if c["points"]:
                pts = f"+{c['points']} point{'s' if c['points'] != 1 else ''}"
            elif c.get("band_points"):
                pts = f"band worth {c['band_points']}, not added: exclusive group"
            else:
                pts = "0 points"
            if c["factor"].startswith("medication:"):
                cls = kb.drug_by_id[c["canonical_value"]]
                body = f"Evidence {cls['evidence']}."
            else:
                body = _factor_text(c, kb, "clinician")
            via = "; ".join([kb.mechanisms[m]["name"] for m in c["mechanisms"]])
            value = _value(c)
            shown = f" {value}" if value else ""
            lines.append(f"- **{c['label']}**{shown} ({c['band_label']}, {pts}): {body}"
                         + (f" Acts through {via}." if via else "") + cites.cite(c["references"]))
    shown_above = {id(c) for c in scoring}   # by identity: no two contributions are equal
    quiet = [c for c in rules["contributions"] if id(c) not in shown_above]
    if quiet:
        lines.append("\nAlso given, adding no points: "
                     + "; ".join(f"{c['label']} {_value(c)} ({c['band_label']})".replace("  ", " ")
                                 for c in quiet) + ".")
    mechs = [m for m in r["mechanisms"] if m["weight"] > 0]
    if mechs:
        lines.append("\n**Mechanisms, ranked by the points of the factors acting through them** (a factor "
                     "counts in full for every mechanism its sources link it to; the points are not split)")
        for m in mechs:
            drivers = ", ".join([f["label"] for f in m["factors"]])
            support = ", ".join([s["name"] for s in m["supporting_indices"]])
            lines.append(f"{m['rank']}. **{m['name']}** ({m['weight']:g} points from {drivers}"
                         + (f"; supported by {support}" if support else "") + "): "
                         + kb.mechanisms[m["id"]]["clinician_text"] + cites.cite(m["references"]))
        dc = kb.downstream_chain
        lines.append("\n**Shared downstream chain:** " + dc["clinician_text"] + cites.cite(dc["chain_references"]))
        lines.append("\n**Consequences:** " + dc["consequences_clinician_text"]
                     + cites.cite(dc["consequences_references"]))
    if r["indices"]:
        parts = []
        for ix in r["indices"].values():
            if ix["cutoff"] is None:
                state = "no cut-off applied"
            elif ix["cutoff"].get("text"):
                state = f"{'flagged' if ix['flagged'] else 'not flagged'}: {ix['cutoff']['text']}"
            else:
                state = (f"{'beyond' if ix['flagged'] else 'within'} the cut-off "
                         f"{ix['cutoff']['comparison']} {ix['cutoff']['value']:g} "
                         f"({ix['cutoff']['population']})")
            parts.append(f"{ix['name']} {ix['value']:.3g}, {state}" + cites.cite(ix["references"]))
        lines.append("\n**Surrogate indices:** " + "; ".join(parts) + ".")
    if r["established"] and r.get("diabetes_range"):
        lines.append("\n**Established scores:** not shown: they screen people without diabetes, and a value "
                     "is already in the diabetes range.")
    elif r["established"]:
        parts = [f"{s['name']} {s['points']} points"
                 + (f" ({s['category']})" if s.get("category") else "")
                 + ("" if s["complete"] else ", incomplete") + cites.cite(s["references"])
                 for s in r["established"].values()]
        lines.append("\n**Established scores:** " + "; ".join(parts) + ".")
    unscored = [m["label"] for m in r["missing"] if m["kind"] == "not_scored"]
    if unscored:
        lines.append(f"\n**Reported, not scored:** {', '.join(unscored)}: "
                     + kb.ruleset["triglycerides_not_fasting"]["text"])
    missing = _missing_sentences(r["missing"], "clinician")
    absent = [m["label"] for m in r["missing"] if m["kind"] == "factor"]
    if missing or absent:
        lines.append("\n**What is missing:** "
                     + (f"Not given: {', '.join(absent)}. " if absent else "") + " ".join(missing))
    return "\n".join(lines).strip() + "\n"


def _patient(r, kb, cites) -> str:
    rules = r["rules"]
    lines = _head(r, kb, cites, "patient")
    scoring = [c for c in rules["contributions"] if c["points"] or c["mechanisms"]]
    change = [c for c in scoring if c["modifiable"]]
    fixed = [c for c in scoring if not c["modifiable"]]
    meds_done = False
    if change:
        lines.append("\n**Things you can change**")
        for c in change:
            if c["factor"].startswith("medication:"):
                refs = [rid for m in change if m["factor"].startswith("medication:") for rid in m["references"]]
                if meds_done:
                    continue
                meds_done = True
                names = ", ".join(_value(m, "patient") for m in change if m["factor"].startswith("medication:"))
                lines.append(f"- **Medicines** ({names}): " + kb.factor_by_id["medications"]["patient_text"]
                             + cites.cite(refs))
                continue
            value = _value(c, "patient")
            shown = f" ({value})" if value else ""
            lines.append(f"- **{c['label']}**{shown}: "
                         + _factor_text(c, kb, "patient") + cites.cite(c["references"]))
    if fixed:
        lines.append("\n**Things you cannot change**")
        for c in fixed:
            lines.append(f"- **{c['label']}**: " + _factor_text(c, kb, "patient")
                         + cites.cite(c["references"]))
    mechs = [m for m in r["mechanisms"] if m["weight"] > 0]
    if mechs:
        lines.append("\n**What happens in the body**")
        for m in mechs[:PATIENT_MECHANISMS]:
            lines.append(f"- {kb.mechanisms[m['id']]['patient_text']}" + cites.cite(m["references"]))
        if len(mechs) > PATIENT_MECHANISMS:
            rest = len(mechs) - PATIENT_MECHANISMS
            lines.append(f"- {rest} other {'route plays' if rest == 1 else 'routes play'} a smaller part here.")
        dc = kb.downstream_chain
        if r.get("diabetes_range"):   # the course towards diabetes is not news to read now
            lines.append("\n**What this means in the body:** " + dc["patient_text"] + cites.cite(dc["chain_references"]))
        else:
            lines.append("\n**Where it can lead:** " + dc["patient_text"] + cites.cite(dc["chain_references"])
                         + " " + dc["consequences_patient_text"] + cites.cite(dc["consequences_references"]))
    if r["indices"]:
        flagged = [ix for ix in r["indices"].values() if ix["flagged"]]
        refs = [rid for ix in r["indices"].values() for rid in ix["references"]]
        lines.append(f"\n**Blood test measures:** {len(r['indices'])} measures of how well insulin works "
                     f"could be worked out. {len(flagged)} of them were past the usual cut-off."
                     + cites.cite(refs))
    if any(m["kind"] == "not_scored" for m in r["missing"]):
        lines.append("\n" + kb.ruleset["triglycerides_not_fasting"]["patient_text"])
    missing = _missing_sentences(r["missing"], "patient")
    if missing:
        lines.append("\n**What is missing:** " + " ".join(missing))
    lines.append("\n**Next step:** Please talk about this result with your clinician. "
                 "Do not change a medicine on your own.")
    return "\n".join(lines).strip() + "\n"
