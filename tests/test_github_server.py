"""The fake GitHub: scenario generator, server behaviour (pagination, since, ETag, auth, quota, faults,
renames, transfers), OpenAPI conformance of every endpoint, and PyGithub working against it."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import github
import pytest
import requests

from tests.support.github_scenario import (
    DEPENDABOT,
    Dataset,
    Issue,
    generate_dataset,
    minimum_requests,
)
from tests.support.github_server import GitHubServer, endpoint_of
from tests.support.openapi import (
    SKIP_REASON,
    openapi_available,
    validate_response,
    validate_schema,
)

SEED = 20240601
GUARANTEED = (
    "closed_on_time",
    "closed_late",
    "overdue_open",
    "not_planned",
    "reassigned_before_due",
    "reassigned_after_due",
    "review_answered",
    "review_answered_late",
    "review_ignored",
    "review_request_removed",
    "nul_body",
    "ghost_author",
    "long_timeline",
    "many_reviews",
    "transferred",
)


class Client:
    """requests against the server, redirects not followed (so 301s are visible)."""

    def __init__(self, server: GitHubServer, token: str | None = "valid-token") -> None:
        self.server = server
        self.session = requests.Session()
        if token is not None:
            self.session.headers["Authorization"] = f"token {token}"

    def get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> requests.Response:
        url = path if path.startswith("http") else self.server.base_url + path
        return self.session.get(url, params=params, headers=headers, timeout=timeout, allow_redirects=False)

    def json(self, path: str, params: dict[str, str] | None = None) -> Any:
        response = self.get(path, params)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.json()

    def walk(self, path: str, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
        """Follow rel="next" links; returns the items and the number of pages."""
        items: list[dict[str, Any]] = []
        response = self.get(path, params)
        pages = 1
        while True:
            assert response.status_code == 200
            items.extend(response.json())
            nxt = response.links.get("next")
            if not nxt:
                return items, pages
            response = self.get(nxt["url"])
            pages += 1


def pygithub(server: GitHubServer, **kwargs: Any) -> github.Github:
    return github.Github(
        auth=github.Auth.Token("valid-token"),
        base_url=server.base_url,
        seconds_between_requests=0,
        retry=None,
        per_page=100,
        **kwargs,
    )


@pytest.fixture
def dataset() -> Dataset:
    return generate_dataset(SEED, repos=2)


@pytest.fixture
def server(dataset: Dataset) -> Iterator[GitHubServer]:
    with GitHubServer(dataset) as running:
        yield running
    assert running.errors == [], running.errors[0]


@pytest.fixture
def http(server: GitHubServer) -> Client:
    return Client(server)


def engine(dataset: Dataset) -> str:
    return dataset.repositories[0].full_name


# --------------------------------------------------------------------------------------------------
# The scenario generator
# --------------------------------------------------------------------------------------------------


def _fingerprint(ds: Dataset) -> list[tuple[Any, ...]]:
    return [
        (r.full_name, i.number, i.id, i.title, i.body, i.state, i.updated_at, len(i.timeline), i.is_pull)
        for r in ds.repositories
        for i in r.items.values()
    ]


def test_generation_is_deterministic_per_seed() -> None:
    assert _fingerprint(generate_dataset(5)) == _fingerprint(generate_dataset(5))
    assert _fingerprint(generate_dataset(5)) != _fingerprint(generate_dataset(6))


@pytest.mark.parametrize("seed", [1, 2, 3, SEED])
def test_generated_data_keeps_githubs_invariants_and_contains_every_guaranteed_scenario(seed: int) -> None:
    ds = generate_dataset(seed)
    repo = ds.repositories[0]
    assert [k for k in GUARANTEED if not repo.scenarios.get(k)] == []
    created = [i.created_at for i in sorted(repo.items.values(), key=lambda i: i.number)]
    assert created == sorted(created), "numbers follow creation order"
    for item in repo.items.values():
        assert item.created_at <= item.last_activity <= item.updated_at <= ds.now, item.number
        assert (item.state == "closed") == (item.closed_at is not None)
        assert [e.created_at for e in item.timeline] == sorted(e.created_at for e in item.timeline)
        if item.pull is not None:
            assert item.node_id.startswith("PR_")
            pending = [r.reviewer for r in item.pull.review_requests if r.outcome == "ignored"]
            assert set(item.pull.requested_reviewers) <= set(pending)
            assert (item.pull.merged_at is not None) == (item.pull.merge_commit_sha is not None)
    for milestone in repo.milestones.values():
        if milestone.due_on is not None:
            assert (milestone.due_on.hour, milestone.due_on.minute) in ((7, 0), (8, 0))
    for number in repo.scenarios["closed_on_time"]:
        item = repo.items[number]
        assert item.milestone and item.milestone.due_on and item.closed_at
        assert item.closed_at <= item.milestone.due_on
    for number in repo.scenarios["overdue_open"]:
        item = repo.items[number]
        assert item.state == "open" and item.milestone and item.milestone.due_on
        assert item.milestone.due_on < ds.now
    for number in repo.scenarios["review_request_removed"]:
        pull = repo.items[number].pull
        assert pull is not None
        assert any(
            r.outcome == "removed" and r.removed_at and r.answered_at is None for r in pull.review_requests
        )
    assert any(p is DEPENDABOT for p in ds.people)
    assert any(i.user is None for i in repo.items.values())
    assert any(i.body and "\x00" in i.body for i in repo.items.values())
    assert any(p.head_repo is None for p in (i.pull for i in repo.items.values()) if p is not None)


def test_advance_and_due_change_mutate_in_place_and_bump_version() -> None:
    ds = generate_dataset(9)
    repo = ds.repositories[0]
    version, before = ds.version, ds.now
    result = ds.advance(seed=1, hours=24, fraction_updated=0.1, new_issues=2, new_prs=1)
    assert ds.version > version and ds.now == before + timedelta(hours=24)
    changed = result.updated[repo.full_name] + result.created[repo.full_name]
    assert len(result.created[repo.full_name]) == 3
    assert sorted(changed) == ds.updated_since(repo.full_name, before)
    for number in changed:
        assert before < repo.items[number].updated_at <= ds.now
        assert repo.items[number].updated_at >= repo.items[number].last_activity
    milestone = next(m for m in repo.milestones.values() if m.due_on)
    untouched = {i.number: i.updated_at for i in repo.items.values()}
    ds.change_milestone_due(repo.full_name, milestone.number, datetime(2030, 1, 1, 8, tzinfo=UTC))
    assert milestone.due_on == datetime(2030, 1, 1, 8, tzinfo=UTC)
    assert {i.number: i.updated_at for i in repo.items.values()} == untouched


def test_generating_ten_thousand_issues_and_three_thousand_prs_takes_seconds() -> None:
    start = time.perf_counter()
    ds = generate_dataset(3, issues=10_000, prs=3_000, people=40)
    elapsed = time.perf_counter() - start
    repo = ds.repositories[0]
    assert len(repo.items) == 13_000
    print(f"generated 10k issues + 3k PRs in {elapsed:.2f}s; minimum_requests={minimum_requests(ds, repo)}")
    assert elapsed < 10


def test_minimum_requests_counts_list_pages_reviews_and_timelines() -> None:
    ds = generate_dataset(SEED)
    repo = ds.repositories[0]
    items = list(repo.visible_items())
    pulls = [i.pull for i in items if i.pull]
    expected = (
        math.ceil(len(items) / 100)
        + math.ceil(len(list(repo.live_milestones())) / 100)
        + math.ceil(len(pulls) / 100)
        + math.ceil(sum(len(p.review_comments) for p in pulls) / 100)
        + sum(max(1, math.ceil(len(p.reviews) / 100)) for p in pulls)
        + sum(max(1, math.ceil(len(i.timeline) / 100)) for i in items)
    )
    assert minimum_requests(ds, repo.full_name) == expected
    long_item = repo.items[repo.scenarios["long_timeline"][0]]
    many = repo.items[repo.scenarios["many_reviews"][0]].pull
    assert len(long_item.timeline) > 100 and many is not None and len(many.reviews) > 100
    review_comment_pages = math.ceil(sum(len(p.review_comments) for p in pulls) / 100)
    # one timeline page per item (+1 for the long issue, +1 for the PR with 105 reviews, which are
    # timeline entries too), one review page per PR (+1), 259 items = 3 pages
    assert expected == (len(items) + 2) + (len(pulls) + 1) + 3 + 1 + 1 + review_comment_pages


# --------------------------------------------------------------------------------------------------
# Server: pagination, filters, conditional requests, auth, quota
# --------------------------------------------------------------------------------------------------


def test_endpoint_of_normalizes_both_path_styles() -> None:
    assert (
        endpoint_of("/repositories/7/issues/3/timeline?page=2")
        == "/repos/{owner}/{repo}/issues/{issue_number}/timeline"
    )
    assert endpoint_of("/repos/o/r/issues/comments") == "/repos/{owner}/{repo}/issues/comments"
    assert endpoint_of("/repos/o/r/pulls/9/reviews") == "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"
    assert endpoint_of("/rate_limit") == "/rate_limit"


def test_pagination_follows_githubs_link_header(server: GitHubServer, http: Client, dataset: Dataset) -> None:
    repo = dataset.repositories[0]
    listed = sorted((i for i in repo.visible_items()), key=lambda i: (i.created_at, i.number), reverse=True)
    first = http.get(f"/repos/{repo.full_name}/issues", {"state": "all", "per_page": "7"})
    last_page = math.ceil(len(listed) / 7)
    base = f"{server.base_url}/repositories/{repo.id}/issues?state=all&per_page=7"
    assert first.headers["Link"] == f'<{base}&page=2>; rel="next", <{base}&page={last_page}>; rel="last"'
    middle = http.get(f"/repos/{repo.full_name}/issues", {"state": "all", "per_page": "7", "page": "3"})
    assert middle.headers["Link"] == (
        f'<{base}&page=2>; rel="prev", <{base}&page=4>; rel="next", '
        f'<{base}&page={last_page}>; rel="last", <{base}&page=1>; rel="first"'
    )
    items, pages = http.walk(f"/repos/{repo.full_name}/issues", {"state": "all", "per_page": "7"})
    assert pages == last_page and [i["number"] for i in items] == [i.number for i in listed]
    final = http.get(
        f"/repositories/{repo.id}/issues", {"state": "all", "per_page": "7", "page": str(last_page)}
    )
    assert set(final.links) == {"prev", "first"}
    assert http.json(f"/repos/{repo.full_name}/issues", {"state": "all", "page": str(last_page * 7)}) == []
    assert len(http.json(f"/repos/{repo.full_name}/issues", {"state": "all"})) == 30
    assert len(http.json(f"/repos/{repo.full_name}/issues", {"state": "all", "per_page": "500"})) == 100
    small = http.get(f"/repos/{repo.full_name}/milestones", {"state": "all"})
    assert "Link" not in small.headers


def test_link_style_repos_keeps_the_requested_path(dataset: Dataset) -> None:
    with GitHubServer(dataset, link_style="repos") as running:
        response = Client(running).get(f"/repos/{engine(dataset)}/issues", {"state": "all"})
        assert response.links["next"]["url"].startswith(f"{running.base_url}/repos/{engine(dataset)}/issues?")


def test_state_since_and_sort(http: Client, dataset: Dataset) -> None:
    repo = dataset.repositories[0]
    path = f"/repos/{repo.full_name}/issues"
    open_numbers = {i["number"] for i in http.walk(path, {"per_page": "100"})[0]}
    assert open_numbers == {i.number for i in repo.visible_items() if i.state == "open"}
    closed = http.walk(path, {"state": "closed", "per_page": "100"})[0]
    assert {i["state"] for i in closed} == {"closed"}
    since = dataset.now - timedelta(days=40)
    expected = dataset.updated_since(repo.full_name, since)
    for spelling in (
        since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        (since + timedelta(hours=2)).astimezone(datetime.now().astimezone().tzinfo).isoformat(),
        since.replace(tzinfo=None).isoformat() + ".000Z",
    ):
        got = http.walk(
            path,
            {"state": "all", "since": spelling, "per_page": "100", "sort": "updated", "direction": "asc"},
        )[0]
        assert sorted(i["number"] for i in got) == expected, spelling
        stamps = [i["updated_at"] for i in got]
        assert stamps == sorted(stamps)
    desc = http.json(path, {"state": "all", "sort": "updated", "per_page": "100"})
    assert [i["updated_at"] for i in desc] == sorted((i["updated_at"] for i in desc), reverse=True)
    assert http.get(path, {"since": "last tuesday"}).status_code == 422
    comments = http.walk(
        f"/repos/{repo.full_name}/issues/comments", {"since": since.isoformat(), "per_page": "100"}
    )[0]
    assert comments and all(c["updated_at"] >= since.strftime("%Y-%m-%dT%H:%M:%SZ") for c in comments)


def test_pull_requests_are_issues_with_a_pull_request_key_and_pulls_ignore_since(
    http: Client, dataset: Dataset
) -> None:
    repo = dataset.repositories[0]
    issues = http.walk(f"/repos/{repo.full_name}/issues", {"state": "all", "per_page": "100"})[0]
    prs = {i["number"] for i in issues if "pull_request" in i}
    assert prs == {i.number for i in repo.pulls()} and len(prs) < len(issues)
    for entry in issues:
        assert ("draft" in entry) == ("pull_request" in entry)
    pulls = http.walk(f"/repos/{repo.full_name}/pulls", {"state": "all", "per_page": "100"})[0]
    assert {p["number"] for p in pulls} == prs
    recent = (dataset.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(
        http.walk(f"/repos/{repo.full_name}/pulls", {"state": "all", "since": recent, "per_page": "100"})[0]
    ) == len(prs)
    an_issue = next(i.number for i in repo.issues())
    assert http.get(f"/repos/{repo.full_name}/pulls/{an_issue}").status_code == 404
    merged = next(i for i in repo.pulls() if i.pull and i.pull.merged_at)
    assert merged.pull is not None
    body = http.json(f"/repos/{repo.full_name}/pulls/{merged.number}")
    assert body["merged"] is True and body["merge_commit_sha"] == merged.pull.merge_commit_sha
    deleted_fork = repo.scenarios["deleted_fork"][0]
    assert http.json(f"/repos/{repo.full_name}/pulls/{deleted_fork}")["head"]["repo"] is None


def test_timelines_reviews_and_commits_match_the_dataset(http: Client, dataset: Dataset) -> None:
    repo = dataset.repositories[0]
    long_number = repo.scenarios["long_timeline"][0]
    timeline, pages = http.walk(f"/repos/{repo.full_name}/issues/{long_number}/timeline", {"per_page": "100"})
    assert pages == 2 and [e["event"] for e in timeline] == [
        e.event for e in repo.items[long_number].timeline
    ]
    many = repo.items[repo.scenarios["many_reviews"][0]]
    reviews, pages = http.walk(f"/repos/{repo.full_name}/pulls/{many.number}/reviews", {"per_page": "100"})
    assert many.pull is not None and pages == 2 and len(reviews) == len(many.pull.reviews)
    removed = repo.items[repo.scenarios["review_request_removed"][0]]
    events = http.json(f"/repos/{repo.full_name}/issues/{removed.number}/timeline", {"per_page": "100"})
    kinds = [e["event"] for e in events]
    assert "review_requested" in kinds and "review_request_removed" in kinds
    request = next(e for e in events if e["event"] == "review_requested")
    assert request["requested_reviewer"]["login"] and request["actor"]["login"]
    unlinked = repo.items[repo.scenarios["unlinked_commit_author"][0]].pull
    assert unlinked is not None
    commit = http.json(f"/repos/{repo.full_name}/commits/{unlinked.head_sha}")
    assert commit["author"] is None and commit["commit"]["author"]["email"].endswith("@corp.example")
    assert http.json(f"/repos/{repo.full_name}/commits/{unlinked.head_sha[:10]}")["sha"] == unlinked.head_sha
    assert http.get(f"/repos/{repo.full_name}/commits/{'0' * 40}").status_code == 422


def test_etag_gives_an_uncounted_304(server: GitHubServer, http: Client, dataset: Dataset) -> None:
    path = f"/repos/{engine(dataset)}/issues"
    first = http.get(path, {"state": "all"})
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and len(etag) == 68
    server.reset_log()
    again = http.get(path, {"state": "all"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert again.headers["X-RateLimit-Remaining"] == first.headers["X-RateLimit-Remaining"]
    assert server.requests[-1].status == 304 and server.requests[-1].counted is False
    assert http.get(path, {"state": "all"}, headers={"If-None-Match": 'W/"stale"'}).status_code == 200
    dataset.advance(seed=3, hours=2, fraction_updated=0.5)  # visible at once: the page changed
    assert http.get(path, {"state": "all"}, headers={"If-None-Match": etag}).status_code == 200


def test_authentication(server: GitHubServer, dataset: Dataset) -> None:
    path = f"/repos/{engine(dataset)}"
    for client in (Client(server, None), Client(server, "wrong")):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json() == {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }
        assert "X-RateLimit-Limit" in response.headers
    bearer = requests.get(server.base_url + path, headers={"Authorization": "Bearer valid-token"}, timeout=5)
    assert bearer.status_code == 200
    assert all(not r.counted for r in server.requests if r.status == 401)
    with pytest.raises(github.BadCredentialsException):
        github.Github(auth=github.Auth.Token("nope"), base_url=server.base_url, retry=None).get_repo(
            engine(dataset)
        )


def test_unknown_routes_and_objects_are_404(http: Client, dataset: Dataset) -> None:
    for path in (
        "/nope",
        f"/repos/{engine(dataset)}/issues/999999",
        "/repos/nobody/nothing",
        f"/repos/{engine(dataset)}/wiki",
    ):
        response = http.get(path)
        assert response.status_code == 404 and response.json()["message"] == "Not Found", path


def test_quota_counts_down_and_exhaustion_answers_like_github(
    server: GitHubServer, http: Client, dataset: Dataset
) -> None:
    server.quota = 3
    path = f"/repos/{engine(dataset)}"
    remaining = [http.get(path).headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    reset_at = int(time.time()) + 1800
    server.exhaust_quota(reset_at)
    denied = http.get(path)
    assert denied.status_code == 403
    assert denied.json()["message"].startswith("API rate limit exceeded for user ID ")
    assert (
        denied.json()["documentation_url"]
        == "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
    )
    assert denied.headers["X-RateLimit-Remaining"] == "0" and denied.headers["X-RateLimit-Reset"] == str(
        reset_at
    )
    assert denied.headers["X-RateLimit-Used"] == "3" and denied.headers["X-RateLimit-Resource"] == "core"
    limits = http.json("/rate_limit")
    assert limits["resources"]["core"] == {"limit": 3, "used": 3, "remaining": 0, "reset": reset_at}
    assert limits["rate"] == limits["resources"]["core"]
    assert [r.counted for r in server.requests[-2:]] == [False, False]
    with pytest.raises(github.RateLimitExceededException):
        pygithub(server).get_repo(engine(dataset))
    server.reset_at = int(time.time()) - 1  # the window passed: quota refills
    assert http.get(path).status_code == 200 and server.remaining == 2


# --------------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------------


def test_server_errors_and_secondary_rate_limits(
    server: GitHubServer, http: Client, dataset: Dataset
) -> None:
    path = f"/repos/{engine(dataset)}/issues"
    server.inject(r"/issues$", status=500)
    server.inject(r"/issues$", status=502)
    server.inject(r"/issues$", status=503)
    server.inject(r"/issues$", status=403)
    server.inject(r"/issues$", status=429, headers={"Retry-After": "7"})
    server.inject(r"/issues$", status=404, times=2)
    statuses = [http.get(path) for _ in range(8)]
    assert [r.status_code for r in statuses] == [500, 502, 503, 403, 429, 404, 404, 200]
    assert statuses[0].json() == {"message": "Server Error"}
    assert statuses[2].json()["code"] == "service_unavailable"
    assert statuses[3].json()["message"].startswith("You have exceeded a secondary rate limit")
    assert statuses[3].headers["Retry-After"] == "60" and statuses[4].headers["Retry-After"] == "7"
    assert statuses[5].json()["message"] == "Not Found"
    assert server.pending_faults == 0
    assert [r.counted for r in server.requests[-8:]] == [True] * 8
    server.inject(r"/issues$", status=403, headers={"Retry-After": None})
    assert "Retry-After" not in http.get(path).headers
    server.inject(r"/repos/[^/]+/[^/]+$", status=403)
    with pytest.raises(github.RateLimitExceededException):
        pygithub(server).get_repo(engine(dataset))


def test_timeouts_truncation_html_and_dropped_connections(
    server: GitHubServer, http: Client, dataset: Dataset
) -> None:
    path = f"/repos/{engine(dataset)}/issues/1"
    server.inject(r"/issues/1$", delay=0.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(path, timeout=0.2)
    assert http.get(path).status_code == 200  # the fault was consumed by the timed-out request
    server.inject(r"/issues/1$", truncate=True)
    cut = http.get(path)
    assert cut.status_code == 200 and int(cut.headers["Content-Length"]) == len(cut.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    server.inject(r"/issues/1$", non_json=True)
    html = http.get(path)
    assert (
        html.status_code == 200
        and html.headers["Content-Type"].startswith("text/html")
        and b"<html>" in html.content
    )
    server.inject(r"/issues/1$", non_json=True, status=502)
    assert http.get(path).status_code == 502
    server.inject(r"/issues/1$", disconnect=True)
    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        http.get(path)
    server.inject(r"/issues/1$", body={"message": "custom"}, status=418, headers={"X-Extra": "1"})
    custom = http.get(path)
    assert (custom.status_code, custom.json(), custom.headers["X-Extra"]) == (418, {"message": "custom"}, "1")
    assert http.get(path).status_code == 200


def test_pygithub_client_timeout_against_a_delayed_response(server: GitHubServer, dataset: Dataset) -> None:
    server.inject(r"/repos/[^/]+/[^/]+$", delay=1.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        pygithub(server, timeout=1).get_repo(engine(dataset))


def test_renamed_repository_redirects_like_github(
    server: GitHubServer, http: Client, dataset: Dataset
) -> None:
    repo = dataset.repositories[0]
    old = repo.full_name
    server.rename_repo(old, "engine-ng")
    moved = http.get(f"/repos/{old}")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{server.base_url}/repositories/{repo.id}"
    assert moved.json()["message"] == "Moved Permanently" and moved.json()["url"] == moved.headers["Location"]
    sub = http.get(f"/repos/{old}/issues", {"state": "all"})
    assert sub.status_code == 301
    assert sub.headers["Location"] == f"{server.base_url}/repositories/{repo.id}/issues?state=all"
    assert http.json(f"/repositories/{repo.id}")["full_name"] == f"{dataset.org.login}/engine-ng"
    assert pygithub(server).get_repo(old).full_name == f"{dataset.org.login}/engine-ng"
    listed = {r["full_name"] for r in http.json(f"/orgs/{dataset.org.login}/repos")}
    assert f"{dataset.org.login}/engine-ng" in listed and old not in listed


def test_deleted_repository_milestone_and_transferred_issue(
    server: GitHubServer, http: Client, dataset: Dataset
) -> None:
    source, target = dataset.repositories
    number = source.scenarios["transferred"][0]
    transfer = source.items[number].transferred_to
    assert transfer is not None and transfer.repo_id == target.id
    moved = http.get(f"/repos/{source.full_name}/issues/{number}")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{server.base_url}/repositories/{target.id}/issues/{transfer.number}"
    assert http.json(moved.headers["Location"])["title"] == source.items[number].title
    listed = http.walk(f"/repos/{source.full_name}/issues", {"state": "all", "per_page": "100"})[0]
    assert number not in {i["number"] for i in listed}
    milestone = next(
        m for m in source.milestones.values() if any(i.milestone is m for i in source.visible_items())
    )
    server.delete_milestone(source.full_name, milestone.number)
    assert http.get(f"/repos/{source.full_name}/milestones/{milestone.number}").status_code == 404
    holder = next(i for i in source.visible_items() if i.milestone is milestone)
    assert http.json(f"/repos/{source.full_name}/issues/{holder.number}")["milestone"] is None
    server.delete_repo(target.full_name)
    assert http.get(f"/repos/{target.full_name}").status_code == 404
    assert http.get(f"/repositories/{target.id}/issues").status_code == 404


def test_mutations_are_served_immediately(server: GitHubServer, http: Client, dataset: Dataset) -> None:
    repo = dataset.repositories[0]
    milestone = next(m for m in repo.milestones.values() if m.due_on)
    server.change_milestone_due(repo.full_name, milestone.number, datetime(2031, 3, 4, 8, tzinfo=UTC))
    assert (
        http.json(f"/repos/{repo.full_name}/milestones/{milestone.number}")["due_on"]
        == "2031-03-04T08:00:00Z"
    )
    since = dataset.now
    result = dataset.advance(seed=4, hours=6, fraction_updated=0.05, new_issues=1)
    got = http.walk(
        f"/repos/{repo.full_name}/issues", {"state": "all", "since": since.isoformat(), "per_page": "100"}
    )[0]
    assert sorted(i["number"] for i in got) == sorted(
        result.updated[repo.full_name] + result.created[repo.full_name]
    )


def test_concurrent_clients(server: GitHubServer, dataset: Dataset) -> None:
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            client = Client(server)
            for n in range(1, 21):
                assert client.get(f"/repos/{engine(dataset)}/issues/{n + offset}/timeline").status_code in (
                    200,
                    301,
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k * 20,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(server.requests) == 120 and server.remaining == 5000 - 120


# --------------------------------------------------------------------------------------------------
# OpenAPI conformance
# --------------------------------------------------------------------------------------------------


def _timeline_cover(items: list[Issue]) -> list[int]:
    """A few items whose timelines together contain every event kind present."""
    wanted = {e.event for i in items for e in i.timeline}
    chosen: list[int] = []
    while wanted:
        best = max(items, key=lambda i: len(wanted & {e.event for e in i.timeline}))
        chosen.append(best.number)
        wanted -= {e.event for e in best.timeline}
    return chosen


@pytest.mark.skipif(not openapi_available(), reason=SKIP_REASON)
def test_every_endpoint_validates_against_githubs_openapi(
    server: GitHubServer, http: Client, dataset: Dataset
) -> None:
    repo = dataset.repositories[0]
    full = repo.full_name
    pulls = list(repo.pulls())
    special = [
        repo.scenarios["deleted_fork"][0],
        repo.scenarios["fork"][0],
        next(i.number for i in pulls if i.pull and i.pull.merged_at),
        next(i.number for i in pulls if i.user is None),
    ]
    ghost_issue = next(i.number for i in repo.issues() if i.user is None)
    ghost_commented = next(i.number for i in repo.visible_items() if any(c.user is None for c in i.comments))
    heads = [repo.items[n].pull for n in (special[0], repo.scenarios["unlinked_commit_author"][0])]
    commits = [p.head_sha for p in heads if p is not None]
    commits.append(next(c.sha for c in repo.commits.values() if len(c.parents) == 2))
    paths = [
        f"/repos/{full}",
        f"/repositories/{repo.id}",
        f"/orgs/{dataset.org.login}/repos",
        f"/repos/{full}/issues?state=all&per_page=100",
        f"/repos/{full}/issues/comments?per_page=100",
        f"/repos/{full}/milestones?state=all",
        f"/repos/{full}/milestones/1",
        f"/repos/{full}/pulls?state=all&per_page=100",
        f"/repos/{full}/pulls/comments?per_page=100",
        "/rate_limit",
        f"/repos/{full}/issues/{ghost_issue}",
        *(f"/repos/{full}/issues/{n}" for n in special),
        *(f"/repos/{full}/pulls/{n}" for n in special),
        *(f"/repos/{full}/pulls/{n}/reviews" for n in special),
        *(f"/repos/{full}/commits/{sha}" for sha in commits),
        *(
            f"/repos/{full}/issues/{n}/timeline?per_page=100"
            for n in _timeline_cover(list(repo.visible_items()))
        ),
        f"/repos/{full}/issues/{ghost_commented}/timeline",
        f"/repos/{full}/issues/999999",
        f"/repos/{full}/issues/{repo.scenarios['transferred'][0]}",
        f"/repos/{full}/commits/{'f' * 40}",
    ]
    validated: set[str] = set()
    for path in paths:
        response = http.get(path)
        validate_response("GET", path, response.status_code, response.json())
        validated.add(f"{endpoint_of(path)} {response.status_code}")
    server.inject(r"/pulls/\d+$", status=503)
    server.inject(r"/pulls/\d+$", status=500)
    for _ in range(2):
        response = http.get(f"/repos/{full}/pulls/{special[0]}")
        validate_response("GET", f"/repos/{full}/pulls/{special[0]}", response.status_code, response.json())
    etag = http.get(f"/repos/{full}/pulls/{special[0]}").headers["ETag"]
    not_modified = http.get(f"/repos/{full}/pulls/{special[0]}", headers={"If-None-Match": etag})
    validate_response("GET", f"/repos/{full}/pulls/{special[0]}", 304, not_modified.content)
    server.inject(r"^/repos/[^/]+/[^/]+$", status=403)
    validate_response("GET", f"/repos/{full}", 403, http.get(f"/repos/{full}").json())
    validate_schema("basic-error", Client(server, "bad").get(f"/repos/{full}").json())
    server.exhaust_quota()
    validate_response("GET", f"/repos/{full}", 403, http.get(f"/repos/{full}").json())
    assert len(validated) >= 17, sorted(validated)


# --------------------------------------------------------------------------------------------------
# PyGithub against the server
# --------------------------------------------------------------------------------------------------


def test_pygithub_reads_issues_and_gets_304_with_its_requester(
    server: GitHubServer, dataset: Dataset
) -> None:
    repo = dataset.repositories[0]
    gh = pygithub(server)
    issues = list(gh.get_repo(repo.full_name).get_issues(state="all"))
    assert len(issues) == sum(1 for _ in repo.visible_items())
    for issue in issues:
        truth = repo.items[issue.number]
        assert issue.title == truth.title and issue.state == truth.state
        assert issue.updated_at == truth.updated_at and issue.created_at == truth.created_at
        assert (issue.user.login if issue.user else None) == (truth.user.login if truth.user else None)
        assert [a.login for a in issue.assignees] == [a.login for a in truth.assignees]
        # (html_url, because reading .pull_request of a plain issue makes PyGithub fetch it again)
        assert ("/pull/" in issue.html_url) == truth.is_pull
        assert issue.state_reason == truth.state_reason
        if truth.milestone is not None:
            assert (
                issue.milestone.number == truth.milestone.number
                and issue.milestone.due_on == truth.milestone.due_on
            )
    assert server.requests_by_endpoint() == {"/repos/{owner}/{repo}": 1, "/repos/{owner}/{repo}/issues": 3}
    status, headers, _ = gh.requester.requestJson("GET", f"/repos/{repo.full_name}/issues", {"state": "all"})
    assert status == 200
    status, headers, body = gh.requester.requestJson(
        "GET", f"/repos/{repo.full_name}/issues", {"state": "all"}, {"If-None-Match": headers["etag"]}
    )
    assert status == 304 and body in ("", b"") and server.requests[-1].counted is False
    reviews = list(gh.get_repo(repo.full_name).get_pull(repo.scenarios["review_answered"][0]).get_reviews())
    assert reviews and all(
        r.state in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED") for r in reviews
    )


def test_pygithub_requester_throughput(server: GitHubServer, dataset: Dataset) -> None:
    gh = pygithub(server)
    repo = dataset.repositories[0]
    numbers = [i.number for i in repo.visible_items()][:100]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        gh.requester.requestJsonAndCheck(
            "GET", f"/repos/{repo.full_name}/issues/{numbers[count % len(numbers)]}/timeline"
        )
        count += 1
    rate = count / (time.perf_counter() - start)
    print(f"PyGithub requester against GitHubServer: {rate:.0f} requests/s")
    assert rate > 150
