"""``riskservice derive-points``: regenerate the point tables in the knowledge files from the NHANES
fit, validate the integer score through the service's own batch scorer, and write the report.

Nobody edits the generated tables by hand: ``write_knowledge`` is a pure function of the fit file
(``models/points_fit.json``), and tests/model/test_points.py checks the committed knowledge equals
its output.
"""
from __future__ import annotations

import copy
import json
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import points as P
from . import training_data as T
from . import validation as V
from .spec import DEFAULT_SEED

N_FOLDS = 5
#: band cuts on cross-validated risk: quarters of the probability scale, so each band reads as
#: "under 1 in 4", "1 in 4 to 1 in 2", "1 in 2 to 3 in 4", "3 in 4 or more" of people with that total
BAND_RISKS = (("low", 0.0), ("moderate", 0.25), ("high", 0.50), ("very_high", 0.75))
BAND_LABELS = {
    "low": "low: under 25% of NHANES adults with this points total had dysglycaemia",
    "moderate": "moderate: 25% to 50% of NHANES adults with this points total had dysglycaemia",
    "high": "high: 50% to 75% of NHANES adults with this points total had dysglycaemia",
    "very_high": "very high: 75% or more of NHANES adults with this points total had dysglycaemia",
}
REVIEW = {"review_status": "under_review", "reviewed_on": P.FIT_DATE,
          "reviewer_role": "engineering (pre-clinical-review)"}


# ---------------------------------------------------------------------------------------------
# knowledge files
def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, doc) -> None:
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def generated_stamp(fit_doc: dict) -> dict:
    return {"generator": P.GENERATOR, "fit_file": P.FIT_FILE, "fit_date": fit_doc["fit_date"],
            "data_sha256": fit_doc["data"]["sha256"]}


def write_knowledge(fit_doc: dict, directory: Path) -> None:
    """Regenerate every derived number in the knowledge files of ``directory`` from ``fit_doc``."""
    directory = Path(directory)
    fit_ = fit_doc["fit"]
    unit = fit_["points_unit"]
    stamp = generated_stamp(fit_doc)
    tables = P.tables(fit_)
    fdoc = _read(directory / "factors.json")
    for factor in fdoc["factors"]:
        if "generated" in factor:
            bands = [{**b, "references": ["sullivan2004", "nhanes1718"], **REVIEW} for b in tables[factor["id"]]]
            factor["generated"] = stamp
            factor["variants"] = [{"when": {}, "population": fit_doc["population"], "bands": bands}]
            continue
        for variant in factor.get("variants", []):
            for band in variant["bands"]:
                if band.get("effect"):
                    band["points"] = P.literature_points(band["effect"], unit)
    _write(directory / "factors.json", fdoc)
    ddoc = _read(directory / "drug_classes.json")
    for cls in ddoc["classes"]:
        if cls.get("effect"):
            cls["points"] = P.literature_points(cls["effect"], unit)
    _write(directory / "drug_classes.json", ddoc)
    rdoc = _read(directory / "ruleset.json")
    pm = rdoc["points_method"]
    pm["points_unit_log_odds"] = unit
    pm["base_relative_risk"] = round(math.exp(unit), 6)
    pm["generated"] = {**stamp, "outcome": fit_doc["outcome"], "n": fit_["n"], "events": fit_["events"],
                       "intercept": fit_["intercept"], "coefficients": fit_["coefficients"]}
    if fit_doc.get("bands"):
        rdoc["bands"]["thresholds"] = fit_doc["bands"]
    _write(directory / "ruleset.json", rdoc)


def knowledge_dir() -> Path:
    from riskservice.core.knowledge import default_dir
    return default_dir()


# ---------------------------------------------------------------------------------------------
# scoring NHANES people through the service
def service_columns(canon) -> dict:
    """NHANES canonical rows as the service's input columns (strings, as a CSV would give them)."""
    def num(col):
        return pa.array([None if math.isnan(v) else repr(float(v)) for v in canon[col]], pa.string())
    eth = canon["ethnicity"].map(lambda e: "east_asian" if e == "asian" else e)
    return {
        "age": num("age"), "sex": pa.array(list(canon["sex"]), pa.string()),
        "ethnicity": pa.array(list(eth), pa.string()), "bmi": num("bmi"), "waist": num("waist"),
        "mvpa_minutes_per_week": num("mvpa_minutes_per_week"),
        "sedentary_hours_per_day": num("sedentary_hours_per_day"),
        "smoking": pa.array(list(canon["smoking"]), pa.string()),
        "sleep_hours_per_night": num("sleep_hours_per_night"), "hdl_cholesterol": num("hdl_cholesterol"),
    }


def service_points(kb, canon) -> np.ndarray:
    from riskservice.rows.batch import BatchScorer
    out = BatchScorer(kb).score_columns(service_columns(canon), len(canon))
    if out["error"].null_count != len(canon):
        raise ValueError("NHANES rows failed validation: " + str(out["error"].drop_null()[0]))
    return out["points"].to_numpy(zero_copy_only=False).astype(float)


