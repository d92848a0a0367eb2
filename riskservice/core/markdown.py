"""Text from callers and EHRs inside the markdown this service writes, as text and never markup.

Why: a medication entry such as ``prednisolone [Click for dosing guidance](https://evil.example/phish)``
became a live link in the ``explanation``, on the page and in CDS cards (issue 22, finding 4).
:func:`text` backslash-escapes every ASCII punctuation character that CommonMark or its common
extensions (GFM tables, strikethrough, autolinks) give a meaning to; CommonMark allows any ASCII
punctuation to be escaped, so the text renders exactly as written. Escaping ``:`` and ``.``
also keeps ``https://...`` and ``www...`` from being recognised as bare autolinks, and line
breaks become spaces, so an entry cannot start a heading, list or block of its own.
"""
from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:&\"'=^$%@])")
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def text(value) -> str:
    """``value`` as markdown that renders as its plain text."""
    return _SPECIAL.sub(r"\\\1", _BREAKS.sub(" ", str(value)))
