"""The command line builds its scorer as the service does, without importing Flask."""
import subprocess
import sys

from riskservice import app
from riskservice.cli import scorer


def test_model_dir_and_flags_read_as_the_app_reads_them():
    assert scorer.default_model_dir() == app.default_model_dir()
    for value in ("1", "true", " On ", "yes", "0", "false", "off", "", "no", True, False, 0, 1):
        assert scorer._flag(value) == app._flag(value)


def test_score_csv_start_up_imports_no_flask():
    code = ("import sys; from riskservice.cli.batch import run_score_csv; "
            "from riskservice.cli.scorer import build_scorer; build_scorer(True); "
            "print('flask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
