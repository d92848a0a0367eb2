"""Issue 22, finding 4: text from callers and EHRs never becomes markup. The injection strings render
as text in the JSON ``explanation``, on the page and in the CDS order-select card, under CommonMark,
and no bare URL is left for a GFM-style autolinker to pick up."""
from __future__ import annotations

import copy
import re

import pytest
from markdown_it import MarkdownIt

from riskservice.core import markdown
from riskservice.ehr import cds_hooks

INJECTIONS = [
    "prednisolone [Click for dosing guidance](https://evil.example/phish)",
    "prednisolone ![x](https://evil.example/pixel.png)",
    "prednisolone <https://evil.example/auto>",
    "prednisolone https://evil.example/bare www.evil.example",
    "prednisolone <script>alert(1)</script> <img src=x onerror=alert(1)>",
    "prednisolone\n\n# Heading\n- [x](javascript:alert(1))",
]
RENDER = MarkdownIt("commonmark")   # links, images, autolinks and raw HTML all on: the worst renderer
BARE_URL = re.compile(r"(?<!\\)(?:https?://|www\.)", re.I)


def assert_text_only(md: str, where: str):
    html = RENDER.render(md)
    assert "<a " not in html and "<img" not in html and "<script" not in html and "<h1" not in html, (where, html)
    assert not BARE_URL.search(md), (where, md)   # nothing an autolinker would turn into a link


@pytest.mark.parametrize("text", INJECTIONS)
def test_escaped_text_renders_as_itself(text):
    md = markdown.text(text)
    html = RENDER.render(md)
    assert_text_only(md, "escape")
    assert re.sub(r"\s+", " ", text.replace("<", "&lt;").replace(">", "&gt;")) in html.replace("&quot;", '"')


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_explanation_markdown(client, audience):
    body = {"age": 52, "sex": "male", "bmi": 31.2, "medications": INJECTIONS}
    resp = client.post(f"/v1/score?audience={audience}", json=body)
    assert resp.status_code == 200
    md = resp.get_json()["explanation"]
    assert "evil" in md   # the entries are there, as text
    assert_text_only(md, "explanation")


def test_page(client):
    form = {"age": "52", "sex": "male", "bmi": "31.2", "medications": "; ".join(INJECTIONS[:5])}
    html = client.post("/", data=form).get_data(as_text=True)
    assert "evil.example" in html
    assert not re.search(r"<a [^>]*evil|<img [^>]*(evil|onerror)|<script>alert", html)


def test_cds_order_select_card(client):
    from tests.security.corpus import _bases
    call = copy.deepcopy(_bases()["order_select"])
    entry = call["context"]["draftOrders"]["entry"][0]["resource"]
    entry["medicationCodeableConcept"]["text"] = "olanzapine " + INJECTIONS[0]
    resp = client.post(f"/cds-services/{cds_hooks.ORDER_SELECT_ID}", json=call)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    cards = resp.get_json()["cards"]
    assert cards and any("evil" in c["detail"] for c in cards)
    for card in cards:
        assert_text_only(card["detail"], "card")
