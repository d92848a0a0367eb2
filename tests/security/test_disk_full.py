"""Issue 22, finding 3: a full TMPDIR. gunicorn runs in a mount namespace of its own whose TMPDIR is
a 4 MiB tmpfs filled to the last byte (unshare: the test's own namespace, nothing outside it is
touched). /v1/score and the pages still answer, uploads that need the disk get 507 problem+json,
the metrics still count, and no worker dies (before: SIGBUS on every request, 500 on uploads)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from riskservice import metricsdir
from tests.realserver import RealServer

# In gunicorn's own mount namespace: an empty 4 MiB tmpfs as TMPDIR (the server starts with room, as
# in production), and a filler that fills it to the last byte once the test says so.
FILL = ('mount -t tmpfs -o size=4m tmpfs "$1" && '
        '( while [ ! -e "$2/fill-now" ]; do sleep 0.05; done; '
        'dd if=/dev/zero of="$1/fill" bs=64k 2>/dev/null; touch "$2/filled" ) & '
        'shift 2 && exec "$@"')


def _unshare() -> list | None:
    """The wrapper that runs gunicorn with a full TMPDIR, or None where namespaces are not allowed."""
    if shutil.which("unshare") is None:
        return None
    base = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        base[1:1] = ["--user", "--map-root-user"]
    probe = subprocess.run([*base, "true"], capture_output=True)
    return base if probe.returncode == 0 else None


def _post(base, path, body: bytes, ctype: str):
    req = urllib.request.Request(base + path, data=body, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read()


@pytest.mark.slow
def test_full_tmpdir_answers_scores_and_refuses_uploads_with_507(tmp_path):
    wrapper = _unshare()
    if wrapper is None:
        pytest.skip("no mount namespace here (unshare)")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    with RealServer(tmp_path / "server.log", WEB_CONCURRENCY="2", TMPDIR=str(tmpdir), RISKSERVICE_MODEL="off",
                    wrapper=[*wrapper, "sh", "-c", FILL, "sh", str(tmpdir), str(tmp_path)]) as server:
        base = server.base
        (tmp_path / "fill-now").touch()
        deadline = time.monotonic() + 20
        while not (tmp_path / "filled").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "filled").exists()
        for _ in range(6):
            status, _, body = _post(base, "/v1/score", b'{"age":52,"sex":"male","bmi":31.2}', "application/json")
            assert status == 200, body[:300]
            with urllib.request.urlopen(base + "/", timeout=10) as r:
                assert r.status == 200
        big = b"age,sex,bmi\n" + b"52,male,31.2\n" * 800_000          # 10 MB: past the in-memory spool
        status, ctype, body = _post(base, "/v1/score/batch", big, "text/csv")
        assert status == 507 and ctype == "application/problem+json", body[:300]
        boundary = "b0undary"
        part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n"
                "Content-Type: text/csv\r\n\r\n").encode() + big[:2_000_000] + f"\r\n--{boundary}--\r\n".encode()
        status, ctype, body = _post(base, "/v1/score/batch", part, f"multipart/form-data; boundary={boundary}")
        assert status == 507 and ctype == "application/problem+json", body[:300]
        small = b"age,sex,bmi\n52,male,31.2\n"
        assert _post(base, "/v1/score/batch", small, "text/csv")[0] == 200   # held in memory: still served
        with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
            assert b"riskservice_http_requests_total" in r.read()
        log = server.log_text()
    assert "SIGBUS" not in log and "WORKER TIMEOUT" not in log and "Traceback" not in log
    assert log.count("Booting worker") == 2, "a worker died and was replaced"
    assert json.dumps("52,male") not in log


def test_metrics_dir_is_checked_at_start_up(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RuntimeError, match="not a writable directory"):
        metricsdir.check(tmp_path / "file")
    metricsdir.check(tmp_path)   # a directory with room passes


def test_metrics_files_are_allocated_before_they_are_mapped(tmp_path):
    """posix_fallocate, not a sparse truncate: the blocks exist, so a write cannot SIGBUS."""
    from prometheus_client import mmap_dict
    cls = metricsdir._make_class(mmap_dict)
    d = cls(str(tmp_path / "counter_1.db"))
    for i in range(3000):   # grows past the first 64 KiB
        d.write_value(f"key-{i}-" + "x" * 40, 1.0, 0.0)
    d.close()
    st = os.stat(tmp_path / "counter_1.db")
    assert st.st_size > mmap_dict._INITIAL_MMAP_SIZE and st.st_blocks * 512 >= st.st_size
