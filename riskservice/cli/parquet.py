"""``riskservice score-parquet``: a Parquet file or dataset scored with Dask (:mod:`riskservice.daskscore`),
with the same column options and report as ``score-csv``."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from riskservice.cli.columns import build_mapping, mapping_options, problems_text, report_text


@click.command("score-parquet")
@click.argument("infile", type=click.Path(exists=True))
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--scheduler", help="Address of a running dask.distributed scheduler (default: a local cluster).")
@click.option("--workers", type=int, default=None, help="Local cluster: worker processes (default: one per core).")
@click.option("--no-model", is_flag=True, help="Rules and indices only (probability left empty).")
@click.option("--audience", type=click.Choice(["clinician", "patient"]), default="clinician",
              help="patient: plain-language mechanism labels.")
@mapping_options
def score_parquet_command(infile, outdir, scheduler, workers, no_model, audience, maps, map_file, ignores, units):
    """Score a Parquet file or dataset with Dask into the Parquet directory OUTDIR.

    Columns are recognised as score-csv recognises a header (names, synonyms, the mapping
    options); the report of used and ignored columns is printed before any task runs. Same
    columns as score-csv's output; one output row per input row. Exit status: 0 when every row
    scored, 2 when some rows had errors (in their `error` column), 1 on a fatal error.
    """
    import pyarrow.dataset as ds

    from riskservice.core import header
    from riskservice.core.knowledge import load_knowledge
    from riskservice.daskscore import score_parquet
    from riskservice.rows.batch import HeaderProblem

    mapping = build_mapping(maps, map_file, ignores, units)
    plan = header.plan_columns([str(n) for n in ds.dataset(str(infile), format="parquet").schema.names],
                               load_knowledge(), mapping)
    if plan.problems:
        click.echo("error: " + problems_text(HeaderProblem(plan.problems)), err=True)
        sys.exit(1)
    click.echo(report_text(plan.report()), err=True)
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise click.ClickException("score-parquet needs Dask: pip install 'riskservice[dask]'") from None
    if Path(outdir).exists() and any(Path(outdir).iterdir()):
        raise click.ClickException(f"{outdir} exists and is not empty")
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
        with client:
            stats = score_parquet(infile, outdir, client=client, model=not no_model, audience=audience,
                                  mapping=mapping)
    finally:
        if cluster is not None:
            cluster.close()
    click.echo(f"{stats['rows_out']} rows ({stats['rows_out'] - stats['errors']} scored, {stats['errors']} with "
               f"errors) in {stats['seconds']:.1f} s -> {outdir}", err=True)
    sys.exit(2 if stats["errors"] else 0)
