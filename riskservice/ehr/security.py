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
URL of the endpoint being called); ``exp``/``iat`` present and valid (30 s leeway), ``iat`` not in
the future and the lifetime ``exp - iat`` at most ``CDS_JWT_MAX_LIFETIME`` (300 s: the CDS Hooks
specification says ``exp`` is no more than five minutes in the future), so an old or long-lived
token is refused whatever its ``exp``; ``jti`` never seen before, by any worker or instance
(:mod:`riskservice.ehr.replay`: SQLite shared by the host's workers, or Redis), until the token's
expiry plus ``CDS_JWT_REPLAY_SECONDS``. Any failure (a replay store that cannot answer included) is a
plain ``False``: the caller answers 401 without detail. The token itself is never logged.
Needs PyJWT with the ``crypto`` extra; without it every token is rejected (fail closed).
"""
from __future__ import annotations

import logging
import threading
import time

from . import outbound

log = logging.getLogger("riskservice.ehr.security")

ALGORITHMS = ["ES384", "RS384"]


LEEWAY = 30   # seconds of clock difference tolerated on exp and iat


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


def lifetime_ok(claims: dict, max_lifetime: float, now: float) -> bool:
    """``iat`` not in the future, ``exp - iat`` within ``max_lifetime``: a token minted ten years
    ahead or thirty days ago is refused even with a valid ``exp``."""
    iat, exp = claims.get("iat"), claims.get("exp")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (iat, exp)):
        return False
    return iat <= now + LEEWAY and exp - iat <= max_lifetime and iat >= now - max_lifetime - LEEWAY


def verify_request(authorization: str | None, audience: str, config, replay_store) -> bool:
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
        claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=audience, issuer=iss, leeway=LEEWAY,
                            options={"require": ["iss", "aud", "exp", "iat", "jti"]})
        tenant_allow = issuers[iss].get("tenants")
        if tenant_allow is not None and claims.get("tenant") not in tenant_allow:
            return False
        now = time.time()
        if not lifetime_ok(claims, float(config["CDS_JWT_MAX_LIFETIME"]), now):
            log.info("jwt rejected: lifetime (iss=%s)", iss)
            return False
        window = float(config["CDS_JWT_REPLAY_SECONDS"])
        if not replay_store.first_use(f"{iss}|{claims['jti']}", max(float(claims["exp"]), now) + LEEWAY + window, now):
            log.info("jwt rejected: jti replay (iss=%s)", iss)
            return False
        return True
    except Exception as exc:  # noqa: BLE001 - any failure is a 401
        log.info("jwt rejected: %s", type(exc).__name__)
        return False
