"""The knowledge compiled once into numpy tables, so the engine never walks dicts per call.

Every banded thing in the knowledge (rules factors, established-score items, index cut-offs)
becomes an *item*: an input column, a variant chosen by sex and ethnicity, and bands. A
numeric item's band is the number of its thresholds the value exceeds; every band edge is
turned into a strict ``>`` threshold (an edge that belongs to the upper band becomes the
next double below it), so one comparison per edge places any value, whatever the edge's
inclusivity. A categorical item's band is a table lookup by code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from riskservice.core import units as unit_table
from riskservice.core.errors import KnowledgeError
from riskservice.core.fields import ETHNICITY, FIELD_BY_NAME, FIELDS, SEX
from riskservice.core.names import names_for

NUMERIC = tuple(f.name for f in FIELDS if f.kind == "number")
CODED = tuple(f.name for f in FIELDS if f.kind in ("enum", "bool"))
DERIVED_CODED = ("antihypertensive", "antihypertensive_medication")
NO_SEX, NO_ETHNICITY = len(SEX), len(ETHNICITY)   # the "missing" slots in variant tables


@dataclass
class ItemTable:
    """The items of one group and one input kind: the tables :class:`ItemSlots` is built from,
    and the specs renderers read."""

    inputs: list                         # input column name per item
    variant: np.ndarray                  # (items, sexes + 1, ethnicities + 1) -> variant or -1
    thresholds: np.ndarray = None        # numeric: (items, variants, edges) strict thresholds
    band_of_code: np.ndarray = None      # categorical: (items, variants, codes + 1) -> band or -1
    points: np.ndarray = None            # (items, variants, bands)
    top: np.ndarray = None               # (items, variants) highest points of the variant
    flag: np.ndarray = None              # (items, variants, bands): band means "flagged"
    flagged_band: np.ndarray = None      # (items, variants, bands): a factor band marked "flagged"
    unit_thresholds: np.ndarray = None   # numeric: (items, units, variants, edges) thresholds in each unit
    unit_field: np.ndarray = None        # numeric: the multi-unit input field of each item, or -1
    diabetes: np.ndarray = None          # (items, variants, bands): the band is in the diabetes range
    specs: list = field(default_factory=list)   # (owner, spec, variants) per item, for renderers

    def __len__(self):
        return len(self.inputs)


@dataclass
class Compiled:
    numeric: tuple
    numeric_index: dict
    coded: tuple
    coded_index: dict
    key_slots: dict                      # input key -> (kind, column)
    required: tuple
    canonical_unit: np.ndarray           # per numeric field: index of its canonical unit
    unit_names: list                     # per numeric field: accepted unit names
    unit_lower: list
    unit_lookup: list                    # per numeric field: lower-case name -> unit index
    unit_choices_message: list
    factor: np.ndarray                   # (fields, units) conversion factor
    offset: np.ndarray
    lower: np.ndarray                    # canonical bounds per numeric field
    upper: np.ndarray
    choices: list                        # per coded field: its choices (lower case)
    choice_lookup: list
    choices_message: list
    items: dict = field(default_factory=dict)   # "factors" / "established" / "cutoffs" -> (num, cat)
    index_ids: tuple = ()                          # index values follow the fields in the value matrix
    slots: ItemSlots = None                      # every item on one axis, for the engine
    names: object = None                         # core.names.Names: spellings of headers, units and answers


def compile_knowledge(kb) -> Compiled:
    """Compile ``kb`` (a validated :class:`Knowledge`); raise KnowledgeError on tables the
    engine cannot evaluate unambiguously."""
    numeric_index = {name: j for j, name in enumerate(NUMERIC)}
    coded_all = CODED + DERIVED_CODED
    coded_index = {name: j for j, name in enumerate(coded_all)}
    key_slots = {}
    for f in FIELDS:
        if f.kind == "number":
            key_slots[f.name] = ("number", numeric_index[f.name])
            if f.has_unit:
                key_slots[f"{f.name}_unit"] = ("unit", numeric_index[f.name])
        elif f.kind in ("enum", "bool"):
            key_slots[f.name] = (f.kind, coded_index[f.name])
        else:
            key_slots[f.name] = ("list", 0)
    names, lookups, messages = [], [], []
    width = max(len(unit_table.accepted_units(kb, n)) for n in NUMERIC)
    factor = np.ones((len(NUMERIC), width))
    offset = np.zeros((len(NUMERIC), width))
    canonical = np.zeros(len(NUMERIC), dtype=np.intp)
    lower, upper = np.zeros(len(NUMERIC)), np.zeros(len(NUMERIC))
    for j, name in enumerate(NUMERIC):
        spec = unit_table.quantity(kb, name)
        units = list(spec["units"])
        lookup = {}
        for k, u in enumerate(units):
            if u.lower() in lookup:
                raise KnowledgeError(f"units.json {name}: units {units[lookup[u.lower()]]!r} and {u!r} "
                                     "differ only in case, so they cannot be matched case-insensitively")
            lookup[u.lower()] = k
            factor[j, k] = spec["units"][u]["factor"]
            offset[j, k] = spec["units"][u].get("offset", 0.0)
        canonical[j] = units.index(spec["canonical"])
        names.append(units)
        lookups.append(lookup)
        messages.append(f"Must be one of: {', '.join(units)}.")
        lower[j], upper[j] = spec["bounds"]
    choices, choice_lookup, choices_message = [], [], []
    for name in coded_all:
        f = FIELD_BY_NAME.get(name)
        options = list(f.choices) if f is not None and f.kind == "enum" else ["false", "true"]
        choices.append(options)
        choice_lookup.append({c.lower(): k for k, c in enumerate(options)})
        choices_message.append(f"Must be one of: {', '.join(options)}.")
    cx = Compiled(
        numeric=NUMERIC, numeric_index=numeric_index, coded=coded_all, coded_index=coded_index,
        key_slots=key_slots, required=tuple(f.name for f in FIELDS if f.required),
        canonical_unit=canonical, unit_names=names, unit_lower=[[u.lower() for u in us] for us in names],
        unit_lookup=lookups, unit_choices_message=messages, factor=factor, offset=offset,
        lower=lower, upper=upper, choices=choices, choice_lookup=choice_lookup,
        choices_message=choices_message, names=names_for(kb),
    )
    cx.index_ids = tuple(ix["id"] for ix in kb.indices)
    index_ids = set(cx.index_ids)
    groups = {
        "factors": [(f, f, f["variants"], f.get("sexes")) for f in kb.factors if f["kind"] != "medications"],
        "established": [((sid, item), item, item["variants"], item.get("sexes"))
                        for sid, score in kb.established["scores"].items() for item in score["items"]],
        "cutoffs": [(ix, {"input": ix["id"], "kind": "numeric"}, _cutoff_variants(ix), None)
                    for ix in kb.indices if ix.get("cutoffs")],
    }
    for name, entries in groups.items():
        num, cat = _split(cx, entries, index_ids)
        cx.items[name] = (_table(cx, num, numeric=True), _table(cx, cat, numeric=False))
    cx.slots = compile_slots(cx)
    return cx


def _cutoff_variants(index):
    """An index cut-off as a two-band item whose bands say flagged or not."""
    variants = []
    for cut in index["cutoffs"]:
        c, op = cut["value"], cut["comparison"]
        upper_flagged = op in (">", ">=")
        edge_in_upper = op in (">=", "<")      # x == c is in the upper band
        low = {"lower": None, "upper": c, "upper_inclusive": not edge_in_upper, "points": 0,
               "flagged_band": not upper_flagged}
        high = {"lower": c, "lower_inclusive": edge_in_upper, "upper": None, "points": 0,
                "flagged_band": upper_flagged}
        variants.append({"when": cut["when"], "bands": [low, high], "cutoff": cut})
    return variants


def _split(cx, entries, index_ids):
    """(numeric ItemTable, categorical ItemTable) for ``entries`` (owner, spec, variants, sexes)."""
    num, cat = [], []
    for owner, spec, variants, sexes in entries:
        name = spec["input"]
        if name in cx.numeric_index or name in index_ids:
            num.append((owner, spec, variants, sexes))
        elif name in cx.coded_index:
            cat.append((owner, spec, variants, sexes))
        else:
            raise KnowledgeError(f"knowledge item input {name!r} is not an input field or an index")
    return num, cat


def _variant_table(variants, sexes):
    table = np.full((len(SEX) + 1, len(ETHNICITY) + 1), -1, dtype=np.intp)
    allowed_sexes = sexes or SEX
    for s, sex in enumerate(SEX):
        if sex not in allowed_sexes:
            continue
        for e, eth in enumerate(ETHNICITY + (None,)):
            ctx = {"sex": sex, "ethnicity": eth}
            for v, variant in enumerate(variants):
                if all(ctx.get(key) in allowed for key, allowed in variant["when"].items()):
                    table[s, e] = v
                    break
    return table


def _table(cx, entries, numeric: bool) -> ItemTable:
    k = len(entries)
    nv = max((len(v) for _, _, v, _ in entries), default=1)
    nb = max((len(var["bands"]) for _, _, vs, _ in entries for var in vs), default=1)
    t = ItemTable(inputs=[spec["input"] for _, spec, _, _ in entries],
                  variant=np.stack([_variant_table(v, s) for _, _, v, s in entries]) if k
                  else np.zeros((0, len(SEX) + 1, len(ETHNICITY) + 1), dtype=np.intp),
                  specs=[(owner, spec, variants) for owner, spec, variants, _ in entries])
    t.points = np.zeros((k, nv, nb), dtype=np.int64)
    t.top = np.zeros((k, nv), dtype=np.int64)
    t.flag = np.zeros((k, nv, nb), dtype=bool)
    t.flagged_band = np.zeros((k, nv, nb), dtype=bool)
    t.diabetes = np.zeros((k, nv, nb), dtype=bool)
    if numeric:
        t.thresholds = np.full((k, nv, max(nb - 1, 1)), np.inf)
        t.unit_thresholds = np.full((k, cx.factor.shape[1], nv, max(nb - 1, 1)), np.inf)
        t.unit_field = np.full(k, -1, dtype=np.intp)
    else:
        width = max((len(cx.choices[cx.coded_index[spec["input"]]]) for _, spec, _, _ in entries), default=1)
        t.band_of_code = np.full((k, nv, width + 1), -1, dtype=np.intp)
    for i, (_, spec, variants, _) in enumerate(entries):
        for v, variant in enumerate(variants):
            bands = variant["bands"]
            for b, band in enumerate(bands):
                t.points[i, v, b] = band.get("points", 0)
                t.flag[i, v, b] = bool(band.get("flagged_band", False))
                t.flagged_band[i, v, b] = bool(band.get("flagged", False))
                t.diabetes[i, v, b] = bool(band.get("diabetes_range", False))
            t.top[i, v] = max(band.get("points", 0) for band in bands)
            if numeric:
                for b, band in enumerate(bands[1:]):
                    edge = float(band["lower"])
                    t.thresholds[i, v, b] = np.nextafter(edge, -np.inf) if band["lower_inclusive"] else edge
            else:
                j = cx.coded_index[spec["input"]]
                f = FIELD_BY_NAME.get(spec["input"])
                for b, band in enumerate(bands):
                    value = band["equals"]
                    if f is not None and f.kind == "enum":
                        code = cx.choices[j].index(value)
                    else:
                        code = int(bool(value))
                    t.band_of_code[i, v, code] = b
    if numeric:
        _unit_thresholds(cx, t, entries)
    return t


def _unit_thresholds(cx, t, entries):
    """Each numeric edge in every unit its input accepts: as the guideline states it there
    (``lower_equivalents``) or else converted, so a value is banded in the unit it was sent in."""
    for i, (_, spec, variants, _) in enumerate(entries):
        j = cx.numeric_index.get(spec["input"])
        units = cx.unit_names[j] if j is not None else []
        if len(units) > 1:
            t.unit_field[i] = j
        for u in range(t.unit_thresholds.shape[1]):
            if len(units) <= 1 or u >= len(units) or u == cx.canonical_unit[j]:
                t.unit_thresholds[i, u] = t.thresholds[i]
                continue
            for v, variant in enumerate(variants):
                for b, band in enumerate(variant["bands"][1:]):
                    stated = band.get("lower_equivalents", {}).get(units[u])
                    edge = stated if stated is not None else (band["lower"] - cx.offset[j, u]) / cx.factor[j, u]
                    t.unit_thresholds[i, u, v, b] = np.nextafter(edge, -np.inf) if band["lower_inclusive"] else edge


# --------------------------------------------------------------------------- one table of all items
BAND, TOP, POINTS, MISSING_TOP = range(4)                           # rows of ItemSlots.ints
PRESENT, FLAGGED, DIABETES, FLAG, ATTACHED, MISSING = range(6)     # rows of ItemSlots.bools


@dataclass
class ItemSlots:
    """Every banded item (rules factors, questionnaire items, index cut-offs) on one axis, so
    that one pass of a few array operations bands every item of every row.

    An item's *slot* is the number of its strict thresholds its value exceeds. Numeric
    thresholds start with -inf, so a present value has slot = band + 1 and a missing one slot
    0; a categorical code c is banded the same way against -0.5, 0.5, 1.5, ... (slot c + 1,
    missing code -1 slot 0). The row's sex and ethnicity select a variant; variant slot 0
    means the item does not apply (thresholds +inf, so slot 0). Every result (band, points,
    flags) is then one look-up by (item, variant slot, slot), the same for one row or a million.
    Items are ordered by group (factors, established, cutoffs), numeric then categorical within
    each, as in ``Compiled.items``.
    """

    n_items: int
    n_slots: int                  # slots per item and variant slot
    value_columns: np.ndarray     # (items,) column of the banded value in the engine's source matrix
    unit_columns: np.ndarray      # (items,) column of Parsed.unit giving the unit of that value
    sex_key: np.ndarray           # sex code (-1 = missing, last) -> context offset
    ethnicity_key: np.ndarray     # ethnicity code (-1 = missing, last) -> context
    context: np.ndarray           # (3, items, contexts): variant (-1 = n/a), threshold row base, result base
                                  #   (the narrowest signed integers that index both tables, see narrowest)
    thresholds: np.ndarray        # (items x variant slots x units, thresholds), rows ascending, last +inf
    ints: np.ndarray              # (4, items x variant slots x slots): band, top, points, top if missing
                                  #   (the narrowest signed integers that hold them: int8 for today's knowledge)
    bools: np.ndarray             # (6, ...): present, flagged band, diabetes range, cut-off flag,
                                  #           mechanisms attached, applies but missing
    threshold_rows: list          # per item: the threshold rows that some row can select (n/a excluded)
    blocks: dict                  # group -> (columns of its numeric items, columns of its categorical items)


_NARROW = (np.int8, np.int16, np.int32)


def narrowest(table: np.ndarray, bound: int = 0) -> np.ndarray:
    """``table`` in the smallest signed integer type that holds its values and ``bound`` (the
    length of a table its values index, so that an index plus a slot or a unit still fits).
    A block gathers these tables for every item of every row; at 1-2 bytes a cell instead of 8
    the gathered records are a quarter to an eighth of the memory a worker streams. The engine
    adds them up with int64 accumulators, so the narrow type never limits a total."""
    low, high = (int(table.min()), int(table.max())) if table.size else (0, 0)
    for dtype in _NARROW:
        info = np.iinfo(dtype)
        if info.min <= low and max(high, bound) <= info.max:
            return table.astype(dtype)
    return table.astype(np.int64)


def source_layout(cx) -> dict:
    """Where each kind of column starts in the engine's source matrix: canonical values,
    index values, values as sent (NaN where the canonical value is missing), codes."""
    nf, ni = len(cx.numeric), len(cx.index_ids)
    return {"values": 0, "indices": nf, "raw": nf + ni, "codes": 2 * nf + ni, "width": 2 * nf + ni + len(cx.coded)}


def compile_slots(cx) -> ItemSlots:
    """One :class:`ItemSlots` from the per-group item tables of ``cx``."""
    layout = source_layout(cx)
    tables, blocks, start = [], {}, 0
    for group in ("factors", "established", "cutoffs"):
        num, cat = cx.items[group]
        blocks[group] = (slice(start, start + len(num)), slice(start + len(num), start + len(num) + len(cat)))
        start += len(num) + len(cat)
        tables += [(num, k, True) for k in range(len(num))] + [(cat, k, False) for k in range(len(cat))]
    k_items = len(tables)
    units = cx.factor.shape[1]
    nv1 = 1 + max((t.points.shape[1] for t, _, _ in tables), default=1)
    widths = [t.thresholds.shape[2] if numeric else t.band_of_code.shape[2] - 1 for t, _, numeric in tables]
    n_thr = 2 + max(widths, default=1)      # -inf first, and at least one +inf last (see the engine)
    n_slot = n_thr
    single = [j for j, names in enumerate(cx.unit_names) if len(names) == 1]
    zero_col = single[0] if single else 0       # a field whose unit index is always 0
    value_columns = np.zeros(k_items, dtype=np.intp)
    unit_columns = np.full(k_items, zero_col, dtype=np.intp)
    thresholds = np.full((k_items, nv1, units, n_thr), np.inf)
    ints = np.zeros((4, k_items, nv1, n_slot), dtype=np.int64)
    ints[BAND] = -1
    bools = np.zeros((6, k_items, nv1, n_slot), dtype=bool)
    contexts = (len(SEX) + 1) * (len(ETHNICITY) + 1)
    context = np.zeros((3, k_items, contexts), dtype=np.intp)
    threshold_rows = []
    for i, (t, k, numeric) in enumerate(tables):
        name = t.inputs[k]
        variant = t.variant[k].ravel()
        vslot = variant + 1
        context[0, i] = variant
        context[1, i] = (i * nv1 + vslot) * units
        context[2, i] = (i * nv1 + vslot) * n_slot
        unit_count = 1
        if numeric and name in cx.numeric_index:
            j = cx.numeric_index[name]
            if t.unit_field[k] >= 0:
                value_columns[i], unit_columns[i] = layout["raw"] + j, j
            else:
                value_columns[i] = j
        elif numeric:
            value_columns[i] = layout["indices"] + cx.index_ids.index(name)
        else:
            value_columns[i] = layout["codes"] + cx.coded_index[name]
        unit_count = len(cx.unit_names[unit_columns[i]])
        n_variants = len(t.specs[k][2])
        for v in range(n_variants):
            top = t.top[k, v]
            ints[TOP, i, v + 1, :] = top
            ints[MISSING_TOP, i, v + 1, 0] = top
            bools[MISSING, i, v + 1, 0] = True
            if numeric:
                thresholds[i, v + 1, :, 0] = -np.inf
                thresholds[i, v + 1, :, 1:1 + t.unit_thresholds.shape[3]] = t.unit_thresholds[k, :, v, :]
                slots = [(b + 1, b) for b in range(len(t.specs[k][2][v]["bands"]))]
            else:
                width = t.band_of_code.shape[2] - 1
                thresholds[i, v + 1, :, :width] = np.arange(width) - 0.5
                slots = [(c + 1, int(t.band_of_code[k, v, c])) for c in range(width)]
            for s, b in slots:
                if b < 0:
                    ints[MISSING_TOP, i, v + 1, s] = top
                    bools[MISSING, i, v + 1, s] = True
                    continue
                points = t.points[k, v, b]
                flagged = bool(t.flagged_band[k, v, b])
                ints[BAND, i, v + 1, s] = b
                ints[POINTS, i, v + 1, s] = points
                bools[PRESENT, i, v + 1, s] = True
                bools[FLAGGED, i, v + 1, s] = flagged
                bools[DIABETES, i, v + 1, s] = numeric and bool(t.diabetes[k, v, b])
                bools[FLAG, i, v + 1, s] = bool(t.flag[k, v, b])
                bools[ATTACHED, i, v + 1, s] = points > 0 or flagged
        threshold_rows.append(sorted({int(r) + u for r, vs in zip(context[1, i], vslot, strict=True) if vs > 0
                                      for u in range(unit_count)}))
    return ItemSlots(
        n_items=k_items, n_slots=n_slot, value_columns=value_columns, unit_columns=unit_columns,
        sex_key=np.array([s * (len(ETHNICITY) + 1) for s in range(len(SEX) + 1)], dtype=np.intp),
        ethnicity_key=np.arange(len(ETHNICITY) + 1, dtype=np.intp),
        context=narrowest(context, bound=max(k_items * nv1 * max(units, n_slot), 1)),
        thresholds=thresholds.reshape(-1, n_thr), ints=narrowest(ints.reshape(4, -1)), bools=bools.reshape(6, -1),
        threshold_rows=threshold_rows, blocks=blocks)
