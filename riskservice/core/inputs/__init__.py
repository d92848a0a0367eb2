"""Input adapters: JSON records and CSV columns become the same typed arrays plus cell errors.

Nothing clinical happens here. Both adapters read the one field table
(:mod:`riskservice.core.fields`) and the compiled knowledge (:mod:`riskservice.core.compiled`),
and they match values the same way: enumerations and units case-insensitively after trimming,
the same missing-value spellings, the same messages. Units, ranges and derived values are
applied afterwards, once, by the engine.

Modules: ``parsed`` (what an adapter produces), ``records`` (JSON objects), ``columns`` (text
columns), ``cells`` (one cell as people write it: numbers with units, yes/no words, answers).
"""
from riskservice.core.inputs.columns import from_columns
from riskservice.core.inputs.parsed import Parsed, RowErrors
from riskservice.core.inputs.records import from_records

__all__ = ["Parsed", "RowErrors", "from_columns", "from_records"]
