"""The answer's ``percentiles``: each measured value with its percentile among US adults of the same
sex and age band, the band's 10th-90th range and a sentence (numbers from the engine's step)."""
from __future__ import annotations

import math

from riskservice.core.percentiles import sentence


def percentiles_of(row) -> dict:
    """{measure: {value, unit, percentile, beyond, sex, age_band, p10, p90, n, text}} for every
    measured value of row ``row.i`` that has a reference group."""
    engine, ev, i = row.engine, row.ev, row.i
    table = engine.percentile_table
    pct, beyond, band = engine.percentiles(ev)
    b = int(band[i])
    if b < 0 or row.sex is None:
        return {}
    s = table.sexes.index(row.sex)
    grid = table.grid.tolist()
    p10, p90 = grid.index(10.0), grid.index(90.0)
    label = table.band_labels[b]
    out = {}
    for k, (p, side) in enumerate(zip(pct[i].tolist(), beyond[i].tolist(), strict=True)):
        if math.isnan(p):
            continue
        m = table.measures[k]
        col = engine.cx.numeric_index.get(m)
        value = row.values[col] if col is not None else float(ev.indices[m][i])
        q = table.quantiles[k, s, b]
        out[m] = {"value": value, "unit": table.units[m], "percentile": round(p, 1),
                  "beyond": {-1: "below", 1: "above"}.get(side), "sex": row.sex, "age_band": label,
                  "p10": float(q[p10]), "p90": float(q[p90]), "n": int(table.n[k, s, b]),
                  "text": sentence(table.names[m], p, side, row.sex, label, grid)}
    return out
