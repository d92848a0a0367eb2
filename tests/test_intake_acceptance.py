"""Issue 21 acceptance: real exports in, without renaming.

A hospital-style export with the issue's headers scores without renaming, row for row identical to
the same data with the API's names, through HTTP (the real gunicorn server), the CLI (the installed
command) and Dask, each with its report of used and ignored columns; NHANES variable names score with
``--map-file examples/nhanes_mapping.toml``. The page's counts and errors are tested in
tests/web/test_batch_page.py (browser)."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.hospital import canonical_csv, hospital_csv, patients, results
from tests.paths import REPO
from tests.realserver import RealServer

USED = {"Age": ("age", None), "Gender": ("sex", None), "BMI (kg/m2)": ("bmi", None),
        "Waist circumference (cm)": ("waist", "cm"), "Fasting glucose (mmol/L)": ("fasting_glucose", "mmol/L"),
        "HbA1c (mmol/mol)": ("hba1c", "mmol/mol"), "Triglycerides (mmol/L)": ("triglycerides", "mmol/L"),
        "HDL-C (mmol/L)": ("hdl_cholesterol", "mmol/L"), "hsCRP (mg/L)": ("hs_crp", "mg/L"),
        "Medications": ("medications", None)}
IGNORED = ["Patient ID", "Clinic note"]


@pytest.fixture(scope="module")
def rows():
    return patients()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with RealServer(tmp_path_factory.mktemp("intake") / "server.log") as real:
        yield real


def _post(base, path, body: bytes, ctype="text/csv"):
    req = urllib.request.Request(base + path, data=body, headers={"Content-Type": ctype}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, dict(r.headers), r.read()


def _check_rows(out):
    """What the export holds: 480 rows scored, 20 with their error, metformin named, never scored."""
    errors = [r for r in out if r["error"]]
    assert len(out) == 500 and len(errors) == 20
    assert {r["Patient ID"] for r in errors} == {f"H{i:04d}" for i in range(24, 500, 25)}
    assert any("Did you mean 'female'?" in r["error"] for r in errors)
    metformin = [r for r in out if not r["error"] and "glucose-lowering medicine" in r["warnings"]]
    assert metformin and all("Metformin" in r["warnings"] for r in metformin)


def test_a_hospital_export_scores_over_http_like_the_same_data_with_api_names(server, rows):
    status, headers, body = _post(server.base, "/v1/score/batch", hospital_csv(rows))
    status_c, _, canonical = _post(server.base, "/v1/score/batch", canonical_csv(rows))
    assert status == status_c == 200
    assert body == canonical                                   # row for row, byte for byte
    used = {u["column"]: (u["field"], u.get("unit")) for u in json.loads(headers["X-Columns-Used"])}
    assert used == USED
    assert json.loads(headers["X-Columns-Ignored"]) == IGNORED and headers["X-Columns-Ignored-Count"] == "2"
    _check_rows(results(body))


def test_the_same_export_as_a_json_array_and_a_multipart_upload(server, rows):
    records = [dict(zip(r.keys(), r.values())) for r in csv.DictReader(io.StringIO(hospital_csv(rows[:30]).decode()))]
    status, headers, body = _post(server.base, "/v1/score/batch", json.dumps(records).encode(), "application/json")
    assert status == 200 and {u["column"]: u["field"] for u in json.loads(headers["X-Columns-Used"])} == \
        {k: v[0] for k, v in USED.items()}
    from_json = [json.loads(line) for line in body.decode().splitlines()]
    assert from_json.pop() == {"summary": {"rows": 30, "scored": 29, "errors": 1}}   # the answer's end marker
    from_csv = results(_post(server.base, "/v1/score/batch", hospital_csv(rows[:30]))[2])
    for a, b in zip(from_json, from_csv, strict=True):
        assert (a["points"], a["band"], a["error"] or "") == (int(b["points"]) if b["points"] else None, b["band"] or None,
                                                               b["error"])
    boundary = "intake21"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"mapping\"\r\n\r\n"
            '{"ignore": ["Clinic note"]}\r\n'
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"h.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + hospital_csv(rows) + f"\r\n--{boundary}--\r\n".encode()
    status, headers, out = _post(server.base, "/v1/score/batch", body, f"multipart/form-data; boundary={boundary}")
    assert status == 200 and out == _post(server.base, "/v1/score/batch", hospital_csv(rows))[2]


def test_a_look_alike_column_is_a_422_with_did_you_mean_until_mapped_or_ignored(server):
    data = b"MRN,Age,Sex,Glucose\n1,52,M,5.4\n"
    req = urllib.request.Request(server.base + "/v1/score/batch", data=data, headers={"Content-Type": "text/csv"},
                                 method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=30)
    problem = json.loads(exc.value.read())
    assert exc.value.code == 422 and "did you mean fasting_glucose" in problem["errors"]["Glucose"][0]
    status, headers, body = _post(server.base, "/v1/score/batch?map=fasting_glucose:Glucose", data)
    assert status == 200 and results(body)[0]["error"] == ""
    assert "fasting_glucose: no unit given, so read as mmol/L" in results(body)[0]["warnings"]
    status, headers, body = _post(server.base, "/v1/score/batch?ignore=Glucose", data)
    assert status == 200 and json.loads(headers["X-Columns-Ignored"]) == ["MRN", "Glucose"]


def _cli(*args):
    exe = Path(sys.executable).with_name("riskservice")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120, cwd=REPO)


def test_the_cli_scores_the_export_and_prints_the_report_before_scoring(tmp_path, rows):
    (tmp_path / "h.csv").write_bytes(hospital_csv(rows))
    (tmp_path / "c.csv").write_bytes(canonical_csv(rows))
    run = _cli("score-csv", str(tmp_path / "h.csv"), "-o", str(tmp_path / "h-out.csv"))
    assert run.returncode == 2, run.stderr                      # 2: some rows carry their error
    assert _cli("score-csv", str(tmp_path / "c.csv"), "-o", str(tmp_path / "c-out.csv")).returncode == 2
    assert (tmp_path / "h-out.csv").read_bytes() == (tmp_path / "c-out.csv").read_bytes()
    _check_rows(results((tmp_path / "h-out.csv").read_bytes()))
    lines = run.stderr.splitlines()
    assert lines[0] == "columns: 10 used, 2 ignored"           # the report comes first
    assert "  Fasting glucose (mmol/L) -> fasting_glucose (synonym) [mmol/L: header]" in lines
    assert "  ignored (passed through unread): Patient ID, Clinic note" in lines
    assert lines.index("  ignored (passed through unread): Patient ID, Clinic note") < \
        next(k for k, line in enumerate(lines) if line.startswith("rows 500, scored 480, errors 20"))


def test_nhanes_names_score_with_the_example_mapping_file(tmp_path):
    """The shipped NHANES table written back with NHANES variable names and codes scores with
    --map-file examples/nhanes_mapping.toml exactly as the same rows with the API's names."""
    with (REPO / "riskservice/model/data/nhanes_fasting_2015_2018.csv").open(encoding="utf-8") as f:
        table = list(csv.DictReader(f))[:300]
    sex = {"male": "1", "female": "2"}
    race = {"mexican_american": "1", "other_hispanic": "2", "non_hispanic_white": "3", "non_hispanic_black": "4",
            "non_hispanic_asian": "6", "other_or_multiracial": "7"}
    ethnicity = {"1": "hispanic", "2": "hispanic", "3": "europid", "4": "african", "6": "", "7": "other"}
    yes_no = {"yes": "1", "no": "2", "borderline": "3", "": ""}
    names = ["SEQN", "RIDAGEYR", "RIAGENDR", "RIDRETH3", "BMXWT", "BMXHT", "BMXWAIST", "LBXGLU", "LBXIN",
             "LBXTR", "LBDHDD", "LBXGH", "DIQ010", "MCQ300C", "BPQ020", "RIDEXPRG"]
    api = ["SEQN", "age", "sex", "ethnicity", "weight", "weight_unit", "height", "height_unit", "waist",
           "waist_unit", "fasting_glucose", "fasting_glucose_unit", "fasting_insulin", "fasting_insulin_unit",
           "triglycerides", "triglycerides_unit", "hdl_cholesterol", "hdl_cholesterol_unit", "hba1c", "hba1c_unit",
           "known_diabetes", "family_history_diabetes", "hypertension", "pregnant"]
    with (tmp_path / "nhanes.csv").open("w", newline="") as f, (tmp_path / "api.csv").open("w", newline="") as g:
        nh, ap = csv.writer(f), csv.writer(g)
        nh.writerow(names)
        ap.writerow(api)
        for r in table:
            code = race[r["race_ethnicity"]]
            labs = [(r["weight_kg"], "kg"), (r["height_cm"], "cm"), (r["waist_cm"], "cm"),
                    (r["fasting_glucose_mg_dl"], "mg/dL"), (r["fasting_insulin_uu_ml"], "uU/mL"),
                    (r["triglycerides_mg_dl"], "mg/dL"), (r["hdl_mg_dl"], "mg/dL"), (r["hba1c_percent"], "%")]
            nh.writerow([r["seqn"], r["age"], sex[r["sex"]], code, *(v for v, _ in labs),
                         yes_no[r["told_diabetes"]], yes_no[r["family_history_diabetes"]], yes_no[r["told_high_bp"]],
                         yes_no[r["pregnant"]]])
            told = {"yes": "true", "no": "false", "borderline": "false", "": ""}
            ap.writerow([r["seqn"], r["age"], r["sex"], ethnicity[code],
                         *(x for v, u in labs for x in (v, u if v else "")),
                         told[r["told_diabetes"]], {"yes": "first_degree", "no": "none", "": ""}[r["family_history_diabetes"]],
                         {"yes": "true", "no": "false", "": ""}[r["told_high_bp"]],
                         {"yes": "true", "no": "false", "": ""}[r["pregnant"]]])
    run = _cli("score-csv", str(tmp_path / "nhanes.csv"), "-o", str(tmp_path / "n-out.csv"),
               "--map-file", str(REPO / "examples" / "nhanes_mapping.toml"))
    assert run.returncode in (0, 2), run.stderr
    assert "  LBXGLU -> fasting_glucose (NHANES) [mg/dL: NHANES name]" in run.stderr.splitlines()
    assert "  RIDRETH3 -> ethnicity (mapping) [6 mapped values]" in run.stderr.splitlines()
    _cli("score-csv", str(tmp_path / "api.csv"), "-o", str(tmp_path / "a-out.csv"))
    nhanes, plain = results((tmp_path / "n-out.csv").read_bytes()), results((tmp_path / "a-out.csv").read_bytes())
    assert len(nhanes) == len(plain) == 300
    scored = [r for r in nhanes if not r["error"]]
    assert len(scored) >= 290
    for a, b in zip(nhanes, plain, strict=True):
        assert {k: v for k, v in a.items()} == {k: v for k, v in b.items()}, a["SEQN"]


def test_dask_scores_the_export_like_the_canonical_file(tmp_path, rows):
    pytest.importorskip("dask.distributed")
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from riskservice.daskscore import score_parquet

    outs = {}
    for name, data in (("h", hospital_csv(rows)), ("c", canonical_csv(rows))):
        table = pacsv.read_csv(io.BytesIO(data))
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=200)
        stats = score_parquet(tmp_path / f"{name}.parquet", tmp_path / f"{name}-out", rows_per_partition=200)
        assert stats["rows_out"] == 500 and stats["errors"] == 20
        outs[name] = (pq.read_table(tmp_path / f"{name}-out"), stats["columns"])
    (h, report), (c, _) = outs["h"], outs["c"]
    assert {u["column"]: (u["field"], u.get("unit")) for u in report["used"]} == USED
    assert report["ignored"] == IGNORED
    assert h.column_names == c.column_names
    for name in h.column_names[2:]:          # the typed passthrough columns aside, every result column
        assert h.column(name).to_pylist() == c.column(name).to_pylist(), name
