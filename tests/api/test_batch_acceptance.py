"""Acceptance (issue 10): 10,000 records, 1,000 hostile in 20 ways, come back as exactly 10,000
rows in order, each bad one with its error, over HTTP (test client and a real gunicorn) and the CLI."""
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from riskservice.csvio.dialect import CsvOptions
from tests.batchdata import without_trailer
from tests.hostile_csv import HOSTILE, check_hostile_output, make_hostile_csv
from tests.test_server import server  # noqa: F401 - the real gunicorn fixture

pytestmark = pytest.mark.slow
EXPECTED_COUNTS = (9250, 750)


@pytest.fixture(scope="module")
def hostile():
    body, expected = make_hostile_csv()
    assert len(body) > 9 << 20 and len(HOSTILE) == 20
    assert sum(not e.ok for e in expected) == 750  # 1,000 hostile records; 250 of them are valid and scored
    return body, expected


def test_hostile_batch_over_the_flask_client(client, hostile):
    body, expected = hostile
    r = client.post("/v1/score/batch", data=body, content_type="text/csv")
    assert r.status_code == 200
    assert check_hostile_output(without_trailer(r.get_data()), expected) == EXPECTED_COUNTS


def test_hostile_batch_without_neutralising(client, hostile):
    body, expected = hostile
    r = client.post("/v1/score/batch?csv_safe=false", data=body, content_type="text/csv")
    assert check_hostile_output(without_trailer(r.get_data()), expected, csv_safe=False) == EXPECTED_COUNTS


def test_hostile_batch_through_gunicorn(server, hostile):  # noqa: F811
    base, _, log = server
    body, expected = hostile
    req = urllib.request.Request(base + "/v1/score/batch", data=body, method="POST",
                                 headers={"Content-Type": "text/csv"})
    with urllib.request.urlopen(req, timeout=120) as r:
        assert r.status == 200
        out = r.read()
    assert check_hostile_output(without_trailer(out), expected) == EXPECTED_COUNTS
    assert "Error handling request" not in log.read_text()


def test_hostile_batch_through_the_cli(tmp_path, hostile):
    body, expected = hostile
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(body)
    cli = str(Path(sys.executable).with_name("riskservice"))
    run = subprocess.run([cli, "score-csv", str(src), "-o", str(dst), "--quiet"], capture_output=True, text=True)
    assert run.returncode == 2, run.stderr
    assert "rows 10000, scored 9250, errors 750" in run.stderr
    assert check_hostile_output(dst.read_bytes(), expected) == EXPECTED_COUNTS


def test_hostile_batch_through_the_parallel_cli(tmp_path, hostile, monkeypatch):
    """Two worker processes; the middle of the file falls inside the 9 MiB quoted note."""
    from riskservice.cli import batch
    monkeypatch.setattr(batch, "PARALLEL_MIN_BYTES", 0)
    body, expected = hostile
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(body)
    assert batch.run_score_csv(str(src), str(dst), quiet=True, workers=2, options=CsvOptions()) == 2
    assert check_hostile_output(dst.read_bytes(), expected) == EXPECTED_COUNTS
