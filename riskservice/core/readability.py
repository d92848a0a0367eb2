"""Flesch-Kincaid grade level, small and dependency-free, so the patient texts can be
tested for reading level in CI without a third-party package.

Formula (Kincaid JP, Fishburne RP, Rogers RL, Chissom BS. Derivation of new readability
formulas for Navy enlisted personnel. Research Branch Report 8-75, Naval Technical Training
Command, 1975):

    grade = 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59

Syllable heuristic (English, no dictionary): lower-case the word, keep letters only, count
groups of consecutive vowels (a e i o u y); subtract one for a final silent "e" (but not
"-le" after a consonant, as in "table", and never below one); every word has at least one
syllable. Digits count as one syllable per number. It is right for most common words and
errs low on words such as "readability" or "clinician", so the grade it reports is a close,
slightly generous estimate; the tests keep the limit (9) with a margin below it.
"""
from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*|\d+(?:[.,]\d+)*")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_MARKDOWN = re.compile(r"\[\d+(?:,\s*\d+)*\]|[*_#`>]")


def syllables(word: str) -> int:
    """Estimated syllables in one word (see the module docstring for the rule)."""
    if word[:1].isdigit():
        return 1
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 0
    count = len(_VOWEL_GROUPS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    elif w.endswith("le") and len(w) > 2 and w[-3] in "aeiouy" and count > 1:
        count -= 1
    return max(1, count)


def words(text: str) -> list:
    return _WORD.findall(text)


def sentences(text: str) -> int:
    """Sentence count: runs of . ! ? followed by space or end; at least one for any text."""
    stripped = text.strip()
    if not stripped:
        return 0
    n = len(_SENTENCE_END.findall(stripped))
    return n + (0 if stripped[-1] in ".!?" else 1)


def plain(text: str) -> str:
    """Drop markdown marks and numbered citations such as [1] or [2, 3] before measuring."""
    return _MARKDOWN.sub("", text)


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level of ``text`` (markdown and [n] citations ignored)."""
    text = plain(text)
    ws = words(text)
    if not ws:
        return 0.0
    n_sent = max(1, sentences(text))
    n_syll = sum(syllables(w) for w in ws)
    return 0.39 * (len(ws) / n_sent) + 11.8 * (n_syll / len(ws)) - 15.59
