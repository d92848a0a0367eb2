"""Where the parallel ``score-csv`` cuts a file: segments of whole records, in file order.

Kept apart from :mod:`riskservice.cli.batch` (which imports pyarrow and the engine) so that
:mod:`riskservice.cli.prescan` can run it in a child forked before those imports.
"""
from __future__ import annotations

from riskservice.csvio.records import split_blocks

PARALLEL_MIN_BYTES = 16 * 1024 * 1024  # smaller files take the single-process path
SEGMENT_BLOCKS = 4  # reader blocks per segment: small enough that neither worker idles long at the end


def segments(infile, delimiter, begin, size, block_size, workers=2, k=0, line=2, after=False):
    """(index, start, end, first line) of consecutive segments at record boundaries, from
    byte ``begin`` (the start of a record on physical line ``line``) to ``size``; the
    indices count from ``k``; with ``after``, each also with the first line after it. The
    last few segments are single blocks, so that the workers finish at nearly the same time."""
    tail_bytes = 2 * workers * block_size * SEGMENT_BLOCKS
    offset, first, blocks = begin, line, 0
    with open(infile, "rb") as f:
        f.seek(begin)
        for block in split_blocks(f, delimiter, block_size, first_line=line):
            offset += block.nbytes
            line += block.lines
            blocks += 1  # counted, not measured in bytes: a block is a little short of block_size
            if blocks >= (1 if size - offset < tail_bytes else SEGMENT_BLOCKS) and offset < size:
                yield (k, begin, offset, first, line) if after else (k, begin, offset, first)
                k, begin, first, blocks = k + 1, offset, line, 0
    yield (k, begin, size, first, line) if after else (k, begin, size, first)
