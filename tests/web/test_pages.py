"""The page's server side without a browser: one field table, the engine's errors, CSP,
the outbound rules of the SMART client and the CDS Hooks card link."""
from __future__ import annotations

import gc
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from riskservice.config import DEFAULTS
from riskservice.core import units
from riskservice.core.errors import ValidationProblem
from riskservice.core.fields import FIELDS, UNIT_FIELDS
from riskservice.web import forms, http, smart, wording
from riskservice.web.views import CSP_WEB, provenance
from riskservice.web.whatif_form import FORM_KEYS

FORM = {"age": "52", "sex": "male", "bmi": "31.2", "waist": "104", "waist_unit": "cm", "hs_crp": "4.1", "hs_crp_unit": "mg/L",
        "medications": "prednisolone; olanzapine", "hypertension": "yes", "pcos": "", "fasting_glucose": "5.8",
        "fasting_glucose_unit": "mmol/L", "sleep_hours_per_night_unit": "h/d"}


@pytest.fixture(scope="module")
def web_app():
    from riskservice.app import build_app
    return build_app({"TESTING": True, "MODEL": "off", "SMART_ISSUERS": "https://ehr.example.org/fhir"})


@pytest.fixture()
def wc(web_app):
    return web_app.test_client()


def test_every_field_is_placed_once_in_the_article_groups():
    placed = forms.placed_fields()
    assert sorted(placed) == sorted(f.name for f in FIELDS)
    assert len(placed) == len(set(placed))


def test_the_form_draws_every_field_with_the_knowledge_units(wc, kb):
    html = wc.get("/").get_data(as_text=True)
    for field in FIELDS:
        assert f'id="{field.name}"' in html and f'<label for="{field.name}"' in html
    for unit_field in UNIT_FIELDS:
        name = unit_field[:-5]
        options = re.search(rf'<select id="{unit_field}"[^>]*>(.*?)</select>', html, re.DOTALL).group(1)
        shown = re.findall(r'<option value="([^"]*)"', options)
        assert shown[0] == units.canonical_unit(kb, name)
        assert sorted(shown) == sorted(units.accepted_units(kb, name))


def test_form_text_becomes_the_engine_input():
    raw = forms.to_raw(MultiDict(FORM))
    assert raw == {"age": 52.0, "sex": "male", "bmi": 31.2, "waist": 104.0, "waist_unit": "cm", "hs_crp": 4.1,
                   "hs_crp_unit": "mg/L",
                   "medications": ["prednisolone", "olanzapine"], "hypertension": True, "fasting_glucose": 5.8,
                   "fasting_glucose_unit": "mmol/L"}
    assert forms.to_raw({"age": "fifty", "sex": "male"})["age"] == "fifty"  # the engine reports it
    # a unit without its value is not echoed (else every empty unit picker would look "entered")
    assert "sleep_hours_per_night_unit" not in forms.form_values(MultiDict(FORM))


def test_payload_round_trips_through_the_form(patient):
    assert forms.to_raw(forms.from_payload(patient)) == {
        k: (float(v) if isinstance(v, int) else v) for k, v in patient.items()}


def test_result_page_is_the_engine_result(wc, scorer):
    html = wc.post("/", data=FORM).get_data(as_text=True)
    expected = scorer.score(forms.to_raw(MultiDict(FORM)))
    band = re.search(r'class="band band-([a-z_]+)" id="band">', html).group(1)
    assert band == expected["rules"]["band"]
    assert f"<strong>{expected['rules']['points']}</strong> of {expected['rules']['max_points']}" in html
    assert expected["disclaimer"] in html


def test_bad_values_come_back_inline_with_the_engine_messages_in_plain_words(wc, scorer, kb):
    form = dict(FORM, age="fifty", waist_unit="furlong", weight="900", weight_unit="[lb_av]")
    resp = wc.post("/", data=form)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    with pytest.raises(ValidationProblem) as exc:
        scorer.score(forms.to_raw(MultiDict(form)))
    inline, other = forms.errors_by_field(wording.Plain(kb).errors(exc.value.errors))
    assert set(inline) >= {"age", "waist", "weight"} and not other
    assert inline["age"] == ["Enter a number, for example 52 or 5.8."]      # not "send a JSON number"
    assert inline["waist"] == ["Unit: Choose a unit from the list."]
    assert " lb " in inline["weight"][0] and "[lb_av]" not in inline["weight"][0]
    for field, messages in inline.items():
        block = re.search(rf'<p class="error" id="err-{field}">(.*?)</p>', html, re.DOTALL).group(1)
        for message in messages:
            assert str(__import__("markupsafe").escape(message)) in block
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html, re.DOTALL)
    assert 'value="fifty"' in html


