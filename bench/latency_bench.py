"""Single-patient latency: the full response, the model's share, and the naive sklearn path.

Usage: .venv/bin/python bench/latency_bench.py [--n 5000]
"""
import argparse
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
    scorer = app.extensions["riskservice"]
    model = scorer.model
    pipeline = load_pipeline(default_model_dir())[0]  # the joblib, for comparison only; serving never loads it
    client = app.test_client()
    canonical = dict(ACCEPTANCE_PATIENT)   # canonical already: mg/dL, cm, kg/m2
    row = FC.engineer_frame(__import__("pandas").DataFrame([canonical]))[:, model._idx]
    rows = {
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
    print("| path | median | p99 |")
    print("| --- | --- | --- |")
    for name, fn in rows.items():
        med, p99 = timeit(fn, args.n)
        print(f"| {name} | {med:,.1f} us | {p99:,.1f} us |")


if __name__ == "__main__":
    main()
