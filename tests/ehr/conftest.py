import pytest
from flask import Flask

from riskservice.ehr.blueprint import bp

from .fakecore import FakeCore
from .helpers import ALLOWED_SERVERS


@pytest.fixture
def app():
    app = Flask("ehr-test")
    app.config.update(TESTING=True, PUBLIC_BASE_URL="https://cds.example.org",
                      CDS_FHIR_SERVER_ALLOWLIST=ALLOWED_SERVERS)
    app.extensions["riskservice"] = FakeCore()
    app.register_blueprint(bp)
    return app


@pytest.fixture
def client(app):
    return app.test_client()
