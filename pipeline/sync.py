"""Sync every configured source into the database, one step per repository, failures kept apart."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import git

from pipeline.config import OrganizationConfig, RepositoryConfig, Settings
from pipeline.errors import PerftrustError
from pipeline.git_sync import GitSyncOptions, HeadStart, Progress, sync_repository
from pipeline.identities import rebuild_identities
from pipeline.runs import StepResult, finish_run, read_cursor, record_step, start_run, write_cursor

if TYPE_CHECKING:  # PyGithub takes a third of a second to import: only GitHub syncs pay for it
    import duckdb

    from pipeline.github_client import GitHubClient

ProgressFactory = Callable[[str], Progress]


@dataclass
class SyncSummary:
    run_id: str
    command: str
    status: str
    steps: list[StepResult] = field(default_factory=list)
    count_identities: int | None = None
    count_contributors: int | None = None

    @property
    def count_commits_added(self) -> int:
        return sum(s.count_rows_added for s in self.steps if s.step == "git_sync")

    @property
    def count_github_items(self) -> int:
        return sum(s.count_rows_added for s in self.steps if s.step == "github_sync")

    @property
    def count_api_requests(self) -> int:
        return sum(s.count_api_requests for s in self.steps)


def identity_fingerprint(settings: Settings) -> str:
    payload = json.dumps([sorted(settings.aliases.items()), list(settings.bot_patterns)], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _failed(step: str, repo: str, message: str, transient: bool = False) -> StepResult:
    result = StepResult(step, repo)
    result.status, result.error_message, result.transient = "failed", message, transient
    return result


# git failures worth a retry: another git process holds a lock, or the file system hiccupped.
_TRANSIENT_GIT = (
    "lock': File exists",
    "Unable to create",
    "Resource temporarily unavailable",
    "Input/output error",
)


def sync_git_repository(
    con: duckdb.DuckDBPyConnection,
    repository: RepositoryConfig,
    run_id: str,
    settings: Settings,
    progress: Progress | None = None,
    head: HeadStart | None = None,
) -> StepResult:
    """One repository; never raises for a problem with the repository itself: the step records it."""
    try:
        return sync_repository(
            con, repository.spec, run_id, git_options(repository, settings), progress, head
        )
    except PerftrustError as exc:
        return _failed("git_sync", repository.spec.name or str(repository.spec.path), str(exc), exc.transient)
    except git.GitCommandError as exc:
        stderr = (exc.stderr or "").strip().removeprefix("stderr:").strip(" '\n")
        message = f"git failed on {repository.spec.path}: {stderr or exc}"
        transient = any(marker in stderr for marker in _TRANSIENT_GIT)
        return _failed("git_sync", repository.spec.name or str(repository.spec.path), message, transient)


def git_options(repository: RepositoryConfig, settings: Settings) -> GitSyncOptions:
    return GitSyncOptions(ref_selection=repository.branches, workers=settings.git_workers)


def github_client_for(settings: Settings, token: str | None = None) -> GitHubClient:
    """A client for the configured GitHub (token from GITHUB_TOKEN unless given)."""
    from pipeline.github_client import ClientSettings, GitHubClient

    return GitHubClient(
        token if token is not None else os.environ.get("GITHUB_TOKEN") or None,
        ClientSettings(
            base_url=settings.github.url,
            timeout=settings.github.timeout,
            max_rate_limit_wait=settings.github.max_rate_limit_wait,
        ),
    )


def expand_organizations(
    client: GitHubClient, repositories: list[str], organizations: list[OrganizationConfig]
) -> tuple[list[str], list[StepResult]]:
    """owner/name of every repository to sync: those named, then each organization's (filtered)."""
    from pipeline.github_sync import list_organization_repositories

    steps: list[StepResult] = []
    names = list(dict.fromkeys(repositories))
    for org in organizations:
        try:
            listed = list_organization_repositories(client, org.name)
        except PerftrustError as exc:
            steps.append(_failed("github_org", org.name, str(exc), getattr(exc, "transient", False)))
            continue
        names.extend(n for n in listed if org.wants(n) and n not in names)
    return names, steps


