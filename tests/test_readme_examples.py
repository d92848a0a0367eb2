"""The example outputs in README.md and docs/ehr.md are what the files in examples/ give today (numbers to 1e-9).

When a change moves an output on purpose, refresh the README with
`python examples/readme_examples.py --write` and review the diff."""
import importlib.util
import sys

from tests.paths import REPO


def _script():
    spec = importlib.util.spec_from_file_location("readme_examples", REPO / "examples" / "readme_examples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_readme_outputs_come_from_the_example_files(capsys):
    code = _script().main([])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert out.out.count("up to date") == 13   # 5 blocks in README.md, 4 in docs/ehr.md, 4 answer sizes


def test_the_script_runs_as_the_readme_says_with_any_python(tmp_path):
    """`python examples/readme_examples.py` outside the virtualenv (a Python without the service's
    packages, like a user's shell) re-runs itself with .venv/bin/python instead of failing on an import."""
    import subprocess

    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    run = subprocess.run([str(bare / "bin" / "python"), "examples/readme_examples.py"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert run.stdout.count("up to date") == 13


def test_a_changed_output_is_reported(tmp_path, monkeypatch, capsys):
    script = _script()
    readme = tmp_path / "README.md"
    text = script.README.read_text(encoding="utf-8")
    assert '"P007",,,,' in text
    line = next(x for x in text.splitlines() if x.startswith('"P001",'))
    pid, points, rest = line.split(",", 2)
    readme.write_text(text.replace(line, f"{pid},{int(points) + 1},{rest}", 1), encoding="utf-8")
    monkeypatch.setattr(script, "README", readme)
    assert script.main([]) == 1
    assert "batch-csv: STALE" in capsys.readouterr().out
    assert script.main(["--write"]) == 0
    assert readme.read_text(encoding="utf-8") == text


def test_a_stale_block_in_the_ehr_guide_is_reported(tmp_path, monkeypatch, capsys):
    script = _script()
    doc = tmp_path / "ehr.md"
    text = script.EHR_DOC.read_text(encoding="utf-8")
    start = text.index("<!-- readme-example: cds-patient-view -->")
    at = text.index('"indicator": "', start) + len('"indicator": "')
    end = text.index('"', at)
    other = "critical" if text[at:end] != "critical" else "info"
    doc.write_text(text[:at] + other + text[end:], encoding="utf-8")
    monkeypatch.setattr(script, "EHR_DOC", doc)
    assert script.main([]) == 1
    assert "docs/ehr.md cds-patient-view: STALE" in capsys.readouterr().out
    assert script.main(["--write"]) == 0
    assert doc.read_text(encoding="utf-8") == text
