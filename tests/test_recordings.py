"""The recorded-GitHub test kit: every recording parses, INDEX.tsv agrees, and the replay server
serves recordings to PyGithub (fields, pagination, 304, redirects, rate limit, errors)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import github
import pytest
import requests

from tests.support.recordings import (
    SELECTORS,
    Exchange,
    ReplayServer,
    all_exchanges,
    betamax_cassettes,
    devlake_ants_exchanges,
    devlake_tables,
    dlt_issue_event_exchanges,
    duckdb_issue_exchanges,
    find_exchanges,
    http_recording_files,
    index_entries,
    load_betamax_cassette,
    load_devlake_table,
    load_dlt_case,
    load_exchanges,
    load_octokit_fixture,
    load_openapi,
    load_pygithub_replay,
    load_webhook_examples,
    missing_reason,
    octokit_scenarios,
    paginate,
    pygithub_replay_names,
    recordings_root,
)

pytestmark = pytest.mark.skipif(recordings_root() is None, reason=missing_reason())

UTC = dt.UTC


def gh(server: ReplayServer, per_page: int = 30, lazy: bool = False) -> github.Github:
    return github.Github(
        auth=github.Auth.Token("x"),
        base_url=server.base_url,
        retry=None,
        seconds_between_requests=0,
        per_page=per_page,
        lazy=lazy,
    )


def count_in(summary: str) -> int:
    match = re.fullmatch(r"\w+\[(\d+)\]", summary)
    assert match, summary
    return int(match.group(1))


# --- loaders agree with INDEX.tsv --------------------------------------------------------------


def test_every_http_exchange_in_the_index_is_loaded_with_its_method_path_and_status() -> None:
    indexed = [e for e in index_entries() if e.method not in ("RECORDS", "WEBHOOKS")]
    loaded = {ex.source: ex for ex in all_exchanges()}
    assert len(loaded) == len(indexed) > 500
    for entry in indexed:
        ex = loaded[f"{entry.file}#{entry.seq}"]
        assert (ex.method, ex.path, ex.status) == (entry.method, entry.path, entry.status), entry


def test_every_pygithub_replay_file_parses() -> None:
    names = pygithub_replay_names()
    assert len(names) > 100
    per_file = Counter(e.file.rsplit("/", 1)[-1] for e in index_entries() if e.file.startswith("pygithub"))
    for name in names:
        exchanges = load_pygithub_replay(name)
        assert len(exchanges) == per_file[f"{name}.txt"] > 0, name
        for seq, ex in enumerate(exchanges):
            assert ex.source == f"pygithub-replaydata/ReplayData/{name}.txt#{seq}"
            assert ex.path.startswith("/") and 200 <= ex.status < 600 and ex.method.isupper()


def test_every_octokit_fixture_parses_in_both_kinds() -> None:
    scenarios = octokit_scenarios()
    assert len(scenarios) == 22
    per_file = Counter(e.file for e in index_entries() if e.file.startswith("octokit-fixtures"))
    for scenario in scenarios:
        for kind in ("normalized", "raw"):
            exchanges = load_octokit_fixture(scenario, kind)
            assert len(exchanges) == per_file[exchanges[0].source.rsplit("#", 1)[0]], scenario
            for ex in exchanges:
                if ex.header("Content-Type") and "json" in str(ex.header("Content-Type")) and ex.body:
                    json.loads(ex.body)


def test_every_betamax_cassette_parses_and_gzip_bodies_are_decoded() -> None:
    cassettes = betamax_cassettes()
    assert len(cassettes) == 25
    per_file = Counter(e.file for e in index_entries() if e.file.startswith("github3py"))
    for name in cassettes:
        exchanges = load_betamax_cassette(name)
        assert len(exchanges) == per_file[exchanges[0].source.rsplit("#", 1)[0]], name
        for ex in exchanges:
            if ex.status == 200:
                assert isinstance(ex.json(), dict | list), ex.source


def test_every_devlake_table_and_dlt_case_loads_with_the_indexed_row_count() -> None:
    tables = devlake_tables()
    assert len(tables) == 8
    rows_by_file = {e.file: count_in(e.body) for e in index_entries() if e.method == "RECORDS"}
    for table in tables:
        rows = load_devlake_table(table)
        assert len(rows) == rows_by_file[f"devlake-github-e2e/raw_tables/_raw_github_api_{table}.csv"]
        for row in rows:
            assert isinstance(row["data"], dict) and row["url"].startswith("https://api.github.com/repos/")
    for case, file in [
        ("github.issues.load_page_5_duck", "dlt/normalize/cases/github.issues.load_page_5_duck.json"),
        ("github.events.load_page_1_duck", "dlt/normalize/cases/github.events.load_page_1_duck.json"),
        ("github_events", "dlt/pipeline/cases/github_events.json"),
    ]:
        assert len(load_dlt_case(case)) == rows_by_file[file] == 100


def test_openapi_and_webhook_examples_load() -> None:
    spec = load_openapi()
    assert "/repos/{owner}/{repo}/issues" in spec["paths"]
    examples = load_webhook_examples()
    assert {"issues", "milestone", "pull_request_review"} <= set(examples)
    assert any(e.get("action") == "review_requested" for e in examples["pull_request"])


def test_load_exchanges_refuses_record_only_sources() -> None:
    with pytest.raises(ValueError, match="not an HTTP recording"):
        load_exchanges("dlt/pipeline/cases/github_events.json")
    assert "dlt/pipeline/cases/github_events.json" not in http_recording_files()


# --- the catalogue -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SELECTORS))
def test_each_selector_finds_recorded_exchanges(name: str) -> None:
    assert find_exchanges(name), name


def test_spot_checks_of_real_fields() -> None:
    milestone = load_pygithub_replay("Milestone.setUp")[1].json()
    assert (milestone["title"], milestone["due_on"], milestone["state"]) == (
        "Version 0.4",
        "2012-03-13T07:00:00Z",
        "closed",
    )
    issue = load_pygithub_replay("Issue.setUp")[1].json()
    assert issue["milestone"]["due_on"] == "2012-08-05T07:00:00Z"
    assert "pull_request" not in issue
    issue_as_pr = load_pygithub_replay("Issue572.testIssueAsPullRequest")[0].json()
    assert issue_as_pr["pull_request"]["url"] == "https://api.github.com/repos/tmshn/PyGithub/pulls/2"

    pr31 = load_pygithub_replay("PullRequest.setUp")[1].json()
    assert pr31["head"]["repo"] is None and pr31["merged"] is True
    assert [u["login"] for u in pr31["requested_reviewers"]] == ["sfdye"]
    github3_pr = load_betamax_cassette("PullRequest_single")[0].json()
    assert github3_pr["number"] == 235 and github3_pr["head"]["repo"] is None

    assert load_pygithub_replay("PullRequestReview.setUp")[1].json()["state"] == "APPROVED"
    assert load_pygithub_replay("PullRequestReview1856.testDelete")[0].json()["state"] == "PENDING"
    timeline = load_pygithub_replay("Issue.testGetTimeline")[0].json()
    assert timeline[0]["event"] == "subscribed" and timeline[0]["id"] == 15819975
    events = [e.json()["event"] for e in load_pygithub_replay("IssueEvent.setUp")[1:]]
    assert {"review_requested", "review_request_removed", "milestoned", "demilestoned"} <= set(events)

    (limited,) = find_exchanges("rate_limited")
    assert limited.status == 403 and limited.header("x-ratelimit-remaining") == "0"
    secondary = load_pygithub_replay("SpecificExceptions.testAuthenticatedRateLimitExceeded")[1]
    assert secondary.status == 403 and secondary.header("Retry-After") == "60"
    assert {ex.status for ex in find_exchanges("server_errors")} == {500, 502, 503}

    # DevLake: 15 ants PRs whose head repository was deleted; reviews with their states
    pulls = {row["data"]["number"]: row["data"] for row in load_devlake_table("pull_requests")}
    assert sorted(n for n, p in pulls.items() if p["head"]["repo"] is None) == [
        *(8, 14, 15, 23, 30, 41, 53, 66, 79, 91, 107, 174, 185, 186, 198)
    ]
    states = Counter(row["data"]["state"] for row in load_devlake_table("pull_request_reviews"))
    assert states == {"COMMENTED": 28, "CHANGES_REQUESTED": 3}
    duck = load_dlt_case("github.issues.load_page_5_duck")
    assert sum("pull_request" in i for i in duck) == 25
    dlt_events = Counter(e["event"] for e in load_dlt_case("github_events"))
    assert dlt_events["review_requested"] == 2


def test_octokit_binary_and_betamax_compressed_bodies() -> None:
    archive = load_octokit_fixture("get-archive")[1]
    assert archive.status == 200 and bytes.fromhex(archive.body)[:2] == b"\x1f\x8b"
    rate = load_betamax_cassette("GitHub_rate_limit")[0]
    assert rate.json()["resources"]["core"]["limit"] == 60


# --- the replay server with PyGithub ---------------------------------------------------------------


@pytest.fixture
def pygithub_server() -> Iterator[ReplayServer]:
    exchanges = [
        *load_pygithub_replay("Issue.setUp"),
        *load_pygithub_replay("Issue.testGetTimeline"),
        *load_pygithub_replay("Milestone.setUp"),
        *load_pygithub_replay("PullRequest.setUp"),
        *load_pygithub_replay("PullRequestReview.testAttributes"),
    ]
    with ReplayServer(exchanges) as server:
        yield server


def test_pygithub_reads_the_recorded_objects(pygithub_server: ReplayServer) -> None:
    server = pygithub_server
    g = gh(server)
    repo = g.get_repo("PyGithub/PyGithub")
    assert repo.full_name == "PyGithub/PyGithub" and repo.id == 3544490

    recorded_issue = load_pygithub_replay("Issue.setUp")[1].json()
    issue = repo.get_issue(28)
    assert issue.title == recorded_issue["title"] == "Issue created by PyGithub"
    assert issue.state == "closed"
    assert issue.closed_at == dt.datetime(2012, 5, 26, 14, 59, 33, tzinfo=UTC)
    assert issue.milestone.title == "Version 1.4"
    assert issue.milestone.due_on == dt.datetime(2012, 8, 5, 7, tzinfo=UTC)
    assert [label.name for label in issue.labels] == [label["name"] for label in recorded_issue["labels"]]
    assert issue.user.login == "jacquev6"
    assert issue.url == f"{server.base_url}/repos/PyGithub/PyGithub/issues/28"  # rewritten

    timeline = list(issue.get_timeline())
    assert timeline[0].id == 15819975 and timeline[0].event == "subscribed"
    assert "cross-referenced" in {event.event for event in timeline}

    milestone = repo.get_milestone(1)
    assert (milestone.title, milestone.state, milestone.closed_issues) == ("Version 0.4", "closed", 2)
    assert milestone.due_on == dt.datetime(2012, 3, 13, 7, tzinfo=UTC)

    pull = repo.get_pull(31)
    assert pull.head.repo is None and pull.merged and pull.merged_by.login == "jacquev6"
    assert [user.login for user in pull.requested_reviewers] == ["sfdye"]

    reviews = follow(g.requester, "/repos/PyGithub/PyGithub/pulls/538/reviews", {})
    assert [(r["id"], r["state"]) for r in reviews[:2]] == [(28482091, "APPROVED"), (104584375, "COMMENTED")]
    assert server.unmatched == []
    assert [r.status for r in server.requests] == [200] * len(server.requests)


def test_pygithub_follows_rewritten_link_headers_over_five_pages() -> None:
    exchanges = load_pygithub_replay("PaginatedList.setUp") + load_pygithub_replay(
        "PaginatedList.testCustomPerPage"
    )
    with ReplayServer(exchanges) as server:
        issues = list(gh(server, per_page=100).get_repo("openframeworks/openFrameworks").get_issues())
        assert len(issues) == 456
        assert len({i.id for i in issues}) == 456  # upstream trimmed these items to {"id": ...}
        assert [r.path for r in server.requests][1:] == [
            "/repos/openframeworks/openFrameworks/issues?per_page=100",
            *(f"/repositories/345337/issues?page={n}&per_page=100" for n in range(2, 6)),
        ]
        assert server.unmatched == []


def test_octokit_and_betamax_listings_paginate() -> None:
    with ReplayServer(load_octokit_fixture("paginate-issues")) as server:
        repo = gh(server, per_page=3, lazy=True).get_repo("octokit-fixture-org/paginate-issues")
        assert [i.number for i in repo.get_issues()] == list(range(13, 0, -1))
        assert server.unmatched == []
    with ReplayServer(load_betamax_cassette("Repository_issues_state_all")) as server:
        repo = gh(server, per_page=100).get_repo("sigmavirus24/betamax")  # 301 to /repositories/11439734
        assert repo.full_name == "betamaxpy/betamax"
        issues = list(
            gh(server, per_page=100, lazy=True).get_repo("betamaxpy/betamax").get_issues(state="all")
        )
        assert len(issues) == 150
        assert server.unmatched == []


def test_repeated_requests_are_served_in_recorded_order() -> None:
    exchanges = load_pygithub_replay("ConditionalRequestUpdate.setUp") + load_pygithub_replay(
        "ConditionalRequestUpdate.testDidNotUpdate"
    )
    with ReplayServer(exchanges) as server:
        repo = gh(server).get_repo("akfish/PyGithub")
        assert repo.update() is False  # PyGithub sent If-None-Match and got the recorded 304
        assert [r.status for r in server.requests] == [200, 304]
        assert server.requests[1].headers.get("If-None-Match") == '"8600bedcb7fed1d8065e1693e05529ce"'
    with ReplayServer(load_pygithub_replay("Retry.testReturnsRepoAfter1Retry")) as server:
        g = gh(server)
        with pytest.raises(github.GithubException) as error:
            g.get_repo("PyGithub/PyGithub")
        assert error.value.status == 500
        assert g.get_repo("PyGithub/PyGithub").full_name == "PyGithub/PyGithub"
        assert g.get_repo("PyGithub/PyGithub").full_name == "PyGithub/PyGithub"  # the last one repeats


def test_redirects_rate_limits_and_errors_reach_pygithub() -> None:
    with ReplayServer(load_pygithub_replay("Repository.testGetRepositoryWith301Redirect")) as server:
        assert gh(server).get_repo("protoncoin/protoncoin").full_name == "padima2/protoncoin"
        assert server.requests[0].status == 301
    with ReplayServer(load_pygithub_replay("SpecificExceptions.testRateLimitExceeded")) as server:
        g = gh(server)
        assert g.get_user("jacquev6").login == "jacquev6"
        with pytest.raises(github.RateLimitExceededException):
            g.get_user("jacquev6")
    with (
        ReplayServer(load_pygithub_replay("Exceptions.testBadAuthentication")) as server,
        pytest.raises(github.BadCredentialsException),
    ):
        _ = gh(server).get_user().login
    with ReplayServer([]) as server:
        with pytest.raises(github.UnknownObjectException):
            gh(server).get_repo("nobody/nothing")
        assert server.unmatched == ["GET /repos/nobody/nothing"]


def test_server_matching_rules() -> None:
    exchanges = paginate(
        "/repos/o/r/issues", [{"id": n} for n in range(25)], per_page=10, query=[("state", "all")]
    )
    assert [len(ex.json()) for ex in exchanges] == [10, 10, 5]
    assert exchanges[0].links() == {
        "next": "https://api.github.com/repos/o/r/issues?state=all&per_page=10&page=2",
        "last": "https://api.github.com/repos/o/r/issues?state=all&per_page=10&page=3",
    }
    with ReplayServer(exchanges, ignore_params={"sort", "direction", "since"}) as server:

        def get(path: str, **headers: str) -> requests.Response:
            return requests.get(server.base_url + path, headers=headers, timeout=5)

        first = get("/repos/o/r/issues?sort=updated&per_page=10&state=all&since=2020-01-01T00:00:00Z")
        assert first.status_code == 200 and len(first.json()) == 10
        assert (
            first.links["next"]["url"] == f"{server.base_url}/repos/o/r/issues?state=all&per_page=10&page=2"
        )
        assert first.headers["Content-Length"] == str(len(first.content))
        assert get("/repos/o/r/issues?page=3&state=all&per_page=10").json()[-1] == {"id": 24}
        assert get("/repos/o/r/issues?state=all&per_page=10&page=1").json()[0] == {"id": 0}
        assert get("/repos/o/r/issues?state=open&per_page=10").status_code == 404
        assert server.unmatched == ["GET /repos/o/r/issues?state=open&per_page=10"]
        assert server.unserved() == [exchanges[1]]  # page 2 was never asked for
    with ReplayServer(exchanges, ignore_paging=True, honour_etags=True) as server:
        page2 = requests.get(f"{server.base_url}/repos/o/r/issues?state=all&page=2&per_page=50", timeout=5)
        assert page2.json()[0] == {"id": 10}
        etag = page2.headers["ETag"]
        again = requests.get(
            f"{server.base_url}/repos/o/r/issues?state=all&page=2", headers={"If-None-Match": etag}, timeout=5
        )
        assert again.status_code == 304 and again.content == b""


# --- synthetic listings from DevLake (panjf2000/ants) and dlt (duckdb/duckdb) ------------------------


def follow(requester: Any, path: str, params: dict[str, Any]) -> list[Any]:
    """GET every page through PyGithub's requester, following Link rel=next."""
    items: list[Any] = []
    url: str | None = path
    query: dict[str, Any] | None = params
    while url:
        headers, data = requester.requestJsonAndCheck("GET", url, query)
        items.extend(data)
        match = re.search(r'<([^>]+)>;\s*rel="next"', headers.get("link", ""))
        url, query = (match.group(1) if match else None), None
    return items


