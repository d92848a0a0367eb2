"""``riskservice derive-points``: fit the insulin-resistance points on the NHANES 2015-2018 fasting table,
regenerate the point tables and bands in the knowledge files, validate the integer score through the
service's own batch scorer, and write the report (models/points_fit.json, the model card and README
sections).

Nobody edits the generated tables by hand: ``write_knowledge`` is a pure function of the fit document
(``models/points_fit.json``), and tests/model/test_points.py checks the committed knowledge equals its
output.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from riskservice.core.knowledge import derived_points

from . import ir_cohort as C
from . import ir_points as P
from . import survey as S
from .spec import TrainingDataError

REVIEW = {"review_status": "under_review", "reviewed_on": P.FIT_DATE,
          "reviewer_role": "engineering (pre-clinical-review)"}
FIT_REFS = ["sullivan2004", "nhanes1518"]
#: logit = 1.7 x probit (the usual scaling between the two links): a shift d in ln HOMA-IR with residual
#: SD s moves the probit of "HOMA-IR above the cut-off" by d / s
PROBIT_TO_LOGIT = 1.7


# ---------------------------------------------------------------------------------------------
# knowledge files
def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, doc) -> None:
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def knowledge_dir() -> Path:
    from riskservice.core.knowledge import default_dir
    return default_dir()


def generated_stamp(doc: dict) -> dict:
    return {"generator": P.GENERATOR, "fit_file": P.FIT_FILE, "fit_date": doc["fit_date"],
            "data_sha256": doc["data"]["sha256"]}


def selection_note(sel: dict) -> str:
    """One sentence for a factor's place in the fit, written into the knowledge (read by the narratives)."""
    if sel["scores"]:
        return (f"Scored: in the NHANES 2015-2018 fit its terms were significant (design-based Wald F test "
                f"p = {sel['p']:.3g}) with the other candidate factors in the model.")
    return sel["reason"][0].upper() + sel["reason"][1:] + "."


def converted_effect(effect: dict, residual_sd: float) -> dict:
    """A clamp effect on insulin sensitivity on the outcome's odds scale (see the schema's ``conversion``)."""
    conv = effect["conversion"]
    d = -math.log(1 + conv["insulin_sensitivity_change"])
    beta = PROBIT_TO_LOGIT * d / residual_sd
    return {**effect, "estimate": round(math.exp(beta), 6),
            "conversion": {**conv, "d_log_homa_ir": round(d, 6), "residual_sd": residual_sd}}


def _decorate_hba1c(bands: list[dict], guideline: list[dict]) -> None:
    """The generated HbA1c bands keep the guideline edges as the guidelines state them in mmol/mol and mark
    the diabetes range (ADA 5.7% = 39, IEC/NICE 6.0% = 42, diagnostic 6.5% = 48 mmol/mol: clinical-facts.md
    sections 0 and 8 [V])."""
    equivalents = {b["lower"]: b["lower_equivalents"] for b in guideline}
    for b in bands:
        if b["lower"] in equivalents:
            b["lower_equivalents"] = equivalents[b["lower"]]
        if b["lower"] == C.DIABETES_HBA1C_PERCENT and b["upper"] is None:
            b["diabetes_range"] = True
            b["warning"] = "HbA1c in the diabetes range: this needs confirmatory diagnostic testing, not a risk score."
            b["references"] = FIT_REFS + ["ada2024"]


