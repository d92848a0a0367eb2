"""Keep freed heap pages in a batch process, so numpy's per-block temporaries reuse them.

Each block of a few thousand rows allocates a few dozen arrays of 0.1-12 MB and frees them.
By default glibc serves such sizes with ``mmap`` and unmaps them on ``free`` (or trims the
heap top), so the next block faults the same pages in again, zero-filled by the kernel: about
0.4 page faults and 1.1-2 µs of system CPU per row, a fifth of what a row costs. Raising the
mmap threshold to its maximum and the trim threshold far above the working set keeps those
pages in the heap; the peak RSS stays what the largest block needs, and nothing is computed
differently (same allocations, other addresses). Only glibc has ``mallopt``; elsewhere this
does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20    # glibc's largest accepted value on 64-bit (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD = 256 << 20   # free heap above this goes back to the system


def keep_freed_pages() -> bool:
    """Set the two thresholds for this process; True when glibc accepted both."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
