"""Shared test helpers for the EHR adapter tests."""
from __future__ import annotations

import copy
import json
import pathlib
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema

from riskservice.ehr import cds_hooks, fhir_in
from tests.paths import CDS_RESPONSE_SCHEMA

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
PATIENTS = ["complete", "sparse", "molar", "duplicates", "unknown"]
# The test apps use this very list as CDS_FHIR_SERVER_ALLOWLIST: a running FhirServer adds its base
# URL, so the operator allow-list is exercised rather than bypassed.
ALLOWED_SERVERS: list[str] = []


def load_bundle(name: str) -> dict:
    return json.loads((FIXTURES / f"bundle-{name}.json").read_text())


def resources(name: str) -> list[dict]:
    return [e["resource"] for e in load_bundle(name)["entry"]]


def patient_id(name: str) -> str:
    return next(r["id"] for r in resources(name) if r["resourceType"] == "Patient")


def _searchset(items: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(items),
            "entry": [{"fullUrl": f"http://ehr.example/fhir/{r['resourceType']}/{r['id']}", "resource": r,
                       "search": {"mode": "match"}} for r in items]}


def _obs_key(obs: dict) -> str | None:
    t = fhir_in.tables()
    for c in obs.get("code", {}).get("coding", []):
        concept = t.observation_concept(c)
        if concept:
            return "labs" if concept["category"] == "lab" else "anthropometry"
    return None


def prefetch_for(name: str) -> dict:
    """What an EHR would send for our discovery templates (code-filtered Observation searches)."""
    res = resources(name)
    pid = patient_id(name)
    mine = [r for r in res if (r.get("subject") or r.get("patient") or {}).get("reference", f"Patient/{pid}") == f"Patient/{pid}"]
    by = lambda t: [r for r in mine if r["resourceType"] == t]  # noqa: E731
    return {
        "patient": next(r for r in res if r["resourceType"] == "Patient"),
        "anthropometry": _searchset([o for o in by("Observation") if _obs_key(o) == "anthropometry"]),
        "labs": _searchset([o for o in by("Observation") if _obs_key(o) == "labs"]),
        "conditions": _searchset(by("Condition")),
        "medicationRequests": _searchset([m for m in by("MedicationRequest") if m["status"] == "active"]),
        "medicationStatements": _searchset([m for m in by("MedicationStatement") if m["status"] == "active"]),
        "familyHistory": _searchset(by("FamilyMemberHistory")),
    }


def hook_request(name: str, hook: str = "patient-view", prefetch: dict | None = None, **extra) -> dict:
    body = {"hook": hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/example", "patientId": patient_id(name)},
            "extension": {"org.riskservice.as_of": "2026-11-20"}}
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(extra)
    return body


def assert_valid_cds_response(body: dict) -> None:
    problems = cds_hooks.response_problems(body)
    assert problems == [], problems
    # also against the vendored contract itself (tests/vendor/cds-hooks), not only the packaged copy
    jsonschema.validate(body, json.loads(CDS_RESPONSE_SCHEMA.read_text()),
                        cls=jsonschema.Draft202012Validator)


class FhirServer:
    """A real HTTP FHIR server on 127.0.0.1 serving one fixture patient (search + read),
    paging searches by ``page_size`` and requiring a bearer token."""

    def __init__(self, name: str, token: str = "test-token", page_size: int = 4, fail_types: tuple = ()):
        self.res = resources(name)
        self.token = token
        self.page_size = page_size
        self.fail_types = fail_types
        self.requests: list[str] = []
        self.auth_headers: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):  # noqa: N802
                server.requests.append(self.path)
                server.auth_headers.append(self.headers.get("Authorization"))
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self._send(401, {"resourceType": "OperationOutcome",
                                            "issue": [{"severity": "error", "code": "login"}]})
                status, body = server.handle(self.path)
                self._send(status, body)

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        ALLOWED_SERVERS.append(self.base)
        return self

    def __exit__(self, *exc):
        ALLOWED_SERVERS.remove(self.base)
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def handle(self, path: str):
        parsed = urllib.parse.urlsplit(path)
        parts = parsed.path.split("/")[2:]          # after /fhir
        query = urllib.parse.parse_qs(parsed.query)
        rtype = parts[0] if parts else ""
        if rtype in self.fail_types:
            return 500, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
        if len(parts) == 2:
            for r in self.res:
                if r["resourceType"] == rtype and r["id"] == parts[1]:
                    return 200, r
            return 404, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
        pid = (query.get("patient") or [""])[0]
        items = [r for r in self.res if r["resourceType"] == rtype
                 and (r.get("subject") or r.get("patient") or {}).get("reference") == f"Patient/{pid}"]
        if "code" in query:
            wanted = {tuple(c.split("|", 1)) for c in query["code"][0].split(",")}
            items = [r for r in items if any((c.get("system"), c.get("code")) in wanted
                                             for c in r.get("code", {}).get("coding", []))]
        if "status" in query:
            items = [r for r in items if r.get("status") == query["status"][0]]
        offset = int((query.get("_offset") or ["0"])[0])
        page = items[offset:offset + self.page_size]
        bundle = _searchset(page)
        bundle["total"] = len(items)
        if offset + self.page_size < len(items):
            q = dict((k, v[0]) for k, v in query.items())
            q["_offset"] = str(offset + self.page_size)
            bundle["link"] = [{"relation": "next",
                               "url": f"{self.base}/{rtype}?{urllib.parse.urlencode(q)}"}]
        return 200, bundle


def strip_keys(prefetch: dict, *keys: str) -> dict:
    p = copy.deepcopy(prefetch)
    for k in keys:
        p.pop(k, None)
    return p
