"""Geometry of the revenue page's money charts, drawn as inline SVG by templates/revenue.html.j2.

The style of the customer usage chart (orchestration/usage_chart.py: same width, panel and
legend sizes, colours): months on a shared x axis, one panel per currency, each on its own
scale (a month of ¥724 next to one of $62.77 would otherwise flatten the dollars). Within a
month the series stand side by side (grouped) or on top of each other (stacked). Amounts stay
Decimal; pixels are integers, floored. A negative amount draws no bar: the tables show it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from orchestration import usage_chart as style  # the customer chart's sizes and colours
from orchestration.lib.months import months_between

LEFT = 100                    # room for money tick labels ("$1,234,567.89")
MAX_SLOT = 90                 # widest a month's bars get, all series together


@dataclass
class Bar:
    x: int
    y: int
    width: int
    height: int
    color: str
    title: str                # tooltip: "2026-10 · Recurring: $62.77"


@dataclass
class Panel:
    key: str                  # data-currency of the panel's <g>
    title: str
    top: int
    maximum: str              # formatted top tick
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    left: int
    plot_width: int
    plot_top: int
    plot_height: int
    panels: list[Panel]
    x_labels: list[tuple[int, str]]             # (x, text)
    legend: list[tuple[int, int, str, str]]     # (x, y, color, name)
    axis_y: int
    label: str                                  # aria-label


@dataclass
class PanelData:
    key: str
    title: str
    values: dict[str, dict[date, Decimal]]      # series name -> month -> amount
    fmt: Callable[[Decimal], str]               # the panel's money format


def _pixels(value: Decimal, maximum: Decimal) -> int:
    if value <= 0:
        return 0
    # any revenue gets at least one pixel, so a small month next to a big one still shows
    return max(int((value * style.PLOT_HEIGHT / maximum).to_integral_value(ROUND_FLOOR)), 1)


def bar_chart(panels: list[PanelData], series: list[str], label: str, stacked: bool = False) -> Chart | None:
    """One panel per PanelData over every month from the first to the last with a value."""
    months = sorted({m for p in panels for by_month in p.values.values() for m in by_month})
    if not months:
        return None
    months = months_between(months[0], months[-1])
    colors = {name: style.COLORS[i % len(style.COLORS)] for i, name in enumerate(series)}
    plot_width = style.WIDTH - LEFT - style.RIGHT
    n = len(months)
    per_row = plot_width // style.LEGEND_ITEM
    legend_height = 10 + style.LEGEND_ROW * -(-len(series) // per_row)
    legend = [(LEFT + i % per_row * style.LEGEND_ITEM, 6 + i // per_row * style.LEGEND_ROW, colors[name], name)
              for i, name in enumerate(series)]
    out = []
    for i, data in enumerate(panels):
        def amount(name: str, month: date, data: PanelData = data) -> Decimal:
            return data.values.get(name, {}).get(month, Decimal(0))
        if stacked:
            maximum = max(sum(max(amount(s, m), Decimal(0)) for s in series) for m in months)
        else:
            maximum = max(amount(s, m) for s in series for m in months)
        maximum = maximum if maximum > 0 else Decimal(1)
        top = legend_height + i * style.PANEL_HEIGHT
        panel = Panel(data.key, data.title, top, data.fmt(maximum))
        base = top + style.PLOT_TOP + style.PLOT_HEIGHT
        for j, month in enumerate(months):
            x0, x1 = LEFT + j * plot_width // n, LEFT + (j + 1) * plot_width // n
            # a few months would give bars as wide as the chart: at most MAX_SLOT, centred
            slot = max(min(x1 - x0 - 2, MAX_SLOT), 1)
            x0 += (x1 - x0 - slot) // 2
            y = base
            for k, name in enumerate(series):
                value = amount(name, month, data)
                height = _pixels(value, maximum)
                if not height:
                    continue
                title = f"{month:%Y-%m} · {name}: {data.fmt(value)}"
                if stacked:
                    y -= height
                    panel.bars.append(Bar(x0, y, slot, height, colors[name], title))
                else:
                    width = slot // len(series)
                    panel.bars.append(Bar(x0 + k * width, base - height, max(width - 1, 1), height,
                                          colors[name], title))
        out.append(panel)
    step = -(-n // style.MAX_X_LABELS)
    x_labels = [(LEFT + j * plot_width // n + plot_width // (2 * n), f"{months[j]:%Y-%m}") for j in range(0, n, step)]
    axis_y = legend_height + len(out) * style.PANEL_HEIGHT
    return Chart(style.WIDTH, axis_y + style.AXIS_HEIGHT, LEFT, plot_width, style.PLOT_TOP, style.PLOT_HEIGHT,
                 out, x_labels, legend, axis_y, label)