@pytest.mark.parametrize("path", ["/", "/batch", "/launch"])
def test_pages_carry_a_strict_csp_and_no_inline_code(wc, path):
    resp = wc.get(path)
    assert resp.status_code == 200
    assert resp.headers["Content-Security-Policy"] == CSP_WEB
    assert "'unsafe-inline'" not in CSP_WEB and "http" not in CSP_WEB
    html = resp.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)   # no inline script
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", html)      # no inline style or handler
    assert not re.search(r'(src|href)="(https?:)?//', html)          # nothing from another origin


def test_result_page_has_no_inline_code_either(wc):
    html = wc.post("/", data=FORM).get_data(as_text=True)
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|<script(?![^>]*\bsrc=)", html)


def test_assets_ship_in_the_package(wc):
    for name in ("web.css", "print.css", "web.js"):
        with wc.get(f"/static/web/{name}") as resp:
            assert resp.status_code == 200 and len(resp.data) > 100


def test_provenance_lists_ehr_values_and_the_clinicians_changes():
    origin = {"values": {"age": "52", "waist": "104", "waist_unit": "cm", "hs_crp": "4.1", "hs_crp_unit": "mg/L"}}
    now = {"age": "52", "waist": "98", "waist_unit": "cm", "bmi": "31"}
    rows = {r["field"]: r["status"] for r in provenance(origin, now)}
    assert rows == {"age": "from the EHR", "waist": "changed by the clinician", "bmi": "added by the clinician",
                    "hs_crp": "removed by the clinician"}
    assert provenance(None, now) == []


def test_a_tampered_ehr_origin_is_ignored(wc):
    html = wc.post("/", data=dict(FORM, ehr_origin="eyJ2YWx1ZXMiOnt9fQ.forged")).get_data(as_text=True)
    assert "What came from the EHR" not in html


# ------------------------------------------------------------------------------------------
# SMART launch rules
# ------------------------------------------------------------------------------------------

def test_launch_refuses_an_issuer_off_the_allow_list(wc):
    resp = wc.get("/launch?iss=https://evil.example.org/fhir&launch=abc")
    assert resp.status_code == 400
    assert "allow-list" in resp.get_data(as_text=True)


def test_launch_needs_a_configured_allow_list():
    from riskservice.app import build_app
    client = build_app({"TESTING": True, "MODEL": "off"}).test_client()
    resp = client.get("/launch?iss=https://ehr.example.org/fhir&launch=abc")
    assert resp.status_code == 400 and "SMART_ISSUERS" in resp.get_data(as_text=True)


def test_callback_without_a_launch_is_refused(wc):
    resp = wc.get("/launch/callback?code=abc&state=xyz")
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)


def test_callback_with_a_wrong_state_is_refused(wc):
    with wc.session_transaction() as sess:
        sess["smart"] = {"state": "right", "verifier": "v" * 64, "iss": "https://ehr.example.org/fhir",
                         "token_endpoint": "https://ehr.example.org/token",
                         "redirect_uri": "http://localhost/launch/callback"}
    resp = wc.get("/launch/callback?code=abc&state=wrong")
    assert resp.status_code == 400 and "not valid" in resp.get_data(as_text=True)


@pytest.mark.parametrize("url, reason", [
    ("http://ehr.example.org/fhir/Patient/1", "plain http"),
    ("https://other.example.org/fhir/Patient/1", "allow-list"),
    ("ftp://ehr.example.org/x", "absolute http(s)"),
    ("/fhir/Patient/1", "absolute http(s)"),
])
def test_outbound_calls_follow_the_allow_list(url, reason):
    with pytest.raises(http.OutboundError) as exc:
        http.check_url(url, {"https://ehr.example.org"})
    assert reason in exc.value.reason
    http.check_url("https://ehr.example.org/fhir/Patient/1", {"https://ehr.example.org"})
    http.check_url("http://127.0.0.1:8080/fhir", {"http://127.0.0.1:8080"})


