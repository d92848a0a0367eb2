"""The repository stands alone: no test reads a file beside or above it.

A user's plain clone has nothing next to it (no ``../shared``); what the tests need from elsewhere is
vendored under ``tests/vendor/`` with its source and licence. This scan catches a path that leaves the
repository; `git clone` into an empty folder followed by `make test` is the check the README documents."""
import re

from tests.paths import REPO, VENDOR

LEAVING = re.compile(r"""REPO\.parent|\.\./shared|["']/work/|parent\.parent\.parent""")


def test_no_test_names_a_path_outside_the_repository():
    offenders = []
    for path in (REPO / "tests").rglob("*.py"):
        if path.name == "test_standalone.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if LEAVING.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_every_vendored_file_says_where_it_comes_from():
    for folder in [p for p in VENDOR.iterdir() if p.is_dir()] + [REPO / "tests" / "web" / "vendor" / "axe-core"]:
        readme = folder / "README.md"
        assert readme.is_file(), f"{folder} has no README.md naming its source and licence"
        text = readme.read_text(encoding="utf-8").lower()
        assert "licen" in text and " from " in text, readme