def findrisc_points(kb, canon) -> np.ndarray:
    """FINDRISC from the same inputs through the service's engine: the lower end of its range,
    i.e. the items NHANES lacks at their lowest answer (0 points)."""
    from riskservice.rows.batch import BatchScorer
    out = BatchScorer(kb).score_columns(service_columns(canon), len(canon))
    return out["findrisc_points"].to_numpy(zero_copy_only=False).astype(float)


def _fold_knowledge(fit_doc: dict, source: Path, tmp: Path):
    from riskservice.core.knowledge import load_knowledge
    shutil.copytree(source, tmp, dirs_exist_ok=True)
    write_knowledge(fit_doc, tmp)
    return load_knowledge(tmp)


def cross_validate(canon, y, fit_doc: dict, source: Path, seed: int = DEFAULT_SEED) -> dict:
    """Out-of-fold integer points (fold tables generated and scored by the service) and the
    out-of-fold logistic model on the same folds."""
    from sklearn.model_selection import StratifiedKFold
    X = P.design(canon)
    pts = np.full(len(y), np.nan)
    logit = np.full(len(y), np.nan)
    cv = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=seed)
    for tr, te in cv.split(X, y):
        fold_fit = P.fit(canon.iloc[tr], y[tr])
        doc = {**copy.deepcopy(fit_doc), "fit": fold_fit, "bands": None}
        with tempfile.TemporaryDirectory() as tmp:
            kb = _fold_knowledge(doc, source, Path(tmp) / "knowledge")
            pts[te] = service_points(kb, canon.iloc[te])
        beta = np.array([fold_fit["intercept"]] + [fold_fit["coefficients"][t] for t in P.TERMS])
        logit[te] = np.column_stack([np.ones(len(te)), X[te]]) @ beta
    return {"points": pts, "logit": logit, "complete": ~np.isnan(X).any(axis=1)}


def points_to_risk(points: np.ndarray, y: np.ndarray) -> tuple[list, dict]:
    """Observed prevalence per total and a logistic recalibration risk(T) on the out-of-fold points."""
    a_b = V._newton_logistic(np.column_stack([np.ones_like(points), points]), y.astype(float),
                             np.zeros_like(points))
    rows = []
    for t in range(int(points.min()), int(points.max()) + 1):
        m = points == t
        risk = 1.0 / (1.0 + math.exp(-(a_b[0] + a_b[1] * t)))
        rows.append({"points": t, "n": int(m.sum()), "events": int(y[m].sum()),
                     "observed": float(y[m].mean()) if m.any() else None, "risk": risk})
    return rows, {"intercept": float(a_b[0]), "slope": float(a_b[1])}


def choose_bands(table: list) -> list[dict]:
    out = []
    for band_id, cut in BAND_RISKS:
        first = next((r["points"] for r in table if r["risk"] >= cut), None)
        if first is None:
            continue
        out.append({"id": band_id, "min_points": 0 if not out else first, "label": BAND_LABELS[band_id],
                    "risk_from": cut})
    return out


def band_stats(bands: list, points: np.ndarray, y: np.ndarray) -> list[dict]:
    stats = []
    for i, b in enumerate(bands):
        hi = bands[i + 1]["min_points"] if i + 1 < len(bands) else math.inf
        m = (points >= b["min_points"]) & (points < hi)
        stats.append({"id": b["id"], "min_points": b["min_points"],
                      "max_points": None if hi == math.inf else hi - 1, "n": int(m.sum()),
                      "share_of_adults": float(m.mean()), "observed_prevalence": float(y[m].mean())})
    return stats


def evaluate(canon, y, fit_doc: dict, source: Path) -> dict:
    """Everything the report and the acceptance tests read (``source``: the knowledge directory)."""
    from riskservice.core.knowledge import load_knowledge
    cv = cross_validate(canon, y, fit_doc, source)
    pts, cc = cv["points"], cv["complete"]
    table, recal = points_to_risk(pts, y)
    bands = choose_bands(table)
    kb = load_knowledge(source)
    fr = findrisc_points(kb, canon)
    auc = {
        "points_all_rows": V.auc_delong(y, pts),
        "points_complete_cases": V.auc_delong(y[cc], pts[cc]),
        "logistic_complete_cases": V.auc_delong(y[cc], cv["logit"][cc]),
        "findrisc_all_rows": V.auc_delong(y, fr),
        "findrisc_complete_cases": V.auc_delong(y[cc], fr[cc]),
        "age_alone": V.auc_delong(y, canon["age"].to_numpy(float)),
    }
    return {"n": len(y), "n_complete": int(cc.sum()), "prevalence": float(y.mean()),
            "auc": auc, "points_to_risk": table, "recalibration": recal,
            "bands": bands, "band_stats": band_stats(bands, pts, y)}


