"""``riskservice score-csv``: stream a CSV through the batch scorer with progress and a summary.

Large UTF-8 files are split at record boundaries (found by the same reader that parses
them, so a quoted line break is never cut; by a child forked while the command imports,
:mod:`riskservice.cli.prescan`) into segments of a few MiB that forked workers
(which inherit the already verified knowledge and model) take in file order; each worker
writes a segment's rows to the output when that segment is next in file order, so row order
and the one-row-out-per-record rule hold and no output is copied between processes.
Standard input, small files and other encodings take the single-process streaming path.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import resource
import sys
import time

import click

from riskservice.cli.columns import problems_text, report_text
from riskservice.cli.heap import keep_freed_pages
from riskservice.cli.scorer import build_scorer, setting
from riskservice.cli.segments import PARALLEL_MIN_BYTES, segments
from riskservice.csvio.dialect import CsvOptions
from riskservice.csvio.encoding import open_input
from riskservice.rows import blocks
from riskservice.rows.batch import BatchScorer, HeaderProblem, Stats
from riskservice.rows.output import csv_line


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
                  options: CsvOptions | None = None, prescan=None, mapping=None) -> int:
    """Score ``infile`` into ``outfile``; the exit status. ``prescan``: a
    :class:`riskservice.cli.prescan.Prescan` started for this file, whose segments the
    parallel path takes where they agree with its own reading of the header. ``mapping``:
    the columns the caller named (:mod:`riskservice.core.mapping`). The column report is
    printed to standard error before the first row is scored."""
    options = options or CsvOptions()
    try:
        scorer = build_scorer(model)
        max_columns = int(setting("BATCH_MAX_COLUMNS"))
        if infile != "-":
            open(infile, "rb").close()
            if outfile != "-" and os.path.exists(outfile) and os.path.samefile(infile, outfile):
                raise OSError(f"the output {outfile} is the input: it would be overwritten before it is read")
    except (OSError, RuntimeError) as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    batch = BatchScorer(scorer.knowledge, scorer.model, audience=audience)
    show = not quiet and sys.stderr.isatty()
    start = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    try:
        if infile != "-" and workers > 1 and os.path.getsize(infile) >= PARALLEL_MIN_BYTES:
            stats = _parallel(batch, infile, outfile, workers, show, start, options, max_columns, prescan, mapping)
        else:
            stats = _serial(batch, infile, outfile, show, start, options, max_columns, mapping)
    except HeaderProblem as exc:
        click.echo("error: " + problems_text(exc), err=True)
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


def _serial(batch, infile, outfile, show, start, options, max_columns, mapping=None) -> Stats:
    _pyarrow_without_pandas()   # a small file's first row should not wait for pandas either
    keep_freed_pages()
    src = sys.stdin.buffer if infile == "-" else open(infile, "rb")
    total = None if infile == "-" else os.path.getsize(infile)
    dst = sys.stdout.buffer if outfile == "-" else open(outfile, "wb")
    stats, counting, last = Stats(), _Counting(src), 0.0
    try:
        stream, header = batch.open_csv(counting, options, max_columns, mapping)
        click.echo(report_text(header.report()), err=True)
        for chunk in batch.iter_csv(stream, stats, header=header, options=options):
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


def _parallel(batch, infile, outfile, workers, show, start, options, max_columns, prescan=None, mapping=None) -> Stats:
    """Score a UTF-8 file with ``workers`` forked processes that write the output themselves.

    The record boundaries (the same block reader as the workers, so a quoted line break is
    never cut) come from ``prescan`` where it agrees with this header, else from this process;
    the parent hands out segments of SEGMENT_BLOCKS blocks (single blocks at the end) in file
    order while the workers already score. Each worker writes its rows straight to the
    output when its segment is next in file order, and holds them in memory until then, so
    no process copies another's output and nothing is written twice.
    """
    size = os.path.getsize(infile)
    with open(infile, "rb") as f:
        stream, codec = open_input(f, options.encoding)
        if codec != "utf-8":  # byte offsets of a transcoded file do not map to records
            return _serial(batch, infile, outfile, show, start, options, max_columns, mapping)
        header = batch.read_header(stream, options, max_columns, mapping)
        header_end = f.tell()
    click.echo(report_text(header.report()), err=True)
    ctx = mp.get_context("fork")
    counter = ctx.Value("q", header_end)
    turn = _Turn(ctx)
    tasks, results = ctx.Queue(), ctx.Queue()
    dst = sys.stdout.buffer if outfile == "-" else open(outfile, "wb")
    jobs, done, ok = [], {}, False
    try:
        dst.write(csv_line(header.out_names, options.csv_safe))
        dst.flush()
        fd = dst.fileno()
        for k in range(workers):
            p = ctx.Process(target=_worker, args=(k, batch, infile, header, options, fd, tasks, turn, counter, results))
            p.start()
            jobs.append(p)
        count = 0
        found = (_segments(infile, header, header_end, size, len(jobs)) if prescan is None else
                 prescan.segments(infile, header_end, header.delimiter, size, blocks.BLOCK_SIZE, len(jobs)))
        for task in found:
            tasks.put(task)
            count += 1
        for _ in jobs:
            tasks.put(None)
        last = 0.0
        while len(done) < len(jobs):
            try:
                k, payload = results.get(timeout=0.2)
                done[k] = payload
                if not isinstance(payload, dict):
                    break
            except Exception:  # queue.Empty: keep the progress bar moving
                pass
            now = time.perf_counter()
            if show and now - last > 0.2:
                _progress(None, counter.value, size, now - start)
                last = now
            if any(p.exitcode not in (None, 0) for p in jobs):  # killed: the others may wait for it
                break
        failed = [k for k in range(len(jobs)) if not isinstance(done.get(k), dict)]
        if failed:
            raise OSError(f"worker(s) {failed} failed: " + "; ".join(str(done.get(k)) for k in failed))
        for p in jobs:
            p.join()
        ok = True
    finally:
        for p in jobs:
            if p.exitcode is None and not ok:
                p.terminate()
            p.join()
        if dst is sys.stdout.buffer:
            dst.flush()
        else:
            dst.close()
            if not ok:  # a worker died: no half-written file that looks like a result
                os.unlink(outfile)
    stats = Stats()
    for k in sorted(done):
        for key in ("rows", "scored", "errors"):
            setattr(stats, key, getattr(stats, key) + done[k][key])
    stats.extra["workers"] = len(jobs)
    stats.extra["segments"] = count
    stats.extra["worker_peak_rss_mb"] = max(done[k]["peak_rss_mb"] for k in done)
    return stats


def _segments(infile, header, header_end, size, workers=2):
    """(index, start, end, first line) of the file's segments, found in this process."""
    return segments(infile, header.delimiter, header_end, size, blocks.BLOCK_SIZE, workers)


