"""Inline SVG charts, built as markupsafe.Markup so every piece of text is escaped by default.

Markup.format escapes each argument that is not itself Markup; numbers are formatted before they go
in. Colours are one neutral hue: a chart shows a spread or a trend, never good and bad people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

INK = "#1f4e79"
SOFT = "#9db7d1"
TRACK = "#e6ebf0"
GRID = "#c9d1d9"


def _num(x: float) -> str:
    return f"{x:.1f}"


def _join(parts: Sequence[Markup]) -> Markup:
    return Markup("").join(parts)


def _svg(width: float, height: float, label: str, body: Markup, css: str = "chart") -> Markup:
    return Markup(
        '<svg class="{}" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" '
        'role="img" aria-label="{}"><title>{}</title>{}</svg>'
    ).format(css, _num(width), _num(height), _num(width), _num(height), label, label, body)


def interval_bar(value: float, lower: float, upper: float, label: str, width: float = 160) -> Markup:
    """A 0-100% track, the 95% interval as a band and the rate as a tick: the width of the band is
    the point (few cases, wide band)."""
    height, pad = 14.0, 2.0
    span = width - 2 * pad

    def x(v: float) -> float:
        return pad + max(0.0, min(1.0, v)) * span

    body = Markup(
        '<rect x="{}" y="5" width="{}" height="4" rx="2" fill="{}"/>'
        '<rect x="{}" y="3" width="{}" height="8" rx="2" fill="{}"/>'
        '<rect x="{}" y="1" width="3" height="12" fill="{}"/>'
    ).format(
        _num(pad),
        _num(span),
        TRACK,
        _num(x(lower)),
        _num(max(1.0, x(upper) - x(lower))),
        SOFT,
        _num(x(value) - 1.5),
        INK,
    )
    return _svg(width, height, label, body, "interval")


@dataclass(frozen=True)
class Scale:
    low: float
    high: float
    percent: bool
    unit: str = ""
    integer: bool = False

    def label(self, v: float) -> str:
        if self.percent:
            return f"{v * 100:.0f}%"
        if self.integer:
            return f"{v:,.0f}{self.unit}"
        return f"{v:,.0f}{self.unit}" if abs(v) >= 10 else f"{v:,.1f}{self.unit}"


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (as numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def dot_plot(values: Sequence[float], scale: Scale, label: str, width: float = 280) -> Markup:
    """Every member's value as an unlabelled dot (a spread, not a ranking), the middle half as a
    box and the median as a bar."""
    height, left, right = 46.0, 6.0, 6.0
    span = width - left - right
    extent = (scale.high - scale.low) or 1.0

    def x(v: float) -> float:
        return left + (max(scale.low, min(scale.high, v)) - scale.low) / extent * span

    parts = [
        Markup('<line x1="{}" y1="34" x2="{}" y2="34" stroke="{}"/>').format(
            _num(left), _num(width - right), GRID
        ),
        Markup('<text x="{}" y="44" font-size="9" fill="#57606a">{}</text>').format(
            _num(left), scale.label(scale.low)
        ),
        Markup('<text x="{}" y="44" font-size="9" fill="#57606a" text-anchor="end">{}</text>').format(
            _num(width - right), scale.label(scale.high)
        ),
    ]
    ordered = sorted(values)
    if ordered:
        q1, med, q3 = (_quantile(ordered, q) for q in (0.25, 0.5, 0.75))
        parts.append(
            Markup('<rect x="{}" y="6" width="{}" height="24" fill="{}" opacity="0.5"/>').format(
                _num(x(q1)), _num(max(1.0, x(q3) - x(q1))), TRACK
            )
        )
        parts.append(
            Markup('<rect x="{}" y="4" width="2" height="28" fill="{}"/>').format(_num(x(med) - 1), INK)
        )
        for i, v in enumerate(ordered):
            # Vertical jitter so equal values stay visible as several dots; it follows the sorted
            # values, so a dot's height says nothing about whose it is.
            y = 10 + (i * 7919 % 17) * 1.2
            parts.append(
                Markup('<circle cx="{}" cy="{}" r="2.6" fill="{}" fill-opacity="0.55"/>').format(
                    _num(x(v)), _num(y), INK
                )
            )
    return _svg(width, height, label, _join(parts), "dots")


@dataclass(frozen=True)
class TrendPoint:
    month: date
    value: float | None  # None: not enough data that month
    lower: float | None
    upper: float | None
    n: int


def trend_chart(points: Sequence[TrendPoint], label: str, width: float = 280) -> Markup:
    """Pooled team rate per month with its 95% interval as a whisker; months below the minimum n
    show as an empty ring on the axis, not as a value."""
    height, left, right, top, bottom = 70.0, 26.0, 6.0, 6.0, 16.0
    plot_h = height - top - bottom
    step = (width - left - right) / max(1, len(points))

    def y(v: float) -> float:
        return top + (1 - max(0.0, min(1.0, v))) * plot_h

    parts: list[Markup] = []
    for frac in (0.0, 0.5, 1.0):
        parts.append(
            Markup(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="0.5"/>'
                '<text x="{}" y="{}" font-size="8" fill="#57606a" text-anchor="end">{}</text>'
            ).format(
                _num(left),
                _num(y(frac)),
                _num(width - right),
                _num(y(frac)),
                GRID,
                _num(left - 3),
                _num(y(frac) + 3),
                f"{frac * 100:.0f}%",
            )
        )
    line: list[str] = []
    for i, p in enumerate(points):
        cx = left + step * (i + 0.5)
        if i % 3 == 0 or i == len(points) - 1:
            parts.append(
                Markup(
                    '<text x="{}" y="{}" font-size="8" fill="#57606a" text-anchor="middle">{}</text>'
                ).format(_num(cx), _num(height - 4), p.month.strftime("%b %y"))
            )
        if p.value is None:
            parts.append(
                Markup(
                    '<circle cx="{}" cy="{}" r="2.5" fill="none" stroke="{}"><title>{}</title></circle>'
                ).format(_num(cx), _num(y(0)), GRID, f"{p.month:%B %Y}: not enough data (n={p.n})")
            )
            continue
        line.append(f"{_num(cx)},{_num(y(p.value))}")
        tip = f"{p.month:%B %Y}: {p.value * 100:.0f}%"
        if p.lower is not None and p.upper is not None:
            tip += f" (95% interval {p.lower * 100:.0f}-{p.upper * 100:.0f}%, n={p.n})"
            parts.append(
                Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="3"/>').format(
                    _num(cx), _num(y(p.lower)), _num(cx), _num(y(p.upper)), SOFT
                )
            )
        parts.append(
            Markup('<circle cx="{}" cy="{}" r="2.8" fill="{}"><title>{}</title></circle>').format(
                _num(cx), _num(y(p.value)), INK, tip
            )
        )
    if len(line) > 1:
        parts.insert(
            0,
            Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="1.2"/>').format(
                " ".join(line), INK
            ),
        )
    return _svg(width, height, label, _join(parts), "trend")


def count_bars(points: Sequence[tuple[date, int]], label: str, width: float = 280) -> Markup:
    """Team totals per month as bars (counts have no interval)."""
    height, left, right, top, bottom = 70.0, 26.0, 6.0, 6.0, 16.0
    plot_h = height - top - bottom
    step = (width - left - right) / max(1, len(points))
    peak = max((c for _, c in points), default=0) or 1
    parts = [
        Markup(
            '<text x="{}" y="{}" font-size="8" fill="#57606a" text-anchor="end">{}</text>'
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="0.5"/>'
        ).format(
            _num(left - 3),
            _num(top + 3),
            f"{peak:,}",
            _num(left),
            _num(top + plot_h),
            _num(width - right),
            _num(top + plot_h),
            GRID,
        )
    ]
    for i, (month, count) in enumerate(points):
        h = count / peak * plot_h
        parts.append(
            Markup('<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>').format(
                _num(left + step * i + 1),
                _num(top + plot_h - h),
                _num(max(1.0, step - 2)),
                _num(h),
                SOFT,
                f"{month:%B %Y}: {count:,}",
            )
        )
        if i % 3 == 0 or i == len(points) - 1:
            parts.append(
                Markup(
                    '<text x="{}" y="{}" font-size="8" fill="#57606a" text-anchor="middle">{}</text>'
                ).format(_num(left + step * (i + 0.5)), _num(height - 4), month.strftime("%b %y"))
            )
    return _svg(width, height, label, _join(parts), "trend")


@dataclass(frozen=True)
class WeekCell:
    week_start: date
    active_days: int
    detail: str


def activity_strip(cells: Sequence[WeekCell], label: str) -> Markup:
    """One square per ISO week, darker with more active days (0-7)."""
    size, gap = 11.0, 2.0
    parts = []
    for i, cell in enumerate(cells):
        shade = ["#eef1f4", "#d4e1ee", "#b3cbe2", "#8fb1d3", "#6a95c2", "#477ab0", "#2f62a0", "#1f4e79"][
            max(0, min(7, cell.active_days))
        ]
        parts.append(
            Markup(
                '<rect x="{}" y="0" width="{}" height="{}" rx="2" fill="{}" data-week="{}" '
                'data-active-days="{}"><title>{}</title></rect>'
            ).format(
                _num(i * (size + gap)),
                _num(size),
                _num(size),
                shade,
                cell.week_start.isoformat(),
                str(cell.active_days),
                cell.detail,
            )
        )
    width = max(1.0, len(cells) * (size + gap) - gap)
    return _svg(width, size, label, _join(parts), "strip")


@dataclass(frozen=True)
class MatrixCell:
    row: int
    column: int
    count: int
    detail: str


def credit_matrix(names: Sequence[str], cells: Sequence[MatrixCell], label: str) -> Markup:
    """Who credits or reviews whom: givers as rows, receivers as columns, both alphabetical.
    A matrix stays readable at 200 people, where a node-link drawing turns into a hairball."""
    count = len(names)
    cell = max(3.0, min(14.0, 560.0 / max(1, count)))
    labelled = cell >= 8
    margin = 150.0 if labelled else 10.0
    size = margin + cell * count
    peak = max((c.count for c in cells), default=1) or 1
    parts: list[Markup] = [
        Markup('<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="{}"/>').format(
            _num(margin), _num(margin), _num(cell * count), _num(cell * count), GRID
        )
    ]
    if labelled:
        for i, name in enumerate(names):
            short = name if len(name) <= 22 else name[:21] + "…"
            parts.append(
                Markup(
                    '<text x="{}" y="{}" font-size="{}" text-anchor="end" fill="#24292f">{}</text>'
                    '<text transform="translate({},{}) rotate(-60)" font-size="{}" fill="#24292f">{}</text>'
                ).format(
                    _num(margin - 4),
                    _num(margin + cell * (i + 0.75)),
                    _num(cell * 0.75),
                    short,
                    _num(margin + cell * (i + 0.7)),
                    _num(margin - 4),
                    _num(cell * 0.75),
                    short,
                )
            )
    for c in cells:
        opacity = 0.25 + 0.75 * c.count / peak
        parts.append(
            Markup(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="{}"><title>{}</title></rect>'
            ).format(
                _num(margin + c.column * cell),
                _num(margin + c.row * cell),
                _num(cell),
                _num(cell),
                INK,
                f"{opacity:.2f}",
                c.detail,
            )
        )
    return _svg(size, size, label, _join(parts), "matrix")
