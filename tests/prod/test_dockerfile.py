"""No Docker engine runs here, so the Dockerfile is parsed and its promises checked:
slim base, non-root user, serving dependencies only, model baked in where the service
looks for it, one BLAS thread, a health check on /healthz, the production gunicorn config."""
import fnmatch
import json
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def final_stage():
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    stages, current = [], None
    for item in parser.structure:
        if item["instruction"] == "FROM":
            current = {"from": item["value"], "items": []}
            stages.append(current)
        elif current is not None:
            current["items"].append(item)
    assert len(stages) >= 1
    return stages[-1], parser


def values(stage, instruction):
    return [i["value"] for i in stage["items"] if i["instruction"] == instruction]


def test_slim_python_base(final_stage):
    stage, _ = final_stage
    assert stage["from"].startswith("python:3.11-slim")


def test_runs_as_a_non_root_user_before_the_command(final_stage):
    stage, _ = final_stage
    order = [i["instruction"] for i in stage["items"]]
    users = values(stage, "USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert order.index("USER") < order.index("CMD")


def test_environment_one_blas_thread_and_model_dir(final_stage):
    _, parser = final_stage
    env = parser.envs
    assert env["OMP_NUM_THREADS"] == "1" and env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["RISKSERVICE_MODEL_DIR"] == "/app/models"
    assert env["PYTHONUNBUFFERED"] == "1"  # logs reach stdout at once


def test_model_is_baked_in_where_the_service_reads_it(final_stage):
    stage, parser = final_stage
    copies = values(stage, "COPY")
    assert any(c.split()[-2:] == ["models/", parser.envs["RISKSERVICE_MODEL_DIR"] + "/"] for c in copies)


def test_only_serving_dependencies(final_stage):
    _, parser = final_stage
    runs = " ".join(i["value"] for i in parser.structure if i["instruction"] == "RUN")
    assert "[train" not in runs and "[test" not in runs and ".[" not in runs
    assert "--no-cache-dir" in runs


def test_healthcheck_and_command(final_stage):
    stage, _ = final_stage
    health = values(stage, "HEALTHCHECK")
    assert health and "/healthz" in health[0]
    cmd = json.loads(values(stage, "CMD")[-1])
    assert cmd[:3] == ["gunicorn", "-c", "python:riskservice.gunicorn_conf"]


def test_dockerignore_keeps_the_context_small_but_not_the_model():
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    for excluded in (".git", ".venv", "tests", "bench"):
        assert excluded in patterns
    needed = ["riskservice/app.py", "setup.cfg", "pyproject.toml", "README.md"]
    needed += [str(p.relative_to(ROOT)) for p in (ROOT / "models").glob("*.joblib")]
    needed += [str(p.relative_to(ROOT)) for p in (ROOT / "models").glob("*.manifest.json")]
    for path in needed:
        assert not any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns), path
