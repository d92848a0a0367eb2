"""Optional API-key authentication, off unless keys are configured.

Keys come from ``RISKSERVICE_API_KEYS`` (comma-separated) or ``RISKSERVICE_API_KEYS_FILE``
(one sha256 hex digest per line, so no key is stored in clear). Only digests are kept in
memory and every configured digest is compared with ``hmac.compare_digest``, so timing
reveals neither the key nor which one matched. CDS Hooks clients put their own signed JWT in
``Authorization``; when ``CDS_JWT_ISSUERS`` is configured, /cds-services* is checked by that
JWT instead of a key.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

from flask import Response, current_app, request

from riskservice.api.errors import problem
from riskservice.api.headers import allowed_origins

EXEMPT = frozenset({"/healthz", "/readyz"})
EXTENSION = "riskservice_api_keys"
_HEX = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")


class KeyFileError(ValueError):
    """The key file is unreadable or holds a line that is not a sha256 digest."""


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def key_digests(config) -> list[bytes]:
    """All configured key digests; an empty list means authentication is off."""
    digests = [digest(k) for k in _split(_raw(config, "API_KEYS"))]
    path = _raw(config, "API_KEYS_FILE")
    if path:
        digests += read_key_file(Path(path))
    return digests


def read_key_file(path: Path) -> list[bytes]:
    """sha256 hex digests, one per line (``sha256:`` prefix optional, ``#`` comments)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KeyFileError(f"API key file {path}: {exc.strerror}") from exc
    out = []
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _HEX.match(line)
        if not match:
            raise KeyFileError(f"API key file {path} line {number}: not a sha256 hex digest "
                               "(store `riskservice hash-api-key` output, never the key)")
        out.append(bytes.fromhex(match.group(1)))
    if not out:
        raise KeyFileError(f"API key file {path} holds no key digest")
    return out


def _raw(config, name):
    """The config value as text; from_prefixed_env may have JSON-decoded a key like 123."""
    value = config[name]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return os.environ.get(f"RISKSERVICE_{name}", str(value))


def _split(value) -> list[str]:
    return [k.strip() for k in (value or "").split(",") if k.strip()]


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def is_authorised(digests: list[bytes], key: str | None) -> bool:
    """Constant-time over every digest: no early exit on the first match."""
    candidate = digest(key or "")
    ok = False
    for known in digests:
        ok |= hmac.compare_digest(candidate, known)
    return ok and bool(key)


def is_cors_preflight() -> bool:
    """An OPTIONS request with Access-Control-Request-Method from an allowed browser origin."""
    if request.method != "OPTIONS" or not request.headers.get("Access-Control-Request-Method"):
        return False
    origin = (request.headers.get("Origin") or "").rstrip("/")
    return bool(origin) and origin in allowed_origins(current_app.config, request.path)


def init_app(app):
    app.extensions[EXTENSION] = key_digests(app.config)

    @app.before_request
    def _require_key():
        req = request._get_current_object()
        if req.method == "OPTIONS" and is_cors_preflight():
            # Browsers send preflights without credentials. Every allowed preflight gets the same
            # empty 204 whatever the path, so it reveals nothing about which routes exist.
            return Response(status=204)
        digests = app.extensions[EXTENSION]
        if not digests or req.path in EXEMPT:
            return None  # OPTIONS included: with keys on, it needs a key like any other method
        if req.path.startswith("/cds-services") and app.config["CDS_JWT_ISSUERS"]:
            return None  # CDS clients authenticate with their signed JWT (riskservice.ehr.security)
        if is_authorised(digests, presented_key()):
            return None
        response = problem(401, "Unauthorized", "Send an API key as 'Authorization: Bearer <key>' "
                           "or 'X-API-Key: <key>'.", type_="/problems/unauthorized")
        response.headers["WWW-Authenticate"] = 'Bearer realm="riskservice"'
        return response
