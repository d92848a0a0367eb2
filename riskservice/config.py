"""Configuration defaults; every key can be overridden with a RISKSERVICE_<KEY> variable."""

DEFAULTS = {
    # Largest accepted request body in bytes (413 beyond it).
    "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
    # Knowledge directory; None = the files shipped in the package.
    "KNOWLEDGE_DIR": None,
    # "on" loads the models from MODEL_DIR at start-up; "off" serves rules only (model: null).
    "MODEL": "on",
    # Model directory; None = models/ next to the package (the repository's models/). Every
    # manifest there is loaded, one per role (insulin_resistance, dysglycaemia); a role without
    # a manifest gives probability null with the reason.
    "MODEL_DIR": None,
    # Deepest JSON nesting accepted before parsing is refused (400).
    "MAX_JSON_DEPTH": 20,
    # Batch limits: bytes per upload and data rows per request (413 beyond them).
    "BATCH_MAX_BYTES": 256 * 1024 * 1024,
    "BATCH_MAX_ROWS": 1_000_000,
    # Bytes of a JSON-array batch (413 beyond it); it is spooled, checked and answered block by block.
    "BATCH_JSON_MAX_BYTES": 128 * 1024 * 1024,
    # Bytes all uploads being scored may hold at once in one worker process (memory and TMPDIR
    # together); an upload past it gets 507, as does one that meets a full disk.
    "BATCH_SPOOL_QUOTA": 1024 * 1024 * 1024,
    # Spelling searches for unknown medication names per request ("Did you mean ..."): each distinct
    # unknown entry once; past this many, unknown entries are reported without a suggestion.
    "MEDICATION_SUGGESTIONS_PER_REQUEST": 1000,
    # Most CSV columns accepted (422 beyond it, checked on the header before any work).
    "BATCH_MAX_COLUMNS": 1_000,
    # Refuse to serve a result that used any knowledge entry whose review_status is below
    # "approved" (503 problem+json naming the entries). Off by default; see docs/review.md.
    "REQUIRE_APPROVED": False,
    # API keys (comma-separated) or a file of their sha256 hex digests, one per line. When
    # either is set, every endpoint but /healthz and /readyz needs the key (401 otherwise).
    "API_KEYS": None,
    "API_KEYS_FILE": None,
    # Browser origins allowed by CORS, comma-separated (e.g. https://ehr.example.org); none = CORS off.
    "CORS_ORIGINS": None,
    # Link to the knowledge base on CDS cards (the card's source.url); None = PUBLIC_BASE_URL +
    # /v1/knowledge, and no link when neither is set.
    "KNOWLEDGE_URL": None,
    # Public base URL of this service (e.g. https://cds.example.org). Card links and the CDS JWT
    # audience come from it, never from the Host header; CDS_JWT_ISSUERS without it fails start-up.
    "PUBLIC_BASE_URL": None,
    # Request bodies must arrive within BODY_READ_SECONDS plus one second per
    # BODY_MIN_BYTES_PER_SECOND bytes received; slower bodies get 408 and the connection is closed.
    "BODY_READ_SECONDS": 5.0,
    "BODY_MIN_BYTES_PER_SECOND": 64 * 1024,
    # CDS Hooks fhirServer fetching: base URLs the EHR's token may be sent to (a JSON list or
    # comma-separated). Empty: nothing is fetched, prefetch only. Listed servers may be on private
    # addresses; any other server is never called (riskservice/ehr/outbound.py).
    "CDS_FHIR_SERVER_ALLOWLIST": None,
    # Per-connection-attempt timeout (s) and most search-result pages followed per prefetch query.
    "CDS_FHIR_CONNECT_TIMEOUT": 2.0,
    "CDS_FHIR_MAX_PAGES": 5,
    # Per-GET total deadline (s), per-response size cap (bytes), and the time budget (s) for all
    # GETs of one hook call together.
    "CDS_FHIR_READ_TIMEOUT": 5.0,
    "CDS_FHIR_MAX_BYTES": 5 * 1024 * 1024,
    "CDS_FHIR_TOTAL_SECONDS": 10.0,
    # Extra CA bundle (PEM file) trusted for FHIR servers behind an internal CA; None = system CAs only.
    "CDS_FHIR_CA_FILE": None,
    # Other outbound calls (JWKS from an allow-listed jku): total deadline (s) and size cap (bytes).
    "OUTBOUND_DEADLINE": 5.0,
    "OUTBOUND_MAX_BYTES": 1024 * 1024,
    # Response compression (Flask-Compress) when the client sends Accept-Encoding: answers of at
    # least COMPRESS_MIN_SIZE bytes (a view=summary answer stays plain), in the client's preferred
    # of these algorithms; gzip at level 1 (COMPRESS_LEVEL) costs half of level 6 for 15% more bytes.
    # Streamed responses (the batch) are never compressed, so they keep streaming row by row.
    "COMPRESS_ALGORITHM": "zstd,br,gzip",
    "COMPRESS_MIN_SIZE": 2048,
    "COMPRESS_LEVEL": 1,
    # Browser origins allowed by CORS on /cds-services only (in addition to CORS_ORIGINS), comma-separated.
    "CDS_CORS_ORIGINS": None,
    # CDS client JWT verification: {issuer: {"jwks": {...}} or {"jku": [url, ...]}, optional
    # "tenants": [...]}; None = no JWT check. Needs PUBLIC_BASE_URL (riskservice/ehr/security.py).
    "CDS_JWT_ISSUERS": None,
    # Seconds a JWT id (jti) is remembered after the token's expiry, so a replayed token is refused.
    "CDS_JWT_REPLAY_SECONDS": 3600,
    # Longest accepted CDS JWT lifetime (exp - iat, seconds; CDS Hooks: exp at most five minutes
    # ahead); iat in the future or older than this is refused too.
    "CDS_JWT_MAX_LIFETIME": 300,
    # Where used JWT ids are remembered, shared by every worker: an SQLite file (None =
    # <instance folder>/cds-jti.sqlite3), or Redis shared by every instance when REDIS_URL is set
    # (e.g. redis://redis.internal:6379/0).
    "REPLAY_DB": None,
    "REDIS_URL": None,
    # Look-back windows (days) for EHR Observations by category; None = lookback_days in
    # riskservice/ehr/mapping/observations.json (730 anthropometry, 365 lab, 365 lifestyle).
    "EHR_LOOKBACK_ANTHROPOMETRY_DAYS": None,
    "EHR_LOOKBACK_LAB_DAYS": None,
    "EHR_LOOKBACK_LIFESTYLE_DAYS": None,
    # Signs the short SMART launch cookie and the EHR-origin field; None = random per process
    # (fine under gunicorn's preload; set it when workers are not forked from one master).
    "SECRET_KEY": None,
    # SameSite attribute of that cookie; Lax lets the EHR's redirect back to /launch/callback carry it.
    "SESSION_COOKIE_SAMESITE": "Lax",
    # SMART App Launch: FHIR base URLs allowed to launch the app (comma-separated; none = no launch),
    # extra origins of authorization servers on other hosts, client id, scopes, and the callback
    # URL (None = PUBLIC_BASE_URL or the request's host + /launch/callback).
    "SMART_ISSUERS": None,
    "SMART_AUTH_ORIGINS": None,
    "SMART_CLIENT_ID": "riskservice",
    "SMART_SCOPES": ("openid fhirUser patient/Patient.rs patient/Observation.rs patient/MedicationRequest.rs "
                     "patient/MedicationStatement.rs patient/Condition.rs patient/FamilyMemberHistory.rs"),
    "SMART_REDIRECT_URI": None,
    # Seconds per outbound SMART call (discovery, token, FHIR reads), and for all the calls of one
    # launch or callback together (504 beyond it).
    "SMART_TIMEOUT": 10.0,
    "SMART_TOTAL_SECONDS": 30.0,
    # Fixed scoring date (YYYY-MM-DD) for launched patients, for reproducible demos; None = today.
    "SMART_AS_OF": None,
    # The launched page's trend: observation dates at most this many days apart are one visit (labs
    # are often drawn a few days from the visit), and at most this many visits (the latest) are scored.
    "SMART_TREND_VISIT_DAYS": 7,
    "SMART_TREND_MAX_VISITS": 8,
}
