"""Text columns (CSV cells, Parquet as text) -> Parsed, with pyarrow: one pass per column, not per cell."""
from __future__ import annotations

import numpy as np

from riskservice.core.fields import BOOL_FALSE, BOOL_TRUE, FIELD_BY_NAME, MISSING_SPELLINGS
from riskservice.core.inputs import cells
from riskservice.core.inputs.parsed import (
    MAX_MEDICATION_LENGTH,
    MAX_MEDICATIONS,
    REQUIRED_MESSAGE,
    Parsed,
    empty,
    quote,
)


def from_columns(columns: dict, n: int, cx, units: dict | None = None, values: dict | None = None) -> Parsed:
    """Text columns (field or unit key -> pyarrow string array or list of str/None) -> Parsed.

    ``units`` (field -> unit name, from the column's header or the mapping) and ``values``
    (field -> value map) come from the column plan. Cells read as in JSON (:mod:`.cells`):
    ``5.4 mmol/L`` carries its unit, ``M`` is male; the plain cases stay on pyarrow's fast
    path and only the distinct texts it refuses are read one by one. (A decimal comma is
    turned into a point by the CSV reader, before this.)"""
    p = empty(n, cx)
    errors = p.errors
    units, values = units or {}, values or {}
    for name, j in cx.numeric_index.items():
        col = columns.get(name)
        cell_unit = None
        if col is not None:
            if name in values:
                col = _mapped_column(col, values[name], n)
            s = _trimmed(col, n)
            numbers, bad, cell_unit, messages = _numbers(s, n, name, j, cx)
            if bad.any():   # only the refused cells become Python strings
                errors.add_mask(bad, name, messages)
            nonfinite = np.isinf(numbers)
            if nonfinite.any():
                errors.add_mask(nonfinite, name, lambda i, s=s: f"{quote(s[i].as_py())} is not a finite number")
                numbers[nonfinite] = np.nan
            p.raw[:, j] = numbers
        ucol = columns.get(f"{name}_unit")
        if ucol is not None:
            u = _lower(_trimmed(ucol, n))
            idx, given, bad = _lookup(u, cx.unit_lower[j])
            if bad.any():       # a spelling of a unit (IU/L, µU/mL)
                idx, bad = _spelled(u, idx, bad, lambda text, j=j: _unit_index(cx, j, text))
            errors.add_mask(bad, f"{name}_unit", lambda i, j=j: cx.unit_choices_message[j])
            p.unit[:, j] = np.where(given & ~bad, idx, p.unit[:, j])
            p.unit_given[:, j] = given & ~bad
            p.unit_bad[:, j] = bad
        header_unit = units.get(name)
        if col is not None and (header_unit is not None or cell_unit is not None):
            _column_units(p, j, cell_unit, None if header_unit is None else cx.unit_lookup[j][header_unit.lower()], cx)
    for name, j in cx.coded_index.items():
        col = columns.get(name)
        if col is None:
            continue
        if name in values:
            col = _mapped_column(col, values[name], n)
        s = _lower(_trimmed(col, n))
        if FIELD_BY_NAME[name].kind == "bool":
            words = list(BOOL_TRUE + BOOL_FALSE)
            idx, present, bad = _lookup(s, words)
            codes = np.where(idx < 0, -1, np.where(idx < len(BOOL_TRUE), 1, 0))
            if bad.any():
                errors.add_mask(bad, name, _messages(s, bad, lambda text: cells.yes_no_problem(text, cx)))
        else:
            idx, present, bad = _lookup(s, cx.choices[j])
            if bad.any():       # a listed spelling (M, ex-smoker), else an error with a suggestion
                idx, bad = _spelled(s, idx, bad, lambda text, name=name, j=j: _choice_index(cx, name, j, text))
                errors.add_mask(bad, name, _messages(s, bad, lambda text, name=name, j=j:
                                                     cells.choice_problem(name, text, cx, j)))
            codes = idx
        p.codes[:, j] = np.where(bad, -1, codes)
    col = columns.get("medications")
    if col is not None:
        _csv_medications(p, _strings(col, n))
    for name in cx.required:
        kind, j = cx.key_slots[name]
        missing = np.isnan(p.raw[:, j]) if kind == "number" else p.codes[:, j] < 0
        has_error = np.zeros(n, dtype=bool)
        rows = [i for i, errs in errors.by_row.items() if name in errs]
        has_error[rows] = True
        errors.add_mask(missing & ~has_error, name, lambda i: REQUIRED_MESSAGE)
    return p


def _unit_index(cx, j, text):
    spelled = cx.names.unit_of(cx.numeric[j], text)
    return None if spelled is None else cx.unit_lookup[j][spelled.lower()]


def _choice_index(cx, name, j, text):
    spelled = cells.choice(name, text, cx)
    return None if spelled is None else cx.choice_lookup[j][spelled]


