"""The output file is written without truncating it first and cut to the new bytes at the end."""
import os

from riskservice import batchio
from riskservice.cli import batch as score_csv
from riskservice.cli.output import close_output, open_output
from riskservice.csvio.dialect import CsvOptions
from tests.batchdata import make_csv


def test_a_longer_old_file_is_cut_to_the_new_bytes_and_keeps_its_inode(tmp_path):
    path = tmp_path / "out.csv"
    path.write_bytes(b"x" * 10_000)
    os.link(path, tmp_path / "link.csv")
    f = open_output(str(path))
    f.write(b"new\n")
    close_output(f)
    assert path.read_bytes() == b"new\n" == (tmp_path / "link.csv").read_bytes()


def test_score_csv_over_an_existing_output_writes_exactly_its_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(batchio, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(score_csv, "PARALLEL_MIN_BYTES", 0)
    body, _ = make_csv(n=1500)
    src = tmp_path / "in.csv"
    src.write_bytes(body)
    outs = []
    for workers in (1, 2):
        fresh, reused = tmp_path / f"fresh{workers}.csv", tmp_path / f"reused{workers}.csv"
        reused.write_bytes(b"old row\n" * 200_000)  # longer than the result
        for dst in (fresh, reused):
            code = score_csv.run_score_csv(str(src), str(dst), quiet=True, model=False, workers=workers,
                                           options=CsvOptions())
            assert code == 2
        assert reused.read_bytes() == fresh.read_bytes()
        outs.append(fresh.read_bytes())
    assert outs[0] == outs[1] and outs[0].count(b"\n") == 1501
