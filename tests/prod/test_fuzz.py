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
