"""Surrogate indices of insulin resistance from routine labs and anthropometry.

Formulas take canonical units (glucose, triglycerides, HDL in mg/dL; insulin in uU/mL;
BMI in kg/m2; lengths in cm) and work on floats and numpy arrays alike, so the batch
path computes exactly what the single path does. A missing input (NaN) must give NaN: the
engine relies on it. Cut-offs live in ``indices.json``.
"""
from __future__ import annotations

import numpy as np

TG_MGDL_PER_MMOL = 88.57  # mirrors units.json triglycerides mmol/L (McAuley needs mmol/L)


def homa_ir(v):
    """Matthews 1985: insulin (uU/mL) x glucose (mg/dL) / 405 (= 22.5 x 18)."""
    return v["fasting_insulin"] * v["fasting_glucose"] / 405.0


def quicki(v):
    """Katz 2000: 1 / (log10 insulin uU/mL + log10 glucose mg/dL)."""
    return 1.0 / (np.log10(v["fasting_insulin"]) + np.log10(v["fasting_glucose"]))


def tyg(v):
    """Simental-Mendia 2008: ln(TG mg/dL x glucose mg/dL / 2), the 'usual' scale."""
    return np.log(v["triglycerides"] * v["fasting_glucose"] / 2.0)


def tg_hdl(v):
    """McLaughlin 2003: TG / HDL with both in mg/dL."""
    return v["triglycerides"] / v["hdl_cholesterol"]


def mets_ir(v):
    """Bello-Chavolla 2018: ln(2 x glucose + TG) x BMI / ln(HDL), mg/dL and kg/m2."""
    return np.log(2.0 * v["fasting_glucose"] + v["triglycerides"]) * v["bmi"] / np.log(v["hdl_cholesterol"])


def mcauley(v):
    """McAuley 2001: exp(2.63 - 0.28 ln insulin uU/mL - 0.31 ln TG mmol/L)."""
    tg_mmol = v["triglycerides"] / TG_MGDL_PER_MMOL
    return np.exp(2.63 - 0.28 * np.log(v["fasting_insulin"]) - 0.31 * np.log(tg_mmol))


def spise(v):
    """Paulmichl 2016: 600 x HDL^0.185 / (TG^0.2 x BMI^1.338), mg/dL and kg/m2."""
    return 600.0 * v["hdl_cholesterol"] ** 0.185 / (v["triglycerides"] ** 0.2 * v["bmi"] ** 1.338)


def whtr(v):
    """Waist-to-height ratio (Browning 2010): both in cm."""
    return v["waist"] / v["height"]


def whr(v):
    """Waist-to-hip ratio: both in cm; reported without a cut-off."""
    return v["waist"] / v["hip"]


FORMULAS = {
    "homa_ir": homa_ir, "quicki": quicki, "tyg": tyg, "tg_hdl": tg_hdl, "mets_ir": mets_ir,
    "mcauley": mcauley, "spise": spise, "whtr": whtr, "whr": whr,
}
COMPARE = {
    ">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
}


def describe(index: dict, value: float, cut, flagged=None) -> dict:
    """The answer's entry for one index; ``flagged`` comes from the engine."""
    entry = {
        "name": index["name"],
        "value": value,
        "formula": index["formula"],
        "direction": index["direction"],
        "references": list(index["references"]),
    }
    if cut is None:
        entry.update(flagged=None, cutoff=None,
                     interpretation=index["interpretation"]["no_cutoff"])
        return entry
    entry.update(
        flagged=flagged,
        cutoff={k: cut[k] for k in ("value", "comparison", "text", "population", "method", "references")
                if k in cut},
        interpretation=index["interpretation"]["flagged" if flagged else "not_flagged"],
    )
    if index.get("alternative_cutoffs"):
        entry["alternative_cutoffs"] = index["alternative_cutoffs"]
    entry["references"] = list(dict.fromkeys(entry["references"] + cut["references"]))
    return entry
