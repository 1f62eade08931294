"""Reports from a small hand-built database: attention list, order, escaping, links, team, pseudonyms, CSV.

Every expectation here is worked out by hand from tests/support/report_db.py, not read back from the
tables the report is made of. The browser test (test_reports_browser.py) looks at the same reports
through Chromium."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.config import MetricsConfig, Settings
from pipeline.db import connect
from pipeline.errors import PerftrustError
from pipeline.metrics.common import MetricSettings, pseudonym
from pipeline.metrics.run import compute_metrics
from reports import ReportOptions, ReportResult, api_url_to_web_url, render_reports
from reports.csv_export import export_tables, write_csvs
from reports.markdown import md
from tests.support.report_checks import compare_figures, figures_from_html
from tests.support.report_db import (
    AS_OF,
    EXPECTED_ATTENTION,
    NAME_ORDER,
    PEOPLE,
    REPO,
    XSS_NAME,
    XSS_TITLE,
    seed_small_db,
)

METRIC_CSVS = {
    "fct_commitments",
    "fct_credits",
    "metric_communication",
    "metric_consistency",
    "metric_credit_sharing",
    "metric_expectations",
    "metric_follow_through",
    "metric_help_seeking",
    "metric_ownership",
    "metric_runs",  # what they were computed with
}


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_small_db(tmp_path_factory.mktemp("small") / "small.duckdb")


@pytest.fixture(scope="module")
def report(small_db: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    return render_reports(small_db, tmp_path_factory.mktemp("report"), ReportOptions())


def _html(result: ReportResult) -> str:
    return result.html_path.read_text(encoding="utf-8")


def _section(page: str, ident: str) -> str:
    start = page.index(f'<section id="{ident}"')
    return page[start : page.index("</section>", start)]


def _person_sections(page: str) -> dict[str, str]:
    """Profile name (unescaped) -> its HTML."""
    out = {}
    for match in re.finditer(
        r'<section class="person".*?(?=<section class="person"|<section id="credit")', page, re.S
    ):
        name = re.search(r'<h3 class="person-name">(.*?)</h3>', match.group(0))
        assert name
        out[html.unescape(name.group(1))] = match.group(0)
    return out


def _attention(page: str) -> dict[tuple[int, str], tuple[str, int]]:
    got = {}
    for row in re.finditer(r'<tr data-commitment="([^"]+)" data-status="([^"]+)".*?</tr>', page, re.S):
        key = html.unescape(row.group(1))
        number, login = re.fullmatch(r"github:commitment:acme/app#(\d+)/(.+)", key).groups()  # type: ignore[union-attr]
        text = re.search(r"(overdue by (\d+) day|due in (\d+) day|due today)", row.group(0))
        assert text, row.group(0)
        days = int(text.group(2) or text.group(3) or 0)
        got[(int(number), login)] = (row.group(2), days)
    return got


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com"),
        ("https://api.octo.ghe.com", "https://octo.ghe.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_api_url_to_web_url(api: str, web: str) -> None:
    assert api_url_to_web_url(api) == web


def test_writes_html_markdown_and_every_table_as_csv(report: ReportResult) -> None:
    out = report.html_path.parent
    assert report.markdown_path == out / "summary.md" and report.csv_dir == out / "csv"
    assert {p.name for p in out.iterdir()} == {"report.html", "summary.md", "csv"}
    assert {p.name for p in report.csv_dir.iterdir()} == {f"{t}.csv" for t in METRIC_CSVS}
    assert report.count_contributors == len(NAME_ORDER)
    page = _html(report)
    # The framing comes first, in plain words.
    framing = page.index('id="framing"')
    assert framing < page.index('id="overview"')
    text = re.sub(r"<[^>]+>", "", page[framing : page.index("</div>", framing)])
    assert "not a verdict on a person" in text and "interpersonal trust" in text
    # Self-contained: nothing to fetch, and nothing to run.
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page.replace('href="https://github.com/', ""))
    assert "<script" not in page.lower() and "<link" not in page.lower()


def test_attention_list_is_what_was_worked_out_by_hand(report: ReportResult) -> None:
    page = _html(report)
    assert _attention(page) == EXPECTED_ATTENTION
    attention = _section(page, "attention")
    # Links to the real items: pull requests under /pull, issues under /issues.
    assert f'href="https://github.com/{REPO}/pull/8"' in attention
    assert f'href="https://github.com/{REPO}/issues/1"' in attention
    # Due soon (soonest first), then overdue (most recently due first).
    order = [int(n) for n in re.findall(r'data-commitment="github:commitment:acme/app#(\d+)/', attention)]
    assert order == [5, 2, 2, 3, 1, 8, 6]
    assert "1 of them was due before the window began" in attention  # #6, due 2024-03-01


def test_people_are_alphabetical_whatever_their_figures(report: ReportResult) -> None:
    page = _html(report)
    assert list(_person_sections(page)) == NAME_ORDER
    index = re.search(r'<ul class="people-index">(.*?)</ul>', page, re.S)
    assert index and [html.unescape(n) for n in re.findall(r">([^<]+)</a>", index.group(1))] == NAME_ORDER


def test_rates_show_n_and_interval_or_not_enough_data(report: ReportResult) -> None:
    people = _person_sections(_html(report))
    carol = people["carol Chen"]  # 2 on time, 1 late: n = 3 < 5
    assert "not enough data (n=3, minimum 5)" in carol
    figure = re.search(r'<div class="figure" data-metric="metric_follow_through.on_time_rate"[^>]*>', carol)
    assert figure and 'data-n="3"' in figure.group(0) and 'data-enough="false"' in figure.group(0)
    assert "data-value" not in figure.group(0)
    dave = people["Dave Dunn"]  # 4 on time, 1 late: 80%, n = 5
    figure = re.search(
        r'<div class="figure" data-metric="metric_follow_through.on_time_rate"[^>]*>.*?</div>', dave, re.S
    )
    assert figure
    block = figure.group(0)
    assert 'data-value="0.8"' in block and 'data-n="5"' in block and ">80%<" in block
    assert '<svg class="interval"' in block and "95% interval 38%\N{EN DASH}96%" in block
    assert "4 on time · 1 late · 0 overdue" in block


def test_key_figures_equal_the_metric_tables(report: ReportResult, small_db: Path) -> None:
    figures = figures_from_html(_html(report))
    with closing(connect(small_db, read_only=True)) as con:
        checked, problems = compare_figures(figures, con, min_n=5)
    assert not problems
    assert checked > 60


def test_evidence_links_to_the_items_commits_and_reviews(report: ReportResult, small_db: Path) -> None:
    people = _person_sections(_html(report))
    alice = people["Alice Archer"]
    assert f'<a href="https://github.com/{REPO}/issues/1" rel="noreferrer">{REPO}#1</a>' in alice
    assert "due 2024-06-10, overdue" in alice and "due 2024-06-10, dropped" in alice
    assert f'href="https://github.com/{REPO}/pull/8#pullrequestreview-777"' in alice  # the review she gave
    with closing(connect(small_db, read_only=True)) as con:
        sha = con.execute("SELECT sha FROM fct_commits WHERE subject = 'Fix parser'").fetchall()[0][0]
    assert f'href="https://github.com/{REPO}/commit/{sha}"' in people["Dave Dunn"]  # his Reviewed-by credit


def test_credit_network_table(report: ReportResult) -> None:
    table = re.search(r'<table class="data" id="credit-table">.*?</table>', _html(report), re.S)
    assert table
    rows = []
    for row in re.findall(r"<tr data-total.*?</tr>", table.group(0), re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        rows.append(tuple(cells[:7]))
    assert rows == [
        ("Alice Archer", "carol Chen", "1", "0", "0", "0", "1"),  # Co-authored-by carol
        ("Alice Archer", "Erin Ewing", "0", "0", "0", "1", "1"),  # reviewed erin's pull request
        ("Dave Dunn", "Alice Archer", "0", "1", "0", "0", "1"),  # Reviewed-by alice
    ]
    assert '<svg class="matrix"' in _html(report)


def test_data_quality_section(report: ReportResult) -> None:
    quality = _section(_html(report), "quality")
    assert "acme/app" in quality and "2024-06-30 23:59" in quality
    assert 'data-api-requests="42"' in quality
    assert "Unlinked Person &lt;unlinked@acme.example&gt;" in quality
    assert "git identity linked to no GitHub account" in quality
    assert "dependabot[bot]" in quality and "left out of the metrics" in quality
    # Quiet stretches: nothing between the issues opened 2024-02-01 and 2024-05-01, nor until June.
    gaps = quality[quality.index('id="gaps"') :]
    assert re.findall(r"<tr><td>acme/app</td><td>(.*?)</td><td>(.*?)</td>", gaps) == [
        ("2024-02-05", "2024-04-28"),
        ("2024-05-06", "2024-06-02"),
    ]


def test_hostile_text_is_escaped_everywhere(report: ReportResult) -> None:
    page = _html(report)
    assert html.escape(XSS_TITLE, quote=False) in page
    assert html.escape(XSS_NAME, quote=False) in page
    assert "<img" not in page.lower() and "<script" not in page.lower()
    assert "onerror=alert" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    summary = report.markdown_path.read_text(encoding="utf-8")
    assert r"\<img src=x onerror=alert(1)\>" in summary and not re.search(r"(?<!\\)<img", summary)
    assert r"Mallory \<script\>alert(2)\</script\>" in summary


def test_markdown_escaping() -> None:
    assert (
        md("a *b* [c](d) <e> `f` |g| @someone") == r"a \*b\* \[c\](d) \<e\> \`f\` \|g\| @" + "\u200bsomeone"
    )
    assert md("two\nlines") == "two lines"


def test_markdown_summary(report: ReportResult, small_db: Path) -> None:
    summary = report.markdown_path.read_text(encoding="utf-8")
    assert summary.startswith("## Performance-trust signals: all contributors, as of 2024-06-30")
    assert "not a verdict on a person" in summary and "interpersonal trust" in summary
    assert "Needs attention: 3 overdue, 4 due within 7 days" in summary
    assert f"[acme/app#8](<https://github.com/{REPO}/pull/8>)" in summary
    # The team figure is the metric table's team row: 6 of 11 pooled over four people, with the
    # person-clustered interval (4 %-97 %: four people as unequal as 0/2, 2/3, 4/5, 0/1 say little
    # about a team; a naive Wilson over 11 cases said 28 %-79 %).
    with closing(connect(small_db, read_only=True)) as con:
        ((lower, upper),) = con.execute(
            "SELECT on_time_rate_lower, on_time_rate_upper FROM metric_follow_through "
            "WHERE team_id = 'all' AND period_type = 'window'"
        ).fetchall()
    shown = f"| Follow-through: Commitments finished on time | 55% | {lower:.0%} to {upper:.0%} | 11 |"
    assert shown == "| Follow-through: Commitments finished on time | 55% | 4% to 97% | 11 |"
    assert shown in summary
    assert "Dave Dunn" in summary  # as an assignee; no per-person rates in a chat summary
    assert "80%" not in summary


def test_links_use_the_enterprise_web_url(small_db: Path, tmp_path: Path) -> None:
    result = render_reports(small_db, tmp_path, ReportOptions(web_url="https://ghe.example.com/"))
    page = _html(result)
    hrefs = re.findall(r'href="([^"#][^"]*)"', page)
    assert hrefs and all(h.startswith(f"https://ghe.example.com/{REPO}/") for h in hrefs), hrefs[:5]
    assert "github.com" not in page
    assert "(<https://ghe.example.com/acme/app/issues/1>)" in result.markdown_path.read_text(encoding="utf-8")


def test_team_filter(small_db: Path, tmp_path: Path) -> None:
    team = ("github:dave", "github:alice")
    result = render_reports(small_db, tmp_path, ReportOptions(team="Platform", contributor_ids=team))
    page = _html(result)
    assert "Performance-trust signals · Platform · as of 2024-06-30" in page
    assert list(_person_sections(page)) == ["Alice Archer", "Dave Dunn"]
    assert _attention(page) == {k: v for k, v in EXPECTED_ATTENTION.items() if k[1] in ("alice", "dave")}
    # The team's pooled on-time rate: alice 0 of 2 (overdue, dropped), dave 4 of 5.
    team_rate = re.search(r'data-metric="metric_follow_through.on_time_rate" data-subject="team"[^>]*>', page)
    assert team_rate and 'data-n="7"' in team_rate.group(0)
    assert f'data-value="{4 / 7!r}"' in team_rate.group(0)
    con = duckdb.connect(":memory:")
    people = {
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT contributor_id FROM read_csv('{result.csv_dir}/metric_consistency.csv') "
            "WHERE contributor_id IS NOT NULL"
        ).fetchall()
    }
    assignees = {
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT assignee_login FROM read_csv('{result.csv_dir}/fct_commitments.csv')"
        ).fetchall()
    }
    assert people == set(team) and assignees == {"alice", "dave"}


def test_unknown_team_member_is_an_error(small_db: Path, tmp_path: Path) -> None:
    with pytest.raises(PerftrustError) as caught:
        render_reports(
            small_db, tmp_path, ReportOptions(team="Web", contributor_ids=("github:alice", "github:nobody"))
        )
    assert "github:nobody" in caught.value.problem and "dim_contributors" in (caught.value.fix or "")
    with pytest.raises(PerftrustError):
        render_reports(small_db, tmp_path, ReportOptions(contributor_ids=()))


def _sensitive(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every name, email, login and contributor id of the database."""
    values: set[str] = set()
    for row in con.execute(
        "SELECT contributor_id, display_name, primary_email, github_login, names, emails FROM dim_contributors"
    ).fetchall():
        values.update(v for v in row[:4] if v)
        values.update(row[4] + row[5])
    for row in con.execute("SELECT identity_id, name, email, github_login FROM dim_identities").fetchall():
        values.update(v for v in row if v)
    return sorted(values)