def write_knowledge(doc: dict, directory: Path) -> None:
    """Regenerate every derived number in the knowledge files of ``directory`` from ``doc``."""
    directory = Path(directory)
    fit_ = doc["fit"]
    unit = fit_["points_unit"]
    stamp = generated_stamp(doc)
    tables = P.tables(fit_)
    selection = {s["factor"]: s for s in fit_["selection"]}
    fdoc = _read(directory / "factors.json")
    for factor in fdoc["factors"]:
        fid = factor["id"]
        if fid in tables:
            bands = [{**b, "references": list(FIT_REFS), **REVIEW} for b in tables[fid]]
            if fid == "hba1c":
                _decorate_hba1c(bands, _hba1c_guideline_edges())
            factor["generated"] = stamp
            factor["scored"] = bool(selection[fid]["scores"])
            factor["fit_note"] = selection_note(selection[fid])
            factor["variants"] = [{"when": {}, "population": doc["population"], "bands": bands}]
            continue
        for variant in factor.get("variants", []):
            for band in variant["bands"]:
                if band.get("effect") and band["effect"].get("conversion"):
                    band["effect"] = converted_effect(band["effect"], doc["residual_sd"])
                if band.get("effect"):
                    band["points"] = derived_points(band["effect"], unit)
    _write(directory / "factors.json", fdoc)
    ddoc = _read(directory / "drug_classes.json")
    for cls in ddoc["classes"]:
        if cls.get("effect"):
            if cls["effect"].get("conversion"):
                cls["effect"] = converted_effect(cls["effect"], doc["residual_sd"])
            cls["points"] = derived_points(cls["effect"], unit)
    _write(directory / "drug_classes.json", ddoc)
    rdoc = _read(directory / "ruleset.json")
    pm = rdoc["points_method"]
    pm["points_unit_log_odds"] = unit
    pm["base_relative_risk"] = round(math.exp(unit), 6)
    pm["generated"] = {**stamp, "outcome": rdoc["outcome"]["text"], "n": fit_["n"], "events": fit_["events"],
                       "intercept": fit_["intercept"], "coefficients": fit_["coefficients"],
                       "lab_layer_intercept": fit_["lab_layer_intercept"]}
    if doc.get("bands"):
        rdoc["bands"]["thresholds"] = doc["bands"]
    if doc.get("caveats") is not None:
        rdoc["outcome"]["subgroup_caveats"] = doc["caveats"]
    _write(directory / "ruleset.json", rdoc)


def _hba1c_guideline_edges() -> list[dict]:
    return [{"lower": 5.7, "lower_equivalents": {"mmol/mol": 39}},
            {"lower": 6.0, "lower_equivalents": {"mmol/mol": 42}},
            {"lower": 6.5, "lower_equivalents": {"mmol/mol": 48}}]


# ---------------------------------------------------------------------------------------------
# the fit document
def cutoff_check(cohort: C.Cohort, fixed: float) -> dict:
    """The outcome's cut-off recomputed: the weighted 75th percentile of the primary sample."""
    prim = cohort.sample("primary")
    d = cohort.design.subset(prim)
    homa = cohort.frame["homa_ir"].to_numpy(float)[prim]
    value = float(S.weighted_quantile(homa, d.weight, 0.75))
    ci = S.jackknife(lambda w: float(S.weighted_quantile(homa, w, 0.75)), d)
    if round(value, 2) != fixed:
        raise TrainingDataError(f"the weighted 75th percentile of HOMA-IR is {value:.4f}, but the knowledge fixes "
                                f"the cut-off at {fixed}: the data changed; review before changing the outcome")
    return {"weighted_p75": value, "ci": [ci["ci_low"], ci["ci_high"]], "fixed": fixed, "n": int(prim.sum()),
            "share_above": float(np.sum(d.weight * (homa > fixed)) / np.sum(d.weight))}


def residual_sd(frame, fit_, design) -> float:
    """The weighted residual SD of ln HOMA-IR given the scored risk factors (the s of the conversion)."""
    kept = [P.BY_FACTOR[s["factor"]] for s in fit_["selection"] if s["scores"]
            and P.BY_FACTOR[s["factor"]].layer == "risk_factor"]
    _, X = P.term_columns(frame, kept)
    y = np.log(frame["homa_ir"].to_numpy(float))
    ok = ~np.isnan(X).any(axis=1) & ~np.isnan(y)
    X1 = np.column_stack([np.ones(ok.sum()), X[ok]])
    w = design.weight[ok]
    beta = np.linalg.solve((X1 * w[:, None]).T @ X1, (X1 * w[:, None]).T @ y[ok])
    r = y[ok] - X1 @ beta
    return round(float(math.sqrt(np.sum(w * r ** 2) / np.sum(w))), 4)


