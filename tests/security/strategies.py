"""Hypothesis strategies for hostile bodies the OpenAPI schema cannot describe: CSV uploads, CDS
Hooks calls and FHIR Bundles mutated at random places, and raw JSON text with the literals and
escapes JSON encoders never write. Shared by tests/prod/test_fuzz.py (a few examples) and
bench/fuzz.py (the long run). Each strategy yields (path, content_type, body bytes, rows) where
``rows`` is the number of CSV data rows (None otherwise), so the checker can count the answer.
"""
from __future__ import annotations

import copy
import csv
import io
import json

from hypothesis import strategies as st

FIELDS = ["age", "sex", "bmi", "weight", "weight_unit", "height", "height_unit", "waist", "hip",
          "mvpa_minutes_per_week", "sedentary_hours_per_day", "sleep_hours_per_night", "hs_crp",
          "fasting_glucose", "fasting_glucose_unit", "fasting_insulin", "triglycerides", "hdl_cholesterol",
          "hba1c", "alt", "medications", "family_history_diabetes", "smoking", "ethnicity", "as_of", "id"]

NUMERIC = {"age", "bmi", "weight", "height", "waist", "hip", "mvpa_minutes_per_week", "sedentary_hours_per_day",
           "sleep_hours_per_night", "hs_crp", "fasting_glucose", "fasting_insulin", "triglycerides",
           "hdl_cholesterol", "hba1c", "alt"}
_numbers = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["NaN", "inf", "-inf", "1e400", "-1e400", "9" * 400, "0x1F", "1_000", "٣٥", "１２", "31,2",
                     "", " ", "-0", "+5", ".5", "5.", "1e-400"]),
)
_cells = st.one_of(
    _numbers,
    st.sampled_from(["male", "female", "MALE", "other", "prednisolone;olanzapine", "=cmd|' /C calc'!A0",
                     "first_degree", "never", "mg/dL", "mmol/L", "9999-12-31", "0001-01-01", "2026-02-30"]),
    st.text(max_size=12),
    st.text(alphabet=st.sampled_from(list(",\"\r\n\t\x00;\\\ufeff\u2028")), max_size=6),
)


_tame_numbers = st.one_of(st.integers(-10**6, 10**6).map(str),
                          st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).map(repr),
                          st.sampled_from(["", " ", "0x1F", "31,2", "1_000", "５"]))
_tame_cells = st.one_of(_tame_numbers, st.sampled_from(["male", "female", "prednisolone", "=1+1", "never"]),
                        st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
                                max_size=12))


@st.composite
def csv_bodies(draw, hostile: bool = True):
    """CSV uploads. ``hostile=False`` leaves out what other lanes still fail on (non-finite and
    400-digit numbers: lead, core/batch.py; line breaks inside quoted values: csv, rows/blocks.py)."""
    _numbers_, _cells_ = (_numbers, _cells) if hostile else (_tame_numbers, _tame_cells)
    # Mostly a usable header (so rows get scored), sometimes anything at all.
    extra = draw(st.lists(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8) if hostile else st.sampled_from(["x", "note"])),
                          max_size=6, unique=not hostile))
    header = extra if draw(st.integers(0, 9)) == 0 else ["age", "sex", "bmi"] + [h for h in extra
                                                                                 if h not in ("age", "sex", "bmi")]
    n = draw(st.integers(0, 12))
    lines = [",".join(_quote(h) for h in header)]
    for _ in range(n):
        width = draw(st.sampled_from([len(header), len(header), len(header) - 1, len(header) + 1]))
        cells = [draw(_numbers_) if h in NUMERIC and draw(st.booleans()) else draw(_cells_) for h in header]
        cells = (cells + [draw(_cells_)])[:max(width, 1)]
        line = ",".join(_quote(c) for c in cells)
        lines.append(line if line.strip("\r\n\t ") else "x")  # a blank line is not a record
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    text = eol.join(lines) + draw(st.sampled_from([eol, ""]))
    ctype = draw(st.sampled_from(["text/csv", "text/csv; charset=utf-8", "text/plain", "application/csv"]))
    return "/v1/score/batch", ctype, text.encode("utf-8", "surrogatepass"), n


