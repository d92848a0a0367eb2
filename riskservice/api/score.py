"""POST /v1/score: one patient's flat risk-factor record in, the full result out.

Query parameter ``audience`` (clinician, the default, or patient) changes only the texts;
``view`` (summary, standard or full, the default) how much is built and sent."""
from flask import Blueprint, current_app, request

from riskservice.api import requestid
from riskservice.api.jsonbody import json_body

bp = Blueprint("score", __name__)


@bp.post("/v1/score")
def score():
    app, req = current_app._get_current_object(), request._get_current_object()  # see requestid.py
    args = req.args  # ``in`` first: get() of an absent key raises and catches a KeyError
    audience = args.get("audience") if "audience" in args else "clinician"
    view = args.get("view") if "view" in args else "full"
    result = app.extensions["riskservice"].score(json_body(what="the patient"), request_id=requestid.current(),
                                                 audience=audience, view=view)
    response = app.json.response(result)  # what flask.jsonify does
    response.headers["Cache-Control"] = "no-store"
    return response