def fit_document(frame, y, design, data_sha: str, cutoff: float) -> dict:
    fit_ = P.fit(frame, y, design)
    return {
        "generator": P.GENERATOR, "fit_date": P.FIT_DATE,
        "method": "Sullivan LM, Massaro JM, D'Agostino RB Sr, Stat Med 2004;23:1631-1660: survey-weighted "
                  "logistic regression (NHANES fasting weights), factors selected by a design-based Wald F test "
                  f"(p < {P.SELECTION_P:g}) and a sign rule; labs fitted on top with the risk factors' linear "
                  "predictor as an offset; points = round(coefficient x (reference value - base value) / B)",
        "data": {"file": f"riskservice/model/data/{C.TABLE}", "sha256": data_sha, "rows": int(len(frame))},
        "outcome": {"cutoff": cutoff, "comparison": ">"},
        "population": (f"NHANES 2015-2018 US adults aged >= 20 without diabetes, fasting subsample (n = {fit_['n']} "
                       "complete cases in the fit, survey-weighted); points from one fit, so the factors are "
                       "mutually adjusted"),
        "fit": fit_, "residual_sd": residual_sd(frame, fit_, design), "bands": None,
    }


def dysglycaemia_figures(models: Path) -> dict | None:
    """The second estimate's own cross-validated AUC, from its manifest (riskservice train writes it)."""
    found = sorted(Path(models).glob("nhanes1718_dysglycaemia_logreg-*.manifest.json")) or \
        sorted(Path(__file__).resolve().parents[2].joinpath("models").glob("nhanes1718_dysglycaemia_logreg-*.manifest.json"))
    if not found:
        return None
    m = json.loads(found[-1].read_text(encoding="utf-8"))
    return {"model": f"{m['model_id']} {m['version']}", "cv_auc": m["metrics"]["cv"]["auc"]["auc"],
            "ci": [m["metrics"]["cv"]["auc"]["ci_low"], m["metrics"]["cv"]["auc"]["ci_high"]]}


def fit_fn_for(data_sha: str, cutoff: float):
    def fit_fn(frame, y, design):
        return fit_document(frame.reset_index(drop=True), y, design, data_sha, cutoff)
    return fit_fn


#: the service's ethnicity values that each NHANES group stands for
GROUP_VALUES = {"asian": ["asian", "south_asian", "east_asian", "japanese"], "hispanic": ["hispanic"],
                "african": ["african"], "europid": ["europid"], "other": ["other"]}
SUBGROUP_RANGE = (0.8, 1.25)


def subgroup_caveats(ev: dict) -> list[dict]:
    """Groups (sex x ethnicity, n >= 200) whose held-out observed/expected falls outside 0.8-1.25 in a lab
    combination: the answer warns those patients that the estimate runs high (or low) for their group."""
    from . import ir_validation as V

    out = []
    for cfg in (V.CONFIGS[0], ("hdl_cholesterol",), V.LABS):
        for g in ev["primary"]["cycle"]["subgroups"][V.config_name(cfg)]:
            oe = g.get("observed_expected")
            if oe is None or SUBGROUP_RANGE[0] <= oe <= SUBGROUP_RANGE[1]:
                continue
            way = "high" if oe < 1 else "low"
            names = [{"hdl_cholesterol": "HDL", "triglycerides": "triglycerides", "hba1c": "HbA1c"}[x] for x in cfg]
            labs = (", ".join(names[:-1]) + " and " + names[-1]) if len(names) > 1 else (names[0] if names else "no labs")
            group = {"asian": "Asian", "hispanic": "Hispanic", "african": "Black", "europid": "White",
                     "other": "other-ethnicity"}[g["ethnicity"]]
            out.append({
                "sex": g["sex"], "ethnicity": GROUP_VALUES[g["ethnicity"]], "labs": list(cfg),
                "observed_expected": round(oe, 2), "n": g["n"],
                "text": (f"For {group} {'men' if g['sex'] == 'male' else 'women'} with {labs} given, the "
                         f"estimate ran {way} in NHANES 2015-2018 held-out data (observed/expected {oe:.2f}, "
                         f"n = {g['n']}): read the probability as {'an over' if way == 'high' else 'an under'}estimate."),
            })
    return out


