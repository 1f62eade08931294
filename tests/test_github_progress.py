"""GitHub sync progress below the page (issue 10): runs cut by the rate limit, by faults or by a bad
answer keep every item whose details arrived, resume without refetching them, never move the
since-cursor past an item whose details are missing, and converge to one uninterrupted run; a cut
step records what it really did; nothing a server echoes (a token, credentials) is kept or shown.

Both extractors ([github] api): the REST one (pipeline.github_sync) and the GraphQL one, the default
(pipeline.github_graphql). Tests that count REST detail requests or kill a REST sync are REST's; the
convergence, rate-limit and secrets tests run on both."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from pipeline.config import GitHubConfig, Settings
from pipeline.db import connect, sql_dir
from pipeline.github_client import ClientSettings, GitHubClient, GitHubError, RateLimited
from pipeline.github_graphql import GraphQLOptions, sync_github_repository_graphql
from pipeline.github_sync import SOURCE, GitHubSyncOptions, parse_time, sync_github_repository
from pipeline.runs import StepResult, read_cursor, record_step, start_run
from pipeline.sync import run_sync
from tests.support.github_scenario import Dataset, generate_dataset
from tests.support.github_server import GitHubServer
from tests.support.recordings import load_pygithub_replay

TOKEN = "perftrust-test-token-4f1c9e2a"  # the client's own: not token-shaped, found only by its value
QUOTA = 60  # requests per run in the quota tests
# Columns that name a run or when it ran (or the list page an item came from), not what was synced.
ENVELOPE = {
    "fetched_at",
    "run_id",
    "url",
    "first_observed_at",
    "last_observed_at",
    "first_run_id",
    "last_run_id",
}
TIMELINE = re.compile(r"/issues/(\d+)/timeline$")
REVIEWS = re.compile(r"/pulls/(\d+)/reviews$")


# -- what is compared ---------------------------------------------------------------------------------


def github_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every raw_github__* table and stg_github__* view, and every fct view built from them."""
    fct = re.findall(r"CREATE OR REPLACE VIEW (\w+)", (sql_dir() / "41_fct_github.sql").read_text())
    names = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT table_name FROM duckdb_columns() WHERE table_name LIKE 'raw_github__%' "
            "OR table_name LIKE 'stg_github__%' ORDER BY 1"
        ).fetchall()
    ]
    return names + fct


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every GitHub table, all columns but the run envelope, in a stable order."""
    out = {}
    for table in github_tables(con):
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
            ).fetchall()
            if c not in ENVELOPE
        ]
        out[table] = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL").fetchall()
    return out


def by_item(con: duckdb.DuckDBPyConnection, table: str, parent: str, key: str) -> dict[int, list[Any]]:
    return {
        number: rows
        for number, rows in con.execute(
            f"SELECT {parent}, list(({key}, payload::VARCHAR) ORDER BY {key}) FROM {table} GROUP BY 1"
        ).fetchall()
    }


def issues(con: duckdb.DuckDBPyConnection) -> dict[int, Any]:
    return dict(con.execute("SELECT number, updated_at FROM raw_github__issues").fetchall())


def check_progress_invariants(
    con: duckdb.DuckDBPyConnection, reference: duckdb.DuckDBPyConnection, key: str, api: str = "rest"
) -> None:
    """After any run, cut or not: each stored item has exactly the timeline and reviews of one
    uninterrupted run (an item row is the record that its details are there), and the since-cursor
    is past no item that is missing."""
    want_updated = issues(reference)
    want_timelines = by_item(reference, "raw_github__timeline_events", "issue_number", "event_index")
    want_reviews = by_item(reference, "raw_github__reviews", "pull_number", "review_id")
    got_timelines = by_item(con, "raw_github__timeline_events", "issue_number", "event_index")
    got_reviews = by_item(con, "raw_github__reviews", "pull_number", "review_id")
    got = issues(con)
    for number, updated_at in got.items():
        assert updated_at == want_updated[number], number
        assert got_timelines.get(number, []) == want_timelines.get(number, []), number
        assert got_reviews.get(number, []) == want_reviews.get(number, []), number
    assert set(got_timelines) <= set(got) and set(got_reviews) <= set(got)  # no details without their item
    cursor = read_cursor(con, SOURCE, key) or {}
    pulls = dict(reference.execute("SELECT number, is_pull_request FROM raw_github__issues").fetchall())
    # REST: one since-cursor over issues and PRs; GraphQL: one for issues, one for pull requests.
    streams = (
        [("issues_since", {True, False})]
        if api == "rest"
        else [("graphql_issues_since", {False}), ("graphql_pulls_since", {True})]
    )
    for name, kinds in streams:
        since = parse_time(cursor.get(name))
        if since is not None:
            behind = {n for n, updated_at in want_updated.items() if updated_at < since and pulls[n] in kinds}
            assert behind <= set(got), (
                f"cursor {name} {since} is past items without details: {sorted(behind - set(got))}"
            )


def detail_requests(server: GitHubServer, status: int | None = None) -> list[tuple[str, int]]:
    """(timeline|reviews, item number) of every detail request in the log (of one status)."""
    out = []
    for request in server.requests:
        if status is not None and request.status != status:
            continue
        for kind, pattern in (("timeline", TIMELINE), ("reviews", REVIEWS)):
            match = pattern.search(request.path)
            if match:
                out.append((kind, int(match.group(1))))
    return out


# -- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate_dataset(11, repos=2)  # never mutated here: every run sees the same GitHub


@pytest.fixture
def server(dataset: Dataset) -> Iterator[GitHubServer]:
    with GitHubServer(dataset, tokens={TOKEN}, quota=10**9) as github:
        yield github
        assert github.errors == []


@dataclass
class Reference:
    """One uninterrupted run on the test's server (payloads hold its URLs), the truth every cut
    sequence of runs must end equal to; and how many timeline and reviews requests it made."""

    con: duckdb.DuckDBPyConnection
    details: list[tuple[str, int]]  # its timeline and reviews requests (a long timeline takes two)


@pytest.fixture
def reference(server: GitHubServer, dataset: Dataset, tmp_path: Path) -> Iterator[Reference]:
    con = connect(tmp_path / "reference.duckdb")
    server.reset_log()
    assert sync(con, client(server), dataset.repositories[0].full_name).status == "succeeded"
    yield Reference(con, detail_requests(server))
    con.close()


def client(server: GitHubServer, token: str = TOKEN) -> GitHubClient:
    """Retries back off 10 ms, and waits are recorded, not slept."""
    waits: list[float] = []
    return GitHubClient(
        token, ClientSettings(base_url=server.base_url, backoff_seconds=0.01), sleep=waits.append
    )


def sync(
    con: duckdb.DuckDBPyConnection,
    github: GitHubClient,
    full_name: str,
    api: str = "rest",
    graphql: GraphQLOptions | None = None,
    **options: Any,
) -> StepResult:
    run_id, sync_options = start_run(con, "test"), GitHubSyncOptions(commit_logins=False, **options)
    if api == "rest":
        return sync_github_repository(con, github, full_name, run_id, sync_options)
    return sync_github_repository_graphql(
        con, github, full_name, run_id, sync_options, graphql=graphql or GraphQLOptions()
    )


def graphql_reference(server: GitHubServer, full_name: str, path: Path) -> duckdb.DuckDBPyConnection:
    """One uninterrupted GraphQL run: the truth a cut sequence of GraphQL runs must end equal to."""
    con = connect(path)
    assert sync(con, client(server), full_name, api="graphql").status == "succeeded"
    return con


def rewritten(con: duckdb.DuckDBPyConnection, before: dict[int, str]) -> set[int]:
    """Items committed by an earlier run (number -> run_id) that this run wrote again: on the GraphQL
    path the sign that details were fetched again for an item already stored whole."""
    now = dict(con.execute("SELECT number, run_id FROM raw_github__issues").fetchall())
    return {n for n, run in before.items() if now.get(n) != run}


def stored_runs(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(con.execute("SELECT number, run_id FROM raw_github__issues").fetchall())


def first_page(server: GitHubServer, full_name: str) -> list[dict[str, Any]]:
    """The first page of the since-less issues list, in the order the sync reads it."""
    params = {"state": "all", "sort": "updated", "direction": "asc", "per_page": 100}
    data: list[dict[str, Any]] = client(server).get(f"/repos/{full_name}/issues", params).data
    return data


def test_the_servers_random_faults_hit_the_share_asked_for(server: GitHubServer, dataset: Dataset) -> None:
    """The knob the convergence test relies on: fault_rate of the requests fail, in every RANDOM_FAULTS way."""
    path = f"{server.base_url}/repos/{dataset.repositories[0].full_name}"
    session = requests.Session()
    session.headers["Authorization"] = f"token {TOKEN}"

    def outcome() -> str:
        try:
            response = session.get(path, timeout=10)
            response.json()
        except (requests.RequestException, ValueError):
            session.close()  # a dropped connection
            return "dropped"
        return str(response.status_code)

    assert {outcome() for _ in range(20)} == {"200"}
    server.fault_rate = 0.5
    seen = Counter(outcome() for _ in range(400))
    assert seen.keys() == {"200", "500", "502", "503", "dropped"}
    assert server.random_faults == 400 - seen["200"]
    assert 140 <= server.random_faults <= 260  # 200 expected; the bounds are 6 standard deviations away


# -- 1. progress below the page ---------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_run_cut_mid_page_keeps_the_items_before_and_the_next_fetches_only_the_rest(
    server: GitHubServer,
    reference: Reference,
    dataset: Dataset,
    tmp_path: Path,
    concurrency: int,
) -> None:
    full_name = dataset.repositories[0].full_name
    page = first_page(server, full_name)
    assert len(page) == 100 and any("pull_request" in i for i in page[:40])
    victim = page[40]["number"]
    server.inject(rf"/issues/{victim}/timeline$", status=502, times=5)  # every try: gives up
    server.reset_log()
    con = connect(tmp_path / "cut.duckdb")
    with pytest.raises(GitHubError, match="gave up after 5 tries"):
        sync(con, client(server), full_name, concurrency=concurrency)

    kept = set(issues(con))
    before = {i["number"] for i in page[:40]}
    assert before <= kept and victim not in kept
    if concurrency == 1:
        assert kept == before  # in list order, one at a time: exactly the items before the victim
    cursor = read_cursor(con, SOURCE, full_name) or {}
    assert cursor["issues_since"] == page[39]["updated_at"]  # past the kept prefix, not past the victim
    check_progress_invariants(con, reference.con, full_name)

    server.reset_log()
    assert sync(con, client(server), full_name, concurrency=concurrency).status == "succeeded"
    fetched = Counter(detail_requests(server))
    assert fetched == Counter(job for job in reference.details if job[1] not in kept)  # the missing, once
    assert snapshot(con) == snapshot(reference.con)


KILLED_SYNC = """
import sys
from pathlib import Path
from pipeline.db import connect
from pipeline.github_client import ClientSettings, GitHubClient
from pipeline.github_sync import GitHubSyncOptions, sync_github_repository
from pipeline.runs import start_run
con = connect(Path(sys.argv[1]))
client = GitHubClient(sys.argv[4], ClientSettings(base_url=sys.argv[2]))
options = GitHubSyncOptions(commit_logins=False, concurrency=1, commit_seconds=0)
sync_github_repository(con, client, sys.argv[3], start_run(con, "killed"), options)
"""


def test_with_commit_seconds_0_a_kill_mid_page_loses_at_most_the_item_under_way(
    server: GitHubServer, reference: Reference, dataset: Dataset, tmp_path: Path
) -> None:
    full_name = dataset.repositories[0].full_name
    db = tmp_path / "killed.duckdb"
    server.reset_log()
    root = Path(__file__).parent.parent
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_SYNC, str(db), server.base_url, full_name, TOKEN],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    deadline = time.time() + 60
    while (
        len({n for _, n in detail_requests(server)}) < 40 and child.poll() is None and time.time() < deadline
    ):
        time.sleep(0.001)
    child.send_signal(signal.SIGKILL)
    child.wait()
    started = {n for _, n in detail_requests(server)}
    assert 40 <= len(started) < 100  # killed inside the first page
    con = connect(db)
    kept = set(issues(con))
    assert len(started - kept) <= 2  # the item under way (and one whose commit the kill cut)
    check_progress_invariants(con, reference.con, full_name)
    server.reset_log()
    assert sync(con, client(server), full_name).status == "succeeded"
    assert not {n for _, n in detail_requests(server)} & kept
    assert snapshot(con) == snapshot(reference.con)


def test_runs_under_a_small_quota_converge_to_one_uninterrupted_run(
    server: GitHubServer,
    reference: Reference,
    dataset: Dataset,
    tmp_path: Path,
) -> None:
    """60 requests per run, then GitHub's 403 with x-ratelimit-remaining 0 and a reset hours away."""
    full_name = dataset.repositories[0].full_name
    con = connect(tmp_path / "quota.duckdb")
    server.quota = QUOTA
    runs: list[str] = []  # each run's status
    limited: list[str] = []  # the errors of the runs the quota cut
    fetched_ok: list[tuple[str, int]] = []
    state: tuple[Any, ...] = ()
    for _ in range(40):
        server.reset_quota()
        server.reset_at = int(time.time()) + 3 * 3600  # far beyond max_rate_limit_wait: stop, do not wait
        server.reset_log()
        committed = issues(con)
        try:
            runs.append(sync(con, client(server), full_name).status)
        except RateLimited as exc:
            runs.append("failed")
            limited.append(str(exc))
        assert server.counted_requests <= QUOTA
        refetched = {n for _, n in detail_requests(server)} & set(committed)
        assert not refetched, f"details fetched again for items committed before: {sorted(refetched)}"
        fetched_ok += detail_requests(server, status=200)
        check_progress_invariants(con, reference.con, full_name)
        progress = (
            len(issues(con)),
            *(
                con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                for table in ("raw_github__pull_requests", "raw_github__review_comments")
            ),
            json.dumps(read_cursor(con, SOURCE, full_name), sort_keys=True),
        )
        assert progress != state, f"run {len(runs)} made no progress"
        state = progress
        if runs[-1] != "failed":
            break
    assert runs[-1] == "succeeded", limited
    assert len(limited) == len(runs) - 1 >= 3  # the quota really cut runs
    assert all("rate limit is used up" in error for error in limited)
    assert snapshot(con) == snapshot(reference.con)
    # Economy: the detail requests of one run, plus at most what was under way when the quota ran out
    # (the items of those requests were not complete, so they are asked again).
    needed = len(reference.details)
    assert needed <= len(fetched_ok) <= needed + 8 * (len(runs) - 1)


