"""Spreadsheet safety for CSV output (OWASP "CSV injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or carriage return) as a formula. Output text cells starting so that are not plain numbers
get a leading apostrophe, which spreadsheets show as text. ``-3.5`` stays a number. This
applies to what the caller sent back to them (passthrough cells, header names); the
service's own texts never start with a trigger.
Machine consumers can turn this off (``?csv_safe=false``, ``--no-csv-safe``).
"""
from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_NUMBER = re.compile(NUMBER)


def neutralise_value(value):
    """One cell (Python side: header names and rows that could not be read)."""
    if isinstance(value, str) and value[:1] in TRIGGERS and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_array(arr: pa.Array) -> pa.Array:
    """The same rule over a string column, in C++; untouched when no cell starts with a trigger."""
    first = pc.utf8_slice_codeunits(arr, 0, 1)
    risky = pc.is_in(first, value_set=pa.array(TRIGGERS))
    if not pc.any(risky).as_py():
        return arr
    risky = pc.and_(risky, pc.invert(pc.match_substring_regex(arr, NUMBER)))
    return pc.if_else(risky, pc.binary_join_element_wise("'", arr, ""), arr)


def neutralise_table(table: pa.Table, only) -> pa.Table:
    """Neutralise the string columns named in ``only`` (the caller's passthrough columns; the
    service's own texts come from the validated knowledge base and never start so)."""
    columns = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if name in only and (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            col = pa.chunked_array([neutralise_array(c) for c in col.chunks], type=col.type)
        columns.append(col)
    return pa.table(columns, names=table.column_names)
