"""Optional verification of the CDS client's JWT (CDS Hooks 2.0 "Trusting CDS Clients").

Enabled by ``CDS_JWT_ISSUERS`` in the Flask config::

    CDS_JWT_ISSUERS = {
        "https://ehr.example.org": {"jwks": {"keys": [...]}},          # keys on record, or
        "https://sandbox.cds-hooks.org": {"jku": ["https://sandbox.cds-hooks.org/.well-known/jwks.json"]},
    }

Checks, in the best-practice order: ``iss`` allow-listed; ``alg`` ES384 or RS384 (``none`` and
HMAC are rejected); key chosen by ``kid`` from the configured JWKS or from a ``jku`` that is
allow-listed for that issuer (no other URL is ever fetched; the fetch goes through
:mod:`riskservice.ehr.outbound`: deadline, size cap); signature; exact ``aud`` (the public
URL of the endpoint being called); ``exp``/``iat`` present and valid (30 s leeway); ``jti``
never seen before within ``CDS_JWT_REPLAY_SECONDS`` (default in :mod:`riskservice.config`). Any failure is a plain
``False``: the caller answers 401 without detail. The token itself is never logged.
Needs PyJWT with the ``crypto`` extra; without it every token is rejected (fail closed).
"""
from __future__ import annotations

import logging
import threading
import time

from . import outbound

log = logging.getLogger("riskservice.ehr.security")

ALGORITHMS = ["ES384", "RS384"]


class JtiCache:
    def __init__(self):
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def check_and_add(self, key: str, expires_at: float, now: float) -> bool:
        with self._lock:
            for k in [k for k, exp in self._seen.items() if exp < now]:
                del self._seen[k]
            if key in self._seen:
                return False
            self._seen[key] = expires_at
            return True


_jwks_cache: dict[str, tuple[float, dict]] = {}
_jwks_lock = threading.Lock()
JWKS_LIFESPAN = 3600.0


def _fetch_jwks(jku: str, allowed: list[str], config) -> dict:
    """The key set at ``jku`` through the outbound policy (only the issuer's configured jku URLs are
    allow-listed; total deadline, size cap), cached for an hour."""
    now = time.monotonic()
    with _jwks_lock:
        hit = _jwks_cache.get(jku)
        if hit and hit[0] > now:
            return hit[1]
    policy = outbound.Policy(allowlist=tuple(allowed), deadline=float(config["OUTBOUND_DEADLINE"]),
                             max_bytes=int(config["OUTBOUND_MAX_BYTES"]))
    resp = outbound.get(jku, policy=policy, headers={"Accept": "application/json"})
    if resp.status != 200:
        raise ValueError(f"jku answered HTTP {resp.status}")
    jwks = resp.json()
    with _jwks_lock:
        _jwks_cache[jku] = (now + JWKS_LIFESPAN, jwks)
    return jwks


def _key_for(iss_cfg: dict, header: dict, config=None):
    import jwt
    kid = header.get("kid")
    if not kid or not isinstance(kid, str):
        return None
    if iss_cfg.get("jwks"):
        jwks = iss_cfg["jwks"]
    else:
        jku = header.get("jku")
        allowed = list(iss_cfg.get("jku") or ())
        if not isinstance(jku, str) or jku not in allowed:
            return None
        jwks = _fetch_jwks(jku, allowed, config)
    for k in jwt.PyJWKSet.from_dict(jwks).keys:
        if k.key_id == kid:
            return k.key
    return None


def verify_request(authorization: str | None, audience: str, config, jti_cache: JtiCache) -> bool:
    try:
        import jwt
    except ImportError:
        log.error("CDS_JWT_ISSUERS is set but PyJWT is not installed; rejecting")
        return False
    if not authorization or not authorization.startswith("Bearer "):
        return False
    token = authorization[len("Bearer "):].strip()
    issuers = config["CDS_JWT_ISSUERS"] or {}
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            return False
        unverified = jwt.decode(token, options={"verify_signature": False})
        iss = unverified.get("iss")
        if iss not in issuers:
            return False
        key = _key_for(issuers[iss], header, config)
        if key is None:
            return False
        claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=audience, issuer=iss, leeway=30,
                            options={"require": ["iss", "aud", "exp", "iat", "jti"]})
        tenant_allow = issuers[iss].get("tenants")
        if tenant_allow is not None and claims.get("tenant") not in tenant_allow:
            return False
        now = time.time()
        window = float(config["CDS_JWT_REPLAY_SECONDS"])
        if not jti_cache.check_and_add(f"{iss}|{claims['jti']}", max(float(claims["exp"]), now) + window, now):
            log.info("jwt rejected: jti replay (iss=%s)", iss)
            return False
        return True
    except Exception as exc:  # noqa: BLE001 - any failure is a 401
        log.info("jwt rejected: %s", type(exc).__name__)
        return False
