"""`riskservice score-csv`: dialect flags, a failing block, record-boundary segments."""
import csv
import io

from click.testing import CliRunner

from riskservice.cli import batch as score_csv
from riskservice.cli import main
from riskservice.csvio.dialect import CsvOptions
from riskservice.rows import batch, blocks
from tests.api.test_batch import check_failed_block, fail_second_block
from tests.batchdata import make_csv


def run(args, tmp_path, data: bytes):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(data)
    result = CliRunner().invoke(main, ["score-csv", str(src), "-o", str(dst), "--quiet", "--no-model", *args])
    out = dst.read_bytes() if dst.exists() else b""
    return result, list(csv.DictReader(io.StringIO(out.decode("utf-8"), newline="")))


def test_dialect_flags(tmp_path):
    data = "id;age;sex;bmi\n=x;52;male;31,2\n".encode("latin-1")
    result, rows = run(["--decimal", ",", "--encoding", "latin-1"], tmp_path, data)
    assert result.exit_code == 0, result.output
    _, plain = run([], tmp_path, b"id,age,sex,bmi\nx,52,male,31.2\n")
    assert (rows[0]["id"], rows[0]["points"]) == ("'=x", plain[0]["points"]) and plain[0]["points"] != ""
    result, rows = run(["--decimal", ",", "--no-csv-safe", "--delimiter", "semicolon"], tmp_path, data)
    assert result.exit_code == 0 and rows[0]["id"] == "=x"
    result, rows = run(["--delimiter", "comma"], tmp_path, data)
    assert result.exit_code == 1 and "semicolon" in result.output and "'age' is missing" not in result.output
    result, _ = run(["--decimal", ",", "--delimiter", ","], tmp_path, data)
    assert result.exit_code == 2 and "another delimiter" in result.output
    result, _ = run(["--encoding", "ebcdic"], tmp_path, data)
    assert result.exit_code == 2 and "Unsupported encoding" in result.output


def test_column_limit_applies_to_the_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKSERVICE_BATCH_MAX_COLUMNS", "3")
    result, _ = run([], tmp_path, b"id,age,sex,x\n1,50,male,2\n")
    assert result.exit_code == 1 and "4 columns exceed the limit of 3" in result.output


def test_a_failing_block_becomes_error_rows_and_the_file_goes_on(tmp_path, monkeypatch, caplog):
    calls = fail_second_block(monkeypatch)
    body, expected = make_csv(n=600)
    result, _ = run([], tmp_path, body)
    assert result.exit_code == 2, result.output
    assert "rows 600," in result.output
    check_failed_block((tmp_path / "out.csv").read_bytes(), expected, calls)
    text = " ".join(r.getMessage() for r in caplog.records if r.name == "riskservice.batch")
    assert "Injected" in text and "cell value" not in text


def test_parallel_segments_start_on_record_boundaries(tmp_path, monkeypatch):
    """Quoted line breaks everywhere: the segment cuts must never fall inside one."""
    monkeypatch.setattr(blocks, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(score_csv, "PARALLEL_MIN_BYTES", 0)
    note = "line one, \"quoted\"\n" * 30
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "age", "sex", "note"])
    for k in range(3000):
        w.writerow([f"p{k}", 20 + k % 60, "female" if k % 2 else "male", note if k % 4 else ""])
        if k % 500 == 7:
            buf.write(f'p{k}x,50,"male\n')  # an unclosed quote now and then
    src = tmp_path / "in.csv"
    src.write_text(buf.getvalue())
    outs = []
    for workers in (1, 3):
        dst = tmp_path / f"out{workers}.csv"
        code = score_csv.run_score_csv(str(src), str(dst), quiet=True, model=False, workers=workers,
                                       options=CsvOptions())
        assert code == 2
        outs.append(dst.read_bytes())
    assert outs[0] == outs[1]
    rows = list(csv.DictReader(io.StringIO(outs[1].decode(), newline="")))
    assert len(rows) == 3006 and sum(r["error"] != "" for r in rows) == 6
    assert all(r["note"] in ("", note) for r in rows)


def test_a_worker_that_dies_ends_the_run_with_an_error_and_no_output(tmp_path, monkeypatch):
    """A killed worker (out of memory, say) must not leave the others waiting for their turn
    to write, nor leave a file that looks complete."""
    import os

    monkeypatch.setattr(blocks, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(score_csv, "PARALLEL_MIN_BYTES", 0)
    body, _ = make_csv(n=3000)
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(body)
    real = batch.BatchScorer.iter_csv

    def dies_midway(self, stream, stats=None, header=None, write_header=True, first_line=2, **kw):
        if first_line > 1500:
            os._exit(9)
        yield from real(self, stream, stats, header=header, write_header=write_header, first_line=first_line, **kw)

    monkeypatch.setattr(batch.BatchScorer, "iter_csv", dies_midway)
    code = score_csv.run_score_csv(str(src), str(dst), quiet=True, model=False, workers=2, options=CsvOptions())
    assert code == 1 and not dst.exists()


def test_workers_spare_the_pandas_import_and_pandas_still_works():
    import subprocess
    import sys

    code = ("import sys; from riskservice.cli import batch; batch._pyarrow_without_pandas(); "
            "import numpy as np, pyarrow as pa; pa.array(np.arange(3), mask=np.zeros(3, bool)); "
            "print('pandas' in sys.modules, type(pa.table({'a': [1]}).to_pandas()).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "DataFrame"]


def test_the_output_may_not_be_the_input(tmp_path):
    body, _ = make_csv(n=5)
    src = tmp_path / "in.csv"
    src.write_bytes(body)
    assert score_csv.run_score_csv(str(src), str(src), quiet=True, model=False) == 1
    assert src.read_bytes() == body


def test_workers_that_must_wait_for_their_turn_still_write_every_row_in_order(tmp_path, monkeypatch):
    """No output may be held back (PENDING_LIMIT 0): each worker waits for its turn after every
    chunk, and the file comes out as one process writes it."""
    monkeypatch.setattr(blocks, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(score_csv, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(score_csv, "PENDING_LIMIT", 0)
    body, _ = make_csv(n=2000)
    src = tmp_path / "in.csv"
    src.write_bytes(body)
    outs = []
    for workers in (1, 3):
        dst = tmp_path / f"out{workers}.csv"
        score_csv.run_score_csv(str(src), str(dst), quiet=True, model=False, workers=workers, options=CsvOptions())
        outs.append(dst.read_bytes())
    assert outs[0] == outs[1] and outs[0].count(b"\n") == 2001


def test_a_small_file_is_scored_without_importing_pandas(tmp_path):
    """The serial path (a file below PARALLEL_MIN_BYTES) skips pandas too: about 0.25 s and 30 MB
    before the first row."""
    import subprocess
    import sys

    body, _ = make_csv(n=5)
    src = tmp_path / "in.csv"
    src.write_bytes(body)
    code = ("import sys; from riskservice.cli.batch import run_score_csv; "
            f"rc = run_score_csv({str(src)!r}, {str(tmp_path / 'out.csv')!r}, quiet=True); "
            "print(rc, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]
