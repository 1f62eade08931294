"""GitHub sync against the local GitHub-compatible server: correctness, request economy, faults, kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.db import connect
from pipeline.github_client import ClientSettings, GitHubClient
from pipeline.github_sync import GitHubSyncOptions, sync_github_repository
from pipeline.runs import StepResult, start_run
from tests.support.github_scenario import Dataset, generate_dataset, minimum_requests
from tests.support.github_server import GitHubServer

TOKEN = "valid-token"
# What a re-run must reproduce: every raw table except the envelope columns that name a run.
RAW_TABLES = {
    "raw_github__repositories": "repo, full_name, payload",
    "raw_github__issues": "repo, number, is_pull_request, updated_at, payload, gone_reason",
    "raw_github__timeline_events": "repo, issue_number, event_index, event, payload",
    "raw_github__pull_requests": "repo, number, updated_at, payload",
    "raw_github__reviews": "repo, pull_number, review_id, payload",
    "raw_github__review_comments": "repo, comment_id, updated_at, payload",
    "raw_github__milestones": "repo, number, payload, deleted_at IS NULL",
    "raw_github__due_date_observations": "repo, milestone_number, due_on",
}


# What users query. Payloads embed counters of other objects (a milestone's open_issues, the repo's
# open_issues_count inside head/base) that change without the item's updated_at changing, on GitHub
# too; so an incremental run is compared with a fresh one on the typed facts, not payload bytes.
FACTS = {
    "fct_issues": "* EXCLUDE (updated_at)",
    "fct_pull_requests": "*",
    "fct_reviews": "*",
    "fct_review_requests": "*",
    "fct_milestones": "* EXCLUDE (state)",
    "stg_github__timeline_events": "* EXCLUDE (fetched_at, run_id)",
    "stg_github__review_comments": "* EXCLUDE (fetched_at, run_id)",
}


def facts(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: con.execute(f"SELECT {cols} FROM {table} ORDER BY ALL").fetchall()
        for table, cols in FACTS.items()
    }


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
        for table, columns in RAW_TABLES.items()
    }


class Harness:
    """A dataset, the server serving it, and a sync function with no real sleeping."""

    def __init__(self, dataset: Dataset, server: GitHubServer, tmp_path: Path) -> None:
        self.dataset = dataset
        self.server = server
        self.tmp_path = tmp_path
        self.full_name = dataset.repositories[0].full_name
        self.waits: list[float] = []

    def client(self, token: str = TOKEN, **settings: Any) -> GitHubClient:
        return GitHubClient(
            token,
            ClientSettings(base_url=self.server.base_url, backoff_seconds=0.01, **settings),
            sleep=self.waits.append,
        )

    def sync(
        self, con: duckdb.DuckDBPyConnection, client: GitHubClient | None = None, **options: Any
    ) -> StepResult:
        return sync_github_repository(
            con,
            client or self.client(),
            self.full_name,
            start_run(con, "test"),
            GitHubSyncOptions(commit_logins=False, **options),
        )

    def fresh_db(self, name: str) -> duckdb.DuckDBPyConnection:
        return connect(self.tmp_path / f"{name}.duckdb")


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    dataset = generate_dataset(11, repos=2)
    with GitHubServer(dataset, quota=10**9) as server:
        yield Harness(dataset, server, tmp_path)
        assert server.errors == []


def test_full_sync_matches_the_dataset(harness: Harness) -> None:
    con = harness.fresh_db("full")
    result = harness.sync(con)
    assert result.status == "succeeded"
    repo = harness.dataset.repo(harness.full_name)
    visible = list(repo.visible_items())
    issues = [i for i in visible if i.pull is None]
    pulls = [i for i in visible if i.pull is not None]
    assert con.execute("SELECT count(*) FROM fct_issues").fetchall()[0][0] == len(issues)
    assert con.execute("SELECT count(*) FROM fct_pull_requests").fetchall()[0][0] == len(pulls)
    # Review requests: every ground-truth outcome lands as the SPEC status.
    expected = {
        (item.number, rr.reviewer.login, rr.requested_at.replace(tzinfo=None)): {
            "answered": "answered", "answered_late": "answered", "ignored": "unanswered", "removed": "removed"
        }[rr.outcome]
        for item in pulls
        for rr in item.pull.review_requests  # type: ignore[union-attr]
    }  # fmt: skip
    got = {
        (n, login, at): status
        for n, login, at, status in con.execute(
            "SELECT pull_number, reviewer_login, requested_at, status FROM fct_review_requests "
            "WHERE reviewer_login IS NOT NULL"
        ).fetchall()
    }
    assert got == expected
    assert set(expected.values()) == {"answered", "unanswered", "removed"}
    # Answer times, by SPEC: the reviewer's first review (any state) after the request, unless the
    # request was removed first. (The generator's own answered_at counts only decisive reviews.)
    answered = {}
    for item in pulls:
        for rr in item.pull.review_requests:  # type: ignore[union-attr]
            first = min(
                (v.submitted_at for v in item.pull.reviews  # type: ignore[union-attr]
                 if v.user is not None and v.user.login == rr.reviewer.login and v.submitted_at >= rr.requested_at),
                default=None,
            )  # fmt: skip
            if first is not None and (rr.removed_at is None or first <= rr.removed_at):
                answered[(item.number, rr.reviewer.login, rr.requested_at.replace(tzinfo=None))] = (
                    first.replace(tzinfo=None)
                )
    got_answers = {
        (n, login, requested): at
        for n, login, requested, at in con.execute(
            "SELECT pull_number, reviewer_login, requested_at, answered_at FROM fct_review_requests "
            "WHERE status = 'answered'"
        ).fetchall()
    }
    assert got_answers == answered
    # Milestones: the due date is the UTC date part of due_on.
    milestones = {m.number: m.due_on.date() if m.due_on else None for m in repo.live_milestones()}
    assert dict(con.execute("SELECT number, due_date FROM fct_milestones").fetchall()) == milestones
    # Deleted forks, ghosts, NUL bytes.
    forks = {i.number for i in pulls if i.pull.head_repo is None}  # type: ignore[union-attr]
    assert {
        r[0]
        for r in con.execute(
            "SELECT number FROM fct_pull_requests WHERE head_repo_full_name IS NULL"
        ).fetchall()
    } == forks
    ghosts = {i.number for i in issues if i.user is None}
    assert ghosts <= {
        r[0] for r in con.execute("SELECT number FROM fct_issues WHERE author_login IS NULL").fetchall()
    }
    assert (
        con.execute("SELECT count(*) FROM stg_github__issues WHERE contains(body, chr(0))").fetchall()[0][0]
        == 0
    )


def test_request_budget_and_free_no_change_resync(harness: Harness) -> None:
    con = harness.fresh_db("budget")
    repo = harness.dataset.repo(harness.full_name)
    minimum = minimum_requests(harness.dataset, repo)
    harness.server.reset_log()
    first = harness.sync(con)
    assert first.count_api_requests == len(harness.server.requests)
    assert minimum <= first.count_api_requests <= 1.1 * minimum, (first.count_api_requests, minimum)

    harness.server.reset_log()
    again = harness.sync(con)
    statuses = [r.status for r in harness.server.requests]
    assert again.status == "unchanged"
    assert statuses and set(statuses) == {304}, statuses
    assert all(not r.counted for r in harness.server.requests)
    assert again.count_not_modified == len(statuses) <= 8


def test_incremental_sync_fetches_only_what_changed_and_equals_a_fresh_sync(harness: Harness) -> None:
    con = harness.fresh_db("incremental")
    harness.sync(con)
    change = harness.dataset.advance(5, hours=30, fraction_updated=0.05, new_issues=3, new_prs=2)
    touched = set(change.updated[harness.full_name]) | set(change.created[harness.full_name])
    harness.server.reset_log()
    result = harness.sync(con)
    timelines = [r.path for r in harness.server.requests if r.path.endswith("/timeline")]
    assert result.count_rows_added == len(touched) == len(timelines)
    assert len(harness.server.requests) <= len(touched) * 2 + 15

    fresh = harness.fresh_db("fresh")
    harness.sync(fresh)
    assert facts(con) == facts(fresh)


def test_moved_due_dates_build_a_history(harness: Harness) -> None:
    con = harness.fresh_db("due")
    harness.sync(con)
    repo = harness.dataset.repo(harness.full_name)
    milestone = next(m for m in repo.live_milestones() if m.due_on)
    old_due = milestone.due_on
    assert old_due is not None
    harness.dataset.change_milestone_due(repo.full_name, milestone.number, old_due + timedelta(days=14))
    harness.sync(con)
    history = con.execute(
        "SELECT due_date FROM fct_due_date_observations WHERE milestone_number = ? ORDER BY first_observed_at",
        [milestone.number],
    ).fetchall()
    assert history == [(old_due.date(),), ((old_due + timedelta(days=14)).date(),)]


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "times": 2},
        {"status": 502},
        {"status": 503},
        {"truncate": True},
        {"non_json": True},
        {"disconnect": True},
        {"status": 403},  # secondary rate limit with Retry-After
        {"status": 429},
    ],
    ids=["500x2", "502", "503", "truncated", "non-json", "disconnect", "secondary-403", "429"],
)
def test_transient_faults_are_retried_and_lose_nothing(harness: Harness, fault: dict[str, Any]) -> None:
    reference = harness.fresh_db("reference")
    harness.sync(reference)
    harness.server.inject(r"/issues/\d+/timeline$", **fault)
    harness.server.inject(r"/issues$", **fault)
    con = harness.fresh_db("faulty")
    result = harness.sync(con)
    assert result.status == "succeeded"
    assert result.details["retries"] >= 2
    assert harness.server.pending_faults == 0
    assert snapshot(con) == snapshot(reference)
    if fault.get("status") in (403, 429):
        assert 60.0 in harness.waits  # GitHub's Retry-After, waited (here: recorded, not slept)


def test_timeouts_are_retried(harness: Harness) -> None:
    harness.server.inject(r"/milestones$", delay=1.5)
    con = harness.fresh_db("timeout")
    result = harness.sync(con, client=harness.client(timeout=0.5))
    assert result.status == "succeeded" and result.details["retries"] >= 1


def test_primary_rate_limit_far_away_stops_cleanly_and_resumes(harness: Harness) -> None:
    con = harness.fresh_db("limited")
    harness.server.quota = 200  # runs out part-way through the second page's timelines
    harness.server.reset_at = int(time.time()) + 3 * 3600
    from pipeline.github_client import RateLimited

    with pytest.raises(RateLimited) as info:
        harness.sync(con)
    assert "run again after the reset" in str(info.value)
    assert harness.waits == []  # never slept hours
    kept = con.execute("SELECT count(*) FROM raw_github__issues").fetchall()[0][0]
    assert kept > 0  # pages already committed stay
    harness.server.reset_quota()
    harness.server.quota = 10**9
    harness.sync(con)
    reference = harness.fresh_db("reference")
    harness.sync(reference)
    assert snapshot(con) == snapshot(reference)


def test_primary_rate_limit_soon_is_waited_out(harness: Harness) -> None:
    harness.server.quota = 50
    harness.server.reset_at = int(time.time()) + 30
    harness.server.used = 0
    con = harness.fresh_db("wait")
    client = harness.client()

    original = harness.waits.append

    def wait_and_reset(seconds: float) -> None:  # time passes: a new window opens, again 30 s long
        original(seconds)
        harness.server.reset_quota()
        harness.server.reset_at = int(time.time()) + 30

    client._sleep = wait_and_reset
    assert harness.sync(con, client=client).status == "succeeded"
    assert any(20 <= w <= 32 for w in harness.waits)


def test_bad_token_is_a_clear_error_without_the_token(harness: Harness) -> None:
    from pipeline.github_client import BadCredentials

    con = harness.fresh_db("badtoken")
    with pytest.raises(BadCredentials) as info:
        harness.sync(con, client=harness.client(token="ghp_not-a-valid-token-123"))
    assert "ghp_not-a-valid-token-123" not in str(info.value)
    assert "GITHUB_TOKEN" in str(info.value)


def test_renamed_repository_is_followed_with_a_warning(harness: Harness) -> None:
    con = harness.fresh_db("renamed")
    old = harness.full_name
    harness.server.rename_repo(old, "engine-renamed")
    result = harness.sync(con)
    assert result.status == "succeeded"
    assert any("renamed" in w for w in result.warnings)
    assert con.execute("SELECT DISTINCT repo FROM raw_github__issues").fetchall() == [(old,)]
    assert con.execute("SELECT count(*) FROM raw_github__issues").fetchall()[0][0] > 100


def test_deleted_repository_and_deleted_milestone(harness: Harness) -> None:
    from pipeline.github_client import NotFound

    con = harness.fresh_db("deleted")
    harness.sync(con)
    repo = harness.dataset.repo(harness.full_name)
    milestone = next(iter(repo.live_milestones()))
    harness.server.delete_milestone(repo.full_name, milestone.number)
    harness.sync(con)
    assert con.execute(
        "SELECT is_deleted FROM fct_milestones WHERE number = ?", [milestone.number]
    ).fetchall() == [(True,)]
    harness.server.delete_repo(repo.full_name)
    with pytest.raises(NotFound, match="deleted, renamed away, or not visible"):
        harness.sync(con)
    assert con.execute("SELECT count(*) FROM fct_issues").fetchall()[0][0] > 0  # nothing lost


def test_transferred_issue_is_marked(harness: Harness) -> None:
    con = harness.fresh_db("transfer")
    repo = harness.dataset.repo(harness.full_name)
    transferred = [i for i in repo.items.values() if i.transferred_to is not None]
    assert transferred
    # Sync a snapshot that still has them: pretend the transfer happened after the first sync.
    saved = {i.number: i.transferred_to for i in transferred}
    for item in transferred:
        item.transferred_to = None
    harness.dataset.version += 1
    harness.sync(con)
    for item in transferred:
        item.transferred_to = saved[item.number]
    harness.dataset.version += 1
    result = harness.sync(con)
    gone = dict(
        con.execute(
            "SELECT number, gone_reason FROM raw_github__issues WHERE gone_reason IS NOT NULL"
        ).fetchall()
    )
    assert set(gone) == {i.number for i in transferred if i.state == "open"}
    assert all(reason.startswith("transferred:") for reason in gone.values())
    assert any("left" in w for w in result.warnings)


KILLED_SYNC = """
import sys
from pathlib import Path
from pipeline.db import connect
from pipeline.github_client import ClientSettings, GitHubClient
from pipeline.github_sync import GitHubSyncOptions, sync_github_repository
from pipeline.runs import start_run
con = connect(Path(sys.argv[1]))
client = GitHubClient("valid-token", ClientSettings(base_url=sys.argv[2]))
sync_github_repository(con, client, sys.argv[3], start_run(con, "killed"), GitHubSyncOptions(commit_logins=False))
print("finished")
"""


@pytest.mark.parametrize("kill_after", [2, 40, 150, 300])
def test_killed_at_any_point_then_rerun_equals_an_uninterrupted_run(
    harness: Harness, kill_after: int
) -> None:
    db = harness.tmp_path / "killed.duckdb"
    harness.server.reset_log()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(KILLED_SYNC),
            str(db),
            harness.server.base_url,
            harness.full_name,
        ],
        cwd=Path(__file__).parent.parent,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    deadline = time.time() + 60
    while len(harness.server.requests) < kill_after and child.poll() is None and time.time() < deadline:
        time.sleep(0.001)
    child.send_signal(signal.SIGKILL)
    child.wait()
    con = connect(db)
    harness.sync(con)
    reference = harness.fresh_db("reference")
    harness.sync(reference)
    assert snapshot(con) == snapshot(reference)


def test_cli_syncs_github_and_never_stores_the_token(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    db = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(
        main,
        ["sync", "--github", harness.full_name, "--github-url", harness.server.base_url, "--db", str(db)],
    )
    assert result.exit_code == 0, result.output
    assert "GitHub items updated" in result.output and TOKEN not in result.output
    con = duckdb.connect(str(db), read_only=True)
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall():
        text = str(con.execute(f"SELECT * FROM {table}").fetchall())
        assert TOKEN not in text, table
    steps = con.execute(
        "SELECT step, status, count_api_requests, count_rows_added, details->>'$.graphql_queries' "
        "FROM pipeline_run_steps"
    ).fetchall()
    step, status, requests, rows, queries = steps[0]
    assert (step, status) == ("github_sync", "succeeded") and rows > 100
    # Through GraphQL, the default: a few queries (they spend points, not the REST quota) and REST requests.
    assert 2 <= int(queries) < requests < 50
    run = con.execute(
        "SELECT count_api_requests, count_not_modified, rate_limit_remaining FROM pipeline_runs"
    ).fetchall()
    assert run == [(requests, 0, 10**9 - (requests - int(queries)))]
    logins = con.execute("SELECT count(*) FROM dim_identities WHERE source = 'github'").fetchall()[0][0]
    assert logins > 5
    bad = CliRunner().invoke(main, ["sync", "--github", "not a repo", "--db", str(db)])
    assert bad.exit_code == 2 and "owner/name" in bad.output


def test_github_org_syncs_every_repository(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    db = tmp_path / "org.duckdb"
    result = CliRunner().invoke(
        main,
        [
            "sync",
            "--github-org",
            harness.dataset.org.login,
            "--github-url",
            harness.server.base_url,
            "--db",
            str(db),
        ],
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    synced = {r[0] for r in con.execute("SELECT DISTINCT repo FROM raw_github__issues").fetchall()}
    assert synced == {r.full_name for r in harness.dataset.repositories} and len(synced) == 2
