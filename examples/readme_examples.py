"""Run every documented example against the app (Flask test client) and refresh the outputs shown.

    python examples/readme_examples.py            # check: exit 1 and name each block that is stale
    python examples/readme_examples.py --write    # rewrite the stale blocks in README.md and docs/ehr.md
    python examples/readme_examples.py --show NAME   # print one example's full, unabridged output

An output block (in README.md or docs/ehr.md) is the fenced block right after a marker line
``<!-- readme-example: NAME -->``; NAME is a key of EXAMPLES below (the request the document's command sends,
from the file in examples/).
Abridged JSON blocks keep their abridgement: the block is the template, filled with the real values.
Template conventions: a string ``"<...>"`` is a placeholder kept as written (the disclaimer, a random
uuid); ``"..."`` or a string starting with ``"... "`` as the last list item marks a cut list (``"... N more"``
gets its N updated); a ``"..."`` key marks cut keys; a string containing ``...`` is an elided text, kept while
its literal parts still occur in the real text in order (an inline ``<placeholder>`` elides too).
Numbers compare with a relative tolerance, so a check does not depend on the last bits of this CPU's
floating point. The sizes the README states for the answer views (``The real response is N kB`` and the
views table) are checked and refreshed the same way. The run needs the installed service: any ``python``
runs the script, which re-runs itself with the repository's ``.venv/bin/python`` (made by ``make test``
or ``make serve``) when the service is not importable where it started.
"""
from __future__ import annotations

import argparse
import csv
import difflib
import io
import json
import logging
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
EHR_DOC = REPO / "docs" / "ehr.md"
MARKER = re.compile(r"^<!-- readme-example: ([\w-]+) -->\n```(\w*)\n(.*?)^```\n", re.M | re.S)
MORE = re.compile(r"^\.\.\. (\d+) more")
ELISION = re.compile(r"\.\.\.|<[a-z][^<>\n]*>")   # "..." or an inline "<placeholder>" inside a text
REL_TOL = 1e-9


@dataclass(frozen=True)
class Example:
    method: str
    path: str
    file: str | None    # under examples/, the file the document's command sends (None: no body)
    content_type: str
    render: str         # "csv": the body as is; "json": pretty JSON filled into the document's template
    in_readme: bool = True   # the README must show it (others live in docs/ehr.md only)


EXAMPLES = {
    "score": Example("POST", "/v1/score", "patient.json", "application/json", "json"),
    "score-summary": Example("POST", "/v1/score?view=summary", "patient.json", "application/json", "json"),
    "batch-csv": Example("POST", "/v1/score/batch", "patients.csv", "text/csv", "csv"),
    "fhir": Example("POST", "/v1/fhir/score?as_of=2026-11-20", "bundle.json", "application/fhir+json", "json"),
    "cds-patient-view": Example("POST", "/cds-services/ir-risk", "cds-patient-view.json", "application/json",
                                "json"),
    "cds-discovery": Example("GET", "/cds-services", None, "application/json", "json", in_readme=False),
    "cds-order-select": Example("POST", "/cds-services/ir-risk-order-select", "cds-order-select.json",
                                "application/json", "json", in_readme=False),
}


def run(name: str, client) -> tuple[int, bytes]:
    ex = EXAMPLES[name]
    body = (REPO / "examples" / ex.file).read_bytes() if ex.file else None
    resp = client.open(ex.path, method=ex.method, data=body, content_type=ex.content_type)
    return resp.status_code, resp.get_data()


# ---- filling an abridged template with real values ---------------------------------------------------------

def _is_placeholder(t) -> bool:
    return isinstance(t, str) and t.startswith("<") and t.endswith(">")


def _is_cut_marker(t) -> bool:
    return isinstance(t, str) and (t == "..." or t.startswith("... "))


def _elided_ok(template: str, real: str) -> bool:
    pos = 0
    for part in ELISION.split(template):
        found = real.find(part, pos)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def fill(template, real):
    """The template's shape with the real values (see the module docstring)."""
    if _is_placeholder(template):
        return template
    if isinstance(template, dict) and isinstance(real, dict):
        return {k: (v if k == "..." else fill(v, real[k])) for k, v in template.items() if k == "..." or k in real}
    if isinstance(template, list) and isinstance(real, list):
        cut = bool(template) and _is_cut_marker(template[-1])
        shown = template[:-1] if cut else template
        out = [fill(shown[min(i, len(shown) - 1)], r) if shown else r
               for i, r in enumerate(real[:len(shown)] if cut else real)]
        if cut and len(real) > len(shown):
            marker = template[-1]
            m = MORE.match(marker)
            out.append(marker.replace(m.group(1), str(len(real) - len(shown)), 1) if m else marker)
        return out
    if isinstance(template, str) and isinstance(real, str) and ELISION.search(template) and template != real:
        if _elided_ok(template, real):
            return template
        keep = ELISION.search(template).start()
        return real[:keep] + "..."
    return real


