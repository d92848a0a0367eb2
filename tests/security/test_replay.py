"""Issue 22, finding 5: a CDS JWT is accepted once across workers and instances, and its lifetime
is bounded as the CDS Hooks specification says (exp at most five minutes ahead)."""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from riskservice.ehr import replay
from tests import redisserver
from tests.realserver import RealServer

ISS = "https://ehr.example.org"
BASE = "https://cds.example.org"
KID = "replay-k"
KEY = ec.generate_private_key(ec.SECP384R1())


def jwks() -> dict:
    jwk = json.loads(ECAlgorithm.to_jwk(KEY.public_key()))
    jwk.update(kid=KID, alg="ES384", use="sig")
    return {"keys": [jwk]}


def token(iat_offset: float = 0, lifetime: float = 300, jti: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + "/cds-services", "iat": int(now + iat_offset),
              "exp": int(now + iat_offset + lifetime), "jti": jti or str(uuid.uuid4())}
    return jwt.encode(claims, KEY, algorithm="ES384", headers={"kid": KID, "typ": "JWT"})


@pytest.fixture
def cds_app(tmp_path):
    """The EHR blueprint on a bare Flask app with JWT checks on (as tests/ehr's fake_app)."""
    from flask import Flask

    from riskservice.config import DEFAULTS
    from riskservice.ehr.blueprint import bp
    from tests.ehr.fakecore import FakeCore
    app = Flask("replay-test")
    app.config.from_mapping(DEFAULTS)
    app.config.update(TESTING=True, PUBLIC_BASE_URL=BASE, REPLAY_DB=str(tmp_path / "jti.sqlite3"),
                      CDS_JWT_ISSUERS={ISS: {"jwks": jwks()}})
    app.extensions["riskservice"] = FakeCore()
    app.register_blueprint(bp)
    return app


@pytest.fixture
def secured(cds_app):
    return cds_app.test_client()


def status(client, tok) -> int:
    return client.get("/cds-services", headers={"Authorization": f"Bearer {tok}"}).status_code


@pytest.mark.parametrize("iat_offset, lifetime", [
    (0, 10 * 365 * 86400),          # exp ten years ahead
    (-30 * 86400, 30 * 86400 + 60),  # iat 30 days old, exp still a minute ahead
    (3600, 300),                     # iat an hour in the future
    (0, 301 + 30),                   # exp a little more than five minutes (plus leeway) after iat
])
def test_token_lifetime_is_bounded(secured, iat_offset, lifetime):
    assert status(secured, token(iat_offset, lifetime)) == 401


def test_a_five_minute_token_is_accepted(secured):
    assert status(secured, token(0, 300)) == 200


def test_sqlite_store_is_shared_by_processes(tmp_path):
    """Two processes (a fork) racing on the same ids: each id wins exactly once."""
    path = tmp_path / "jti.sqlite3"
    replay.SqliteReplayStore(path)
    keys = [f"k{i}" for i in range(200)]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        store = replay.SqliteReplayStore(path)
        wins = sum(store.first_use(k, time.time() + 60) for k in keys)
        os.write(write, str(wins).encode())
        os._exit(0)
    store = replay.SqliteReplayStore(path)
    mine = sum(store.first_use(k, time.time() + 60) for k in keys)
    os.waitpid(pid, 0)
    theirs = int(os.read(read, 32))
    os.close(read)
    os.close(write)
    assert mine + theirs == len(keys)


def test_an_expired_id_may_be_used_again(tmp_path):
    store = replay.SqliteReplayStore(tmp_path / "jti.sqlite3")
    assert store.first_use("a", 100.0, now=50.0)
    assert not store.first_use("a", 200.0, now=99.0)
    assert store.first_use("a", 300.0, now=150.0)


def _send_many(servers, tok, n=10) -> list:
    """``tok`` sent ``n`` times, round robin over ``servers``, two at a time (so both workers of a
    server get some)."""
    results = []

    def one(base):
        req = urllib.request.Request(base + "/cds-services", headers={"Authorization": f"Bearer {tok}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                results.append(r.status)
        except urllib.error.HTTPError as exc:
            results.append(exc.code)
    for i in range(0, n, 2):
        pair = [threading.Thread(target=one, args=(servers[(i + k) % len(servers)].base,)) for k in range(2)]
        for t in pair:
            t.start()
        for t in pair:
            t.join()
    return results


def _env(**extra) -> dict:
    return {"RISKSERVICE_MODEL": "off", "WEB_CONCURRENCY": "2", "RISKSERVICE_PUBLIC_BASE_URL": BASE,
            "RISKSERVICE_CDS_JWT_ISSUERS": json.dumps({ISS: {"jwks": jwks()}}), **extra}


@pytest.mark.slow
def test_same_token_accepted_once_by_two_workers(tmp_path):
    with RealServer(tmp_path / "a.log", **_env(RISKSERVICE_REPLAY_DB=str(tmp_path / "jti.sqlite3"))) as server:
        for _ in range(3):
            results = _send_many([server], token())
            assert sorted(results) == [200] + [401] * 9, results


@pytest.mark.slow
def test_same_token_accepted_once_by_two_instances_sharing_redis(tmp_path):
    if not redisserver.available():
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with redisserver.RedisServer() as redis:
        env = _env(RISKSERVICE_REDIS_URL=redis.url, RISKSERVICE_REPLAY_DB=str(tmp_path / "unused.sqlite3"))
        with RealServer(tmp_path / "a.log", **env) as a, RealServer(tmp_path / "b.log", **env) as b:
            for _ in range(3):
                results = _send_many([a, b], token())
                assert sorted(results) == [200] + [401] * 9, results
        assert not (tmp_path / "unused.sqlite3").exists()


def test_a_store_that_cannot_answer_refuses_the_token(secured, cds_app):
    cds_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"   # nothing listens on port 1
    assert status(secured, token()) == 401
