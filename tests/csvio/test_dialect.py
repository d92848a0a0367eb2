"""Dialects, encodings and spreadsheet safety, each on its own."""
import codecs
import io

import pyarrow as pa
import pytest

from riskservice.csvio.dialect import CsvOptions, DialectError, delimiter_hint, detect_delimiter
from riskservice.csvio.encoding import UnknownEncoding, codec_for, open_input
from riskservice.csvio.safety import neutralise_array, neutralise_value


@pytest.mark.parametrize("header, expected", [
    ("id,age,sex", ","), ("id;age;sex", ";"), ("id\tage\tsex", "\t"), ("age", ","),
    ('"a;b",age,sex', ","), ("id;age;sex,x", ";"),
])
def test_delimiter_is_the_one_giving_most_columns(header, expected):
    assert detect_delimiter(header) == expected


def test_options_from_user_strings():
    assert CsvOptions.parse("semicolon", ",").delimiter == ";"
    assert CsvOptions.parse("\t").delimiter == "\t" and CsvOptions.parse("tab").delimiter == "\t"
    assert CsvOptions.parse(None, None) == CsvOptions()
    with pytest.raises(DialectError, match="needs another delimiter"):
        CsvOptions.parse(",", ",")
    with pytest.raises(DialectError) as exc:
        CsvOptions.parse("#")
    assert exc.value.field == "delimiter"
    with pytest.raises(DialectError):
        CsvOptions.parse(None, "'")


def test_a_one_column_header_names_the_delimiter_it_holds():
    assert "semicolon" in delimiter_hint(["id;age;sex"], ",")
    assert delimiter_hint(["age", "sex"], ",") is None
    assert delimiter_hint(["age"], ",") is None


class Pipe(io.RawIOBase):
    """A stream that cannot seek (standard input, a socket)."""

    def __init__(self, data):
        self.inner = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        chunk = self.inner.read(min(len(b), 3))  # short reads on purpose
        b[:len(chunk)] = chunk
        return len(chunk)


TEXT = "id,age,sex,note\r\na,50,male,café ☕\n"


@pytest.mark.parametrize("data, declared, codec", [
    (TEXT.encode(), None, "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode(), None, "utf-8"),
    (TEXT.encode("utf-16"), None, "utf-16-le"),          # BOM wins over the (absent) declaration
    (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "latin-1", "utf-16-be"),
    (TEXT.replace(" ☕", "").encode("latin-1"), "ISO-8859-1", "latin-1"),
    (TEXT.replace(" ☕", "").encode("cp1252"), "windows-1252", "cp1252"),
])
@pytest.mark.parametrize("wrap", [io.BytesIO, lambda d: io.BufferedReader(Pipe(d))])
def test_any_supported_encoding_reads_back_as_utf8(data, declared, codec, wrap):
    stream, found = open_input(wrap(data), declared)
    assert found == codec
    expected = TEXT if "☕" in data.decode(codec, "ignore") else TEXT.replace(" ☕", "")
    assert stream.readline() == expected.splitlines(keepends=True)[0].encode()
    assert stream.read(5) + stream.read() == expected.splitlines(keepends=True)[1].encode()


def test_undecodable_input_becomes_invalid_utf8_for_its_row_only():
    stream, _ = open_input(io.BytesIO(codecs.BOM_UTF16_LE + "a,b\n".encode("utf-16-le") + b"\x00\xd8" + b"c\x00\n\x00"))
    data = stream.read()
    assert data.startswith(b"a,b\n")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_unknown_encodings_are_refused():
    assert codec_for("UTF-8") == "utf-8" and codec_for(" latin1 ") == "latin-1"
    with pytest.raises(UnknownEncoding):
        codec_for("ebcdic")


@pytest.mark.parametrize("cell, out", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("-3.5", "-3.5"), ("+4", "+4"), ("-1e-3", "-1e-3"), ("plain", "plain"), ("", ""),
    ("a=1", "a=1"),
])
def test_formula_cells_are_neutralised_numbers_are_not(cell, out):
    assert neutralise_value(cell) == out
    assert neutralise_array(pa.array([cell, None])).to_pylist() == [out, None]