def same(a, b) -> bool:
    """Equal, numbers within REL_TOL."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _cell(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def same_csv(a: str, b: str) -> bool:
    ra, rb = list(csv.reader(io.StringIO(a))), list(csv.reader(io.StringIO(b)))
    return same([[_cell(c) for c in r] for r in ra], [[_cell(c) for c in r] for r in rb])


# ---- README blocks ------------------------------------------------------------------------------------------

def rendered(name: str, status: int, body: bytes, template: str) -> tuple[str, bool]:
    """(new block text, whether it matches the README's block)."""
    if status != 200:
        raise SystemExit(f"{name}: HTTP {status}: {body[:500]!r}")
    text = body.decode("utf-8")
    if EXAMPLES[name].render == "csv":
        return text, same_csv(text, template)
    old = json.loads(template)
    new = fill(old, json.loads(text))
    return json.dumps(new, indent=2, ensure_ascii=False) + "\n", same(new, old)


def commands_point_at_files(text: str, where: str) -> list[str]:
    """Every @examples/... file a documented command sends exists."""
    return [f"{where} sends {m} which does not exist" for m in re.findall(r"@(?:\.\./)?(examples/[\w.-]+)", text)
            if not (REPO / m).is_file()]


def check_document(doc: Path, client, seen: set, *, write: bool) -> list[str]:
    """Check (and with write, refresh) every marked block of one document; its problems."""
    text = doc.read_text(encoding="utf-8")
    where = doc.name if doc == README else f"docs/{doc.name}"
    problems = commands_point_at_files(text, where)
    pieces, last = [], 0
    for m in MARKER.finditer(text):
        name, block = m.group(1), m.group(3)
        if name not in EXAMPLES:
            problems.append(f"{where} marker names unknown example {name!r}")
            continue
        seen.add(name)
        new, ok = rendered(name, *run(name, client), block)
        print(f"{where} {name}: {'up to date' if ok else 'STALE'}")
        if not ok:
            source = "examples/" + EXAMPLES[name].file if EXAMPLES[name].file else EXAMPLES[name].path
            sys.stdout.writelines(difflib.unified_diff(block.splitlines(True), new.splitlines(True),
                                                       where, source, n=1))
            if not write:
                problems.append(f"{where} block {name!r} differs from what {source} gives")
        pieces += [text[last:m.start(3)], block if ok else new]
        last = m.end(3)
    pieces.append(text[last:])
    if write and "".join(pieces) != text:
        doc.write_text("".join(pieces), encoding="utf-8")
    return problems


VENV_PYTHON = REPO / ".venv" / "bin" / "python"
SIZE_LINES = {  # README text -> the view whose size (kB, README patient) it states
    re.compile(r"(The real response is )(\d+(?:\.\d)?)( kB)"): "full",
    re.compile(r"(\| `full` \(\*\*the default\*\*\) \| )(\d+(?:\.\d)?)( kB \|)"): "full",
    re.compile(r"(\| `standard` \| )(\d+(?:\.\d)?)( kB \|)"): "standard",
    re.compile(r"(\| `summary` \| )(\d+(?:\.\d)?)( kB)"): "summary",
}


def _in_the_venv():
    """Re-run this script with the repository's virtualenv when the service's packages are missing here."""
    try:
        import flask  # noqa: F401
        import rapidfuzz  # noqa: F401

        import riskservice  # noqa: F401
        return
    except ImportError as exc:
        if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve():
            os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])
        raise SystemExit(f"{exc}: run `make test` (or `make .venv/.installed`) first, which builds .venv") from None


def _kb(n: int) -> str:
    return f"{n / 1000:.1f}" if n < 10_000 else str(round(n / 1000))


def check_sizes(client, *, write: bool) -> list[str]:
    """The answer sizes the README states, against the README patient's real answers."""
    body = (REPO / "examples" / EXAMPLES["score"].file).read_bytes()
    size = {view: len(client.post(f"/v1/score?view={view}", data=body, content_type="application/json").get_data())
            for view in ("full", "standard", "summary")}
    text = README.read_text(encoding="utf-8")
    problems, new = [], text
    for pattern, view in SIZE_LINES.items():
        found = pattern.search(new)
        if found is None:
            problems.append(f"README.md: no size line for the {view} view ({pattern.pattern})")
            continue
        want = _kb(size[view])
        ok = found.group(2) == want
        state = "up to date" if ok else f"STALE ({found.group(2)} kB, is {want} kB)"
        print(f"README.md size of the {view} answer: {state}")
        if not ok:
            new = new[:found.start(2)] + want + new[found.end(2):]
            if not write:
                problems.append(f"README.md states {found.group(2)} kB for the {view} answer; it is {want} kB")
    if write and new != text:
        README.write_text(new, encoding="utf-8")
    return problems


def main(argv: list[str] | None = None) -> int:
    _in_the_venv()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite stale blocks")
    ap.add_argument("--show", choices=sorted(EXAMPLES), help="print one example's full output")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from riskservice import create_app
    client = create_app({"TESTING": True}).test_client()
    logging.getLogger("riskservice.access").setLevel(logging.WARNING)   # one JSON line per request: noise here

    if args.show:
        status, body = run(args.show, client)
        print(f"HTTP {status}")
        print(body.decode("utf-8"))
        return 0

    problems, shown_in_readme, shown = [], set(), set()
    problems += check_document(README, client, shown_in_readme, write=args.write)
    problems += check_document(EHR_DOC, client, shown, write=args.write)
    problems += check_sizes(client, write=args.write)
    shown |= shown_in_readme
    problems += [f"README has no block for example {n!r}" for n, ex in EXAMPLES.items()
                 if ex.in_readme and n not in shown_in_readme]
    problems += [f"no document shows example {n!r}" for n in sorted(set(EXAMPLES) - shown)]
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
