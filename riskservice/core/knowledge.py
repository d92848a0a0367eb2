"""Load the clinical knowledge files once, validate them, and index them for scoring.

Knowledge is data (``riskservice/knowledge/*.json``), reviewed like code. A malformed,
uncited or inconsistent file stops start-up with a message naming the file and the entry,
because a service that scores with a broken table is worse than one that does not start.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from riskservice.core.errors import KnowledgeError
from riskservice.core.knowledge_texts import check_outcome, fill_factor_texts
from riskservice.core.medications import (
    MedicationIndex,
    MedicationMatch,
    check_medications,
)

FILES = (
    "ruleset", "units", "references", "mechanisms", "factors",
    "drug_classes", "indices", "established", "medication_synonyms", "input_synonyms", "percentiles",
)
SCHEMA_FILE = "knowledge.schema.json"
SEXES = ("female", "male")
ETHNICITIES = ("europid", "south_asian", "east_asian", "japanese", "asian", "african",
               "hispanic", "middle_eastern", "other")
ATC_RE = re.compile(r"^[A-Z][0-9]{2}[A-Z]{0,2}[0-9]{0,2}$")
REVIEW_ORDER = ("draft", "under_review", "approved")


def default_dir() -> Path:
    """The knowledge directory shipped inside the package."""
    return Path(str(resources.files("riskservice") / "knowledge"))


@dataclass
class Knowledge:
    """Validated, indexed knowledge plus the version and digest stamped on every result."""

    directory: Path
    ruleset: dict
    units: dict
    references: dict
    mechanisms: dict
    factors: list
    drug_classes: list
    indices: list
    established: dict
    sha256: str
    downstream_chain: dict = field(default_factory=dict)
    percentiles: dict = field(default_factory=dict)      # generated: riskservice derive-percentiles
    factor_by_id: dict = field(default_factory=dict)
    drug_by_name: dict = field(default_factory=dict)
    drug_by_id: dict = field(default_factory=dict)
    medication_classes: list = field(default_factory=list)   # drug_classes plus recognised-only classes
    medication_synonyms: list = field(default_factory=list)
    route_policy: dict = field(default_factory=dict)
    input_synonyms: dict = field(default_factory=dict)    # how tabular inputs are recognised (core/names.py)
    _medication_index: MedicationIndex | None = field(default=None, repr=False, compare=False)

    @property
    def version(self) -> str:
        return self.ruleset["version"]

    @property
    def disclaimer(self) -> str:
        return self.ruleset["disclaimer"]["text"]

    @property
    def base_relative_risk(self) -> float:
        """Odds ratio worth one point, exp(B); kept for the result's ``base_relative_risk``."""
        return self.ruleset["points_method"]["base_relative_risk"]

    def match_medication(self, entry: str) -> MedicationMatch:
        """What a medication entry as written means: class, route, exclusion or spelling suggestion.

        Accepts generic and brand names with doses and forms ("Medrol 4 mg tablets"), ATC codes
        and route words ("hydrocortisone cream"); cached per distinct string.
        """
        if self._medication_index is None:
            self._medication_index = MedicationIndex.build(
                self.medication_classes, self.medication_synonyms, self.route_policy)
        return self._medication_index.match(entry)

    def antihypertensive_entries(self, entries) -> list:
        """The entries that are a blood-pressure medicine taken systemically, for the FINDRISC and
        ADA antihypertensive item (classes in established.json derived_inputs.antihypertensive)."""
        wanted = set(self.established["derived_inputs"]["antihypertensive"]["drug_classes"])
        out = []
        for entry in entries or ():
            m = self.match_medication(entry)
            if m.scores and wanted.intersection(m.class_ids):
                out.append(entry)
        return out

    @property
    def points_unit(self) -> float:
        """B: the log-odds worth one point (Sullivan method)."""
        return self.ruleset["points_method"]["points_unit_log_odds"]

    def drug_class_for(self, entry: str):
        """The insulin-resistance class an entry scores in (systemic use only), or None."""
        m = self.match_medication(entry)
        if m.scores and m.insulin_resistance:
            return self.drug_by_id[m.class_id]
        return None