def sync_project_stage(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    client: GitHubClient,
    full_name: str,
    step: StepResult,
    run_id: str,
) -> str | None:
    """GitHub Projects due dates of repository `full_name` (its issues just synced by `step`, under
    the key step.repo) synced, folded into that step: pipeline_run_steps keeps one github_sync row per repository (the nightly run, its
    Prefect tasks and the publish rules count on it), with the stage's figures in details.projects,
    its queries, points and requests added to the step's, and its warnings (no read:project, a
    failure) among the step's. A failed stage leaves the step's status as the issues made it: what
    the issues step stored is published whatever happens here, and the due dates the last good
    projects read saw stay. Returns the rate-limit problem when the GraphQL budget ran out (the
    caller stops there), else None."""
    from pipeline.github_client import GitHubError, RateLimited
    from pipeline.github_projects import ProjectOptions, sync_project_due_dates

    options = ProjectOptions(
        due_date_fields=settings.github.due_date_fields, projects=settings.github.projects
    )
    requests_before = client.stats.count_requests
    stopped: str | None = None
    try:
        projects = sync_project_due_dates(con, client, full_name, run_id, key=step.repo, options=options)
    except RateLimited as exc:
        stopped = exc.problem
        projects = exc.step or _failed("github-projects", step.repo, str(exc))
    except GitHubError as exc:
        projects = exc.step or _failed("github-projects", step.repo, str(exc), exc.transient)
    except PerftrustError as exc:
        projects = _failed("github-projects", step.repo, str(exc), exc.transient)
    if not projects.duration_seconds:
        projects.duration_seconds = time.perf_counter() - projects.started_clock
    queries = int(projects.details.get("graphql_queries") or 0)
    points = int(projects.details.get("graphql_points") or 0)
    step.details["projects"] = {
        "status": projects.status,
        "items_asked": projects.details.get("items_asked", 0),
        "rows": projects.count_rows_added,
        "graphql_queries": queries,
        "graphql_points": points,
        "rest_requests": projects.count_api_requests,  # the watch's page checks (304s cost no quota)
        "not_modified": projects.count_not_modified,
        **({"watch": projects.details["watch"]} if "watch" in projects.details else {}),
        "seconds": round(projects.duration_seconds, 2),
        **({"error": projects.error_message} if projects.error_message else {}),
    }
    if queries or "graphql_queries" in step.details:
        step.details["graphql_queries"] = int(step.details.get("graphql_queries") or 0) + queries
        step.details["graphql_points"] = int(step.details.get("graphql_points") or 0) + points
        step.details["graphql_remaining"] = client.stats.graphql_remaining
    step.count_api_requests += client.stats.count_requests - requests_before
    step.count_not_modified += projects.count_not_modified
    if projects.count_rows_added and step.status == "unchanged":
        step.status = "succeeded"  # a due date moved on a project: the repository's data changed
    step.duration_seconds += projects.duration_seconds
    step.warnings.extend(projects.warnings)
    if projects.status == "failed":
        step.warnings.append(
            f"GitHub Projects due dates of {full_name} were not read this run: {projects.error_message}; "
            "its issues and pull requests were synced, its due dates stay as the last projects read saw "
            "them (else milestones), and the next run reads them again"
        )
    return stopped


def sync_github(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    client: GitHubClient,
    run_id: str,
    repositories: list[str],
    organizations: list[OrganizationConfig],
    progress_for: ProgressFactory | None = None,
) -> list[StepResult]:
    """One step per GitHub repository (organizations expanded): its issues, pull requests, reviews and
    milestones, then (when that succeeded) the GitHub Projects due dates of its items, through
    GraphQL whatever [github].api says (sync_project_stage); a used-up rate limit stops the rest cleanly."""
    from pipeline.github_client import GitHubError, RateLimited
    from pipeline.github_graphql import sync_github_repository_graphql
    from pipeline.github_sync import GitHubSyncOptions, sync_github_repository

    names, steps = expand_organizations(client, repositories, organizations)
    options = GitHubSyncOptions(concurrency=settings.github.concurrency)
    # [github].api: GraphQL by default; REST on request. Both write the same rows (tests/test_github_graphql.py).
    extract = sync_github_repository if settings.github.api == "rest" else sync_github_repository_graphql
    stopped: str | None = None
    for name in names:
        if stopped:
            steps.append(_failed("github_sync", name, f"not synced: {stopped}"))
            continue
        try:
            step = extract(
                con, client, name, run_id, options, progress=progress_for(name) if progress_for else None
            )
        except RateLimited as exc:
            stopped = exc.problem
            step = exc.step or _failed("github_sync", name, str(exc))
        except GitHubError as exc:  # the step as far as it got: its requests, rows and time
            step = exc.step or _failed("github_sync", name, str(exc), exc.transient)
        except PerftrustError as exc:
            step = _failed("github_sync", name, str(exc), exc.transient)
        else:
            stopped = sync_project_stage(con, settings, client, name, step, run_id)
        steps.append(step)
    return steps


def run_sync(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    repositories: list[RepositoryConfig],
    command: str = "sync",
    progress_for: ProgressFactory | None = None,
    github_repositories: list[str] | None = None,
    github_organizations: list[OrganizationConfig] | None = None,
    github_client: GitHubClient | None = None,
) -> SyncSummary:
    """Sync each git repository, then each GitHub repository (one step each), then rebuild identities."""
    run_id = start_run(con, command)
    summary = SyncSummary(run_id, command, "running")
    # DuckDB checkpoints every 16 MB of WAL by default; during a bulk load each checkpoint costs
    # memory and time (measured: peak RSS 370 -> 285 MB on 100k commits). One checkpoint at the end.
    con.execute("SET checkpoint_threshold = '1GB'")
    try:
        for repository in repositories:
            label = repository.spec.name or repository.spec.path.name or str(repository.spec.path)
            step = sync_git_repository(
                con, repository, run_id, settings, progress_for(label) if progress_for else None
            )
            record_step(con, run_id, step)
            summary.steps.append(step)

        github_repositories = list(
            settings.github.repositories if github_repositories is None else github_repositories
        )
        github_organizations = list(
            settings.github.organizations if github_organizations is None else github_organizations
        )
        if github_repositories or github_organizations:
            client = github_client or github_client_for(settings)
            for step in sync_github(
                con, settings, client, run_id, github_repositories, github_organizations, progress_for
            ):
                record_step(con, run_id, step)
                summary.steps.append(step)

        fingerprint = identity_fingerprint(settings)
        state = read_cursor(con, "identities", "*") or {}
        changed = any(s.status == "succeeded" for s in summary.steps)
        if changed or state.get("settings") != fingerprint:
            summary.count_identities, summary.count_contributors = rebuild_identities(con, settings)
            write_cursor(con, "identities", "*", {"settings": fingerprint}, run_id)
        summary.status = finish_run(con, run_id, summary.steps)
        con.execute("CHECKPOINT")
    except BaseException as exc:
        finish_run(con, run_id, summary.steps, error_message=str(exc) or type(exc).__name__)
        raise
    return summary
