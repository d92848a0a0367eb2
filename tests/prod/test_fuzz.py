"""schemathesis over every operation of the published contract, in-process (WSGI).

Bounded (a few examples per operation) so the suite stays fast; the long run is
``make fuzz`` (bench/fuzz.py). Checks: no 5xx, status code documented, content type,
body and headers conform to the documented schema, problem+json errors included.

``positive_data_acceptance`` is left out on purpose: JSON Schema cannot express the
unit-dependent ranges (70 mmol/L vs 70 mg/dL) or the BMI-vs-weight/height agreement, so a
schema-valid record can rightly get a 422 that names the field.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from riskservice import create_app

pytestmark = pytest.mark.slow  # schemathesis over every operation

app = create_app({"TESTING": True})
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
EXCLUDED = [positive_data_acceptance]


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_operation_conforms(case):
    # The WSGI transport advertises requests' Accept-Encoding (gzip, br, zstd) but hands the body
    # over undecoded; compression has its own tests (tests/api/test_compression.py).
    case.call_and_validate(headers={"Accept-Encoding": "identity"}, excluded_checks=EXCLUDED)


keyed_app = create_app({"TESTING": True, "MODEL": "off", "API_KEYS": "fuzz-key"})


def test_with_api_keys_every_operation_answers_a_documented_401_or_its_probe():
    """With keys configured and none sent: 401 problem+json everywhere but the probes."""
    import json
    from pathlib import Path
    doc = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "openapi.json").read_text())
    client = keyed_app.test_client()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            r = client.open(path.replace("{service_id}", "ir-risk"), method=method.upper())
            if op.get("security") == []:
                assert r.status_code == 200, path
            else:
                assert r.status_code == 401 and "401" in op["responses"], (method, path)
                assert r.mimetype == "application/problem+json"


# Hypothesis strategies for what the schema cannot describe (tests/security/strategies.py); the
# long run with the hostile CSV variant is bench/fuzz.py (docs/fuzz.md).
from hypothesis import given  # noqa: E402

from tests.security import strategies as S  # noqa: E402
from tests.security.corpus import _bases  # noqa: E402

_BASES = _bases()
_client = app.test_client()


def _check(req):
    path, ctype, body, rows = req
    r = _client.post(path, data=body, content_type=ctype)
    problem = S.check_answer(path, r.status_code, r.content_type or "", r.get_data(), rows)
    assert problem is None, (problem, body[:300])


@given(req=S.csv_bodies(hostile=False))
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_csv_uploads_never_5xx_and_never_lose_a_row(req):
    _check(req)


@given(req=S.cds_requests(_BASES))
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_mutated_cds_calls_get_a_card_or_a_problem(req):
    _check(req)


@given(req=S.fhir_bundles(_BASES))
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_mutated_fhir_bundles_get_a_risk_assessment_or_a_problem(req):
    _check(req)


@given(req=S.raw_json_patients())
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_hand_written_json_gets_an_answer_or_a_problem(req):
    _check(req)
