"""Real recorded GitHub payloads through the extractor: what lands in DuckDB, field by field."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.db import connect
from pipeline.github_client import BadCredentials, ClientSettings, GitHubClient, GitHubError, RateLimited
from pipeline.github_sync import GitHubSyncOptions, parse_time, sync_github_repository
from pipeline.runs import start_run
from tests.support.recordings import (
    Exchange,
    ReplayServer,
    devlake_ants_exchanges,
    duckdb_issue_exchanges,
    json_exchange,
    load_pygithub_replay,
    missing_reason,
    paginate,
    recordings_root,
)

pytestmark = pytest.mark.skipif(recordings_root() is None, reason=missing_reason())

# The extractor adds sort/direction/since to list requests; synthetic listings ignore them.
IGNORED = {"sort", "direction", "since", "state", "type"}


def _client(server: ReplayServer, token: str = "recorded-token", **settings: Any) -> GitHubClient:
    waits: list[float] = []
    client = GitHubClient(token, ClientSettings(base_url=server.base_url, **settings), sleep=waits.append)
    client.waits = waits  # type: ignore[attr-defined]
    return client


def _sync(con: duckdb.DuckDBPyConnection, server: ReplayServer, full_name: str) -> Any:
    return sync_github_repository(
        con,
        _client(server),
        full_name,
        start_run(con, "test"),
        GitHubSyncOptions(concurrency=1, commit_logins=False),
    )


def _with_empty_lists(exchanges: list[Exchange], full_name: str) -> list[Exchange]:
    """Recordings hold some endpoints only: the others answer an empty list, as for a quiet repository."""
    routes = {ex.route for ex in exchanges}
    extra = [
        page
        for route in ("milestones", "issues", "pulls", "pulls/comments")
        if f"/repos/{full_name}/{route}" not in routes
        for page in paginate(f"/repos/{full_name}/{route}", [])
    ]
    return [*exchanges, *extra]


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return connect(tmp_path / "replay.duckdb")


def test_real_duckdb_issues_land_field_by_field(con: duckdb.DuckDBPyConnection) -> None:
    exchanges = duckdb_issue_exchanges()
    issues: list[dict[str, Any]] = next(
        ex.json() for ex in exchanges if ex.route == "/repos/duckdb/duckdb/issues"
    )
    with ReplayServer(_with_empty_lists(exchanges, "duckdb/duckdb"), ignore_params=IGNORED) as server:
        result = _sync(con, server, "duckdb/duckdb")
    assert result.status == "succeeded"
    rows = {
        r[0]: r
        for r in con.execute(
            """SELECT number, title, state, state_reason, author_login, assignee_logins, label_names,
                      created_at, closed_at, is_pull_request, milestone_number
               FROM stg_github__issues WHERE repo = 'duckdb/duckdb'"""
        ).fetchall()
    }
    assert len(rows) == len(issues) == 100
    for issue in issues:
        assert rows[issue["number"]] == (
            issue["number"],
            issue["title"].replace("\0", ""),
            issue["state"],
            issue.get("state_reason"),
            (issue.get("user") or {}).get("login"),
            [a["login"] for a in issue.get("assignees") or []],
            [label["name"] for label in issue.get("labels") or []],
            parse_time(issue["created_at"]),
            parse_time(issue.get("closed_at")),
            "pull_request" in issue,
            (issue.get("milestone") or {}).get("number"),
        ), issue["number"]
    kept_apart = con.execute("SELECT count(*) FROM fct_issues WHERE repo = 'duckdb/duckdb'").fetchall()[0][0]
    assert kept_apart == sum(1 for i in issues if "pull_request" not in i)


def test_devlake_ants_pull_requests_reviews_and_deleted_forks(con: duckdb.DuckDBPyConnection) -> None:
    exchanges = devlake_ants_exchanges()
    pulls = [p for ex in exchanges if ex.route == "/repos/panjf2000/ants/pulls" for p in ex.json()]
    reviews = {
        int(ex.route.split("/")[-2]): ex.json()
        for ex in exchanges
        if ex.route.startswith("/repos/panjf2000/ants/pulls/") and ex.route.endswith("/reviews")
    }
    with ReplayServer(
        _with_empty_lists(exchanges, "panjf2000/ants"), ignore_params=IGNORED, ignore_paging=True
    ) as server:
        result = _sync(con, server, "panjf2000/ants")
    assert result.status == "succeeded"
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT number, is_merged, head_repo_full_name, author_login, merged_at FROM fct_pull_requests"
        ).fetchall()
    }
    assert len(got) == len({p["number"] for p in pulls})
    for pull in pulls:
        head_repo = (pull.get("head") or {}).get("repo")
        assert got[pull["number"]] == (
            pull.get("merged_at") is not None,
            head_repo["full_name"] if head_repo else None,
            (pull.get("user") or {}).get("login"),
            parse_time(pull.get("merged_at")),
        )
    assert sum(1 for v in got.values() if v[1] is None) >= 10  # deleted forks: head.repo null
    # Reviews are fetched for the pull requests the issues list shows as changed.
    pr_items = {
        i["number"]
        for ex in exchanges
        if ex.route == "/repos/panjf2000/ants/issues"
        for i in ex.json()
        if "pull_request" in i
    }
    expected_reviews = {(n, r["id"], r["state"]) for n, rs in reviews.items() if n in pr_items for r in rs}
    loaded = set(con.execute("SELECT pull_number, review_id, state FROM fct_reviews").fetchall())
    assert loaded == expected_reviews and loaded


def test_recorded_milestone_due_on_becomes_a_utc_date(con: duckdb.DuckDBPyConnection) -> None:
    recorded = load_pygithub_replay("Repository.testGetMilestones")
    milestones = next(ex.json() for ex in recorded if "/milestones" in ex.route)
    repo = next(ex for ex in load_pygithub_replay("Issue.setUp") if ex.route.count("/") == 3).json()
    full_name = repo["full_name"]
    exchanges = [
        json_exchange(f"/repos/{full_name}", repo, "Issue.setUp"),
        *paginate(f"/repos/{full_name}/milestones", milestones, source="Repository.testGetMilestones"),
    ]
    with ReplayServer(
        _with_empty_lists(exchanges, full_name), ignore_params=IGNORED, ignore_paging=True
    ) as server:
        _sync(con, server, full_name)
    rows = con.execute(
        "SELECT number, title, due_on, due_date FROM fct_milestones ORDER BY number"
    ).fetchall()
    assert rows == [
        (
            m["number"],
            m["title"],
            parse_time(m.get("due_on")),
            parse_time(m["due_on"]).date() if m.get("due_on") else None,  # type: ignore[union-attr]
        )
        for m in sorted(milestones, key=lambda m: m["number"])
    ]
    assert any(r[3] == date(2012, 6, 4) for r in rows)  # due_on 2012-06-04T07:00:00Z
    observed = con.execute("SELECT count(*) FROM fct_due_date_observations").fetchall()[0][0]
    assert observed == len(milestones)


def test_recorded_timeline_events_are_typed(con: duckdb.DuckDBPyConnection) -> None:
    recorded = load_pygithub_replay("Issue.testGetTimeline")
    timeline = next(ex for ex in recorded if ex.route.endswith("/timeline")).json()
    issue_ex = load_pygithub_replay("Issue.setUp")
    repo = next(ex for ex in issue_ex if ex.route.count("/") == 3).json()
    issue = next(ex for ex in issue_ex if "/issues/" in ex.route).json()
    full_name, number = repo["full_name"], issue["number"]
    exchanges = [
        json_exchange(f"/repos/{full_name}", repo, "Issue.setUp"),
        *paginate(f"/repos/{full_name}/issues", [issue]),
        *paginate(f"/repos/{full_name}/issues/{number}/timeline", timeline),
    ]
    with ReplayServer(
        _with_empty_lists(exchanges, full_name), ignore_params=IGNORED, ignore_paging=True
    ) as server:
        _sync(con, server, full_name)
    rows = con.execute(
        "SELECT event, actor_login, created_at, assignee_login, milestone_title, body "
        "FROM stg_github__timeline_events ORDER BY event_index"
    ).fetchall()
    assert len(rows) == len(timeline)
    for row, event in zip(rows, timeline, strict=True):
        assert row == (
            event.get("event"),
            (event.get("actor") or event.get("user") or {}).get("login"),
            parse_time(event.get("created_at") or event.get("submitted_at")),
            (event.get("assignee") or {}).get("login"),
            (event.get("milestone") or {}).get("title"),
            event.get("body"),
        )


def test_recorded_bad_credentials_never_echo_the_token() -> None:
    recorded = [ex for ex in load_pygithub_replay("Exceptions.testBadAuthentication") if ex.status == 401]
    exchange = Exchange("GET", "/repos/o/r", 401, recorded[0].headers, recorded[0].body, recorded[0].source)
    with ReplayServer([exchange]) as server, pytest.raises(BadCredentials) as info:
        _client(server, token="ghp_secret123").get("/repos/o/r")
    assert "ghp_secret123" not in str(info.value) and "GITHUB_TOKEN" in str(info.value)


def test_recorded_primary_rate_limit_stops_cleanly_when_the_reset_is_far() -> None:
    recorded = [
        ex for ex in load_pygithub_replay("SpecificExceptions.testRateLimitExceeded") if ex.status == 403
    ]
    headers = {**recorded[0].headers, "X-RateLimit-Reset": str(int(datetime.now().timestamp()) + 7200)}
    exchange = Exchange("GET", "/repos/o/r", 403, headers, recorded[0].body, recorded[0].source)
    with ReplayServer([exchange]) as server:
        client = _client(server, max_rate_limit_wait=60)
        with pytest.raises(RateLimited) as info:
            client.get("/repos/o/r")
    assert info.value.reset_at is not None and "run again" in str(info.value)
    assert client.waits == []  # type: ignore[attr-defined]


def test_recorded_secondary_rate_limit_waits_retry_after() -> None:
    recorded = load_pygithub_replay("SpecificExceptions.testAuthenticatedRateLimitExceeded")
    limited = next(ex for ex in recorded if ex.status == 403)
    ok = json_exchange("/repos/o/r", {"full_name": "o/r"}, "synthetic")
    with ReplayServer(
        [Exchange("GET", "/repos/o/r", 403, limited.headers, limited.body, limited.source), ok]
    ) as server:
        client = _client(server)
        assert client.get("/repos/o/r").data == {"full_name": "o/r"}
    assert client.waits == [float(limited.header("Retry-After") or 0)]  # type: ignore[attr-defined]


def test_recorded_server_errors_are_retried_then_reported() -> None:
    html = next(
        ex for ex in load_pygithub_replay("Exceptions.testNonJsonDataReturnedByGithub") if ex.status == 503
    )
    ok = json_exchange("/repos/o/r", {"full_name": "o/r"}, "synthetic")
    with ReplayServer(
        [Exchange("GET", "/repos/o/r", 503, html.headers, html.body, html.source), ok]
    ) as server:
        client = _client(server)
        assert client.get("/repos/o/r").data == {"full_name": "o/r"}
        assert client.stats.count_retries == 1
    with ReplayServer([Exchange("GET", "/repos/o/r", 503, html.headers, html.body, html.source)]) as server:
        client = _client(server, max_retries=2)
        with pytest.raises(GitHubError, match="gave up after 3 tries"):
            client.get("/repos/o/r")
