import pytest
from flask import Flask

from riskservice.config import DEFAULTS
from riskservice.ehr.blueprint import bp

from .fakecore import FakeCore
from .helpers import ALLOWED_SERVERS


@pytest.fixture
def fake_app(tmp_path):
    """The EHR blueprint on a bare Flask app with FakeCore: adapter tests that must not depend on
    the rules' exact points. The real application is the `app` fixture of tests/conftest.py."""
    app = Flask("ehr-test")
    app.config.from_mapping(DEFAULTS)
    app.config.update(TESTING=True, PUBLIC_BASE_URL="https://cds.example.org",
                      CDS_FHIR_SERVER_ALLOWLIST=ALLOWED_SERVERS, REPLAY_DB=str(tmp_path / "jti.sqlite3"))
    app.extensions["riskservice"] = FakeCore()
    app.register_blueprint(bp)
    return app


@pytest.fixture
def fake_client(fake_app):
    return fake_app.test_client()
