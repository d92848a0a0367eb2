"""Medication lists to drug classes (one memo entry per distinct list), and the
questionnaires' blood-pressure items that a list implies."""
from __future__ import annotations

import numpy as np

from riskservice.core.engine.arrays import _ZERO
from riskservice.core.engine.evaluation import MedicationList

MED_CACHE_LIMIT = 100_000   # distinct medication lists remembered per process


class MedicationSteps:
    """Drug-class membership, points and drivers per distinct list; blood-pressure items."""

    def _medications(self, parsed):
        """Per row: drug-class membership, whether a list was given, the blood-pressure code
        (2 x a systemic blood-pressure medicine + 1 when a list was given) for the
        questionnaires, the points of the list, the points a missing list could add, its
        mechanism drivers and whether it holds a glucose-lowering drug that makes a measured
        HOMA-IR invalid; one integer row per distinct list, then one take."""
        rows = [self._classes_of(tuple(entries)).row for entries in parsed.med_lists]
        rows.append(self._no_list.row)
        per_row = np.array(rows, dtype=np.int64).take(parsed.med_index, axis=0)   # -1 (no list): last row
        c = len(self.class_ids)
        return (per_row[:, :c] > _ZERO, parsed.med_index >= _ZERO, per_row[:, c], per_row[:, c + 1],
                per_row[:, c + 2], per_row[:, c + 3:-1].T, per_row[:, -1] > _ZERO)

    def _medication_row(self, member, blood_pressure, given=True, glucose_lowering=False):
        points = int(member.astype(np.int64) @ self.class_points)
        drivers = np.where(member, self.class_points * 256 + 1, 0)
        missing = 0 if given or self.med_factor is None else self._med_max
        return (*member.astype(np.int64).tolist(), 2 * bool(blood_pressure) + int(given), points, missing,
                *drivers.tolist(), int(bool(glucose_lowering)))

    def classes_of(self, entries) -> MedicationList:
        """What a medication list means: scoring classes, entries per class, notes, blood pressure."""
        return self._classes_of(tuple(entries))

    def _classes_of(self, entries: tuple):
        hit = self._med_cache.get(entries)
        if hit is not None:
            return hit
        kb = self.kb
        member = np.zeros(len(self.class_ids), dtype=bool)
        matches, notes = {}, []
        blood_pressure = False
        bp_classes = self._bp_classes
        glucose_lowering = []
        for entry in entries:
            m = kb.match_medication(entry)
            if m.scores:
                for cid in m.class_ids:
                    if cid in self._class_pos:
                        member[self._class_pos[cid]] = True
                        matches.setdefault(cid, []).append(entry)
                blood_pressure |= bool(bp_classes.intersection(m.class_ids))
            if m.recognised and self._glucose_lowering_classes.intersection(m.class_ids):
                glucose_lowering.append(entry)       # never scored, but a measured HOMA-IR is not valid under it
            message = m.message()
            if message:
                notes.append((entry, message, m.recognised))
        hit = MedicationList(member, matches, notes, blood_pressure,
                             self._medication_row(member, blood_pressure, glucose_lowering=bool(glucose_lowering)),
                             glucose_lowering)
        if len(self._med_cache) < MED_CACHE_LIMIT:
            self._med_cache[entries] = hit
        return hit

    @staticmethod
    def _blood_pressure_items(hyper, blood_pressure, med_given):
        """The questionnaires' blood-pressure items. ADA asks about a diagnosis of high blood
        pressure (``hypertension``, or treatment, which implies it); FINDRISC asks only whether
        blood-pressure medication was ever taken regularly: yes when one is listed, no when a
        list without one was given or high blood pressure was denied, else unknown. Also the
        source of the ADA item: 0 none, 1 hypertension, 2 medications."""
        antihypertensive = np.where((hyper == 1) | blood_pressure, 1, np.where(hyper == 0, 0, -1))
        medication = np.where(blood_pressure, 1, np.where(med_given | (hyper == 0), 0, -1))
        source = np.where(hyper == 1, 1, np.where(blood_pressure, 2, np.where(hyper == 0, 1, 0)))
        return antihypertensive, medication, source

    def _blood_pressure_lookup(self):
        """:meth:`_blood_pressure_items` for all twelve input combinations, at the position
        ``hypertension code * 4 + blood-pressure code`` (code -1 wraps to the end)."""
        hyper = np.repeat(np.array([0, 1, -1]), 4)
        bp = np.tile(np.array([False, False, True, True]), 3)
        given = np.tile(np.array([False, True]), 6)
        return np.column_stack(self._blood_pressure_items(hyper, bp, given))

    def _antihypertensive(self, codes, bp_code):
        items = self._blood_pressure_table.take(codes[:, self._hypertension_col] * self._four + bp_code, axis=0)
        a, m = self._antihypertensive_cols
        codes[:, a] = items[:, 0]
        codes[:, m] = items[:, 1]
        return items[:, 2]
