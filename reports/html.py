"""The HTML report: one self-contained file from a Jinja2 template that escapes everything by default."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from pipeline import __version__
from reports import svg
from reports.coverage import plural
from reports.data import DUE_SOON_DAYS, STRIP_WEEKS, Figure, MeasureOverview, Person, Report
from reports.measures import Measure

TEMPLATES = Path(__file__).parent / "templates"
CREDIT_KINDS = {  # (one, many)
    "coauthor": ("co-author credit", "co-author credits"),
    "review_credit": ("review credit", "review credits"),
    "other_credit": ("other credit", "other credits"),
    "review": ("review", "reviews"),
}


@cache
def environment() -> jinja2.Environment:
    # autoescape=True for every template: repository text can only ever be shown as text.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = pct
    env.filters["repr_float"] = lambda v: repr(float(v))
    env.filters["when"] = lambda v: "" if v is None else f"{v:%Y-%m-%d %H:%M}"
    env.filters["count"] = lambda v: "" if v is None else f"{int(v):,}"
    env.filters["plural"] = plural  # {{ n | plural("pair") }} -> "1 pair", "2 pairs"
    return env


def pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


def value_text(f: Figure) -> str:
    """The value as a reader sees it; the exact value is in the element's data-value attribute."""
    if f.value is None:
        return ""
    m = f.measure
    if m.kind == "rate":
        return pct(f.value)
    if m.kind == "count":
        unit = " day" if m.unit == " days" and f.value == 1 else m.unit
        return f"{f.value:,.0f}{unit}"
    if m.kind == "number":
        return f"{f.value:.2f}{m.unit}"
    return (f"{f.value:,.0f}" if abs(f.value) >= 100 else f"{f.value:,.1f}") + m.unit


def interval_text(f: Figure) -> str:
    """A figure's 95% interval as shown: percentages for rates, the measure's unit for medians."""
    assert f.lower is not None and f.upper is not None
    if f.measure.kind == "rate":
        return f"{pct(f.lower)} to {pct(f.upper)}"
    ends = [replace(f, value=bound) for bound in (f.lower, f.upper)]
    return f"{value_text(ends[0]).removesuffix(f.measure.unit)} to {value_text(ends[1])}"


def label_for(f: Figure) -> str:
    if f.missing is not None:
        return f"{f.measure.label}: not measured, needs {f.missing}"
    if f.value is None:
        return f"{f.measure.label}: not enough data (n={f.n})"
    interval = ""
    if f.lower is not None and f.upper is not None:
        interval = f", 95% interval {interval_text(f)}"
    return f"{f.measure.label}: {value_text(f)}{interval}, n={f.n}"


def _scale(measure: Measure, values: list[float]) -> svg.Scale:
    if measure.kind == "rate":
        return svg.Scale(0.0, 1.0, True)
    high = max(values, default=1.0)
    return svg.Scale(0.0, high if high > 0 else 1.0, False, measure.unit, integer=measure.kind == "count")


def has_spread(mo: MeasureOverview) -> bool:
    """A spread is drawn only with values to show (counts: someone above zero): no empty charts."""
    if mo.measure.kind == "count":
        return any(v > 0 for v in mo.values)
    return bool(mo.values)


def has_trend(mo: MeasureOverview) -> bool:
    """A trend is drawn only when some month has enough cases for a value."""
    return any(t.value is not None for t in mo.trend)


def render_html(report: Report) -> str:
    scope = report.scope
    title = "Performance-trust signals · " + (scope.team or "all contributors") + f" · as of {scope.as_of}"

    def distribution(mo: MeasureOverview, width: float = 280) -> Markup:
        label = f"Spread across the team: {mo.measure.label} ({plural(len(mo.values), 'person', 'people')})"
        return svg.dot_plot(mo.values, _scale(mo.measure, mo.values), label, width)

    def trend(mo: MeasureOverview) -> Markup:
        points = [svg.TrendPoint(t.month, t.value, t.lower, t.upper, t.n) for t in mo.trend]
        return svg.trend_chart(points, f"Month by month: {mo.measure.label}")

    def strip(p: Person) -> Markup:
        cells = [svg.WeekCell(start, days, detail) for start, days, detail in p.weeks]
        return svg.activity_strip(cells, f"Active days per week, {p.name}")

    def matrix() -> Markup:
        index = {name: i for i, name in enumerate(report.credit_names)}
        cells = []
        for e in report.credit_edges:
            kinds = ", ".join(plural(count, *CREDIT_KINDS[kind]) for kind, count in sorted(e.counts.items()))
            detail = f"{e.giver} → {e.receiver}: {e.total} ({kinds})"
            cells.append(svg.MatrixCell(index[e.giver], index[e.receiver], e.total, detail))
        return svg.credit_matrix(report.credit_names, cells, "Credit network: rows give, columns receive")

    template = environment().get_template("report.html.j2")
    return template.render(
        title=title,
        scope=scope,
        coverage=report.coverage,
        notices=report.coverage.notices(),
        matrix_labelled=svg.matrix_labelled(len(report.credit_names)),
        people=report.people,
        overview=report.overview,
        attention=report.attention,
        credit_edges=report.credit_edges,
        quality=report.quality,
        trend_months=report.trend_months,
        due_soon_days=DUE_SOON_DAYS,
        strip_weeks=STRIP_WEEKS,
        generated_at=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        version=__version__,
        value_text=value_text,
        interval_text=interval_text,
        label_for=label_for,
        interval_bar=svg.interval_bar,
        count_bars=svg.count_bars,
        distribution=distribution,
        trend=trend,
        strip=strip,
        matrix=matrix,
        has_spread=has_spread,
        has_trend=has_trend,
        has_counts=lambda points: any(count for _, count in points),
        plural=plural,
    )
