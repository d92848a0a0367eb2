"""External check of the *rules score* on Reaven & Miller 1979 (SSPG, insulin suppression test).

The data have no age, sex, waist or lifestyle, so the rules score sees only BMI (approximated as
22 x relative weight) and, in variant (b), fasting glucose. Age is required, so one placeholder age is
given to every row: it adds the same points to everyone and cannot change the ranking. Both sexes are
run and reported (the derived tables give both the same BMI points). Scored through the same vectorised
batch path the service uses.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from riskservice.model.validation import auc_delong, reaven_miller_frame

PLACEHOLDER_AGE = "40"


def rules_points(kb, frame, sex: str, with_glucose: bool) -> np.ndarray:
    from riskservice.rows.batch import BatchScorer
    n = len(frame)
    cols = {"age": pa.array([PLACEHOLDER_AGE] * n), "sex": pa.array([sex] * n),
            "bmi": pa.array([f"{x!r}" for x in frame["bmi"]])}
    if with_glucose:
        cols["fasting_glucose"] = pa.array([f"{x!r}" for x in frame["fasting_glucose"]])
    out = BatchScorer(kb).score_columns(cols, n)
    points = out["points"].to_numpy(zero_copy_only=False)
    if out["error"].null_count != n:
        raise ValueError("Reaven & Miller rows failed validation: " + str(out["error"].drop_null()[0]))
    return points.astype(float)


def rules_external_validation(kb) -> dict:
    frame = reaven_miller_frame()
    y = frame["ir_label"].to_numpy()
    result = {}
    for sex in ("female", "male"):
        for with_glucose in (False, True):
            key = f"{sex}_{'with' if with_glucose else 'without'}_glucose"
            result[key] = auc_delong(y, rules_points(kb, frame, sex, with_glucose))
    result["n"] = int(len(y))
    result["events"] = int(y.sum())
    return result


def card_section(res: dict) -> str:
    def fmt(d):
        return f"{d['auc']:.3f} ({d['ci_low']:.3f}-{d['ci_high']:.3f})"
    return "\n".join([
        "Computed by `riskservice.model.rules_validation.rules_external_validation` (tested in",
        "`tests/model/test_rules_validation.py`): the rules score through the service's batch path on the",
        f"same {res['n']} non-overt Reaven & Miller rows ({res['events']} with SSPG >= 150 mg/dL). Only BMI",
        "(approximated as 22 x relwt) and fasting glucose exist there; sex is unknown, so the score is run as",
        "each sex. Age is one placeholder for every row, so it shifts all totals equally and cannot change the",
        "ranking. With so few inputs this tests the BMI and glucose bands only.",
        "",
        "| score | n | AUC (95% CI, DeLong) |",
        "|---|---|---|",
        f"| rules score without fasting glucose (female points) | {res['n']} | {fmt(res['female_without_glucose'])} |",
        f"| rules score without fasting glucose (male points) | {res['n']} | {fmt(res['male_without_glucose'])} |",
        f"| rules score with fasting glucose (female points) | {res['n']} | {fmt(res['female_with_glucose'])} |",
        f"| rules score with fasting glucose (male points) | {res['n']} | {fmt(res['male_with_glucose'])} |",
    ])


def update_card(path, res) -> None:
    text = path.read_text()
    begin = text.index("<!-- RULES-AUC:BEGIN")
    begin = text.index("\n", begin) + 1
    end = text.index("<!-- RULES-AUC:END -->")
    path.write_text(text[:begin] + card_section(res) + "\n" + text[end:])
