"""The CSV columns adapter's shortcuts give what the general path gives, cell for cell.

``from_columns`` skips trimming when no cell can start or end with whitespace, and reads
numbers and codes straight from pyarrow's buffers; these tests run tricky columns through
both ways and compare every typed array and every message.
"""
import numpy as np
import pyarrow as pa
import pytest

from riskservice.core.engine import engine_for
from riskservice.core.inputs import columns as adapter

CELLS = ["5.1", " 5.1", "5.1 ", "\u00a05.1", "5.1\u2003", "", "NA", "n/a", " ", "abc", "1e400", "inf", "-0", None,
         "\t7", "7\r", "é", "1,5", "+3", ".5"]
WORDS = ["male", " Male", "FEMALE", "", None, "NA", "x", "m\u00e4le", "female\u3000", "na "]


def _columns(cells, words, wide=False, sliced=False):
    n = len(cells)
    typ = pa.large_string() if wide else pa.string()

    def arr(values):
        values = (values * (n // len(values) + 1))[:n]
        if sliced:
            return pa.array(["pad", *values, "pad"], type=typ).slice(1, n)
        return pa.array(values, type=typ)

    return {"age": arr(cells), "weight": arr(cells[::-1]), "weight_unit": arr(["kg", " KG", "", "lb", None]),
            "sex": arr(words), "smoking": arr(["never", "Current ", "", None, "sometimes"]),
            "hypertension": arr(["true", " no", "", "maybe", None]),
            "medications": arr(["metformin", " metformin ; aspirin", "", "NA", None])}, n


def _same(a, b):
    for name in ("raw", "unit", "unit_given", "unit_bad", "codes", "med_index"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.med_lists == b.med_lists
    assert a.errors.by_row == b.errors.by_row


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("sliced", [False, True])
@pytest.mark.parametrize("cells", [CELLS, ["5.1", "6", "", "7.25"], ["", ""]])
def test_shortcuts_match_the_general_path(kb, monkeypatch, wide, sliced, cells):
    cx = engine_for(kb, None).cx
    columns, n = _columns(cells, WORDS, wide, sliced)
    fast = adapter.from_columns(columns, n, cx)
    monkeypatch.setattr(adapter, "_empty_as_null", lambda col: None)
    monkeypatch.setattr(adapter, "_as_numpy", lambda arr, fill: _general_numpy(arr, fill))
    _same(fast, adapter.from_columns(columns, n, cx))


def _general_numpy(arr, fill):
    import pyarrow.compute as pc
    return np.asarray(pc.fill_null(arr, fill).to_numpy(zero_copy_only=False)).copy()


def test_whitespace_only_where_trimming_matters():
    col = pa.array(["1", "", None, "22"])
    out = adapter._empty_as_null(col)
    assert out.to_pylist() == ["1", None, None, "22"]
    assert adapter._empty_as_null(pa.array(["1", " 2"])) is None
    assert adapter._empty_as_null(pa.array(["1", "2\u00a0"])) is None
    assert adapter._empty_as_null(pa.array(["1 2", "3"])).to_pylist() == ["1 2", "3"]  # inside a cell: kept
