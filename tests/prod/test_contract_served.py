"""The OpenAPI document covers exactly the routes the app serves, and is what /openapi.json
and /docs serve (with no asset from outside the service)."""
import json
import re
from pathlib import Path

from riskservice import create_app

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # added by Flask to every route
# The clinician's HTML pages (riskservice.web) are for people, not API clients: their errors are
# HTML pages, and tests/web checks them (including a fuzz of the form) instead of the contract.
IGNORED_BLUEPRINTS = ("web.",)


def served_operations(app) -> set:
    ops = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(IGNORED_BLUEPRINTS):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        ops |= {(path, m.lower()) for m in rule.methods - IGNORED_METHODS}
    return ops


def documented_operations(doc) -> set:
    return {(path, method) for path, item in doc["paths"].items() for method in item}


def test_every_served_route_is_documented_and_nothing_else(app):
    doc = json.loads((SCHEMAS / "openapi.json").read_text())
    assert served_operations(app) == documented_operations(doc)


def test_every_operation_documents_problem_json_errors_with_examples():
    doc = json.loads((SCHEMAS / "openapi.json").read_text())
    for path, item in doc["paths"].items():
        for method, op in item.items():
            errors = {code: r for code, r in op["responses"].items() if code[0] in "45"}
            assert errors, f"{method} {path} documents no error"
            for code, response in errors.items():
                body = response["content"]["application/problem+json"]
                assert body["schema"] == {"$ref": "#/components/schemas/Problem"}
                assert body["example"]["status"] == int(code), (path, code)


def test_openapi_json_is_the_checked_in_document(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    assert r.get_json() == json.loads((SCHEMAS / "openapi.json").read_text())


def test_docs_page_and_assets_are_local(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/docs/docs.js" in html and "/docs/docs.css" in html
    for asset, mimetype in (("/docs/docs.js", "text/javascript"), ("/docs/docs.css", "text/css")):
        r = client.get(asset)
        assert r.status_code == 200 and r.mimetype == mimetype
        html += r.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the docs page loads nothing from outside"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_model_off_app_serves_the_same_contract():
    app = create_app({"TESTING": True, "MODEL": "off"})
    assert app.test_client().get("/openapi.json").get_json() == \
        json.loads((SCHEMAS / "openapi.json").read_text())


def test_documented_request_examples_succeed(client):
    doc = json.loads((SCHEMAS / "openapi.json").read_text())
    tried = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for media, body in op.get("requestBody", {}).get("content", {}).items():
                if "example" not in body:
                    continue
                url = path.replace("{service_id}", "ir-risk")
                if isinstance(body["example"], str):
                    r = client.open(url, method=method.upper(), data=body["example"], content_type=media)
                else:
                    r = client.open(url, method=method.upper(), json=body["example"],
                                    headers={"Content-Type": media})
                text = r.get_data(as_text=True)   # read and closed, as a server would (a batch streams)
                r.close()
                assert r.status_code == 200, (path, media, text[:300])
                tried += 1
    assert tried >= 7
