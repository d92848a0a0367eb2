"""Checks of our own responses: the CDS Hooks JSON Schema plus the rules it cannot express."""
from __future__ import annotations

import json
from importlib import resources as importlib_resources


def _schema() -> dict:
    ref = importlib_resources.files("riskservice.ehr").joinpath("cds-hooks-2.0-response.schema.json")
    return json.loads(ref.read_text(encoding="utf-8"))


def response_problems(body: dict) -> list[str]:
    """Schema (shared contract, copied into the package) + extra rules: unique card uuids,
    cds-resp-1 (at most one recommended suggestion with at-most-one), no nulls anywhere."""
    import jsonschema
    problems = [e.message for e in jsonschema.Draft202012Validator(_schema()).iter_errors(body)]
    uuids = [c.get("uuid") for c in body.get("cards") or [] if isinstance(c, dict) and c.get("uuid")]
    if len(uuids) != len(set(uuids)):
        problems.append("card uuids are not unique")
    for c in body.get("cards") or []:
        if c.get("selectionBehavior") == "at-most-one" and \
                sum(1 for s in c.get("suggestions") or [] if s.get("isRecommended")) > 1:
            problems.append("cds-resp-1: more than one recommended suggestion with at-most-one")
        if len(c.get("summary", "")) >= 140:
            problems.append("summary must be fewer than 140 characters")

    def walk(x, path="$"):
        if x is None:
            problems.append(f"null at {path}")
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(v, f"{path}.{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{path}[{i}]")
    walk(body)
    return problems
