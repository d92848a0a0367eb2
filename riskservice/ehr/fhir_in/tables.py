"""The mapping tables (``ehr/mapping/*.json``): which code means which input, which units count."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources as importlib_resources
from typing import Iterable

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def _load(name: str) -> dict:
    ref = importlib_resources.files("riskservice.ehr").joinpath("mapping", name)
    return json.loads(ref.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Tables:
    observations: dict
    conditions: dict
    family: dict
    medications: dict

    obs_index: dict = field(default_factory=dict)

    def observation_concept(self, coding: dict) -> dict | None:
        return self.obs_index.get((coding.get("system"), coding.get("code")))

    def loinc_codes(self, categories: Iterable[str]) -> list[str]:
        cats = set(categories)
        return [c["code"] for concept in self.observations["concepts"] if concept["category"] in cats
                for c in concept["codes"] if c["system"] == LOINC]


@lru_cache(maxsize=1)
def tables() -> Tables:
    observations = _load("observations.json")
    index = {(c["system"], c["code"]): concept
             for concept in observations["concepts"] for c in concept["codes"]}
    return Tables(observations, _load("conditions.json"), _load("family.json"),
                  _load("medications.json"), index)


def _code_matches(entry: dict, coding: dict) -> bool:
    if coding.get("system") != entry["system"] or not coding.get("code"):
        return False
    if entry.get("match") == "prefix":
        return coding["code"].upper().startswith(entry["code"].upper())
    return coding["code"] == entry["code"]


def first_match(entries: Iterable[dict], concept: dict | None) -> dict | None:
    for coding in (concept or {}).get("coding") or []:
        for entry in entries:
            if _code_matches(entry, coding):
                return entry
    return None
