"""GitHub Projects due dates (pipeline.github_projects) against the local server's /graphql, on the
seeded scenario with projects (tests.support.github_scenario.add_projects): date fields, iterations,
precedence over milestones, two projects, dates moved between runs, a token without read:project."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import requests
from graphql import parse, validate

from pipeline import doctor
from pipeline.db import connect
from pipeline.github_client import ClientSettings, GitHubClient
from pipeline.github_graphql import sync_github_repository_graphql
from pipeline.github_projects import (
    PROJECTS_PER_ITEM,
    ProjectOptions,
    project_items_query,
    sync_project_due_dates,
)
from pipeline.github_sync import GitHubSyncOptions
from pipeline.metrics import follow_through
from pipeline.metrics.common import MetricSettings
from pipeline.metrics.follow_through import with_project_due_dates
from pipeline.runs import StepResult, start_run
from tests.support.github_graphql import github_schema, query_cost
from tests.support.github_scenario import Dataset, ProjectIteration, add_projects, generate_dataset
from tests.support.github_server import GitHubServer
from tests.support.openapi import SKIP_REASON, openapi_available, validate_response

TOKEN = "valid-token"
OPTIONS = GitHubSyncOptions(concurrency=1, commit_logins=False)


@pytest.fixture
def dataset() -> Dataset:
    dataset = generate_dataset(5, issues=120, prs=40)
    add_projects(dataset)
    return dataset


@pytest.fixture
def server(dataset: Dataset) -> Iterator[GitHubServer]:
    with GitHubServer(dataset, tokens={TOKEN}, quota=10**9, graphql_quota=10**6) as running:
        yield running
        assert running.errors == []


def client(server: GitHubServer) -> GitHubClient:
    return GitHubClient(
        TOKEN, ClientSettings(base_url=server.base_url, backoff_seconds=0.01), sleep=lambda _: None
    )


def sync(
    con: duckdb.DuckDBPyConnection,
    server: GitHubServer,
    full_name: str,
    options: ProjectOptions | None = None,
) -> tuple[str, StepResult]:
    run_id = start_run(con, "test")
    github = client(server)
    sync_github_repository_graphql(con, github, full_name, run_id, OPTIONS)
    return run_id, sync_project_due_dates(con, github, full_name, run_id, options=options or ProjectOptions())


def scenario(dataset: Dataset, name: str) -> int:
    (pair,) = dataset.projects[0].scenarios[name]
    return pair[1]


def found(con: duckdb.DuckDBPyConnection, number: int) -> tuple[Any, ...]:
    """due() of an item that has a due date."""
    row = due(con, number)
    assert row is not None, number
    return row


def due(con: duckdb.DuckDBPyConnection, number: int) -> tuple[Any, ...] | None:
    row = con.execute(
        """SELECT due_date, due_source, due_project_title, due_field_name, due_evidence, milestone_due_date
           FROM fct_item_due_dates WHERE number = ?""",
        [number],
    ).fetchone()
    return tuple(row) if row else None


def closed_day(dataset: Dataset, number: int) -> date:
    closed = dataset.repositories[0].items[number].closed_at
    assert closed is not None
    return closed.date()


def test_the_query_is_valid_for_githubs_schema_and_costs_three_points_per_100_items() -> None:
    schema = github_schema()
    query = project_items_query([False, True] * 50)
    document = parse(query)
    assert validate(schema, document) == []
    variables = {"owner": "o", "name": "r", "first": PROJECTS_PER_ITEM} | {f"n{i}": i + 1 for i in range(100)}
    cost = query_cost(schema, document, variables)
    assert cost.errors == [] and cost.points == 3  # 100 x (projectItems 1 + fieldValues 2) / 100


def test_due_dates_from_project_date_fields_iterations_and_milestones(
    tmp_path: Path, server: GitHubServer, dataset: Dataset
) -> None:
    con = connect(tmp_path / "projects.duckdb")
    repo = dataset.repositories[0]
    _, result = sync(con, server, repo.full_name)
    assert result.status == "succeeded" and result.warnings == []
    visible = sum(1 for _ in repo.visible_items())
    assert result.details["items_asked"] == visible and result.count_rows_added == visible
    assert result.details["graphql_queries"] == 2 and result.details["graphql_points"] <= 12
    # Every query the server saw validated against the schema and was answered without errors.
    assert server.graphql.log and all(
        entry.errors == () and entry.status == 200 for entry in server.graphql.log
    )

    dated = scenario(dataset, "project_date")
    assert found(con, dated)[:5] == (
        closed_day(dataset, dated) + timedelta(days=2),
        "project_date",
        "Roadmap",
        "Target date",
        'Project "Roadmap", field "Target date"',
    )
    # An iteration: due on its last day, start + duration - 1.
    done = scenario(dataset, "project_iteration_done")
    (sprint,) = [v for v in _entry(dataset, 1, done).values.values() if isinstance(v, ProjectIteration)]
    assert found(con, done)[:4] == (
        sprint.start_date + timedelta(days=13),
        "project_iteration",
        "Roadmap",
        "Sprint",
    )
    assert found(con, done)[4] == f'Project "Roadmap", iteration "{sprint.title}" of field "Sprint"'
    # A project date beats the milestone's, which stays visible beside it.
    over = scenario(dataset, "project_over_milestone")
    milestone = repo.items[over].milestone
    assert milestone is not None and milestone.due_on is not None
    got = due(con, over)
    assert (
        got is not None
        and got[1] == "project_date"
        and got[0] == closed_day(dataset, over) - timedelta(days=3)
    )
    assert got[5] == milestone.due_on.date() != got[0]
    # Two projects: the lowest project number wins (Roadmap #1 over Release plan #2).
    two = scenario(dataset, "two_projects")
    assert found(con, two)[:3] == (closed_day(dataset, two) + timedelta(days=5), "project_date", "Roadmap")
    candidates = con.execute(
        "SELECT project_number, due_date FROM fct_due_date_observations WHERE number = ? ORDER BY 1", [two]
    ).fetchall()
    assert candidates == [
        (1, closed_day(dataset, two) + timedelta(days=5)),
        (2, closed_day(dataset, two) - timedelta(days=5)),
    ]
    # "Start date" is not a due date field: no project candidate, the milestone (if any) decides.
    start_only = scenario(dataset, "project_start_date_only")
    got = due(con, start_only)
    assert got is None or got[1] == "milestone"
    assert con.execute(
        "SELECT count(*) FROM fct_due_date_observations WHERE field_name = 'Start date'"
    ).fetchone() == (0,)
    assert (
        con.execute(
            "SELECT count(*) FROM stg_github__project_field_values WHERE field_name = 'Start date'"
        ).fetchall()[0][0]
        >= 1
    )
    # Every project value of the scenario became a staged row.
    expected = sum(
        1
        for project in dataset.projects
        for entry in project.items
        for _ in entry.values
        if entry.repo is repo and entry.content.transferred_to is None
    )
    assert con.execute("SELECT count(*) FROM stg_github__project_field_values").fetchone() == (expected,)
    # A narrower configuration: only the Release plan project, only its field name.
    narrow = connect(tmp_path / "narrow.duckdb")
    sync(
        narrow,
        server,
        repo.full_name,
        ProjectOptions(due_date_fields=("due DATE",), projects=(f"{dataset.org.login}/2",)),
    )
    sources = narrow.execute(
        "SELECT DISTINCT project_title, field_name FROM fct_due_date_observations WHERE number IS NOT NULL"
    ).fetchall()
    assert sources == [("Release plan", "Due date")]


def _entry(dataset: Dataset, project_number: int, number: int) -> Any:
    project = dataset.project(dataset.org.login, project_number)
    return next(e for e in project.items if e.content.number == number)


def test_a_quiet_night_costs_no_points_and_only_304s(
    tmp_path: Path, server: GitHubServer, dataset: Dataset
) -> None:
    """After the first read, the projects are watched over REST: a night when nothing changed asks
    every watched page with its ETag (all 304, no quota), sends no GraphQL query and says unchanged."""
    con = connect(tmp_path / "quiet.duckdb")
    repo = dataset.repositories[0]
    _, first = sync(con, server, repo.full_name)
    assert first.count_rows_added == sum(1 for _ in repo.visible_items())
    # The first read lists each project the repository's items are on (two org projects, one user's).
    listed = {r.path.split("/items")[0] for r in server.requests if "/projectsV2/" in r.path}
    assert listed >= {f"/orgs/{dataset.org.login}/projectsV2/1", f"/orgs/{dataset.org.login}/projectsV2/2"}
    server.reset_log()
    points = server.graphql.points
    github = client(server)
    again = sync_project_due_dates(con, github, repo.full_name, start_run(con, "quiet"))
    assert again.details["items_asked"] == 0 and again.details["watch"] == "used"
    assert server.graphql.points == points and again.details["graphql_queries"] == 0
    project_requests = [r for r in server.requests if "/projectsV2/" in r.path]
    assert project_requests and all(r.status == 304 and not r.counted for r in project_requests)
    assert (again.status, again.count_rows_added, again.count_not_modified) == (
        "unchanged", 0, len(project_requests),
    )  # fmt: skip


def test_a_changed_page_names_the_items_to_ask_open_or_closed(
    tmp_path: Path, server: GitHubServer, dataset: Dataset
) -> None:
    """A date cleared on a closed item (nothing else about the item changes) is seen the next run:
    its project page answers 200 and, of the entries on it, only the one that changed is asked. An
    issue that changes makes its page change too, but asks only that issue again."""
    con = connect(tmp_path / "changed.duckdb")
    repo = dataset.repositories[0]
    dated = scenario(dataset, "project_date")  # closed, dated on Roadmap only
    sync(con, server, repo.full_name)
    assert found(con, dated)[1] == "project_date"
    dataset.set_project_value(dataset.org.login, 1, repo.full_name, dated, "Target date", None)
    server.reset_log()
    _, result = sync(con, server, repo.full_name)
    assert result.details["items_asked"] == 1
    assert [r.status for r in server.requests if "/projectsV2/1/items" in r.path].count(200) == 1
    assert [r[0] for r in con.execute(
        "SELECT due_date FROM fct_due_date_observations WHERE number = ? ORDER BY first_observed_at", [dated]
    ).fetchall()] == [closed_day(dataset, dated) + timedelta(days=2), None]  # fmt: skip
    assert due(con, dated) is None or due(con, dated)[1] == "milestone"  # type: ignore[index]
    dataset.advance(seed=3, hours=20, fraction_updated=0.1)
    run_id, result = sync(con, server, repo.full_name)
    changed = con.execute("SELECT count(*) FROM raw_github__issues WHERE run_id = ?", [run_id]).fetchall()[0][
        0
    ]
    assert result.details["items_asked"] == changed > 0


def test_an_item_put_on_a_watched_project_is_seen(
    tmp_path: Path, server: GitHubServer, dataset: Dataset
) -> None:
    con = connect(tmp_path / "added.duckdb")
    repo = dataset.repositories[0]
    sync(con, server, repo.full_name)
    release = dataset.project(dataset.org.login, 2)
    on_release = {e.content.number for e in release.items if e.repo is repo}
    newcomer = next(
        i for i in sorted(repo.visible_items(), key=lambda i: i.number) if i.number not in on_release
    )
    template = release.items[0]
    with dataset.lock:
        release.items.append(
            type(template)(99_000_001, "PVTI_new", newcomer, repo, dataset.now, dataset.now,
                           values={"Due date": dataset.now.date() + timedelta(days=3)})
        )  # fmt: skip
        dataset.version += 1
    sync(con, server, repo.full_name)
    assert found(con, newcomer.number)[:2] == (dataset.now.date() + timedelta(days=3), "project_date")


def test_without_the_rest_projects_api_the_open_items_are_asked(
    tmp_path: Path, server: GitHubServer, dataset: Dataset
) -> None:
    """A server without the projectsV2 REST endpoints (404): the watch says so, and every run asks
    the open items as before it, so a moved date of an open item is still seen."""
    con = connect(tmp_path / "no-rest.duckdb")
    repo = dataset.repositories[0]
    server.inject(r"/projectsV2/", status=404, times=10**6)
    _, first = sync(con, server, repo.full_name)
    assert first.details["watch"].startswith("unavailable: GitHub has no /orgs/")
    moved = scenario(dataset, "project_date_moved")
    new = dataset.now.date() + timedelta(days=40)
    dataset.set_project_value(dataset.org.login, 2, repo.full_name, moved, "Due date", new)
    _, again = sync(con, server, repo.full_name)
    assert again.details["items_asked"] == sum(1 for i in repo.visible_items() if i.state == "open")
    assert again.details["watch"].startswith("unavailable")
    assert found(con, moved)[0] == new


def test_a_moved_date_is_two_observations_and_a_cleared_one_a_null(
    tmp_path: Path, server: GitHubServer, dataset: Dataset
) -> None:
    con = connect(tmp_path / "moved.duckdb")
    repo = dataset.repositories[0]
    moved = scenario(dataset, "project_date_moved")
    dated = scenario(dataset, "project_date")
    first_run, _ = sync(con, server, repo.full_name)
    old = dataset.now.date() + timedelta(days=10)
    new = old + timedelta(days=21)
    dataset.set_project_value(dataset.org.login, 2, repo.full_name, moved, "Due date", new)
    dataset.set_project_value(dataset.org.login, 1, repo.full_name, dated, "Target date", None)
    second_run, result = sync(con, server, repo.full_name)
    # Run 2 asks the items on changed project pages and items whose issue changed; not all again.
    assert 0 < result.details["items_asked"] < sum(1 for _ in repo.visible_items())
    rows = con.execute(
        """SELECT due_date, first_run_id, last_run_id, due_source, project_title, field_name
           FROM fct_due_date_observations WHERE number = ? ORDER BY first_observed_at""",
        [moved],
    ).fetchall()
    assert rows == [
        (old, first_run, first_run, "project_date", "Release plan", "Due date"),
        (new, second_run, second_run, "project_date", "Release plan", "Due date"),
    ]
    assert found(con, moved)[0] == new
    # The cleared date of a closed item is seen too (its project page changed) ...
    assert [r[0] for r in con.execute(
        "SELECT due_date FROM fct_due_date_observations WHERE number = ? ORDER BY first_observed_at", [dated]
    ).fetchall()] == [closed_day(dataset, dated) + timedelta(days=2), None]  # fmt: skip
    # ... and an open item's cleared value starts a NULL stretch, and its project date gives way.
    running = scenario(dataset, "project_iteration_running")
    dataset.set_project_value(dataset.org.login, 1, repo.full_name, running, "Sprint", None)
    third_run, _ = sync(con, server, repo.full_name)
    assert [r[0] for r in con.execute(
        "SELECT due_date FROM fct_due_date_observations WHERE number = ? ORDER BY first_observed_at", [running]
    ).fetchall()][-1] is None  # fmt: skip
    got = due(con, running)
    assert got is None or got[1] == "milestone"
    # Unchanged candidates extend their stretch: one row, last seen by the latest run.
    assert con.execute(
        "SELECT count(*), arg_max(last_run_id, last_observed_at) FROM fct_due_date_observations WHERE number = ?",
        [moved],
    ).fetchone() == (2, third_run)


def test_commitments_take_the_project_due_date_as_of(
    tmp_path: Path, server: GitHubServer, dataset: Dataset
) -> None:
    con = connect(tmp_path / "commitments.duckdb")
    repo = dataset.repositories[0]
    sync(con, server, repo.full_name)
    as_of = dataset.now.replace(tzinfo=None)
    # follow_through.commitments applies with_project_due_dates over the milestone-derived due dates.
    original = follow_through._milestone_at_as_of
    facts = follow_through.commitments(con, MetricSettings(as_of=as_of)).collect()
    by_number: dict[int, set[tuple[date, str]]] = {}
    for number, due_date, outcome in facts.select("number", "due_date", "outcome").iter_rows():
        by_number.setdefault(number, set()).add((due_date, outcome))
    running = scenario(dataset, "project_iteration_running")
    sprint = next(v for v in _entry(dataset, 1, running).values.values() if isinstance(v, ProjectIteration))
    assert sprint.start_date <= as_of.date() <= sprint.last_day
    assert (sprint.last_day, "pending") in by_number[running]  # the iteration is still running
    dated = scenario(dataset, "project_date")
    assert (closed_day(dataset, dated) + timedelta(days=2), "on_time") in by_number[dated]
    done = scenario(dataset, "project_iteration_done")
    assert "late" in {outcome for _, outcome in by_number[done]}
    over = scenario(dataset, "project_over_milestone")
    assert (closed_day(dataset, over) - timedelta(days=3), "late") in by_number[over]  # not the milestone's
    assert all(len({d for d, _ in pairs}) == 1 for pairs in by_number.values())  # one due date per item
    # fct_commitments names where each due date came from; a milestone by its title.
    named = dict(facts.select("number", "due_evidence").iter_rows())
    assert named[dated] == 'Project "Roadmap", field "Target date"'
    from_milestone = facts.filter(pl.col("due_date_source") == "milestone")
    assert from_milestone.height > 0 and from_milestone["due_evidence"].str.starts_with('Milestone "').all()
    # The columns fct_commitments gains, as the helper gives them.
    settings = MetricSettings(as_of=as_of)
    milestone_dated = original(
        follow_through._items(con, settings),
        follow_through._events(con, settings),
        follow_through._milestone_due(con, settings),
    )
    frame = with_project_due_dates(milestone_dated, con, as_of).collect()
    sources = dict(frame.select("number", "due_date_source").iter_rows())
    assert sources[running] == "project_iteration" and sources[dated] == "project_date"
    evidence = dict(frame.select("number", "due_evidence").iter_rows())
    assert evidence[dated] == 'Project "Roadmap", field "Target date"'
    plain = frame.filter(pl.col("due_date_source") == "milestone")
    assert plain.height > 0 and plain["due_evidence"].str.starts_with("Milestone #").all()
    # As of a time before any sync saw a project date, the earliest observation is used (as milestones).
    early = with_project_due_dates(milestone_dated, con, datetime(2000, 1, 1)).collect()
    assert dict(early.select("number", "due_date").iter_rows())[dated] == closed_day(
        dataset, dated
    ) + timedelta(days=2)


def test_a_token_without_read_project_keeps_milestones_and_says_how_to_fix_it(
    tmp_path: Path, server: GitHubServer, dataset: Dataset
) -> None:
    con = connect(tmp_path / "noscope.duckdb")
    server.graphql.inject_error(
        "projectItems",
        type="INSUFFICIENT_SCOPES",
        message="Your token has not been granted the required scopes to execute this query. The 'projectItems' "
        "field requires one of the following scopes: ['read:project'], but your token has only been granted "
        "the: ['repo'] scopes.",
        times=10**6,
    )
    _, result = sync(con, server, dataset.repositories[0].full_name)
    assert result.status == "skipped"
    (warning,) = result.warnings
    assert "INSUFFICIENT_SCOPES" in warning and "gh auth refresh -s read:project" in warning
    assert con.execute("SELECT count(*) FROM raw_github__project_items").fetchone() == (0,)
    assert con.execute(
        "SELECT count(*) FROM fct_item_due_dates WHERE due_source <> 'milestone'"
    ).fetchone() == (0,)


def _user(scopes: str | None) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    if scopes is not None:
        response.headers["X-OAuth-Scopes"] = scopes
    return response


def test_doctor_checks_read_project() -> None:
    # A check of its own, beside the token's scopes.
    fine = doctor._project_scope(_user(None))  # fine-grained: scopes cannot be listed
    assert fine.status == "ok" and "Projects: read" in fine.detail
    ok = doctor._project_scope(_user("read:org, read:project, repo"))
    assert ok.status == "ok" and ok.detail.startswith("read:project: GitHub Projects due dates")
    assert doctor._project_scope(_user("project, public_repo")).status == "ok"
    missing = doctor._project_scope(_user("read:org, repo"))
    assert missing.status == "warn" and missing.detail.startswith("no read:project scope")
    assert "milestones alone give due dates" in missing.detail
    assert missing.fix and "gh auth refresh -s read:project" in missing.fix
    assert "https://github.com/settings/tokens" in missing.fix
    scopes = doctor._scopes(_user("read:org, repo"))
    assert scopes.status == "ok" and scopes.detail.startswith("classic token, scopes: read:org, repo")
    assert "project" not in scopes.detail  # said once, in its own check
    bare = doctor._project_scope(_user(""))
    assert bare.status == "warn" and bare.fix and "read:project" in bare.fix


@pytest.mark.skipif(not openapi_available(), reason=SKIP_REASON)
def test_the_servers_rest_projects_lists_match_githubs_description(
    server: GitHubServer, dataset: Dataset
) -> None:
    """The local server's projectsV2 lists (what the watch asks) validate against GitHub's OpenAPI
    description, page by cursor, filter by repo:, carry the asked fields and answer 304 to an ETag."""
    session = requests.Session()
    session.headers["Authorization"] = f"token {TOKEN}"
    repo = dataset.repositories[0]
    roadmap = dataset.project(dataset.org.login, 1)
    base = f"/orgs/{dataset.org.login}/projectsV2/1"
    fields = session.get(server.base_url + base + "/fields")
    validate_response("GET", base + "/fields", 200, fields.json())
    due_ids = [f["id"] for f in fields.json() if f["data_type"] in ("date", "iteration")]
    assert {f["name"] for f in fields.json()} == {f.name for f in roadmap.fields}
    url: str | None = (
        server.base_url
        + f"{base}/items?per_page=7&q=repo:{repo.full_name}&fields={','.join(map(str, due_ids))}"
    )
    numbers: list[int] = []
    while url:
        page = session.get(url)
        validate_response("GET", base + "/items", 200, page.json())
        for item in page.json():
            assert {f["id"] for f in item["fields"]} == {roadmap.field_named("Title").id, *due_ids}
        numbers += [item["content"]["number"] for item in page.json()]
        url = page.links.get("next", {}).get("url")
    assert numbers == [e.content.number for e in roadmap.items if e.repo is repo and not e.archived]
    etag = session.get(server.base_url + base + "/fields").headers["ETag"]
    assert session.get(server.base_url + base + "/fields", headers={"If-None-Match": etag}).status_code == 304
    missing = session.get(server.base_url + f"/orgs/{dataset.org.login}/projectsV2/99/items")
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
