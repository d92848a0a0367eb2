"""``riskservice derive-percentiles``: where a patient stands among US adults, generated from the
NHANES table the model is trained on.

Reads ``riskservice/model/data/nhanes_fasting_2015_2018.csv`` (its manifest says how it was
built) and writes ``riskservice/knowledge/percentiles.json``: for each measured value (BMI, waist,
fasting insulin, HOMA-IR, triglycerides, HDL cholesterol, HbA1c, fasting glucose), sex and age band,
the survey-weighted 1st..99th percentiles among the primary analysis sample. The file is marked
generated and is never edited by hand; ``--check`` recomputes it and fails when the shipped file
differs (a test runs that check).

The primary analysis sample is the one of the insulin-resistance outcome (ruleset.json
``outcome.population``): adults (the table is 20 and over) without known diabetes (told by a
doctor, or taking insulin or pills to lower blood sugar), not pregnant, with fasting glucose and
insulin measured and neither in the diabetes range (fasting glucose >= 126 mg/dL or HbA1c >= 6.5%).

Weighted quantile: sort the values; each value sits at the middle of its own weight,
position_i = (cumulative weight up to and including i - weight_i / 2) / total weight; the
p-quantile is the value at position p, linearly interpolated (with equal weights this is
Hazen's definition, Hyndman and Fan type 5). Weights: ``weight_pooled`` (WTSAF2YR / 2).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from importlib import resources
from pathlib import Path

import click
import numpy as np

TABLE = "nhanes_fasting_2015_2018.csv"
OUTPUT = "percentiles.json"
GENERATOR = "riskservice derive-percentiles"
GRID = tuple(range(1, 100))
#: Age bands of the table (its ages are 20-80, 80 meaning 80 and over): (label, lowest, highest).
AGE_BANDS = (("20-29", 20, 29), ("30-39", 30, 39), ("40-49", 40, 49), ("50-59", 50, 59), ("60-69", 60, 69),
             ("70 and over", 70, 200))
SEXES = ("female", "male")
#: measure -> (table column, name in sentences, canonical unit); the measures are the service's input
#: fields, and homa_ir its index (fasting insulin x fasting glucose / 405, Matthews 1985).
MEASURES = {
    "bmi": ("bmi", "BMI", "kg/m2"),
    "waist": ("waist_cm", "Waist circumference", "cm"),
    "fasting_insulin": ("fasting_insulin_uu_ml", "Fasting insulin", "uU/mL"),
    "homa_ir": (None, "HOMA-IR", None),
    "triglycerides": ("triglycerides_mg_dl", "Fasting triglycerides", "mg/dL"),
    "hdl_cholesterol": ("hdl_mg_dl", "HDL cholesterol", "mg/dL"),
    "hba1c": ("hba1c_percent", "HbA1c", "%"),
    "fasting_glucose": ("fasting_glucose_mg_dl", "Fasting glucose", "mg/dL"),
}
HOMA_DIVISOR_MGDL = 405.0
DIABETES_FPG_MGDL, DIABETES_HBA1C_PERCENT = 126.0, 6.5
SAMPLE = ("NHANES 2015-2016 and 2017-2018 fasting subsample, adults aged 20 or older without diabetes: "
          "excluded known diabetes (told by a doctor, insulin or pills to lower blood sugar), pregnancy, "
          "missing fasting glucose or insulin, and fasting glucose >= 126 mg/dL or HbA1c >= 6.5%; the primary "
          "analysis sample of the insulin-resistance outcome (ruleset.json outcome.population)")
DEFINITION = ("Survey-weighted quantiles with weight_pooled (WTSAF2YR / 2): values sorted, each at the middle of "
              "its own weight, position = (cumulative weight - weight / 2) / total weight, the p-quantile "
              "linearly interpolated at position p (Hazen's definition, Hyndman and Fan type 5, with equal "
              "weights). A patient's percentile is read back from these 99 quantiles by linear interpolation.")


def data_path() -> Path:
    return Path(str(resources.files("riskservice.model") / "data" / TABLE))


def output_path() -> Path:
    return Path(str(resources.files("riskservice") / "knowledge" / OUTPUT))


def weighted_quantiles(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    x, w = x[order], w[order]
    position = (np.cumsum(w) - w / 2) / w.sum()
    return np.interp(np.asarray(q, dtype=float), position, x)


def _columns(data: bytes) -> dict:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))

    def number(name):
        return np.array([float(r[name]) if r[name] not in ("", None) else np.nan for r in rows])

    def text(name):
        return np.array([r[name] for r in rows], dtype=object)
    return {"number": number, "text": text, "n": len(rows)}


def primary_sample(col) -> np.ndarray:
    """The primary analysis sample (see the module's docstring), as a mask of the table's rows."""
    glucose, insulin, hba1c = col["number"]("fasting_glucose_mg_dl"), col["number"]("fasting_insulin_uu_ml"), \
        col["number"]("hba1c_percent")
    known = (col["text"]("told_diabetes") == "yes") | (col["text"]("taking_insulin") == "yes") \
        | (col["text"]("taking_diabetes_pills") == "yes")
    pregnant = col["text"]("pregnant") == "yes"
    with np.errstate(invalid="ignore"):
        diabetes_range = (glucose >= DIABETES_FPG_MGDL) | (hba1c >= DIABETES_HBA1C_PERCENT)
    return ~known & ~pregnant & ~np.isnan(glucose) & ~np.isnan(insulin) & ~diabetes_range


def build(data: bytes) -> dict:
    """The percentiles document for the table's bytes (deterministic: same bytes, same document)."""
    col = _columns(data)
    sample = primary_sample(col)
    weight = col["number"]("weight_pooled")
    age, sex = col["number"]("age"), col["text"]("sex")
    measures = {}
    for measure, (column, name, unit) in MEASURES.items():
        if measure == "homa_ir":
            values = col["number"]("fasting_insulin_uu_ml") * col["number"]("fasting_glucose_mg_dl") / HOMA_DIVISOR_MGDL
        else:
            values = col["number"](column)
        groups = {}
        for s in SEXES:
            groups[s] = {}
            for label, lo, hi in AGE_BANDS:
                keep = sample & (sex == s) & (age >= lo) & (age <= hi) & ~np.isnan(values) & (weight > 0)
                q = weighted_quantiles(values[keep], weight[keep], [g / 100 for g in GRID])
                groups[s][label] = {"n": int(keep.sum()), "quantiles": [float(f"{v:.6g}") for v in q]}
        measures[measure] = {"name": name, "unit": unit, "column": column or "fasting_insulin_uu_ml x "
                             "fasting_glucose_mg_dl / 405", "groups": groups}
    return {
        "description": "Where a measured value stands among US adults of the same sex and age band: survey-weighted "
                       "percentiles from the NHANES table the model is trained on. Generated by "
                       f"'{GENERATOR}' from the shipped table; never edited by hand.",
        "generated": {"generator": GENERATOR, "table": f"riskservice/model/data/{TABLE}",
                      "table_sha256": hashlib.sha256(data).hexdigest()},
        "population": SAMPLE,
        "reference": "nhanes1518",
        "definition": DEFINITION,
        "grid": list(GRID),
        "sexes": list(SEXES),
        "age_bands": [{"label": label, "lower": lo, "upper": None if hi >= 200 else hi} for label, lo, hi in AGE_BANDS],
        "measures": measures,
    }


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


@click.command("derive-percentiles")
@click.option("--table", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The NHANES fasting table (default: the shipped one).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write percentiles.json (default: the package's knowledge directory).")
@click.option("--check", is_flag=True, help="Recompute and compare with the file instead of writing it.")
def derive_percentiles_command(table, output, check):
    """Write knowledge/percentiles.json from the NHANES table (survey-weighted, by sex and age band)."""
    table, output = table or data_path(), output or output_path()
    text = dumps(build(table.read_bytes()))
    if check:
        if not output.exists() or output.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{output} is not what {GENERATOR} gives from {table.name}: regenerate it")
        click.echo(f"{output.name}: up to date")
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")