def test_pseudonymize_hides_every_name_email_and_login(small_db: Path, tmp_path: Path) -> None:
    result = render_reports(small_db, tmp_path / "report", ReportOptions(pseudonymize=True))
    with closing(connect(small_db, read_only=True)) as con:
        sensitive = _sensitive(con)
    outputs = {p.name: p.read_text(encoding="utf-8") for p in (result.html_path, result.markdown_path)}
    outputs.update({p.name: p.read_text(encoding="utf-8") for p in result.csv_dir.iterdir()})
    for name, text in outputs.items():
        for value in sensitive:
            shown = html.escape(value, quote=False) if name.endswith(".html") else value
            # As a whole word: a login such as "zed" may sit inside an ordinary word.
            assert not re.search(rf"(?<!\w){re.escape(shown)}(?!\w)", text), (name, value)
        for login in PEOPLE:  # as a word anywhere (in keys, URLs, text), any case
            assert not re.search(rf"\b{login}\b", text, re.I), (name, login)
    page = outputs["report.html"]
    assert str(pseudonym("github:alice")) in page and "names replaced by pseudonyms" in page
    # The same pseudonyms `perftrust metrics --pseudonymize` writes.
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(small_db, copy)
    writer = connect(copy)
    compute_metrics(writer, MetricSettings(as_of=AS_OF, pseudonymize=True))
    expected = {r[0] for r in writer.execute("SELECT contributor_id FROM metric_follow_through").fetchall()}
    writer.close()
    reader = duckdb.connect(":memory:")
    got = {
        r[0]
        for r in reader.execute(
            f"SELECT contributor_id FROM read_csv('{result.csv_dir}/metric_follow_through.csv')"
        ).fetchall()
    }
    assert got == expected and any(g and g.startswith("person-") for g in got)