def band_log_odds(kb, factor_id: str, values: np.ndarray) -> np.ndarray:
    """Each value's band as log-odds BEFORE rounding to points: coefficient x (reference - base)
    for a fitted band, exponent x ln(estimate) for a literature band, 0 for a reference band.
    Only for reporting what rounding to whole points costs; the service scores the integers."""
    factor = next(f for f in kb.factors if f["id"] == factor_id)
    out = np.zeros(len(values))
    for band in factor["variants"][0]["bands"]:
        lo, hi = band["lower"], band["upper"]
        inside = np.ones(len(values), bool)
        if lo is not None:
            inside &= (values >= lo) if band["lower_inclusive"] else (values > lo)
        if hi is not None:
            inside &= (values <= hi) if band["upper_inclusive"] else (values < hi)
        if band.get("sullivan"):
            s = band["sullivan"]
            out[inside] = s["coefficient"] * (s["reference_value"] - s["base_value"])
        elif band.get("effect"):
            out[inside] = band["effect"]["exponent"] * np.log(band["effect"]["estimate"])
    return out


def reaven_miller(kb) -> dict:
    from .rules_validation import rules_external_validation
    out = rules_external_validation(kb)
    rm = V.reaven_miller_frame()
    out["fasting_glucose_alone"] = V.auc_delong(rm["ir_label"], rm["fasting_glucose"])
    out["bmi_alone_continuous"] = V.auc_delong(rm["ir_label"], rm["bmi"])
    unrounded = (band_log_odds(kb, "bmi", rm["bmi"].to_numpy(float))
                 + band_log_odds(kb, "fasting_glucose", rm["fasting_glucose"].to_numpy(float)))
    out["bmi_glucose_unrounded"] = V.auc_delong(rm["ir_label"], unrounded)
    return out


# ---------------------------------------------------------------------------------------------
# the command
def fit_document(canon, y, data_sha: str) -> dict:
    from . import features as F
    complete = int((~np.isnan(P.design(canon)).any(axis=1)).sum())
    return {
        "generator": P.GENERATOR, "fit_date": P.FIT_DATE,
        "method": "Sullivan LM, Massaro JM, D'Agostino RB Sr, Stat Med 2004;23:1631-1660: unpenalised "
                  "multivariable logistic regression, categories with reference values, "
                  "points = round(coefficient x (reference value - base value) / B)",
        "data": {"file": f"{T.NHANES_PACKAGE}/{T.NHANES_TSV}", "sha256": data_sha, "rows": len(y)},
        "outcome": F.OUTCOME_DEFINITION,
        "population": f"NHANES 2017-2018 US adults aged >= 20 (n = {complete} complete cases in the fit); "
                      "points from one multivariable logistic fit, so these factors are mutually adjusted",
        "fit": P.fit(canon, y), "bands": None,
    }


def run(out_models: Path = Path("models"), readme: Path | None = Path("README.md"), knowledge: Path | None = None,
        log=print) -> dict:
    """Fit, regenerate the knowledge tables and bands, validate through the service, write reports.

    ``knowledge`` defaults to the package's knowledge directory (the files the service ships)."""
    knowledge = Path(knowledge) if knowledge else knowledge_dir()
    from riskservice.core.knowledge import load_knowledge

    from . import points_report as R
    canon, y, sha = P.nhanes()
    doc = fit_document(canon, y, sha)
    log(f"fit: n={doc['fit']['n']} events={doc['fit']['events']} B={doc['fit']['points_unit']}")
    write_knowledge(doc, knowledge)
    ev = evaluate(canon, y, doc, knowledge)
    doc["bands"] = [{k: b[k] for k in ("id", "min_points", "label")} for b in ev["bands"]]
    write_knowledge(doc, knowledge)
    kb = load_knowledge(knowledge)
    apparent = service_points(kb, canon)
    ev["auc"]["points_apparent_all_rows"] = V.auc_delong(y, apparent)
    ev["reaven_miller"] = reaven_miller(kb)
    doc["validation"] = ev
    doc["acceptance"] = R.acceptance(ev)
    out_models = Path(out_models)
    (out_models / "points_fit.json").write_text(
        json.dumps(_round(doc), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    R.update_markdown(out_models / "MODEL_CARD.md", R.section(doc, kb))
    from .rules_validation import update_card
    update_card(out_models / "MODEL_CARD.md", ev["reaven_miller"])
    if readme is not None:
        R.update_markdown(Path(readme), R.section(doc, kb, short=True))
    a = ev["auc"]
    log(f"points AUC (5-fold CV, service scorer) {a['points_complete_cases']['auc']:.3f}; "
        f"logistic {a['logistic_complete_cases']['auc']:.3f}; FINDRISC {a['findrisc_complete_cases']['auc']:.3f}")
    for name, ok in doc["acceptance"].items():
        log(f"  {'PASS' if ok['pass'] else 'FAIL'} {name}: {ok['value']}")
    return doc


def _round(x, nd=6):
    if isinstance(x, dict):
        return {k: _round(v, nd) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v, nd) for v in x]
    if isinstance(x, (float, np.floating)):
        return round(float(x), nd)
    if isinstance(x, np.integer):
        return int(x)
    return x
