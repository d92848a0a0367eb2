"""Issue 22, findings 9 and 13: a SMART callback has one total deadline; its redirect_uri never comes from
the Host header; the launch cookie holding the PKCE verifier is encrypted, and Secure over https."""
from __future__ import annotations

import base64
import re
import time

import pytest
from itsdangerous import BadSignature

from riskservice import create_app
from riskservice.web import smart
from tests.security.servers import LocalServer

ISS = "https://ehr.example.org/fhir"


def _app(**config):
    return create_app({"TESTING": True, "MODEL": "off", "SMART_ISSUERS": ISS, **config})


def test_all_calls_of_a_callback_share_one_deadline():
    with LocalServer("slow", drip=0.5) as fhir:   # headers, then one byte every 0.5 s, forever
        settings = smart.Settings(issuers=(fhir.base,), auth_origins=(), client_id="c", scopes="", timeout=10.0,
                                  deadline=time.monotonic() + 1.5)
        started = time.monotonic()
        with pytest.raises(smart.LaunchError):
            smart._call(settings, "GET", fhir.url("/fhir/Patient/1"))
        assert time.monotonic() - started < 4   # the budget (1.5 s), not the per-call 10 s
        with pytest.raises(smart.LaunchError) as spent:   # every later call: at once, 504
            smart._call(settings, "GET", fhir.url("/fhir/Observation"))
        assert spent.value.status == 504


def test_the_budget_comes_from_the_configuration():
    app = _app(SMART_TOTAL_SECONDS=7)
    settings = smart.Settings.from_config(app.config)
    assert 6 < settings.deadline - time.monotonic() <= 7


def test_redirect_uri_never_comes_from_the_host_header():
    from riskservice.web.views import _redirect_uri
    app = _app()
    with app.test_request_context("/launch", base_url="http://127.0.0.1:8000", headers={"Host": "evil.example"}):
        assert _redirect_uri() == "http://127.0.0.1:8000/launch/callback"   # loopback: its own address
    with app.test_request_context("/launch", base_url="http://0.0.0.0:8000", headers={"Host": "evil.example"}):
        with pytest.raises(smart.LaunchError) as refused:                  # not loopback: must be configured
            _redirect_uri()
        assert refused.value.status == 503 and "PUBLIC_BASE_URL" in refused.value.reason
    app = _app(PUBLIC_BASE_URL="https://cds.example.org")
    with app.test_request_context("/launch", base_url="http://0.0.0.0:8000", headers={"Host": "evil.example"}):
        assert _redirect_uri() == "https://cds.example.org/launch/callback"


def test_the_launch_cookie_is_encrypted_and_secure_over_https():
    app = _app(PUBLIC_BASE_URL="https://cds.example.org", SECRET_KEY="k" * 32)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    serializer = app.session_interface.get_signing_serializer(app)
    token = serializer.dumps({"smart": {"code_verifier": "VERIFIER-1234567890", "state": "STATE-XYZ"}})
    readable = token + "\n" + base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("latin-1")
    assert "VERIFIER-1234567890" not in readable and "STATE-XYZ" not in readable
    assert serializer.loads(token)["smart"]["state"] == "STATE-XYZ"
    with pytest.raises(BadSignature):
        serializer.loads(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    with app.test_request_context("/"):
        from flask import session
        session["smart"] = {"code_verifier": "VERIFIER-1234567890"}
        response = app.make_response("x")
        app.session_interface.save_session(app, session, response)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "VERIFIER" not in cookie
    assert re.search(r"SameSite=Lax", cookie)
