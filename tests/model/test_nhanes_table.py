"""The shipped NHANES fasting table is what its manifest says it is (the builder, tools/build_nhanes_fasting.py,
needs the CDC source files, which a clone does not have; the manifest records their sha256 and checks)."""
import csv
import hashlib
import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "riskservice" / "model" / "data"
TABLE = DATA / "nhanes_fasting_2015_2018.csv"
MANIFEST = json.loads((DATA / "nhanes_fasting_2015_2018.manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rows():
    with TABLE.open(newline="", encoding="ascii") as fh:
        return list(csv.DictReader(fh))


def test_table_bytes_match_the_manifest():
    assert hashlib.sha256(TABLE.read_bytes()).hexdigest() == MANIFEST["sha256"]


def test_columns_and_row_flow(rows):
    assert list(rows[0]) == list(MANIFEST["columns"])
    assert len(rows) == MANIFEST["rows"] == sum(f["rows"] for f in MANIFEST["row_flow"].values())
    for cycle, flow in MANIFEST["row_flow"].items():
        mine = [r for r in rows if r["cycle"] == cycle]
        assert len(mine) == flow["rows"] == flow["adults_20_plus"]
        assert flow["adults_20_plus"] <= flow["fasting_weight_positive"] <= flow["in_fasting_subsample_file"]


def test_every_row_is_an_adult_with_a_fasting_weight(rows):
    assert all(int(r["age"]) >= 20 and float(r["wtsaf2yr"]) > 0 for r in rows)
    assert all(abs(float(r["weight_pooled"]) * 2 - float(r["wtsaf2yr"])) < 1e-6 * float(r["wtsaf2yr"]) for r in rows)
    strata = {r["cycle"]: set() for r in rows}
    for r in rows:
        strata[r["cycle"]].add(int(r["sdmvstra"]))
    assert not strata["2015-2016"] & strata["2017-2018"], "strata must stay distinct when the cycles are pooled"


def test_every_source_was_checked():
    files = {s["file"] for s in MANIFEST["sources"]}
    assert {f"{stem}_{c}" for stem in ("DEMO", "GLU", "INS", "TRIGLY", "MCQ") for c in "IJ"} <= {f.split(".")[0] for f in files}
    assert MANIFEST["codebook_checks"]["variables_checked"] == len(MANIFEST["codebook_checks"]["checked"]) >= 70
    assert all(len(s["sha256"]) == 64 for s in MANIFEST["sources"])