def load_knowledge(directory=None) -> Knowledge:
    """Read, schema-check and cross-check every knowledge file; raise KnowledgeError."""
    directory = Path(directory) if directory else default_dir()
    schema_path = directory / SCHEMA_FILE if (directory / SCHEMA_FILE).exists() else default_dir() / SCHEMA_FILE
    schema_bytes = _read_bytes(schema_path)
    schema = _parse(schema_path, schema_bytes)
    raw, digest, paths = {}, hashlib.sha256(), {}
    for name in FILES:
        path = directory / f"{name}.json"
        data = path.read_bytes() if path.exists() else None
        if data is None:
            raise KnowledgeError(f"knowledge file missing: {path}")
        digest.update(name.encode() + b"\0" + data + b"\0")
        raw[name], paths[name] = _parse(path, data), path
    marker = _validated_marker(schema_bytes, digest.hexdigest())
    if marker is None or not marker.exists():
        for name in FILES:
            _validate_schema(paths[name], raw[name], schema, name)
        _remember_valid(marker)
    kb = Knowledge(
        directory=directory,
        ruleset=raw["ruleset"],
        units=raw["units"],
        references={r["id"]: r for r in raw["references"]["references"]},
        mechanisms={m["id"]: m for m in raw["mechanisms"]["mechanisms"]},
        downstream_chain=raw["mechanisms"]["downstream_chain"],
        factors=raw["factors"]["factors"],
        drug_classes=[c for c in raw["drug_classes"]["classes"] if c.get("insulin_resistance", True)],
        medication_classes=raw["drug_classes"]["classes"],
        medication_synonyms=raw["medication_synonyms"]["synonyms"],
        route_policy=raw["drug_classes"]["route_policy"],
        input_synonyms=raw["input_synonyms"],
        indices=raw["indices"]["indices"],
        established=raw["established"],
        percentiles=raw["percentiles"],
        sha256=digest.hexdigest(),
    )
    kb.factor_by_id = {f["id"]: f for f in kb.factors}
    kb.drug_by_id = {c["id"]: c for c in kb.medication_classes}
    for cls in kb.drug_classes:
        for name in cls["names"]:
            kb.drug_by_name[name.lower()] = cls
    _cross_check(kb)
    return kb


def _round_half_away(value: float) -> int:
    return int(math.floor(abs(value) + 0.5)) * (1 if value >= 0 else -1)


def derived_points(effect: dict, unit: float) -> int:
    """Literature points: round(exponent x ln(adjusted estimate) / B), half away from zero."""
    return _round_half_away(effect.get("exponent", 1.0) * math.log(effect["estimate"]) / unit)


def sullivan_points(derivation: dict, unit: float) -> int:
    """Generated points: round((coefficient x (reference value - base value) - the coefficient of the
    factor's lowest-risk category, when that is not the fit's reference) / B)."""
    d = derivation
    shift = d.get("category_base", {}).get("coefficient", 0.0)
    return _round_half_away((d["coefficient"] * (d["reference_value"] - d["base_value"]) - shift) / unit)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise KnowledgeError(f"knowledge file missing: {path}") from exc


CACHE_ENV = "RISKSERVICE_CACHE_DIR"


def _validated_marker(schema_bytes: bytes, files_digest: str) -> Path | None:
    """Where a file records that these exact bytes (schema and knowledge) passed the JSON Schema
    check, so a restart with unchanged files skips jsonschema (~0.2 s with its import). Any
    changed byte gives another name and a full check. ``RISKSERVICE_CACHE_DIR=off`` disables it;
    the default is $XDG_CACHE_HOME/riskservice (~/.cache/riskservice). The cross-checks always run."""
    setting = os.environ.get(CACHE_ENV, "")
    if setting.strip().lower() in ("off", "0", "false", "no"):
        return None
    base = Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "riskservice"
    key = hashlib.sha256(schema_bytes + b"\0" + files_digest.encode()).hexdigest()
    return base / f"knowledge-valid-{key}"


def _remember_valid(marker: Path | None) -> None:
    if marker is None:
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # read-only home or container: validate on every start, as before


def _read_json(path: Path):
    try:
        return _parse(path, path.read_bytes())
    except FileNotFoundError as exc:
        raise KnowledgeError(f"knowledge file missing: {path}") from exc