def test_settings_allow_the_issuers_and_the_extra_auth_origins():
    settings = smart.Settings.from_config({**DEFAULTS, "SMART_ISSUERS": "https://ehr.example.org/fhir/, https://b.example.org/r4",
                                           "SMART_AUTH_ORIGINS": "https://login.example.org"})
    assert settings.issuers == ("https://ehr.example.org/fhir", "https://b.example.org/r4")
    assert settings.allowed_origins == {"https://ehr.example.org", "https://b.example.org", "https://login.example.org"}


class _Slow(BaseHTTPRequestHandler):
    """Answers headers at once, then drips the body slower than any deadline (/drip) or
    sends nothing more (/stall)."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if self.path == "/stall":
            self.wfile.flush()
            time.sleep(3)
            return
        if self.path == "/huge":  # no Content-Length, more than the size cap
            try:
                for _ in range(http.MAX_BYTES // 65536 + 2):
                    self.wfile.write(b" " * 65536)
            except OSError:
                pass
            return
        for _ in range(40):
            try:
                self.wfile.write(b" ")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    def log_message(self, *args):
        pass


def _frames(exc):
    """Every frame in ``exc``'s traceback and in those of the exceptions it replaced."""
    while exc is not None:
        tb = exc.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        exc = exc.__context__


@pytest.mark.parametrize("path, reason", [("/drip", "deadline"), ("/stall", "deadline"),
                                          ("/huge", "too large")])
def test_outbound_calls_stop_at_the_deadline_or_the_size_cap(path, reason):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with pytest.raises(http.OutboundError) as exc:
            http.call("GET", base + path, allowed_origins={base}, timeout=3 if path == "/huge" else 0.5)
        assert reason in exc.value.reason
        # the failed call's frame stays alive in a reference cycle (its traceback), and the
        # response it read from must be closed there already: an open one leaves its socket to the
        # garbage collector, a ResourceWarning in whichever test happens to run next
        responses = [f.f_locals["resp"] for f in _frames(exc.value) if f.f_code.co_name == "request"]
        assert responses and all(r is None or r.isclosed() for r in responses)
        del exc, responses
        gc.collect()
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------------
# CDS Hooks card link
# ------------------------------------------------------------------------------------------

def test_patient_view_card_links_to_the_smart_app():
    from riskservice.app import build_app
    from riskservice.ehr import cds_hooks
    from tests.ehr.helpers import assert_valid_cds_response, hook_request, prefetch_for
    app = build_app({"TESTING": True, "MODEL": "off", "PUBLIC_BASE_URL": "https://ir.example.org"})
    service = next(s["id"] for s in cds_hooks.discovery()["services"] if s["hook"] == "patient-view")
    resp = app.test_client().post(f"/cds-services/{service}", json=hook_request("complete", prefetch=prefetch_for("complete")))
    assert resp.status_code == 200
    cards = resp.get_json()["cards"]
    assert cards and cards[0]["links"] == [{"label": "Open the insulin-resistance risk page",
                                            "url": "https://ir.example.org/launch", "type": "smart"}]
    assert_valid_cds_response(resp.get_json())


# ------------------------------------------------------------------------------------------
# Hostile form input: never a 500, the page always comes back (the API fuzz does not cover HTML)
# ------------------------------------------------------------------------------------------

_KEYS = [f.name for f in FIELDS] + list(UNIT_FIELDS) + ["audience", "ehr_origin", "unknown"] + list(FORM_KEYS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.dictionaries(st.sampled_from(_KEYS), st.text(max_size=40), max_size=12))
def test_any_form_gets_a_page_not_a_crash(wc, form):
    for path in ("/", "/handout"):
        resp = wc.post(path, data=form)
        assert resp.status_code in (200, 422), (path, resp.status_code)
        assert resp.mimetype == "text/html"
        assert "Decision support only" in resp.get_data(as_text=True) or path == "/handout"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(iss=st.text(max_size=60), launch=st.text(max_size=20), code=st.text(max_size=20))
