"""The cookie session is skipped for cookie-less API calls and works as before otherwise."""
from flask.sessions import SecureCookieSessionInterface

from riskservice.api.sessions import CookieFirstSessionInterface


def test_no_cookie_no_serializer(app, monkeypatch):
    iface = app.session_interface
    assert isinstance(iface, CookieFirstSessionInterface)
    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer",
                        lambda *a: (_ for _ in ()).throw(AssertionError("serializer built")))
    with app.test_request_context("/v1/score", method="POST"):
        from flask import request
        session = iface.open_session(app, request)
        assert session is not None and dict(session) == {} and not session.modified


def test_a_signed_cookie_round_trips(app):
    iface = app.session_interface
    with app.test_request_context("/"):
        from flask import request
        session = iface.open_session(app, request)
        session["k"] = "v"
        value = iface.get_signing_serializer(app).dumps(dict(session))
    with app.test_request_context("/", headers={"Cookie": f"{iface.get_cookie_name(app)}={value}"}):
        from flask import request
        assert iface.open_session(app, request)["k"] == "v"
    with app.test_request_context("/", headers={"Cookie": f"{iface.get_cookie_name(app)}=forged"}):
        from flask import request
        assert dict(iface.open_session(app, request)) == {}
