"""Medication matching benchmark: Knowledge.match_medication on distinct strings (cold: parse,
name lookup, spelling suggestion) and on repeated strings (the per-string cache).

Usage: .venv/bin/python bench/medications_bench.py [--distinct 5000] [--repeats 200000]
Prints a Markdown table; docs/medications.md quotes its output. Bounded: a few seconds.
"""
import argparse
import random
import statistics
import time

from riskservice.core.knowledge import load_knowledge

SHAPES = ["{n}", "{n} {d} mg", "{n} {d}mg tablets", "{n} {d} mg od", "{n} cream", "{n} eye drops",
          "{n} {d} mg IV", "{x}", "{x} {d} mg"]


def strings(kb, count, rng):
    names = [n for c in kb.medication_classes for n in c["names"]] + [s["name"] for s in kb.medication_synonyms]
    out = set()
    while len(out) < count:
        name = rng.choice(names)
        typo = name[:-1] if len(name) > 6 else name + "x"          # a misspelling: exercises the suggester
        out.add(rng.choice(SHAPES).format(n=name, x=typo, d=rng.choice([1, 2.5, 5, 10, 20, 40, 80, 500])))
    return sorted(out)


def timed(fn, items):
    laps = []
    for item in items:
        t0 = time.perf_counter_ns()
        fn(item)
        laps.append(time.perf_counter_ns() - t0)
    return laps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--distinct", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=200_000)
    args = ap.parse_args()
    rng = random.Random(20261126)
    kb = load_knowledge()
    t0 = time.perf_counter()
    kb.match_medication("warm-up builds the index")
    build_ms = (time.perf_counter() - t0) * 1e3
    items = strings(kb, args.distinct, rng)
    cold = timed(kb.match_medication, items)
    repeated = [rng.choice(items) for _ in range(args.repeats)]
    t0 = time.perf_counter()
    for item in repeated:
        kb.match_medication(item)
    warm_us = (time.perf_counter() - t0) / args.repeats * 1e6
    unknown = sum(1 for i in items if kb.match_medication(i).class_id is None)

    def q(laps, p):
        return statistics.quantiles(laps, n=100)[p - 1] / 1e3

    print("| measure | value |\n|---|---|")
    print(f"| index build (first call) | {build_ms:.1f} ms |")
    print(f"| distinct strings, cold: median / p99 | {statistics.median(cold) / 1e3:.1f} / {q(cold, 99):.1f} us |")
    print(f"| of which unrecognised (suggester runs) | {unknown} of {len(items)} |")
    print(f"| repeated strings (cache hit), mean | {warm_us:.2f} us |")


if __name__ == "__main__":
    main()
