"""Names as people write them: column headers, units in headers and cells, and answers.

Everything here is read from ``knowledge/input_synonyms.json`` (data with its sources) and the
field table; nothing is guessed. A header is compared after NFKC, case folding and removing
everything but letters, digits and ``%`` (so ``HDL-C``, ``hdl_c`` and ``Hdl C`` are one name);
a unit written in it (``(mmol/L)``, ``[mg/dL]``, ``_mmol_l``, ``in %``) must be one of the
field's units. Names that look like a field but may mean something else are *look-alikes*:
the caller asks the user to map or ignore them. One :class:`Names` is built per knowledge.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from riskservice.core.fields import ALL_KEYS, FIELD_BY_NAME, FIELDS

_NOT_NAME = re.compile(r"[^0-9a-z%]+")
_BRACKET = re.compile(r"^(.*?\S)[\s_,]*[(\[]([^)\]]*)[)\]]\s*$")
_IN_UNIT = re.compile(r"^(.*\S)\s+in\s+(\S.*)$", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
UNIT_WORDS = frozenset({"unit", "units", "uom"})
NEAR_MIN = 3               # shortest name a one-letter slip is checked for
NEAR_TWO = 5               # shortest name a two-letter slip is checked for


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return text.replace("µ", "u").replace("μ", "u").replace("²", "2")


def squash(text: str) -> str:
    """The comparison key of a header name: letters, digits and % only."""
    return _NOT_NAME.sub("", _fold(text))


def words(text: str) -> list:
    """Header words (camelCase split), for finding a unit written at the end of a name."""
    return [w for w in _NOT_NAME.split(_fold(_CAMEL.sub(" ", str(text)))) if w]


def unit_key(text: str) -> str:
    """The comparison key of a unit: case, spaces, micro signs and powers folded."""
    text = _fold(text).replace("**2", "2").replace("^2", "2")
    text = re.sub(r"\s+per\s+", "/", text)
    return re.sub(r"\s+", "", text)


def value_key(text) -> str:
    """The comparison key of an answer: case folded, runs of spaces, hyphens and underscores as one ``_``."""
    return re.sub(r"[\s_\-]+", "_", _fold(text).strip()).strip("_")


@dataclass(frozen=True)
class Header:
    """What one header names: a field (or its unit column), the unit written in it, and how it was found."""

    key: str                     # field name, or "<field>_unit"
    field: str
    unit: str | None = None      # unit name as in units.json, from the header or the synonym entry
    unit_text: str | None = None
    values: dict | None = None   # value map of the synonym entry (NHANES codes)
    by: str = "name"             # name | synonym | nhanes
    problem: str | None = None   # the header names the field with a unit it does not have


@dataclass
class Names:
    """The synonym tables of one knowledge base, indexed for look-up."""

    columns: dict = field(default_factory=dict)      # squashed name -> (field, unit, values, source)
    look_alikes: dict = field(default_factory=dict)  # squashed name -> (field, reason)
    not_fields: frozenset = frozenset()
    near: list = field(default_factory=list)         # (squashed name, field) checked for slips
    units: dict = field(default_factory=dict)        # field -> {unit key: unit name}
    values: dict = field(default_factory=dict)       # field -> {value key: choice}

    # ----------------------------------------------------------------- headers
    def header(self, name) -> Header | None:
        """The field a header names, or None (a look-alike or an ordinary passthrough column)."""
        text = unicodedata.normalize("NFKC", str(name)).strip()
        exact = text.lower()
        if exact in ALL_KEYS:
            return Header(exact, exact[:-5] if exact.endswith("_unit") else exact)
        for part, unit_text, strict in self._candidates(text):
            found = self._named(part, unit_text, strict)
            if found is not None:
                return found
        return None

    def _candidates(self, text):
        """(name part, unit text or None, whether a unit text that is not a unit is a problem)."""
        yield text, None, False
        m = _BRACKET.match(text)
        if m:
            yield m.group(1), m.group(2), True
        m = _IN_UNIT.match(text)
        if m:
            yield m.group(1), m.group(2), False
        parts = words(text)
        for k in (3, 2, 1):
            if len(parts) > k:
                yield " ".join(parts[:-k]), "/".join(parts[-k:]), False
                if k > 1:
                    yield " ".join(parts[:-k]), "".join(parts[-k:]), False

    def _named(self, part, unit_text, strict):
        parts = words(part)
        unit_column = bool(parts) and parts[-1] in UNIT_WORDS and len(parts) > 1
        key = squash(" ".join(parts[:-1])) if unit_column else squash(part)
        hit = self.columns.get(key)
        if hit is None:
            return None
        name, fixed_unit, values, source = hit
        source = {"spelling": "synonym", "nhanes": "NHANES"}.get(source, source)
        f = FIELD_BY_NAME[name]
        if unit_column:
            if not f.has_unit or unit_text is not None:
                return None
            return Header(f"{name}_unit", name, by=source)
        if unit_text is None or f.kind != "number":
            if unit_text is not None and not strict:
                return None           # "sex_mf": not a unit, and not this synonym
            return Header(name, name, fixed_unit, None, values, source)
        unit = self.unit_of(name, unit_text)
        if unit is None:
            if not strict:
                return None
            return Header(name, name, None, unit_text, values, source,
                          problem=f"the header says {unit_text!r}, which is not a unit of {name} "
                                  f"({', '.join(dict.fromkeys(self.units[name].values()))})")
        if fixed_unit is not None and unit != fixed_unit:
            return Header(name, name, unit, unit_text, values, source,
                          problem=f"{name} in {part!r} is in {fixed_unit}, but the header says {unit_text!r}")
        return Header(name, name, unit, unit_text, values, source)

    def look_alike(self, name):
        """(field, reason) when a header looks like a field it was not recognised as, else None:
        a listed look-alike, or a one- or two-letter slip of a field name or synonym."""
        text = unicodedata.normalize("NFKC", str(name)).strip()
        keys = [squash(text)]
        m = _BRACKET.match(text) or _IN_UNIT.match(text)
        if m:
            keys.append(squash(m.group(1)))
        for key in keys:
            if key in self.not_fields or not key:
                return None
            hit = self.look_alikes.get(key)
            if hit is not None:
                return hit
        parts = words(text)
        for k in (1, 2, 3):          # "glucose_mmol_l": a look-alike with a unit of its field
            hit = self.look_alikes.get(squash(" ".join(parts[:-k]))) if len(parts) > k else None
            if hit is not None and (self.unit_of(hit[0], "/".join(parts[-k:]))
                                    or self.unit_of(hit[0], "".join(parts[-k:]))):
                return hit
        from rapidfuzz.distance import Levenshtein

        for key in keys:
            for known, target in self.near:
                shortest = min(len(key), len(known))
                if shortest < NEAR_MIN or abs(len(key) - len(known)) > 2:
                    continue
                d = Levenshtein.distance(key, known, score_cutoff=2)
                if (d == 1) or (d == 2 and shortest >= NEAR_TWO):
                    return target, f"{name!r} looks like a misspelling of {target!r}"
        return None

    # ----------------------------------------------------------------- units and answers
    def unit_of(self, name: str, text: str) -> str | None:
        """The unit of field ``name`` that ``text`` spells, or None."""
        return self.units.get(name, {}).get(unit_key(text))

    def choice_of(self, name: str, text) -> str | None:
        """The choice of enumeration ``name`` that ``text`` spells (a choice or a listed synonym)."""
        return self.values.get(name, {}).get(value_key(text))

    def suggest(self, name: str, text, choices) -> str | None:
        """A choice ``text`` may be a slip of (prefix or one or two edits), for the error message only."""
        from rapidfuzz.distance import Levenshtein

        key = value_key(text)
        if len(key) < 2:
            return None
        options = {value_key(c): c for c in choices}
        options.update(self.values.get(name, {}))
        starts = {choice for spelled, choice in options.items() if len(key) >= 3 and spelled.startswith(key)}
        if len(starts) == 1:
            return starts.pop()
        best = None
        for spelled, choice in options.items():
            d = Levenshtein.distance(key, spelled, score_cutoff=2)
            if d <= (1 if len(key) < 5 else 2) and (best is None or d < best[0]):
                best = (d, choice)
        return best[1] if best else None


_CACHE: dict = {}


def names_for(kb) -> Names:
    """The indexed synonym tables of this knowledge (built once per knowledge object)."""
    hit = _CACHE.get(id(kb))
    if hit is None or hit[0] is not kb:
        hit = _CACHE[id(kb)] = (kb, build(kb.input_synonyms, kb.units))
    return hit[1]


def build(doc: dict, units: dict) -> Names:
    """Index ``input_synonyms.json`` against the field table and ``units.json``; raise ValueError
    naming the entry when a table is inconsistent (checked at start-up by load_knowledge)."""
    out = Names()
    problems = []
    for f in FIELDS:
        out.columns[squash(f.name)] = (f.name, None, None, "name")
    for entry in doc["columns"]:
        name = entry["field"]
        if name not in FIELD_BY_NAME:
            problems.append(f"columns: unknown field {name!r}")
            continue
        for spelled in entry["names"]:
            key = squash(spelled)
            old = out.columns.get(key)
            if old is not None and old[0] != name:
                problems.append(f"columns: {spelled!r} names both {old[0]} and {name}")
            out.columns[key] = (name, entry.get("unit"), entry.get("values"), entry["source"])
    for entry in doc["look_alikes"]:
        for spelled in entry["names"]:
            key = squash(spelled)
            if key in out.columns:
                problems.append(f"look_alikes: {spelled!r} is also a synonym of {out.columns[key][0]}")
            out.look_alikes[key] = (entry["field"], entry["reason"])
    out.not_fields = frozenset(squash(n) for n in doc["not_fields"]["names"])
    for key in out.not_fields:
        if key in out.columns:
            problems.append(f"not_fields: {key!r} is a synonym of {out.columns[key][0]}")
    out.near = [(key, target[0]) for key, target in out.columns.items() if len(key) >= NEAR_MIN]
    aliases = doc.get("units", {})
    for f in FIELDS:
        if f.kind != "number":
            continue
        accepted = list(units["quantities"][f.name]["units"])
        table = {unit_key(u): u for u in accepted}
        for u in accepted:
            for alias in aliases.get(u, []):
                key = unit_key(alias)
                if table.get(key, u) != u:
                    problems.append(f"units: {alias!r} spells both {table[key]} and {u} for {f.name}")
                table[key] = u
        out.units[f.name] = table
    for f in FIELDS:
        if f.kind == "enum":
            table = {value_key(c): c for c in f.choices}
            for choice, spelled in doc.get("values", {}).get(f.name, {}).items():
                if choice not in f.choices:
                    problems.append(f"values: {f.name} has no choice {choice!r}")
                for s in spelled:
                    table[value_key(s)] = choice
            out.values[f.name] = table
    for entry in doc["columns"]:
        unit = entry.get("unit")
        name = entry["field"]
        if unit is not None and name in out.units and unit not in out.units[name].values():
            problems.append(f"columns: {unit!r} is not a unit of {name}")
        for code, value in (entry.get("values") or {}).items():
            f = FIELD_BY_NAME.get(name)
            if f is not None and f.kind == "enum" and value not in f.choices:
                problems.append(f"columns: value {code!r} of {name} maps to {value!r}, not one of its choices")
    if problems:
        raise ValueError("input_synonyms.json: " + "; ".join(problems))
    return out