def _quote(cell: str) -> str:
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


# Any JSON value, including the shapes the FHIR/CDS walkers are most likely to trip on.
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=10), st.sampled_from(["", "Patient/x", "#m1", "9999-12-31", "http://127.0.0.1/"])),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)),
    max_leaves=6,
)


def _paths(doc, prefix=()):
    """Every (path) to a value inside doc."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated(draw, base: dict, max_mutations: int = 3):
    """``base`` with 1-3 values replaced by arbitrary JSON, or deleted."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return doc


def cds_requests(bases: dict):
    """Mutated patient-view and order-select calls (bases from tests.security.corpus)."""
    pv = mutated(bases["patient_view"]).map(lambda d: ("/cds-services/ir-risk", "application/json", json.dumps(d).encode(), None))
    os_ = mutated(bases["order_select"]).map(
        lambda d: ("/cds-services/ir-risk-order-select", "application/json", json.dumps(d).encode(), None))
    return st.one_of(pv, os_)


def fhir_bundles(bases: dict):
    return mutated(bases["bundle"]).map(
        lambda d: ("/v1/fhir/score?as_of=2026-11-20", "application/fhir+json", json.dumps(d).encode(), None))


_raw_tokens = st.sampled_from(["NaN", "Infinity", "-Infinity", "9" * 400, "1e400", '"\\ud800"', '"\\udc00x"',
                               '"\\ud83d\\ude00"', "true", "null", "[]", "{}", '"male"', "52", "31.2", '"a\\u0000b"'])


@st.composite
def raw_json_patients(draw):
    """Patient objects written by hand: duplicate keys, NaN, lone surrogates, huge numbers."""
    keys = draw(st.lists(st.sampled_from(FIELDS[:12] + ["\\udc00", "sex"]), min_size=1, max_size=8))
    body = "{" + ",".join(f'"{k}":{draw(_raw_tokens)}' for k in keys) + "}"
    path = draw(st.sampled_from(["/v1/score", "/v1/score/batch"]))
    if path.endswith("batch"):
        body = "[" + body + "]"
    return path, draw(st.sampled_from(["application/json", "application/json; charset=utf-8"])), body.encode(), None


def check_answer(path: str, status: int, ctype: str, body: bytes, rows: int | None) -> str | None:
    """None when the answer is acceptable; else what is wrong (a 5xx, an error that is not
    problem+json, a JSON answer that does not parse (truncated), a CSV answer with rows missing)."""
    if status >= 500:
        return f"{status}"
    if status >= 400:
        if not ctype.startswith("application/problem+json"):
            return f"{status} not problem+json ({ctype})"
        try:
            json.loads(body)
        except ValueError:
            return f"{status} problem body does not parse"
        return None
    if ctype.startswith("text/csv"):
        text = body.decode("utf-8")
        parsed = list(csv.reader(io.StringIO(text, newline="")))
        end = parsed.pop() if parsed else []
        if len(end) != 1 or not end[0].startswith("#riskservice-end rows="):
            return "CSV answer without its end marker (cut?)"
        if int(end[0].split("rows=")[1].split()[0]) != len(parsed) - 1:
            return "CSV end marker does not count the rows"
        records = len(parsed) - 1
        if rows is not None and (not text.endswith("\n") or records < rows):
            return f"CSV answer lost rows: {records} rows for {rows} records"
        if rows is not None and records > rows:
            return "CSV answer has more rows than records (a quoted value with a line break was split)"
        return None
    if ctype.startswith("application/x-ndjson"):
        lines = [json.loads(line) for line in body.decode("utf-8").splitlines()]
        if not lines or set(lines[-1]) != {"summary"} or lines[-1]["summary"]["rows"] != len(lines) - 1:
            return "NDJSON answer without its summary line (cut?)"
        return None
    if "json" in ctype:
        try:
            json.loads(body)
        except ValueError:
            return "JSON answer does not parse (truncated?)"
    return None
