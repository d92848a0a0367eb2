"""The README's input-field table lists exactly the fields of the one field table."""
import re

from riskservice.core.fields import FIELDS
from tests.paths import REPO


def test_readme_field_table_matches_the_field_table():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Input fields"):text.index("<!-- POINTS:BEGIN")]
    listed = re.findall(r"^\| `([a-z_0-9]+)`", section, flags=re.M)
    assert listed == [f.name for f in FIELDS]
