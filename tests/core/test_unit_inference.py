"""No silent unit guess: a unitless lab value is read in a unit only where that reading alone is plausible.

Every unit-bearing field is covered: a lab with two readings gets a value plausible in both (an error
naming both) and a value plausible only in the other unit (read there, with a warning), where such
values exist; a body measure keeps its documented default unit and says so in ``assumed``."""
import csv
import importlib.util
import io

import numpy as np
import pytest

from riskservice.core.errors import ValidationProblem
from riskservice.core.fields import FIELDS
from riskservice.rows.batch import BatchScorer
from tests.paths import REPO

BASE = {"age": 50, "sex": "male"}


def _tool():
    spec = importlib.util.spec_from_file_location("plausible_ranges", REPO / "tools" / "plausible_ranges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plausible_ranges_are_those_measured_in_the_shipped_nhanes_table(kb):
    """units.json holds exactly what tools/plausible_ranges.py computes from the table in the repository."""
    assert _tool().main(["--check"]) == 0
    glucose = kb.units["quantities"]["fasting_glucose"]["plausible"]
    assert glucose["range"] == [21, 479] and "NHANES" in glucose["source"] and "LBXGLU" in glucose["source"]


def _readings(kb, name):
    """(unit, factor, offset) per distinct reading, canonical first."""
    spec = kb.units["quantities"][name]
    out, seen = [], set()
    for unit in [spec["canonical"], *spec["units"]]:
        u = spec["units"][unit]
        pair = (u["factor"], u.get("offset", 0.0))
        if pair not in seen:
            seen.add(pair)
            out.append((unit, *pair))
    return out


def _plausible(kb, name, canonical_value):
    lo, hi = kb.units["quantities"][name]["plausible"]["range"]
    return lo <= canonical_value <= hi


def _grid(kb, name):
    lo, hi = kb.units["quantities"][name]["bounds"]
    return np.unique(np.round(np.concatenate([np.geomspace(max(lo, 0.01), hi, 4000), np.arange(0.1, 60, 0.1)]), 2))


UNIT_FIELDS = [f.name for f in FIELDS if f.has_unit]


@pytest.mark.parametrize("name", UNIT_FIELDS)
def test_every_unit_bearing_field_reads_a_unitless_value_without_a_silent_guess(scorer, kb, name):
    readings = _readings(kb, name)
    spec = kb.units["quantities"][name]
    if len(readings) == 1:      # pg/mL and ng/L read alike: no unit question to answer
        value = spec["bounds"][1] / 2
        result = scorer.score({**BASE, name: value})
        assert not [w for w in result["warnings"] if w.get("code") == "unit_inferred"]
        return
    if "plausible" not in spec:  # a body measure: the canonical unit is the documented default, and is listed
        value = np.mean(spec["bounds"])
        result = scorer.score({**BASE, name: round(float(value), 1)})
        assert {"field": f"{name}_unit", "assumption": f"not given: {spec['canonical']} assumed"} in result["assumed"]
        return
    canonical, other = readings[0], readings[1]
    grid = _grid(kb, name)
    both = [v for v in grid if _plausible(kb, name, v * canonical[1] + canonical[2])
            and _plausible(kb, name, v * other[1] + other[2])]
    only_other = [v for v in grid if not _plausible(kb, name, v * canonical[1] + canonical[2])
                  and _plausible(kb, name, v * other[1] + other[2])]
    if both:
        v = float(both[len(both) // 2])
        with pytest.raises(ValidationProblem) as exc:
            scorer.score({**BASE, name: v})
        message = exc.value.errors[name][0]
        assert f"as {v:g} {canonical[0]}" in message and f"as {v:g} {other[0]}" in message, message
    else:   # the plausible ranges of the two readings do not overlap (HDL, HbA1c): never ambiguous
        assert name in ("hdl_cholesterol", "hba1c")
    only_canonical = [v for v in grid if _plausible(kb, name, v * canonical[1] + canonical[2])
                      and not _plausible(kb, name, v * other[1] + other[2])]
    # hs-CRP: every value plausible in mg/dL is plausible in mg/L too, so only the canonical side exists
    for unit, factor, offset, values in ((*other, only_other), (*canonical, only_canonical)):
        assert values or (name == "hs_crp" and unit == "mg/dL"), f"{name}: no value reads only as {unit}"
        if not values:
            continue
        v = float(values[len(values) // 2])
        result = scorer.score({**BASE, name: v})
        warning = next(w for w in result["warnings"] if w.get("code") == "unit_inferred" and w["field"] == name)
        assert f"read as {unit}" in warning["message"]
        given = next((c for c in result["rules"]["contributions"] if c["input"] == name), None)
        if given is not None:
            assert given["unit"] == unit and given["canonical_value"] == pytest.approx(v * factor + offset)
        assumption = next(a for a in result["assumed"] if a["field"] == f"{name}_unit")
        assert f"{v:g} read as {unit}" in assumption["assumption"]


def test_glucose_22_is_an_error_naming_both_readings_and_5_4_is_read_as_mmol(scorer):
    with pytest.raises(ValidationProblem) as exc:
        scorer.score({**BASE, "fasting_glucose": 22})
    message = exc.value.errors["fasting_glucose"][0]
    assert "22 mg/dL" in message and "22 mmol/L (= 396.4 mg/dL)" in message
    result = scorer.score({**BASE, "fasting_glucose": 5.4})
    glucose = next(c for c in result["rules"]["contributions"] if c["input"] == "fasting_glucose")
    assert glucose["unit"] == "mmol/L" and glucose["canonical_value"] == pytest.approx(5.4 * 18.016)
    assert {"field": "fasting_glucose", "code": "unit_inferred",
            "message": "no unit given, so read as mmol/L, the only unit in which the value lies within the range "
                       "measured in NHANES 2015-2018 fasting adults"} in result["warnings"]
    plain = scorer.score({**BASE, "fasting_glucose": 100})     # only mg/dL: read so, and said so
    assert [w["message"] for w in plain["warnings"] if w.get("code") == "unit_inferred"] == [
        "no unit given, so read as mg/dL, the only unit in which the value lies within the range measured in "
        "NHANES 2015-2018 fasting adults"]


def test_a_value_outside_every_plausible_range_falls_back_to_the_accepted_range(scorer):
    result = scorer.score({**BASE, "fasting_glucose": 600})     # above NHANES's 479 mg/dL; 600 mmol/L impossible
    assert result["diabetes_range"] is True
    assert any("read as mg/dL" in w["message"] and "accepted range" in w["message"] for w in result["warnings"])


def test_an_out_of_range_error_suggests_the_other_unit(scorer):
    with pytest.raises(ValidationProblem) as exc:
        scorer.score({**BASE, "fasting_glucose": 5.4, "fasting_glucose_unit": "mg/dL"})
    assert exc.value.errors["fasting_glucose"] == [
        "5.4 mg/dL is outside the accepted range 20-1000 mg/dL; did you mean 5.4 mmol/L (= 97.29 mg/dL)?"]


def test_a_value_implausible_in_its_stated_unit_but_plausible_in_another_is_flagged(scorer):
    """Triglycerides '63 mmol/L' (really mg/dL, 5580 mg/dL as sent) are read as sent, with a warning."""
    result = scorer.score({**BASE, "triglycerides": 63, "triglycerides_unit": "mmol/L",
                           "hdl_cholesterol": 1.1, "hdl_cholesterol_unit": "mmol/L"})
    warning = next(w for w in result["warnings"] if w["field"] == "triglycerides")
    assert warning["code"] == "implausible" and "if read as mg/dL" in warning["message"]


def test_the_batch_reads_units_the_same_way_and_does_not_repeat_a_unit_without_a_value(kb):
    text = ("id,age,sex,fasting_glucose,triglycerides,triglycerides_unit\n"
            "a,50,male,5.4,,mmol/L\nb,50,male,22,,mmol/L\nc,50,male,100,150,mg/dL\nd,50,male,5.4 mmol/L,,\n")
    rows = list(csv.DictReader(io.StringIO(b"".join(BatchScorer(kb).iter_csv(io.BytesIO(text.encode()))).decode())))
    assert rows[0]["error"] == "" and "fasting_glucose: no unit given, so read as mmol/L" in rows[0]["warnings"]
    assert "22 mg/dL" in rows[1]["error"] and "22 mmol/L" in rows[1]["error"]
    assert "read as mg/dL" in rows[2]["warnings"]
    assert rows[3]["error"] == "" and "fasting_glucose" not in rows[3]["warnings"]   # the unit was in the cell
    assert rows[3]["points"] == rows[0]["points"]
    assert all("triglycerides_unit" not in r["warnings"] for r in rows)
