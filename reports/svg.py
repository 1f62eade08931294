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
MUTED = "#57606a"
FONT = 11  # px: the smallest text anywhere in the report, chart labels included (charts are never scaled)

# Advance widths in em, rounded up from DejaVu Sans (the widest of the usual system-ui fallbacks), so a
# label's room is reserved before the browser measures it: a label is never clipped by its chart.
_NARROW = set("ijlI.,:;'|!`")
_SMALL = set('frt -()[]{}/\\"')
_WIDE = set("mwMW%@…—")


def text_width(text: str, size: float = FONT) -> float:
    """Estimated width of text at this font size, on the generous side."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.32
        elif ch in _SMALL:
            em += 0.45
        elif ch in _WIDE:
            em += 1.0
        elif ch.isupper():
            em += 0.8
        else:
            em += 0.66
    return em * size * 1.05


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


def _label(x: float, y: float, text: str, anchor: str = "start", fill: str = MUTED) -> Markup:
    return Markup('<text x="{}" y="{}" font-size="{}" fill="{}" text-anchor="{}">{}</text>').format(
        _num(x), _num(y), str(FONT), fill, anchor, text
    )


def dot_plot(values: Sequence[float], scale: Scale, label: str, width: float = 280) -> Markup:
    """Every member's value as an unlabelled dot (a spread, not a ranking), the middle half as a
    box and the median as a bar. Callers draw it only when there are values: no empty charts."""
    height, left, right = 52.0, 4.0, 4.0
    span = width - left - right
    extent = (scale.high - scale.low) or 1.0

    def x(v: float) -> float:
        return left + (max(scale.low, min(scale.high, v)) - scale.low) / extent * span

    parts = [
        Markup('<line x1="{}" y1="34" x2="{}" y2="34" stroke="{}"/>').format(
            _num(left), _num(width - right), GRID
        ),
        _label(left, 48, scale.label(scale.low)),
        _label(width - right, 48, scale.label(scale.high), "end"),
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


def _month_axis(months: Sequence[date], width: float, left: float) -> tuple[float, float, list[int]]:
    """(step, right margin, indexes labelled): every third month counted back from the last, with
    room on the right for the last label (labels are centred on their month)."""
    labelled = [i for i in range(len(months)) if (len(months) - 1 - i) % 3 == 0]
    half = max((text_width(f"{m:%b %y}") / 2 for m in months), default=0.0)
    right = 6.0
    count = max(1, len(months))
    for _ in range(3):  # the step depends on the margin and the margin on the step
        step = (width - left - right) / count
        right = max(6.0, half - step / 2 + 2)
    step = (width - left - right) / count
    return step, right, labelled


def trend_chart(points: Sequence[TrendPoint], label: str, width: float = 280) -> Markup:
    """Pooled team rate per month with its 95% interval as a whisker; months below the minimum n
    show as an empty ring on the axis, not as a value. Drawn only when a month has a value."""
    height, top, bottom = 84.0, 10.0, 22.0
    left = text_width("100%") + 6
    plot_h = height - top - bottom
    step, _, labelled = _month_axis([p.month for p in points], width, left)

    def y(v: float) -> float:
        return top + (1 - max(0.0, min(1.0, v))) * plot_h

    parts: list[Markup] = []
    for frac in (0.0, 0.5, 1.0):
        parts.append(
            Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="0.5"/>').format(
                _num(left), _num(y(frac)), _num(left + step * len(points)), _num(y(frac)), GRID
            )
        )
        parts.append(_label(left - 4, y(frac) + 4, f"{frac * 100:.0f}%", "end"))
    line: list[str] = []
    for i, p in enumerate(points):
        cx = left + step * (i + 0.5)
        if i in labelled:
            parts.append(_label(cx, height - 6, p.month.strftime("%b %y"), "middle"))
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
    """Team totals per month as bars (counts have no interval). Drawn only when a month has some."""
    height, top, bottom = 84.0, 10.0, 22.0
    plot_h = height - top - bottom
    peak = max((c for _, c in points), default=0) or 1
    left = text_width(f"{peak:,}") + 6
    step, _, labelled = _month_axis([m for m, _ in points], width, left)
    parts = [
        _label(left - 4, top + 4, f"{peak:,}", "end"),
        _label(left - 4, top + plot_h, "0", "end"),
        Markup('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="0.5"/>').format(
            _num(left), _num(top + plot_h), _num(left + step * len(points)), _num(top + plot_h), GRID
        ),
    ]
    for i, (month, count) in enumerate(points):
        h = count / peak * plot_h
        if count:
            parts.append(
                Markup(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>'
                ).format(
                    _num(left + step * i + 1),
                    _num(top + plot_h - h),
                    _num(max(1.0, step - 2)),
                    _num(h),
                    SOFT,
                    f"{month:%B %Y}: {count:,}",
                )
            )
        if i in labelled:
            parts.append(_label(left + step * (i + 0.5), height - 6, month.strftime("%b %y"), "middle"))
    return _svg(width, height, label, _join(parts), "bars")


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


MATRIX_MAX_WIDTH = 700.0  # px: fits a printed A4 page (186 mm between 12 mm margins) and a laptop
MATRIX_MIN_ROOM = 80.0  # px for names; with less, the axes go unnamed and the table does the naming
MATRIX_MAX_ROOM = 200.0  # px for names at most: longer ones are cut (the table shows them whole)
LABEL_CELL = 14.0  # px per row and column when named: room for 11 px text


def short_name(name: str, room: float) -> str:
    """The name as it fits `room` px at the chart font, cut with "…" when it does not."""
    if text_width(name) <= room:
        return name
    cut = name
    while cut and text_width(cut + "…") > room:
        cut = cut[:-1]
    return cut.rstrip() + "…"


def matrix_labelled(count: int) -> bool:
    return MATRIX_MAX_WIDTH - LABEL_CELL * count - 4 >= MATRIX_MIN_ROOM


def credit_matrix(names: Sequence[str], cells: Sequence[MatrixCell], label: str) -> Markup:
    """Who credits or reviews whom: givers as rows, receivers as columns, both alphabetical.
    A matrix stays readable at 200 people, where a node-link drawing turns into a hairball.

    When the names fit (matrix_labelled), rows and columns are named (columns written upwards) in
    room reserved for the longest name, cut to fit a printed page: no label is cut off by the edge of
    the drawing. Beyond that the axes go unnamed and the table beside the matrix names every pair."""
    count = len(names)
    labelled = matrix_labelled(count)
    shorts: list[str] = []
    if labelled:
        cell = LABEL_CELL
        room = min(MATRIX_MAX_ROOM, MATRIX_MAX_WIDTH - cell * count - 4)
        shorts = [short_name(n, room - 8) for n in names]
        left = top = max((text_width(n) for n in shorts), default=0.0) + 8
    else:
        cell = max(3.0, min(14.0, 560.0 / max(1, count)))
        left = top = 2.0
    width, height = left + cell * count + 2, top + cell * count + 2
    peak = max((c.count for c in cells), default=1) or 1
    parts: list[Markup] = [
        Markup('<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="{}"/>').format(
            _num(left), _num(top), _num(cell * count), _num(cell * count), GRID
        )
    ]
    if labelled:
        for i, short in enumerate(shorts):
            middle = cell * (i + 0.5) + FONT * 0.36  # the baseline that centres the text on the cell
            parts.append(
                Markup(
                    '<text x="{}" y="{}" font-size="{}" text-anchor="end" fill="#24292f">{}</text>'
                    '<text transform="translate({},{}) rotate(-90)" font-size="{}" fill="#24292f">{}</text>'
                ).format(
                    _num(left - 4),
                    _num(top + middle),
                    str(FONT),
                    short,
                    _num(left + middle),
                    _num(top - 4),
                    str(FONT),
                    short,
                )
            )
    for c in cells:
        opacity = 0.25 + 0.75 * c.count / peak
        parts.append(
            Markup(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="{}"><title>{}</title></rect>'
            ).format(
                _num(left + c.column * cell),
                _num(top + c.row * cell),
                _num(cell),
                _num(cell),
                INK,
                f"{opacity:.2f}",
                c.detail,
            )
        )
    return _svg(width, height, label, _join(parts), "matrix")
