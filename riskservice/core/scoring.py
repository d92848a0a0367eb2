"""One patient in, one complete, traceable result out.

``Scorer`` holds the validated knowledge (and, when loaded, the model) and is built once
per process; ``score`` is a pure function of the input dictionary.
"""
from __future__ import annotations

from marshmallow import ValidationError

from riskservice import __version__
from riskservice.core.errors import ValidationProblem
from riskservice.core.established import score_established
from riskservice.core.explain import rank_mechanisms
from riskservice.core.indices import compute_indices
from riskservice.core import narrative, review
from riskservice.core.patient import normalise
from riskservice.core.rules import score_rules
from riskservice.core.schema import build_fast_loader, build_patient_schema


class Scorer:
    """Scores patients with one knowledge base (and optionally one model)."""

    def __init__(self, knowledge, model=None, require_approved=False):
        self.knowledge = knowledge
        self.model = model
        self.require_approved = bool(require_approved)
        self.schema_class = build_patient_schema(knowledge)
        self._schema = self.schema_class()
        self._fast_load = build_fast_loader(knowledge)

    def parse(self, raw):
        """Type-check, convert and range-check ``raw``; raise ValidationProblem with every error."""
        if not isinstance(raw, dict):
            raise ValidationProblem({"_schema": ["The body must be a JSON object with patient fields."]})
        errors = {}
        data = self._fast_load(raw)
        if data is None:
            try:
                data = self._schema.load(raw)
            except ValidationError as exc:
                errors.update({k: _flatten(v) for k, v in exc.messages.items()})
                data = exc.valid_data or {}
        patient = normalise(data, self.knowledge, errors)
        if errors:
            raise ValidationProblem(errors)
        return patient

    def score(self, raw, request_id=None, audience="clinician") -> dict:
        """Score ``raw``; ``audience`` (clinician|patient) changes the texts, never the numbers.

        Raises ValidationProblem for bad input or audience, and UnapprovedKnowledge when
        ``require_approved`` is on and the result used an entry below ``approved``.
        """
        kb = self.knowledge
        if audience not in narrative.AUDIENCES:
            raise ValidationProblem({"audience": [
                f"Must be one of: {', '.join(narrative.AUDIENCES)} (got {audience!r})."]},
                title="Invalid query parameter")
        patient = self.parse(raw)
        rules, missing_factors = score_rules(patient, kb)
        indices, missing_indices = compute_indices(patient.values, kb)
        established = score_established(patient, kb)
        mechanisms = rank_mechanisms(rules["contributions"], indices, kb)
        warnings = list(patient.warnings)
        for c in rules["contributions"]:
            if c.get("warning"):
                warnings.append({"field": c["input"], "message": c["warning"]})
        used = review.used_entries(kb, patient.values, rules, indices, mechanisms, established)
        if self.require_approved:
            review.enforce_approved(used)
        _add_texts(kb, rules, mechanisms, audience)
        model = self.model.predict_one(patient.values) if self.model is not None else None
        result = {
            "rules": rules,
            "indices": indices,
            "established": established,
            "mechanisms": mechanisms,
            "model": model,
            "missing": missing_factors + missing_indices,
            "assumed": patient.assumed,
            "warnings": warnings,
            "disclaimer": kb.disclaimer,
            "meta": {**self.meta(request_id), "audience": audience, **review.summarise(used)},
        }
        text, cited = narrative.build(result, kb, audience)
        result["explanation"] = text
        result["references"] = self._references(cited, rules, indices, established, mechanisms)
        return result

    def meta(self, request_id=None) -> dict:
        kb = self.knowledge
        meta = {
            "service_version": __version__,
            "ruleset_version": kb.version,
            "ruleset_sha256": kb.sha256,
            "disclaimer_id": kb.ruleset["disclaimer"]["id"],
            "request_id": request_id,
        }
        if self.model is not None:
            meta["model_id"] = self.model.model_id
            meta["model_version"] = self.model.version
        return meta

    def _references(self, cited, rules, indices, established, mechanisms) -> list:
        """The references of the result: first those the explanation cites, numbered in its
        order of first use ([n] is item n), then any other id the structured parts cite."""
        ids = list(cited)
        for c in rules["contributions"]:
            ids.extend(c["references"])
        for ix in indices.values():
            ids.extend(ix["references"])
        for m in mechanisms:
            ids.extend(m["references"])
        if mechanisms:
            ids.extend(self.knowledge.downstream_chain["references"])
        for s in established.values():
            ids.extend(s["references"])
        refs, cited = self.knowledge.references, set(cited)
        return [{"number": n, **refs[rid], "in_explanation": rid in cited}
                for n, rid in enumerate(dict.fromkeys(ids), start=1)]


def _add_texts(kb, rules, mechanisms, audience):
    """Attach the audience's stored text to each contribution and mechanism."""
    key = f"{audience}_text"
    for c in rules["contributions"]:
        source = kb.factor_by_id["medications"] if c["factor"].startswith("medication:") \
            else kb.factor_by_id[c["factor"]]
        c["text"] = source[key]
    for m in mechanisms:
        m["text"] = kb.mechanisms[m["id"]][key]


def _flatten(messages):
    """marshmallow nests list-item errors as {index: [...]}; flatten to plain strings."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out.extend(f"item {key}: {m}" for m in _flatten(value))
        return out
    return [str(m) for m in messages]
