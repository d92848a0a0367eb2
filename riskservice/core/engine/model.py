"""The models' terms from the engine's canonical columns, their linear predictors and probabilities.

Every term the engine can build (:data:`riskservice.model.features.TERMS`) is built once per
evaluation, term-major, (terms, n); each model takes the rows its manifest names. The
insulin-resistance model gives ``probability`` (with its terms and contributions for the answer),
the dysglycaemia model ``dysglycaemia_probability``. A missing input is NaN, filled with the
training mean, so it contributes 0.
"""
from __future__ import annotations

import numpy as np

from riskservice.core.engine.arrays import _NAN, _ZERO_F, _sum

#: canonical numeric columns the terms read, in this order
TERM_INPUTS = ("age", "bmi", "hdl_cholesterol", "sedentary_hours_per_day", "sleep_hours_per_night",
               "waist", "height", "mvpa_minutes_per_week", "triglycerides", "hba1c")


class ModelSteps:
    """Model terms, contributions, logits and probabilities."""

    def _model_tables(self):
        """Look-up tables from the row's context (sex and ethnicity), smoking and yes/no codes to
        the dummy terms (NaN = missing; a missing code, -1, takes the last column), the source
        columns of the numeric inputs, and per model its terms' rows and its numbers as columns."""
        from riskservice.model import features as F

        cx = self.cx
        eth = cx.choices[cx.coded_index["ethnicity"]]
        eth_table = np.full((len(eth) + 1, len(F.ETHNICITY_DUMMIES)), np.nan)
        for k, e in enumerate(eth):
            category = F.ETHNICITY_TO_CATEGORY.get(e)
            if category is not None:        # e.g. middle_eastern: no NHANES category, treated as unknown
                eth_table[k] = [float(category == d) for d in F.ETHNICITY_DUMMIES]
        smoking = cx.choices[cx.coded_index["smoking"]]
        smoking_table = np.full((len(smoking) + 1, 2), np.nan)
        for k, value in enumerate(smoking):
            smoking_table[k] = [float(value == "current"), float(value == "former")]
        male_table = np.array([[0.0], [1.0], [np.nan]])
        # the context key is sex * (ethnicities + 1) + ethnicity, missing ones last (see ItemSlots)
        contexts = np.arange(self.slots.context.shape[2])
        sex, ethnicity = np.divmod(contexts, len(eth) + 1)
        context_table = np.concatenate([male_table[sex], eth_table[ethnicity]], axis=1).T.copy()   # (terms, contexts)
        columns = np.array([cx.numeric_index[name] for name in TERM_INPUTS], dtype=np.intp)
        names = ["age", "age_sq", "male", *(f"eth_{d}" for d in F.ETHNICITY_DUMMIES), "bmi", "waist_to_height",
                 "hdl_cholesterol", "smoking_current", "smoking_former", "mvpa_any", "sedentary_hours", "sleep_hours",
                 "waist", "hypertension", "log_triglycerides", "hba1c", "inactive", "sleep_short", "family_history",
                 "gestational_diabetes", *F.PATTERN_TERMS]
        assert tuple(names) == F.TERM_NAMES, "the engine builds the terms in features.TERMS order"
        models = {}
        for model in self.models:
            order = np.array([names.index(t) for t in model.term_names], dtype=np.intp)
            numbers = tuple(np.asarray(v, dtype=np.float64).reshape(-1, 1) for v in
                            (model.fill_, model.mean_, model.scale_, model.coef_))
            # "labs given" terms count only the labs this model takes: (row, its labs) and the labs taken
            patterns = [(k, F.pattern_bits(t)) for k, t in enumerate(model.term_names) if t in F.PATTERN_TERMS]
            models[model.role] = (order, numbers, np.array(model.intercept_, dtype=np.float64),
                                  patterns, F.labs_taken(model.term_names))
        flag_table = np.array([0.0, 1.0, np.nan])       # a yes/no code (0, 1, -1 missing) as a term
        family = cx.choices[cx.coded_index["family_history_diabetes"]]
        family_table = np.array([float(v == "first_degree") for v in family] + [np.nan])
        gdm_table = np.array([[0.0, 1.0, np.nan], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])   # (sex, answer): women only
        codes = (cx.coded_index["smoking"], cx.coded_index["hypertension"], cx.coded_index["fasting"],
                 cx.coded_index["family_history_diabetes"], cx.coded_index["gestational_diabetes"],
                 cx.coded_index["sex"])
        thresholds = (np.array(float(F.MVPA_ANY_MIN_MINUTES)), np.array(F.ACTIVE_MINUTES),
                      np.array(F.SHORT_SLEEP_HOURS))
        pattern_bits = np.array([F.pattern_bits(t) for t in F.PATTERN_TERMS])[:, None]
        return (context_table, smoking_table.T.copy(), (flag_table, family_table, gdm_table), codes, columns,
                thresholds, pattern_bits, models)

    def _terms(self, source, codes, key):
        """Every term the engine can build, (terms, n), NaN where an input is missing; and which
        labs were given (bits: HDL 1, triglycerides 2 (fasting only), HbA1c 4), (n,)."""
        (context_table, smoking_table, (flag_table, family_table, gdm_table),
         (smoking, hypertension, fasting, family, gdm, sex), columns, (mvpa_min, active, short_sleep),
         pattern_bits, _) = self._model_lookup
        num = source.T.take(columns, axis=0)      # age, bmi, hdl, sedentary, sleep, waist, height, mvpa, tg, hba1c
        age, waist, height, mvpa, tg = num[0:1], num[5:6], num[6:7], num[7:8], num[8:9]
        hdl, sleep, hba1c = num[2:3], num[4:5], num[9:10]
        # a height is either missing (NaN) or within its bounds, so above 0 when they are
        whtr = waist / height if self._height_positive else np.where(height > 0, waist / height, np.nan)
        nan_or_zero = mvpa * _ZERO_F      # 0.0, NaN when missing (values are finite): keeps NaN in a flag
        mvpa_any = (mvpa >= mvpa_min) + nan_or_zero
        inactive = (mvpa < active) + nan_or_zero
        sleep_short = (sleep <= short_sleep) + sleep * _ZERO_F
        # triglycerides enter only when the labs were drawn fasting (their bounds keep them > 0)
        log_tg = np.where(codes[:, fasting] == 1, np.log(tg), _NAN)
        given = ((hdl == hdl) * 1 + (log_tg == log_tg) * 2 + (hba1c == hba1c) * 4)[0]
        return np.concatenate([
            age, age * age, context_table.take(key, axis=1), num[1:2], whtr, hdl,
            smoking_table.take(codes[:, smoking], axis=1), mvpa_any, num[3:5],
            waist, flag_table.take(codes[:, hypertension])[None], log_tg, hba1c, inactive, sleep_short,
            family_table.take(codes[:, family])[None], gdm_table[codes[:, sex], codes[:, gdm]][None],
            (given == pattern_bits).astype(np.float64)]), given

    def _model(self, ev, source, codes, key):
        """Both models' linear predictors from the shared terms. The insulin-resistance model's
        terms and contributions are kept (transposed, (n, terms)) for its explanation."""
        from riskservice.model.predict import sigmoid

        if self._model_lookup is None:
            self._model_lookup = self._model_tables()
        models = self._model_lookup[-1]
        all_terms, given = self._terms(source, codes, key)
        ev.caveats = self._caveats(codes, given & (ev.ok * 7))
        for role, (order, (fill, mean, scale, coef), intercept, patterns, taken) in models.items():
            terms = all_terms.take(order, axis=0)
            for k, bits in patterns:       # "labs given" counts only the labs this model takes
                terms[k] = (given & taken) == bits
            filled = np.where(np.isnan(terms), fill, terms)
            contrib = (coef * ((filled - mean) / scale)).T
            logit = intercept + _sum(contrib, axis=1)
            probability = np.where(ev.ok, sigmoid(logit), _NAN)
            if role == "insulin_resistance":
                ev.model_terms, ev.model_contrib, ev.logit = terms.T, contrib, logit
                ev.probability = probability
            else:
                ev.dysglycaemia_probability = probability

    def _caveats(self, codes, given):
        """(mask, message) for each subgroup whose held-out calibration the ruleset names (outcome
        subgroup_caveats, written by riskservice derive-points): same sex, an ethnicity of the group, and
        exactly the labs the caveat names given."""
        if self._caveat_lookup is None:
            cx, names = self.cx, {"hdl_cholesterol": 1, "triglycerides": 2, "hba1c": 4}
            sexes, eths = cx.choices[cx.coded_index["sex"]], cx.choices[cx.coded_index["ethnicity"]]
            self._caveat_lookup = []
            for c in self.kb.ruleset["outcome"].get("subgroup_caveats", []):
                # (sex code, ethnicity code) -> in the group; a missing code (-1) takes the last row/column
                table = np.zeros((len(sexes) + 1, len(eths) + 1), dtype=bool)
                table[sexes.index(c["sex"]), [eths.index(e) for e in c["ethnicity"]]] = True
                self._caveat_lookup.append((table, sum(names[x] for x in c["labs"]), c["text"]))
        sex, eth = codes[:, self.cx.coded_index["sex"]], codes[:, self.cx.coded_index["ethnicity"]]
        return [(table[sex, eth] & (given == bits), text) for table, bits, text in self._caveat_lookup]
