"""Geometry for the server-drawn charts (no script, no inline style: CSP-safe).

Every word and number of a chart is HTML text next to its shape, so it reflows and keeps its
CSS size (at least 12 px) on a phone; the SVGs only draw bars and marks, in a 0-100 coordinate
space stretched to the width they get. The templates draw; this module turns points into
coordinates, so the numbers in the picture are the numbers in the result.
"""
from __future__ import annotations


def contribution_bars(contributions: list, label=str) -> dict:
    """One bar per scored factor, longest for the most points; zero-point factors drawn empty."""
    top = max([c["points"] for c in contributions] + [1])
    bars = [{"label": label(c["label"]), "points": c["points"], "counted": c["points"] > 0,
             "width": round(100 * max(c["points"], 0) / top, 1)} for c in contributions]
    return {"bars": bars}


def band_scale(points: int, max_points: int, thresholds: list) -> dict:
    """The points axis 0..max with the band thresholds of the ruleset and this patient's mark."""
    span = max(max_points, 1)

    def x(p):
        return round(100 * min(max(p, 0), span) / span, 2)

    segments = []
    for i, t in enumerate(thresholds):
        end = thresholds[i + 1]["min_points"] if i + 1 < len(thresholds) else span
        last = i + 1 == len(thresholds)
        segments.append({"id": t["id"], "x": x(t["min_points"]), "width": round(x(end) - x(t["min_points"]), 2),
                         "label": t["id"].replace("_", " "),
                         "range": (f"{t['min_points']} or more points" if last
                                   else f"{t['min_points']} to {end - 1} points")})
    return {"segments": segments, "marker_x": x(points), "points": points, "max": max_points}
