"""Service metadata: liveness, readiness and the knowledge base for clinical review."""
from flask import Blueprint, current_app, jsonify

from riskservice.api.errors import problem
from riskservice.core import review

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """200 when knowledge and model are loaded and verified; 503 problem+json naming why not."""
    state = current_app.extensions["riskservice_ready"]
    if state["ready"]:
        return jsonify(status="ready", knowledge=state["knowledge"], model=state["model"])
    return problem(503, "Not ready", "; ".join(state["reasons"]), type_="/problems/not-ready",
                   reasons=state["reasons"])


@bp.get("/v1/knowledge")
def knowledge():
    scorer = current_app.extensions["riskservice"]
    kb = scorer.knowledge
    return jsonify(
        ruleset_version=kb.version,
        ruleset_sha256=kb.sha256,
        points_method=kb.ruleset["points_method"],
        bands=kb.ruleset["bands"],
        exclusive_groups=kb.ruleset["exclusive_groups"],
        disclaimer=kb.ruleset["disclaimer"],
        factors=kb.factors,
        drug_classes=kb.drug_classes,
        mechanisms=list(kb.mechanisms.values()),
        downstream_chain=kb.downstream_chain,
        indices=kb.indices,
        established=kb.established,
        units=kb.units,
        references=list(kb.references.values()),
        review={"require_approved": scorer.require_approved,
                "entries": review.all_statuses(kb)},
    )