def test_devlake_ants_paginates_through_pygithub() -> None:
    issues_table = [row["data"] for row in load_devlake_table("issues")]
    with ReplayServer(
        devlake_ants_exchanges(per_page=10), ignore_params={"sort", "direction", "since"}
    ) as server:
        g = gh(server, per_page=10)
        repo = g.get_repo("panjf2000/ants")
        assert repo.full_name == "panjf2000/ants"

        issues = list(repo.get_issues(state="all"))
        assert [i.number for i in issues] == list(dict.fromkeys(i["number"] for i in issues_table))
        unique_table = {i["id"]: i for i in reversed(issues_table)}
        assert len(issues) == len(unique_table) == 41
        assert (
            sum(i.pull_request is not None for i in issues)
            == 15
            == sum("pull_request" in i for i in unique_table.values())
        )
        assert {i.milestone.title for i in issues} == {"v0.11.0"}

        pulls = list(repo.get_pulls(state="all"))
        assert len(pulls) == 49
        assert sum(p.head.repo is None for p in pulls) == 15
        reviews = {n: Counter(r.state for r in repo.get_pull(n).get_reviews()) for n in (41, 51, 53)}
        assert sum(reviews.values(), Counter()) == {"COMMENTED": 27, "CHANGES_REQUESTED": 3}
        assert list(repo.get_pull(4).get_reviews()) == []
        assert [m.title for m in repo.get_milestones(state="all")] == ["v0.11.0"]
        assert repo.get_milestone(7).due_on is None
        assert len(list(repo.get_issues_comments())) == 94
        assert len(list(repo.get_pulls_review_comments())) == 16
        assert server.unmatched == []

        # what the extractor does: raw JSON through the requester, per_page=100, Link following
        raw = follow(g.requester, "/repos/panjf2000/ants/issues/events", {"per_page": 10})
        assert len(raw) == 49 and {e["event"] for e in raw} >= {"labeled", "closed", "assigned"}
        issues_raw = follow(
            g.requester, "/repos/panjf2000/ants/issues", {"state": "all", "sort": "updated", "per_page": 10}
        )
        assert len(issues_raw) == 41
        assert server.unmatched == []
        paths = [r.path for r in server.requests if r.path.startswith("/repos/panjf2000/ants/issues?")]
        assert sum("page=5" in p for p in paths) == 2  # PyGithub and the requester both reached page 5


