"""JSON objects (already decoded) -> Parsed: the single ``POST /v1/score`` body and JSON-array batches."""
from __future__ import annotations

import math

import numpy as np

from riskservice.core.inputs import cells
from riskservice.core.inputs.parsed import (
    MAX_MEDICATION_LENGTH,
    MAX_MEDICATIONS,
    REQUIRED_MESSAGE,
    Parsed,
    RowErrors,
    is_missing_text,
    printable,
)


def from_records(records: list, cx, units: dict | None = None, values: dict | None = None) -> Parsed:
    """JSON objects (already decoded) -> Parsed. A number is a JSON number, or a string that is
    unambiguously one (``"52"``, ``"5.4 mmol/L"`` with its unit); a yes/no answer is true or
    false, or a yes/no word; an answer matches trimmed and in any case, or a listed spelling
    (``"M"``); a medication list may be one string separated by ``;``. null and the missing-value
    spellings mean "not given". ``units`` (field -> unit name, from a column header) and
    ``values`` (field -> value map) come from a JSON array's column plan. Cells are gathered in
    plain lists (column-major) and become arrays once at the end, so one object costs a handful
    of array operations."""
    n = len(records)
    nf, nc = len(cx.numeric), len(cx.coded)
    raw = [math.nan] * (nf * n)
    codes = [-1] * (nc * n)
    unit = unit_given = unit_bad = None             # units are rarely sent: arrays on the first one
    unit_bad_any = units_checked = False
    numbers_sent, codes_sent = set(), set()
    med_index = [-1] * n
    errors = RowErrors(n)
    slots = cx.key_slots
    med_keys: dict = {}
    header_units = {cx.numeric_index[f]: cx.unit_lookup[cx.numeric_index[f]][u.lower()]
                    for f, u in (units or {}).items() if f in cx.numeric_index}
    values = values or {}
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            errors.add(i, "_row", "each array item must be a JSON object")
            continue
        seen = None
        cell_units = None
        for key, value in rec.items():
            slot = slots.get(key)
            if slot is None:
                canonical = key.strip().lower() if isinstance(key, str) else None
                slot = slots.get(canonical)
                if slot is None:
                    errors.add(i, printable(key), _unknown(key, cx))
                    continue
                seen = seen if seen is not None else {k.strip().lower() for k in rec if k != key}
                if canonical in seen:
                    errors.add(i, printable(key), f"duplicate of field {canonical!r} in another spelling")
                    continue
                key = canonical
            if values:
                value, _ = cells.mapped(value, values.get(key))
            if value is None or (value.__class__ is str and is_missing_text(value)):
                continue
            kind, j = slot
            if kind == "number":
                if value.__class__ is str:
                    x, cell_unit, problem = cells.number(value, key, cx)
                    if problem:
                        errors.add(i, key, problem)
                        continue
                    if cell_unit is not None:
                        cell_units = cell_units or {}
                        cell_units[j] = cx.unit_lookup[j][cell_unit.lower()]
                    raw[j * n + i] = x
                    numbers_sent.add(j)
                    continue
                if value.__class__ is bool or not isinstance(value, (int, float)):
                    errors.add(i, key, "Not a number: send a JSON number.")
                    continue
                try:
                    x = float(value)
                except OverflowError:
                    errors.add(i, key, "Number too large: not a finite double-precision number.")
                    continue
                if x != x:          # NaN: a missing-value spelling, as "NaN" in a CSV cell
                    continue
                if not math.isfinite(x):
                    errors.add(i, key, "Not a finite number: infinity is not accepted.")
                    continue
                raw[j * n + i] = x
                numbers_sent.add(j)
            elif kind == "unit":
                if unit is None:
                    unit, unit_given, unit_bad = _unit_arrays(cx, n, writable=True)
                if value.__class__ is not str:
                    errors.add(i, key, "Not a valid string.")
                    unit_bad[i, j] = unit_bad_any = True
                    continue
                u = cx.unit_lookup[j].get(value.strip().lower())
                if u is None:
                    spelled = cx.names.unit_of(cx.numeric[j], value)
                    u = None if spelled is None else cx.unit_lookup[j][spelled.lower()]
                if u is None:
                    errors.add(i, key, cx.unit_choices_message[j])
                    unit_bad[i, j] = unit_bad_any = True
                    continue
                unit[i, j] = u
                unit_given[i, j] = True
            elif kind == "enum":
                if value.__class__ is not str:
                    errors.add(i, key, "Not a valid string.")
                    continue
                code = cx.choice_lookup[j].get(value.strip().lower())
                if code is None:
                    spelled = cells.choice(key, value, cx)
                    code = None if spelled is None else cx.choice_lookup[j][spelled]
                if code is None:
                    errors.add(i, key, cells.choice_problem(key, value, cx, j))
                    continue
                codes[j * n + i] = code
                codes_sent.add(j)
            elif kind == "bool":
                if value.__class__ is not bool:
                    word = cells.yes_no(value) if value.__class__ is str else None
                    if word is None:
                        errors.add(i, key, cells.yes_no_problem(value, cx) if value.__class__ is str
                                   else "Not a boolean: send true or false.")
                        continue
                    value = word
                codes[j * n + i] = int(value)
                codes_sent.add(j)
            else:  # medications: a list of names, or one string separated by ";"
                if value.__class__ is str:
                    value = [x.strip() for x in value.split(";") if x.strip()]
                entries = _medication_list(value, i, errors)
                if entries is not None:
                    med_index[i] = med_keys.setdefault(entries, len(med_keys))
        if cell_units or header_units:
            units_checked = True
            if unit is None:
                unit, unit_given, unit_bad = _unit_arrays(cx, n, writable=True)
            _row_units(i, n, raw, unit, unit_given, unit_bad, cell_units or {}, header_units, errors, cx)
        _required(errors, i, n, raw, codes, cx)
    # column-major lists -> (n, fields) arrays in Fortran order, as empty() makes them
    if unit is None:
        unit, unit_given, unit_bad = _unit_arrays(cx, n, writable=False)
    return Parsed(
        n=n,
        raw=np.array(raw, dtype=np.float64).reshape((n, nf), order="F"),
        unit=unit, unit_given=unit_given, unit_bad=unit_bad,
        codes=np.array(codes, dtype=np.int8).reshape((n, nc), order="F"),
        med_index=np.array(med_index, dtype=np.intp) if med_keys else _no_medications(n),
        med_lists=[list(k) for k in med_keys],
        errors=errors,
        numbers_sent=numbers_sent, codes_sent=codes_sent, unit_bad_any=None if units_checked else unit_bad_any,
    )


