import subprocess
import sys
from pathlib import Path

import pytest

from tests.batchdata import check_output, make_csv

pytestmark = pytest.mark.slow  # each test starts the CLI in a new interpreter

CLI = [str(Path(sys.executable).with_name("riskservice"))]


def test_score_csv_file_to_file(tmp_path):
    body, expected = make_csv()
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(body)
    run = subprocess.run(CLI + ["score-csv", str(src), "-o", str(dst)], capture_output=True, text=True)
    assert run.returncode == 2, run.stderr  # some rows had errors
    assert "rows 10000, scored 9000, errors 1000" in run.stderr
    assert "Disclaimer: For use by qualified" in run.stderr
    assert check_output(dst.read_bytes(), expected) == (9000, 1000)


def test_score_csv_stdin_to_stdout_all_good():
    body, expected = make_csv(n=50, bad_every=10_000)
    run = subprocess.run(CLI + ["score-csv", "-", "--quiet"], input=body, capture_output=True)
    assert run.returncode == 0, run.stderr
    assert check_output(run.stdout, expected) == (50, 0)


def test_score_csv_fatal_errors_exit_1(tmp_path):
    missing = subprocess.run(CLI + ["score-csv", str(tmp_path / "nope.csv")], capture_output=True, text=True)
    assert missing.returncode in (1, 2) and "nope.csv" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("age,bmi\n50,30\n")
    run = subprocess.run(CLI + ["score-csv", str(bad)], capture_output=True, text=True)
    assert run.returncode == 1 and "sex" in run.stderr


def test_score_single_json(tmp_path):
    p = tmp_path / "p.json"
    p.write_text('{"age": 52, "sex": "male", "bmi": 31.2}')
    run = subprocess.run(CLI + ["score", str(p)], capture_output=True, text=True)
    assert run.returncode == 0 and '"points": 5' in run.stdout
