"""Where gunicorn's workers keep their Prometheus metrics, and why a full disk cannot crash them.

prometheus_client's multiprocess mode maps one file per worker and metric type into memory and
grows it with ``truncate``, which leaves a sparse file: on a full filesystem the first write to
a new page is not an error but SIGBUS, and the worker dies on every request (issue 22, finding 3:
TMPDIR full, every request including ``GET /`` died). Three defences:

- the directory is on its own path: ``PROMETHEUS_MULTIPROC_DIR`` when given, else a fresh
  directory in ``/dev/shm`` (memory, not the TMPDIR that uploads fill), else in TMPDIR;
- :func:`check` at start-up (gunicorn_conf.py): the directory is writable and has room
  (``MIN_FREE``), or the server refuses to start with a message saying so;
- :func:`install`: the files' blocks are allocated (``posix_fallocate``) before they are mapped,
  so no space is an ``OSError`` when a metric is first recorded (that value is skipped and logged
  by riskservice/api/metrics.py), never a SIGBUS.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

MIN_FREE = 4 * 1024 * 1024   # bytes: room for the files of many workers (64 KiB each to start)


def default_dir() -> str:
    """A fresh directory off TMPDIR when /dev/shm is usable (Linux, containers), else in TMPDIR."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return tempfile.mkdtemp(prefix="riskservice-metrics-", dir=shm)
    return tempfile.mkdtemp(prefix="riskservice-metrics-")


def check(path: str | os.PathLike) -> None:
    """RuntimeError naming the problem unless ``path`` is a writable directory with MIN_FREE bytes
    free that can really be allocated (a probe file is allocated and removed)."""
    path = Path(path)
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise RuntimeError(f"metrics directory {path} (PROMETHEUS_MULTIPROC_DIR) is not a writable directory")
    stat = os.statvfs(path)
    free = stat.f_bavail * stat.f_frsize
    if free < MIN_FREE:
        raise RuntimeError(f"metrics directory {path} has {free} bytes free, fewer than {MIN_FREE}: give it its "
                           "own filesystem with room (PROMETHEUS_MULTIPROC_DIR)")
    probe = path / f".probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY, 0o600)
        try:
            os.posix_fallocate(fd, 0, MIN_FREE // 4)
        finally:
            os.close(fd)
    except OSError as exc:
        raise RuntimeError(f"metrics directory {path} cannot hold files ({exc.strerror})") from None
    finally:
        probe.unlink(missing_ok=True)


def install() -> None:
    """Make prometheus_client allocate its metric files' blocks before mapping them."""
    from prometheus_client import mmap_dict, values
    if values.MmapedDict is not mmap_dict.MmapedDict:
        return
    values.MmapedDict = _make_class(mmap_dict)


def _make_class(mmap_dict):
    class AllocatedMmapedDict(mmap_dict.MmapedDict):
        """MmapedDict whose file blocks exist before they are mapped (no SIGBUS on a full disk)."""

        def __init__(self, filename, read_mode=False):
            if not read_mode:
                fd = os.open(filename, os.O_CREAT | os.O_RDWR, 0o644)
                try:
                    size = max(os.fstat(fd).st_size, mmap_dict._INITIAL_MMAP_SIZE)
                    os.posix_fallocate(fd, 0, size)
                finally:
                    os.close(fd)
            super().__init__(filename, read_mode)

        def _init_value(self, key):
            encoded = key.encode("utf-8")
            size = 4 + len(encoded) + (8 - (len(encoded) + 4) % 8) + 16   # as the parent packs it
            capacity = self._capacity
            while self._used + size > capacity:
                capacity *= 2
            if capacity != self._capacity:
                os.posix_fallocate(self._f.fileno(), 0, capacity)
            super()._init_value(key)

    return AllocatedMmapedDict