def test_any_launch_parameters_get_a_page_not_a_crash(wc, iss, launch, code):
    resp = wc.get("/launch", query_string={"iss": iss, "launch": launch})
    assert resp.status_code in (200, 400) and resp.mimetype == "text/html"
    resp = wc.get("/launch/callback", query_string={"code": code, "state": launch})
    assert resp.status_code == 400 and resp.mimetype == "text/html"


def test_diabetes_range_and_not_applicable_on_the_page(client):
    """A value in the diabetes range is the first thing on the result; known diabetes gives no score."""
    page = client.post("/", data={"age": "55", "sex": "female", "fasting_glucose": "220",
                                  "fasting_glucose_unit": "mg/dL"}).get_data(as_text=True)
    assert 'id="diabetes-range"' in page and page.index('id="diabetes-range"') < page.index('id="band"')
    page = client.post("/", data={"age": "55", "sex": "female", "known_diabetes": "yes"}).get_data(as_text=True)
    assert 'id="not-applicable"' in page and 'id="band"' not in page


# ------------------------------------------------------------------------------------------
# No developer words on any clinical or patient page
# ------------------------------------------------------------------------------------------

_EVERY_INPUT = dict(FORM, weight="200", weight_unit="[lb_av]", height="70", height_unit="[in_i]", bmi="",
                    fasting_insulin="100", fasting_insulin_unit="pmol/L", smoking="current", ethnicity="south_asian",
                    sleep_hours_per_night="5", hip="44", hip_unit="[in_i]", alt="40", il6="3", tnf_alpha="2",
                    sedentary_hours_per_day="9", vegetables_fruit_daily="no", high_glucose_history="yes",
                    hba1c="40", hba1c_unit="mmol/mol", triglycerides="2.1", triglycerides_unit="mmol/L",
                    hdl_cholesterol="0.9", hdl_cholesterol_unit="mmol/L", mvpa_minutes_per_week="2",
                    mvpa_minutes_per_week_unit="h/wk", family_history_diabetes="second_degree")


@pytest.fixture(scope="module")
def model_app(two_model_dir):
    """With both models (the insulin-resistance one the test fixture until the real one ships): their
    texts are on the page too."""
    from riskservice.app import build_app
    return build_app({"TESTING": True, "SMART_ISSUERS": "https://ehr.example.org/fhir",
                      "MODEL_DIR": str(two_model_dir)})


def _pages(client):
    """Every clinical and patient page the server renders without a browser (the SMART result page
    is scanned by the browser test of the launch)."""
    yield "form", client.get("/")
    for name, form in (("result", FORM), ("every input", _EVERY_INPUT),
                       ("diabetes range", dict(FORM, hba1c="6.9")),
                       ("not applicable", dict(FORM, known_diabetes="yes")),
                       ("male with female-only answers", dict(FORM, pcos="yes", gestational_diabetes="no"))):
        yield name, client.post("/", data=form)
        yield name + " (patient texts)", client.post("/", data=dict(form, audience="patient"))
        yield name + " (handout)", client.post("/handout", data=form)
    yield "what-if targets", client.post("/", data=dict(_EVERY_INPUT, whatif_weight_percent="-10", whatif_mvpa="x",
                                                       whatif_waist="90", whatif_sedentary="4", whatif_sleep="7",
                                                       whatif_stop_smoking="yes", whatif_stop_med="olanzapine"))
    yield "errors", client.post("/", data=dict(FORM, age="fifty", weight="900", weight_unit="[lb_av]",
                                               waist_unit="furlong", medications="x" * 300, bmi="1e999"))
    yield "launch", client.get("/launch")
    yield "launch refused", client.get("/launch?iss=https://other.example.org/fhir&launch=1")
    yield "launch expired", client.get("/launch/callback?code=a&state=b")


def test_no_developer_words_on_any_clinical_or_patient_page(model_app):
    from tests.web.devwords import developer_words
    found = {}
    for name, resp in _pages(model_app.test_client()):
        assert resp.mimetype == "text/html", name
        words = developer_words(resp.get_data(as_text=True))
        if words:
            found[name] = words[:5]
    assert not found, "\n".join(f"{page}: {w}" for page, words in found.items() for w in words)


