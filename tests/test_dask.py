"""Dask path (issue 13 section 5): a Parquet dataset or Dask DataFrame scores partition by
partition with the same engine, field for field equal to the CSV path, every row accounted for."""
import importlib.util
import json

import pytest

pytest.importorskip("dask.distributed")

import dask.dataframe as dd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.dataset as ds  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from dask.distributed import Client, LocalCluster  # noqa: E402

from riskservice import daskscore  # noqa: E402
from riskservice.cli import main  # noqa: E402
from riskservice.rows import batch as rowbatch  # noqa: E402
from riskservice.rows import output as rowoutput  # noqa: E402
from tests.paths import REPO  # noqa: E402


def _make_csv():
    spec = importlib.util.spec_from_file_location("make_csv", REPO / "bench" / "make_csv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c, \
            Client(c) as client:
        yield client


def patients(tmp_path, rows, row_group=None):
    """The benchmark's synthetic patients (1% broken ages, blanks, mixed units) as a CSV and as
    a typed Parquet file (numbers as doubles, blanks as nulls), with several row groups."""
    csv_path = tmp_path / "patients.csv"
    _make_csv()(rows).to_csv(csv_path, index=False)
    table = pacsv.read_csv(csv_path)
    assert pa.types.is_floating(table.schema.field("waist").type)   # really typed, not text
    parquet_path = tmp_path / "patients.parquet"
    pq.write_table(table, parquet_path, row_group_size=row_group or max(rows // 4, 1))
    return csv_path, parquet_path


def csv_path_output(full_scorer, csv_path) -> list:
    batch = rowbatch.BatchScorer(full_scorer.knowledge, full_scorer.model)
    with open(csv_path, "rb") as fh:
        return b"".join(batch.iter_csv(fh)).decode().splitlines()


def as_csv_lines(outdir) -> list:
    table = ds.dataset(str(outdir), format="parquet").to_table()
    return (rowoutput.csv_line(table.column_names) + rowoutput.table_csv(table)).decode().splitlines()


def check_same_as_csv(full_scorer, cluster, tmp_path, rows):
    csv_path, parquet_path = patients(tmp_path, rows)
    out = tmp_path / "out"
    stats = daskscore.score_parquet(parquet_path, out, client=cluster, rows_per_partition=max(rows // 4, 1))
    assert stats["rows_in"] == stats["rows_out"] == rows
    expected = csv_path_output(full_scorer, csv_path)
    got = as_csv_lines(out)
    assert got[0] == expected[0]                       # same columns, same order
    assert len(got) == len(expected) == rows + 1
    differing = [i for i, (a, b) in enumerate(zip(expected, got)) if a != b]
    assert differing == [], (expected[differing[0]], got[differing[0]]) if differing else None
    assert stats["errors"] == sum(1 for line in expected[1:] if "age:" in line) > 0
    return out


def test_parquet_scores_like_the_csv_path(full_scorer, cluster, tmp_path):
    out = check_same_as_csv(full_scorer, cluster, tmp_path, 4000)
    assert len(list(out.glob("*.parquet"))) >= 2            # partition by partition
    schema = ds.dataset(str(out), format="parquet").schema
    assert schema.field("points").type == pa.int64() and schema.field("probability").type == pa.float64()


def test_a_task_scores_in_slices_without_changing_a_row(full_scorer, cluster, tmp_path, monkeypatch):
    """Slices of 97 rows: most hold no error row (1% broken ages), so a slice's column types must
    not depend on its rows; the output is still the CSV path's, row for row."""
    monkeypatch.setattr(daskscore, "SLICE_ROWS", 97)
    out = check_same_as_csv(full_scorer, cluster, tmp_path, 2000)
    assert max(pq.ParquetFile(f).metadata.num_row_groups for f in out.glob("*.parquet")) >= 5


@pytest.mark.slow
def test_100000_patients_field_for_field(full_scorer, cluster, tmp_path):
    check_same_as_csv(full_scorer, cluster, tmp_path, 100_000)


@pytest.mark.parametrize("slice_rows", [25_000, 3])
def test_dask_dataframe_entry_point(full_scorer, cluster, monkeypatch, slice_rows):
    import pandas as pd
    monkeypatch.setattr(daskscore, "SLICE_ROWS", slice_rows)   # 3: partitions of 4 rows in 2 slices each
    frame = pd.DataFrame({"id": [f"p{i}" for i in range(12)], "age": [40 + i for i in range(11)] + [15],
                          "sex": ["male", "female"] * 6, "bmi": [22.0 + i for i in range(12)],
                          "hdl_cholesterol": [1.0] * 12, "hdl_cholesterol_unit": ["mmol/L"] * 12})
    ddf = dd.from_pandas(frame, npartitions=3)
    result = daskscore.score_dataframe(ddf).compute()
    assert list(result.index) == list(frame.index) and list(result["id"]) == list(frame["id"])
    one = full_scorer.score({"age": 41, "sex": "female", "bmi": 23.0, "hdl_cholesterol": 1.0,
                             "hdl_cholesterol_unit": "mmol/L"})
    assert result["points"].iloc[1] == one["rules"]["points"]
    assert result["dysglycaemia_probability"].iloc[1] == pytest.approx(one["dysglycaemia"]["probability"], rel=1e-12)
    assert result["error"].iloc[11].startswith("age:") and pd.isna(result["points"].iloc[11])
    assert result["error"].iloc[:11].isna().all()


def test_missing_required_column_is_refused(cluster, tmp_path):
    pq.write_table(pa.table({"age": [50]}), tmp_path / "x.parquet")
    with pytest.raises(rowbatch.HeaderProblem):
        daskscore.score_parquet(tmp_path / "x.parquet", tmp_path / "out", client=cluster)


def test_cli_score_parquet(runner, cluster, tmp_path):
    _, parquet_path = patients(tmp_path, 600)
    out = tmp_path / "out"
    result = runner.invoke(main, ["score-parquet", str(parquet_path), str(out), "--scheduler",
                                  cluster.scheduler.address])
    assert result.exit_code == 2, result.output     # the 1% broken ages are rows with errors
    assert daskscore.parquet_rows(out) == 600
    assert "600 rows" in result.output
    again = runner.invoke(main, ["score-parquet", str(parquet_path), str(out), "--scheduler",
                                 cluster.scheduler.address])
    assert again.exit_code == 1 and "not empty" in again.output


def test_cli_clean_input_exits_0(runner, cluster, tmp_path):
    pq.write_table(pa.table({"age": [50, 61], "sex": ["male", "female"], "note": [json.dumps({}), "x"]}),
                   tmp_path / "ok.parquet")
    result = runner.invoke(main, ["score-parquet", str(tmp_path / "ok.parquet"), str(tmp_path / "out"),
                                  "--scheduler", cluster.scheduler.address, "--no-model"])
    assert result.exit_code == 0, result.output
    table = ds.dataset(str(tmp_path / "out"), format="parquet").to_table()
    assert table.column("note").to_pylist() == ["{}", "x"] and table.column("probability").null_count == 2
