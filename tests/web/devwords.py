"""The "no developer words" check for clinical and patient pages.

:func:`visible_text` collects what a reader of a rendered page can see or hear: text nodes
(closed sections included: they open in place and print open), option and button text, the
title, and the ``aria-label``/``title``/``alt``/``placeholder`` attributes. Form values and
hidden inputs are not text. :func:`developer_words` lists the API and developer words in it.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

SPOKEN_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder")
#: (name, pattern) pairs; each is a word a clinician or patient should never read.
PATTERNS = (
    ("UCUM code", re.compile(r"\[[A-Za-z_]+\]")),            # [lb_av], [in_i], u[IU]/mL
    ("'assumed'", re.compile(r"\bassumed\b", re.IGNORECASE)),
    ("file name", re.compile(r"\w\.(md|json|csv|py)\b", re.IGNORECASE)),
    ("backtick", re.compile(r"`")),
    ("program name", re.compile(r"riskservice ")),
    ("field name", re.compile(r"(?<![\w/.:=#-])[a-z][a-z0-9]*_[a-z0-9_]+\b")),  # fasting_glucose, very_high
    ("JSON", re.compile(r"\bJSON\b")),
    ("command", re.compile(r"\b(derive-points|make (test|serve|lock|schemas)|pip install|python -m)\b")),
)


class _Text(HTMLParser):
    SKIP = {"script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def developer_words(html: str) -> list[str]:
    """Every developer word in the page's visible text, each with some context."""
    text = visible_text(html)
    found = []
    for name, pattern in PATTERNS:
        for match in pattern.finditer(text):
            found.append(f"{name}: ...{text[max(0, match.start() - 40):match.end() + 40]}...")
    return found
