"""The hostile-input corpus (tests/security/corpus/*.json, one file per surface) and a raw HTTP
client that can send what well-behaved clients cannot: wrong Content-Length, chunked bodies,
dribbled bytes, odd header values.

Case fields: ``name``; ``method`` (POST); ``path`` (or the file's); ``headers`` (a value of
``[text, n]`` is ``text`` repeated n times, ``null`` removes the header); the body as ``body``
(text), ``body_hex``, ``body_parts`` (``[[text, times], ...]``) or ``base`` (a valid request named
in BASES) changed by ``set``/``delete`` (dotted paths) and ``raw_set`` (dotted path -> raw JSON text,
for what no JSON encoder writes: NaN, lone surrogates, duplicate keys, 400-digit numbers);
``chunked``, ``chunked_raw`` (the body is the chunked framing, sent as written), ``content_length``, ``dribble`` (seconds per body byte), ``dribble_headers`` (seconds per
header byte) for framing (status 0: the server closed the connection without an answer); expectations
``expect`` (statuses), ``lines`` (CSV/NDJSON lines in a 200), ``body_contains``, ``not_in_body``,
``detail_contains``, ``not_in_headers``, ``max_seconds``, ``access_logged`` (the access log has the
answer's line); ``server`` ("keyed": API keys and CORS on);
``framing`` (the HTTP server itself refuses malformed framing with its own 4xx, not problem+json);
``known_failure`` (owner and cause of a bug in another lane: the case runs as a strict xfail);
``proxy`` (overrides, e.g. ``expect``, when the case goes through the shipped nginx) and
``proxy_skip`` (why the case is not sent through nginx: a rule of nginx's own answers it).
"""
from __future__ import annotations

import copy
import http.client
import json
import select
import socket
import time
from pathlib import Path

CORPUS_DIR = Path(__file__).parent / "corpus"
SURFACES = ("json", "csv", "fhir", "cds", "headers")
MARKERS = ("31.2371", "9999999999", "p-complete", "p-molar", "olanzapine")  # must never reach a log line


def cases():
    """(surface, case) for every case of every corpus file, with file defaults applied."""
    out = []
    for surface in SURFACES:
        doc = json.loads((CORPUS_DIR / f"{surface}.json").read_text(encoding="utf-8"))
        for case in doc["cases"]:
            case = dict(case)
            case.setdefault("path", doc.get("path"))
            if doc.get("content_type"):
                case.setdefault("headers", {})
                case["headers"] = {"Content-Type": doc["content_type"], **case["headers"]}
            out.append((surface, case))
    return out


def _bases() -> dict:
    from tests.ehr.helpers import hook_request, load_bundle, prefetch_for
    order = hook_request("molar", hook="order-select", prefetch=prefetch_for("molar"))
    order["context"].update(selections=["MedicationRequest/d1"], draftOrders={
        "resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
            "resourceType": "MedicationRequest", "id": "d1", "status": "draft", "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "N05AH03",
                                                      "display": "olanzapine"}]},
            "subject": {"reference": "Patient/p-molar"}}}]})
    return {"patient": {"age": 52, "sex": "male", "bmi": 31.2371}, "bundle": load_bundle("complete"),
            "patient_view": hook_request("complete", prefetch=prefetch_for("complete")), "order_select": order}


def _walk(doc, dotted: str):
    keys = dotted.split(".")
    for key in keys[:-1]:
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    last = keys[-1]
    return doc, (int(last) if isinstance(doc, list) else last)


def body_of(case) -> bytes:
    if "body_hex" in case:
        return bytes.fromhex(case["body_hex"])
    if "body_parts" in case:
        return "".join(text * times for text, times in case["body_parts"]).encode("utf-8")
    if "base" not in case:
        return case.get("body", "").encode("utf-8")
    doc = copy.deepcopy(_bases()[case["base"]])
    for dotted, value in (case.get("set") or {}).items():
        parent, key = _walk(doc, dotted)
        parent[key] = value
    for dotted in case.get("delete") or ():
        parent, key = _walk(doc, dotted)
        del parent[key]
    raws = {}
    for i, (dotted, raw) in enumerate((case.get("raw_set") or {}).items()):
        parent, key = _walk(doc, dotted)
        parent[key] = f"@@RAW{i}@@"
        raws[f'"@@RAW{i}@@"'] = raw
    text = json.dumps(doc)
    for marker, raw in raws.items():
        text = text.replace(marker, raw)
    return text.encode("utf-8")


def headers_of(case) -> dict:
    headers = {"Content-Type": "application/json"} if case.get("method", "POST") == "POST" else {}
    for name, value in (case.get("headers") or {}).items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value[0] * value[1] if isinstance(value, list) else value
    return headers


class Answer:
    def __init__(self, status: int, headers: dict, body: bytes, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def json(self):
        return json.loads(self.body)


def send(host: str, port: int, case, timeout: float = 60) -> Answer:
    """One request on a fresh connection, framed exactly as the case says."""
    method = case.get("method", "POST")
    body = body_of(case) if method in ("POST", "PUT") else b""
    headers = headers_of(case)
    lines = [f"{method} {case['path']} HTTP/1.1"]
    if not any(k.lower() == "host" for k in headers):
        lines.append(f"Host: {host}:{port}")
    lines += [f"{k}: {v}" for k, v in headers.items()] + ["Connection: close"]
    if case.get("chunked_raw"):   # the body is sent as written: framing errors are the point
        lines.append("Transfer-Encoding: chunked")
        payload = body
    elif case.get("chunked"):
        lines.append("Transfer-Encoding: chunked")
        payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                           for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
    else:
        payload = body
    if "content_length" in case:
        lines.append(f"Content-Length: {case['content_length']}")
    elif not case.get("chunked") and not case.get("chunked_raw") and method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    started = time.monotonic()
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if case.get("dribble_headers"):
            for i in range(len(head)):
                if select.select([sock], [], [], 0)[0]:
                    break  # the server answered or closed
                try:
                    sock.sendall(head[i:i + 1])
                except OSError:
                    break
                time.sleep(case["dribble_headers"])
            try:
                resp = http.client.HTTPResponse(sock, method=method)
                resp.begin()
                return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read(),
                              time.monotonic() - started)
            except (http.client.RemoteDisconnected, ConnectionResetError):
                return Answer(0, {}, b"", time.monotonic() - started)  # closed without an answer
        sock.sendall(head)
        if case.get("dribble"):
            for i in range(len(payload)):
                if select.select([sock], [], [], 0)[0]:
                    break  # the server answered already
                try:
                    sock.sendall(payload[i:i + 1])
                except OSError:
                    break
                time.sleep(case["dribble"])
        else:
            try:
                sock.sendall(payload)
            except OSError:
                pass  # the server may refuse (413) and close before reading everything
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        data = resp.read()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, time.monotonic() - started)
    finally:
        sock.close()
