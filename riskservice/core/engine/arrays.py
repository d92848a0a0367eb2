"""Array helpers and constants shared by the engine's steps (numpy reductions without their
method wrappers, 0-d constants, the block size below which items are banded in one broadcast)."""
from __future__ import annotations

import numpy as np

SMALL_BATCH = 64            # up to this many rows, items are banded in one broadcast

_sum, _max, _any = np.add.reduce, np.maximum.reduce, np.logical_or.reduce   # without the method wrappers
_TRUE, _FALSE = np.ones(1, dtype=bool), np.zeros(1, dtype=bool)
# constants as 0-d arrays: a ufunc takes them faster than Python numbers (same values, same dtypes here)
_NAN, _MINUS_ONE, _ZERO, _ONE = np.array(np.nan), np.array(-1), np.array(0), np.array(1)
_PACK, _LOW_BITS, _ZERO_F, _EIGHT = np.array(256), np.array(255), np.array(0.0), np.array(8)
_NAN_ROW = np.array([np.nan])


def row_sums(matrix):
    """``matrix @ x`` for a 0/1 ``matrix`` (out, in) as a function of ``x`` ((in, n), or any
    axis): for a large block, each output row sums the rows of ``x`` it names (the same
    integer sums, with one addition per link instead of a product per matrix cell, and an
    output nothing links to sums nothing: 0); for a few rows, the product itself."""
    links = [np.flatnonzero(row) for row in matrix]

    def product(x, axis=0):
        if (x.shape[-1] <= SMALL_BATCH and axis == x.ndim - 2) or not links:    # a few rows: one product
            return matrix @ x
        return np.stack([_sum(x.take(rows, axis=axis), axis=axis, dtype=np.int64) for rows in links], axis=axis)

    return product


def as_slice(positions):
    """``positions`` as a slice when they are consecutive (a view instead of a copy)."""
    if positions and positions == list(range(positions[0], positions[-1] + 1)):
        return slice(positions[0], positions[-1] + 1)
    return np.array(positions, dtype=np.intp)