def _parse(path: Path, data: bytes):
    try:
        return json.loads(data)
    except ValueError as exc:
        raise KnowledgeError(f"{path.name}: not valid JSON ({exc})") from exc


def _validate_schema(path: Path, doc, schema: dict, name: str) -> None:
    import jsonschema  # imported only when a check is needed (see _validated_marker)

    wrapper = {**schema, "$ref": f"#/$defs/{name}_file"}
    validator = jsonschema.Draft202012Validator(wrapper)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]]
        raise KnowledgeError(f"{path.name} does not match its schema:\n" + "\n".join(lines))


def _cross_check(kb: Knowledge) -> None:
    """Checks JSON Schema cannot express: citations resolve, bands tile, points derive."""
    problems: list[str] = []
    fill_factor_texts(kb.factors, problems)
    refs, mechs = kb.references, kb.mechanisms
    base = kb.points_unit
    _check_points_method(problems, kb)

    def need_refs(where, ids):
        if not ids:
            problems.append(f"{where}: no reference id")
        for rid in ids:
            if rid not in refs:
                problems.append(f"{where}: unknown reference id {rid!r}")

    def need_mechs(where, ids):
        for mid in ids:
            if mid not in mechs:
                problems.append(f"{where}: unknown mechanism id {mid!r}")

    for m in mechs.values():
        need_refs(f"mechanisms.json {m['id']}", m["references"])
    need_refs("mechanisms.json downstream_chain", kb.downstream_chain["references"])
    need_refs("mechanisms.json downstream_chain chain", kb.downstream_chain["chain_references"])
    need_refs("mechanisms.json downstream_chain consequences", kb.downstream_chain["consequences_references"])
    for rid in kb.ruleset["bands"]["references"]:
        if rid not in refs:
            problems.append(f"ruleset.json bands: unknown reference id {rid!r}")
    for f in kb.factors:
        where = f"factors.json {f['id']}"
        need_mechs(where, f.get("mechanisms", []))
        if f["kind"] != "medications" and f["input"] not in _inputs(kb):
            problems.append(f"{where}: input {f['input']!r} is not a known input field or index id")
        if "generated" in f:
            _check_generated(problems, where, f, kb)
        for v in f.get("variants", []):
            _check_bands(problems, where, f["kind"], v["bands"], base, need_refs,
                         kb.ruleset["points_method"].get("generated", {}).get("coefficients", {}))
            _check_equivalents(problems, where, f, v["bands"], kb)
        if f.get("variants"):
            _check_variant_cover(problems, where, f)
    for c in kb.medication_classes:
        where = f"drug_classes.json {c['id']}"
        need_refs(where, c["references"])
        need_mechs(where, c["mechanisms"])
        _check_points(problems, where, c, base)
        for p in c["atc_prefixes"]:
            if not ATC_RE.match(p):
                problems.append(f"{where}: {p!r} is not an ATC code or prefix")
    names = [n.lower() for c in kb.medication_classes for n in c["names"]]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"drug_classes.json: names in more than one class: {dupes}")
    problems.extend(check_medications(kb.medication_classes, kb.medication_synonyms, kb.route_policy))
    from riskservice.core.names import build as build_names
    try:
        build_names(kb.input_synonyms, kb.units)
    except ValueError as exc:
        problems.append(str(exc))
    need_refs("drug_classes.json route_policy", kb.route_policy["references"])
    from riskservice.core.indices import FORMULAS
    for ix in kb.indices:
        where = f"indices.json {ix['id']}"
        if ix["id"] not in FORMULAS:
            problems.append(f"{where}: no formula implemented for this index")
        need_mechs(where, ix.get("mechanisms_when_flagged", []))
        need_refs(where, ix["references"])
        for cut in ix.get("cutoffs", []):
            need_refs(f"{where} cut-off {cut['value']}", cut["references"])
    for score_id, score in kb.established["scores"].items():
        need_refs(f"established.json {score_id}", score["references"])
        for item in score["items"]:
            for v in item["variants"]:
                _check_bands(problems, f"established.json {score_id}.{item['id']}",
                             item["kind"], v["bands"], None, need_refs)
    check_outcome(kb, problems, need_refs)
    _check_meaning(kb, problems)
    from riskservice.core import percentiles
    percentiles.check(kb.percentiles, kb, problems)
    if problems:
        raise KnowledgeError("knowledge files are inconsistent:\n  " + "\n  ".join(problems))


