"""POST /v1/score: one patient's flat risk-factor record in, the full result out.

Query parameter ``audience`` (clinician, the default, or patient) changes only the texts."""
from flask import Blueprint, current_app, jsonify, request

from riskservice.api import requestid
from riskservice.api.jsonbody import json_body

bp = Blueprint("score", __name__)


@bp.post("/v1/score")
def score():
    scorer = current_app.extensions["riskservice"]
    audience = request.args.get("audience", "clinician")
    result = scorer.score(json_body(what="the patient"), request_id=requestid.current(), audience=audience)
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response