def test_runs_against_a_server_failing_half_the_requests_converge(
    server: GitHubServer, reference: Reference, dataset: Dataset, tmp_path: Path
) -> None:
    """50 % of requests answer 500/502/503 or drop the connection; the client retries each 4 times."""
    full_name = dataset.repositories[0].full_name
    con = connect(tmp_path / "faulty.duckdb")
    server.fault_rate = 0.5
    failed = wasted = 0
    for _ in range(100):
        server.reset_log()
        committed = issues(con)
        try:
            status = sync(con, client(server), full_name).status
        except GitHubError as exc:
            assert exc.transient, exc
            failed += 1
            status = "failed"
        refetched = {n for _, n in detail_requests(server)} & set(committed)
        assert not refetched, f"details fetched again for items committed before: {sorted(refetched)}"
        # Details that arrived but were not kept: at most those of the items under way at the failure.
        wasted += len({n for _, n in detail_requests(server, status=200)} - set(issues(con)))
        check_progress_invariants(con, reference.con, full_name)
        if status != "failed":
            break
    assert status == "succeeded"
    assert failed >= 3 and server.random_faults > 100
    assert wasted <= 8 * failed, (wasted, failed)
    assert snapshot(con) == snapshot(reference.con)


GRAPHQL_BUDGET = 14  # points a GraphQL run may spend: it stops below 10 left, so about 4 queries a run
SMALL_PAGES = GraphQLOptions(page_size=20)  # 1 point a list page: a whole sync is about 20 queries


