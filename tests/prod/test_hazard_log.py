"""Every test the hazard log names as proof of a control exists (renaming one breaks this)."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_control_test_in_the_hazard_log_exists():
    text = (ROOT / "docs" / "hazard-log.md").read_text()
    refs = re.findall(r"(tests/[\w/]+\.py)::(test_\w+)", text)
    assert len(refs) >= 40
    missing = []
    for path, name in refs:
        tree = ast.parse((ROOT / path).read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        if name not in names:
            missing.append(f"{path}::{name}")
    assert not missing, missing
    for hazard in range(1, 15):
        assert f"**H{hazard} " in text, f"H{hazard} has no controls section"
