"""Long fuzz run (``make fuzz``) against the app in-process (WSGI), with the model loaded:

1. schemathesis, every operation of the published contract, positive and negative mode;
2. schemathesis stateful (the contract's links: a CDS call, then feedback on its card);
3. hypothesis strategies for what the schema cannot describe (tests/security/strategies.py):
   CSV uploads, mutated CDS Hooks calls, mutated FHIR Bundles, hand-written JSON text
   (duplicate keys, NaN, lone surrogates, 400-digit numbers).

Counts every generated request, the status codes and every failed check (5xx, undocumented
status, body or header not matching the documented schema; for the strategies: a 5xx, an error
that is not problem+json, a JSON answer that does not parse, a CSV answer with a row missing).
The suite runs the same checks with a few examples (tests/prod/test_fuzz.py).

Usage: .venv/bin/python bench/fuzz.py [--examples 400] [--strategy-examples 1500] [--markdown docs/fuzz.md]
"""
from __future__ import annotations

import argparse
import collections
import logging
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=400, help="max examples per operation and mode")
    ap.add_argument("--strategy-examples", type=int, default=1500, help="examples per hypothesis strategy")
    ap.add_argument("--stateful-examples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--markdown", help="write the result table here")
    args = ap.parse_args()

    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import positive_data_acceptance

    from riskservice import create_app
    app = create_app()
    logging.getLogger("riskservice").setLevel(logging.WARNING)  # no access log noise
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    rows, failures, statuses = [], [], collections.Counter()
    started = time.perf_counter()
    for result in schema.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            count = collections.Counter()

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(max_examples=args.examples, deadline=None, database=None, derandomize=False,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @hypothesis.seed(args.seed)
            def run(case):
                try:
                    response = case.call_and_validate(headers={"Accept-Encoding": "identity"},  # see tests/prod/test_fuzz.py
                                                      excluded_checks=[positive_data_acceptance])
                    count["requests"] += 1
                    statuses[response.status_code] += 1
                except Exception as exc:  # noqa: BLE001 - record every failure, keep going
                    count["requests"] += 1
                    count["failures"] += 1
                    failures.append(f"{op.label} {mode.value}: {str(exc).splitlines()[0][:200]}")

            try:
                run()
            except hypothesis.errors.Unsatisfiable:  # nothing to negate: no parameters, no body
                pass
            except Exception as exc:  # noqa: BLE001 - schemathesis re-raises a failure at the end
                if not count["failures"]:
                    count["failures"] += 1
                    failures.append(f"{op.label} {mode.value}: {str(exc).splitlines()[0][:200]}")
            rows.append((op.label, mode.value, count["requests"], count["failures"]))
    rows += stateful(schema, args, statuses, failures)
    rows += strategies(app, args, statuses, failures)
    elapsed = time.perf_counter() - started
    total = sum(r[2] for r in rows)
    text = render(rows, statuses, failures, total, elapsed, args, schemathesis.__version__)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    sys.exit(1 if failures else 0)


def stateful(schema, args, statuses, failures) -> list:
    """The contract's links as a state machine (CDS call -> feedback on the returned card)."""
    import hypothesis
    from hypothesis import HealthCheck, settings
    from schemathesis.checks import positive_data_acceptance
    count = collections.Counter()
    base = schema.as_state_machine()

    class Workflow(base):
        def get_call_kwargs(self, case):
            # identity: the in-process transport advertises compression but does not decode it
            kwargs = dict(super().get_call_kwargs(case) or {})
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Accept-Encoding": "identity"}
            return kwargs

        def validate_response(self, response, case, **kwargs):
            count["requests"] += 1
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, excluded_checks=[positive_data_acceptance], recorder=self.recorder)
            except Exception as exc:  # noqa: BLE001 - record every failure, keep going
                count["failures"] += 1
                failures.append(f"stateful {case.operation.label}: {str(exc).splitlines()[0][:200]}")

    try:
        Workflow.run(settings=settings(max_examples=args.stateful_examples, deadline=None, database=None,
                                       suppress_health_check=list(HealthCheck), stateful_step_count=6))
    except hypothesis.errors.Unsatisfiable:
        pass
    except Exception as exc:  # noqa: BLE001
        if not count["failures"]:
            count["failures"] += 1
            failures.append(f"stateful: {str(exc).splitlines()[0][:200]}")
    return [("stateful: CDS call, then feedback (contract links)", "stateful", count["requests"], count["failures"])]


