"""Issue 22, finding 14: the batch upload (and every other unsafe request) refuses a browser's post from
another site: a text/plain or multipart form needs no CORS preflight, so only the server can say no."""
from __future__ import annotations

import pytest

from riskservice import create_app

CSV = b"age,sex,bmi\n52,male,31.2\n"


@pytest.fixture(scope="module")
def keyed():
    return create_app({"TESTING": True, "MODEL": "off", "CORS_ORIGINS": "https://ehr.example.org"}).test_client()


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://localhost.evil.example"},
])
@pytest.mark.parametrize("ctype", ["text/plain", "text/csv"])
def test_cross_site_batch_posts_are_refused(keyed, headers, ctype):
    r = keyed.post("/v1/score/batch", data=CSV, content_type=ctype, headers=headers)
    assert r.status_code == 403 and r.mimetype == "application/problem+json"


def test_cross_site_multipart_and_page_posts_are_refused(keyed):
    form = {"file": (__import__("io").BytesIO(CSV), "p.csv", "text/csv")}
    r = keyed.post("/v1/score/batch", data=form, content_type="multipart/form-data",
                   headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = keyed.post("/", data={"age": "52", "sex": "male"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


@pytest.mark.parametrize("headers", [
    {},                                                          # a server or script
    {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},   # this service's own page
    {"Origin": "null", "Sec-Fetch-Site": "same-origin"},          # its own page under no-referrer
    {"Origin": "http://localhost"},                                # an older browser, same origin
    {"Origin": "https://ehr.example.org", "Sec-Fetch-Site": "cross-site"},   # an allowed CORS origin
    {"Sec-Fetch-Site": "none"},                                    # typed or bookmarked
])
def test_same_site_allowed_origins_and_servers_may_post(keyed, headers):
    r = keyed.post("/v1/score/batch", data=CSV, content_type="text/csv", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    r.close()