def _check_meaning(kb: Knowledge, problems: list[str]) -> None:
    """Meaning, not only shape: plausibility bounds ordered, every unit convertible, and every
    band edge inside its input's bounds (a band outside them could never be reached, and bounds
    such as [90, 12] would refuse every value while the service looks healthy)."""
    quantities = kb.units["quantities"]
    for qid, q in quantities.items():
        where = f"units.json {qid}"
        lo, hi = q["bounds"]
        if not (_finite(lo) and _finite(hi) and lo < hi):
            problems.append(f"{where}: bounds {q['bounds']} must be two finite numbers, lower < upper")
        canonical = q["units"].get(q["canonical"])
        if canonical is None or canonical.get("factor") != 1 or canonical.get("offset", 0) != 0:
            problems.append(f"{where}: the canonical unit {q['canonical']!r} must be listed with factor 1, no offset")
        for unit, conv in q["units"].items():
            if not (_finite(conv.get("factor")) and conv["factor"] > 0 and _finite(conv.get("offset", 0))):
                problems.append(f"{where} unit {unit!r}: factor must be a finite number > 0 (offset finite)")

    def check_edges(where, input_id, unit, bands):
        q = quantities.get(input_id)
        if q is None:
            return  # not a measured quantity (e.g. a count); nothing to convert or bound
        conv = q["units"].get(unit or q["canonical"])
        if conv is None:
            problems.append(f"{where}: unit {unit!r} is not a unit of {input_id} ({sorted(q['units'])})")
            return
        lo, hi = q["bounds"]
        for b in bands:
            for edge in (b["lower"], b["upper"]):
                if edge is None or not _finite(conv.get("factor")):
                    continue
                canonical = edge * conv["factor"] + conv.get("offset", 0)
                if not (lo <= canonical <= hi):
                    problems.append(f"{where} band {b['id']}: edge {edge} {unit or q['canonical']} lies outside "
                                    f"the bounds {q['bounds']} of {input_id}")

    for f in kb.factors:
        if f["kind"] == "numeric":
            for v in f.get("variants", []):
                check_edges(f"factors.json {f['id']}", f["input"], f.get("unit"), v["bands"])
    for score_id, score in kb.established["scores"].items():
        for item in score["items"]:
            if item["kind"] == "numeric":
                for v in item["variants"]:
                    check_edges(f"established.json {score_id}.{item['id']}", item.get("input"), item.get("unit"),
                                v["bands"])


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _inputs(kb: Knowledge) -> set:
    """What a factor may read: an input field, or an index id (computed before the factors)."""
    from riskservice.core.fields import FIELD_NAMES
    return set(FIELD_NAMES) | {ix["id"] for ix in kb.indices}


def _check_points_method(problems, kb):
    pm = kb.ruleset["points_method"]
    if abs(math.exp(pm["points_unit_log_odds"]) - pm["base_relative_risk"]) > 1e-5:
        problems.append("ruleset.json points_method: base_relative_risk must equal exp(points_unit_log_odds)")
    mins = [b["min_points"] for b in kb.ruleset["bands"]["thresholds"]]
    if mins != sorted(set(mins)) or mins[0] > 0:
        problems.append("ruleset.json bands: min_points must rise strictly and start at or below 0")


def _check_generated(problems, where, factor, kb):
    """A generated factor names the fit the ruleset records (same generator, date and data)."""
    gen = kb.ruleset["points_method"].get("generated")
    if gen is None:
        problems.append(f"{where}: marked generated but ruleset.json records no fit")
        return
    for key in ("generator", "fit_date", "data_sha256"):
        if factor["generated"].get(key) != gen.get(key):
            problems.append(f"{where}: generated.{key} differs from ruleset.json points_method.generated")
    for v in factor["variants"]:
        for b in v["bands"]:
            if "sullivan" not in b:
                problems.append(f"{where} band {b['id']}: a generated band must carry its derivation")


