"""Server-rendered SVG sparkline geometry (no JavaScript, no inline styles, CSP-safe)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    points: str
    bars: list[dict]
    maximum: int
    total: int


def sparkline(values: list[int], *, width: int = 240, height: int = 48, padding: int = 4) -> Sparkline:
    """Return the geometry of a sparkline for ``values`` (counts, oldest first).

    ``points`` is an SVG ``polyline`` points string; ``bars`` one ``{"x", "y", "w", "h",
    "value"}`` per value for invisible hover targets with titles. ``width``/``height`` are SVG
    user units. An all-zero series draws a flat line on the baseline.
    """
    count = max(len(values), 1)
    maximum = max(values, default=0)
    inner_height = height - 2 * padding
    step = (width - 2 * padding) / max(count - 1, 1)
    coordinates, bars = [], []
    for index, value in enumerate(values):
        x = padding + index * step
        y = padding + inner_height - (inner_height * value / maximum if maximum else 0)
        coordinates.append(f"{x:.1f},{y:.1f}")
        bars.append({"x": f"{x - step / 2:.1f}", "y": 0, "w": f"{step:.1f}", "h": height, "value": value})
    return Sparkline(width, height, " ".join(coordinates), bars, maximum, sum(values))
