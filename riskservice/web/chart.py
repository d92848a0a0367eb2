"""Geometry for the server-drawn SVG charts (no script, no inline style: CSP-safe).

The templates draw; this module only turns points into coordinates, so the numbers in the
picture are the numbers in the result.
"""
from __future__ import annotations

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 330
BAR_WIDTH = 300


def contribution_bars(contributions: list) -> dict:
    """One bar per scored factor, longest for the most points; zero-point factors drawn empty."""
    rows = [c for c in contributions]
    top = max([c["points"] for c in rows] + [1])
    bars = []
    for i, c in enumerate(rows):
        width = round(BAR_WIDTH * max(c["points"], 0) / top, 1)
        bars.append({"y": i * (BAR_HEIGHT + GAP), "width": width, "label": c["label"], "points": c["points"],
                     "text_x": LABEL_WIDTH + width + 6, "counted": c["points"] > 0})
    height = max(len(rows), 1) * (BAR_HEIGHT + GAP)
    return {"bars": bars, "height": height, "width": LABEL_WIDTH + BAR_WIDTH + 60,
            "label_width": LABEL_WIDTH, "bar_height": BAR_HEIGHT}


def band_scale(points: int, max_points: int, thresholds: list) -> dict:
    """The points axis 0..max with the band thresholds of the ruleset and this patient's mark."""
    span = max(max_points, 1)
    width = 560

    def x(p):
        return round(20 + (width - 40) * min(max(p, 0), span) / span, 1)

    segments = []
    for i, t in enumerate(thresholds):
        end = thresholds[i + 1]["min_points"] if i + 1 < len(thresholds) else span
        last = i + 1 == len(thresholds)
        segments.append({"id": t["id"], "x": x(t["min_points"]), "width": round(x(end) - x(t["min_points"]), 1),
                         "label": t["id"].replace("_", " "),
                         "range": (f"{t['min_points']} or more points" if last
                                   else f"{t['min_points']} to {end - 1} points")})
    return {"width": width, "segments": segments, "marker_x": x(points), "points": points, "max": max_points}
