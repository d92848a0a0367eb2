"""The model's terms from the engine's canonical columns, its linear predictor and probability."""
from __future__ import annotations

import numpy as np

from riskservice.core.engine.arrays import _NAN, _ZERO_F, _sum


class ModelSteps:
    """Model terms, contributions, logit and probability."""

    def _model_tables(self):
        """Look-up tables from the row's context (sex and ethnicity) and smoking code to the
        model's dummy terms (NaN = missing, imputed by the model; a missing code, -1, takes the
        last column), the source columns of its numeric inputs, the order of its terms among
        the rows built in :meth:`_model`, and its numbers as column vectors."""
        from riskservice.model import features as F

        cx, model = self.cx, self.model
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
        inputs = ("age", "bmi", "hdl_cholesterol", "sedentary_hours_per_day", "sleep_hours_per_night",
                  "waist", "height", "mvpa_minutes_per_week")
        columns = np.array([cx.numeric_index[name] for name in inputs], dtype=np.intp)
        names = ["age", "age_sq", "male", *(f"eth_{d}" for d in F.ETHNICITY_DUMMIES), "bmi", "waist_to_height",
                 "hdl_cholesterol", "smoking_current", "smoking_former", "mvpa_any", "sedentary_hours", "sleep_hours"]
        order = [names.index(t) for t in model.term_names]
        order = None if order == list(range(len(names))) else np.array(order, dtype=np.intp)
        numbers = tuple(np.asarray(v, dtype=np.float64).reshape(-1, 1) for v in
                        (model.fill_, model.mean_, model.scale_, model.coef_))
        return (context_table, smoking_table.T.copy(), cx.coded_index["smoking"], order, columns,
                np.array(float(F.MVPA_ANY_MIN_MINUTES)), numbers, np.array(model.intercept_, dtype=np.float64))

    def _model(self, ev, source, codes, key):
        """The model's terms from the engine's canonical columns, then its linear predictor.
        Terms are built term-major, (terms, n); ``model_terms`` and ``model_contrib`` are
        their transposes, laid out column-major as the sum of the logit has always read them."""
        from riskservice.model.predict import sigmoid

        if self._model_lookup is None:
            self._model_lookup = self._model_tables()
        (context_table, smoking_table, smoking, order, columns, mvpa_min, (fill, mean, scale, coef),
         intercept) = self._model_lookup
        num = source.T.take(columns, axis=0)      # age, bmi, hdl, sedentary, sleep, waist, height, mvpa
        age, waist, height, mvpa = num[0:1], num[5:6], num[6:7], num[7:8]
        # a height is either missing (NaN) or within its bounds, so above 0 when they are
        whtr = waist / height if self._height_positive else np.where(height > 0, waist / height, np.nan)
        mvpa_any = (mvpa >= mvpa_min) + mvpa * _ZERO_F   # 1.0 or 0.0, NaN when missing (values are finite)
        terms = np.concatenate([
            age, age * age, context_table.take(key, axis=1), num[1:2], whtr, num[2:3],
            smoking_table.take(codes[:, smoking], axis=1), mvpa_any, num[3:5]])
        if order is not None:
            terms = terms[order]
        filled = np.where(np.isnan(terms), fill, terms)
        contrib = (coef * ((filled - mean) / scale)).T
        logit = intercept + _sum(contrib, axis=1)
        ev.model_terms, ev.model_contrib, ev.logit = terms.T, contrib, logit
        ev.probability = np.where(ev.ok, sigmoid(logit), _NAN)