def _column_units(p, j, cell_unit, header_unit, cx):
    """The units of column ``j``'s values from their cells, the unit column and the header, in that
    order; two different readings of one value are an error (the value is then not read)."""
    present = ~np.isnan(p.raw[:, j])
    n = len(present)
    sources = [(np.where(p.unit_given[:, j], p.unit[:, j], -1), f"{cx.numeric[j]}_unit")]
    if cell_unit is not None:
        sources.insert(0, (cell_unit, "the value"))
    if header_unit is not None:
        sources.append((np.full(n, header_unit), "the column header"))
    reading = _readings(cx, j)
    final = np.full(n, -1)
    first_reading = np.full(n, -1)
    conflict = np.zeros(n, dtype=bool)
    for units, _ in sources:
        given = (units >= 0) & present
        r = np.where(given, reading.take(np.maximum(units, 0)), -1)
        conflict |= given & (first_reading >= 0) & (r != first_reading)
        first_reading = np.where(first_reading < 0, r, first_reading)
        final = np.where((final < 0) & given, units, final)
    if conflict.any():
        def message(i):
            said = [f"{where} says {cx.unit_names[j][int(u[i])]}" for u, where in sources if u[i] >= 0]
            return "two units for one value: " + " but ".join(said)
        p.errors.add_mask(conflict, cx.numeric[j], message)
        p.unit_bad[:, j] |= conflict
    take = final >= 0
    p.unit[:, j] = np.where(take, final, p.unit[:, j])
    p.unit_given[:, j] |= take


def _readings(cx, j) -> np.ndarray:
    """Per unit of field ``j``, a number shared by the units that read a value alike (uU/mL and mU/L)."""
    pairs = list(zip(cx.factor[j].tolist(), cx.offset[j].tolist(), strict=True))
    return np.array([pairs.index(pair) for pair in pairs])


def _mapped_column(col, table: dict, n):
    """The column through a value map: a cell whose trimmed, lower-case text is a key becomes its value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not table:
        return col
    s = _trimmed(col, n)
    keys = pa.array(list(table), type=pa.string())
    targets = pa.array([cells.as_text(v) for v in table.values()], type=pa.string())
    idx = pc.index_in(_lower(s), value_set=keys)
    return pc.if_else(pc.is_null(idx), s, pc.take(targets, idx))


def _spelled(lowered, idx, bad, resolve):
    """Second look at the refused cells: each distinct text once through ``resolve`` (text -> index
    or None). Returns the indexes and the cells still refused."""
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(lowered)
    texts = enc.dictionary.to_pylist()
    found = np.array([-1 if (k := resolve(text)) is None else k for text in texts] + [-1])
    fixed = found[_as_numpy(enc.indices, -1).astype(np.intp)]
    now = bad & (fixed >= 0)
    return np.where(now, fixed, idx), bad & ~now


def _messages(lowered, bad, message):
    """A per-row message function for the refused cells, one message per distinct text."""
    cache: dict = {}

    def for_row(i):
        text = lowered[i].as_py()
        if text not in cache:
            cache[text] = message(text)
        return cache[text]

    return for_row


def _csv_medications(p, s):
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(s)
    if hasattr(enc, "combine_chunks"):
        enc = enc.combine_chunks()
    lists = []
    for text in enc.dictionary.to_pylist():
        entries = tuple(x.strip() for x in text.split(";") if x.strip())
        lists.append(entries)
    idx = _as_numpy(enc.indices, -1).astype(np.intp)
    too_long = [k for k, e in enumerate(lists)
                if len(e) > MAX_MEDICATIONS or any(len(x) > MAX_MEDICATION_LENGTH for x in e)]
    if too_long:
        bad = np.isin(idx, too_long)
        p.errors.add_mask(bad, "medications", lambda i: (
            f"at most {MAX_MEDICATIONS} names of at most {MAX_MEDICATION_LENGTH} characters each"))
        idx = np.where(bad, -1, idx)
    p.med_index = idx
    p.med_lists = [list(e) for e in lists]


def _lookup(lowered, choices):
    """(index into ``choices`` or -1, cell given, cell invalid) for lower-cased cells; a cell
    spelled as missing (NA, null, ...) counts as not given."""
    import pyarrow as pa
    import pyarrow.compute as pc

    idx = _as_numpy(pc.index_in(lowered, value_set=pa.array(choices)), -1)
    given = _valid(lowered)
    bad = given & (idx < 0)
    if bad.any():
        spelled_missing = _as_numpy(pc.is_in(lowered, value_set=pa.array(sorted(MISSING_SPELLINGS))), False)
        given &= ~spelled_missing
        bad &= ~spelled_missing
    return idx, given, bad


def _trimmed(col, n):
    """Cells as trimmed strings, null where empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if col is None:
        return pa.nulls(n, type=pa.string())
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if not isinstance(col, pa.Array):
        col = pa.array(col, type=pa.string())
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        col = pc.cast(col, pa.string())
    untrimmed = _empty_as_null(col)
    if untrimmed is not None:
        return untrimmed
    col = pc.utf8_trim_whitespace(col)
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def _lower(col):
    """``pc.utf8_lower(col)``, without the copy when no cell has an upper-case or non-ASCII byte."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        offsets = np.frombuffer(col.buffers()[1], dtype=np.int64 if pa.types.is_large_string(col.type) else np.int32,
                                count=col.offset + len(col) + 1)[col.offset:]
        if offsets[-1] == offsets[0]:
            return col
        text = np.frombuffer(col.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
        if text.max() < 0x80 and not ((text >= 0x41) & (text <= 0x5A)).any():
            return col
    return pc.utf8_lower(col)


def _empty_as_null(col):
    """``col`` with empty cells null, without copying the text, when trimming could change no
    cell: no cell starts or ends with a byte that could be (part of) whitespace (ASCII space or
    control, or any non-ASCII byte). None otherwise, and the caller trims properly."""
    import pyarrow as pa

    n, offset = len(col), col.offset
    validity, offsets_buf, data_buf = col.buffers()
    wide = pa.types.is_large_string(col.type)
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32, count=offset + n + 1)[offset:]
    given = np.diff(offsets) > 0
    if offsets[-1] > offsets[0]:
        text = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]:offsets[-1]]
        if text.min() <= 0x20 or text.max() >= 0x7F:  # a space or non-ASCII byte somewhere: check the edges
            edges = np.concatenate((text[offsets[:-1][given] - offsets[0]], text[offsets[1:][given] - 1 - offsets[0]]))
            if ((edges <= 0x20) | (edges >= 0x7F)).any():
                return None
    if validity is not None:
        given &= _bits(validity, offset, n)
    bits = np.zeros(offset + n, dtype=bool)
    bits[offset:] = given
    mask = pa.py_buffer(np.packbits(bits, bitorder="little").tobytes())
    return pa.Array.from_buffers(col.type, n, [mask, offsets_buf, data_buf], offset=offset)


def _strings(col, n):
    """Cells as trimmed strings, null where empty or spelled as missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = _trimmed(col, n)
    missing = pc.is_in(_lower(col), value_set=pa.array(sorted(MISSING_SPELLINGS)))
    return pc.if_else(pc.fill_null(missing, True), pa.scalar(None, pa.string()), col)


