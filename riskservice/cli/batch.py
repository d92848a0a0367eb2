"""``riskservice score-csv``: stream a CSV through the batch scorer with progress and a summary.

Large UTF-8 files are split at record boundaries (found by the same reader that parses
them, so a quoted line break is never cut) into one segment per core; forked workers (which
inherit the already verified knowledge and model) score their segments into temporary
files that are concatenated in order, so row order and the one-row-out-per-record rule hold.
Standard input, small files and other encodings take the single-process streaming path.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time

import click

from riskservice import batchio
from riskservice.batchio import BatchScorer, HeaderProblem, Stats
from riskservice.cli.scorer import build_scorer, setting
from riskservice.csvio.dialect import CsvOptions
from riskservice.csvio.encoding import open_input
from riskservice.csvio.records import split_blocks

PARALLEL_MIN_BYTES = 16 * 1024 * 1024
_WORKER_SCORER: BatchScorer | None = None


class _Counting:
    """File wrapper that counts bytes read (progress) and can stop at an end offset."""

    def __init__(self, raw, end=None, counter=None):
        self.raw, self.count, self.end, self.counter = raw, 0, end, counter

    def _room(self, n):
        if self.end is None:
            return n
        left = self.end - self.raw.tell()
        return max(0, left if n is None or n < 0 else min(n, left))

    def read(self, n=-1):
        data = self.raw.read(self._room(n) if self.end is not None else n)
        self._tick(len(data))
        return data

    def readline(self, *args):
        data = self.raw.readline(*args)
        self._tick(len(data))
        return data

    def _tick(self, k):
        self.count += k
        if self.counter is not None:
            with self.counter.get_lock():
                self.counter.value += k

    @property
    def closed(self):
        return self.raw.closed


def run_score_csv(infile: str, outfile: str, quiet: bool = False, model: bool = True,
                  workers: int | None = None, audience: str = "clinician",
                  options: CsvOptions | None = None) -> int:
    options = options or CsvOptions()
    try:
        scorer = build_scorer(model)
        max_columns = int(setting("BATCH_MAX_COLUMNS"))
        if infile != "-":
            open(infile, "rb").close()
    except (OSError, RuntimeError) as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    batch = BatchScorer(scorer.knowledge, scorer.model, audience=audience)
    show = not quiet and sys.stderr.isatty()
    start = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    try:
        if infile != "-" and workers > 1 and os.path.getsize(infile) >= PARALLEL_MIN_BYTES:
            stats = _parallel(batch, infile, outfile, workers, show, start, options, max_columns)
        else:
            stats = _serial(batch, infile, outfile, show, start, options, max_columns)
    except HeaderProblem as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    except OSError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    elapsed = time.perf_counter() - start
    if show:
        click.echo("", err=True)
    rate = stats.rows / elapsed if elapsed else 0.0
    click.echo(f"rows {stats.rows}, scored {stats.scored}, errors {stats.errors}, "
               f"elapsed {elapsed:.2f} s, {rate:,.0f} rows/s", err=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if "workers" in stats.extra:
        click.echo(f"processes: {stats.extra['workers']} workers; peak RSS {peak:,.0f} MB (main), "
                   f"{stats.extra['worker_peak_rss_mb']:,.0f} MB (largest worker)", err=True)
    click.echo(f"Disclaimer: {scorer.knowledge.disclaimer}", err=True)
    return 0 if stats.errors == 0 else 2


def _serial(batch, infile, outfile, show, start, options, max_columns) -> Stats:
    src = sys.stdin.buffer if infile == "-" else open(infile, "rb")
    total = None if infile == "-" else os.path.getsize(infile)
    dst = sys.stdout.buffer if outfile == "-" else open(outfile, "wb")
    stats, counting, last = Stats(), _Counting(src), 0.0
    try:
        for chunk in batch.iter_csv(counting, stats, options=options, max_columns=max_columns):
            dst.write(chunk)
            now = time.perf_counter()
            if show and now - last > 0.2:
                _progress(stats.rows, counting.count, total, now - start)
                last = now
    finally:
        if dst is sys.stdout.buffer:
            dst.flush()
        else:
            dst.close()
        if src is not sys.stdin.buffer:
            src.close()
    return stats


def _parallel(batch, infile, outfile, workers, show, start, options, max_columns) -> Stats:
    global _WORKER_SCORER
    size = os.path.getsize(infile)
    with open(infile, "rb") as f:
        stream, codec = open_input(f, options.encoding)
        if codec != "utf-8":  # byte offsets of a transcoded file do not map to records
            return _serial(batch, infile, outfile, show, start, options, max_columns)
        header = batch.read_header(stream, options, max_columns)
        header_end = f.tell()
        cuts, lines = _record_cuts(f, header, header_end, size, workers)
    _WORKER_SCORER = batch
    ctx = mp.get_context("fork")
    counter = ctx.Value("q", header_end)
    tmpdir = tempfile.mkdtemp(prefix="riskservice-")
    jobs, results = [], ctx.Queue()
    try:
        for k, (a, b) in enumerate(zip(cuts, cuts[1:])):
            part = os.path.join(tmpdir, f"part{k}.csv")
            p = ctx.Process(target=_worker, args=(k, infile, a, b, lines[k], header, options, part, counter, results))
            p.start()
            jobs.append((p, part))
        done, stats = {}, Stats()
        last = 0.0
        while len(done) < len(jobs):
            try:
                k, payload = results.get(timeout=0.2)
                done[k] = payload
            except Exception:  # queue.Empty: keep the progress bar moving
                pass
            now = time.perf_counter()
            if show and now - last > 0.2:
                _progress(None, counter.value, size, now - start)
                last = now
            if any(p.exitcode not in (None, 0) for p, _ in jobs) and len(done) < len(jobs):
                dead = [p.exitcode for p, _ in jobs]
                if all(code is not None for code in dead):
                    break
        for p, _ in jobs:
            p.join()
        failed = [k for k in range(len(jobs)) if not isinstance(done.get(k), dict)]
        if failed:
            raise OSError(f"worker(s) {failed} failed: " + "; ".join(str(done.get(k)) for k in failed))
        dst = sys.stdout.buffer if outfile == "-" else open(outfile, "wb")
        try:
            dst.write(batchio._csv_line(header.out_names, options.csv_safe))
            for _, part in jobs:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 22)
        finally:
            if dst is sys.stdout.buffer:
                dst.flush()
            else:
                dst.close()
        for k in sorted(done):
            for key in ("rows", "scored", "errors"):
                setattr(stats, key, getattr(stats, key) + done[k][key])
        stats.extra["workers"] = len(jobs)
        stats.extra["worker_peak_rss_mb"] = max(done[k]["peak_rss_mb"] for k in done)
        return stats
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _record_cuts(f, header, header_end, size, workers):
    """Segment starts at record boundaries near equal shares of the file, and the line number
    each segment starts on (the same block reader as the workers, so a quoted break is never cut)."""
    targets = [header_end + (size - header_end) * k // workers for k in range(1, workers)]
    cuts, lines = [header_end], [2]
    offset, line = header_end, 2
    f.seek(header_end)
    for block in split_blocks(f, header.delimiter, batchio.BLOCK_SIZE, first_line=2):
        offset += block.nbytes
        line += block.lines
        while targets and offset >= targets[0]:
            targets.pop(0)
            if offset < size and offset > cuts[-1]:
                cuts.append(offset)
                lines.append(line)
        if not targets:
            break
    cuts.append(size)
    return cuts, lines


def _worker(k, infile, start_at, end_at, first_line, header, options, part, counter, results):
    """Score one segment of the file into ``part`` (runs in a forked child)."""
    try:
        stats = Stats()
        with open(infile, "rb") as raw, open(part, "wb") as out:
            raw.seek(start_at)
            segment = _Counting(raw, end=end_at, counter=counter)
            for chunk in _WORKER_SCORER.iter_csv(segment, stats, header=header, write_header=False,
                                                 first_line=first_line, options=options):
                out.write(chunk)
        results.put((k, {"rows": stats.rows, "scored": stats.scored, "errors": stats.errors,
                         "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    except BaseException as exc:  # report, never hang the parent
        results.put((k, f"{type(exc).__name__}: {exc}"))
        raise


def _progress(rows, done_bytes, total, elapsed):
    if total:
        frac = min(1.0, done_bytes / total)
        eta = (elapsed / frac - elapsed) if frac > 0 else 0.0
        bar = "#" * int(frac * 30)
        count = "" if rows is None else f" {rows:,} rows {rows / elapsed:,.0f} rows/s"
        msg = f"\r[{bar:<30}] {frac:6.1%}{count} ETA {eta:5.1f} s"
    else:
        msg = f"\r{rows:,} rows {rows / elapsed if elapsed else 0:,.0f} rows/s"
    click.echo(msg, err=True, nl=False)