class _Turn:
    """Which segment may write to the output now (file order), shared by the workers."""

    def __init__(self, ctx):
        self.cond = ctx.Condition()
        self.value = ctx.Value("q", 0, lock=False)

    def is_(self, k) -> bool:
        return self.value.value == k

    def advance(self, k):
        with self.cond:
            self.value.value = k + 1
            self.cond.notify_all()

    def wait(self, k):
        with self.cond:
            while self.value.value != k:
                self.cond.wait(1.0)


PENDING_LIMIT = 64 << 20  # output bytes a worker may hold for segments that are not yet due


class _OrderedWriter:
    """One worker's output: written at once when its segment is due, held until then."""

    def __init__(self, fd, turn):
        self.fd, self.turn = fd, turn
        self.pending = {}  # segment -> [chunks, finished], segments in increasing order
        self.held = 0

    def add(self, k, chunk):
        self.pending[k][0].append(chunk)
        self.held += len(chunk)
        self.flush()
        if self.held > PENDING_LIMIT:
            self.turn.wait(next(iter(self.pending)))
            self.flush()

    def finish(self, k):
        self.pending[k][1] = True
        self.flush()

    def flush(self):
        while self.pending:
            k = next(iter(self.pending))
            if not self.turn.is_(k):
                return
            chunks, finished = self.pending[k]
            for chunk in chunks:
                _write_all(self.fd, chunk)
                self.held -= len(chunk)
            chunks.clear()
            if not finished:
                return
            del self.pending[k]
            self.turn.advance(k)

    def close(self):
        while self.pending:
            self.turn.wait(next(iter(self.pending)))
            self.flush()


class _NoPandas:
    """A meta path finder that makes ``import pandas`` fail while it is installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not used by a score-csv worker")
        return None


def _pyarrow_without_pandas():
    """Let pyarrow settle, once, that pandas is absent in this CSV-only process (a forked worker,
    or the serial path of a small file).

    pyarrow imports pandas on its first ``pa.array()`` only to recognise pandas objects, which
    the CSV path never has; that import cost each worker about 0.3 s of CPU and 40 MB of RSS.
    pyarrow asks only once, so the finder is removed at once: pandas stays importable, and
    pyarrow still imports it for anything that needs it (``to_pandas``). A process that has
    imported pandas already is left as it is.
    """
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(finder)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _worker(k, batch, infile, header, options, fd, tasks, turn, counter, results):
    """Score segments from ``tasks`` and write them in file order (runs in a forked child)."""
    _pyarrow_without_pandas()
    keep_freed_pages()
    try:
        stats, out = Stats(), _OrderedWriter(fd, turn)
        with open(infile, "rb") as raw:
            while (task := tasks.get()) is not None:
                seg, start_at, end_at, first_line = task
                out.pending[seg] = [[], False]
                raw.seek(start_at)
                segment = _Counting(raw, end=end_at, counter=counter)
                for chunk in batch.iter_csv(segment, stats, header=header, write_header=False,
                                            first_line=first_line, options=options, overlap=False):
                    out.add(seg, chunk)
                out.finish(seg)
        out.close()
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
