"""Flask blueprint ``bp``: FHIR scoring and CDS Hooks 2.0 endpoints.

- ``POST /v1/fhir/score``   FHIR R4 Bundle in, FHIR R4 RiskAssessment out (``?as_of=YYYY-MM-DD``)
- ``GET  /cds-services``    CDS Hooks discovery
- ``POST /cds-services/<id>``           hook call (patient-view / order-select)
- ``POST /cds-services/<id>/feedback``  card feedback, counted only

Configuration: ``PUBLIC_BASE_URL`` (links and the JWT ``aud``), ``KNOWLEDGE_URL``,
``EHR_LOOKBACK_*_DAYS``, ``CDS_FHIR_*``, ``CDS_CORS_ORIGINS``, ``CDS_JWT_*`` (see
:mod:`riskservice.ehr.security`), with their defaults in :mod:`riskservice.config`.

Logs carry the hook instance id and reasons, never patient identifiers, values or tokens.
"""
from __future__ import annotations

import logging
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, PreconditionFailed, UnprocessableEntity

from riskservice.api import requestid
from riskservice.api.auth import is_cors_preflight
from riskservice.api.errors import problem, scrubbed_stack
from riskservice.api.jsonbody import json_body
from riskservice.api.metrics import EventCounter
from riskservice.core.errors import UnapprovedKnowledge, ValidationProblem

from . import cds_hooks, fhir_in, fhir_out, replay, security

log = logging.getLogger("riskservice.ehr")

bp = Blueprint("ehr", __name__)

FHIR_JSON = "application/fhir+json"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _core():
    core = current_app.extensions.get("riskservice")
    if core is None:
        raise RuntimeError("riskservice core is not registered in app.extensions['riskservice']")
    return core


def _resolver():
    return _core().knowledge.drug_class_for


def _score(payload: dict, audience: str = "clinician") -> dict:
    return _core().score(payload, request_id=requestid.current(), audience=audience)


def _mechanism_name(mid: str) -> str | None:
    return (_core().knowledge.mechanisms.get(mid) or {}).get("name")


def metrics() -> Counter:
    """Event counts of this blueprint (also exported at GET /metrics)."""
    return current_app.extensions.setdefault("riskservice_ehr_metrics", EventCounter())


