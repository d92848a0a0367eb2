"""API keys (off by default; env list or hashed file; constant-time), headers, CORS, limits."""
import hashlib

import pytest

from riskservice import create_app
from riskservice.api import auth

KEY = "s3cret-key-for-tests"
OTHER = "another-key"


@pytest.fixture(scope="module")
def keyed():
    return create_app({"TESTING": True, "MODEL": "off", "API_KEYS": f"{KEY}, {OTHER}"}).test_client()


def test_auth_is_off_by_default(client, patient):
    assert client.post("/v1/score", json=patient).status_code == 200


@pytest.mark.parametrize("path", ["/v1/knowledge", "/metrics", "/openapi.json", "/docs"])
def test_without_a_key_every_endpoint_is_401_problem_json(keyed, path):
    r = keyed.get(path)
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.headers["X-Request-ID"]


def test_score_needs_the_key_and_accepts_bearer_or_x_api_key(keyed, patient):
    assert keyed.post("/v1/score", json=patient).status_code == 401
    assert keyed.post("/v1/score", json=patient, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert keyed.post("/v1/score", json=patient, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert keyed.post("/v1/score", json=patient, headers={"X-API-Key": OTHER}).status_code == 200
    assert keyed.post("/v1/score/batch", data="age,sex\n50,male\n", content_type="text/csv").status_code == 401


def test_probes_need_no_key(keyed):
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/readyz").status_code == 200


def test_unknown_route_is_401_not_404_so_routes_do_not_leak(keyed):
    assert keyed.get("/nope").status_code == 401


def test_key_file_holds_only_sha256_digests(tmp_path, patient):
    path = tmp_path / "keys"
    path.write_text(f"# ops team\nsha256:{hashlib.sha256(KEY.encode()).hexdigest()}\n\n")
    client = create_app({"TESTING": True, "MODEL": "off", "API_KEYS_FILE": str(path)}).test_client()
    assert client.post("/v1/score", json=patient, headers={"X-API-Key": KEY}).status_code == 200
    assert client.post("/v1/score", json=patient, headers={"X-API-Key": "x"}).status_code == 401


def test_key_file_with_a_clear_text_key_fails_start_up(tmp_path):
    path = tmp_path / "keys"
    path.write_text(KEY + "\n")
    with pytest.raises(auth.KeyFileError, match="not a sha256 hex digest"):
        create_app({"TESTING": True, "MODEL": "off", "API_KEYS_FILE": str(path)})


def test_keys_from_the_environment(monkeypatch, patient):
    monkeypatch.setenv("RISKSERVICE_API_KEYS", "12345")  # from_prefixed_env would make this an int
    client = create_app({"TESTING": True, "MODEL": "off"}).test_client()
    assert client.post("/v1/score", json=patient, headers={"X-API-Key": "12345"}).status_code == 200
    assert client.post("/v1/score", json=patient).status_code == 401


def test_comparison_uses_digests_in_constant_time(monkeypatch):
    calls = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    digests = [auth.digest(KEY), auth.digest(OTHER)]
    assert auth.is_authorised(digests, KEY) and not auth.is_authorised(digests, "")
    assert len(calls) == 4, "every configured digest is compared, even after a match"
    assert all(len(a) == len(b) == 32 for a, b in calls)


def test_security_headers_on_every_response(client, patient):
    for r in (client.post("/v1/score", json=patient), client.get("/healthz"), client.get("/nope")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert client.post("/v1/score", json=patient).headers["Cache-Control"] == "no-store"


def test_cors_is_off_by_default(client):
    r = client.get("/healthz", headers={"Origin": "https://ehr.example.org"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_cors_allow_list(patient):
    client = create_app({"TESTING": True, "MODEL": "off", "API_KEYS": KEY,
                         "CORS_ORIGINS": "https://ehr.example.org"}).test_client()
    pre = client.options("/v1/score", headers={"Origin": "https://ehr.example.org",
                                                "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "authorization"})
    assert pre.status_code == 204, "a preflight carries no key and must not be refused"
    assert pre.headers["Access-Control-Allow-Origin"] == "https://ehr.example.org"
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    ok = client.post("/v1/score", json=patient, headers={"Origin": "https://ehr.example.org", "X-API-Key": KEY})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://ehr.example.org"
    assert "X-Request-ID" in ok.headers["Access-Control-Expose-Headers"]
    other = client.post("/v1/score", json=patient, headers={"Origin": "https://evil.example", "X-API-Key": KEY})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_limits_body_size_and_json_depth():
    client = create_app({"TESTING": True, "MODEL": "off", "MAX_CONTENT_LENGTH": 1000}).test_client()
    big = client.post("/v1/score", data="{" + " " * 2000 + "}", content_type="application/json")
    assert big.status_code == 413 and big.mimetype == "application/problem+json"
    deep = client.post("/v1/score", data="[" * 50 + "]" * 50, content_type="application/json")
    assert deep.status_code == 400 and "nested deeper" in deep.get_json()["detail"]


def test_batch_row_limit():
    client = create_app({"TESTING": True, "MODEL": "off", "BATCH_MAX_ROWS": 2}).test_client()
    r = client.post("/v1/score/batch", data="age,sex\n50,male\n51,male\n52,male\n", content_type="text/csv")
    assert r.status_code == 413 and r.mimetype == "application/problem+json"


def test_hash_api_key_cli_output_is_accepted_by_the_key_file(tmp_path, patient, runner):
    from riskservice.cli import main
    result = runner.invoke(main, ["hash-api-key"], input=KEY + "\n")
    assert result.exit_code == 0 and KEY not in result.output
    path = tmp_path / "keys"
    path.write_text(result.output)
    client = create_app({"TESTING": True, "MODEL": "off", "API_KEYS_FILE": str(path)}).test_client()
    assert client.post("/v1/score", json=patient, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_cds_cors_origins_apply_to_cds_hooks_only(app, client):
    app.config["CDS_CORS_ORIGINS"] = ["https://sandbox.cds-hooks.org"]
    try:
        origin = {"Origin": "https://sandbox.cds-hooks.org"}
        assert client.get("/cds-services", headers=origin).headers["Access-Control-Allow-Origin"] == origin["Origin"]
        assert "Access-Control-Allow-Origin" not in client.get("/healthz", headers=origin).headers
    finally:
        app.config["CDS_CORS_ORIGINS"] = None


def test_cds_hooks_use_their_jwt_not_the_api_key(patient):
    issuers = {"https://ehr.example.org": {"jwks": {"keys": []}}}
    client = create_app({"TESTING": True, "MODEL": "off", "API_KEYS": KEY, "PUBLIC_BASE_URL": "https://cds.example.org",
                         "CDS_JWT_ISSUERS": issuers}).test_client()
    r = client.get("/cds-services", headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"  # refused by the JWT check
    assert client.post("/v1/score", json=patient, headers={"X-API-Key": KEY}).status_code == 200
    keyed = create_app({"TESTING": True, "MODEL": "off", "API_KEYS": KEY}).test_client()
    assert keyed.get("/cds-services").status_code == 401
    assert keyed.get("/cds-services", headers={"X-API-Key": KEY}).status_code == 200


def test_cds_bodies_get_the_json_depth_limit(client):
    r = client.post("/cds-services/ir-risk", data="[" * 5000 + "]" * 5000, content_type="application/json")
    assert r.status_code == 400 and "nested deeper" in r.get_json()["detail"]
