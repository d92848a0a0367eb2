import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISS = "https://ehr.example.org"
AUD = "https://cds.example.org/cds-services"
KID = "k-384"


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def jwks(ec_key):
    jwk = json.loads(ECAlgorithm.to_jwk(ec_key.public_key()))
    jwk.update(kid=KID, alg="ES384", use="sig")
    return {"keys": [jwk]}


@pytest.fixture
def secured(fake_app, jwks):
    fake_app.config["CDS_JWT_ISSUERS"] = {ISS: {"jwks": jwks}}
    return fake_app.test_client()


def token(key, aud=AUD, iss=ISS, exp_in=300, alg="ES384", kid=KID, jti=None, **headers):
    now = int(time.time())
    claims = {"iss": iss, "aud": aud, "exp": now + exp_in, "iat": now, "jti": jti or str(uuid.uuid4())}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": "JWT", **headers})


def get(client, tok, path="/cds-services"):
    return client.get(path, headers={"Authorization": f"Bearer {tok}"} if tok else {})


def test_valid_es384_token_accepted(secured, ec_key):
    assert get(secured, token(ec_key)).status_code == 200


def test_rs384_token_accepted(fake_app):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="rsa-1")
    fake_app.config["CDS_JWT_ISSUERS"] = {ISS: {"jwks": {"keys": [jwk]}}}
    assert get(fake_app.test_client(), token(key, alg="RS384", kid="rsa-1")).status_code == 200


@pytest.mark.parametrize("kwargs", [
    {"aud": "https://cds.example.org/cds-services/ir-risk"},      # aud of another endpoint
    {"iss": "https://not-trusted.example"},
    {"exp_in": -120},
    {"kid": "unknown-kid"},
])
def test_bad_tokens_get_401_without_detail(secured, ec_key, kwargs):
    resp = get(secured, token(ec_key, **kwargs))
    # problem+json like every other error of the service, with no detail about why
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert set(resp.get_json()) == {"type", "title", "status", "instance", "request_id"}


def test_missing_token_401(secured):
    assert get(secured, None).status_code == 401


def test_replayed_jti_rejected(secured, ec_key):
    tok = token(ec_key, jti="same")
    assert get(secured, tok).status_code == 200
    assert get(secured, tok).status_code == 401


def test_hs256_and_none_rejected(secured):
    hs = jwt.encode({"iss": ISS, "aud": AUD, "exp": int(time.time()) + 60, "iat": int(time.time()),
                     "jti": "x"}, "secret" * 6, algorithm="HS256", headers={"kid": KID})
    none = jwt.encode({"iss": ISS, "aud": AUD, "exp": int(time.time()) + 60, "iat": int(time.time()),
                       "jti": "y"}, None, algorithm="none", headers={"kid": KID})
    assert get(secured, hs).status_code == 401
    assert get(secured, none).status_code == 401


def test_aud_is_the_exact_service_url(secured, ec_key):
    body = {"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-20T10:00:00Z"}]}
    tok = token(ec_key, aud="https://cds.example.org/cds-services/ir-risk/feedback")
    resp = secured.post("/cds-services/ir-risk/feedback", json=body, headers={"Authorization": f"Bearer {tok}"})
    assert resp.status_code == 200


def test_fhir_score_endpoint_not_behind_cds_jwt(secured):
    from .helpers import load_bundle
    assert secured.post("/v1/fhir/score?as_of=2026-11-20", json=load_bundle("sparse")).status_code == 200


def test_jku_only_when_allow_listed(fake_app, ec_key, jwks):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):  # noqa: N802
            data = json.dumps(jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        jku = f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json"
        fake_app.config["CDS_JWT_ISSUERS"] = {ISS: {"jku": [jku]}}
        client = fake_app.test_client()
        assert get(client, token(ec_key, jku=jku)).status_code == 200
        assert get(client, token(ec_key, jku=jku + "?other")).status_code == 401
    finally:
        httpd.shutdown()
        httpd.server_close()
