"""Triglycerides score only when the labs were drawn fasting (issue 20): otherwise they are reported
(inputs, indices) but not scored (points, model), they are not listed as missing, and a warning says why."""
from __future__ import annotations

import math

import pytest

from riskservice.rows.batch import BatchScorer

LIPIDS = {"age": 50, "sex": "male", "bmi": 27, "triglycerides": 200, "triglycerides_unit": "mg/dL",
          "hdl_cholesterol": 40, "hdl_cholesterol_unit": "mg/dL"}   # TG/HDL 5.0


def _tg(result):
    return next((c for c in result["rules"]["contributions"] if c["factor"] == "triglycerides"), None)


@pytest.mark.parametrize("fasting", [None, False])
def test_triglycerides_are_reported_not_scored_unless_fasting(scorer, kb, fasting):
    raw = dict(LIPIDS) if fasting is None else dict(LIPIDS, fasting=fasting)
    scored = scorer.score(dict(LIPIDS, fasting=True))
    result = scorer.score(raw)
    tg_points = _tg(scored)["points"]
    assert tg_points > 0 and _tg(result) is None
    assert result["rules"]["points"] == scored["rules"]["points"] - tg_points
    assert result["indices"]["tg_hdl"]["value"] == pytest.approx(5.0)          # the index is still shown
    (entry,) = [m for m in result["missing"] if m.get("factor") == "triglycerides"]
    assert entry["kind"] == "not_scored" and entry["reason"] == kb.ruleset["triglycerides_not_fasting"]["text"]
    warning = next(w for w in result["warnings"] if w.get("code") == "triglycerides_not_scored")
    assert warning["field"] == "triglycerides" and "not scored" in warning["message"]
    assert "**Reported, not scored:** Fasting triglycerides" in result["explanation"]
    summary = scorer.score(raw, view="summary")
    assert "triglycerides" not in summary["missing_inputs"] and "tg_hdl" not in summary["missing_inputs"]
    assert [w["code"] for w in summary["warnings"]] == ["triglycerides_not_scored"]
    (row,) = BatchScorer(kb).score_records([raw])
    assert "triglycerides" not in (row["missing_factors"] or "") and "triglycerides: triglycerides reported" in row["warnings"]
    assert row["points"] == result["rules"]["points"] and row["tg_hdl"] == pytest.approx(5.0)


def test_the_model_takes_triglycerides_only_when_fasting(two_model_scorer):
    fasting = two_model_scorer.score(dict(LIPIDS, fasting=True))["model"]
    other = two_model_scorer.score(LIPIDS)["model"]
    tg = {m: next(c["log_odds"] for c in block["contributions"] if c["feature"] == "triglycerides")
          for m, block in (("fasting", fasting), ("other", other))}
    assert tg["fasting"] > 0 and tg["other"] == 0.0            # ln(200) above the mean; not fasting: imputed
    assert any("not drawn fasting" in i["reason"] for i in other["imputed"])
    assert not math.isclose(fasting["probability"], other["probability"])
