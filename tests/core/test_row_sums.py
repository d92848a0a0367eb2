import numpy as np

from riskservice.core.engine.arrays import row_sums


def test_row_sums_equal_the_matrix_product_with_empty_rows_and_any_axis():
    rng = np.random.default_rng(10)
    for outs, ins in ((7, 37), (1, 3), (4, 1), (3, 5)):
        matrix = (rng.random((outs, ins)) < 0.4).astype(np.int64)
        matrix[rng.integers(0, outs)] = 0                      # an output nothing links to
        for n in (1, 5, 300):
            x = rng.integers(-5, 3000, (ins, n))
            np.testing.assert_array_equal(row_sums(matrix)(x), matrix @ x)
            stacked = rng.integers(0, 9, (2, ins, n))
            np.testing.assert_array_equal(row_sums(matrix)(stacked, axis=1), matrix @ stacked)
            flags = rng.random((ins, n)) < 0.5
            np.testing.assert_array_equal(row_sums(matrix)(flags), matrix @ flags)
    none = np.zeros((0, 3), dtype=np.int64)
    np.testing.assert_array_equal(row_sums(none)(rng.integers(0, 9, (3, 300))), np.zeros((0, 300)))
    full = np.ones((2, 3), dtype=np.int64)
    x = rng.integers(0, 9, (3, 4))
    np.testing.assert_array_equal(row_sums(full)(x), full @ x)
