"""Routes of the clinician's page; every score comes from the app's one Scorer."""
from __future__ import annotations

import functools

from flask import current_app, redirect, render_template, request, session, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup

from riskservice.api import requestid
from riskservice.core import whatif
from riskservice.core.errors import ValidationProblem
from riskservice.core.fields import FIELDS
from riskservice.ehr import fhir_in
from riskservice.web import answer, bp, chart, forms, smart, trend, whatif_form, wording

# No inline script or style, nothing from another origin; forms post only here.
CSP_WEB = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
           "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
AUDIENCES = ("clinician", "patient")
@functools.cache
def _md():
    """The markdown renderer, built on first use (importing markdown_it costs ~30 ms of start-up)."""
    from markdown_it import MarkdownIt
    # No raw HTML, links, images or autolinks: the narrative has none of its own, and text from the
    # caller or the EHR inside it is escaped too (riskservice/core/markdown.py).
    return MarkdownIt("commonmark", {"html": False}).disable(["link", "image", "autolink", "html_inline",
                                                              "html_block"])


@bp.after_request
def _csp(response):
    response.headers["Content-Security-Policy"] = CSP_WEB
    return response


def _scorer():
    return current_app.extensions["riskservice"]


def _plain() -> wording.Plain:
    return wording.plain_for(current_app.extensions, _scorer().knowledge)


@bp.context_processor
def _wording():
    """Every page template reads engine text through ``plain`` and names fields with ``label``."""
    plain = _plain()
    return {"plain": plain, "label": lambda name: wording.label(plain.kb, name),
            "factor_value": lambda c: answer._value_text(c, plain), "percent": answer.percent,
            "change_words": answer.change_words, "number": answer.number}


def _audience(value) -> str:
    return value if value in AUDIENCES else "clinician"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="riskservice-web-ehr-origin")


def _origin_from(form) -> dict | None:
    token = form.get("ehr_origin")
    if not token:
        return None
    try:
        return _signer().loads(token)
    except BadSignature:
        return None


def _score(values: dict, audience: str):
    """(result, errors): the engine's answer for these form values; errors in plain words."""
    try:
        return _scorer().score(forms.to_raw(values), request_id=requestid.current(), audience=audience), None
    except ValidationProblem as exc:
        return None, _plain().errors(exc.errors)


def provenance(origin: dict | None, values: dict) -> list[dict]:
    """Field by field: came from the EHR, changed, added or removed by the clinician."""
    if origin is None:
        return []
    ehr = origin.get("values", {})
    rows = []
    for field in FIELDS:
        keys = (field.name, f"{field.name}_unit")
        before = " ".join(ehr[k] for k in keys if ehr.get(k))
        now = " ".join(values[k] for k in keys if values.get(k))
        if not before and not now:
            continue
        if before == now:
            status = "from the EHR"
        elif not before:
            status = "added by the clinician"
        elif not now:
            status = "removed by the clinician"
        else:
            status = "changed by the clinician"
        rows.append({"field": field.name, "ehr": before, "now": now, "status": status,
                     "changed": status != "from the EHR"})
    return rows


def _narrative(result: dict) -> str:
    """The engine's narrative for reading: the models named by their version, not their identifiers."""
    text = result["explanation"]
    for model in (result.get("model"), result.get("dysglycaemia")):
        if model and model.get("model_id"):
            text = text.replace(f"({model['model_id']} {model.get('version', '')})",
                                f"(model {model.get('version', '')})")
    return text


def _what_if(values: dict, picked: dict, audience: str) -> dict:
    """The what-if section: the defaults that apply, or the targets the clinician picked."""
    kb = _scorer().knowledge
    chosen, problems = whatif_form.scenarios(kb, picked)
    raw = forms.to_raw(values)
    result = whatif.what_if(_scorer(), raw, chosen, request_id=requestid.current(), audience=audience)
    meds = raw.get("medications") if isinstance(raw.get("medications"), list) else []
    return {"whatif": result, "whatif_problems": problems, "whatif_values": picked, "whatif_open": bool(picked),
            "whatif_widgets": whatif_form.widgets(kb, picked), "whatif_meds": meds,
            "whatif_smoker": str(raw.get("smoking", "")).lower() == "current"}


def _trend_value(point: dict, key: str) -> str:
    """One visit's value of the trend's series, for reading."""
    value = point.get(key)
    if value is None:
        return ""
    return answer.percent(value) if key.endswith("probability") else answer.number(value)


def _trend_axis(chart: dict, end: str) -> str:
    """The value at the bottom ('low') or top ('high') of the trend's axis, for reading."""
    value = chart[end]
    return answer.percent(value) if chart["key"].endswith("probability") else answer.number(round(value, 2))


