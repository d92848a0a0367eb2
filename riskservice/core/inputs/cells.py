"""One cell as people write it: a number with its unit, a yes/no word, an answer or its spelling.

Shared by the JSON and the column adapters, so ``"52 years"`` in a CSV cell and in a JSON string
read alike. A misspelt answer gets a suggestion in its error, never a silent guess; a value map
(from the synonyms table or the caller's mapping) turns codes such as NHANES ``1``/``2`` into
answers before anything else reads the cell.
"""
from __future__ import annotations

import math
import re

from riskservice.core.fields import BOOL_FALSE, BOOL_TRUE
from riskservice.core.inputs.parsed import quote

_NUMBER_UNIT = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([^\W\d_].*?|%.*?|\[.*?)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+(\s.*)?$")
BOOL_WORDS = {**{w: True for w in BOOL_TRUE}, **{w: False for w in BOOL_FALSE}}


def number(text: str, name: str, cx):
    """(value, unit name or None, problem or None) for a text cell of numeric field ``name``.

    ``"5.4"`` -> 5.4; ``"5.4 mmol/L"`` -> 5.4 in mmol/L; ``"52 years"`` -> 52 (age has one unit);
    a unit the field does not have, a decimal comma or anything else is a problem naming the cell.
    """
    text = text.strip()
    m = None if _DECIMAL_COMMA.match(text) else _NUMBER_UNIT.match(text)
    if m is None:
        if _DECIMAL_COMMA.match(text):
            return None, None, (f"{quote(text)} is not a number: write the decimal point as '.', or send the "
                                "whole file with a decimal comma (?decimal=, / --decimal ,)")
        return None, None, f"{quote(text)} is not a number"
    try:
        value = float(m.group(1))
    except (ValueError, OverflowError):
        return None, None, f"{quote(text)} is not a number"
    if not math.isfinite(value):
        return None, None, f"{quote(text)} is not a finite number"
    unit_text = m.group(2)
    if not unit_text:
        return value, None, None
    unit = cx.names.unit_of(name, unit_text)
    if unit is None:
        units = ", ".join(cx.unit_names[cx.numeric_index[name]])
        return None, None, f"{quote(text)}: {unit_text!r} is not a unit of {name} ({units})"
    return value, unit, None


def yes_no(text):
    """True, False, or None when ``text`` is not a yes/no word."""
    return BOOL_WORDS.get(text.strip().lower())


def yes_no_problem(text, cx) -> str:
    hint = cx.names.suggest("", text, list(BOOL_WORDS)) if len(text.strip()) > 1 else None
    extra = f" Did you mean {hint!r}?" if hint else ""
    return f"Not a boolean: send true or false (or yes/no, y/n, 1/0).{extra}"


def choice(name: str, text: str, cx):
    """The choice of enumeration ``name`` that ``text`` spells (trimmed, any case, a listed synonym), or None."""
    return cx.names.choice_of(name, text)


def choice_problem(name: str, text: str, cx, j: int) -> str:
    choices = cx.choices[j]
    hint = cx.names.suggest(name, text, choices)
    extra = f" Did you mean {hint!r}?" if hint else ""
    return f"{cx.choices_message[j]}{extra}"


def mapped(value, table: dict | None):
    """``value`` through a value map (keys compared trimmed and case-insensitively), or as it is;
    (value, True) when the map had it."""
    if not table or isinstance(value, (list, dict)):
        return value, False
    key = (("true" if value else "false") if isinstance(value, bool) else
           (repr(value) if isinstance(value, float) and not value.is_integer() else
            str(int(value)) if isinstance(value, float) else str(value))).strip().lower()
    if key in table:
        return table[key], True
    return value, False


def as_text(value) -> str:
    """A value-map target as the cell text the adapters read (None: an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
