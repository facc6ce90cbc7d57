"""Charts drawn on the server as SVG: no script, no CDN, nothing the Content-Security-Policy must allow.

The look comes from classes styled in inboxerr/static/inboxerr/dashboard.css, so dark mode follows the admin's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 480, 180  # about the size it is drawn at, so its text reads at the page's size
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 10, 24
TICKS = 4


@dataclass(frozen=True)
class Series:
    name: str
    css_class: str
    values: Sequence[int]


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2, 2.5 or 5 times a power of ten, times TICKS, at or above `value`: each gridline reads
    as a round figure."""
    if value <= 0:
        return TICKS
    step = value / TICKS
    power = 10.0 ** math.floor(math.log10(step))
    for factor in (1, 2, 2.5, 5, 10):
        if step <= factor * power and factor * power >= 1 and (factor * power).is_integer():
            return int(factor * power * TICKS)
    return int(10 * power * TICKS)  # pragma: no cover (the loop's last factor always fits)


def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, label_every: int = 1) -> SafeString:
    """Lines over `labels` (one point each); hovering a column shows its figures. `title` names it for
    screen readers, which also get each column's figures as a <title>."""
    top = nice_ceiling(max((max(s.values, default=0) for s in series), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    column = plot_width / max(len(labels), 1)

    def x(i: int) -> float:
        return LEFT + column * (i + 0.5)

    def y(value: int) -> float:
        return TOP + plot_height * (1 - value / top)

    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (LEFT, WIDTH - RIGHT, f"{y(v):.1f}", f"{y(v):.1f}", LEFT - 6, f"{y(v) + 4:.1f}", f"{v:,}")
            for v in (top * n // TICKS for n in range(TICKS + 1))
        ),
    )
    ticks = format_html_join(
        "",
        '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
        # Counted back from the newest, which is always labelled.
        (
            (f"{x(i):.1f}", HEIGHT - 6, label)
            for i, label in enumerate(labels)
            if (len(labels) - 1 - i) % label_every == 0
        ),
    )
    lines = format_html_join(
        "",
        '<polyline class="line {}" points="{}"/>',
        ((s.css_class, " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))) for s in series),
    )
    hover = format_html_join(
        "",
        '<rect class="column" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>',
        (
            (
                f"{LEFT + column * i:.1f}",
                TOP,
                f"{column:.1f}",
                plot_height,
                label,
                ", ".join(f"{s.values[i]:,} {s.name}" for s in series),
            )
            for i, label in enumerate(labels)
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        grid,
        ticks,
        lines,
        hover,
    )
