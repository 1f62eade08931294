"""Benchmark: GitHub sync of a seeded 10k-issue, 3k-PR repository from the local server, through the
REST path (`[github] api = "rest"`) and the GraphQL path (`api = "graphql"`, the default).

    .venv/bin/python -m tests.benchmarks.bench_github_sync [--issues 10000] [--prs 3000]

Each path syncs the same repository (with the git commits of its pull requests already in the
database, so the commit-author logins are looked up too) into its own database: a first sync, a
no-change night, then a night after 100 items changed. Quota units: for REST, the requests that cost
quota (GitHub does not count 304s); for GraphQL, the points GitHub's formula charges (what the local
server's /graphql charges, checked against GitHub's documented examples in the tests) plus the REST
requests the GraphQL path still makes (repository, milestones, review comments, the change probe).
The GitHub Projects due-date stage (pipeline/github_projects.py), which every sync runs after either
path (GraphQL queries, and REST requests for its watch of the project pages), is measured on its own
each night (`--no-projects` leaves it out): its units are its points plus its REST requests that
cost quota; the line `with the projects stage` adds its first-sync units to both paths. Also printed: the REST path's requests against its minimum (ceil(items/100) list pages + one
timeline request per item + one reviews request per PR + one commit request per author email) and
wall times. The last line: `quota units: rest R, graphql G (G/R = x)` for the first sync. A
benchmark, not a test: nothing is asserted. Figures from the project's 2-core machine are in the
README.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from pipeline.db import connect
from pipeline.github_client import ClientSettings, GitHubClient
from pipeline.github_graphql import sync_github_repository_graphql
from pipeline.github_projects import sync_project_due_dates
from pipeline.github_sync import GitHubSyncOptions, sync_github_repository
from pipeline.identities import github_login_from_email
from pipeline.runs import StepResult, start_run
from tests.support.github_scenario import Dataset, add_projects, generate_dataset, minimum_requests
from tests.support.github_server import GitHubServer

Extract = Callable[..., StepResult]
PATHS: dict[str, Extract] = {"rest": sync_github_repository, "graphql": sync_github_repository_graphql}


def seed_git_commits(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> int:
    """raw_git__commits as a git sync of the clone would leave them; returns the emails to look up."""
    repo = dataset.repositories[0]
    rows = [
        (repo.full_name, c.sha, c.author_name, c.author_email, int(c.authored_at.timestamp()))
        for c in repo.commits.values()
    ]
    con.executemany(
        """INSERT INTO raw_git__commits (repo, sha, parent_shas, author_name, author_email, author_epoch,
           run_id, extracted_at) VALUES (?, ?, [], ?, ?, ?, 'bench', now())""",
        rows,
    )
    return len({r[3] for r in rows if "@" in r[3] and not github_login_from_email(r[3])})


def measure(
    server: GitHubServer, con: duckdb.DuckDBPyConnection, api: str, full_name: str, options: GitHubSyncOptions
) -> dict[str, Any]:
    """One sync through one path: its quota units, requests, queries, points and wall time."""
    client = GitHubClient("valid-token", ClientSettings(base_url=server.base_url))
    server.reset_log()
    points = server.graphql.points
    queries = len(server.graphql.log)
    started = time.perf_counter()
    step = PATHS[api](con, client, full_name, start_run(con, "bench"), options)
    seconds = time.perf_counter() - started
    rest_counted = server.counted_requests
    graphql_points = server.graphql.points - points
    return {
        "units": rest_counted + graphql_points,
        "rest_requests": len([r for r in server.requests if r.path != "/graphql"]),
        "rest_counted": rest_counted,
        "not_modified": step.count_not_modified,
        "graphql_queries": len(server.graphql.log) - queries,
        "graphql_points": graphql_points,
        "rows_added": step.count_rows_added,
        "seconds": round(seconds, 2),
    }


def measure_projects(server: GitHubServer, con: duckdb.DuckDBPyConnection, full_name: str) -> dict[str, Any]:
    """The projects stage after a sync: its points and REST requests that cost quota (the watch's
    page checks: 304s cost none), queries, items asked and wall time."""
    client = GitHubClient("valid-token", ClientSettings(base_url=server.base_url))
    points, queries = server.graphql.points, len(server.graphql.log)
    server.reset_log()
    started = time.perf_counter()
    step = sync_project_due_dates(con, client, full_name, start_run(con, "bench-projects"))
    return {
        "units": server.graphql.points - points + server.counted_requests,
        "graphql_points": server.graphql.points - points,
        "rest_counted": server.counted_requests,
        "rest_not_modified": step.count_not_modified,
        "graphql_queries": len(server.graphql.log) - queries,
        "items_asked": step.details.get("items_asked", 0),
        "rows_added": step.count_rows_added,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--prs", type=int, default=3_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--changed", type=int, default=100, help="items changed before the last night")
    parser.add_argument("--no-projects", action="store_true", help="leave the GitHub Projects stage out")
    args = parser.parse_args()

    started = time.perf_counter()
    dataset = generate_dataset(1, issues=args.issues, prs=args.prs)
    if not args.no_projects:
        add_projects(dataset)  # about a third of the items on a project with date and iteration fields
    generated = time.perf_counter() - started
    repo = dataset.repositories[0]
    options = GitHubSyncOptions(concurrency=args.concurrency, max_commit_logins=10**6)
    figures: dict[str, Any] = {
        "issues": args.issues,
        "pull_requests": args.prs,
        "dataset_seconds": round(generated, 2),
    }
    nights: dict[str, dict[str, dict[str, Any]]] = {"first": {}, "no_change": {}, "changed": {}}
    with (
        tempfile.TemporaryDirectory() as tmp,
        GitHubServer(dataset, quota=10**9, graphql_quota=10**9) as server,
    ):
        assert (
            server.graphql.schema is not None
        )  # GitHub's schema loads once (a second or two), outside the timings
        cons = {api: connect(Path(tmp) / f"{api}.duckdb") for api in PATHS}
        emails = {api: seed_git_commits(con, dataset) for api, con in cons.items()}["rest"]
        projects: dict[str, dict[str, Any]] = {}

        def night(name: str) -> None:
            for api, con in cons.items():
                nights[name][api] = measure(server, con, api, repo.full_name, options)
            if not args.no_projects:  # the same stage after either path: measured once, on the GraphQL one
                projects[name] = measure_projects(server, cons["graphql"], repo.full_name)

        night("first")
        night("no_change")
        items = len(list(repo.visible_items()))
        dataset.advance(seed=2, hours=20, fraction_updated=args.changed / items)
        night("changed")
        counts = {
            table: cons["graphql"].execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in (
                "fct_issues",
                "fct_pull_requests",
                "fct_reviews",
                "stg_github__timeline_events",
                "raw_github__commit_authors",
            )
        }
    minimum = minimum_requests(dataset, repo) + emails
    rest, graphql = nights["first"]["rest"], nights["first"]["graphql"]
    figures |= {
        "commit_author_emails": emails,
        "rest_minimum_requests": minimum,
        "rest_ratio_to_minimum": round(rest["rest_counted"] / minimum, 4),
        **{f"{name}_{api}": m for name, by_api in nights.items() for api, m in by_api.items()},
        **{f"{name}_projects_stage": m for name, m in projects.items()},
        **counts,
    }
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / f"github_sync-{args.issues}-{args.prs}.json").write_text(json.dumps(figures, indent=1))
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    for name, by_api in nights.items():
        r, g = by_api["rest"], by_api["graphql"]
        stage = projects.get(name)
        print(
            f"{name:<10} rest {r['units']:>6} units {r['seconds']:>7} s | graphql {g['units']:>5} units "
            f"({g['graphql_points']} points in {g['graphql_queries']} queries + {g['rest_counted']} REST) "
            f"{g['seconds']:>7} s"
            + (
                f" | projects stage {stage['units']} units ({stage['graphql_points']} points in "
                f"{stage['graphql_queries']} queries + {stage['rest_counted']} REST, "
                f"{stage['rest_not_modified']} 304s; {stage['items_asked']} items asked) {stage['seconds']} s"
                if stage
                else ""
            )
        )
    if projects:
        p = projects["first"]["units"]
        total = (graphql["units"] + p) / (rest["units"] + p)
        print(
            f"with the projects stage: rest {rest['units'] + p}, graphql {graphql['units'] + p} "
            f"(G/R = {total:.4f}, 1/{1 / total:.1f})"
        )
    ratio = graphql["units"] / rest["units"]
    print(
        f"quota units: rest {rest['units']}, graphql {graphql['units']} (G/R = {ratio:.4f}, 1/{1 / ratio:.1f})"
    )


if __name__ == "__main__":
    main()
