"""Small readers shared by the resource mappers: FHIR dates, ages, coding text, references."""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .result import BundleError

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def parse_fhir_datetime(value: Any) -> datetime | None:
    """FHIR date/dateTime/instant -> aware UTC datetime (partial dates -> their first instant)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if "T" in value:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        m = _DATE_RE.match(value)
        if not m:
            return None
        return datetime(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1), tzinfo=timezone.utc)
    except ValueError:
        return None


AS_OF_EARLIEST = date(1900, 1, 1)


def parse_as_of(value: str | date | None, today: date | None = None) -> date:
    if value is None or value == "":
        return today or datetime.now(timezone.utc).date()
    if isinstance(value, date):
        parsed = value
    else:
        if not isinstance(value, str) or len(value) != 10:
            raise BundleError("as_of must be a date (YYYY-MM-DD)")
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise BundleError("as_of must be a date (YYYY-MM-DD)") from None
    # Date arithmetic (look-back windows, end of day) must stay inside the calendar: a back-scoring
    # date is in the past, and a year after today is already no clinical use.
    latest = (today or datetime.now(timezone.utc).date()).replace(day=1) + timedelta(days=400)
    if not (AS_OF_EARLIEST <= parsed <= latest):
        raise BundleError(f"as_of must be between {AS_OF_EARLIEST.isoformat()} and about a year from today")
    return parsed


def age_on(birth_date: str, as_of: date) -> tuple[int, str | None]:
    """Completed years at ``as_of``. Partial dates use the latest possible birthday (never
    over-states age) and return an explanatory note."""
    m = _DATE_RE.match(birth_date or "")
    if not m:
        raise BundleError("Patient.birthDate is not a FHIR date")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    note = None
    if month is None:
        month, day = 12, 31
        note = "birth date has only a year; age computed from 31 December of that year"
    elif day is None:
        day = calendar.monthrange(year, month)[1]
        note = "birth date has no day; age computed from the last day of that month"
    born = date(year, month, day)
    if born > as_of:
        raise BundleError("Patient.birthDate is after the as_of date")
    years = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    return years, note


def codings_text(concept: dict | None) -> str:
    concept = concept or {}
    parts = [f"{c.get('system', '?')}|{c.get('code', '?')}" for c in concept.get("coding") or []]
    if not parts and concept.get("text"):
        return "text only"
    return ", ".join(parts) or "no code"


def reference_of(resource: dict, full_url: str | None) -> str | None:
    rid = resource.get("id")
    if rid:
        return f"{resource.get('resourceType')}/{rid}"
    return full_url or None
