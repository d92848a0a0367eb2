"""``riskservice score-csv``: stream a CSV through the batch scorer with progress and a summary."""
from __future__ import annotations

import os
import sys
import time

import click

from riskservice.batchio import BatchScorer, HeaderProblem, Stats


class _Counting:
    """File wrapper that counts bytes read, for the progress bar's ETA."""

    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def read(self, n=-1):
        data = self.raw.read(n)
        self.count += len(data)
        return data

    def readline(self, *args):
        data = self.raw.readline(*args)
        self.count += len(data)
        return data

    @property
    def closed(self):
        return self.raw.closed


def run_score_csv(infile: str, outfile: str, quiet: bool = False, model: bool = True) -> int:
    from riskservice.app import build_app
    try:
        scorer = build_app({"MODEL": "on" if model else "off"}).extensions["riskservice"]
        src = sys.stdin.buffer if infile == "-" else open(infile, "rb")
    except (OSError, RuntimeError) as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    total = None if infile == "-" else os.path.getsize(infile)
    show = not quiet and sys.stderr.isatty()
    stats = Stats()
    counting = _Counting(src)
    start = time.perf_counter()
    batch = BatchScorer(scorer.knowledge, scorer.model)
    dst = sys.stdout.buffer if outfile == "-" else open(outfile, "wb")
    try:
        last = 0.0
        for chunk in batch.iter_csv(counting, stats):
            dst.write(chunk)
            now = time.perf_counter()
            if show and now - last > 0.2:
                _progress(stats, counting.count, total, now - start)
                last = now
    except HeaderProblem as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except OSError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    finally:
        if dst is not sys.stdout.buffer:
            dst.close()
        else:
            dst.flush()
        if src is not sys.stdin.buffer:
            src.close()
    elapsed = time.perf_counter() - start
    if show:
        click.echo("", err=True)
    rate = stats.rows / elapsed if elapsed else 0.0
    click.echo(f"rows {stats.rows}, scored {stats.scored}, errors {stats.errors}, "
               f"elapsed {elapsed:.2f} s, {rate:,.0f} rows/s", err=True)
    click.echo(f"Disclaimer: {scorer.knowledge.disclaimer}", err=True)
    return 0 if stats.errors == 0 else 2


def _progress(stats, done_bytes, total, elapsed):
    rate = stats.rows / elapsed if elapsed else 0.0
    if total:
        frac = min(1.0, done_bytes / total)
        eta = (elapsed / frac - elapsed) if frac > 0 else 0.0
        bar = "#" * int(frac * 30)
        msg = f"\r[{bar:<30}] {frac:6.1%} {stats.rows:,} rows {rate:,.0f} rows/s ETA {eta:5.1f} s"
    else:
        msg = f"\r{stats.rows:,} rows {rate:,.0f} rows/s"
    click.echo(msg, err=True, nl=False)
