"""Find a large file's record boundaries in a child process while ``score-csv`` starts up.

Before it can fork its workers, the command spends about 0.2 s importing pyarrow and the
engine and loading the knowledge and the model, on one core while the other idles; finding
the record boundaries (about 0.15 s of CPU for 1M rows) then competed with the two workers
for the cores. So the command forks a child with :meth:`Prescan.start` as soon as its options
are read: it reads the header line, cuts the file into segments (:mod:`riskservice.cli.segments`,
the same code the parent would run) and sends them through a pipe, on the idle core.

The parent uses the child's segments only when the child saw what the parent checked (the
header ends at the same byte, the same delimiter, size, block size and worker count); if
the child fails or stops early, the parent cuts the rest of the file itself from the last
segment received. Nothing the child sends can change the output: any cut at a record
boundary gives the same rows.
"""
from __future__ import annotations

import os
import signal

from riskservice.cli import segments as seg
from riskservice.csvio.records import BLOCK_SIZE

HEADER_LIMIT = 1 << 20  # the child reads at most this much for the header (the parent refuses longer ones)


class Prescan:
    """A forked child's segments, read from a pipe as it finds them."""

    def __init__(self, pid, fd):
        self.pid, self.lines = pid, os.fdopen(fd, "r", encoding="ascii")

    @classmethod
    def start(cls, infile: str, delimiter: str | None, workers: int | None = None):
        """Fork the child for a UTF-8 file large enough for the parallel path; None otherwise
        (standard input, a small file, one core, or fork unavailable)."""
        workers = workers or os.cpu_count() or 1
        try:
            if infile == "-" or workers < 2 or os.path.getsize(infile) < seg.PARALLEL_MIN_BYTES:
                return None
            r, w = os.pipe()
            pid = os.fork()
        except (OSError, AttributeError):
            return None
        if pid == 0:  # the child: never return into the command line
            code = 1
            try:
                os.close(r)
                with os.fdopen(w, "w", encoding="ascii") as out:
                    _scan(infile, delimiter, workers, out)
                code = 0
            except BaseException:  # noqa: BLE001 - the parent notices the missing end and goes on
                pass
            finally:
                os._exit(code)
        os.close(w)
        return cls(pid, r)

    def segments(self, infile, header_end, delimiter, size, block_size, workers):
        """The segments of ``infile``: the child's, as long as they agree with the parent's
        view of the file and the child delivers, then the rest found here."""
        k, begin, line = 0, header_end, 2
        expected = f"{header_end} {ord(delimiter)} {size} {block_size} {seg.SEGMENT_BLOCKS} {workers}"
        try:
            if self.lines.readline().strip() == expected:
                for text in self.lines:
                    if text == "end\n":
                        return
                    numbers = tuple(int(x) for x in text.split())
                    if len(numbers) != 5 or numbers[0] != k or numbers[1] != begin or not begin < numbers[2] <= size:
                        break
                    yield numbers[:4]
                    k, begin, line = k + 1, numbers[2], numbers[4]
                    if begin == size:
                        return
        except (OSError, ValueError):
            pass
        yield from seg.segments(infile, delimiter, begin, size, block_size, workers, k=k, line=line)

    def close(self):
        """End the child (if still running) and reap it."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.lines.close()
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def _scan(infile, delimiter, workers, out):
    from riskservice.csvio.dialect import detect_delimiter

    size = os.path.getsize(infile)
    with open(infile, "rb") as f:
        head = f.readline(HEADER_LIMIT + 1)
        header_end = f.tell()
    delimiter = delimiter or detect_delimiter(head.decode("utf-8-sig", errors="replace").rstrip("\r\n"))
    out.write(f"{header_end} {ord(delimiter)} {size} {BLOCK_SIZE} {seg.SEGMENT_BLOCKS} {workers}\n")
    out.flush()
    for task in seg.segments(infile, delimiter, header_end, size, BLOCK_SIZE, workers, after=True):
        out.write(" ".join(map(str, task)) + "\n")  # and the line after the segment, to resume from
        out.flush()
    out.write("end\n")
