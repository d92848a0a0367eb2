"""Which input columns (CSV header names, JSON-array keys) are fields, units or passed through.

Header problems (a required column missing, a near-miss spelling of a field) are reported
before any row is scored, so a misspelt column never silently drops a factor.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from riskservice.core.fields import ALL_KEYS


@dataclass
class ColumnPlan:
    """How input columns map to fields; anything else is passed through in its place."""

    fields: dict = field(default_factory=dict)      # field or unit key -> source column name
    passthrough: list = field(default_factory=list)
    problems: dict = field(default_factory=dict)    # column -> messages (422 before scoring)


def plan_columns(header) -> ColumnPlan:
    plan = ColumnPlan()
    for name in header:
        key = str(name).strip().lower()
        if key in ALL_KEYS:
            if key in plan.fields:
                plan.problems.setdefault(name, []).append(
                    f"duplicate column for field {key!r} (also {plan.fields[key]!r})")
            else:
                plan.fields[key] = name
            continue
        near = _near_miss(key)
        if near:
            plan.problems.setdefault(name, []).append(
                f"unknown column {name!r} looks like a misspelling of {near!r}; rename it, "
                f"or rename it clearly (e.g. 'x_{key}') to pass it through")
        plan.passthrough.append(name)
    for required in ("age", "sex"):
        if required not in plan.fields:
            plan.problems.setdefault(required, []).append(f"required column {required!r} is missing")
    return plan


def _near_miss(key: str):
    best = None
    for candidate in ALL_KEYS:
        d = _distance(key, candidate)
        shortest = min(len(key), len(candidate))
        if (d == 1 and shortest >= 3) or (d == 2 and shortest >= 5):
            if best is None or d < best[0]:
                best = (d, candidate)
    return best[1] if best else None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (tiny strings, header-only, so the plain DP is fine)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
