"""Single-patient latency: the full response, the model's share, and the naive sklearn path.

It also times the bare Flask echo of bench/load_bench.py in the same process, and prints the
budget that bench's ratio target leaves: for ``view=summary`` at 0.65 of the echo's requests per
second, a summary request may cost at most 1 / 0.65 of an echo request, so the scoring plus the
service's own request handling must fit in 0.54 of one echo request.

Usage: .venv/bin/python bench/latency_bench.py [--n 5000]
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timeit(fn, n):
    samples = []
    for _ in range(n):
        t = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t)
    samples.sort()
    return statistics.median(samples) / 1000, samples[int(0.99 * len(samples))] / 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    from riskservice import create_app
    from riskservice.app import default_model_dir
    from riskservice.model import feature_columns as FC
    from riskservice.model.sklearn_io import load_pipeline
    from tests.conftest import ACCEPTANCE_PATIENT

    app = create_app({"TESTING": True})
    # the access log stays on (its cost is part of a request) but goes to /dev/null, not over the table
    table, sys.stdout = sys.stdout, open(os.devnull, "w")
    scorer = app.extensions["riskservice"]
    model = scorer.model.insulin_resistance   # the insulin-resistance model (the summary's probability)
    manifest = next(default_model_dir().glob(f"{model.model_id}-{model.version}.manifest.json"))
    pipeline = load_pipeline(default_model_dir(), manifest=manifest)[0]  # for comparison only; serving never loads it
    client = app.test_client()
    canonical = dict(ACCEPTANCE_PATIENT)   # canonical already: mg/dL, cm, kg/m2
    row = FC.engineer_frame(__import__("pandas").DataFrame([canonical]))[:, model._idx]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from echo_app import app as echo_app

    echo = echo_app.test_client()
    rows = {
        "bare Flask echo (bench/echo_app.py, test client), the load bench's floor":
            lambda: echo.post("/echo", json=ACCEPTANCE_PATIENT),
        "POST /v1/score through Flask (test client, no network)": lambda: client.post("/v1/score", json=ACCEPTANCE_PATIENT),
        "POST /v1/score?view=summary through Flask": lambda: client.post("/v1/score?view=summary", json=ACCEPTANCE_PATIENT),
        "Scorer.score, full answer (one engine at n = 1 + full renderer + narrative + references)":
            lambda: scorer.score(ACCEPTANCE_PATIENT),
        "Scorer.score, view=summary (engine + summary renderer)": lambda: scorer.score(ACCEPTANCE_PATIENT, view="summary"),
        "Scorer.evaluate (the engine alone, one patient)": lambda: scorer.evaluate(ACCEPTANCE_PATIENT),
        "model.predict_one (served JSON model)": lambda: model.predict_one(canonical),
        "naive sklearn Pipeline.predict_proba on one row": lambda: pipeline.predict_proba(row),
    }
    for fn in rows.values():
        for _ in range(200):
            fn()
    print("| path | median | p99 |", file=table)
    print("| --- | --- | --- |", file=table)
    medians = {}
    for name, fn in rows.items():
        med, p99 = timeit(fn, args.n)
        medians[name] = med
        print(f"| {name} | {med:,.1f} us | {p99:,.1f} us |", file=table)
    floor = medians["bare Flask echo (bench/echo_app.py, test client), the load bench's floor"]
    summary = medians["POST /v1/score?view=summary through Flask"]
    scoring = medians["Scorer.score, view=summary (engine + summary renderer)"]
    print(file=table)
    print(f"summary / echo, same process: {floor / summary:.2f}; a 0.65 ratio allows {floor * (1 / 0.65 - 1):,.0f} us "
          f"above the echo, and the scoring alone (Scorer.score, view=summary) takes {scoring:,.0f} us "
          f"({scoring / floor:.2f} of one echo request)", file=table)


if __name__ == "__main__":
    main()
