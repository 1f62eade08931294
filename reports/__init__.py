"""Report rendering (HTML, Markdown, CSV) from the metric tables.

    from reports import ReportOptions, render_reports
    result = render_reports(Path("perftrust.duckdb"), Path("report"), ReportOptions(team="Platform"))

Performance-trust signals only: no score, no ranking, every rate with its n, interval and evidence."""

from reports.coverage import Coverage, Notice, read_coverage
from reports.options import ReportOptions, ReportResult, api_url_to_web_url
from reports.render import render_reports

__all__ = [
    "Coverage",
    "Notice",
    "ReportOptions",
    "ReportResult",
    "api_url_to_web_url",
    "read_coverage",
    "render_reports",
]
