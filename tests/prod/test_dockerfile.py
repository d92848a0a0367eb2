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
    assert cmd == ["python", "-m", "riskservice.deploy.serve"]   # nginx in front of the production gunicorn


def test_the_image_has_nginx_and_a_writable_replay_store(final_stage):
    stage, parser = final_stage
    runs = " ".join(values(stage, "RUN"))
    assert "apt-get install" in runs and " nginx" in runs and "rm -rf /var/lib/apt/lists" in runs
    assert parser.envs["RISKSERVICE_REPLAY_DB"].startswith("/app/instance/") and "chown 10001:10001 /app/instance" in runs


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


def _pins(path: Path) -> dict:
    """name -> (version, hashes) of a uv/pip-compile lock file."""
    import re
    out, current = {}, None
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if m:
            current = m.group(1).lower()
            out[current] = (m.group(2), set())
        elif current and "--hash=" in line:
            out[current][1].add(line.split("--hash=")[1].split()[0])
    return out


def test_image_installs_the_locked_serving_subset_with_hashes(final_stage):
    _, parser = final_stage
    runs = " ".join(i["value"] for i in parser.structure if i["instruction"] == "RUN")
    assert "--require-hashes -r requirements/serve.txt" in runs
    serve, lock = _pins(ROOT / "requirements/serve.txt"), _pins(ROOT / "requirements/lock.txt")
    assert serve, "requirements/serve.txt holds no pins"
    for name, (version, hashes) in serve.items():
        assert name in lock and lock[name][0] == version, f"{name} {version} is not the locked version"
        assert hashes and hashes <= lock[name][1], f"{name}: hashes differ from requirements/lock.txt"


def test_serving_lock_covers_install_requires_and_no_test_tools():
    import configparser
    import re
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    required = [re.split(r"[<>=!~\[; ]", r.strip())[0].lower().replace("_", "-").replace(".", "-")
                for r in cfg["options"]["install_requires"].strip().splitlines() if r.strip()]
    serve = {n.replace("_", "-").replace(".", "-") for n in _pins(ROOT / "requirements/serve.txt")}
    assert set(required) <= serve, set(required) - serve
    for tool in ("pytest", "selenium", "schemathesis", "scikit-learn", "ruff"):
        assert tool not in serve
