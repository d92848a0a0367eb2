"""Match a medication as people write it ("Prednisolone 5 mg tablets", "Zyprexa", "timolol eye
drops", "H02AB06") to a drug class, the route it is taken by, and whether it scores.

Only systemic use scores (drug_classes.json ``route_policy`` says why), so the route written in
the entry matters as much as the name. Unknown names get the closest known name by edit distance
(rapidfuzz), so that a misspelling is reported, not silently ignored. Results are cached per
distinct string: a batch repeats the same few hundred medication strings.

Suggestions are the costly part (an edit-distance search over every known name), and distinct
random names defeat any cache: 7,500 rows of 50 made-up names held a thread for 16 s (issue 22,
finding 6). A caller that serves requests sets a budget per request with :func:`suggestion_budget`
(the web adapter does, ``MEDICATION_SUGGESTIONS_PER_REQUEST``): each distinct unknown entry of
the request is searched at most once, and past the budget unknown entries are reported without a
"Did you mean". Without a budget (the CLI, Dask) every unknown entry gets its search.
"""
from __future__ import annotations

import re
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

ATC_RE = re.compile(r"^[A-Z][0-9]{2}[A-Z]{0,2}[0-9]{0,2}$")
MAX_CHARS = 200          # longer entries are cut before parsing; the schema allows 100
CACHE_SIZE = 8192
SUGGEST_MIN_LEN = 4

# Route words, most specific first: a site ("eye", "nasal", "knee injection") beats a form
# ("ointment", "spray"), which beats a generic systemic word ("tablet", "injection").
ROUTE_ORDER = ("ophthalmic", "otic", "nasal", "inhaled", "rectal", "vaginal", "oromucosal",
               "local_injection", "drops", "transdermal", "topical", "parenteral", "oral")
ROUTES = ROUTE_ORDER + ("percent", "unstated")
_PHRASES = {
    "oral gel": "oromucosal", "mouth gel": "oromucosal", "mouth wash": "oromucosal",
    "eye drops": "ophthalmic", "eye drop": "ophthalmic", "ear drops": "otic", "ear drop": "otic",
    "nasal spray": "nasal", "nose spray": "nasal", "by mouth": "oral", "intra articular": "local_injection",
    "joint injection": "local_injection", "on the skin": "topical", "to the skin": "topical",
}
_WORDS = {
    "ophthalmic": ("eye", "eyes", "eyedrop", "eyedrops", "ophthalmic", "ocular", "intravitreal",
                   "intraocular", "opth", "ophth"),
    "otic": ("ear", "ears", "otic", "aural"),
    "nasal": ("nasal", "nose", "intranasal", "nostril"),
    "inhaled": ("inhaler", "inhalers", "inhaled", "inhalation", "inhal", "puffer", "puffs", "puff",
                "nebuliser", "nebulizer", "nebulised", "nebulized", "nebules", "respules", "mdi", "dpi",
                "accuhaler", "turbohaler", "evohaler", "diskus", "easyhaler", "spacer"),
    "rectal": ("rectal", "enema", "suppository", "suppositories", "rectally"),
    "vaginal": ("vaginal", "pessary", "pessaries", "vaginally"),
    "oromucosal": ("mouthwash", "oromucosal", "lozenge", "lozenges", "buccal", "pellets"),
    "local_injection": ("intraarticular", "articular", "joint", "knee", "shoulder", "epidural", "intralesional",
                        "periarticular", "intrabursal", "bursa", "tendon", "intradermal"),
    "drops": ("drops", "drop", "gtt", "gtts"),
    "transdermal": ("patch", "patches", "transdermal", "tts"),
    "topical": ("cream", "creams", "ointment", "oint", "gel", "lotion", "topical", "topically", "skin",
                "scalp", "foam", "shampoo", "paste", "emollient", "cutaneous", "dermal", "spray"),
    "parenteral": ("iv", "intravenous", "intravenously", "im", "intramuscular", "sc", "subcut", "subcutaneous",
                   "sq", "injection", "injections", "inj", "injectable", "infusion", "depot", "jab", "vial",
                   "ampoule", "ampule"),
    "oral": ("oral", "orally", "po", "tablet", "tablets", "tab", "tabs", "capsule", "capsules", "cap", "caps",
             "caplet", "caplets", "pill", "pills", "syrup", "elixir", "liquid", "dispersible", "soluble",
             "effervescent", "odt", "orodispersible", "velotab", "chewable", "granules", "sachet", "sachets",
             "sublingual", "ec", "mr", "sr", "xl", "xr", "er", "la", "cr", "prolonged", "modified", "retard"),
}
ROUTE_WORDS = {w: route for route, words in _WORDS.items() for w in words}
ROUTE_LABEL = {
    "ophthalmic": "eye preparation", "otic": "ear drops", "nasal": "nasal spray or drops",
    "inhaled": "inhaled", "rectal": "rectal", "vaginal": "vaginal", "oromucosal": "mouth preparation",
    "local_injection": "local injection (joint or lesion)", "drops": "drops (eye, ear or nose)",
    "topical": "skin preparation", "percent": "percentage strength (a cream, gel or drops)",
}
# Words that carry no name: dose units, frequencies, filler. A token made only of these (or of
# numbers) is "only a dose"; they are never offered to the spelling suggester.
NOISE = frozenset(["mg", "mcg", "ug", "µg", "g", "gram", "grams", "milligram", "milligrams", "microgram", "micrograms", "ml", "l", "units", "unit", "iu", "mmol", "mg/ml", "od", "bd", "bid", "tds", "tid", "qds", "qid", "qd", "daily", "once", "twice", "three", "four", "times", "a", "day", "days", "per", "week", "weekly", "monthly", "nocte", "mane", "morning", "night", "evening", "prn", "as", "needed", "required", "when", "x", "every", "each", "take", "taking", "takes", "of", "the", "and", "with", "for", "to", "in", "on", "at", "by", "or", "plus", "dose", "doses", "strength", "mgs", "hourly", "hours", "hour", "h", "hrs", "one", "two", "half", "quarter", "tablet's", "usual"])
_TOKEN = re.compile(r"[^\W_]+(?:[.,][0-9]+)?%?|%", re.UNICODE)
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_%])")
_DOSE = re.compile(r"^[0-9]+(?:[.,][0-9]+)?(?:mg|mcg|ug|µg|g|ml|iu|units?|mmol|%|x|h|hr|hrs|d)?$")