def _numbers(s, n, name, j, cx):
    """float64 values (NaN where null), a mask of cells that are not numbers, the unit written in
    each cell (-1 none; None when no cell has one) and the refused cells' messages by row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        values = _as_numpy(pc.cast(s, pa.float64()), np.nan)
        return values, np.zeros(n, dtype=bool), None, None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass   # some cell is not a plain number: parse each distinct text once, below
    enc = pc.dictionary_encode(s)
    dictionary = enc.dictionary.to_pylist()
    parsed = np.full(len(dictionary) + 1, np.nan)
    badmap = np.zeros(len(dictionary) + 1, dtype=bool)
    unitmap = np.full(len(dictionary) + 1, -1)
    messages = [None] * (len(dictionary) + 1)
    for k, text in enumerate(dictionary):
        if text.lower() in MISSING_SPELLINGS:
            continue
        try:
            parsed[k] = float(text)
            continue
        except (ValueError, OverflowError):
            pass
        value, unit, problem = cells.number(text, name, cx)
        if problem:
            badmap[k], messages[k] = True, problem
        else:
            parsed[k] = value
            if unit is not None:
                unitmap[k] = cx.unit_lookup[j][unit.lower()]
    idx = _as_numpy(enc.indices, -1).astype(np.intp)
    cell_unit = unitmap[idx] if (unitmap >= 0).any() else None
    return parsed[idx], badmap[idx], cell_unit, lambda i: messages[idx[i]]


def _as_numpy(arr, fill) -> np.ndarray:
    """A new numpy array from a pyarrow numeric or boolean array, nulls as ``fill``.

    Read from the buffers: pyarrow's own ``to_numpy`` copies twice and goes through its pandas
    bridge, which imports pandas (about 0.3 s and 40 MB in a batch worker that never needs it)."""
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n, offset = len(arr), arr.offset
    data = arr.buffers()[1]
    if pa.types.is_boolean(arr.type):
        out = _bits(data, offset, n)
    else:
        out = np.frombuffer(data, dtype=np.dtype(arr.type.to_pandas_dtype()), count=offset + n)[offset:].copy()
    if arr.null_count:
        out[~_valid(arr)] = fill
    return out


def _valid(arr) -> np.ndarray:
    """Which cells of a pyarrow array are not null, as a numpy bool array."""
    validity = arr.buffers()[0]
    if validity is None or not arr.null_count:
        return np.ones(len(arr), dtype=bool)
    return _bits(validity, arr.offset, len(arr))


def _bits(buffer, offset, n) -> np.ndarray:
    return np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), count=offset + n, bitorder="little")[offset:].astype(bool)

