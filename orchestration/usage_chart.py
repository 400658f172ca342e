"""Geometry of a customer's usage chart, drawn as inline SVG by templates/customer.html.j2.

One panel per billable metric, stacked, sharing the x axis (day, or month over a long span)
and each with its own y scale: a metric with 40,000 calls a day and one with 3 GPU changes a
month would otherwise flatten the smaller one to nothing. Coordinates are integers (pixels),
computed with integer arithmetic from integer event counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from orchestration.lib.months import month_start, months_between

WIDTH = 760
LEFT, RIGHT = 70, 20          # room for the y tick labels
LEGEND_ROW, LEGEND_ITEM = 18, 170
PANEL_HEIGHT = 110            # title + plot + gap
PLOT_TOP, PLOT_HEIGHT = 22, 70
AXIS_HEIGHT = 50              # x tick labels and the axis title
MAX_DAYS = 62                 # above this span the x axis is months
MAX_X_LABELS = 8
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


@dataclass
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str
    value: int


@dataclass
class Panel:
    metric: str
    name: str
    color: str
    top: int
    maximum: int
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    left: int
    plot_width: int
    plot_top: int
    plot_height: int
    unit: str                                   # "day" or "month"
    panels: list[Panel]
    x_labels: list[tuple[int, str]]             # (x, text)
    legend: list[tuple[int, int, str, str]]     # (x, y, color, name)
    axis_y: int


def _buckets(first: date, last: date) -> tuple[str, list[date]]:
    if (last - first).days < MAX_DAYS:
        return "day", [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return "month", months_between(first, last)


def usage_chart(rows: list[tuple[str, date, int]], names: dict[str, str]) -> Chart | None:
    """rows: (metric code, local day, events), sorted; names: metric code -> display name."""
    if not rows:
        return None
    unit, buckets = _buckets(min(r[1] for r in rows), max(r[1] for r in rows))
    key = (lambda d: d) if unit == "day" else month_start
    index = {b: i for i, b in enumerate(buckets)}
    series: dict[str, list[int]] = {}
    for metric, day, events in rows:
        series.setdefault(metric, [0] * len(buckets))[index[key(day)]] += events

    plot_width = WIDTH - LEFT - RIGHT
    n = len(buckets)
    gap = 1 if plot_width // n > 3 else 0
    label = (lambda b: b.isoformat()) if unit == "day" else (lambda b: b.strftime("%Y-%m"))
    per_row = plot_width // LEGEND_ITEM
    legend_height = 10 + LEGEND_ROW * -(-len(series) // per_row)
    panels, legend = [], []
    for i, metric in enumerate(sorted(series)):
        values = series[metric]
        top = legend_height + i * PANEL_HEIGHT
        maximum = max(values) or 1
        panel = Panel(metric, names.get(metric) or metric, COLORS[i % len(COLORS)], top, maximum)
        base = top + PLOT_TOP + PLOT_HEIGHT
        for j, value in enumerate(values):
            x0, x1 = LEFT + j * plot_width // n, LEFT + (j + 1) * plot_width // n
            # any usage gets at least one pixel, so a small day next to a big one still shows
            height = max(value * PLOT_HEIGHT // maximum, 1) if value else 0
            panel.bars.append(Bar(x0, base - height, max(x1 - x0 - gap, 1), height, label(buckets[j]), value))
        panels.append(panel)
        legend.append((LEFT + i % per_row * LEGEND_ITEM, 6 + i // per_row * LEGEND_ROW, panel.color, panel.name))

    step = -(-n // MAX_X_LABELS)
    x_labels = [(LEFT + j * plot_width // n + plot_width // (2 * n), label(buckets[j])) for j in range(0, n, step)]
    axis_y = legend_height + len(panels) * PANEL_HEIGHT
    return Chart(WIDTH, axis_y + AXIS_HEIGHT, LEFT, plot_width, PLOT_TOP, PLOT_HEIGHT, unit, panels,
                 x_labels, legend, axis_y)
