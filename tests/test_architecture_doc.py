"""docs/architecture.md names only modules that exist, and the core imports no Flask."""
import re
import subprocess
import sys

from tests.paths import REPO

DOC = REPO / "docs" / "architecture.md"


def test_every_module_the_architecture_page_names_exists():
    text = DOC.read_text(encoding="utf-8")
    names = set(re.findall(r"(?<![/\w])((?:core|api|ehr|web|model|cli|csvio|rows|knowledge)(?:/[a-z_]+)+(?:\.py|\.json|/)?)",
                           text))
    names |= {n for n in re.findall(r"`([a-z_]+\.py)`", text)}
    assert len(names) > 20
    missing = []
    for name in names:
        path = REPO / "riskservice" / name
        if not (path.exists() or path.with_name(path.name + ".py").exists()):
            missing.append(name)
    assert not missing, missing


def test_the_core_imports_no_flask():
    code = ("import sys, riskservice.core.scoring, riskservice.core.engine, riskservice.rows.batch; "
            "print('flask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"