# ---------------------------------------------------------------------------------------------
# the command
def run(out_models: Path = Path("models"), readme: Path | None = Path("README.md"), knowledge: Path | None = None,
        log=print, decisions: Path | None = Path("docs/factor-decisions.md")) -> dict:
    """Fit, regenerate the knowledge tables and bands, validate through the service, write reports."""
    from riskservice.core.knowledge import load_knowledge

    from . import ir_report as R
    from . import ir_validation as V

    knowledge = Path(knowledge) if knowledge else knowledge_dir()
    kb0 = load_knowledge(knowledge)
    cutoff = kb0.ruleset["outcome"]["cutoff"]
    cohort = C.load()
    check = cutoff_check(cohort, cutoff)
    log(f"outcome: HOMA-IR > {cutoff} (weighted 75th percentile {check['weighted_p75']:.4f}, n = {check['n']})")
    prim = cohort.sample("primary")
    frame = cohort.frame[prim].reset_index(drop=True)
    design = cohort.design.subset(prim)
    y = C.outcome(cohort, cutoff)[prim]
    fit_fn = fit_fn_for(cohort.sha256, cutoff)
    # rounded once, here: the knowledge is generated from exactly the numbers points_fit.json records
    doc = _round(fit_fn(frame, y, design))
    doc["outcome"].update(_round(check))
    log(f"fit: n={doc['fit']['n']} events={doc['fit']['events']}; scored: "
        + ", ".join(s["factor"] for s in doc["fit"]["selection"] if s["scores"]))
    write_knowledge(doc, knowledge)
    ev = V.evaluate(cohort, cutoff, doc, knowledge, fit_fn, log)
    lowest = sum(min(b["points"] for b in bands) for bands in P.tables(doc["fit"]).values())
    held_out = {r["id"]: r["prevalence"] for r in ev["primary"]["cycle"]["bands"][R.MAIN_CONFIGS[0]]}
    doc["bands"] = [{"id": b["id"], "min_points": lowest if b["min_points"] is None else b["min_points"],
                     "label": R.band_label(b, held_out[b["id"]])} for b in ev["bands"]]
    ev["dysglycaemia"] = dysglycaemia_figures(out_models)
    doc["points_to_risk"] = ev["recalibration"]
    doc["caveats"] = subgroup_caveats(ev)
    write_knowledge(doc, knowledge)
    kb = load_knowledge(knowledge)
    ev["reaven_miller"] = V.reaven_miller(kb, doc)
    doc["validation"] = ev
    doc["acceptance"] = R.acceptance(ev)
    out_models = Path(out_models)
    doc = _round(doc)          # the reports read exactly what points_fit.json records
    from . import ir_model
    model_manifest = ir_model.write(doc, kb, frame, design, out_models, log)
    doc["model_artifact"] = {"model_id": model_manifest["model_id"], "version": model_manifest["version"],
                             "sha256": model_manifest["artifact"]["sha256"],
                             "serving_sha256": model_manifest["serving"]["sha256"]}
    (out_models / "points_fit.json").write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n",
                                                encoding="utf-8")
    R.write_reports(doc, kb, out_models / "MODEL_CARD.md", readme, decisions)
    for name, ok in doc["acceptance"].items():
        log(f"  {'PASS' if ok['pass'] else 'FAIL'} {name}: {ok['value']}")
    return doc


def _round(x, nd=6):
    if isinstance(x, dict):
        return {k: _round(v, nd) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v, nd) for v in x]
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(x) else round(float(x), nd)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x

