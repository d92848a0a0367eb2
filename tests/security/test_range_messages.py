"""Issue 22, finding 15: a value just outside the range in another unit is told so without contradiction:
"1.11 mmol/L (= 20 mg/dL) is outside the accepted range 1.11-55.51 mmol/L" read as if 1.11 were inside."""
from __future__ import annotations

import re

import pytest

EDGES = [
    ({"fasting_glucose": 1.11, "fasting_glucose_unit": "mmol/L"}, "fasting_glucose"),
    ({"height": 39.37, "height_unit": "in"}, "height"),
    ({"weight": 55.11, "weight_unit": "lb"}, "weight"),
    ({"triglycerides": 0.1129, "triglycerides_unit": "mmol/L"}, "triglycerides"),
    ({"fasting_glucose": 55.52, "fasting_glucose_unit": "mmol/L"}, "fasting_glucose"),
]
MESSAGE = re.compile(r"^(?P<v>[\d.]+) (?P<u>\S+) \(= (?P<c>[\d.]+) (?P<cu>\S+)\) is outside the accepted range "
                     r"(?P<lo>[\d.]+)-(?P<hi>[\d.]+) (?P=u) \((?P<clo>[\d.]+)-(?P<chi>[\d.]+) (?P=cu)\)")


@pytest.mark.parametrize("values, field", EDGES)
def test_the_numbers_of_a_range_message_never_contradict_it(client, values, field):
    r = client.post("/v1/score", json={"age": 50, "sex": "male", **values})
    assert r.status_code == 422
    text = r.get_json()["errors"][field][0]
    m = MESSAGE.match(text)
    assert m, text
    v, c = float(m["v"]), float(m["c"])
    lo, hi, clo, chi = (float(m[k]) for k in ("lo", "hi", "clo", "chi"))
    assert not lo <= v <= hi, text        # the value, as sent, reads outside the range shown in its unit
    assert not clo <= c <= chi, text      # and so does its conversion in the canonical unit
