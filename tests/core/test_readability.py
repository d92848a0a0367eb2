"""The Flesch-Kincaid implementation against hand-counted sentences, and every patient text
in the knowledge files at grade 9 or below."""
import pytest

from riskservice.core.readability import fk_grade, plain, sentences, syllables, words

LIMIT = 9.0


@pytest.mark.parametrize("word, count", [
    ("cat", 1), ("the", 1), ("make", 1), ("table", 2), ("people", 2), ("happy", 2),
    ("sugar", 2), ("insulin", 3), ("beautiful", 3), ("medicine", 3), ("whole", 1), ("2.5", 1),
])
def test_syllable_heuristic(word, count):
    assert syllables(word) == count


def test_known_sentences():
    # 6 words, 1 sentence, 6 syllables: 0.39*6 + 11.8*1 - 15.59 = -1.45
    assert fk_grade("The cat sat on the mat.") == pytest.approx(-1.45)
    # 11 words, 2 sentences, 16 syllables (in-su-lin, su-gar, in-to, peo-ple), counted by hand
    text = "Insulin helps sugar get into cells. People need it to live."
    assert len(words(text)) == 11 and sentences(text) == 2
    assert sum(syllables(w) for w in words(text)) == 16
    assert fk_grade(text) == pytest.approx(0.39 * 11 / 2 + 11.8 * 16 / 11 - 15.59)


def test_hard_text_scores_high():
    text = ("Diacylglycerol-mediated activation of protein kinase C-theta precipitates serine "
            "phosphorylation of insulin receptor substrate-1, attenuating phosphatidylinositol "
            "3-kinase recruitment and consequent translocation of glucose transporter type 4.")
    assert fk_grade(text) > 15


def test_markdown_and_citations_are_ignored():
    assert plain("**Your result** is low [1, 2].") == "Your result is low ."
    assert fk_grade("**The cat** sat on the mat [3].") == pytest.approx(fk_grade("The cat sat on the mat."))


def _patient_texts(kb):
    yield "downstream_chain", kb.downstream_chain["patient_text"]
    yield "downstream_chain consequences", kb.downstream_chain["consequences_patient_text"]
    for m in kb.mechanisms.values():
        yield f"mechanism {m['id']}", m["patient_text"]
    for f in kb.factors:
        yield f"factor {f['id']}", f["patient_text"]


def test_every_patient_text_is_grade_9_or_below(kb):
    too_hard = {where: round(fk_grade(text), 1) for where, text in _patient_texts(kb)
                if fk_grade(text) > LIMIT}
    assert not too_hard, f"patient texts above grade {LIMIT}: {too_hard}"


def test_patient_texts_tell_what_to_do(kb):
    for m in kb.mechanisms.values():
        assert "clinician" in m["patient_text"], m["id"]
    for f in kb.factors:
        if f["modifiable"] and f["kind"] != "medications" and f["id"] not in ("hs_crp", "il6", "tnf_alpha", "alt", "fasting_glucose", "hba1c"):
            assert "can change" in f["patient_text"], f["id"]