@pytest.mark.parametrize("html, word", [
    ("<option>[lb_av]</option>", "UCUM code"), ("<p>listed in `assumed`</p>", "'assumed'"),
    ("<p>see models/MODEL_CARD.md</p>", "file name"), ("<p>run `riskservice derive-points`</p>", "backtick"),
    ("<p>Regenerated by riskservice derive-points</p>", "program name"), ("<td>very_high</td>", "field name"),
    ('<button aria-label="send a JSON number">x</button>', "JSON"),
])
def test_the_developer_word_scan_finds_each_kind(html, word):
    from tests.web.devwords import developer_words
    assert any(w.startswith(word) for w in developer_words(html)), developer_words(html)
    assert developer_words("<p>HOMA-IR 2.6 mg/dL, doi:10.1000/a_b</p><input type=hidden value='a_b'>") == []


def test_units_are_shown_as_people_write_them(kb, wc):
    shown = units.display_names(kb)
    for code, name in shown.items():
        assert not re.search(r"[\[\]]", name), (code, name)
    assert shown["[lb_av]"] == "lb" and shown["[in_i]"] == "in" and shown["mg/dL"] == "mg/dL"
    html = wc.get("/").get_data(as_text=True)
    assert '<option value="[lb_av]">lb</option>' in html


def test_every_field_has_a_plain_label_and_hint(kb):
    for field in FIELDS:
        assert "_" not in wording.label(kb, field.name), field.name
        hint = wording.HINTS[field.name]
        assert hint and "`" not in hint and "[" not in hint and "JSON" not in hint, field.name


# ------------------------------------------------------------------------------------------
# What would change it
# ------------------------------------------------------------------------------------------

def _whatif_row(html: str, sid: str) -> str:
    return re.search(rf'<tr id="whatif-{sid}">(.*?)</tr>', html, re.DOTALL).group(1)


def test_what_if_on_the_page_is_a_fresh_score_of_the_changed_inputs(model_app, two_model_scorer):
    from riskservice.web.answer import percent
    client = model_app.test_client()
    form = dict(FORM, smoking="current", mvpa_minutes_per_week="60")
    raw = forms.to_raw(MultiDict(form))
    html = client.post("/", data=form).get_data(as_text=True)
    assert "cross-sectional" in html and "not a promise" in html

    def fresh(changed):
        return two_model_scorer.score(changed, view="summary")["probability"]["value"]

    # the defaults: BMI 5% lower (only BMI was given), 150 min/week, not smoking, all together
    for sid, changed in (("weight", dict(raw, bmi=31.2 * 0.95)),
                         ("activity", dict(raw, mvpa_minutes_per_week=150.0)),
                         ("smoking", dict(raw, smoking="former")),
                         ("together", dict(raw, bmi=31.2 * 0.95, mvpa_minutes_per_week=150.0, smoking="former"))):
        assert f"<strong>{percent(fresh(changed))}</strong>" in _whatif_row(html, sid), sid
    # the second estimate too, in its own column (here the fasting glucose would establish dysglycaemia)
    no_glucose = {k: v for k, v in form.items() if not k.startswith("fasting_glucose")}
    page = client.post("/", data=no_glucose).get_data(as_text=True)
    second = two_model_scorer.score(dict(forms.to_raw(MultiDict(no_glucose)), smoking="former"),
                                    view="summary")["dysglycaemia_probability"]["value"]
    cell = re.search(r'class="whatif-dg"><strong>([^<]+)</strong>', _whatif_row(page, "smoking")).group(1)
    assert second is not None and cell == percent(second)
    # targets the clinician picks, in the units shown next to them
    html = client.post("/", data=dict(form, whatif_weight_percent="-10", whatif_mvpa="300", whatif_waist="90",
                                      whatif_stop_med="olanzapine")).get_data(as_text=True)
    assert 'id="sec-whatif" open' in html
    for sid, changed in (("whatif_weight_percent", dict(raw, bmi=31.2 * 0.9)),
                         ("whatif_waist", dict(raw, waist=90.0)),
                         ("whatif_mvpa", dict(raw, mvpa_minutes_per_week=300.0)),
                         ("whatif_stop_med", dict(raw, medications=["prednisolone"]))):
        assert f"<strong>{percent(fresh(changed))}</strong>" in _whatif_row(html, sid), sid
    html = client.post("/", data=dict(form, whatif_weight_percent="lots", whatif_sleep="0x7")).get_data(as_text=True)
    problems = re.search(r'id="whatif-problems">(.*?)</div>', html, re.DOTALL).group(1)
    assert "enter a number" in problems and problems.count("<li>") == 2