class SuggestionBudget:
    """The spelling searches one request may still run, and what it already found."""

    def __init__(self, limit: int):
        self.remaining = int(limit)
        self.found: dict = {}

    def lookup(self, content: tuple, search):
        if content in self.found:
            return self.found[content]
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        hit = self.found[content] = search(content)
        return hit


_BUDGET: ContextVar[SuggestionBudget | None] = ContextVar("riskservice_medication_suggestions", default=None)


def suggestion_budget(limit: int) -> SuggestionBudget:
    """Start a budget of ``limit`` spelling searches for the current request (context)."""
    budget = SuggestionBudget(limit)
    _BUDGET.set(budget)
    return budget


@dataclass(frozen=True)
class MedicationMatch:
    """What one medication entry means for scoring.

    class_id: the class matched (an insulin-resistance class first when a combination names
    several), or None; class_ids: every class named; route: where the entry says it is taken
    (see ROUTES; "unstated" when it does not say); systemic: whether that route counts for the
    class; excluded_reason: why a recognised entry is not scored, or None; suggestion: the
    closest known name for an unrecognised one; matched_name: the generic or brand that matched.
    """

    entry: str
    class_id: str | None = None
    route: str = "unstated"
    excluded_reason: str | None = None
    suggestion: str | None = None
    matched_name: str | None = None
    generic: str | None = None
    class_ids: tuple = ()
    systemic: bool = False
    insulin_resistance: bool = False
    route_stated: bool = False
    unknown_words: tuple = field(default=(), compare=False, repr=False)   # what a suggestion is searched for

    @property
    def recognised(self) -> bool:
        return self.class_id is not None

    @property
    def scores(self) -> bool:
        """True when the entry counts as systemic use of a class (for the points or a questionnaire)."""
        return self.class_id is not None and self.excluded_reason is None

    def message(self) -> str | None:
        """One sentence for the caller's warning list, or None when the entry simply scores."""
        if self.excluded_reason:
            return self.excluded_reason
        if self.class_id is None:
            hint = f" Did you mean {self.suggestion}?" if self.suggestion else ""
            return "not in the medication vocabulary, so not scored." + hint
        return None


