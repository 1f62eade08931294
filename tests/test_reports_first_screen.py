"""Issue 11: the report's first screen says what the figures rest on and what is missing, with the
command that fixes it; the page reads well on a laptop (1366x768) and on paper.

Three databases, as a newcomer meets them:
- git-only: the git history of pallets/flask, no GitHub data, metrics as of its last commit;
- quiet: the same history, metrics as of "today" (2026-12-07), eight months after the last commit
  (2026-04-08): nobody is in the window;
- github: the synthetic database with git history and GitHub data for both repositories.

In Chromium: the notices (text and exact command) are inside the first viewport at 1366x768; every
visible text, SVG chart text included, is at least 11 px; no text is clipped; no chart is drawn
without data; in screen and in print media. Screenshots (first screen, full page, print) and a PDF of
each are written to bench-results/report-screenshots/ on every run (CI keeps them as artifacts).
The commands the quiet report suggests are then run through the CLI: the new report finds people."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.db import connect
from reports import ReportOptions, ReportResult, render_reports
from reports.coverage import Coverage, Notice, read_coverage
from reports.markdown import md
from tests.support.browser import Browser, BrowserError, Page
from tests.support.report_checks import FIGURES_JS, LAYOUT_JS, compare_figures, figures_from_html
from tests.support.report_db import (
    BOT_NAME,
    FLASK_LAST_DAY,
    FLASK_TODAY,
    GIT_PEOPLE,
    GIT_REPO,
    seed_git_only_db,
    seed_small_db,
    synthetic_db,
)

LAPTOP = (1366, 768)
PAPER = (703, 1000)  # A4 between 12 mm margins at 96 px per inch: the width a printed page lays out at
SCREENSHOTS = Path(__file__).resolve().parents[1] / "bench-results" / "report-screenshots"
GITHUB_TEXT = "No GitHub data: only git history was synced"
QUIET_TEXT = "Nobody was active in the window (2026-09-09 to 2026-12-07)"
# A count with a noun in the plural after the number 1 ("1 rows", "1 pairs", "1 commits").
WRONG_PLURAL = re.compile(
    r"(?<![\d.,])1 (rows|pairs|periods|commits|people|persons|days|cases|weeks|requests|identities|"
    r"repositories|bots|items|issues|reviews)\b"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    db: Path
    result: ReportResult
    notices: tuple[tuple[str, str | None], ...]  # (a phrase of the text, the exact command), in order
    facts: tuple[str, ...]  # phrases the "what this rests on" box must show


def _end_of(day: object) -> datetime:
    assert isinstance(day, type(FLASK_LAST_DAY))
    return datetime.combine(day, clock(23, 59, 59))


def _git_only(base: Path, as_of: datetime) -> Path:
    return seed_git_only_db(base / "flask.duckdb", as_of)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    try:
        chromium = Browser(tmp_path_factory.mktemp("chromium"))
    except BrowserError as exc:
        pytest.fail(str(exc))
    with chromium:
        yield chromium


@pytest.fixture(scope="module", params=["git-only", "quiet", "github"])
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    name = request.param
    base = tmp_path_factory.mktemp(name)
    github_command = "GITHUB_TOKEN=... perftrust run --db {db} --github pallets/flask"
    if name == "github":
        db = synthetic_db(tmp_path_factory.getbasetemp())
        result = render_reports(db, base / "report", ReportOptions())
        return Scenario(
            name, db, result, (), ("Git history of acme/api, acme/web", "GitHub data of acme/api")
        )
    as_of = _end_of(FLASK_LAST_DAY) if name == "git-only" else FLASK_TODAY
    db = _git_only(base, as_of)
    result = render_reports(db, base / "report", ReportOptions())
    notices: list[tuple[str, str | None]] = [(GITHUB_TEXT, github_command.format(db=db))]
    if name == "quiet":
        notices.append(
            (
                f"{QUIET_TEXT}, so every figure is empty: that describes the window, not the people. "
                "The last activity in the data is on 2026-04-08, 154 days before the window begins.",
                f"perftrust metrics --db {db} --as-of 2026-04-08 --window 90d\nperftrust report --db {db}",
            )
        )
    facts = (f"Git history of {GIT_REPO}", "to 2026-04-08", "No GitHub data")
    return Scenario(name, db, result, tuple(notices), facts)


def _settle(browser: Browser, seconds: float = 0.3) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        browser.pump(0.05)


def _layout(page: Page) -> dict[str, object]:
    found = json.loads(page.evaluate(LAYOUT_JS))
    assert isinstance(found, dict)
    return found


NOTICES_JS = """JSON.stringify([...document.querySelectorAll('#coverage .notice')].map(e => {
  const box = e.getBoundingClientRect(), code = e.querySelector('pre.command');
  return {text: e.querySelector('p').innerText, command: code ? code.innerText : null,
          top: box.top, bottom: box.bottom, visible: box.width > 0 && box.height > 0};
}))"""


def test_first_screen_and_layout_in_chromium(browser: Browser, scenario: Scenario) -> None:
    url = scenario.result.html_path.as_uri()
    page = browser.open(url)
    page.set_viewport(*LAPTOP)
    _settle(browser)
    assert set(page.requests) == {url} and page.console_errors == [] and page.dialogs == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(SCREENSHOTS / f"{scenario.name}-laptop.png", full_page=False)
    page.screenshot(SCREENSHOTS / f"{scenario.name}-laptop-full.png")

    # The first screen, before any figure: the framing, what the data is, what is missing and the fix.
    notices = json.loads(page.evaluate(NOTICES_JS))
    assert [n["command"] for n in notices] == [command for _, command in scenario.notices]
    for shown, (phrase, _) in zip(notices, scenario.notices, strict=True):
        assert phrase in shown["text"]
        assert shown["visible"] and shown["top"] >= 0 and shown["bottom"] <= LAPTOP[1], shown
    coverage = page.evaluate("document.getElementById('coverage').innerText")
    for phrase in scenario.facts:
        assert phrase in coverage
    box = json.loads(
        page.evaluate(
            "JSON.stringify(['framing', 'coverage', 'overview'].map(i => document.getElementById(i)"
            ".getBoundingClientRect()).map(b => [b.top, b.bottom]))"
        )
    )
    framing, facts, overview = box
    assert framing[1] <= LAPTOP[1] and facts[1] <= LAPTOP[1]  # both whole on the first screen
    assert framing[0] < facts[0] < overview[0]  # and above every figure
    if scenario.name != "github":
        assert "GITHUB_TOKEN" in coverage

    # Readable on the laptop: fonts, nothing clipped, no chart without data, nothing wider than it.
    screen = _layout(page)
    assert screen["problems"] == [], screen["problems"][:10]  # type: ignore[index]
    assert screen["svg_texts"] and screen["texts"]
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP[0]
    body = page.evaluate("document.body.innerText")
    assert not WRONG_PLURAL.search(body), WRONG_PLURAL.findall(body)
    # The figures shown still equal the tables (with "not measured" where a source is missing).
    with closing(connect(scenario.db, read_only=True)) as con:
        checked, problems = compare_figures(json.loads(page.evaluate(FIGURES_JS)), con, 5, check_text=True)
    assert not problems, problems[:10]
    assert checked >= 15

    # On paper: the same checks in print media at the width of an A4 page.
    page.emulate_media("print")
    page.set_viewport(*PAPER)
    printed = _layout(page)
    assert printed["problems"] == [], printed["problems"][:10]  # type: ignore[index]
    assert page.evaluate("document.documentElement.scrollWidth") <= PAPER[0]
    page.screenshot(SCREENSHOTS / f"{scenario.name}-print.png")
    assert page.print_pdf(SCREENSHOTS / f"{scenario.name}-print.pdf").read_bytes()[:5] == b"%PDF-"
    page.emulate_media("screen")
    assert page.console_errors == [] and set(page.requests) == {url}


def test_summary_and_the_command_line_get_the_same_notices(scenario: Scenario) -> None:
    with closing(connect(scenario.db, read_only=True)) as con:
        coverage = read_coverage(con)
    notices = coverage.notices()
    # One function computes them: what it says is what the report shows.
    assert [(n.command) for n in notices] == [command for _, command in scenario.notices]
    page = scenario.result.html_path.read_text(encoding="utf-8")
    for text, command in notices:
        assert html.escape(text, quote=False) in page
        if command:
            assert f"<code>{html.escape(command, quote=False)}</code>" in page
    summary = scenario.result.markdown_path.read_text(encoding="utf-8")
    for text, command in notices:
        assert f"**Note:** {md(text)}" in summary
        if command:
            assert f"```sh\n{command}\n```" in summary
    head = summary[: summary.index("### Team signals")]  # before any figure
    assert all(n.text[:40] in html.unescape(head.replace("\\", "")) for n in notices)
    assert not WRONG_PLURAL.search(summary)


def test_person_cards_tell_no_source_from_no_activity(scenario: Scenario, tmp_path: Path) -> None:
    page = scenario.result.html_path.read_text(encoding="utf-8")
    assert "nothing in the window" not in page  # read as "did nothing"
    people = re.findall(
        r'<section class="person".*?(?=<section class="person"|<section id="credit")', page, re.S
    )
    if scenario.name == "git-only":
        assert len(people) == len(GIT_PEOPLE)
        for person in people:
            note = re.search(r'<p class="family-note" data-state="not_measured">(.*?)</p>', person, re.S)
            assert note and re.sub(r"<[^>]+>", "", note.group(1)) == (
                "Not measured, for lack of GitHub data: Follow-through, Managing expectations, Communication."
            )
            assert 'data-family="follow_through"' not in person  # no empty card for it
            # Within a family that is measured, a GitHub-only measure says so instead of "0" or n=0.
            assert "not measured: needs GitHub data" in person
    elif scenario.name == "quiet":
        assert people == [] and 'id="no-people"' in page
    else:
        assert 'data-state="not_measured"' not in page and "needs GitHub data" not in page


def test_no_activity_reads_as_no_activity(tmp_path: Path) -> None:
    """With GitHub data, a person without commitments gets a plain statement, not a judgement."""
    db = seed_small_db(tmp_path / "small.duckdb")
    page = render_reports(db, tmp_path / "report", ReportOptions()).html_path.read_text(encoding="utf-8")
    zed = page[page.index('<h3 class="person-name">Aaron Zed</h3>') :]
    zed = zed[: zed.index('<section class="person"')]
    note = re.search(r'<p class="family-note" data-state="no_activity">(.*?)</p>', zed, re.S)
    assert note
    text = re.sub(r"<[^>]+>", "", note.group(1))
    assert text.startswith("Nothing to show in the window for Follow-through (no due-dated commitments")
    assert "not measured" not in zed.lower()


def test_each_bot_is_listed_once(tmp_path: Path) -> None:
    db = _git_only(tmp_path, _end_of(FLASK_LAST_DAY))
    with closing(connect(db, read_only=True)) as con:
        identities, commits = con.execute(
            "SELECT count(*), sum(count_commits_authored) FROM dim_contributors WHERE display_name = ?",
            [BOT_NAME],
        ).fetchall()[0]
    assert identities == 2  # the noreply address and the address in a trailer: two contributors
    page = render_reports(db, tmp_path / "report", ReportOptions()).html_path.read_text(encoding="utf-8")
    bots = re.search(r"<h3>Bots left out of the metrics \((\d+)\)</h3>\s*<p>(.*?)</p>", page, re.S)
    assert bots and bots.group(1) == "1"
    assert html.unescape(bots.group(2)) == f"{BOT_NAME} ({commits} commits)"


def test_few_people_and_singular_wording(tmp_path: Path) -> None:
    """A team of one: the notice says team figures rest on too few people; every count reads right."""
    db = seed_small_db(tmp_path / "small.duckdb")
    result = render_reports(
        db, tmp_path / "report", ReportOptions(team="Solo", contributor_ids=("github:erin",))
    )
    page = result.html_path.read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert (
        "Only 1 person was active in the window (2024-04-02 to 2024-06-30), fewer than the minimum of 5"
        in text
    )
    assert "As a table (1 pair)" in text  # alice reviewed erin's pull request: the only edge
    assert not WRONG_PLURAL.search(" ".join(text.split())), WRONG_PLURAL.findall(text)
    summary = result.markdown_path.read_text(encoding="utf-8")
    assert "1 person." in summary and not WRONG_PLURAL.search(summary)


def test_coverage_of_databases_without_metrics_or_data(tmp_path: Path) -> None:
    plain = tmp_path / "plain.duckdb"
    duckdb.connect(str(plain)).close()  # not even perftrust's tables
    with closing(duckdb.connect(str(plain), read_only=True)) as con:
        coverage = read_coverage(con)
    assert not coverage.has_git and not coverage.has_github and not coverage.has_metrics
    assert [n.command for n in coverage.notices()] == [f"perftrust run --db {plain} --repo PATH/TO/CLONE"]

    synced = seed_small_db(tmp_path / "synced.duckdb", metrics=False)
    with closing(connect(synced, read_only=True)) as con:
        coverage = read_coverage(con)
    assert coverage.has_git and coverage.has_github and coverage.count_people is None
    assert coverage.notices() == [
        Notice(
            "The metric tables have not been computed yet, so there are no figures to show.",
            f"perftrust metrics --db {synced}\nperftrust report --db {synced}",
        )
    ]
    assert (
        coverage.last_activity is not None and coverage.last_activity.isoformat() == "2024-06-15"
    )  # a review


def test_commands_leave_out_the_default_database_and_keep_the_settings() -> None:
    coverage = Coverage(
        git_repos=("acme/api", "tools"),
        github_repos=(),
        has_metrics=True,
        as_of=FLASK_TODAY.date(),
        window_start=FLASK_TODAY.date().replace(month=11, day=8),
        min_n=3,
        timezone="Europe/Berlin",
        pseudonymized=True,
        count_people=0,
        last_activity=FLASK_LAST_DAY,
        db_path="/srv/perftrust/perftrust.duckdb",
    )
    github, quiet = coverage.notices()
    assert github.command == "GITHUB_TOKEN=... perftrust run --github acme/api"  # "tools" is not on GitHub
    assert quiet.command == (
        "perftrust metrics --as-of 2026-04-08 --window 30d --min-n 3 --timezone Europe/Berlin --pseudonymize\n"
        "perftrust report"
    )
    odd = Coverage(git_repos=("tools",), db_path="/data/my team.duckdb", has_metrics=False)
    assert (
        odd.notices()[0].command
        == "GITHUB_TOKEN=... perftrust run --db '/data/my team.duckdb' --github OWNER/NAME"
    )
    assert "OWNER/NAME is the repository on GitHub" in odd.notices()[0].text


@pytest.mark.parametrize("file_name", ["flask.duckdb", "perftrust.duckdb"])
def test_the_suggested_commands_find_people(
    file_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quiet database's notice names commands that, run as written, give a report with people."""
    work = tmp_path / "work"
    work.mkdir()
    db = work / file_name
    shutil.copyfile(_git_only(tmp_path, FLASK_TODAY), db)
    monkeypatch.chdir(work)  # where the nightly job runs: no perftrust.toml, the database by name
    with closing(connect(db, read_only=True)) as con:
        before = read_coverage(con)
    assert before.count_people == 0 and before.last_activity == FLASK_LAST_DAY
    [quiet] = [n for n in before.notices() if n.text.startswith("Nobody was active")]
    assert quiet.command is not None
    lines = quiet.command.splitlines()
    assert [shlex.split(line)[:2] for line in lines] == [["perftrust", "metrics"], ["perftrust", "report"]]
    assert ("--db" in quiet.command) == (file_name != "perftrust.duckdb")
    started = time.time()
    for line in lines:
        argv = shlex.split(line)
        outcome = CliRunner().invoke(main, argv[1:])
        assert outcome.exit_code == 0, (line, outcome.output)
    reports = [p for p in work.rglob("report.html") if p.stat().st_mtime >= started - 1]
    assert len(reports) == 1, reports
    page = reports[0].read_text(encoding="utf-8")
    count = re.search(r'data-count-people="(\d+)"', page)
    assert count and int(count.group(1)) == len(GIT_PEOPLE)
    assert 'data-as-of="2026-04-08"' in page and "Nobody was active" not in page
    assert len(figures_from_html(page)) > 100
    with closing(connect(db, read_only=True)) as con:
        after = read_coverage(con)
    assert after.count_people == len(GIT_PEOPLE) and after.as_of == FLASK_LAST_DAY
    assert [n.text for n in after.notices()] == [before.notices()[0].text]  # only "no GitHub data" is left
