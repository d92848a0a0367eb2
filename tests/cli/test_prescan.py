"""The prescan child: its segments are the parent's own, and the parent carries on when it fails."""
import csv
import io
import os

from click.testing import CliRunner

from riskservice.cli import batch as score_csv
from riskservice.cli import main
from riskservice.cli import prescan as pre
from riskservice.cli import segments as seg
from riskservice.csvio.dialect import CsvOptions
from riskservice.rows import blocks

BLOCK = 4096


def quoted_file(tmp_path, n=3000):
    """Quoted line breaks everywhere and an unclosed quote now and then (as in test_score_csv)."""
    note = "line one, \"quoted\"\n" * 30
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "age", "sex", "note"])
    for k in range(n):
        w.writerow([f"p{k}", 20 + k % 60, "female" if k % 2 else "male", note if k % 4 else ""])
        if k % 500 == 7:
            buf.write(f'p{k}x,50,"male\n')
    src = tmp_path / "in.csv"
    src.write_text(buf.getvalue())
    return src


def own(src, block=BLOCK):
    with open(src, "rb") as f:
        header_end = len(f.readline())
    return list(seg.segments(str(src), ",", header_end, os.path.getsize(src), block, 2)), header_end


def small(monkeypatch):
    monkeypatch.setattr(seg, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(pre, "BLOCK_SIZE", BLOCK)


def test_the_childs_segments_are_the_parents_own(tmp_path, monkeypatch):
    small(monkeypatch)
    src = quoted_file(tmp_path)
    expected, header_end = own(src)
    p = pre.Prescan.start(str(src), None, workers=2)

    def not_here(*args, **kwargs):
        raise AssertionError("the parent scanned the file itself")

    monkeypatch.setattr(seg, "segments", not_here)  # the child was forked with the real one
    try:
        got = list(p.segments(str(src), header_end, ",", os.path.getsize(src), BLOCK, 2))
    finally:
        p.close()
    assert got == expected and len(got) > 10


def test_a_child_that_saw_another_file_layout_is_ignored(tmp_path, monkeypatch):
    small(monkeypatch)
    src = quoted_file(tmp_path)
    expected, header_end = own(src, block=2 * BLOCK)
    p = pre.Prescan.start(str(src), None, workers=2)
    try:  # the parent reads with another block size: every segment is found here
        got = list(p.segments(str(src), header_end, ",", os.path.getsize(src), 2 * BLOCK, 2))
    finally:
        p.close()
    assert got == expected


def test_the_parent_goes_on_from_where_a_failing_child_stopped(tmp_path, monkeypatch):
    small(monkeypatch)
    monkeypatch.setattr(score_csv, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(blocks, "BLOCK_SIZE", BLOCK)
    src = quoted_file(tmp_path)
    expected, header_end = own(src)
    real = seg.segments

    def three_then_fail(*args, **kwargs):
        for k, task in enumerate(real(*args, **kwargs)):
            if k == 3:
                raise RuntimeError("the child fails")
            yield task

    def failing_prescan():
        monkeypatch.setattr(seg, "segments", three_then_fail)
        p = pre.Prescan.start(str(src), None, workers=2)
        monkeypatch.setattr(seg, "segments", real)
        return p

    p = failing_prescan()
    try:
        got = list(p.segments(str(src), header_end, ",", os.path.getsize(src), BLOCK, 2))
    finally:
        p.close()
    assert got[:3] == expected[:3] and [t[0] for t in got] == list(range(len(got)))
    assert [t[1] for t in got[1:]] == [t[2] for t in got[:-1]] and got[-1][2] == os.path.getsize(src)
    outs = []
    for workers, prescan in ((1, None), (2, failing_prescan())):
        dst = tmp_path / f"out{workers}.csv"
        try:
            code = score_csv.run_score_csv(str(src), str(dst), quiet=True, model=False, workers=workers,
                                           options=CsvOptions(), prescan=prescan)
        finally:
            if prescan is not None:
                prescan.close()
        assert code == 2
        outs.append(dst.read_bytes())
    assert outs[0] == outs[1]


def test_score_csv_with_a_prescan_writes_what_one_process_writes(tmp_path, monkeypatch):
    small(monkeypatch)
    monkeypatch.setattr(score_csv, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(blocks, "BLOCK_SIZE", BLOCK)
    src = quoted_file(tmp_path)
    one = tmp_path / "one.csv"
    assert score_csv.run_score_csv(str(src), str(one), quiet=True, model=False, workers=1,
                                   options=CsvOptions()) == 2
    started = []
    real_start = pre.Prescan.start.__func__

    def spy(cls, *args, **kwargs):
        started.append(real_start(cls, *args, **kwargs))
        return started[-1]

    monkeypatch.setattr(pre.Prescan, "start", classmethod(spy))
    dst = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["score-csv", str(src), "-o", str(dst), "--quiet", "--no-model"])
    assert result.exit_code == 2, result.output
    assert started and started[0] is not None
    assert dst.read_bytes() == one.read_bytes()


def test_no_prescan_for_standard_input_or_a_small_file(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(b"id,age,sex\n1,50,male\n")
    assert pre.Prescan.start("-", None, workers=2) is None
    assert pre.Prescan.start(str(src), None, workers=2) is None
    assert pre.Prescan.start(str(src), None, workers=1) is None