def test_graphql_runs_under_a_small_budget_converge_to_one_uninterrupted_run(
    server: GitHubServer, dataset: Dataset, tmp_path: Path
) -> None:
    """The GraphQL budget (points) runs out every few queries, its reset hours away: each run keeps
    what it committed, rewrites nothing committed before, and the runs end equal to one run."""
    full_name = dataset.repositories[0].full_name
    reference = graphql_reference(server, full_name, tmp_path / "reference.duckdb")
    points_before = server.graphql.points
    assert sync(connect(tmp_path / "one.duckdb"), client(server), full_name, "graphql", SMALL_PAGES).status
    one_run = server.graphql.points - points_before  # one uninterrupted run with these pages
    con = connect(tmp_path / "budget.duckdb")
    runs: list[str] = []
    limited: list[str] = []
    state: tuple[Any, ...] = ()
    for _ in range(60):
        server.graphql.quota = server.graphql.used.get(TOKEN, 0) + GRAPHQL_BUDGET
        server.graphql.reset_at = int(time.time()) + 3 * 3600  # far beyond max_rate_limit_wait
        before = stored_runs(con)
        try:
            runs.append(sync(con, client(server), full_name, "graphql", SMALL_PAGES).status)
        except RateLimited as exc:
            runs.append("failed")
            limited.append(str(exc))
        assert not rewritten(con, before), "items committed before were fetched and written again"
        check_progress_invariants(con, reference, full_name, api="graphql")
        progress = (len(issues(con)), json.dumps(read_cursor(con, SOURCE, full_name), sort_keys=True))
        assert progress != state, f"run {len(runs)} made no progress"
        state = progress
        if runs[-1] != "failed":
            break
    assert runs[-1] == "succeeded", limited
    assert len(limited) == len(runs) - 1 >= 3  # the budget really cut runs
    assert all("GraphQL budget" in e or "rate limit" in e for e in limited), limited
    assert snapshot(con) == snapshot(reference)
    # Economy: one run's points, plus what a cut run asks again: the list page at each stream's
    # cursor (the issues stream is read from its cursor each run until both streams are through).
    spent = server.graphql.points - points_before - one_run
    assert one_run <= spent <= one_run + 3 * (len(runs) - 1), (spent, one_run, len(runs))
    reference.close()