def _row_units(i, n, raw, unit, unit_given, unit_bad, cell_units, header_units, errors, cx):
    """Record ``i``'s units from its cells (``"5.4 mmol/L"``) and the column headers, checked
    against its ``<field>_unit`` keys: two different readings of one value are an error."""
    for j in set(cell_units) | set(header_units):
        if raw[j * n + i] != raw[j * n + i] or unit_bad[i, j]:
            continue
        stated = [(u, where) for u, where in ((cell_units.get(j), "the value"),
                                              (unit[i, j] if unit_given[i, j] else None, f"{cx.numeric[j]}_unit"),
                                              (header_units.get(j), "the column header")) if u is not None]
        readings = {(cx.factor[j, u], cx.offset[j, u]) for u, _ in stated}
        if len(readings) > 1:
            said = " but ".join(f"{where} says {cx.unit_names[j][u]}" for u, where in stated)
            errors.add(i, cx.numeric[j], f"two units for one value: {said}")
            unit_bad[i, j] = True
            continue
        unit[i, j] = stated[0][0]
        unit_given[i, j] = True


def _unknown(key, cx) -> str:
    """'Unknown field.', with the field a synonym or near-miss names (``gender`` -> sex)."""
    if not isinstance(key, str):
        return "Unknown field."
    head = cx.names.header(key)
    if head is not None:
        return f"Unknown field. Did you mean {head.key!r}?"
    look = cx.names.look_alike(key)
    if look is not None:
        return f"Unknown field. Did you mean {look[0]!r}?"
    return "Unknown field."


def _unit_arrays(cx, n, writable):
    """(n, fields) unit indexes at the canonical unit, no unit given, no unit invalid. One row
    (the single-patient API) copies arrays made once per compiled knowledge, or shares them
    read-only when no unit was sent."""
    if n == 1:
        shared = getattr(cx, "one_row_units", None)
        if shared is None:
            nf = len(cx.numeric)
            shared = cx.one_row_units = (cx.canonical_unit.reshape(1, nf).copy(), np.zeros((1, nf), dtype=bool),
                                         np.zeros((1, nf), dtype=bool))
            for a in shared:
                a.flags.writeable = False
        return tuple(a.copy() for a in shared) if writable else shared
    nf = len(cx.numeric)
    return (np.asfortranarray(np.tile(cx.canonical_unit, (n, 1))), np.zeros((n, nf), dtype=bool, order="F"),
            np.zeros((n, nf), dtype=bool, order="F"))


def _no_medications(n):
    return _NO_MEDICATION.repeat(n)


_NO_MEDICATION = np.array([-1], dtype=np.intp)


def _medication_list(value, i, errors):
    if not isinstance(value, list):
        errors.add(i, "medications", "Not a valid list.")
        return None
    if len(value) > MAX_MEDICATIONS:
        errors.add(i, "medications", f"Longer than maximum length {MAX_MEDICATIONS}.")
        return None
    ok = True
    for k, item in enumerate(value):
        if item.__class__ is not str:
            errors.add(i, "medications", f"item {k}: Not a valid string.")
            ok = False
        elif not 1 <= len(item) <= MAX_MEDICATION_LENGTH:
            errors.add(i, "medications", f"item {k}: Length must be between 1 and {MAX_MEDICATION_LENGTH}.")
            ok = False
    return tuple(value) if ok else None


def _required(errors, i, n, raw, codes, cx):
    """Required fields missing from JSON object ``i`` (one that is a JSON object)."""
    slots = getattr(cx, "required_slots", None)
    if slots is None:
        slots = cx.required_slots = [(name, *cx.key_slots[name]) for name in cx.required]
    for name, kind, j in slots:
        k = j * n + i
        missing = raw[k] != raw[k] if kind == "number" else codes[k] < 0
        if missing and not errors.has(i, name):
            errors.add(i, name, REQUIRED_MESSAGE)