def test_csv_files_equal_the_tables(report: ReportResult, small_db: Path) -> None:
    with closing(connect(small_db, read_only=True)) as con:
        _compare_csvs(con, report.csv_dir)


def _compare_csvs(con: duckdb.DuckDBPyConnection, csv_dir: Path) -> None:
    assert set(export_tables(con)) == METRIC_CSVS
    for table in METRIC_CSVS:
        described = con.execute(f"DESCRIBE {table}").fetchall()
        columns = {name: ("VARCHAR" if dtype.endswith("[]") else dtype) for name, dtype, *_ in described}
        projected = ", ".join(
            f"array_to_string({n}, ' ') AS {n}" if d.endswith("[]") else n for n, d, *_ in described
        )
        path = csv_dir / f"{table}.csv"
        # "" is an empty evidence list, an unquoted empty field is NULL.
        typed = f"read_csv('{path}', header = true, allow_quoted_nulls = false, columns = {columns!r})"
        count = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        assert con.execute(f"SELECT count(*) FROM {typed}").fetchall()[0][0] == count, table
        a, b = f"SELECT {projected} FROM {table}", f"SELECT * FROM {typed}"
        assert con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchall()[0][0] == 0, table
        assert con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchall()[0][0] == 0, table


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_another_as_of_is_computed_on_a_copy(small_db: Path, tmp_path: Path) -> None:
    before = _digest(small_db)
    result = render_reports(small_db, tmp_path, ReportOptions(as_of=date(2024, 6, 20)))
    assert _digest(small_db) == before  # the given database is never written
    page = _html(result)
    assert 'data-as-of="2024-06-20"' in page and "window 2024-03-23 \N{EN DASH} 2024-06-20 (90 days)" in page
    attention = _attention(page)
    assert attention[(1, "alice")] == ("overdue", 10)
    assert (2, "alice") not in attention  # due 2024-07-03: 13 days out on 2024-06-20
    # The same date as the tables: read as they are.
    same = render_reports(small_db, tmp_path / "same", ReportOptions(as_of=date(2024, 6, 30)))
    assert _attention(_html(same)) == EXPECTED_ATTENTION


