"""The HTML report as a person sees it: opened from disk in headless Chromium, offline.

No console errors, no request to any host (only the file itself is loaded), screenshots at laptop
width and in print media (saved under pytest's tmp dir), the figures on the page equal the metric
tables, and hostile repository text shows as text. Chromium is required: without it these tests fail
with the command to install it (CI installs it), they do not skip."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from pipeline.db import connect
from reports import ReportOptions, ReportResult, render_reports
from tests.support.browser import Browser, BrowserError, Page
from tests.support.report_checks import FIGURES_JS, compare_figures
from tests.support.report_db import SYNTHETIC_AS_OF, XSS_NAME, XSS_TITLE, seed_small_db, synthetic_db

LAPTOP = (1366, 768)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    try:
        chromium = Browser(tmp_path_factory.mktemp("chromium"))
    except BrowserError as exc:
        pytest.fail(str(exc))
    with chromium:
        yield chromium


@pytest.fixture(scope="module")
def synthetic_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReportResult]:
    db = synthetic_db(tmp_path_factory.getbasetemp())
    return db, render_reports(db, tmp_path_factory.mktemp("synthetic-report"), ReportOptions(team="Everyone"))


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _settle(browser: Browser, seconds: float = 0.5) -> None:
    """Let late events (a dialog, a delayed request) arrive before judging the page."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        browser.pump(0.05)


def _assert_offline_and_clean(browser: Browser, page: Page, url: str) -> None:
    _settle(browser)
    assert set(page.requests) == {url}, page.requests  # nothing but the file itself
    assert page.console_errors == []
    assert page.dialogs == []


def test_report_in_chromium(
    browser: Browser, synthetic_report: tuple[Path, ReportResult], tmp_path: Path
) -> None:
    db, result = synthetic_report
    url = result.html_path.as_uri()
    page = browser.open(url)
    page.set_viewport(*LAPTOP)
    _assert_offline_and_clean(browser, page, url)

    # Screenshots: the first screen and the full page at laptop width, then as printed.
    top = page.screenshot(tmp_path / "report-1366-top.png", full_page=False)
    assert _png_size(top) == LAPTOP
    full = page.screenshot(tmp_path / "report-1366-full.png")
    width, height = _png_size(full)
    assert width == LAPTOP[0] and height > 3 * LAPTOP[1]
    # Readable on a laptop: nothing wider than the screen (the matrix scrolls inside its box).
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP[0]
    page.emulate_media("print")
    printed = page.screenshot(tmp_path / "report-print.png")
    assert _png_size(printed)[1] > LAPTOP[1]
    pdf = page.print_pdf(tmp_path / "report.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    page.emulate_media("screen")
    assert page.console_errors == [] and set(page.requests) == {url}

    # The framing is the first thing on the page, above the figures.
    framing = page.evaluate("document.getElementById('framing').getBoundingClientRect().top")
    overview = page.evaluate("document.getElementById('overview').getBoundingClientRect().top")
    assert framing < overview
    assert "not a verdict on a person" in page.evaluate("document.getElementById('framing').innerText")

    # Key figures as shown equal the metric tables (values, n, intervals, and the visible text).
    figures = json.loads(page.evaluate(FIGURES_JS))
    with closing(connect(db, read_only=True)) as con:
        checked, problems = compare_figures(figures, con, min_n=5, check_text=True)
        people = con.execute(
            """SELECT count(DISTINCT contributor_id) FROM (
                   SELECT contributor_id FROM metric_follow_through WHERE period_type = 'window'
                   UNION ALL SELECT contributor_id FROM metric_consistency WHERE period_type = 'window'
                   UNION ALL SELECT contributor_id FROM metric_credit_sharing WHERE period_type = 'window'
                   UNION ALL SELECT contributor_id FROM metric_communication WHERE period_type = 'window'
                   UNION ALL SELECT contributor_id FROM metric_help_seeking WHERE period_type = 'window'
                   UNION ALL SELECT contributor_id FROM metric_expectations WHERE period_type = 'window'
                   UNION ALL SELECT contributor_id FROM metric_ownership WHERE period_type = 'window'
                   UNION ALL SELECT contributor_id FROM fct_commitments
                       WHERE NOT is_assignee_bot AND (outcome = 'overdue'
                             OR (outcome = 'pending' AND due_date <= DATE '2026-07-07')))
               WHERE contributor_id IS NOT NULL"""
        ).fetchall()[0][0]
        open_items = con.execute(
            """SELECT count(*) FILTER (WHERE outcome = 'overdue'), count(*) FILTER (WHERE outcome = 'pending')
               FROM fct_commitments WHERE NOT is_assignee_bot
                 AND (outcome = 'overdue' OR (outcome = 'pending' AND due_date <= DATE '2026-07-07'))"""
        ).fetchall()[0]
    assert not problems, problems[:10]
    assert checked > 500
    assert page.evaluate("document.querySelectorAll('section.person').length") == people
    assert page.evaluate("document.querySelectorAll('#overdue-table tbody tr').length") == open_items[0]
    assert page.evaluate("document.querySelectorAll('#due-soon-table tbody tr').length") == open_items[1]
    assert (
        page.evaluate("document.querySelector('[data-as-of]').dataset.asOf") == f"{SYNTHETIC_AS_OF:%Y-%m-%d}"
    )
    # Alphabetical as displayed.
    names = page.evaluate("[...document.querySelectorAll('.person-name')].map(e => e.textContent)")
    assert names == sorted(names, key=str.casefold)


def test_hostile_text_shows_as_text(browser: Browser, tmp_path: Path) -> None:
    db = seed_small_db(tmp_path / "small.duckdb")
    result = render_reports(db, tmp_path / "report", ReportOptions())
    url = result.html_path.as_uri()
    page = browser.open(url)
    page.set_viewport(*LAPTOP)
    _assert_offline_and_clean(browser, page, url)  # no alert dialog: nothing ran
    assert page.evaluate("document.querySelectorAll('img, script, iframe, object, embed').length") == 0
    titles = page.evaluate("[...document.querySelectorAll('[data-title]')].map(e => e.textContent)")
    assert XSS_TITLE in titles
    names = page.evaluate("[...document.querySelectorAll('.person-name')].map(e => e.textContent)")
    assert XSS_NAME in names
    body = page.evaluate("document.body.innerText")
    assert XSS_TITLE in body and XSS_NAME in body
    page.evaluate("document.getElementById('attention').scrollIntoView()")
    page.screenshot(tmp_path / "attention.png", full_page=False)
