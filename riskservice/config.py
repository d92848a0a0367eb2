"""Configuration defaults; every key can be overridden with a RISKSERVICE_<KEY> variable."""

DEFAULTS = {
    # Largest accepted request body in bytes (413 beyond it).
    "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
    # Knowledge directory; None = the files shipped in the package.
    "KNOWLEDGE_DIR": None,
    # "on" loads the model from MODEL_DIR at start-up; "off" serves rules only (model: null).
    "MODEL": "on",
    # Model directory; None = models/ next to the package (the repository's models/).
    "MODEL_DIR": None,
    # Deepest JSON nesting accepted before parsing is refused (400).
    "MAX_JSON_DEPTH": 20,
    # Batch limits: bytes per upload and data rows per request (413 beyond them).
    "BATCH_MAX_BYTES": 256 * 1024 * 1024,
    "BATCH_MAX_ROWS": 1_000_000,
    # Refuse to serve a result that used any knowledge entry whose review_status is below
    # "approved" (503 problem+json naming the entries). Off by default; see docs/review.md.
    "REQUIRE_APPROVED": False,
    # API keys (comma-separated) or a file of their sha256 hex digests, one per line. When
    # either is set, every endpoint but /healthz and /readyz needs the key (401 otherwise).
    "API_KEYS": None,
    "API_KEYS_FILE": None,
    # Browser origins allowed by CORS, comma-separated (e.g. https://ehr.example.org); none = CORS off.
    "CORS_ORIGINS": None,
    # Response compression (Flask-Compress) when the client sends Accept-Encoding: answers of at
    # least COMPRESS_MIN_SIZE bytes (a view=summary answer stays plain), in the client's preferred
    # of these algorithms; gzip at level 1 (COMPRESS_LEVEL) costs half of level 6 for 15% more bytes.
    # Streamed responses (the batch) are never compressed, so they keep streaming row by row.
    "COMPRESS_ALGORITHM": "zstd,br,gzip",
    "COMPRESS_MIN_SIZE": 2048,
    "COMPRESS_LEVEL": 1,
}
