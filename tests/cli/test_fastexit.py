"""score-csv leaves without the interpreter's teardown only when it is the program itself."""
import subprocess
import sys

import pytest

from riskservice.cli import main
from riskservice.cli.fastexit import exit_now
from tests.batchdata import make_csv


def test_inside_another_program_it_exits_the_usual_way():
    with pytest.raises(SystemExit) as exc:
        exit_now(2, main)
    assert exc.value.code == 2


def test_as_the_program_every_byte_reaches_stdout_and_the_status_is_kept(tmp_path):
    body, _ = make_csv(n=300)
    src = tmp_path / "in.csv"
    src.write_bytes(body)
    to_file = subprocess.run([sys.executable, "-m", "riskservice.cli", "score-csv", str(src), "-o",
                              str(tmp_path / "out.csv"), "--quiet", "--no-model"], capture_output=True)
    to_stdout = subprocess.run([sys.executable, "-m", "riskservice.cli", "score-csv", str(src), "--quiet",
                                "--no-model"], capture_output=True)
    assert to_file.returncode == to_stdout.returncode == 2, to_file.stderr  # make_csv has rows with errors
    assert to_stdout.stdout == (tmp_path / "out.csv").read_bytes() and to_stdout.stdout.count(b"\n") == 301
    assert b"rows 300, scored 270, errors 30" in to_stdout.stderr and b"Disclaimer" in to_stdout.stderr
