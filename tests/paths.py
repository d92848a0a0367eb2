"""Where the tests find files: inside the repository only (never an absolute path, never beside it).

A user's plain clone has nothing next to it, so every file a test reads is in the repository;
what the tests need from elsewhere is vendored under ``tests/vendor/`` with its source and licence."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
VENDOR = REPO / "tests" / "vendor"
CDS_RESPONSE_SCHEMA = VENDOR / "cds-hooks" / "cds-hooks-2.0-response.schema.json"
