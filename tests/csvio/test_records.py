"""RFC 4180 records: the block reader agrees with Python's csv module wherever blocks are cut."""
import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from riskservice.csvio import records
from riskservice.csvio.records import clean_prefix, split_blocks
from riskservice.rows.batch import CsvHeader
from riskservice.rows.blocks import parse_block

NAMES = ["a", "b", "c"]


def read_all(data: bytes, block_size: int, delimiter=","):
    """Every record as (kind, cells-or-message), in order, through the real block pipeline."""
    header = CsvHeader(NAMES, None, delimiter)
    out = []
    for block in split_blocks(io.BytesIO(data), delimiter, block_size):
        parsed = parse_block(block, header)
        rows = parsed.table.to_pylist()
        errors = {position: message for position, message, _ in parsed.errors}
        for position in range(parsed.rows):
            if position in errors:
                out.append(("error", errors[position]))
            else:
                row = rows.pop(0)
                out.append(("ok", [row[n] for n in NAMES]))
        assert not rows
    return out


cell = st.text(alphabet=st.sampled_from(list('ab,;"\n\r é')), max_size=12)


def rfc4180(rows, terminator, quote_all):
    """RFC 4180 text: a cell holding a delimiter, quote, CR or LF is quoted (csv.writer leaves a
    lone CR unquoted when the terminator is LF), other cells are quoted when ``quote_all``."""
    def q(c):
        return '"' + c.replace('"', '""') + '"' if quote_all or any(x in c for x in ',"\r\n') else c
    return "".join(",".join(q(c) for c in row) + terminator for row in rows)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=25),
       terminator=st.sampled_from(["\n", "\r\n"]), block_size=st.integers(1, 64), quote_all=st.booleans())
def test_any_quoted_cells_at_any_block_size_match_the_csv_module(rows, terminator, block_size, quote_all):
    text = rfc4180(rows, terminator, quote_all)
    expected = [("ok", r) for r in csv.reader(io.StringIO(text, newline=""), strict=True)]
    assert expected == [("ok", r) for r in rows]
    assert read_all(text.encode(), block_size) == expected


def test_a_quoted_cell_spanning_many_blocks_is_one_record():
    note = "\n".join(f"line {k}, with \"quotes\"" for k in range(2000))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([["1", note, "x"], ["2", "y", "z"]])
    out = read_all(buf.getvalue().encode(), 1024)
    assert out == [("ok", ["1", note, "x"]), ("ok", ["2", "y", "z"])]


def test_an_unclosed_quote_costs_its_own_row_only():
    data = b'1,"open,x\n2,b,c\n3,"q",c\n4,b,c\n5,"never closed\n'
    out = read_all(data, 8)
    assert [k for k, _ in out] == ["error", "ok", "ok", "ok", "error"]
    assert "line 2 has a quoted cell that does not end" in out[0][1]
    assert out[1:4] == [("ok", ["2", "b", "c"]), ("ok", ["3", "q", "c"]), ("ok", ["4", "b", "c"])]
    assert "line 6 opens a quoted cell that is never closed" in out[4][1]


def test_wrong_field_counts_and_bare_cr_are_error_rows_in_place():
    data = b"1,b,c\n2,b\n\n3,b,c,d\n4\rx,b,c\n5,b,c"
    out = read_all(data, 4096)
    assert [k for k, _ in out] == ["ok", "error", "ok", "error", "error", "ok"]
    assert "line 3 of the file has 2 fields, the header has 3" in out[1][1]
    assert "line 6 has a carriage return outside quotes" in out[4][1]
    assert out[5] == ("ok", ["5", "b", "c"])


def test_a_blank_line_is_a_row_of_empty_cells_on_both_paths():
    for data in (b"1,b,c\n\n2,b,c\n", b'1,"b\nb",c\n\n2,b,c\n'):  # fast path, slow path
        assert read_all(data, 4096)[1] == ("ok", ["", "", ""])


def test_bytes_that_are_not_utf8_fail_their_row_only():
    data = b"1,b,c\n2,caf\xe9,c\n3,\xed\xa0\x80,c\n4,b,c\n"
    out = read_all(data, 4096)
    assert [k for k, _ in out] == ["ok", "error", "error", "ok"]
    assert "not valid text" in out[1][1]


def test_a_record_past_the_size_cap_is_refused_and_reading_resumes(monkeypatch):
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 200)
    data = b'1,"' + b"x\n" * 300 + b'",c\n2,b,c\n'
    out = read_all(data, 64)
    assert out[0][0] == "error" and "longer than" in out[0][1]
    assert out[-1] == ("ok", ["2", "b", "c"])
    assert len(out) == 1 + 299 + 1 + 1  # the refused record's lines are read again as records


def test_clean_prefix_stops_at_the_line_holding_the_first_problem():
    data = b'1,"a,b",c\n2,b"x,c\n3,b,c\n'
    end = len(data)
    assert clean_prefix(data, end, ord(",")) == len(b'1,"a,b",c\n')
    assert clean_prefix(b'1,"a""b",c\r\n', 12, ord(",")) == 12
    assert clean_prefix(b'1;"a";c\n', 8, ord(";")) == 8
    assert clean_prefix(b'1;"a";c\n', 8, ord(",")) == 0
