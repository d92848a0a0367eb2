"""``python -m riskservice.deploy.serve`` (``make serve-prod``, the Dockerfile): nginx in front of gunicorn.

gunicorn (riskservice/gunicorn_conf.py) listens on loopback only (``UPSTREAM_PORT``, default
``PORT + 1``); nginx, with the shipped configuration (riskservice/deploy/nginx.conf, rendered into a
runtime directory), listens on ``HOST:PORT`` and buffers every request and answer. Both run in
the foreground; SIGTERM or SIGINT stops both, and when either exits the other is stopped too.
nginx is Debian's package (``apt-get install nginx``); ``NGINX`` names another binary.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TEMPLATE = Path(__file__).with_name("nginx.conf")
TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_binary() -> str | None:
    found = os.environ.get("NGINX") or shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def render(listen: str, upstream: str, batch_max_body: int | str = "256m") -> str:
    """The shipped configuration with its {{...}} values filled in. As root, nginx's workers run as
    ``nobody``/``nogroup`` (Debian has no group ``nobody``, nginx's default)."""
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in {"user": user, "listen": listen, "upstream": upstream,
                       "batch_max_body": str(batch_max_body)}.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def prepare(runtime: Path, listen: str, upstream: str, batch_max_body: int | str = "256m") -> Path:
    """Write the configuration and nginx's temporary directories under ``runtime``; the path of
    the configuration."""
    runtime.mkdir(parents=True, exist_ok=True)
    for name in TEMP_DIRS:
        (runtime / "tmp" / name).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:   # the workers (nobody) write request bodies and spooled answers there
        nobody = pwd.getpwnam("nobody")
        for path in [runtime / "tmp", *[runtime / "tmp" / n for n in TEMP_DIRS]]:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        os.chmod(runtime, 0o755)
    conf = runtime / "nginx.conf"
    conf.write_text(render(listen, upstream, batch_max_body), encoding="utf-8")
    return conf


def start_nginx(runtime: Path, conf: Path, **popen) -> subprocess.Popen:
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx)")
    return subprocess.Popen([binary, "-p", str(runtime), "-c", str(conf), "-e", "stderr",
                             "-g", "daemon off;"], **popen)


def wait_http(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}") from None
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def main() -> int:
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8000"))
    upstream_port = int(os.environ.get("UPSTREAM_PORT", port + 1))
    runtime = Path(os.environ.get("NGINX_RUNTIME_DIR") or tempfile.mkdtemp(prefix="riskservice-nginx-"))
    batch_bytes = os.environ.get("RISKSERVICE_BATCH_MAX_BYTES", "268435456")
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    conf = prepare(runtime, listen, f"127.0.0.1:{upstream_port}", batch_bytes)
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(upstream_port)}
    gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:riskservice.gunicorn_conf",
                                 "riskservice:create_app()"], env=env)
    procs = [gunicorn]
    signalled = []

    def stop(signum=None, frame=None):
        if signum is not None:
            signalled.append(signum)
        for p in procs:   # graceful: gunicorn on SIGTERM, nginx on SIGQUIT
            if p.poll() is None:
                p.send_signal(signal.SIGTERM if p is gunicorn else signal.SIGQUIT)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        wait_http(f"http://127.0.0.1:{upstream_port}/healthz", gunicorn)
        if not signalled:
            procs.append(start_nginx(runtime, conf))
            print(f"riskservice: nginx on http://{listen} in front of gunicorn on 127.0.0.1:{upstream_port}",
                  file=sys.stderr, flush=True)
        while not signalled and all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except RuntimeError as exc:
        print(f"riskservice: {exc}", file=sys.stderr)
    finally:
        stop()
        for p in procs:
            try:
                p.wait(timeout=35)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if "NGINX_RUNTIME_DIR" not in os.environ:
            shutil.rmtree(runtime, ignore_errors=True)
    return 0 if signalled else max(p.returncode or 0 for p in procs) or 1

if __name__ == "__main__":
    sys.exit(main())
