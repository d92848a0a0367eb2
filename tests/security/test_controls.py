"""Controls of issue 12 that are not a single request: start-up refusals, knowledge meaning checks,
the Host header, error handlers and logs, and the CDS fetch path against slow and local servers."""
from __future__ import annotations

import json
import logging
import time

import pytest
from click.testing import CliRunner

from riskservice import create_app
from riskservice.config import DEFAULTS
from riskservice.core.errors import KnowledgeError
from riskservice.core.knowledge import load_knowledge

from .servers import LocalServer


def _edit(directory, name, change):
    path = directory / f"{name}.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


# ------------------------------------------------------------------ knowledge meaning

def test_bmi_bounds_upside_down_fail_load_check_knowledge_and_start_up(knowledge_copy):
    _edit(knowledge_copy, "units", lambda d: d["quantities"]["bmi"].update(bounds=[90, 12]))
    with pytest.raises(KnowledgeError, match=r"units.json bmi: bounds \[90, 12\]"):
        load_knowledge(knowledge_copy)
    from riskservice.cli import main
    result = CliRunner().invoke(main, ["check-knowledge", str(knowledge_copy)])
    assert result.exit_code != 0 and "bounds [90, 12]" in result.output
    with pytest.raises(KnowledgeError):
        create_app({"TESTING": True, "MODEL": "off", "KNOWLEDGE_DIR": str(knowledge_copy)})


def test_band_edge_outside_the_bounds_fails(knowledge_copy):
    _edit(knowledge_copy, "units", lambda d: d["quantities"]["bmi"].update(bounds=[12, 25]))
    with pytest.raises(KnowledgeError, match=r"factors.json bmi band .*lies outside the bounds"):
        load_knowledge(knowledge_copy)


def test_factor_unit_not_convertible_fails(knowledge_copy):
    def change(doc):
        next(f for f in doc["factors"] if f["id"] == "waist")["unit"] = "furlong"
    _edit(knowledge_copy, "factors", change)
    with pytest.raises(KnowledgeError, match="unit 'furlong' is not a unit of waist"):
        load_knowledge(knowledge_copy)


@pytest.mark.parametrize("conv", [{"factor": 0}, {"factor": -2.54}, {"factor": 2.54, "offset": 1e400}])
def test_conversion_factor_must_be_positive_and_finite(knowledge_copy, conv):
    _edit(knowledge_copy, "units", lambda d: d["quantities"]["waist"]["units"].update({"[in_i]": conv}))
    with pytest.raises(KnowledgeError, match=r"(?s)units.json.*waist.*\[in_i\]"):  # schema or meaning check
        load_knowledge(knowledge_copy)


def test_start_up_refused_when_the_probe_patient_cannot_be_scored(monkeypatch):
    from riskservice.core import scoring

    def broken(self, *a, **k):
        raise ValueError("broken knowledge")
    monkeypatch.setattr(scoring.Scorer, "score", broken)
    with pytest.raises(KnowledgeError, match="refusing to start: scoring the probe patient failed"):
        create_app({"TESTING": True, "MODEL": "off"})


# ------------------------------------------------------------------ configuration, Host header

def test_jwt_without_public_base_url_fails_start_up():
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app({"TESTING": True, "MODEL": "off", "CDS_JWT_ISSUERS": {"https://ehr.example.org": {"jwks": {"keys": []}}}})


def test_jwt_for_the_attackers_host_is_refused():
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k")
    app = create_app({"TESTING": True, "MODEL": "off", "PUBLIC_BASE_URL": "https://cds.example.org",
                      "CDS_JWT_ISSUERS": {"https://ehr.example.org": {"jwks": {"keys": [jwk]}}}})

    def tok(aud):
        now = int(time.time())
        return jwt.encode({"iss": "https://ehr.example.org", "aud": aud, "exp": now + 60, "iat": now,
                           "jti": f"{aud}-{now}-{time.monotonic()}"}, key, algorithm="ES384", headers={"kid": "k"})
    client = app.test_client()
    evil = {"Host": "evil.example", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}
    r = client.get("/cds-services", headers={"Authorization": f"Bearer {tok('http://evil.example/cds-services')}", **evil})
    assert r.status_code == 401
    r = client.get("/cds-services", headers={"Authorization": f"Bearer {tok('https://cds.example.org/cds-services')}", **evil})
    assert r.status_code == 200


def test_without_public_base_url_cards_carry_no_guessed_link():
    from tests.ehr.helpers import hook_request, prefetch_for
    client = create_app({"TESTING": True, "MODEL": "off"}).test_client()
    r = client.post("/cds-services/ir-risk", json=hook_request("complete", prefetch=prefetch_for("complete")),
                    headers={"Host": "evil.example"})
    assert r.status_code == 200 and "evil.example" not in r.get_data(as_text=True)
    assert "url" not in r.get_json()["cards"][0]["source"]


# ------------------------------------------------------------------ error handlers and logs

