"""One engine at every size: a block of rows (the batch path of the banding) and the same rows
one at a time (the broadcast path) give the same evaluation, array for array.

The logit is a sum of 15 terms; numpy adds a single row's terms in a different order from a
block's (pairwise versus column by column), so the logit and the probability agree to the
last bit or two, not bit for bit (as they always have)."""
import json

import numpy as np
import pytest

from riskservice.core.engine import Engine
from riskservice.core.engine.arrays import SMALL_BATCH
from riskservice.core.inputs import from_records
from tests.core.test_one_engine import hostile_patients

FIELDS = ("values", "codes", "ok", "bmi_derived", "assumed_unit", "counted", "factor_present", "factor_top",
          "factor_band_points", "factor_flagged", "diabetes_range", "med_member", "med_points", "med_given",
          "points", "max_points", "headroom", "missing_top", "band", "band_if_max", "mech_weight", "mech_count",
          "mech_order", "antihypertensive_source", "model_terms", "model_contrib", "logit", "probability",
          "dysglycaemia_probability", "probability_withheld", "dysglycaemia_withheld", "diabetes_confirmed",
          "triglycerides_unscored", "glucose_lowering", "homa_given", "homa_invalid", "homa_valid", "homa_status",
          "agreement")
SUMMED = ("logit", "probability", "dysglycaemia_probability")
ITEMS = ("variant", "band", "present", "points", "top", "flagged", "diabetes")


def _arrays(ev):
    out = {name: getattr(ev, name) for name in FIELDS}
    for group in ("factors", "established", "cutoffs"):
        for k, table in enumerate(getattr(ev, group)):
            out.update({f"{group}{k}.{name}": getattr(table, name) for name in ITEMS})
    out.update({f"index.{k}": v for k, v in ev.indices.items()})
    for k, (flag, variant) in ev.flagged.items():
        out.update({f"flag.{k}": flag, f"flag_variant.{k}": variant})
    for sid, score in ev.scores.items():
        out.update({f"{sid}.{k}": v for k, v in score.items()})
    out.update({f"implausible.{k}": mask for k, (mask, _, _) in enumerate(ev.implausible)})
    return out


@pytest.fixture(scope="module")
def engine(kb, two_models):
    return Engine(kb, two_models)


def test_a_block_and_single_rows_evaluate_alike(engine):
    patients = json.loads(json.dumps(hostile_patients(400, seed=7), allow_nan=True))
    assert len(patients) > SMALL_BATCH
    block = _arrays(engine.evaluate(from_records(patients, engine.cx)))
    rows = [_arrays(engine.evaluate(from_records([p], engine.cx))) for p in patients]
    for name, whole in block.items():
        one_by_one = np.concatenate([r[name] for r in rows])
        assert whole.dtype == one_by_one.dtype, name
        if name in SUMMED:
            np.testing.assert_allclose(whole, one_by_one, rtol=1e-14, atol=1e-15, err_msg=name)
        else:
            np.testing.assert_array_equal(whole, one_by_one, err_msg=name)


def test_exclusive_groups_tabulated_or_computed_row_by_row_agree(kb, two_models, tmp_path):
    """A group's table is the same function evaluated once for every context and slot; an
    engine that computes the group per row gives the same evaluation. The shipped ruleset has no
    exclusive group today, so the test adds one to a copy of the knowledge."""
    import shutil

    from riskservice.core.knowledge import default_dir, load_knowledge
    copy = tmp_path / "knowledge"
    shutil.copytree(default_dir(), copy)
    ruleset = json.loads((copy / "ruleset.json").read_text())
    ruleset["exclusive_groups"] = [{"id": "adiposity", "label": "Adiposity", "factors": ["bmi", "waist"],
                                    "reason": "test: only the higher of BMI and waist counts"}]
    (copy / "ruleset.json").write_text(json.dumps(ruleset))
    kb = load_knowledge(copy)
    engine = Engine(kb, two_models)
    assert engine._groups and all(group[3] is not None for group in engine._groups)
    direct = Engine(kb, two_models)
    for group in direct._groups:
        group[3] = None
    patients = json.loads(json.dumps(hostile_patients(300, seed=11), allow_nan=True))
    for batch in (patients, patients[:1], patients[1:2]):
        tabulated = _arrays(engine.evaluate(from_records(batch, engine.cx)))
        computed = _arrays(direct.evaluate(from_records(batch, direct.cx)))
        for name, value in tabulated.items():
            np.testing.assert_array_equal(value, computed[name], err_msg=name)