def test_duckdb_issues_and_events_paginate_through_pygithub() -> None:
    recorded = load_dlt_case("github.issues.load_page_5_duck")
    with ReplayServer(duckdb_issue_exchanges(per_page=30)) as server:
        g = gh(server)
        repo = g.get_repo("duckdb/duckdb")
        assert repo.full_name == "duckdb/duckdb"
        issues = list(repo.get_issues(state="all"))
        assert [i.number for i in issues] == [i["number"] for i in recorded]
        assert issues[0].created_at == dt.datetime.fromisoformat(
            recorded[0]["created_at"].replace("Z", "+00:00")
        )
        assert sum(i.pull_request is not None for i in issues) == 25
        events = list(repo.get_events())
        assert len(events) == 100 and Counter(e.type for e in events)["PullRequestReviewEvent"] == 23
        assert len(follow(g.requester, "/repos/duckdb/duckdb/issues", {"state": "all"})) == 100
        assert server.unmatched == []
        assert (
            sum(r.path.startswith("/repos/duckdb/duckdb/issues?") for r in server.requests) == 8
        )  # 2 x 4 pages
    with ReplayServer(dlt_issue_event_exchanges(per_page=100)) as server:
        events_raw = follow(gh(server).requester, "/repos/dlt-hub/dlt/issues/events", {"per_page": 100})
        assert Counter(e["event"] for e in events_raw)["review_requested"] == 2


def test_synthetic_exchanges_are_plain_gets_with_valid_json() -> None:
    for ex in devlake_ants_exchanges() + duckdb_issue_exchanges():
        assert isinstance(ex, Exchange) and ex.method == "GET" and ex.status == 200
        json.loads(ex.body)
