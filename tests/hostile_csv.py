"""A 10,000-record CSV in which 1,000 records are hostile in 20 different ways (fixed seed).

Written as bytes, not through ``csv.writer``, so that it can hold what real exports hold:
bad bytes, unclosed quotes, wrong field counts, a bare carriage return, and one quoted note
of about 9 MiB whose line breaks straddle the reader's 1 MiB block boundaries (many of them). Each record
comes with what its output row must show, so a test checks all 10,000 rows one by one.
"""
from __future__ import annotations

import csv
import io
import random

HEADER = ["patient_id", "age", "sex", "weight", "height", "bmi", "waist", "hs_crp", "hs_crp_unit", "fasting_glucose",
          "fasting_glucose_unit", "triglycerides", "triglycerides_unit", "hdl_cholesterol", "medications", "site", "note"]
BIG_NOTE_LINES = 90_000   # x ~105 bytes: about 9 MiB inside one quoted cell


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _base(rng, i):
    return {"patient_id": f"P{i:05d}", "age": str(rng.randint(20, 85)), "sex": rng.choice(["female", "male"]),
            "weight": f"{rng.uniform(50, 120):.1f}", "height": f"{rng.uniform(150, 195):.1f}", "bmi": "",
            "waist": f"{rng.uniform(65, 130):.1f}", "hs_crp": f"{rng.uniform(0.2, 8):.2f}", "hs_crp_unit": "mg/L",
            "fasting_glucose": f"{rng.uniform(4.2, 7.5):.2f}", "fasting_glucose_unit": "mmol/L",
            "triglycerides": f"{rng.uniform(60, 300):.0f}", "triglycerides_unit": "mg/dL",
            "hdl_cholesterol": f"{rng.uniform(30, 80):.0f}",
            "medications": rng.choice(["", "prednisolone", "atenolol;simvastatin"]),
            "site": rng.choice(["north", "south, annex"]), "note": ""}


def _line(row) -> bytes:
    cells = [_q(v) if any(c in v for c in ',"\n\r') else v for v in (row[h] for h in HEADER)]
    return (",".join(cells) + "\n").encode("utf-8")


class Expect:
    """What one output row must show: scored or an error (with a fragment), its id, some cells."""

    def __init__(self, ok: bool, pid: str, fragment: str | None = None, cells: dict | None = None):
        self.ok, self.pid, self.fragment, self.cells = ok, pid, fragment, cells or {}


def _set(field, value, ok, fragment=None, cells=None):
    def make(rng, row):
        row[field] = value
        return _line(row), Expect(ok, row["patient_id"], fragment, cells)
    return make


def _raw(build, ok, fragment, keep_id=True):
    def make(rng, row):
        return build(row), Expect(ok, row["patient_id"] if keep_id else "", fragment)
    return make


def _big_note(rng, row):
    lines = [f"visit {k}: " + "lorem, ipsum \"dolor\" sit amet " * 3 for k in range(BIG_NOTE_LINES)]
    row["note"] = "\n".join(lines)
    return _line(row), Expect(True, row["patient_id"], cells={"note": row["note"]})


def _replace_cell(row, field, raw: bytes) -> bytes:
    """The row's line with one cell's bytes replaced (to inject bytes that are not text)."""
    marker = "\x00MARK\x00"
    row[field] = marker
    return _line(row).replace(marker.encode(), raw)


