"""A small but real test EHR: a SMART authorization server and a FHIR server on 127.0.0.1.

Built from ``tests/ehr/fixtures``: the "complete" patient (the default) and the "history" patient
(four visits of dated observations, for the trend). It checks what a real EHR checks (registered client and
redirect URI, ``aud``, the EHR ``launch`` token, S256 PKCE at the token endpoint, one-time
codes, bearer tokens on every FHIR read) and pages search results, so the app's SMART client
is exercised end to end. Sign-in is skipped: the "user" approves at once.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.parse
from pathlib import Path

from flask import Flask, abort, jsonify, redirect, request
from werkzeug.serving import make_server

FIXTURES = Path(__file__).resolve().parent.parent / "ehr" / "fixtures"
PAGE_SIZE = 10


def load_resources(name: str) -> list[dict]:
    bundle = json.loads((FIXTURES / f"bundle-{name}.json").read_text(encoding="utf-8"))
    return [e["resource"] for e in bundle["entry"]]


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class LocalEhr:
    def __init__(self, fixtures: tuple = ("complete", "history"), client_id: str = "riskservice"):
        self.by_patient: dict[str, list[dict]] = {}
        for name in fixtures:
            found = load_resources(name)
            self.by_patient[next(r["id"] for r in found if r["resourceType"] == "Patient")] = found
        self.patient_id = next(iter(self.by_patient))   # the default patient (standalone launch too)
        self.resources = self.by_patient[self.patient_id]
        self.all_resources = [r for found in self.by_patient.values() for r in found]
        self.client_id = client_id
        self.redirect_uris: set[str] = set()
        self.launches: dict[str, str] = {}   # launch token -> patient id
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}     # access token -> patient id
        self.log: list[tuple[str, str]] = []  # (what, detail) for assertions
        self.app = self._build()
        self._server = None
        self.base = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> LocalEhr:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def fhir_base(self) -> str:
        return f"{self.base}/fhir"

    def new_launch(self, patient_id: str | None = None) -> str:
        token = secrets.token_urlsafe(16)
        self.launches[token] = patient_id or self.patient_id
        return token

    # -- the servers -----------------------------------------------------------------------
    def _build(self) -> Flask:
        app = Flask("test-ehr")
        ehr = self

        @app.get("/ehr/chart")
        def chart():
            """The EHR's own page with the app link, as an EHR renders it for a patient."""
            app_url = request.args["app"]
            patient = request.args.get("patient", ehr.patient_id)
            if patient not in ehr.by_patient:
                abort(404)
            launch = ehr.new_launch(patient)
            link = app_url + "?" + urllib.parse.urlencode({"iss": ehr.fhir_base, "launch": launch})
            return (f'<!doctype html><html lang="en"><head><title>Test EHR chart</title></head><body><main>'
                    f'<h1>Test EHR: patient chart</h1><p><a id="open-app" href="{link}">Open insulin-resistance '
                    f'risk factors</a></p></main></body></html>')

        @app.get("/fhir/.well-known/smart-configuration")
        def smart_configuration():
            return jsonify({
                "issuer": ehr.base,
                "authorization_endpoint": f"{ehr.base}/auth/authorize",
                "token_endpoint": f"{ehr.base}/auth/token",
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["S256"],
                "capabilities": ["launch-ehr", "launch-standalone", "client-public", "context-ehr-patient",
                                 "context-standalone-patient", "permission-v2"],
                "scopes_supported": ["launch", "launch/patient", "openid", "fhirUser", "patient/*.rs"],
            })

        @app.get("/auth/authorize")
        def authorize():
            a = request.args
            ehr.log.append(("authorize", a.get("scope", "")))
            problems = []
            if a.get("response_type") != "code":
                problems.append("response_type")
            if a.get("client_id") != ehr.client_id:
                problems.append("client_id")
            if a.get("aud") != ehr.fhir_base:
                problems.append("aud")
            if a.get("code_challenge_method") != "S256" or len(a.get("code_challenge", "")) < 43:
                problems.append("pkce")
            if not a.get("state") or not a.get("redirect_uri"):
                problems.append("state/redirect_uri")
            scopes = a.get("scope", "").split()
            if "launch" in scopes:
                patient = ehr.launches.pop(a.get("launch", ""), None)
                if patient is None:
                    problems.append("launch")
            elif "launch/patient" in scopes:
                patient = ehr.patient_id  # the standalone patient picker, answered at once
            else:
                problems.append("scope")
            if problems:
                return f"bad authorization request: {', '.join(problems)}", 400
            code = secrets.token_urlsafe(24)
            ehr.codes[code] = {"challenge": a["code_challenge"], "redirect_uri": a["redirect_uri"],
                               "patient": patient, "scope": a.get("scope")}
            sep = "&" if "?" in a["redirect_uri"] else "?"
            return redirect(a["redirect_uri"] + sep + urllib.parse.urlencode({"code": code, "state": a["state"]}))

        @app.post("/auth/token")
        def token():
            f = request.form
            grant = ehr.codes.pop(f.get("code", ""), None)  # one-time codes
            ehr.log.append(("token", "code ok" if grant else "bad code"))
            if grant is None or f.get("grant_type") != "authorization_code":
                return jsonify({"error": "invalid_grant"}), 400
            if f.get("redirect_uri") != grant["redirect_uri"] or f.get("client_id") != ehr.client_id:
                return jsonify({"error": "invalid_client"}), 400
            if s256(f.get("code_verifier", "")) != grant["challenge"]:
                ehr.log.append(("token", "pkce mismatch"))
                return jsonify({"error": "invalid_grant", "error_description": "PKCE verification failed"}), 400
            ehr.log.append(("token", "pkce ok"))
            access = secrets.token_urlsafe(24)
            ehr.tokens[access] = grant["patient"]
            return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": 300,
                            "scope": grant["scope"], "patient": grant["patient"]})

        def _authorised_patient() -> str:
            header = request.headers.get("Authorization", "")
            patient = ehr.tokens.get(header[7:]) if header.startswith("Bearer ") else None
            if patient is None:
                abort(401)
            return patient

        @app.get("/fhir/Patient/<pid>")
        def read_patient(pid):
            patient = _authorised_patient()
            ehr.log.append(("read", "Patient"))
            if pid != patient:
                abort(403)
            return jsonify(next(r for r in ehr.by_patient[pid] if r["resourceType"] == "Patient"))

        @app.get("/fhir/<rtype>")
        def search(rtype):
            patient = _authorised_patient()
            if request.args.get("patient") != patient:
                abort(403)
            ehr.log.append(("search", rtype))
            ref = f"Patient/{patient}"
            matches = [r for r in ehr.all_resources if r["resourceType"] == rtype
                       and (r.get("subject") or r.get("patient") or {}).get("reference") == ref]
            page = int(request.args.get("_page", "0"))
            chunk = matches[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
            bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(matches),
                      "entry": [{"fullUrl": f"{ehr.fhir_base}/{rtype}/{r['id']}", "resource": r,
                                 "search": {"mode": "match"}} for r in chunk]}
            if (page + 1) * PAGE_SIZE < len(matches):
                query = urllib.parse.urlencode({"patient": patient, "_page": page + 1})
                bundle["link"] = [{"relation": "next", "url": f"{ehr.fhir_base}/{rtype}?{query}"}]
            return jsonify(bundle)

        return app
