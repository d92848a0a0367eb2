"""Checks of the knowledge's outcome blocks (ruleset.json outcome, measured, dysglycaemia) and the
numbers its texts quote, kept apart from :mod:`riskservice.core.knowledge` (which calls them).

One cut-off everywhere: every text that states a HOMA-IR cut-off ("HOMA-IR above X") states the
outcome's, and the HOMA-IR index flags at that same cut-off. Factor texts quote their own numbers
through placeholders filled from their bands at load time, so a text cannot drift from its points:
``{effect:<band id>}`` is the band's effect ("OR 4", "HR 2.44"), ``{points:<band id>}`` its points.
"""
from __future__ import annotations

import json
import re

PLACEHOLDER = re.compile(r"\{(effect|points):([a-z0-9_]+)\}")
HOMA_CUTOFF = re.compile(r"HOMA-IR (?:above|>) ?([0-9]+(?:\.[0-9]+)?)")
TEXT_KEYS = ("clinician_text", "patient_text")
EQUIVALENT_TOLERANCE = 0.02


def fill_factor_texts(factors: list, problems: list) -> None:
    """Replace ``{effect:band}`` and ``{points:band}`` in each factor's texts with the band's numbers."""
    for f in factors:
        bands = {b["id"]: b for v in f.get("variants", []) for b in v["bands"]}
        for key in TEXT_KEYS:
            text = f.get(key)
            if not isinstance(text, str) or "{" not in text:
                continue

            def number(m, f=f, bands=bands, key=key):
                kind, band_id = m.groups()
                band = bands.get(band_id)
                if band is None:
                    problems.append(f"factors.json {f['id']} {key}: {m.group(0)} names no band of the factor")
                    return m.group(0)
                if kind == "points":
                    return str(band["points"])
                effect = band.get("effect")
                if not effect:
                    problems.append(f"factors.json {f['id']} {key}: {m.group(0)}: band {band_id} has no effect")
                    return m.group(0)
                return f"{effect['measure']} {effect['estimate']:g}"

            f[key] = PLACEHOLDER.sub(number, text)


def check_outcome(kb, problems: list, need_refs) -> None:
    """The outcome's borderline zone, its one cut-off everywhere, the measured-HOMA-IR block and
    the dysglycaemia block refer to things that exist and agree."""
    rs = kb.ruleset
    o = rs["outcome"]
    need_refs("ruleset.json outcome", o["references"])
    need_refs("ruleset.json outcome borderline", o["borderline"]["references"])
    b, cut = o["borderline"], o["cutoff"]
    want = (round(cut / (1 + b["within_person_cv"]), 2), round(cut * (1 + b["within_person_cv"]), 2))
    if (b["low"], b["high"]) != want:
        problems.append(f"ruleset.json outcome borderline: low/high must be {want[0]}/{want[1]} "
                        f"(cut-off {cut} with CV {b['within_person_cv']})")
    if not b["low"] < cut < b["high"]:
        problems.append("ruleset.json outcome borderline: the zone must contain the cut-off")
    _check_one_cutoff(kb, o, problems)
    m = rs["measured"]
    need_refs("ruleset.json measured", m["references"])
    for cid in m["glucose_lowering_classes"]:
        if cid not in kb.drug_by_id:
            problems.append(f"ruleset.json measured: glucose-lowering class {cid!r} is not in drug_classes.json")
    band_ids = {t["id"] for t in rs["bands"]["thresholds"]}
    for status, spec in m["agreement"].items():
        for band_id in spec["agrees_with_bands"]:
            if band_id not in band_ids:
                problems.append(f"ruleset.json measured agreement {status}: unknown band {band_id!r}")
    d = rs["dysglycaemia"]
    need_refs("ruleset.json dysglycaemia", d["references"])
    quantities = kb.units["quantities"]
    for rule in d["established_when"]:
        q = quantities.get(rule["input"])
        if q is None:
            problems.append(f"ruleset.json dysglycaemia: {rule['input']!r} is not a measured input")
            continue
        canonical = rule["at_least"].get(q["canonical"])
        if canonical is None:
            problems.append(f"ruleset.json dysglycaemia {rule['input']}: no threshold in the canonical unit "
                            f"{q['canonical']}")
            continue
        for unit, value in rule["at_least"].items():
            conv = q["units"].get(unit)
            if conv is None:
                problems.append(f"ruleset.json dysglycaemia {rule['input']}: {unit!r} is not a unit of it")
                continue
            converted = value * conv["factor"] + conv.get("offset", 0.0)
            if abs(converted - canonical) > EQUIVALENT_TOLERANCE * canonical:
                problems.append(f"ruleset.json dysglycaemia {rule['input']}: {value} {unit} is {converted:.4g}, "
                                f"not {canonical} {q['canonical']}")


def _check_one_cutoff(kb, outcome: dict, problems: list) -> None:
    """The HOMA-IR index flags at the outcome's cut-off (one cut-off, no second flag), and every
    knowledge text that states a HOMA-IR cut-off states that one (other published cut-offs appear
    only as cited comparisons, ``alternative_cutoffs``)."""
    cut = outcome["cutoff"]
    homa = next((ix for ix in kb.indices if ix["id"] == outcome["measure"]), None)
    if homa is None:
        problems.append(f"indices.json: no {outcome['measure']} index for the outcome")
    else:
        cuts = homa.get("cutoffs", [])
        if len(cuts) != 1 or cuts[0]["value"] != cut or cuts[0]["comparison"] != outcome["comparison"]:
            problems.append(f"indices.json {homa['id']}: its one cut-off must be the outcome's "
                            f"({outcome['comparison']} {cut:g}); other published cut-offs go in alternative_cutoffs")
    indices = [{k: v for k, v in ix.items() if k != "alternative_cutoffs"} for ix in kb.indices]   # cited comparisons
    texts = json.dumps([kb.ruleset, indices, kb.factors, kb.mechanisms, kb.downstream_chain], ensure_ascii=False)
    stated = {float(x) for x in HOMA_CUTOFF.findall(texts)}
    wrong = sorted(x for x in stated if x != cut)
    if wrong:
        problems.append(f"a knowledge text states a HOMA-IR cut-off of {', '.join(f'{x:g}' for x in wrong)}; "
                        f"the outcome's is {cut:g} (one cut-off everywhere)")