@dataclass
class MedicationIndex:
    """Names, synonyms and ATC prefixes of every class, compiled once from the knowledge."""

    classes: dict                      # class id -> class entry
    names: dict                        # token tuple -> (display name, generic, class id, brand route)
    max_tokens: int
    default_routes: frozenset
    choices: list = field(default_factory=list)    # names offered as suggestions
    _match: object = None

    @classmethod
    def build(cls, all_classes: list, synonyms: list, route_policy: dict) -> MedicationIndex:
        names, generic_class = {}, {}
        for c in all_classes:
            for n in c["names"]:
                key = _key(n)
                names[key] = (n, n, c["id"], None)
                generic_class[n.lower()] = c["id"]
        for s in synonyms:
            names[_key(s["name"])] = (s["name"], s["generic"], generic_class[s["generic"].lower()], s.get("route"))
        index = cls(classes={c["id"]: c for c in all_classes}, names=names,
                    max_tokens=max(len(k) for k in names),
                    default_routes=frozenset(route_policy["counted_routes"]),
                    choices=sorted({v[0] for v in names.values()}, key=lambda s: (s != s.lower(), s.lower())))
        index._match = lru_cache(maxsize=CACHE_SIZE)(index._match_uncached)
        index._suggest_cached = lru_cache(maxsize=CACHE_SIZE)(index._suggest)
        return index

    def match(self, entry) -> MedicationMatch:
        if not isinstance(entry, str):
            return MedicationMatch(entry="", excluded_reason="not a text entry")
        found = self._match(entry)
        if not found.unknown_words:
            return found
        budget = _BUDGET.get()
        hit = (self._suggest_cached(found.unknown_words) if budget is None
               else budget.lookup(found.unknown_words, self._suggest_cached))
        return replace(found, suggestion=hit) if hit else found

    # --- the parse --------------------------------------------------------------------------
    def _match_uncached(self, entry: str) -> MedicationMatch:
        text = _normalise(entry[:MAX_CHARS])
        if not text:
            return MedicationMatch(entry=entry, excluded_reason="empty entry")
        atc = text.replace(" ", "").upper()
        if ATC_RE.match(atc):
            cls = self._atc_class(atc)
            if cls is not None:
                return self._decide(entry, cls, atc, atc, None, "unstated", False, (cls["id"],))
        tokens = _TOKEN.findall(text)
        route, stated, percent = _route(text, tokens)
        found, used = self._names(tokens)
        if not found:
            content = [t for t in tokens if t not in used and _is_content(t)]
            if not content:
                return MedicationMatch(entry=entry, route=route, route_stated=stated,
                                       excluded_reason="no medicine name, only a dose, form or route")
            return MedicationMatch(entry=entry, route=route, route_stated=stated, unknown_words=tuple(content))
        ids = tuple(dict.fromkeys(f[2] for f in found))
        primary = next((f for f in found if self.classes[f[2]].get("insulin_resistance", True)), found[0])
        display, generic, class_id, brand_route = primary
        if brand_route and (not stated or ROUTE_ORDER.index(brand_route) < ROUTE_ORDER.index(route)):
            route, stated = brand_route, True      # "Nasacort spray": the brand's site beats a form word
        if percent and route in ("unstated",):
            route, stated = "percent", True
        return self._decide(entry, self.classes[class_id], display, generic, brand_route, route, stated, ids)

    def _decide(self, entry, cls, display, generic, brand_route, route, stated, ids) -> MedicationMatch:
        counted = frozenset(cls.get("counted_routes", self.default_routes))
        must_state = {n.lower() for n in cls.get("route_must_be_stated", [])}
        reason = None
        if not counted:
            reason = cls.get("never_scored_message") or f"{cls['name'].lower()}: never scored ({display} acts locally)"
            systemic = False
        elif route == "unstated":
            systemic = generic.lower() not in must_state
            if not systemic:
                reason = (f"route not stated: {generic} is also used on the skin, so write 'oral' "
                          f"(or the tablet strength) if it is taken by mouth")
        else:
            systemic = route in counted
            if not systemic:
                reason = f"{ROUTE_LABEL.get(route, route)}: not systemic use, so not scored"
        return MedicationMatch(
            entry=entry, class_id=cls["id"], route=route, excluded_reason=reason, matched_name=display,
            generic=generic, class_ids=ids, systemic=systemic,
            insulin_resistance=cls.get("insulin_resistance", True), route_stated=stated)

    def _names(self, tokens):
        """Longest known name at each position (a brand like "zyprexa relprevv" beats "zyprexa")."""
        found, used, i = [], set(), 0
        while i < len(tokens):
            for n in range(min(self.max_tokens, len(tokens) - i), 0, -1):
                hit = self.names.get(tuple(tokens[i:i + n]))
                if hit:
                    if hit not in found:
                        found.append(hit)
                    used.update(tokens[i:i + n])
                    i += n
                    break
            else:
                i += 1
        return found, used

    def _atc_class(self, code: str):
        best = None
        for c in self.classes.values():
            if any(code.startswith(x) for x in c.get("atc_exclude", [])):
                continue
            for prefix in c["atc_prefixes"]:
                if code.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), c)
        return best[1] if best else None

    def _suggest(self, content: tuple) -> str | None:
        """The closest generic or brand by edit distance: at most 1 edit for short words, 2 for longer."""
        candidates = [" ".join(content), *content] if len(content) > 1 else list(content)
        best = None
        for word in candidates:
            if not SUGGEST_MIN_LEN <= len(word) <= 40:
                continue
            limit = 1 if len(word) < 7 else 2
            hit = process.extractOne(word, self.choices, scorer=Levenshtein.distance,
                                     processor=str.lower, score_cutoff=limit)
            if hit and (best is None or hit[1] < best[1]):
                best = hit
        if best is None:
            return None
        return best[0]


