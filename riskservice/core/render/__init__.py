"""Renderers: one row of an :class:`Evaluation` as the full JSON answer, or all rows as columns.

Renderers look numbers up in the evaluation and texts, rules and citations up in the
knowledge; they never compute a clinical value themselves.

Modules: ``row`` (one row as Python values), ``answer`` with ``contributions`` and
``sections`` (the single answer), ``summary`` (the compact view and the choice of view),
``columns`` (all rows as result columns), ``plan`` (the answer's patient-independent parts).
"""
from riskservice.core.render.answer import render_one, render_standard
from riskservice.core.render.columns import INDEX_COLUMNS, ROW_COLUMNS, ROW_TYPES, render_rows
from riskservice.core.render.summary import VIEWS, render_summary, render_view

__all__ = ["INDEX_COLUMNS", "ROW_COLUMNS", "ROW_TYPES", "VIEWS", "render_one", "render_rows",
           "render_standard", "render_summary", "render_view"]
