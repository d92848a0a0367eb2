"""POST /v1/score: one patient's flat risk-factor record in, the full result out; POST /v1/what-if:
the same patient re-scored with modifiable inputs changed (``riskservice.core.whatif``).

Query parameter ``audience`` (clinician, the default, or patient) changes only the texts;
``view`` (summary, standard or full, the default) how much is built and sent."""
from flask import Blueprint, current_app, request

from riskservice.api import requestid
from riskservice.api.jsonbody import json_body
from riskservice.core.errors import ValidationProblem
from riskservice.core.scoring import check_audience

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


@bp.post("/v1/what-if")
def what_if():
    """``{"patient": {...}, "scenarios": [...]}``; without ``scenarios`` the defaults that apply."""
    from riskservice.core import whatif

    audience = request.args.get("audience", "clinician")
    check_audience(audience)
    body = json_body(what="the patient and scenarios")
    if not isinstance(body, dict) or "patient" not in body:
        raise ValidationProblem({"_schema": ["The body must be a JSON object with 'patient' and optional "
                                             "'scenarios'."]})
    unknown = sorted(set(body) - {"patient", "scenarios"})
    if unknown:
        raise ValidationProblem({k: ["Unknown field."] for k in unknown})
    scenarios = whatif.parse_scenarios(body["scenarios"]) if "scenarios" in body else None
    result = whatif.what_if(current_app.extensions["riskservice"], body["patient"], scenarios,
                            request_id=requestid.current(), audience=audience)
    response = current_app.json.response(result)
    response.headers["Cache-Control"] = "no-store"
    return response