def _normalise(text: str) -> str:
    """NFKC, lower case, hyphens and slashes to spaces; control characters to spaces; invisible
    ones (zero-width, direction marks, lone surrogates, unassigned) dropped."""
    if not text.isprintable():
        text = "".join(" " if unicodedata.category(ch) == "Cc" else ("" if unicodedata.category(ch)[0] == "C"
                       else ch) for ch in text)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _LETTER_DIGIT.sub(" ", text)
    text = re.sub(r"[-‐‑‒–—/+&_()\[\],;:]", " ", text)
    return " ".join(text.split())


def _key(name: str) -> tuple:
    return tuple(_TOKEN.findall(_normalise(name)))


def _route(text: str, tokens: list) -> tuple[str, bool, bool]:
    """The most specific route the entry writes, whether one was written, and whether a % strength was."""
    seen = {route for phrase, route in _PHRASES.items() if phrase in text}
    seen.update(ROUTE_WORDS[t] for t in tokens if t in ROUTE_WORDS)
    percent = any(t.endswith("%") for t in tokens)
    for route in ROUTE_ORDER:
        if route in seen:
            return route, True, percent
    return "unstated", False, percent


def _is_content(token: str) -> bool:
    return not (token in NOISE or token in ROUTE_WORDS or _DOSE.match(token) or token.isdigit())


def check_medications(classes: list, synonyms: list, policy: dict) -> list[str]:
    """Consistency checks JSON Schema cannot express, for load_knowledge's report."""
    problems = []
    generics = {n.lower(): c["id"] for c in classes for n in c["names"]}
    for route in policy["counted_routes"]:
        if route not in ROUTES:
            problems.append(f"drug_classes.json route_policy: unknown route {route!r}")
    for c in classes:
        where = f"drug_classes.json {c['id']}"
        scored = c.get("insulin_resistance", True)
        if scored and not c["mechanisms"]:
            problems.append(f"{where}: an insulin-resistance class needs at least one mechanism")
        if not scored and (c["points"] or c["effect"] is not None):
            problems.append(f"{where}: a class outside the points score must have 0 points and no effect")
        for route in c.get("counted_routes", []):
            if route not in ROUTES:
                problems.append(f"{where}: unknown route {route!r}")
        for n in c.get("route_must_be_stated", []):
            if n.lower() not in {x.lower() for x in c["names"]}:
                problems.append(f"{where}: route_must_be_stated names {n!r}, which is not one of its names")
    seen = set()
    for s in synonyms:
        where = f"medication_synonyms.json {s['name']}"
        key = _key(s["name"])
        if s["generic"].lower() not in generics:
            problems.append(f"{where}: generic {s['generic']!r} is not a name in drug_classes.json")
        if " ".join(key) in generics:
            problems.append(f"{where}: the brand is also a generic name")
        if key in seen:
            problems.append(f"{where}: listed twice")
        seen.add(key)
        if s.get("route") is not None and s["route"] not in ROUTES:
            problems.append(f"{where}: unknown route {s['route']!r}")
    return problems
