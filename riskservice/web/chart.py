"""Geometry for the server-drawn charts (no script, no inline style: CSP-safe).

Every word and number of a chart is HTML text next to its shape, so it reflows and keeps its
CSS size (at least 12 px) on a phone; the SVGs only draw bars and marks, in a 0-100 coordinate
space stretched to the width they get. The templates draw; this module turns points into
coordinates, so the numbers in the picture are the numbers in the result.
"""
from __future__ import annotations


def contribution_bars(contributions: list, label=str) -> dict:
    """One bar per scored factor on a shared axis with zero marked: points that raise the total
    go right of zero, points that lower it (a favourable value) left; zero-point factors get a tick."""
    points = [c["points"] for c in contributions]
    lo, hi = min(points + [0]), max(points + [1])
    span = hi - lo
    zero = round(100 * -lo / span, 2)
    bars = []
    for c in contributions:
        p = c["points"]
        width = round(100 * abs(p) / span, 2)
        bars.append({"label": label(c["label"]), "points": p, "counted": p != 0, "lowers": p < 0,
                     "x": zero if p >= 0 else round(zero - width, 2), "width": width if p else 0.8})
    return {"bars": bars, "zero": zero, "has_negative": lo < 0}


def band_scale(points: int, max_points: int, thresholds: list) -> dict:
    """The points axis (from the lowest band's start, or the patient's total if lower, to the
    highest possible total) with the band thresholds of the ruleset and this patient's mark."""
    lo = min(thresholds[0]["min_points"], points, 0)
    hi = max(max_points, points, lo + 1)
    span = hi - lo

    def x(p):
        return round(100 * (min(max(p, lo), hi) - lo) / span, 2)

    segments = []
    for i, t in enumerate(thresholds):
        end = thresholds[i + 1]["min_points"] if i + 1 < len(thresholds) else hi
        first, last = i == 0, i + 1 == len(thresholds)
        segments.append({"id": t["id"], "x": x(t["min_points"]), "width": round(x(end) - x(t["min_points"]), 2),
                         "label": t["id"].replace("_", " "),
                         "range": (f"{t['min_points']} or more points" if last
                                   else f"up to {end - 1} points" if first
                                   else f"{t['min_points']} to {end - 1} points")})
    return {"segments": segments, "marker_x": x(points), "points": points, "max": max_points, "min": lo}