def test_graphql_runs_against_a_server_failing_half_the_requests_converge(
    server: GitHubServer, dataset: Dataset, tmp_path: Path
) -> None:
    """50 % of all requests, GraphQL queries included, answer 500/502/503 or drop the connection."""
    full_name = dataset.repositories[0].full_name
    reference = graphql_reference(server, full_name, tmp_path / "reference.duckdb")
    con = connect(tmp_path / "faulty.duckdb")
    server.fault_rate = 0.5
    failed = 0
    graphql_faults = 0
    for _ in range(100):
        server.reset_log()
        before = stored_runs(con)
        try:
            status = sync(con, client(server), full_name, "graphql", SMALL_PAGES).status
        except GitHubError as exc:
            assert exc.transient, exc
            failed += 1
            status = "failed"
        graphql_faults += sum(1 for r in server.requests if r.path == "/graphql" and r.status != 200)
        assert not rewritten(con, before), "items committed before were fetched and written again"
        check_progress_invariants(con, reference, full_name, api="graphql")
        if status != "failed":
            break
    assert status == "succeeded"
    assert graphql_faults >= 5 and server.random_faults > 20
    assert snapshot(con) == snapshot(reference)
    reference.close()


# -- 2. a failed step records what it did -------------------------------------------------------------------


@pytest.mark.parametrize("cut", ["rate_limit", "bad_token", "server_errors"])
def test_a_failed_step_carries_its_real_requests_rows_and_duration(
    server: GitHubServer, dataset: Dataset, tmp_path: Path, cut: str
) -> None:
    full_name = dataset.repositories[0].full_name
    con = connect(tmp_path / "failed.duckdb")
    victim = first_page(server, full_name)[60]["number"]
    if cut == "rate_limit":
        server.quota = QUOTA
        server.reset_at = int(time.time()) + 3 * 3600
        with pytest.raises(RateLimited):
            sync(con, client(server), full_name)  # a first cut run: the next one starts with 304s
        server.reset_quota()
        server.reset_at = int(time.time()) + 3 * 3600
    elif cut == "bad_token":
        server.inject(rf"/issues/{victim}/timeline$", status=401)  # the token was revoked mid-way
    else:
        server.inject(rf"/issues/{victim}/timeline$", status=500, times=5)
    server.reset_log()
    rows_before = len(issues(con))
    started = time.perf_counter()
    with pytest.raises(GitHubError) as info:
        sync(con, client(server), full_name)
    wall = time.perf_counter() - started

    step = info.value.step
    assert step is not None and step.status == "failed"
    assert step.error_message == str(info.value)
    assert step.transient == (cut == "server_errors")
    log = server.requests
    assert step.count_api_requests == len(log) > 10
    assert step.count_not_modified == sum(r.status == 304 for r in log)
    assert step.count_rows_added == len(issues(con)) - rows_before > 0
    if cut == "rate_limit":
        assert step.count_not_modified >= 2  # repository and milestones unchanged since the first run
        assert step.details["rate_limit_remaining"] == 0
    else:
        assert step.details["retries"] == (4 if cut == "server_errors" else 0)
    assert 0.5 * wall <= step.duration_seconds <= wall

    step_run = start_run(con, "record")
    record_step(con, step_run, step)
    recorded = con.execute(
        "SELECT status, count_api_requests, count_not_modified, count_rows_added, duration_seconds, "
        "error_message FROM pipeline_run_steps WHERE run_id = ?",
        [step_run],
    ).fetchall()
    assert recorded == [
        ("failed", step.count_api_requests, step.count_not_modified, step.count_rows_added,
         step.duration_seconds, step.error_message)
    ]  # fmt: skip


