"""Pure domain core: knowledge, units, rules, indices, established scores, explanations.

Nothing in this package imports Flask, reads a clock or writes a log line with input values.
"""
