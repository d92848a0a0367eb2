import copy
import shutil

import pytest
from click.testing import CliRunner

from riskservice import create_app
from riskservice.core.knowledge import default_dir, load_knowledge
from riskservice.core.scoring import Scorer

ACCEPTANCE_PATIENT = {
    "age": 52, "sex": "male", "bmi": 31.2, "waist": 104, "mvpa_minutes_per_week": 30,
    "family_history_diabetes": "first_degree", "hs_crp": 4.1, "medications": ["prednisolone"],
    "fasting": True, "fasting_glucose": 104, "fasting_glucose_unit": "mg/dL", "fasting_insulin": 14,
    "fasting_insulin_unit": "uU/mL",
    "hs_crp_unit": "mg/L",
    "triglycerides": 180, "hdl_cholesterol": 38,
}


@pytest.fixture(scope="session", autouse=True)
def _replay_db(tmp_path_factory):
    """Used CDS JWT ids go to a file of this test run (the app's own and every real server's),
    never to the checkout's instance folder."""
    import os
    os.environ.setdefault("RISKSERVICE_REPLAY_DB", str(tmp_path_factory.mktemp("replay") / "jti.sqlite3"))


@pytest.fixture(scope="session")
def kb():
    return load_knowledge()


@pytest.fixture(scope="session")
def scorer(kb):
    """Rules-only scorer (no model): the core without any adapter."""
    return Scorer(kb)


@pytest.fixture(scope="session")
def model():
    """The shipped dysglycaemia model."""
    from riskservice.app import default_model_dir
    from riskservice.model import load_model
    return load_model(default_model_dir(), role="dysglycaemia")


@pytest.fixture(scope="session")
def models():
    """Every shipped model (one per role), as the service loads them."""
    from riskservice.app import default_model_dir
    from riskservice.model import load_models
    return load_models(default_model_dir())


@pytest.fixture(scope="session")
def two_model_dir():
    """The shipped models directory: the insulin-resistance model beside the dysglycaemia model."""
    from riskservice.app import default_model_dir
    return default_model_dir()


@pytest.fixture(scope="session")
def two_models(two_model_dir):
    from riskservice.model import load_models
    return load_models(two_model_dir)


@pytest.fixture(scope="session")
def full_scorer(kb, models):
    """Rules plus the shipped models, as the service runs by default."""
    return Scorer(kb, model=models)


@pytest.fixture(scope="session")
def two_model_scorer(kb, two_models):
    """Rules plus both shipped models."""
    return Scorer(kb, model=two_models)


@pytest.fixture(scope="session")
def app():
    """The real application with its defaults (shipped knowledge and model). Shared by the whole
    session: a test that needs other configuration calls create_app with it."""
    return create_app({"TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner():
    """Click runner for the `riskservice` command line (in process, no subprocess)."""
    return CliRunner()


@pytest.fixture()
def patient():
    return copy.deepcopy(ACCEPTANCE_PATIENT)


@pytest.fixture()
def knowledge_copy(tmp_path):
    """A writable copy of the shipped knowledge directory, for breaking on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(default_dir(), target)
    return target