def _page(values: dict, audience: str, origin: dict | None = None, score: bool = True, template="index.html",
          picked: dict | None = None):
    result, errors = _score(values, audience) if score else (None, None)
    inline, other = forms.errors_by_field(errors or {})
    kb = _scorer().knowledge
    history = (origin or {}).get("trend") or []
    context = {
        "trend": history, "trend_chart": trend.chart(history, (kb.ruleset.get("outcome") or {}).get("cutoff")),
        "trend_value": _trend_value, "trend_axis": _trend_axis,
        "sections": forms.sections(kb), "values": values, "audience": audience, "result": result,
        "inline_errors": inline, "other_errors": other, "error_count": sum(len(v) for v in (errors or {}).values()),
        "disclaimer": kb.disclaimer, "provenance": provenance(origin, values), "origin": origin,
        "origin_token": _signer().dumps(origin) if origin else "",
    }
    plain = _plain()
    if result is not None and not result["applicable"]:
        context["explanation"] = Markup(_md().render(plain(_narrative(result))))
    elif result is not None:
        rules = result["rules"]
        refnum = {r["id"]: r["number"] for r in result["references"]}
        context.update(
            cite=lambda ids: sorted({refnum[i] for i in ids if i in refnum}),
            ans=answer.answer(result, plain),
            outcome_patient_text=plain((kb.ruleset.get("outcome") or {}).get("patient_text", "")),
            outcome_short=plain((result.get("outcome") or {}).get("short_text", "")),
            percentiles=result.get("percentiles"),
            chart=chart.contribution_bars(rules["contributions"], plain),
            scale=chart.band_scale(rules["points"], rules["max_points"], kb.ruleset["bands"]["thresholds"]),
            top_mechanisms=result["mechanisms"][:3],
            explanation=Markup(_md().render(plain(_narrative(result)))),
            **(_what_if(values, picked or {}, audience) if not result["diabetes_range"] else {}),
        )
    status = 422 if errors else 200
    return render_template(template, **context), status


@bp.get("/")
def index():
    return _page({}, "clinician", score=False)


@bp.post("/")
def score_form():
    values = forms.form_values(request.form)
    return _page(values, _audience(request.form.get("audience")), _origin_from(request.form),
                 picked=whatif_form.form_values(request.form))


@bp.post("/handout")
def handout():
    values = forms.form_values(request.form)
    return _page(values, "patient", _origin_from(request.form), template="handout.html",
                 picked=whatif_form.form_values(request.form))


@bp.get("/batch")
def batch_page():
    kb = _scorer().knowledge
    return render_template("batch.html", disclaimer=kb.disclaimer,
                           columns=[f.name for f in FIELDS], max_rows=current_app.config["BATCH_MAX_ROWS"])


# ---------------------------------------------------------------------------------------------
# SMART App Launch
# ---------------------------------------------------------------------------------------------

def _redirect_uri() -> str:
    """Where the EHR sends the user back: SMART_REDIRECT_URI, else PUBLIC_BASE_URL + the callback,
    never the Host header (the caller's to choose: issue 22, finding 13). Without either, only a
    server listening on loopback (a laptop) may use its own address; anything else must say."""
    configured = current_app.config["SMART_REDIRECT_URI"]
    if configured:
        return configured
    base = current_app.config["PUBLIC_BASE_URL"]
    if not base:
        name, port = request.environ.get("SERVER_NAME", ""), str(request.environ.get("SERVER_PORT", ""))
        if not _loopback(name):
            raise smart.LaunchError("This service does not know its public address: set "
                                    "RISKSERVICE_PUBLIC_BASE_URL (or RISKSERVICE_SMART_REDIRECT_URI).", 503)
        base = f"http://{name}" + ("" if port in ("", "80") else f":{port}")
    return str(base).rstrip("/") + url_for("web.launch_callback")


def _loopback(name: str) -> bool:
    import ipaddress
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _launch_problem(reason: str, status: int):
    kb = _scorer().knowledge
    return render_template("launch_error.html", reason=reason, disclaimer=kb.disclaimer), status


@bp.get("/launch")
def launch():
    settings = smart.Settings.from_config(current_app.config)
    iss = request.args.get("iss")
    if not iss:  # standalone launch: pick an allow-listed EHR
        kb = _scorer().knowledge
        return render_template("launch.html", issuers=settings.issuers, disclaimer=kb.disclaimer)
    try:
        url, keep = smart.begin(settings, iss, request.args.get("launch"), _redirect_uri())
    except smart.LaunchError as exc:
        return _launch_problem(exc.reason, exc.status)
    session["smart"] = keep
    return redirect(url, 302)


@bp.get("/launch/callback")
def launch_callback():
    kept = session.pop("smart", None)
    if not kept:
        return _launch_problem("This launch has expired or was already used; launch the app again from the EHR.", 400)
    settings = smart.Settings.from_config(current_app.config)
    try:
        callback_url = _redirect_uri() + ("?" + request.query_string.decode("latin-1") if request.query_string else "")
        token = smart.exchange(settings, kept, callback_url)
        items, notes = smart.read_patient(settings, kept["iss"], token)
        config = current_app.config
        as_of, lookback = smart.as_of(config), fhir_in.Lookback.from_config(config)
        drugs = _scorer().knowledge.drug_class_for
        mapping = fhir_in.map_resources(items, as_of, lookback, drugs)
        history = trend.trend(_scorer(), items, as_of, lookback, drugs, int(config["SMART_TREND_VISIT_DAYS"]),
                              int(config["SMART_TREND_MAX_VISITS"]), request_id=requestid.current())
    except smart.LaunchError as exc:
        return _launch_problem(exc.reason, exc.status)
    except fhir_in.BundleError as exc:
        return _launch_problem(f"The EHR's data could not be read: {exc}", 502)
    values = forms.from_payload(mapping.payload)
    origin = {"values": values, "resources": len(mapping.basis),
              "assumptions": list(mapping.assumptions),
              "unmapped": (notes + [i.get("diagnostics", "") for i in mapping.unmapped])[:50],
              "trend": history}
    return _page(values, "clinician", origin)