def test_a_search_longer_than_the_pages_read_is_reported_not_dropped(monkeypatch):
    from tests.web.ehr_server import LocalEhr
    ehr = LocalEhr().start()
    try:
        ehr.tokens["t"] = "p-history"
        settings = smart.Settings.from_config({**DEFAULTS, "SMART_ISSUERS": ehr.fhir_base})
        token = {"access_token": "t", "patient": "p-history"}
        items, notes = smart.read_patient(settings, ehr.fhir_base, token)
        assert notes == [] and sum(r["resourceType"] == "Observation" for r, _ in items) == 32
        monkeypatch.setattr(smart, "MAX_PAGES", 1)
        items, notes = smart.read_patient(settings, ehr.fhir_base, token)
        assert sum(r["resourceType"] == "Observation" for r, _ in items) == 10
        assert len(notes) == 1 and "more Observation records" in notes[0]
    finally:
        ehr.stop()


def test_where_the_patient_stands_on_the_page_and_the_handout(model_app, full_scorer):
    client = model_app.test_client()
    expected = full_scorer.score(forms.to_raw(MultiDict(FORM)), view="standard")["percentiles"]
    assert set(expected) >= {"bmi", "waist", "fasting_glucose"}
    html = client.post("/", data=FORM).get_data(as_text=True)
    for key, p in expected.items():
        strip = re.search(rf'<li class="strip-row" id="pct-{key}">(.*?)</li>', html, re.DOTALL).group(1)
        assert p["text"] in strip and f'x1="{p["percentile"]}"' in strip, key
    handout = client.post("/handout", data=FORM).get_data(as_text=True)
    for p in expected.values():
        assert p["text"] in handout


def test_every_screenshot_the_readme_shows_exists():
    from tests.paths import REPO
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"\]\((docs/screenshots/[^)]+\.png)\)", readme)
    assert len(shown) >= 10
    assert [s for s in shown if not (REPO / s).is_file()] == []
    unused = {p.name for p in (REPO / "docs" / "screenshots").glob("*.png")} - {s.rsplit("/", 1)[1] for s in shown}
    assert unused == set()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picked=st.dictionaries(st.sampled_from(FORM_KEYS), st.text(max_size=12), max_size=6))
def test_any_what_if_targets_get_a_page_not_a_crash(wc, picked):
    resp = wc.post("/", data=dict(FORM, smoking="current", **picked))
    assert resp.status_code == 200 and 'id="sec-whatif"' in resp.get_data(as_text=True)


def test_the_trend_line_shows_the_first_series_every_visit_has():
    from riskservice.web import trend
    visits = [{"date": "2025-01-01", "homa_ir": 5.0, "probability": None, "dysglycaemia_probability": 0.4, "points": 20},
              {"date": "2025-07-01", "homa_ir": 3.0, "probability": None, "dysglycaemia_probability": 0.3, "points": 15},
              {"date": "2026-01-01", "error": {"age": ["x"]}}]
    line = trend.chart(visits, cutoff=3.51)
    assert line["key"] == "homa_ir" and len(line["dots"]) == 2          # the refused visit is not drawn
    assert line["dots"][0]["x"] == 4 and line["dots"][1]["x"] == 96 and line["dots"][0]["y"] < line["dots"][1]["y"]
    assert line["ref"] == 3.51 and line["dots"][0]["y"] < line["ref_y"] < line["dots"][1]["y"]
    visits[1]["homa_ir"] = None
    assert trend.chart(visits)["key"] == "dysglycaemia_probability"
    visits[1]["dysglycaemia_probability"] = None
    assert trend.chart(visits)["key"] == "points"
    assert trend.chart(visits[:1]) is None