def _check_points(problems, where, entry, base, coefficients=None):
    effect = entry.get("effect")
    if base is None:
        return  # published points (established scores) are not derived from effect sizes
    derivation = entry.get("sullivan")
    if derivation is not None:
        term = derivation["term"]
        if term in (coefficients or {}) and coefficients[term] != derivation["coefficient"]:
            problems.append(f"{where}: coefficient {derivation['coefficient']} but the fit records "
                            f"{coefficients[term]} for {term}")
        elif term not in (coefficients or {}) and derivation["coefficient"] != 0:
            problems.append(f"{where}: term {term!r} is not in the recorded fit")
        base_category = derivation.get("category_base")
        if base_category is not None and base_category["term"] in (coefficients or {}) \
                and coefficients[base_category["term"]] != base_category["coefficient"]:
            problems.append(f"{where}: category_base coefficient {base_category['coefficient']} but the fit records "
                            f"{coefficients[base_category['term']]} for {base_category['term']}")
        expected = sullivan_points(derivation, base)
        if expected != entry["points"]:
            problems.append(f"{where}: points {entry['points']} but its coefficient and reference value give {expected}")
        return
    if effect is None:
        if entry["points"] != 0:
            problems.append(f"{where}: {entry['points']} points without a cited effect size")
        return
    conv = effect.get("conversion")
    if conv is not None:
        d = -math.log(1 + conv["insulin_sensitivity_change"])
        if abs(d - conv["d_log_homa_ir"]) > 1e-6 or abs(math.exp(1.7 * d / conv["residual_sd"]) - effect["estimate"]) \
                > 1e-4 * effect["estimate"]:
            problems.append(f"{where}: the converted estimate does not follow from its insulin-sensitivity change "
                            "(d = -ln(1 + change), estimate = exp(1.7 x d / s))")
    expected = derived_points(effect, base)
    if expected != entry["points"]:
        problems.append(f"{where}: points {entry['points']} but the effect size gives {expected}")


EQUIVALENT_TOLERANCE = 0.02   # a stated edge may differ from the converted one by rounding only


def _check_equivalents(problems, where, factor, bands, kb):
    """An edge stated in another unit must be a unit the input accepts and agree with the
    converted edge to within rounding (e.g. 42 mmol/mol is 5.99%, stated as 6.0%)."""
    quantity = kb.units["quantities"].get(factor.get("input"), {})
    for b in bands:
        for unit, stated in b.get("lower_equivalents", {}).items():
            spec = quantity.get("units", {}).get(unit)
            if spec is None:
                problems.append(f"{where} band {b['id']}: equivalent unit {unit!r} is not accepted for {factor['input']}")
                continue
            converted = stated * spec["factor"] + spec.get("offset", 0.0)
            if b.get("lower") is None or abs(converted - b["lower"]) > EQUIVALENT_TOLERANCE * abs(b["lower"]):
                problems.append(f"{where} band {b['id']}: {stated} {unit} is {converted:.4g}, not the edge {b.get('lower')}")


def _check_bands(problems, where, kind, bands, base, need_refs, coefficients=None):
    for b in bands:
        bw = f"{where} band {b['id']}"
        need_refs(bw, b["references"])
        _check_points(problems, bw, b, base, coefficients)
    if kind != "numeric":
        values = [json.dumps(b["equals"]) for b in bands]
        if len(set(values)) != len(values):
            problems.append(f"{where}: two bands match the same value")
        return
    if bands[0]["lower"] is not None or bands[-1]["upper"] is not None:
        problems.append(f"{where}: numeric bands must start at -inf and end at +inf")
    for left, right in zip(bands, bands[1:], strict=False):
        if left["upper"] != right["lower"]:
            problems.append(f"{where}: gap or overlap between {left['id']} and {right['id']}")
        elif left["upper_inclusive"] == right["lower_inclusive"]:
            problems.append(f"{where}: edge {left['upper']} must belong to exactly one band")


def _check_variant_cover(problems, where, factor):
    for sex in SEXES:
        for eth in ETHNICITIES + (None,):
            ctx = {"sex": sex, "ethnicity": eth}
            if not any(all(ctx.get(k) in allowed for k, allowed in v["when"].items()) for v in factor["variants"]):
                problems.append(f"{where}: no variant for sex={sex} ethnicity={eth}")
                return