def _public_base() -> str | None:
    """The service's public URL from configuration only: the Host and X-Forwarded-* headers are
    the caller's to choose, so they never decide a link or the JWT audience."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return str(base).rstrip("/") if base else None


def _knowledge_url() -> str | None:
    if current_app.config["KNOWLEDGE_URL"]:
        return current_app.config["KNOWLEDGE_URL"]
    base = _public_base()
    return f"{base}/v1/knowledge" if base else None   # no link rather than a guessed one


def check_config(config) -> None:
    """Start-up check: JWT verification needs the audience, which is PUBLIC_BASE_URL + path."""
    if config["CDS_JWT_ISSUERS"] and not config["PUBLIC_BASE_URL"]:
        raise RuntimeError("CDS_JWT_ISSUERS is set but PUBLIC_BASE_URL is not: the JWT audience must come "
                           "from configuration (set RISKSERVICE_PUBLIC_BASE_URL, e.g. https://cds.example.org)")


bp.record_once(lambda state: check_config(state.app.config))

FHIR_TYPES = (FHIR_JSON, "application/json")
CDS_TYPES = ("application/json",)


def _json_body(media_types=CDS_TYPES) -> dict:
    body = json_body(media_types, what="the request")
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


@contextmanager
def _malformed_is_400(where: str):
    """Defence in depth for the hand-written FHIR/CDS walkers: a shape they did not expect in
    caller-supplied JSON (a string where an object belongs) is the caller's 400, not a 500. The
    case is logged at ERROR with the type and code location only (no message: it may quote a
    value), so the walker can be taught the shape and a test added."""
    try:
        yield
    except (fhir_in.BundleError, HTTPException, ValidationProblem, UnapprovedKnowledge):
        raise  # the adapter's and the core's own answers keep their messages
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        log.error("%s: unexpected input shape (%s)", where, type(exc).__name__,
                  extra={"error_type": type(exc).__name__, "stack": scrubbed_stack(exc)})
        raise BadRequest("The FHIR content has an unexpected shape (a field of the wrong JSON type).") from None


# --------------------------------------------------------------------------------------------
# JWT for /cds-services*
# --------------------------------------------------------------------------------------------

# CORS for browser CDS clients (CDS_CORS_ORIGINS) is handled by riskservice.api.headers,
# the service's single CORS mechanism.


@bp.before_request
def _auth():
    if not request.path.startswith("/cds-services"):
        return None
    if is_cors_preflight():
        return None
    if not current_app.config["CDS_JWT_ISSUERS"]:
        return None
    base = _public_base()
    if base is None:  # configuration changed after start-up: fail closed
        log.error("CDS_JWT_ISSUERS is set but PUBLIC_BASE_URL is not; rejecting CDS calls")
        return problem(503, "Service Unavailable", "The service's public URL is not configured.")
    aud = base + request.path
    store = replay.store_for(current_app.config, current_app.instance_path)
    if not security.verify_request(request.headers.get("Authorization"), aud, current_app.config, store):
        metrics()["cds_auth_failed"] += 1
        resp = problem(401, "Unauthorized", type_="/problems/unauthorized")  # no detail on purpose
        resp.headers["WWW-Authenticate"] = "Bearer"
        return resp
    return None


# --------------------------------------------------------------------------------------------
# FHIR scoring
# --------------------------------------------------------------------------------------------

@bp.post("/v1/fhir/score")
def fhir_score():
    body = _json_body(FHIR_TYPES)
    try:
        as_of = fhir_in.parse_as_of(request.args.get("as_of"))
        with _malformed_is_400("fhir score"):
            mapping = fhir_in.map_bundle(body, as_of, fhir_in.Lookback.from_config(current_app.config), _resolver())
    except fhir_in.BundleError as exc:
        raise BadRequest(str(exc)) from None
    response = _score(mapping.payload, audience=request.args.get("audience", "clinician"))
    ra = fhir_out.build_risk_assessment(response, mapping, occurrence=datetime.now(timezone.utc))
    metrics()["fhir_score"] += 1
    resp = jsonify(ra)
    resp.mimetype = FHIR_JSON
    return resp


# --------------------------------------------------------------------------------------------
# CDS Hooks
# --------------------------------------------------------------------------------------------

@bp.get("/cds-services")
def cds_discovery():
    return jsonify(cds_hooks.discovery())


@bp.post("/cds-services/<service_id>")
def cds_call(service_id: str):
    if service_id not in cds_hooks.SERVICES:
        raise NotFound("unknown CDS service")
    body = _json_body()
    hook = cds_hooks.SERVICES[service_id]
    instance = str(body.get("hookInstance") or "")[:64]
    if body.get("hook") != hook:
        raise BadRequest(f"service {service_id} answers the {hook} hook")
    context = body.get("context")
    if not instance or not isinstance(context, dict) or not context.get("patientId"):
        raise BadRequest("hookInstance and context.patientId are required")
    if body.get("fhirAuthorization") and not body.get("fhirServer"):
        raise BadRequest("fhirServer is required when fhirAuthorization is sent")
    metrics()[f"cds_call:{service_id}"] += 1
    try:
        with _malformed_is_400(f"cds {service_id}"):
            return jsonify(_handle_call(service_id, body, context, instance))
    except cds_hooks.CdsError as exc:
        log.info("cds %s instance=%s: %s", service_id, instance, exc.reason)
        if exc.status == 412:
            raise PreconditionFailed(exc.reason) from None
        if exc.status == 400:
            raise BadRequest(exc.reason) from None
        raise HTTPException(exc.reason) from None


def _handle_call(service_id: str, body: dict, context: dict, instance: str) -> dict:
    settings = cds_hooks.FetchSettings.from_config(current_app.config)
    collected = cds_hooks.collect(body, settings)
    if collected.fetched:
        log.info("cds %s instance=%s: fetched %s from fhirServer", service_id, instance, collected.fetched)
    if not collected.patient_found:
        raise cds_hooks.CdsError(412, "the Patient resource was neither prefetched nor retrievable")
    try:
        as_of = cds_hooks.as_of_from(body)
        mapping = fhir_in.map_resources(collected.items, as_of,
                                        fhir_in.Lookback.from_config(current_app.config), _resolver())
    except fhir_in.BundleError as exc:
        raise cds_hooks.CdsError(400, str(exc)) from None

    if service_id == cds_hooks.ORDER_SELECT_ID:
        drafts = cds_hooks.draft_medications(context)
        meds = cds_hooks.draft_order_medications(context)
        if not any(fhir_in.resolve_medication(cds_hooks.draft_concept(m, meds), _resolver()) for m in drafts):
            log.info("cds %s instance=%s: no card: no selected drug in a class that worsens insulin resistance",
                     service_id, instance)
            return {"cards": []}
        response = _score_or_none(mapping, service_id, instance)
        return {"cards": cds_hooks.order_select_cards(drafts, _resolver(), response, _knowledge_url(),
                                                      _mechanism_name, meds)}

    response = _score_or_none(mapping, service_id, instance)
    if response is None:
        return {"cards": []}
    base = _public_base()   # links only from configuration: no PUBLIC_BASE_URL, no link
    return {"cards": cds_hooks.patient_view_cards(response, mapping, collected, _knowledge_url(), _mechanism_name,
                                                  app_launch_url=f"{base}/launch" if base else None)}


def _score_or_none(mapping: fhir_in.MappingResult, service_id: str, instance: str) -> dict | None:
    ok, lacking = cds_hooks.has_minimum_data(mapping.payload)
    if not ok:
        log.info("cds %s instance=%s: no card: too little data (lacking: %s)", service_id, instance,
                 ", ".join(lacking))
        metrics()["cds_no_card_insufficient_data"] += 1
        return None
    try:
        return _score(mapping.payload)
    except ValidationProblem as exc:
        fields = sorted(exc.errors)
        log.info("cds %s instance=%s: no card: core rejected input (fields: %s)", service_id, instance,
                 ", ".join(fields))
        metrics()["cds_no_card_invalid_input"] += 1
        return None


@bp.post("/cds-services/<service_id>/feedback")
def cds_feedback(service_id: str):
    if service_id not in cds_hooks.SERVICES:
        raise NotFound("unknown CDS service")
    body = _json_body()
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise BadRequest("feedback must be a non-empty array")
    for item in items:
        if not isinstance(item, dict) or not item.get("card") or item.get("outcome") not in ("accepted", "overridden") \
                or not item.get("outcomeTimestamp"):
            raise UnprocessableEntity("each feedback item needs card, outcome (accepted|overridden) and outcomeTimestamp")
    counter = metrics()
    for item in items:
        counter[f"cds_feedback:{service_id}:{item['outcome']}"] += 1
    return jsonify({})