@pytest.mark.parametrize("api", ["rest", "graphql"])
def test_a_rate_limited_sync_records_its_real_requests_in_pipeline_run_steps(
    server: GitHubServer, dataset: Dataset, tmp_path: Path, api: str
) -> None:
    full_name = dataset.repositories[0].full_name
    if api == "rest":
        server.quota = QUOTA
        server.reset_at = int(time.time()) + 3 * 3600
    else:  # the GraphQL budget (points) runs out; REST's quota does not
        server.graphql.quota = server.graphql.used.get(TOKEN, 0) + GRAPHQL_BUDGET
        server.graphql.reset_at = int(time.time()) + 3 * 3600
    con = connect(tmp_path / "sync.duckdb")
    started = time.perf_counter()
    settings = Settings(github=GitHubConfig(api=api))
    summary = run_sync(con, settings, [], github_repositories=[full_name], github_client=client(server))
    wall = time.perf_counter() - started
    assert summary.status == "failed"
    (row,) = con.execute(
        "SELECT status, count_api_requests, count_rows_added, duration_seconds, error_message, "
        "details->>'$.rate_limit_remaining', details->>'$.graphql_remaining', "
        "details->>'$.graphql_queries' FROM pipeline_run_steps WHERE step = 'github_sync'"
    ).fetchall()
    stored = con.execute("SELECT count(*) FROM raw_github__issues").fetchall()[0][0]
    assert row[0] == "failed" and ("rate limit" if api == "rest" else "GraphQL budget") in row[4]
    assert row[1] == len(server.requests) and row[2] == stored > 0
    if api == "rest":
        assert row[5] == "0" and row[7] is None
    else:  # stopped before the budget was gone: the queries it made are among the requests
        queries = sum(1 for r in server.requests if r.path == "/graphql")
        assert int(row[6]) < 10 and int(row[7]) == queries >= 2
    assert 0.1 * wall < row[3] < wall
    assert con.execute("SELECT count_api_requests FROM pipeline_runs").fetchall() == [(row[1],)]


