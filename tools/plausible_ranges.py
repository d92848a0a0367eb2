"""Write (or check) the plausible ranges of the lab quantities in riskservice/knowledge/units.json.

A lab value sent without a unit is read in a unit only where it is plausible in that unit alone
(riskservice/core/engine/units.py). "Plausible" is the range of values actually measured in
NHANES 2015-2018 fasting adults: the lowest and the highest value of each lab in the shipped
table riskservice/model/data/nhanes_fasting_2015_2018.csv (built by tools/build_nhanes_fasting.py
from the CDC files, with its manifest). A lab the table lacks (hs-CRP, ALT) takes its accepted
bounds. The numbers are written, never typed by hand:

    python tools/plausible_ranges.py           # rewrite units.json
    python tools/plausible_ranges.py --check   # exit 1 when units.json differs (a test runs this)
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UNITS = REPO / "riskservice" / "knowledge" / "units.json"
TABLE = REPO / "riskservice" / "model" / "data" / "nhanes_fasting_2015_2018.csv"
# quantity -> (table column, NHANES variable) in the quantity's canonical unit
MEASURED = {
    "fasting_glucose": ("fasting_glucose_mg_dl", "LBXGLU"),
    "fasting_insulin": ("fasting_insulin_uu_ml", "LBXIN"),
    "triglycerides": ("triglycerides_mg_dl", "LBXTR"),
    "hdl_cholesterol": ("hdl_mg_dl", "LBDHDD"),
    "hba1c": ("hba1c_percent", "LBXGH"),
}
FROM_BOUNDS = ("hs_crp", "alt")


def ranges(table: Path = TABLE) -> dict:
    """quantity -> (lowest, highest, rows with a value) in the table."""
    seen = {q: [] for q in MEASURED}
    with table.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for q, (column, _) in MEASURED.items():
                if row[column].strip():
                    seen[q].append(float(row[column]))
    return {q: (min(v), max(v), len(v)) for q, v in seen.items()}


def _number(x: float):
    return int(x) if float(x).is_integer() else x


def updated(doc: dict, found: dict) -> dict:
    out = json.loads(json.dumps(doc))
    for q, (lo, hi, n) in found.items():
        spec = out["quantities"][q]
        column, variable = MEASURED[q]
        spec["plausible"] = {
            "range": [_number(lo), _number(hi)],
            "source": (f"lowest and highest {variable} ({spec['canonical']}) measured in NHANES 2015-2018 fasting "
                       f"adults: {n} values in riskservice/model/data/nhanes_fasting_2015_2018.csv (column {column}); "
                       "written by tools/plausible_ranges.py"),
        }
    for q in FROM_BOUNDS:
        spec = out["quantities"][q]
        spec["plausible"] = {"range": list(spec["bounds"]),
                             "source": "no NHANES column in the shipped table: the accepted bounds; written by "
                                       "tools/plausible_ranges.py"}
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = UNITS.read_text(encoding="utf-8")
    new = json.dumps(updated(json.loads(text), ranges()), indent=1, ensure_ascii=False) + "\n"
    if "--check" in argv:
        if new != text:
            print("units.json plausible ranges are stale: run python tools/plausible_ranges.py", file=sys.stderr)
            return 1
        return 0
    UNITS.write_text(new, encoding="utf-8")
    print(f"wrote {UNITS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
