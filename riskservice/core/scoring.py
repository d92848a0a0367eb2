"""One patient in, one complete, traceable result out: the engine with n = 1 plus a renderer.

``Scorer`` holds the validated knowledge, the compiled engine and (when loaded) the model;
it is built once per process. ``score`` and ``BatchScorer`` run the same
:class:`~riskservice.core.engine.Engine`, so a patient scores the same on every surface.
"""
from __future__ import annotations

from riskservice import __version__
from riskservice.core import narrative
from riskservice.core.engine import engine_for
from riskservice.core.errors import ValidationProblem
from riskservice.core.inputs import from_records
from riskservice.core.render import VIEWS, render_view
from riskservice.core.render.plan import plan_for


class Scorer:
    """Scores patients with one knowledge base (and optionally its models: a ModelSet, or one model)."""

    def __init__(self, knowledge, model=None, require_approved=False):
        from riskservice.model.modelset import as_model_set

        self.knowledge = knowledge
        self.model = as_model_set(model)    # None (models off) or one model per role
        self.require_approved = bool(require_approved)
        self.engine = engine_for(knowledge, model)
        plan_for(self.engine)  # the answers' fixed parts, built now (under gunicorn: once, in the master)
        self._schema_class = None

    @property
    def schema_class(self):
        """The published marshmallow contract (built from the same field table)."""
        if self._schema_class is None:
            from riskservice.core.schema import build_patient_schema  # marshmallow: not at start-up
            self._schema_class = build_patient_schema(self.knowledge)
        return self._schema_class

    def evaluate(self, raw):
        """Engine evaluation of one JSON object; raise ValidationProblem with every error."""
        if not isinstance(raw, dict):
            raise ValidationProblem({"_schema": ["The body must be a JSON object with patient fields."]})
        parsed = from_records([raw], self.engine.cx)
        ev = self.engine.evaluate(parsed)
        if not ev.ok[0]:
            raise ValidationProblem(parsed.errors.by_row[0])
        return ev

    def evaluate_rows(self, raws: list):
        """One engine evaluation of several JSON objects (columnar, like a batch): (parsed, evaluation).
        Row i failed when ``not ev.ok[i]``; its problems are in ``parsed.errors.by_row[i]``."""
        parsed = from_records(raws, self.engine.cx)
        return parsed, self.engine.evaluate(parsed)

    def render_row(self, ev, i: int, request_id=None, audience="clinician", view="full") -> dict:
        """Row ``i`` of an :meth:`evaluate_rows` evaluation, rendered like :meth:`score` renders."""
        return render_view(self.engine, ev, i, audience, self.meta(request_id), view=view,
                           require_approved=self.require_approved)

    def score(self, raw, request_id=None, audience="clinician", view="full") -> dict:
        """Score ``raw``; ``audience`` (clinician|patient) changes the texts, never the numbers;
        ``view`` (summary|standard|full) how much of the answer is built and returned.

        Raises ValidationProblem for bad input or audience, and UnapprovedKnowledge when
        ``require_approved`` is on and the result used an entry below ``approved``.
        """
        check_audience(audience)
        check_view(view)
        ev = self.evaluate(raw)
        return render_view(self.engine, ev, 0, audience, self.meta(request_id), view=view,
                           require_approved=self.require_approved)

    def meta(self, request_id=None) -> dict:
        kb = self.knowledge
        meta = {
            "service_version": __version__,
            "ruleset_version": kb.version,
            "ruleset_sha256": kb.sha256,
            "disclaimer_id": kb.ruleset["disclaimer"]["id"],
            "request_id": request_id,
        }
        model = self.model.insulin_resistance if self.model is not None else None
        if model is not None:       # the dysglycaemia model names itself in its own block
            meta["model_id"] = model.model_id
            meta["model_version"] = model.version
        return meta


def check_audience(audience):
    if audience not in narrative.AUDIENCES:
        raise ValidationProblem({"audience": [
            f"Must be one of: {', '.join(narrative.AUDIENCES)} (got {audience!r})."]},
            title="Invalid query parameter")


def check_view(view):
    if view not in VIEWS:
        raise ValidationProblem({"view": [f"Must be one of: {', '.join(VIEWS)} (got {view!r})."]},
                                title="Invalid query parameter")