# -- 3. secrets a server echoes -------------------------------------------------------------------------------

GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
PASSWORD = "hunter2-Pa55word"
CREDENTIAL_URL = f"https://deploy:{PASSWORD}@git.example.com/octo/api.git"
SECRETS = (TOKEN, GHP, PASSWORD)
ECHO = f"(request had credentials {TOKEN}; also {GHP}; remote {CREDENTIAL_URL})"


def _recorded_json(name: str, status: int) -> dict[str, Any]:
    exchange = next(ex for ex in load_pygithub_replay(name) if ex.status == status)
    body: dict[str, Any] = json.loads(exchange.body)
    return body


def answer(kind: str) -> dict[str, Any]:
    """A GitHub error answer (bodies as recorded from api.github.com) echoing the secrets."""
    if kind == "403":
        body = _recorded_json("SpecificExceptions.testBadUserAgent", 403)
        return {"status": 403, "body": {**body, "message": f"{body['message']} {ECHO}"}}
    if kind == "422":
        body = _recorded_json("Exceptions.testInvalidInput", 422)
        errors = [{**body["errors"][0], "message": f"{body['errors'][0]['message']} {ECHO}"}]
        return {"status": 422, "body": {**body, "message": f"{body['message']} {ECHO}", "errors": errors}}
    if kind == "500":
        body = _recorded_json("Retry.testReturnsRepoAfter1Retry", 500)
        return {"status": 500, "body": {**body, "message": ECHO}, "times": 5}
    if kind == "non-json":
        html = next(ex for ex in load_pygithub_replay("Exceptions.testNonJsonDataReturnedByGithub")).body
        return {"status": 400, "non_json": True, "body": html.replace("<h1>", f"<h1>{ECHO} ", 1)}
    raise AssertionError(kind)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, (secret, text[:2000])