def test_minimum_n_comes_from_the_tables_when_the_settings_disagree(small_db: Path, tmp_path: Path) -> None:
    settings = Settings(metrics=MetricsConfig(min_n=3))  # the tables were computed with 5
    result = render_reports(small_db, tmp_path, ReportOptions(settings=settings))
    assert "not enough data (n=3, minimum 5)" in _html(result)
    # A database from before metric_runs: as-of, window and minimum n are read off the tables.
    old = tmp_path / "old.duckdb"
    shutil.copyfile(small_db, old)
    with closing(connect(old)) as writer:
        writer.execute("DROP TABLE metric_runs")
    before_runs = render_reports(old, tmp_path / "old", ReportOptions(settings=settings))
    page = _html(before_runs)
    assert 'data-as-of="2024-06-30"' in page and "(90 days)" in page
    assert "not enough data (n=3, minimum 5)" in page
    recomputed = render_reports(
        small_db, tmp_path / "b", ReportOptions(settings=settings, as_of=date(2024, 6, 29))
    )
    carol = _person_sections(_html(recomputed))["carol Chen"]
    assert "not enough data (n=3" not in carol and 'data-n="3" data-enough="true"' in carol


def test_a_failed_render_leaves_the_previous_report_and_no_temporary_files(
    small_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = render_reports(small_db, tmp_path, ReportOptions())
    html_before, csv_before = _digest(first.html_path), _digest(first.csv_dir / "fct_credits.csv")

    def half_then_fail(*args: Any) -> None:
        write_csvs(*args)  # every CSV written under its temporary name, then the failure
        raise OSError("disk full")

    monkeypatch.setattr("reports.render.write_csvs", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        render_reports(small_db, tmp_path, ReportOptions(team="Other"))
    assert (
        _digest(first.html_path) == html_before and _digest(first.csv_dir / "fct_credits.csv") == csv_before
    )
    leftovers = [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]
    assert leftovers == []


def test_bad_input_names_the_fix(tmp_path: Path) -> None:
    plain = tmp_path / "plain.duckdb"
    duckdb.connect(str(plain)).close()
    with pytest.raises(PerftrustError) as caught:
        render_reports(plain, tmp_path / "out", ReportOptions())
    assert "no metric tables" in caught.value.problem and "perftrust metrics" in (caught.value.fix or "")

    synced_only = tmp_path / "synced.duckdb"
    seed_small_db(synced_only, metrics=False)
    with pytest.raises(PerftrustError) as caught:
        render_reports(synced_only, tmp_path / "out", ReportOptions())
    assert "empty" in caught.value.problem and "perftrust run" in (caught.value.fix or "")
    # With a date the metrics are computed for it, on a copy.
    result = render_reports(synced_only, tmp_path / "out", ReportOptions(as_of=date(2024, 6, 30)))
    assert _attention(_html(result)) == EXPECTED_ATTENTION

    with pytest.raises(PerftrustError, match="no database"):
        render_reports(tmp_path / "missing.duckdb", tmp_path / "out", ReportOptions())
    with pytest.raises(PerftrustError, match="http"):
        render_reports(synced_only, tmp_path / "out", ReportOptions(web_url="javascript:alert(1)"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(PerftrustError, match="not a folder"):
        render_reports(synced_only, tmp_path / "file", ReportOptions())


def test_tables_written_pseudonymized_stay_pseudonymized(small_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "pseudonymized.duckdb"
    shutil.copyfile(small_db, copy)
    writer = connect(copy)
    compute_metrics(writer, MetricSettings(as_of=AS_OF, pseudonymize=True))
    writer.close()
    result = render_reports(copy, tmp_path / "report", ReportOptions())  # not asked, but the tables are
    page = _html(result)
    assert "names replaced by pseudonyms" in page and str(pseudonym("github:dave")) in page
    texts = [page, result.markdown_path.read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in result.csv_dir.iterdir()]
    for text in texts:
        for login in PEOPLE:
            assert not re.search(rf"\b{login}\b", text, re.I), login
    assert _attention(page).keys() == {(n, str(pseudonym(login))) for n, login in EXPECTED_ATTENTION}