# (name, maker); each maker returns (record bytes, Expect). 20 kinds.
HOSTILE = [
    ("inf", _set("age", "inf", False, "age:")),
    ("Infinity", _set("age", "Infinity", False, "age:")),
    ("-inf", _set("bmi", "-inf", False, "bmi:")),
    ("1e400", _set("waist", "1e400", False, "waist:")),
    ("nan optional", _set("hs_crp", "nan", True)),  # NaN spells "missing" in an optional field
    ("400 digits", _set("age", "9" * 400, False, "age:")),
    ("bad byte", _raw(lambda row: _replace_cell(row, "site", b"caf\xe9"), False, "not valid text")),
    ("surrogate bytes", _raw(lambda row: _replace_cell(row, "note", b"\xed\xa0\x80x"), False, "not valid text")),
    ("surrogate escape text", _set("sex", "\\udc80", False, "sex:")),
    ("quoted line breaks", _set("site", 'north\r\nwing "B", 2nd floor\nroom 7', True,
                                cells={"site": 'north\r\nwing "B", 2nd floor\nroom 7'})),
    ("unclosed quote", _raw(lambda row: f'{row["patient_id"]},{row["age"]},"{row["sex"]}\n'.encode(), False,
                            "quoted cell", keep_id=False)),
    ("too few fields", _raw(lambda row: f'{row["patient_id"]},{row["age"]},{row["sex"]}\n'.encode(), False,
                            "fields, the header has", keep_id=False)),
    ("too many fields", _raw(lambda row: _line(row)[:-1] + b",extra,cells\n", False,
                             "fields, the header has", keep_id=False)),
    ("case variants", _set("sex", " MALE ", True)),
    ("Female", _set("sex", "Female", True)),
    ("blank required", _set("age", "", False, "age:")),
    ("NA spellings", lambda rng, row: _set("age", rng.choice(["NA", "null", "NaN", "n/a"]), False, "age:")(rng, row)),
    ("CSV injection", lambda rng, row: _set("site", v := rng.choice(["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0",
                                                                    "@SUM(1+1)", "-2+3", "\tTAB", "=1"]), True,
                                            cells={"site": "'" + v})(rng, row)),
    ("overlong strings", _set("medications", "x" * 20_000, False, "medications:")),  # as in JSON: names <= 100 chars
    ("bare CR", _raw(lambda row: _line(row)[:-1].replace(b",", b"\r", 1) + b"\n", False, "carriage return",
                     keep_id=False)),
]
assert len(HOSTILE) == 20


def make_hostile_csv(n=10_000, hostile=1_000, seed=11):
    """(CSV bytes, [Expect] per record): ``hostile`` records spread evenly, kinds in rotation.

    The 9 MiB note sits in one ordinary row near the start; one unclosed quote sits in the
    very last record, so the end of the file arrives inside quotes.
    """
    rng = random.Random(seed)
    out = [(",".join(HEADER) + "\n").encode()]
    expected = []
    every = n // hostile
    for i in range(n):
        row = _base(rng, i)
        if i == n - 1:
            line = f'{row["patient_id"]},{row["age"]},"{row["sex"]},x\n'.encode()
            exp = Expect(False, "", "never closed")
        elif i % every == every - 1:
            _, make = HOSTILE[(i // every) % len(HOSTILE)]
            line, exp = make(rng, row)
        elif i == 3:
            line, exp = _big_note(rng, row)
        else:
            line, exp = _line(row), Expect(True, row["patient_id"])
        out.append(line)
        expected.append(exp)
    return b"".join(out), expected


def check_hostile_output(body: bytes, expected, csv_safe=True):
    """Every output row against its record: same count and order, errors where expected."""
    csv.field_size_limit(64 << 20)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))
    assert len(rows) == len(expected), (len(rows), len(expected))
    scored = errors = 0
    for k, (row, exp) in enumerate(zip(rows, expected)):
        where = f"row {k + 1}: {row['error'][:200]!r}"
        assert row["patient_id"] == exp.pid, where
        if exp.ok:
            assert row["error"] == "", where
            assert row["points"] != "" and row["band"], where
            scored += 1
        else:
            assert exp.fragment in row["error"], (exp.fragment, where)
            assert row["points"] == "" and row["band"] == "", where
            errors += 1
        for name, value in exp.cells.items():
            if not csv_safe and value.startswith("'"):
                value = value[1:]
            assert row[name] == value, (name, where)
        assert row["disclaimer"]
    return scored, errors
