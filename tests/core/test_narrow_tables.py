"""The compiled item tables are held in the narrowest integers that fit (so that a block's
gathers move less memory), and nothing the engine adds up is limited by that type."""
import json

import numpy as np

from riskservice.core import compiled
from riskservice.core.compiled import narrowest
from riskservice.core.engine import Engine
from riskservice.core.inputs import from_records
from tests.core.test_engine_sizes import _arrays
from tests.core.test_one_engine import hostile_patients

# sums over items (per-item results such as ``counted`` may be narrow: they are table values)
TOTALS = ("points", "max_points", "headroom", "band", "band_if_max", "mech_weight", "mech_count", "med_points")


def test_narrowest_picks_the_smallest_type_that_holds_values_and_bound():
    assert narrowest(np.array([-1, 15])).dtype == np.int8
    assert narrowest(np.array([-1, 127])).dtype == np.int8
    assert narrowest(np.array([-129, 0])).dtype == np.int16
    assert narrowest(np.array([-1, 15]), bound=2159).dtype == np.int16     # an index plus a slot must fit
    assert narrowest(np.array([0, 1 << 20])).dtype == np.int32
    assert narrowest(np.array([0, 1 << 40])).dtype == np.int64
    assert narrowest(np.zeros((4, 0), dtype=np.int64)).dtype == np.int8
    table = np.array([[-1, 3], [7, 100]])
    assert (narrowest(table) == table).all()


def test_todays_knowledge_compiles_to_small_tables(kb):
    sl = Engine(kb).slots
    assert sl.ints.dtype == np.int8
    assert sl.context.dtype == np.int16
    # every index a row can form (a context's base plus a slot or a unit) fits the context's type
    assert np.iinfo(sl.context.dtype).max >= max(sl.ints.shape[1], len(sl.thresholds))


def test_narrow_tables_evaluate_as_int64_tables(kb, model, monkeypatch):
    """The same evaluation, value for value, as an engine compiled with int64 tables (as before)."""
    narrow = Engine(kb, model)
    monkeypatch.setattr(compiled, "narrowest", lambda table, bound=0: table.astype(np.int64))
    wide = Engine(kb, model)
    assert wide.slots.ints.dtype == wide.slots.context.dtype == np.int64
    patients = json.loads(json.dumps(hostile_patients(300, seed=13), allow_nan=True))
    for batch in (patients, patients[:1]):
        got = _arrays(narrow.evaluate(from_records(batch, narrow.cx)))
        want = _arrays(wide.evaluate(from_records(batch, wide.cx)))
        for name, value in want.items():
            np.testing.assert_array_equal(got[name], value, err_msg=name)
            if name in TOTALS or name.split(".")[0] in narrow.kb.established["scores"]:
                assert got[name].dtype == value.dtype, name      # totals keep their int64 accumulators
