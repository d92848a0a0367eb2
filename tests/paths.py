"""Where the tests find files: the repository, and ../shared beside it (never an absolute path).

CI runs in a fresh clone with a copy of shared/ beside it; a test that needs a shared file
fails with a message naming the path when it is missing, instead of skipping silently."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "schemas"
SHARED = REPO.parent / "shared"


def shared_file(*parts: str) -> Path:
    """Path of a file under ../shared; fails the calling test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.fail(f"{path} is missing: the tests expect the project's shared/ directory beside the "
                    f"repository ({SHARED}), as laid out for development and CI", pytrace=False)
    return path
