"""The one engine: every clinical computation, on columns, for one patient or a million.

``Engine.evaluate(parsed)`` takes the typed arrays of :mod:`riskservice.core.inputs` and
returns an :class:`Evaluation` that holds arrays only: canonical values, per-item variants,
bands and points, totals and bands, indices and flags, established scores, mechanism
weights and order, model terms and probability, and the problems per row. Renderers
(:mod:`riskservice.core.render`) turn a row, or all rows, into an answer; nothing clinical
is computed anywhere else.

The package: ``pipeline`` (the :class:`Engine` and the order of its steps), one module per
step, ``evaluation`` (what an evaluation holds) and ``arrays`` (shared helpers).
"""
from riskservice.core.engine.evaluation import Evaluation
from riskservice.core.engine.pipeline import Engine, engine_for

__all__ = ["Engine", "Evaluation", "engine_for"]