def strategies(app, args, statuses, failures) -> list:
    """The hypothesis strategies of tests/security/strategies.py through the WSGI app."""
    import hypothesis
    from hypothesis import HealthCheck, given, settings

    from tests.security import strategies as S
    from tests.security.corpus import _bases
    bases = _bases()
    client = app.test_client()
    rows = []
    for label, strategy in (("CSV uploads (POST /v1/score/batch)", S.csv_bodies()),
                            ("mutated CDS Hooks calls (POST /cds-services/*)", S.cds_requests(bases)),
                            ("mutated FHIR Bundles (POST /v1/fhir/score)", S.fhir_bundles(bases)),
                            ("hand-written JSON text (POST /v1/score, /v1/score/batch)", S.raw_json_patients())):
        count = collections.Counter()

        @given(req=strategy)
        @settings(max_examples=args.strategy_examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @hypothesis.seed(args.seed)
        def run(req):
            path, ctype, body, n = req
            count["requests"] += 1
            try:
                r = client.post(path, data=body, content_type=ctype)
                data = r.get_data()
                statuses[r.status_code] += 1
                problem = S.check_answer(path, r.status_code, r.content_type or "", data, n)
            except Exception as exc:  # noqa: BLE001 - an exception escaping the app is a 500
                statuses[500] += 1
                problem = f"exception {type(exc).__name__}"
            if problem:
                count["failures"] += 1
                failures.append(f"{label}: {problem}")

        run()
        rows.append((label, "hypothesis", count["requests"], count["failures"]))
    return rows


# What earlier runs found (fixed, each kept as a regression test).
FINDINGS = ["a CSV upload whose header holds a bare carriage return gave a 500 (csv.Error); now a 422 naming "
            "the header (tests/prod/test_fuzz_regressions.py)",
            "issue 12: lone surrogates, 400-digit numbers, as_of 9999-12-31, seven malformed CDS Hooks shapes, "
            "duplicate keys, NaN literals and non-JSON media types; now 4xx problem+json "
            "(tests/security/corpus/*.json, docs/security.md)",
            "non-finite and overlong numbers in CSV cells crashed the old batch parser mid-stream (5xx or a cut "
            "body); the one engine reads them as that row's error (tests/api/test_one_engine_regressions.py)",
            "a header cell holding only a carriage return was written back unquoted, so a reader saw one row "
            "more than records; such lines are now fully quoted (tests/prod/test_fuzz_regressions.py)"]


def render(rows, statuses, failures, total, elapsed, args, version) -> str:
    lines = ["# Long fuzz run (`make fuzz`)", "",
             f"schemathesis {version}, against the WSGI app in-process with the model loaded (seed {args.seed}):", "",
             f"1. every operation of `schemas/openapi.json` in positive and negative mode, at most {args.examples} "
             "examples per operation and mode (operations with few possible inputs stop earlier). Checks: no 5xx, "
             "status code documented, content type documented, body and headers conform to the documented schema "
             "(problem+json errors included), negative data rejected. `positive_data_acceptance` is off: JSON Schema "
             "cannot express unit-dependent ranges or the BMI/weight/height agreement, so a schema-valid record can "
             "rightly get a 422. `GET /openapi.json` is the schema's own location (tests/prod/test_contract_served.py);",
             f"2. stateful: the contract's links as a state machine (a CDS call, then feedback on its card), "
             f"{args.stateful_examples} scenarios of up to 6 steps, same checks;",
             f"3. hypothesis strategies from tests/security/strategies.py, {args.strategy_examples} examples each: CSV "
             "uploads (known and junk columns, hostile numbers such as NaN, 1e400 and 400 digits, quotes, CR/LF, NUL, "
             "BOM, ragged rows), CDS Hooks calls and FHIR Bundles with 1-3 values replaced by arbitrary JSON or "
             "deleted, and hand-written JSON text (duplicate keys, NaN/Infinity, lone surrogates, 400-digit numbers). "
             "Checks: no 5xx and no exception, errors are problem+json, every JSON answer parses (no truncated "
             "body), a CSV answer has one row per input record.", "",
             f"Python {platform.python_version()}, {total} generated requests in {elapsed:.0f} s, "
             f"**{len(failures)} failures**, **{sum(v for k, v in statuses.items() if k >= 500)} responses 5xx**.", "",
             "| operation | mode | requests | failures |", "| --- | --- | ---: | ---: |"]
    lines += [f"| {label} | {mode} | {n} | {f} |" for label, mode, n, f in rows]
    lines += ["", "Status codes returned: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())), ""]
    lines += ["Found by earlier runs and fixed:", ""] + [f"- {f}" for f in FINDINGS] + [""]
    if failures:
        lines += ["Failures (distinct messages, with counts):", ""] + [
            f"- {n} x {f}" for f, n in collections.Counter(failures).most_common(40)] + [""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
