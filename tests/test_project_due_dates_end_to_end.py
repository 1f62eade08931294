"""GitHub Projects due dates end to end: `perftrust sync` against the local GitHub server (a scenario
with projects: a date field, an iteration field, an item on two projects, a date moved between two
syncs, an iteration still running), then the metrics; fct_commitments checked against due dates,
sources, outcomes and moves worked out from the scenario itself (never read back from the tables
the metrics are made of). And a token without read:project: the projects stage is skipped with a
warning the run summary shows, and milestones alone give due dates."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

from pipeline.cli import main
from pipeline.config import DEFAULT_DUE_DATE_FIELDS, GitHubConfig, Settings, settings_from_dict
from pipeline.db import connect
from pipeline.errors import ConfigError
from pipeline.github_client import ClientSettings, GitHubClient
from pipeline.metrics.common import MetricSettings
from pipeline.metrics.run import compute_metrics
from pipeline.runs import utc_now
from pipeline.sync import run_sync
from reports import ReportOptions, render_reports
from reports.csv_export import is_personal
from tests.support.github_scenario import (
    Dataset,
    Issue,
    ProjectIteration,
    Repository,
    add_projects,
    generate_dataset,
)
from tests.support.github_server import GitHubServer
from tests.support.report_db import AS_OF as REPORT_AS_OF
from tests.support.report_db import seed_small_db

TOKEN = "valid-token-for-projects"
FOLLOW = ("pipeline.metrics.follow_through", "pipeline.metrics.expectations")
DUE_FIELDS = {f.casefold() for f in DEFAULT_DUE_DATE_FIELDS}


def _cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _sync(server: GitHubServer, dataset: Dataset, db: Path) -> Result:
    full_name = dataset.repositories[0].full_name
    result = _cli("sync", "--github", full_name, "--github-url", server.base_url, "--db", db)
    assert result.exit_code == 0, result.output
    return result


def _commitments(db: Path, as_of: datetime) -> dict[tuple[int, str], dict[str, Any]]:
    """fct_commitments as of as_of (the follow-through families only), by (number, assignee)."""
    with connect(db) as con:
        compute_metrics(con, MetricSettings(as_of=as_of), families=FOLLOW, parallel=1)
        cursor = con.execute("SELECT * FROM fct_commitments")
        columns = [d[0] for d in cursor.description or ()]
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    return {(r["number"], r["assignee_login"]): r for r in rows}


# -- what the scenario says, worked out by hand -----------------------------------------------------


@dataclass(frozen=True)
class Due:
    due_date: date
    source: str
    owner: str
    number: int
    title: str
    field: str
    evidence: str


def project_due(dataset: Dataset, repo: Repository, item: Issue) -> Due | None:
    """SPEC's pick among the item's project values: a due date field (DEFAULT_DUE_DATE_FIELDS) before
    an iteration's last day; then the lowest project number, the owner's login, the field name."""
    found: list[tuple[tuple[int, int, str, str], Due]] = []
    for project in dataset.projects:
        for entry in project.items:
            if entry.content is not item or entry.repo is not repo:
                continue
            for name, value in entry.values.items():
                if isinstance(value, ProjectIteration):
                    kind, due = 2, value.last_day
                    evidence = f'Project "{project.title}", iteration "{value.title}" of field "{name}"'
                elif name.casefold() in DUE_FIELDS:
                    kind, due = 1, value
                    evidence = f'Project "{project.title}", field "{name}"'
                else:
                    continue  # "Start date": not a due date
                source = "project_date" if kind == 1 else "project_iteration"
                rank = (kind, project.number, project.owner.login, name)
                found.append(
                    (
                        rank,
                        Due(due, source, project.owner.login, project.number, project.title, name, evidence),
                    )
                )
    return min(found, key=lambda pair: pair[0])[1] if found else None


def _completed(item: Issue) -> bool:
    if item.pull is not None:
        return item.pull.merged_at is not None
    return item.state_reason not in ("not_planned", "duplicate")


def expected_outcome(item: Issue, due: date, as_of: date) -> tuple[str, int | None]:
    """The SPEC outcome of an assignee who was never unassigned."""
    if item.state == "open":
        return ("overdue" if as_of > due else "pending", None)
    assert item.closed_at is not None
    if not _completed(item):
        return ("dropped", None)
    closed = item.closed_at.date()
    return ("on_time", None) if closed <= due else ("late", (closed - due).days)


def expected_warned(item: Issue, login: str, due: date, as_of: datetime) -> bool:
    return any(
        e.event in ("commented", "milestoned", "demilestoned")
        and e.actor is not None
        and e.actor.login == login
        and e.created_at.replace(tzinfo=None) <= as_of
        and e.created_at.date() <= due
        for e in item.timeline
    )


def _unassigned(item: Issue) -> set[str]:
    return {e.assignee.login for e in item.timeline if e.event == "unassigned" and e.assignee}


def _scenario(dataset: Dataset, name: str) -> int:
    (pair,) = dataset.projects[0].scenarios[name]
    return pair[1]


def _roadmap_only_open_item(dataset: Dataset, repo: Repository) -> Issue:
    """An open, assigned issue that is on Roadmap with a Target date and nothing else, on no other
    project, and in no project scenario: its date is moved before it passes."""
    roadmap = dataset.project(dataset.org.login, 1)
    tagged = {n for pairs in roadmap.scenarios.values() for _, n in pairs}
    elsewhere = {id(e.content) for p in dataset.projects if p is not roadmap for e in p.items}
    for entry in roadmap.items:
        item = entry.content
        if (
            item.state == "open"
            and item.pull is None
            and item.assignees
            and not _unassigned(item)
            and item.number not in tagged
            and id(item) not in elsewhere
            and set(entry.values) == {"Target date"}
        ):
            return item
    raise AssertionError("the scenario has no open Roadmap-only item with a Target date")


# -- the end-to-end run -----------------------------------------------------------------------------


@dataclass
class Synced:
    dataset: Dataset
    db: Path
    first: Result
    second: Result
    before: dict[int, Due | None]  # each item's project due date as the first sync saw it
    after: dict[int, Due | None]  # ... and the second
    moved: int  # its date had passed when the second sync saw it moved
    replanned: int  # moved before it passed
    moved_from: date
    moved_to: date
    replanned_from: date
    replanned_to: date
    synced_at: datetime  # after both syncs


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    base = tmp_path_factory.mktemp("projects-e2e")
    dataset = generate_dataset(5, issues=120, prs=40)
    add_projects(dataset)
    repo = dataset.repositories[0]
    today = utc_now().date()
    moved = _scenario(dataset, "project_date_moved")  # Release plan "Due date": dataset.now + 10 days
    (moved_entry,) = [e for p in dataset.projects for e in p.items if e.content is repo.items[moved]]
    moved_from = moved_entry.values["Due date"]
    assert isinstance(moved_from, date) and moved_from < today  # 2025: passed by the first sync
    replanned = _roadmap_only_open_item(dataset, repo).number
    replanned_from, replanned_to, moved_to = (
        today + timedelta(days=20),
        today + timedelta(days=40),
        today + timedelta(days=30),
    )
    org = dataset.org.login
    dataset.set_project_value(org, 1, repo.full_name, replanned, "Target date", replanned_from)
    db = base / "perftrust.duckdb"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GITHUB_TOKEN", TOKEN)
        with GitHubServer(dataset, quota=10**9, graphql_quota=10**6, tokens={TOKEN}) as server:
            first = _sync(server, dataset, db)
            before = {i.number: project_due(dataset, repo, i) for i in repo.visible_items()}
            dataset.set_project_value(org, 2, repo.full_name, moved, "Due date", moved_to)
            dataset.set_project_value(org, 1, repo.full_name, replanned, "Target date", replanned_to)
            second = _sync(server, dataset, db)
            after = {i.number: project_due(dataset, repo, i) for i in repo.visible_items()}
            assert server.errors == []
            assert server.graphql.log and all(e.errors == () for e in server.graphql.log)
    yield Synced(
        dataset, db, first, second, before, after, moved, replanned, moved_from, moved_to,
        replanned_from, replanned_to, utc_now(),
    )  # fmt: skip


def _projects_step(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            """SELECT status, details->>'$.projects.status', CAST(details->>'$.projects.rows' AS INTEGER),
                      CAST(details->>'$.projects.items_asked' AS INTEGER), warnings
               FROM pipeline_run_steps WHERE step = 'github_sync'
               ORDER BY finished_at"""
        ).fetchall()


def test_each_sync_reads_the_projects_in_the_repositorys_step(synced: Synced) -> None:
    repo = synced.dataset.repositories[0]
    visible = sum(1 for _ in repo.visible_items())
    first, second = _projects_step(synced.db)
    # The first sync asks every item; the second only the two whose project entries changed (one
    # date moved after it passed, one before): the watch kept in the published GitHub cursor found
    # them, nothing else changed on GitHub.
    assert first[:4] == ("succeeded", "succeeded", visible, visible) and first[4] == []
    assert second[1:4] == ("succeeded", 2, 2) and second[4] == []
    assert second[0] == "succeeded"  # no issue changed, but two due dates did
    assert "Projects entries changed: 2 " in " ".join(synced.second.output.split())
    with duckdb.connect(str(synced.db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_github__project_items").fetchone() == (visible,)
        # Published with the GitHub source: the observations carry the key the issues do.
        rows = con.execute("SELECT DISTINCT repo FROM raw_github__project_due_observations").fetchall()
    assert rows == [(repo.full_name,)]


def test_commitments_as_of_the_scenarios_end(synced: Synced) -> None:
    dataset, repo = synced.dataset, synced.dataset.repositories[0]
    as_of = dataset.now.replace(tzinfo=None)  # before either sync: each item's first observation counts
    got = _commitments(synced.db, as_of)
    checked = 0
    sources: set[str] = set()
    warned: set[bool] = set()
    for (number, login), row in got.items():
        item = repo.items[number]
        due = synced.before[number]
        if due is None:  # no project date: the milestone's
            assert row["due_date_source"] == "milestone", number
            assert item.milestone is not None or any(e.event == "demilestoned" for e in item.timeline)
            milestone = repo.milestones[row["milestone_number"]]
            assert milestone.due_on is not None and row["due_date"] == milestone.due_on.date()
            assert row["due_evidence"] == f'Milestone "{milestone.title}"'
            assert (row["due_project_owner"], row["due_project_title"], row["due_field_name"]) == (None,) * 3
            continue
        assert (
            row["due_date"], row["due_date_source"], row["due_project_owner"], row["due_project_number"],
            row["due_project_title"], row["due_field_name"], row["due_evidence"],
        ) == (due.due_date, due.source, due.owner, due.number, due.title, due.field, due.evidence), number  # fmt: skip
        sources.add(due.source)
        assert row["due_moved_after_passed"] is False  # no sync had run by as_of
        if login in _unassigned(item) or "reopened" in {e.event for e in item.timeline}:
            continue
        outcome, slip = expected_outcome(item, due.due_date, as_of.date())
        assert (row["outcome"], row["slip_days"]) == (outcome, slip), (number, login)
        assert row["warned_before_due"] == expected_warned(item, login, due.due_date, as_of), (number, login)
        warned.add(row["warned_before_due"])
        checked += 1
    # Every assigned item with a project date has its commitments.
    for item in repo.visible_items():
        if synced.before[item.number] is not None:
            for person in item.assignees:
                assert (item.number, person.login) in got, (item.number, person.login)
    assert checked >= 15 and sources == {"project_date", "project_iteration"} and warned == {True, False}

    # The scenario's named cases, by hand.
    def only(number: int) -> dict[str, Any]:
        (row,) = [r for (n, _), r in got.items() if n == number][:1]
        return row

    dated = repo.items[_scenario(dataset, "project_date")]
    assert dated.closed_at is not None
    row = only(dated.number)
    assert (row["due_date"], row["outcome"], row["due_evidence"]) == (
        dated.closed_at.date() + timedelta(days=2), "on_time", 'Project "Roadmap", field "Target date"'
    )  # fmt: skip
    running = repo.items[_scenario(dataset, "project_iteration_running")]
    (sprint,) = [
        v for e in dataset.project(dataset.org.login, 1).items if e.content is running
        for v in e.values.values() if isinstance(v, ProjectIteration)
    ]  # fmt: skip
    assert sprint.start_date <= as_of.date() <= sprint.last_day  # still running at as_of
    row = only(running.number)
    assert (row["due_date"], row["due_date_source"], row["outcome"]) == (
        sprint.last_day,
        "project_iteration",
        "pending",
    )
    assert row["due_evidence"] == f'Project "Roadmap", iteration "{sprint.title}" of field "Sprint"'
    done = repo.items[_scenario(dataset, "project_iteration_done")]
    row = only(done.number)
    assert row["due_date_source"] == "project_iteration" and row["outcome"] == "late" and row["slip_days"] > 0
    two = repo.items[_scenario(dataset, "two_projects")]
    assert two.closed_at is not None
    row = only(two.number)  # Roadmap #1 (closed + 5: on time) wins over Release plan #2 (closed - 5)
    assert (row["due_date"], row["due_project_number"], row["outcome"]) == (
        two.closed_at.date() + timedelta(days=5), 1, "on_time"
    )  # fmt: skip
    over = repo.items[_scenario(dataset, "project_over_milestone")]
    assert over.closed_at is not None and over.milestone is not None and over.milestone.due_on is not None
    row = only(over.number)  # the project's date, not the milestone's
    assert (row["due_date"], row["outcome"], row["slip_days"]) == (
        over.closed_at.date() - timedelta(days=3),
        "late",
        3,
    )
    assert (
        row["milestone_number"] == over.milestone.number and over.milestone.due_on.date() != row["due_date"]
    )
    # A moved item judged before the move was seen: its first date, not moved.
    row = only(synced.moved)
    assert (row["due_date"], row["due_date_source"], row["due_moved_after_passed"]) == (
        synced.moved_from,
        "project_date",
        False,
    )


def test_a_date_moved_after_it_passed_and_one_moved_before(synced: Synced) -> None:
    as_of = synced.synced_at  # after the second sync: the latest observations count
    got = _commitments(synced.db, as_of)
    by_number: dict[int, list[dict[str, Any]]] = {}
    for (number, _), row in got.items():
        by_number.setdefault(number, []).append(row)
    # Moved from a date already past (2025) to one 30 days ahead, seen by the second sync.
    for row in by_number[synced.moved]:
        assert (
            row["due_date"], row["due_date_source"], row["due_evidence"], row["outcome"],
            row["due_moved_after_passed"],
        ) == (synced.moved_to, "project_date", 'Project "Release plan", field "Due date"', "pending", True)  # fmt: skip
    # Moved from 20 to 40 days ahead: re-planned before the date, not "moved after it passed".
    for row in by_number[synced.replanned]:
        assert (row["due_date"], row["outcome"], row["due_moved_after_passed"]) == (
            synced.replanned_to,
            "pending",
            False,
        )
    # No other project date moved: every other project-dated commitment stays unmoved.
    for number, rows in by_number.items():
        due = synced.after[number]
        if due is None or number in (synced.moved, synced.replanned):
            continue
        assert all(r["due_date"] == due.due_date and r["due_moved_after_passed"] is False for r in rows), (
            number
        )


def test_the_report_names_where_each_due_date_came_from(synced: Synced, tmp_path: Path) -> None:
    dataset, repo = synced.dataset, synced.dataset.repositories[0]
    with connect(synced.db) as con:
        compute_metrics(con, MetricSettings(as_of=synced.synced_at), families=FOLLOW, parallel=1)
    result = render_reports(synced.db, tmp_path / "report", ReportOptions())
    page = result.html_path.read_text(encoding="utf-8")
    # The iteration of this item ended in 2025: overdue now, listed with where its date came from.
    running = repo.items[_scenario(dataset, "project_iteration_running")]
    (sprint,) = [
        v for e in dataset.project(dataset.org.login, 1).items if e.content is running
        for v in e.values.values() if isinstance(v, ProjectIteration)
    ]  # fmt: skip
    login = running.assignees[0].login
    row = re.search(
        rf'<tr data-commitment="github:commitment:{re.escape(repo.full_name)}#{running.number}/{login}"'
        r' data-status="overdue".*?<td class="due-source" data-due-source>(.*?)</td>',
        page,
        re.S,
    )
    assert row, running.number
    assert html.unescape(row.group(1)) == f'Project "Roadmap", iteration "{sprint.title}" of field "Sprint"'
    assert "<th>Due date from</th>" in page
    summary = result.markdown_path.read_text(encoding="utf-8")
    assert "| due | status | item | assignee | due date from |" in summary


def test_a_commitments_evidence_names_its_milestone(tmp_path: Path) -> None:
    db = seed_small_db(tmp_path / "small.duckdb", metrics=False)
    with connect(db) as con:
        compute_metrics(con, MetricSettings(as_of=REPORT_AS_OF), families=FOLLOW, parallel=1)
    page = html.unescape(render_reports(db, tmp_path / "out", ReportOptions()).html_path.read_text("utf-8"))
    # alice's issue 1, milestone M1 due 2024-06-10: in her evidence, and in the attention list.
    assert 'due 2024-06-10, overdue, warned before the date; due date from Milestone "M1"' in page
    assert 'due 2024-06-10, late by 4 days; due date from Milestone "M1"' in page
    assert '<td class="due-source" data-due-source>Milestone "M1"</td>' in page


# -- a token without read:project ---------------------------------------------------------------------


def test_without_read_project_the_stage_is_skipped_with_a_warning_and_milestones_give_due_dates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    dataset = generate_dataset(5, issues=120, prs=40)
    add_projects(dataset)
    repo = dataset.repositories[0]
    db = tmp_path / "perftrust.duckdb"
    with GitHubServer(dataset, quota=10**9, graphql_quota=10**6, tokens={TOKEN}) as server:
        server.graphql.inject_error(
            "projectItems",
            type="INSUFFICIENT_SCOPES",
            message="Your token has not been granted the required scopes to execute this query. The "
            "'projectItems' field requires one of the following scopes: ['read:project'], but your token "
            "has only been granted the: ['repo'] scopes.",
            times=10**6,
        )
        result = _sync(server, dataset, db)
        asked = [e for e in server.graphql.log if e.operation.startswith("query perftrustProjectItems")]
    # One query found out, and the run summary says what happened and how to fix it.
    assert len(asked) == 1
    printed = " ".join(result.output.split())
    assert "INSUFFICIENT_SCOPES" in printed and "gh auth refresh -s read:project" in printed
    ((status, projects, rows, _, warnings),) = _projects_step(db)
    assert (status, projects, rows) == ("succeeded", "skipped", 0)
    (warning,) = warnings
    assert f"GitHub Projects due dates of {repo.full_name} were not read" in warning
    assert "gh auth refresh -s read:project" in warning
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_github__project_due_observations").fetchone() == (0,)
        assert con.execute("SELECT count(*) > 100 FROM raw_github__issues").fetchone() == (True,)
    got = _commitments(db, dataset.now.replace(tzinfo=None))
    assert got and {r["due_date_source"] for r in got.values()} == {"milestone"}
    for (number, _), row in got.items():
        milestone = repo.milestones[row["milestone_number"]]
        assert milestone.due_on is not None and row["due_date"] == milestone.due_on.date(), number
        assert row["due_evidence"] == f'Milestone "{milestone.title}"'
    over = repo.items[_scenario(dataset, "project_over_milestone")]
    assert over.milestone is not None and over.milestone.due_on is not None
    assert {r["due_date"] for (n, _), r in got.items() if n == over.number} == {over.milestone.due_on.date()}
    dated = _scenario(dataset, "project_date")  # its only due date is a project's: no commitment now
    assert not [n for n, _ in got if n == dated]


# -- configuration ------------------------------------------------------------------------------------


def test_due_date_fields_and_projects_are_configured_and_checked(tmp_path: Path) -> None:
    source = tmp_path / "perftrust.toml"
    assert settings_from_dict({}, source).github == GitHubConfig()
    assert GitHubConfig().due_date_fields == ("Due date", "Due", "Target date", "End date", "Deadline")
    assert GitHubConfig().projects == ()
    chosen = settings_from_dict(
        {"github": {"due_date_fields": ["Deadline"], "projects": ["acme/1", "octocat/12"]}}, source
    ).github
    assert (chosen.due_date_fields, chosen.projects) == (("Deadline",), ("acme/1", "octocat/12"))
    for bad in ("acme", "acme/roadmap", "acme/0", "https://github.com/orgs/acme/projects/3/views/1", 7):
        with pytest.raises(ConfigError) as raised:
            settings_from_dict({"github": {"projects": ["acme/2", bad]}}, source)
        assert repr(bad) in str(raised.value) and "owner/number" in str(raised.value)
        assert raised.value.fix and 'projects = ["acme/1"]' in raised.value.fix
    with pytest.raises(ConfigError) as raised:
        settings_from_dict(
            {"github": {"projects": ["https://github.com/orgs/acme/projects/3/views/1"]}}, source
        )
    assert raised.value.fix and '"acme/3" for that address' in raised.value.fix
    with pytest.raises(ConfigError, match="due_date_fields"):
        settings_from_dict({"github": {"due_date_fields": ["Due", ""]}}, source)


# -- an older database ----------------------------------------------------------------------------------

# fct_commitments as the schema before GitHub Projects due dates created it.
OLD_COMMITMENTS = """CREATE TABLE fct_commitments (
    commitment_key VARCHAR PRIMARY KEY, repo VARCHAR NOT NULL, number INTEGER NOT NULL,
    item_key VARCHAR NOT NULL, is_pull_request BOOLEAN NOT NULL, assignee_login VARCHAR NOT NULL,
    contributor_id VARCHAR, is_assignee_bot BOOLEAN NOT NULL, milestone_number INTEGER,
    due_date_source VARCHAR NOT NULL, due_date DATE NOT NULL, assigned_at TIMESTAMP, unassigned_at TIMESTAMP,
    closed_at TIMESTAMP, outcome VARCHAR NOT NULL, slip_days BIGINT, warned_before_due BOOLEAN NOT NULL,
    due_moved_after_passed BOOLEAN NOT NULL, html_url VARCHAR)"""


def test_an_older_fct_commitments_gets_the_due_date_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = connect(path)
    con.execute("DROP TABLE fct_commitments")
    con.execute(OLD_COMMITMENTS)
    con.execute(
        "INSERT INTO fct_commitments VALUES ('github:commitment:a/b#1/x', 'a/b', 1, 'github:issue:a/b#1', false, "
        "'x', NULL, false, 1, 'milestone', DATE '2024-03-01', NULL, NULL, NULL, 'overdue', NULL, false, false, NULL)"
    )
    con.execute(
        "INSERT INTO metric_runs VALUES (TIMESTAMP '2024-03-31 12:00', TIMESTAMP '2024-03-31 23:59:59', "
        "DATE '2024-03-31', DATE '2024-01-02', 90, 5, 'UTC', 48.0, false, false)"
    )
    con.execute("UPDATE pipeline_schema SET fingerprint = 'before-project-due-dates'")
    con.close()
    with connect(path) as con:  # the schema scripts run again: the changed table is made anew
        columns = [r[0] for r in con.execute("DESCRIBE fct_commitments").fetchall()]
        assert columns[columns.index("due_date") + 1 :][:5] == [
            "due_project_owner", "due_project_number", "due_project_title", "due_field_name", "due_evidence",
        ]  # fmt: skip
        assert con.execute("SELECT count(*) FROM fct_commitments").fetchall() == [(0,)]
        # ... and its last metrics no longer pass for current: the next run computes them again.
        assert con.execute("SELECT as_of_date FROM metric_runs").fetchall() == [(date(1970, 1, 1),)]


def test_a_report_on_a_database_not_yet_updated_shows_no_source(tmp_path: Path) -> None:
    """`perftrust report` opens the database read-only: one written before due_evidence existed (its
    schema is updated by the next run or metrics) still renders, without the sources."""
    db = seed_small_db(tmp_path / "small.duckdb", metrics=False)
    with connect(db) as con:
        compute_metrics(con, MetricSettings(as_of=REPORT_AS_OF), families=FOLLOW, parallel=1)
        con.execute("ALTER TABLE fct_commitments DROP COLUMN due_evidence")
    page = html.unescape(render_reports(db, tmp_path / "out", ReportOptions()).html_path.read_text("utf-8"))
    assert "due 2024-06-10, overdue, warned before the date)" in page and "due date from" not in page
    assert '<td class="due-source" data-due-source></td>' in page


# -- a projects read that fails, a GraphQL budget used up ------------------------------------------------


def _client(server: GitHubServer) -> GitHubClient:
    return GitHubClient(
        TOKEN,
        ClientSettings(base_url=server.base_url, backoff_seconds=0.01, max_retries=1),
        sleep=lambda _: None,
    )


def test_a_failed_projects_read_is_a_warning_and_the_issues_stay(tmp_path: Path) -> None:
    dataset = generate_dataset(7, issues=30, prs=10)
    add_projects(dataset)
    full_name = dataset.repositories[0].full_name
    con = connect(tmp_path / "failed.duckdb")
    settings = Settings(github=GitHubConfig(api="rest"))  # then every GraphQL query is the projects stage's
    with GitHubServer(dataset, quota=10**9, tokens={TOKEN}) as server:
        server.inject(r"/graphql$", status=502, times=10**6)
        summary = run_sync(con, settings, [], github_repositories=[full_name], github_client=_client(server))
    (step,) = summary.steps
    assert summary.status == "succeeded" and step.status == "succeeded"
    assert step.details["projects"]["status"] == "failed" and step.details["projects"]["rows"] == 0
    (warning,) = step.warnings
    assert warning.startswith(f"GitHub Projects due dates of {full_name} were not read this run: ")
    assert "its issues and pull requests were synced" in warning
    visible = sum(1 for _ in dataset.repositories[0].visible_items())
    assert con.execute("SELECT count(*) FROM raw_github__issues").fetchone() == (visible,)
    assert con.execute("SELECT count(*) FROM raw_github__project_items").fetchone() == (0,)
    assert con.execute("SELECT warnings FROM pipeline_run_steps").fetchall() == [([warning],)]


def test_a_used_up_graphql_budget_in_the_projects_stage_stops_the_rest_cleanly(tmp_path: Path) -> None:
    dataset = generate_dataset(7, repos=2, issues=30, prs=10)
    add_projects(dataset)
    first, second = (r.full_name for r in dataset.repositories)
    con = connect(tmp_path / "budget.duckdb")
    settings = Settings(github=GitHubConfig(api="rest"))
    with GitHubServer(dataset, quota=10**9, tokens={TOKEN}) as server:
        server.graphql.exhaust(TOKEN, reset_at=time.time() + 3 * 3600)  # longer than max_rate_limit_wait
        summary = run_sync(
            con, settings, [], github_repositories=[first, second], github_client=_client(server)
        )
    one, two = summary.steps
    assert (one.repo, one.status, one.details["projects"]["status"]) == (first, "succeeded", "failed")
    assert "GraphQL" in one.warnings[0] and "were not read this run" in one.warnings[0]
    assert (two.repo, two.status) == (second, "failed")
    assert two.error_message and two.error_message.startswith("not synced: ")
    assert summary.status == "partial"
    # The first repository's issues are kept; the second was not asked at all.
    assert con.execute("SELECT DISTINCT repo FROM raw_github__issues").fetchall() == [(first,)]


def test_pseudonyms_leave_the_field_names_alone(synced: Synced) -> None:
    """--pseudonymize hides every column named *_name; due_field_name names a project field. The
    project's owner may be a person (a user's board): it is hidden."""
    with connect(synced.db) as con:
        compute_metrics(
            con, MetricSettings(as_of=synced.synced_at, pseudonymize=True), families=FOLLOW, parallel=1
        )
        fields = {r[0] for r in con.execute("SELECT DISTINCT due_field_name FROM fct_commitments").fetchall()}
        logins = {r[0] for r in con.execute("SELECT DISTINCT assignee_login FROM fct_commitments").fetchall()}
        owners = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT due_project_owner FROM fct_commitments WHERE due_project_owner IS NOT NULL"
            ).fetchall()
        }
    assert (
        {"Target date", "Due date", "Sprint"}
        <= fields
        <= {None, "Target date", "Due date", "Sprint", "End date"}
    )
    assert all(login.startswith("person-") for login in logins)
    assert owners and all(owner.startswith("person-") for owner in owners)
    assert (
        not is_personal("due_field_name")
        and is_personal("assignee_login")
        and is_personal("due_project_owner")
    )