def every_table(con: duckdb.DuckDBPyConnection) -> str:
    return "\n".join(
        str(con.execute(f"SELECT * FROM {table}").fetchall())
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()
    )


@pytest.mark.parametrize("api", ["rest", "graphql"])
@pytest.mark.parametrize("kind", ["403", "422", "500", "non-json"])
def test_secrets_a_server_echoes_never_reach_the_error_the_step_or_the_database(
    server: GitHubServer,
    dataset: Dataset,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    api: str,
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)  # the client's own token is what must be scrubbed
    full_name = dataset.repositories[0].full_name
    # REST: the list, after the repository and milestones; GraphQL: the first query.
    server.inject(r"/issues$" if api == "rest" else r"/graphql$", **answer(kind))
    con = connect(tmp_path / "echo.duckdb")
    with pytest.raises(GitHubError) as info:
        sync(con, client(server), full_name, api=api)
    step = info.value.step
    assert step is not None and step.error_message
    if kind != "500" and (api, kind) != ("graphql", "non-json"):
        # 5xx bodies are not quoted at all (nor a non-JSON /graphql answer); the others are, without the secrets
        assert "(request had credentials ***; also ***; remote https://***@git.example.com" in str(info.value)
    record_step(con, start_run(con, "echo"), step)
    for text in (
        str(info.value),
        repr(info.value.args),
        step.error_message,
        *step.warnings,
        json.dumps(step.details),
    ):
        assert_no_secret(text)
    assert_no_secret(every_table(con))


@pytest.mark.parametrize(
    ("api", "kind"),
    [
        *(("rest", kind) for kind in ("403", "422", "non-json", "link")),
        *(("graphql", kind) for kind in ("403", "422", "non-json")),  # no next-page links in GraphQL
    ],
)
def test_secrets_a_server_echoes_never_reach_pipeline_run_steps_or_any_table(
    server: GitHubServer,
    dataset: Dataset,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    api: str,
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    full_name = dataset.repositories[0].full_name
    if kind == "link":  # a next-page URL that carries the credentials (stored as the rows' url)
        query = f"state=all&sort=updated&direction=asc&per_page=100&page=2&access_token={TOKEN}&key={GHP}"
        url = f"{server.base_url}/repos/{full_name}/issues?{query}"
        server.inject(
            r"/issues$", headers={"Link": f'<{url.replace("http://", f"http://u:{PASSWORD}@")}>; rel="next"'}
        )
    else:
        server.inject(r"/issues$" if api == "rest" else r"/graphql$", **answer(kind))
    con = connect(tmp_path / "echo.duckdb")
    settings = Settings(github=GitHubConfig(api=api))
    summary = run_sync(con, settings, [], github_repositories=[full_name], github_client=client(server))
    assert summary.status == ("succeeded" if kind == "link" else "failed")
    if kind == "link":
        urls = con.execute("SELECT DISTINCT url FROM raw_github__issues WHERE url LIKE '%page=2%'").fetchall()
        assert urls and all("access_token=***&key=***" in u and "http://***@127.0.0.1" in u for (u,) in urls)
    else:
        (message,) = con.execute("SELECT error_message FROM pipeline_run_steps").fetchall()[0]
        assert "credentials ***" in message or (api, kind) == ("graphql", "non-json")
    assert_no_secret(every_table(con))