def test_a_validation_error_naming_a_lone_surrogate_key_is_a_422_not_a_500(app):
    from riskservice.api.errors import validation_response
    from riskservice.core.errors import ValidationProblem
    with app.test_request_context("/v1/score"):
        resp = validation_response(ValidationProblem({"\udc00": ["Unknown field."]}))
    assert resp.status_code == 422 and "\ufffd" in json.loads(resp.get_data())["errors"]


def test_unexpected_exception_logged_as_json_with_type_and_stack_never_the_message(capsys):
    app = create_app({"TESTING": True, "MODEL": "off"})

    @app.get("/boom")
    def boom():
        raise ValueError("patient weight 123.456 kg")
    r = app.test_client().get("/boom")
    assert r.status_code == 500 and r.mimetype == "application/problem+json"
    line = next(json.loads(x) for x in capsys.readouterr().out.splitlines() if '"riskservice.errors"' in x)
    assert line["error_type"] == "ValueError" and any("test_controls.py" in f and "boom" in f for f in line["stack"])
    assert "123.456" not in json.dumps(line)


def test_log_formatter_survives_a_lone_surrogate(capsys):
    from riskservice.api.accesslog import JsonFormatter
    record = logging.LogRecord("riskservice.x", logging.INFO, __file__, 1, "instance=%s", ("\ud800",), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "instance=\ufffd"


# ------------------------------------------------------------------ CDS fetch through the outbound policy

def _hook(server_base, drop=("labs",)):
    from tests.ehr.helpers import hook_request, prefetch_for, strip_keys
    return hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), *drop), fhirServer=server_base,
                        fhirAuthorization={"access_token": "secret-token-123", "token_type": "Bearer",
                                           "expires_in": 300, "scope": "patient/*.read", "subject": "rs"})


def test_slow_fhir_server_costs_at_most_the_budget():
    """One byte every 0.3 s from an allow-listed server: the call ends at the 1 s per-GET
    deadline and the 1.5 s budget, the card says which data are missing."""
    with LocalServer("slow", drip=0.3) as s:
        app = create_app({"TESTING": True, "MODEL": "off", "PUBLIC_BASE_URL": "https://cds.example.org",
                          "CDS_FHIR_SERVER_ALLOWLIST": [s.base + "/fhir"], "CDS_FHIR_READ_TIMEOUT": 1.0,
                          "CDS_FHIR_TOTAL_SECONDS": 1.5})
        started = time.monotonic()
        r = app.test_client().post("/cds-services/ir-risk", json=_hook(s.base + "/fhir", drop=("labs", "conditions")))
        elapsed = time.monotonic() - started
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "did not supply:** labs, conditions" in r.get_json()["cards"][0]["detail"]
    assert len(s.requests) == 1   # unreachable after the deadline: the other query is skipped
    assert elapsed < 6            # bounded by the 1 s deadline (generous for a loaded machine)


def test_local_fhir_server_not_allow_listed_gets_no_request_and_no_token():
    with LocalServer() as s:
        app = create_app({"TESTING": True, "MODEL": "off", "PUBLIC_BASE_URL": "https://cds.example.org"})
        r = app.test_client().post("/cds-services/ir-risk", json=_hook(s.base + "/fhir"))
        assert r.status_code == 200 and s.requests == []


def test_allow_listed_fhir_server_cannot_redirect_to_another_host():
    with LocalServer("redirect") as s:
        app = create_app({"TESTING": True, "MODEL": "off", "PUBLIC_BASE_URL": "https://cds.example.org",
                          "CDS_FHIR_SERVER_ALLOWLIST": [s.base + "/fhir"]})
        r = app.test_client().post("/cds-services/ir-risk", json=_hook(s.base + "/fhir"))
    assert r.status_code == 200 and "did not supply:** labs" in r.get_json()["cards"][0]["detail"]
    assert [p for p, _ in s.requests if p.startswith("/elsewhere")] == []


def test_jwks_fetch_goes_through_the_outbound_policy(monkeypatch):
    from riskservice.ehr import outbound, security
    seen = []
    real = outbound.get

    def spy(url, **kw):
        seen.append((url, kw["policy"]))
        return real(url, **kw)
    monkeypatch.setattr(outbound, "get", spy)
    security._jwks_cache.clear()
    with LocalServer("big", size=2_000_000) as s, pytest.raises(outbound.OutboundError, match="size cap"):
        security._fetch_jwks(s.url("/jwks.json"), [s.url("/jwks.json")], {**DEFAULTS, "OUTBOUND_MAX_BYTES": 1_000_000})
    assert seen and seen[0][1].allowlist == (s.url("/jwks.json"),)


def test_specific_fhir_errors_keep_their_message_through_the_shape_guard():
    from tests.ehr.helpers import load_bundle
    client = create_app({"TESTING": True, "MODEL": "off"}).test_client()
    bundle = dict(load_bundle("complete"), type="document")
    r = client.post("/v1/fhir/score?as_of=2026-11-20", json=bundle)
    assert r.status_code == 400 and "unsupported Bundle.type" in r.get_json()["detail"]
