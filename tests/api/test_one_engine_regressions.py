"""Issue 10 section 1: each way the two old paths differed, through the real app, so none can return."""
import csv
import io
import json

import pytest

from riskservice import create_app
from tests.batchdata import without_trailer

PATIENT = {"age": 52, "sex": "male", "bmi": 31.2, "waist": 104, "fasting_glucose": 104}


def csv_rows(response):
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(without_trailer(response.get_data()).decode())))


@pytest.fixture(scope="module")
def strict_client():
    return create_app({"TESTING": True, "REQUIRE_APPROVED": True}).test_client()


def test_require_approved_holds_for_single_and_batch(strict_client):
    assert strict_client.post("/v1/score", json=PATIENT).status_code == 503
    rows = csv_rows(strict_client.post("/v1/score/batch", data="age,sex,bmi\n52,male,31.2\n60,female,24\n",
                                       content_type="text/csv"))
    assert len(rows) == 2 and all("REQUIRE_APPROVED" in r["error"] and r["points"] == "" for r in rows)
    lines = strict_client.post("/v1/score/batch", json=[PATIENT, PATIENT]).get_data(as_text=True).splitlines()
    assert lines.pop().startswith('{"summary":')
    assert len(lines) == 2 and all('"points":null' in line.replace(" ", "") and "REQUIRE_APPROVED" in line
                                   for line in lines)


@pytest.mark.parametrize("spelling", ["Female", " FEMALE ", "female"])
def test_enumerations_match_alike_on_every_surface(client, spelling):
    want = client.post("/v1/score", json={"age": 40, "sex": "female", "bmi": 27}).get_json()["rules"]["points"]
    single = client.post("/v1/score", json={"age": 40, "sex": spelling, "bmi": 27})
    assert single.status_code == 200 and single.get_json()["rules"]["points"] == want
    line = client.post("/v1/score/batch", json=[{"age": 40, "sex": spelling, "bmi": 27}]).get_data(as_text=True)
    assert f'"points":{want}' in line.replace(" ", "")
    rows = csv_rows(client.post("/v1/score/batch", data=f"age,sex,bmi\n40,{spelling},27\n", content_type="text/csv"))
    assert rows[0]["points"] == str(want)


def test_units_match_case_insensitively(client):
    a = client.post("/v1/score", json={"age": 50, "sex": "male", "fasting_glucose": 6.1,
                                       "fasting_glucose_unit": "mmol/l"})
    b = client.post("/v1/score", json={"age": 50, "sex": "male", "fasting_glucose": 6.1,
                                       "fasting_glucose_unit": "mmol/L"})
    assert a.status_code == b.status_code == 200
    assert a.get_json()["rules"]["points"] == b.get_json()["rules"]["points"]


@pytest.mark.parametrize("cell", ["inf", "Infinity", "-inf", "1e400", "9" * 400, "caf\u00e9"])
def test_a_hostile_number_is_that_row_s_error_and_the_stream_goes_on(client, cell):
    data = f"id,age,sex,bmi\na,52,male,31\nb,52,male,{cell}\nc,60,female,24\n"
    rows = csv_rows(client.post("/v1/score/batch", data=data.encode(), content_type="text/csv"))
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["points"] and rows[2]["points"] and "bmi:" in rows[1]["error"] and rows[1]["points"] == ""


def test_an_overlong_integer_is_a_4xx_everywhere(client):
    body = '{"age": 52, "sex": "male", "bmi": ' + "9" * 400 + "}"
    r = client.post("/v1/score", data=body, content_type="application/json")
    assert 400 <= r.status_code < 500 and r.mimetype == "application/problem+json"
    # In a JSON-array batch the record is that row's error; the others are scored (issue 22).
    r = client.post("/v1/score/batch", data="[" + body + ',{"age": 52, "sex": "male"}]', content_type="application/json")
    first, second, end = r.get_data(as_text=True).splitlines()
    assert "beyond the range of a number" in json.loads(first)["error"] and json.loads(second)["error"] is None
    assert json.loads(end) == {"summary": {"rows": 2, "scored": 1, "errors": 1}}


def test_batch_rows_carry_the_established_scores(client):
    rows = csv_rows(client.post("/v1/score/batch", content_type="text/csv",
                                data="age,sex,bmi,waist,mvpa_minutes_per_week\n52,male,31.2,104,30\n52,male,31.2,,\n"))
    single = client.post("/v1/score", json={"age": 52, "sex": "male", "bmi": 31.2, "waist": 104,
                                            "mvpa_minutes_per_week": 30}).get_json()["established"]
    assert int(rows[0]["findrisc_points"]) == single["findrisc"]["points"]
    assert int(rows[0]["findrisc_points_max"]) == single["findrisc"]["points_range"][1]
    assert int(rows[0]["ada_points"]) == single["ada"]["points"]
    assert int(rows[1]["findrisc_points"]) < int(rows[1]["findrisc_points_max"])   # a range when items are missing


@pytest.mark.parametrize("extra, field", [({"sleep_hours_per_night": 20, "sedentary_hours_per_day": 20},
                                           "sedentary_hours_per_day"),
                                          ({"waist": 250, "hip": 50}, "waist")])
def test_impossible_combinations_are_warned_on_every_surface(client, extra, field):
    body = client.post("/v1/score", json={"age": 50, "sex": "female", **extra}).get_json()
    assert any(w.get("code") == "implausible" and w["field"] == field for w in body["warnings"])
    header = ",".join(["age", "sex", *extra])
    values = ",".join(["50", "female", *(str(v) for v in extra.values())])
    rows = csv_rows(client.post("/v1/score/batch", data=f"{header}\n{values}\n", content_type="text/csv"))
    assert f"{field}: " in rows[0]["warnings"] and rows[0]["points"] != ""
