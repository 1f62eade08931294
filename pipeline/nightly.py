"""The nightly run as plain functions: plan, sync each repository into its shard, build, publish.

flows/nightly.py wraps each of these in a Prefect task; `run_plain` chains them without Prefect
(for `perftrust sync`, tests, and to measure what Prefect costs). Every function takes what it
works on explicitly, and the per-repository ones take only picklable values (they may run in a
Dask worker process); none of them receives the GitHub token (read from the environment where the
request is made, so it never lands in task parameters, logs or the database).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import (
    OrganizationConfig,
    RepositoryConfig,
    Settings,
    check_timezone,
    is_owner_name,
    load_settings,
    parse_window,
)
from pipeline.db import connect
from pipeline.errors import ConfigError, PerftrustError
from pipeline.git_repo import RepoSpec, open_repo
from pipeline.git_sync import Progress
from pipeline.identities import rebuild_identities
from pipeline.runs import StepResult, finish_run, record_step, start_run, utc_now
from pipeline.store import (
    DERIVED_TABLES,
    HISTORY_TABLES,
    SHARD_TABLES,
    RunLock,
    Store,
    check_free_space,
    copy_tables,
    fold_stray_wal,
    open_shard,
    publish,
    writing,
)
from pipeline.sync import _failed, expand_organizations, github_client_for, sync_git_repository, sync_github

if TYPE_CHECKING:
    from pipeline.metrics.common import MetricSettings


@dataclass(frozen=True)
class RunRequest:
    """What was asked for on the command line or as flow parameters (plain values: JSON-able)."""

    command: str = "run"
    config_path: str | None = None
    db_path: str | None = None
    repos: tuple[str, ...] = ()  # [NAME=]PATH; none: the configured ones, or the clone you stand in
    branches: str | None = None  # default | all | branch:NAME, for every repository
    github_repos: tuple[str, ...] = ()
    github_orgs: tuple[str, ...] = ()
    github_url: str | None = None
    as_of: str | None = None
    wait_seconds: float = 0.0

    def settings(self) -> Settings:
        settings = load_settings(Path(self.config_path) if self.config_path else None)
        if self.github_url:
            settings = replace(settings, github=replace(settings.github, url=self.github_url.rstrip("/")))
        if self.db_path:
            settings = replace(settings, db_path=Path(self.db_path))
        for name in self.github_repos:
            if not is_owner_name(name):
                raise ConfigError(
                    f"--github {name!r} is not an owner/name", "write it like --github octo-org/octo-repo"
                )
        return settings

    def plan_kwargs(self, settings: Settings) -> dict[str, Any]:
        """Repositories to sync: those given on the command line, else those configured."""
        github_repos = list(self.github_repos) or list(settings.github.repositories)
        orgs = [OrganizationConfig(o) for o in self.github_orgs] or list(settings.github.organizations)
        # --github alone syncs only GitHub; local clones join when given with --repo or configured.
        only_github = (
            bool(self.github_repos or self.github_orgs) and not self.repos and not settings.repositories
        )
        if only_github:
            repositories: list[RepositoryConfig] = []
        elif self.repos:
            repositories = [RepositoryConfig(RepoSpec.parse(r)) for r in self.repos]
        elif settings.repositories:
            repositories = list(settings.repositories)
        elif github_repos or orgs:
            repositories = []  # a configured GitHub-only setup
        else:
            repositories = [RepositoryConfig(RepoSpec(Path(".")))]  # the repository you stand in
        if self.branches:
            repositories = [RepositoryConfig(r.spec, self.branches) for r in repositories]
        return {"repositories": repositories, "github_repositories": github_repos, "organizations": orgs}


def metric_settings_for(
    settings: Settings,
    as_of: str | None = None,
    window: str | None = None,
    min_n: int | None = None,
    timezone: str | None = None,
    pseudonymize: bool = False,
) -> MetricSettings:
    from pipeline.metrics.common import MetricSettings, parse_as_of  # Polars: only when metrics run

    tz = check_timezone(timezone) if timezone else settings.metrics.timezone
    return MetricSettings(
        as_of=parse_as_of(as_of, tz),
        window_days=parse_window(window) if window else settings.metrics.window_days,
        min_n=min_n if min_n is not None else settings.metrics.min_n,
        timezone=tz,
        review_response_hours=settings.metrics.review_response_hours,
        include_bots=settings.metrics.include_bots,
        pseudonymize=pseudonymize,
    )


@dataclass(frozen=True)
class RepositoryUnit:
    """One repository: its local clone and/or its GitHub owner/name, synced into one shard."""

    key: str
    git: RepositoryConfig | None = None
    github: str | None = None


@dataclass
class RunPlan:
    run_id: str
    command: str
    started_at: datetime
    units: list[RepositoryUnit]
    steps: list[StepResult] = field(default_factory=list)  # failures while planning (an org not listed)
    flow_run_id: str | None = None


@dataclass
class RunOutcome:
    run_id: str
    status: str
    steps: list[StepResult]
    published: Path
    kept_previous: Path | None
    metrics: dict[str, int] = field(default_factory=dict)
    count_identities: int | None = None
    count_contributors: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def plan_units(
    settings: Settings,
    repositories: Sequence[RepositoryConfig],
    github_repositories: Sequence[str],
    organizations: Sequence[OrganizationConfig],
) -> tuple[list[RepositoryUnit], list[StepResult]]:
    """Pair local clones with GitHub repositories by key (owner/name from the clone's GitHub remote)."""
    units: dict[str, RepositoryUnit] = {}
    duplicates: list[StepResult] = []
    for repository in repositories:
        try:
            key = open_repo(repository.spec).key
        except PerftrustError:
            # The sync step reports the problem with the fix; the unit still gets a step row.
            key = repository.spec.name or repository.spec.path.name or str(repository.spec.path)
        if key.casefold() in units:
            other = units[key.casefold()].git
            duplicate = _failed(
                "git_sync",
                str(repository.spec.path),
                f"{repository.spec.path} and {other.spec.path if other else key} are both the repository "
                f"{key}: only the first is synced; give one another key with NAME=PATH (or name = in "
                "[[repositories]]) if they are different repositories",
            )
            duplicates.append(duplicate)
            continue
        units[key.casefold()] = RepositoryUnit(key, git=repository)
    planning: list[StepResult] = list(duplicates)
    names = list(github_repositories)
    if organizations:
        names, listing = expand_organizations(github_client_for(settings), names, list(organizations))
        planning.extend(listing)
    for name in names:
        unit = units.get(name.casefold())
        units[name.casefold()] = (
            RepositoryUnit(unit.key, unit.git, name) if unit else RepositoryUnit(name, github=name)
        )
    return list(units.values()), planning


def sync_unit_git(
    store: Store, unit: RepositoryUnit, run_id: str, settings: Settings, progress: Progress | None = None
) -> StepResult:
    """git history of one repository into its shard; problems come back as a failed step."""
    assert unit.git is not None
    shard = store.shard(unit.key)
    try:
        with writing(shard), contextlib.closing(open_shard(store, unit.key)) as con:
            step = sync_git_repository(con, unit.git, run_id, settings, progress)
            con.execute("CHECKPOINT")
    except PerftrustError as exc:
        step = _failed("git_sync", unit.key, str(exc), exc.transient)
    return _finished(step)


def sync_unit_github(store: Store, unit: RepositoryUnit, run_id: str, settings: Settings) -> StepResult:
    """GitHub issues, milestones, PRs and reviews of one repository into its shard (after its git sync:
    the commit-login lookup reads the shard's commits)."""
    assert unit.github is not None
    shard = store.shard(unit.key)
    try:
        with writing(shard), contextlib.closing(open_shard(store, unit.key)) as con:
            client = github_client_for(settings)
            (step,) = sync_github(con, settings, client, run_id, [unit.github], [])
            con.execute("CHECKPOINT")
    except PerftrustError as exc:
        step = _failed("github_sync", unit.github, str(exc), exc.transient)
    return _finished(step)


def _finished(step: StepResult) -> StepResult:
    step.duration_seconds = time.perf_counter() - step.started_clock
    # Which process did the work: the flow's own, or a Dask worker's (pipeline_run_steps.details).
    step.details["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return step


def begin(store: Store, settings: Settings) -> None:
    """Under the run lock: remove what killed runs left, and check there is room for a new build."""
    store.prepare()
    store.clear_builds()
    if store.db_path.exists():
        connect(store.db_path, read_only=True).close()  # a foreign or incompatible file: a clear error now
    fold_stray_wal(store.db_path)
    check_free_space(store)


def assemble(
    store: Store,
    plan: RunPlan,
    steps: Sequence[StepResult],
    settings: Settings,
    keep_metrics: bool,
) -> tuple[Path, int, int]:
    """A new database in build/: every unit's shard, the run history, identities rebuilt.

    keep_metrics: carry the metric tables over from the published database (a run that computes
    none must not publish empty ones). Returns (build path, identities, contributors)."""
    build = store.build_path(plan.run_id)
    with writing(build), contextlib.closing(connect(build)) as con:
        con.execute("SET checkpoint_threshold = '1GB'")
        for unit in plan.units:
            shard = store.shard(unit.key)
            if shard.exists():
                copy_tables(con, shard, SHARD_TABLES)
        if store.db_path.exists():
            copy_tables(con, store.db_path, HISTORY_TABLES + (DERIVED_TABLES if keep_metrics else ()))
        start_run(con, plan.command, plan.run_id, plan.started_at, plan.flow_run_id)
        for step in [*plan.steps, *steps]:
            record_step(con, plan.run_id, step)
        count_identities, count_contributors = rebuild_identities(con, settings)
        con.execute("CHECKPOINT")
    return build, count_identities, count_contributors


def compute(build: Path, metric_settings: MetricSettings) -> dict[str, int]:
    from pipeline.metrics.run import compute_metrics

    with writing(build), contextlib.closing(connect(build)) as con:
        written = compute_metrics(con, metric_settings)
        con.execute("CHECKPOINT")
    return written


def finish(build: Path, plan: RunPlan, steps: Sequence[StepResult], error: str | None = None) -> str:
    with writing(build), contextlib.closing(connect(build)) as con:
        status = finish_run(con, plan.run_id, [*plan.steps, *steps], error_message=error)
        con.execute("CHECKPOINT")
    return status


def new_plan(
    settings: Settings,
    command: str,
    repositories: Sequence[RepositoryConfig] | None = None,
    github_repositories: Sequence[str] | None = None,
    organizations: Sequence[OrganizationConfig] | None = None,
    flow_run_id: str | None = None,
) -> RunPlan:
    units, planning = plan_units(
        settings,
        settings.repositories if repositories is None else repositories,
        settings.github.repositories if github_repositories is None else github_repositories,
        settings.github.organizations if organizations is None else organizations,
    )
    return RunPlan(str(uuid.uuid4()), command, utc_now(), units, planning, flow_run_id)


def sync_unit(
    store: Store,
    unit: RepositoryUnit,
    run_id: str,
    settings: Settings,
    progress_for: Callable[[str], Progress] | None = None,
) -> list[StepResult]:
    steps = []
    if unit.git is not None:
        steps.append(
            sync_unit_git(store, unit, run_id, settings, progress_for(unit.key) if progress_for else None)
        )
    if unit.github is not None:
        steps.append(sync_unit_github(store, unit, run_id, settings))
    return steps


def run_plain(
    settings: Settings,
    command: str,
    store: Store,
    metric_settings: MetricSettings | None,
    plan_kwargs: dict[str, Any] | None = None,
    wait_seconds: float = 0.0,
    after_publish: Callable[[RunOutcome], None] | None = None,
    progress_for: Callable[[str], Progress] | None = None,
) -> RunOutcome:
    """The whole run without Prefect: the same functions, repositories on a thread pool."""
    with RunLock(store.lock_path, command, wait_seconds):
        seconds: dict[str, float] = {}
        clock = time.perf_counter()
        begin(store, settings)
        plan = new_plan(settings, command, **(plan_kwargs or {}))
        seconds["plan"] = time.perf_counter() - clock
        clock = time.perf_counter()
        with ThreadPoolExecutor(max_workers=settings.nightly.concurrency) as pool:
            results = list(
                pool.map(lambda u: sync_unit(store, u, plan.run_id, settings, progress_for), plan.units)
            )
        steps = [s for unit_steps in results for s in unit_steps]
        seconds["sync"] = time.perf_counter() - clock
        outcome = build_and_publish(store, plan, steps, settings, metric_settings, seconds)
        if after_publish is not None:
            after_publish(outcome)
        return outcome


def build_and_publish(
    store: Store,
    plan: RunPlan,
    steps: list[StepResult],
    settings: Settings,
    metric_settings: MetricSettings | None,
    seconds: dict[str, float] | None = None,
) -> RunOutcome:
    seconds = {} if seconds is None else seconds
    clock = time.perf_counter()
    build, count_identities, count_contributors = assemble(
        store, plan, steps, settings, keep_metrics=metric_settings is None
    )
    seconds["assemble"] = time.perf_counter() - clock
    written: dict[str, int] = {}
    if metric_settings is not None:
        clock = time.perf_counter()
        written = compute(build, metric_settings)
        seconds["metrics"] = time.perf_counter() - clock
    status = finish(build, plan, steps)
    clock = time.perf_counter()
    kept = publish(store, build, plan.run_id, settings.keep_previous)
    seconds["publish"] = time.perf_counter() - clock
    return RunOutcome(
        plan.run_id,
        status,
        [*plan.steps, *steps],
        store.db_path,
        kept,
        written,
        count_identities,
        count_contributors,
        seconds,
    )


def render_report(db_path: Path, settings: Settings, as_of: str | None = None) -> Path:
    """The report of a published database into [reports].output_dir (HTML, Markdown, CSV), and one
    per configured team into output_dir/team-<name>/."""
    from pipeline.teams import team_contributor_ids
    from reports import ReportOptions, api_url_to_web_url, render_reports

    base = ReportOptions(
        web_url=settings.reports.web_url or api_url_to_web_url(settings.github.url),
        pseudonymize=settings.reports.pseudonymize,
        as_of=None if as_of is None else metric_settings_for(settings, as_of).as_of_date,
        settings=settings,
    )
    html_path = render_reports(db_path, settings.reports.output_dir, base).html_path
    for team in sorted(settings.teams):
        with contextlib.closing(connect(db_path, read_only=True)) as con:
            members, _unmatched = team_contributor_ids(con, settings, team)
        if members:
            folder = settings.reports.output_dir / ("team-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", team))
            render_reports(db_path, folder, replace(base, team=team, contributor_ids=members))
    return html_path


def recompute_metrics(
    store: Store, settings: Settings, metric_settings: MetricSettings, wait_seconds: float = 0.0
) -> RunOutcome:
    """`perftrust metrics`: the published database copied, metrics recomputed there, published."""
    import shutil

    with RunLock(store.lock_path, "metrics", wait_seconds):
        begin(store, settings)
        if not store.db_path.exists():
            raise PerftrustError(
                f"there is no database at {store.db_path}", "run `perftrust sync` (or `perftrust run`) first"
            )
        plan = RunPlan(str(uuid.uuid4()), "metrics", utc_now(), [])
        build = store.build_path(plan.run_id)
        seconds: dict[str, float] = {}
        clock = time.perf_counter()
        with writing(build):
            shutil.copyfile(store.db_path, build)
        with writing(build), contextlib.closing(connect(build)) as con:
            start_run(con, "metrics", plan.run_id, plan.started_at)
        seconds["copy"] = time.perf_counter() - clock
        clock = time.perf_counter()
        written = compute(build, metric_settings)
        seconds["metrics"] = time.perf_counter() - clock
        status = finish(build, plan, [])
        kept = publish(store, build, plan.run_id, settings.keep_previous)
        return RunOutcome(plan.run_id, status, [], store.db_path, kept, written, seconds=seconds)
