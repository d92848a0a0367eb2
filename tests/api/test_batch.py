import csv
import io
import json

import pytest

from riskservice import create_app
from tests.batchdata import check_output, make_csv


def test_10000_rows_with_1000_corrupted_over_http(client):
    body, expected = make_csv()
    r = client.post("/v1/score/batch", data=body, content_type="text/csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["X-Disclaimer"].startswith("For use by qualified")
    assert check_output(r.get_data(), expected) == (9000, 1000)


def test_multipart_upload(client):
    body, expected = make_csv(n=200)
    r = client.post("/v1/score/batch", data={"file": (io.BytesIO(body), "patients.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200
    assert check_output(r.get_data(), expected) == (180, 20)


def test_misspelt_or_missing_columns_are_422_before_scoring(client):
    r = client.post("/v1/score/batch", data=b"age,sex,wieght\n50,male,80\n", content_type="text/csv")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "wieght" in r.get_json()["errors"]
    r = client.post("/v1/score/batch", data=b"age,bmi\n50,30\n", content_type="text/csv")
    assert r.status_code == 422 and "sex" in r.get_json()["errors"]
    r = client.post("/v1/score/batch", data=b"", content_type="text/csv")
    assert r.status_code == 422


def test_row_and_byte_limits_are_413():
    app = create_app({"TESTING": True, "BATCH_MAX_ROWS": 5, "BATCH_MAX_BYTES": 10_000})
    c = app.test_client()
    rows = b"age,sex\n" + b"50,male\n" * 6
    assert c.post("/v1/score/batch", data=rows, content_type="text/csv").status_code == 413
    assert c.post("/v1/score/batch", data=b"age,sex\n" + b"50,male\n" * 5, content_type="text/csv").status_code == 200
    big = b"age,sex,note\n" + b"50,male," + b"x" * 20_000 + b"\n"
    r = c.post("/v1/score/batch", data=big, content_type="text/csv")
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    assert c.post("/v1/score/batch", json=[{"age": 50, "sex": "male"}] * 6).status_code == 413


def test_json_array_answers_json_lines(client):
    r = client.post("/v1/score/batch", json=[{"id": "a", "age": 52, "sex": "male", "bmi": 31.2},
                                             {"id": "b", "age": 52, "sex": "nope"}])
    assert r.status_code == 200 and r.mimetype == "application/x-ndjson"
    lines = [json.loads(x) for x in r.get_data(as_text=True).splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]
    assert lines[0]["points"] == 11 and lines[0]["probability"] is not None and lines[0]["error"] is None
    assert "sex: Must be one of" in lines[1]["error"]


def test_batch_rejects_other_content_types(client):
    r = client.post("/v1/score/batch", data=b"<xml/>", content_type="application/xml")
    assert r.status_code == 415


def test_single_and_batch_agree_on_the_acceptance_patient(client, patient):
    single = client.post("/v1/score", json=patient).get_json()
    header = list(patient)
    row = [";".join(v) if isinstance(v, list) else str(v) for v in patient.values()]
    buf = io.StringIO()
    csv.writer(buf).writerows([header, row])
    out = list(csv.DictReader(io.StringIO(client.post("/v1/score/batch", data=buf.getvalue(),
                                                      content_type="text/csv").get_data(as_text=True))))[0]
    assert int(out["points"]) == single["rules"]["points"]
    assert out["band"] == single["rules"]["band"]
    # CSV rounds floats to 6 decimals
    assert float(out["probability"]) == pytest.approx(single["model"]["probability"], abs=5e-7)
    assert float(out["homa_ir"]) == pytest.approx(single["indices"]["homa_ir"]["value"], abs=5e-7)
    assert out["mechanism_1"] == single["mechanisms"][0]["name"]


def test_batch_audience_patient_uses_plain_labels(client, kb):
    data = b"age,sex,bmi\n52,male,31.2\n"
    plain = client.post("/v1/score/batch?audience=patient", data=data, content_type="text/csv").get_data(as_text=True)
    expert = client.post("/v1/score/batch", data=data, content_type="text/csv").get_data(as_text=True)
    assert "Fat build-up in muscle and liver" in plain and "Lipid accumulation in muscle and liver" in expert
    assert plain.split("\n")[1].split(",")[:3] == expert.split("\n")[1].split(",")[:3]  # same numbers
    r = client.post("/v1/score/batch?audience=kids", data=data, content_type="text/csv")
    assert r.status_code == 422 and "audience" in r.get_json()["errors"]
