"""The nightly run as plain functions: plan, sync each repository into its shard, build, publish.

flows/nightly.py wraps each of these in a Prefect task; `run_plain` chains them without Prefect
(for `perftrust sync`, tests, and to measure what Prefect costs). Every function takes what it
works on explicitly, and the per-repository ones take only picklable values (they may run in a
Dask worker process); none of them receives the GitHub token (read from the environment where the
request is made, so it never lands in task parameters, logs or the database).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import git

from pipeline.children import die_with_parent
from pipeline.config import (
    OrganizationConfig,
    RepositoryConfig,
    Settings,
    check_min_n,
    check_timezone,
    is_owner_name,
    load_settings,
    parse_window,
)
from pipeline.db import connect, sql_string
from pipeline.errors import ConfigError, DiskFullError, PerftrustError, RepositoryError
from pipeline.git_repo import RepoSpec, open_repo
from pipeline.git_sync import HeadStart, Progress, start_head
from pipeline.identities import rebuild_identities
from pipeline.runs import StepResult, finish_run, read_cursor, record_step, start_run, utc_now, write_cursor
from pipeline.secrets import has_userinfo, scrub
from pipeline.sources import (
    Refreshed,
    Source,
    adopt_legacy,
    count_rows,
    read_manifest,
    refresh_source,
    remove_source,
    sources_in,
    upsert_manifest,
)
from pipeline.store import (
    Store,
    check_free_space,
    check_unlocked,
    copy_file,
    fold_stray_wal,
    move_aside,
    open_shard,
    publish,
    writing,
)
from pipeline.sync import (
    _failed,
    expand_organizations,
    git_options,
    github_client_for,
    identity_fingerprint,
    sync_git_repository,
    sync_github,
)

if TYPE_CHECKING:
    import duckdb

    from pipeline.metrics.settings import MetricSettings


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
        if self.github_url and has_userinfo(self.github_url):
            # Refused before anything runs: flow parameters are stored in Prefect's database.
            raise ConfigError(
                f"--github-url carries credentials ({scrub(self.github_url)})",
                "give the URL without user:token@ and put the token in the GITHUB_TOKEN environment variable",
            )
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


def preflight(request: RunRequest, settings: Settings) -> list[str]:
    """The checks of `run` and `sync` that need no Prefect, made before anything starts: the database's
    folder, the lock, a foreign file, room on disk, and that at least one source can be read. Each
    answers at once and writes nothing; a problem is a PerftrustError (exit 2). Returns the names of
    the sources to sync, for the first line the command prints. A clone that cannot be read among
    others that can is not refused here: it becomes that source's failed step, the others go on."""
    store = Store.for_settings(settings)
    store.check_folder()
    if request.wait_seconds <= 0:
        check_unlocked(store.lock_path)
    if store.db_path.exists():
        connect(store.db_path, read_only=True).close()  # a foreign or incompatible file
    check_free_space(store)
    kwargs = request.plan_kwargs(settings)
    repositories: list[RepositoryConfig] = kwargs["repositories"]
    names: list[str] = []
    problems: list[PerftrustError] = []
    for repository in repositories:
        try:
            names.append(open_repo(repository.spec).key)
        except PerftrustError as exc:
            problems.append(exc)
    github = [f"github:{n}" for n in kwargs["github_repositories"]]
    github += [f"github org {o.name}" for o in kwargs["organizations"]]
    if problems and not names and not github:
        unchanged = (
            f"nothing was published ({store.db_path} is unchanged)"
            if store.db_path.exists()
            else "nothing was synced"
        )
        standing_in = not request.repos and not settings.repositories
        if standing_in:
            raise RepositoryError(
                f"the current folder {Path.cwd()} is not in a git repository, and no repository was "
                f"named: {unchanged}",
                "run perftrust inside a clone, or pass --repo PATH (repeatable), or list repositories "
                "in perftrust.toml (`perftrust init` writes an example)",
            )
        if len(problems) == 1:
            raise RepositoryError(f"{problems[0].problem}: {unchanged}", problems[0].fix)
        raise RepositoryError(
            "none of the repositories can be read ("
            + "; ".join(p.problem for p in problems)
            + f"): {unchanged}",
            "fix the paths named above (each must be a git clone), then run again",
        )
    return names + github


def metric_settings_for(
    settings: Settings,
    as_of: str | None = None,
    window: str | None = None,
    min_n: int | None = None,
    timezone: str | None = None,
    pseudonymize: bool = False,
) -> MetricSettings:
    from pipeline.metrics.settings import MetricSettings, parse_as_of

    tz = check_timezone(timezone) if timezone else settings.metrics.timezone
    return MetricSettings(
        as_of=parse_as_of(as_of, tz),
        window_days=parse_window(window) if window else settings.metrics.window_days,
        min_n=check_min_n(min_n) if min_n is not None else settings.metrics.min_n,
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
    published: Path | None  # None: nothing could be synced, so nothing was published
    kept_previous: Path | None
    metrics: dict[str, int] = field(default_factory=dict)
    count_identities: int | None = None
    count_contributors: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    forgotten: list[tuple[str, int]] = field(default_factory=list)  # (source id, rows removed)


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
    git_config = unit.git
    try:
        local = open_repo(git_config.spec)  # a missing or unreadable clone fails here, before a shard exists
    except PerftrustError as exc:
        return _finished(_failed("git_sync", unit.key, str(exc), exc.transient))
    head = HeadStart(local, [])
    if not store.shard(unit.key).exists():
        # A first sync: git starts reading the history now, while DuckDB loads and the shard is made.
        with contextlib.suppress(PerftrustError, git.GitCommandError):  # sync_repository reports them
            head = start_head(local, run_id, git_options(git_config, settings))
    try:
        return _finished(
            _in_shard(
                store,
                unit,
                "git_sync",
                unit.key,
                lambda con: sync_git_repository(con, git_config, run_id, settings, progress, head),
            )
        )
    finally:
        head.close()


def sync_unit_github(store: Store, unit: RepositoryUnit, run_id: str, settings: Settings) -> StepResult:
    """GitHub issues, milestones, PRs and reviews of one repository into its shard (after its git sync:
    the commit-login lookup reads the shard's commits)."""
    assert unit.github is not None
    name = unit.github

    def work(con: duckdb.DuckDBPyConnection) -> StepResult:
        (step,) = sync_github(con, settings, github_client_for(settings), run_id, [name], [])
        return step

    return _finished(_in_shard(store, unit, "github_sync", name, work))


def _damaged() -> tuple[type[Exception], ...]:
    """DuckDB errors that mean the shard file itself is damaged (not a bug in a query, not a full disk)."""
    import duckdb

    return (
        duckdb.IOException,
        duckdb.InternalException,
        duckdb.FatalException,
        duckdb.SerializationException,
    )


def _in_shard(
    store: Store,
    unit: RepositoryUnit,
    step_name: str,
    repo: str,
    work: Callable[[duckdb.DuckDBPyConnection], StepResult],
) -> StepResult:
    """Run one sync step in the unit's shard. Every failure becomes a failed step of this source
    alone; a shard found damaged is moved aside and the step runs once more on a new one."""
    shard = store.shard(unit.key)
    warnings: list[str] = []
    is_new = False
    for attempt in (1, 2):
        try:
            with writing(shard):
                opened = open_shard(store, unit.key)
                is_new = is_new or opened.is_new
                if opened.warning:
                    warnings.append(opened.warning)
                with contextlib.closing(opened.con) as con:
                    step = work(con)
                    con.execute("CHECKPOINT")
            break
        except PerftrustError as exc:
            step = getattr(exc, "step", None) or _failed(step_name, repo, str(exc), exc.transient)
            if step.status != "failed":
                step.status, step.error_message = "failed", str(exc)
            break
        except _damaged() as exc:
            if attempt == 2 or not shard.exists():
                step = _failed(step_name, repo, f"the shard {shard} cannot be used: {_first_line(exc)}")
                break
            aside = move_aside(store, shard)
            warnings.append(
                f"the shard {shard.name} failed while syncing ({_first_line(exc)}); it was moved to {aside} "
                "and the source is loaded again from the start"
            )
            is_new = True
        except Exception as exc:  # a bug: this source fails, the others go on
            step = _failed(
                step_name,
                repo,
                f"perftrust failed on {repo} ({type(exc).__name__}: {_first_line(exc)}); this is a bug: "
                "please report it with this message (the other sources were synced)",
            )
            break
    step.repo = repo
    step.warnings[:0] = warnings
    step.details["shard"] = shard.name
    step.details["shard_new"] = is_new
    return step


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _finished(step: StepResult) -> StepResult:
    # Whatever a server or git said back, a token never leaves the step (tables, logs, Prefect).
    step.error_message = scrub(step.error_message) if step.error_message else step.error_message
    step.warnings = [scrub(w) for w in step.warnings]
    step.duration_seconds = time.perf_counter() - step.started_clock
    # Which process did the work: the flow's own, or a Dask worker's (pipeline_run_steps.details).
    step.details["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return step


def require_published(store: Store) -> None:
    if not store.db_path.exists():
        raise PerftrustError(
            f"there is no database at {store.db_path}", "run `perftrust sync` (or `perftrust run`) first"
        )


def begin(store: Store, settings: Settings, must_exist: bool = False) -> None:
    """Under the run lock: remove what killed runs left, and check there is room for a new build.
    must_exist: the command works on a published database (metrics, forget)."""
    if must_exist:
        require_published(store)
    store.prepare()
    store.clear_builds()
    if store.db_path.exists():
        connect(store.db_path, read_only=True).close()  # a foreign or incompatible file: a clear error now
    fold_stray_wal(store.db_path)
    check_free_space(store)


@dataclass
class Assembled:
    build: Path
    changed: bool  # rows of some source changed (or a source was forgotten): identities and metrics follow
    identities_rebuilt: bool
    count_identities: int | None
    count_contributors: int | None
    forgotten: list[tuple[str, int]]
    metric_state: MetricState  # read while the build was open anyway: one connection less


def publishable(step: StepResult) -> bool:
    """May the shard's rows of this step's source be published? A step that succeeded, yes. A GitHub
    step that failed part-way kept every item it committed whole (pipeline/github_sync.py), so its
    progress is published, unless its shard is new this run (a partial first load must not replace
    a source's published rows). A git step that failed never is: its last good data stays."""
    if step.status in ("succeeded", "unchanged", "empty"):
        return True
    return step.step == "github_sync" and not step.details.get("shard_new", True)


def assemble(
    store: Store,
    plan: RunPlan,
    steps: Sequence[StepResult],
    settings: Settings,
    forget: Sequence[Source] = (),
) -> Assembled:
    """A new database in build/: a copy of the published one with the sources this run synced
    refreshed from their shards (only changed rows are written), forgotten sources removed, the run
    recorded, and identities rebuilt when their inputs changed."""
    build = store.build_path(plan.run_id)
    by_step = {(s.step, s.repo): s for s in steps}
    published = _publishable_sources(plan, by_step)
    base_sources: set[Source] = set()
    if store.db_path.exists():
        copy_file(store.db_path, build)
    else:
        # The first build starts as a copy of the largest shard: a file copy instead of writing every
        # row again (sources in it that are not to be published are removed below).
        shards = [store.shard(u.key) for u in plan.units if any(src in published for src in _unit_sources(u))]
        candidates = [p for p in shards if p.exists() and not Path(str(p) + ".wal").exists()]
        if candidates:
            base = max(candidates, key=lambda p: p.stat().st_size)
            copy_file(base, build)
            base_sources = {src for u in plan.units if store.shard(u.key) == base for src in _unit_sources(u)}
    refreshed: list[Refreshed] = []
    forgotten: list[tuple[str, int]] = []
    with writing(build), contextlib.closing(connect(build)) as con:
        if base_sources:
            for stray in set(sources_in(con)) - (base_sources & published):
                remove_source(con, stray)
        con.execute("SET checkpoint_threshold = '1GB'")
        manifest = read_manifest(con) if store.db_path.exists() else {}
        if manifest and not con.execute("SELECT count(*) FROM pipeline_sources").fetchall()[0][0]:
            adopt_legacy(con, manifest, {s.repo: store.shard(s.repo).name for s in manifest})
        now = utc_now()
        for unit in plan.units:
            shard = store.shard(unit.key)
            for source in _unit_sources(unit):
                step = by_step.get((f"{source.kind}_sync", source.repo))
                if step is None:
                    continue
                result = None
                if source in base_sources and source in published:
                    result = Refreshed(source, count_inserted=count_rows(con, source))
                elif source in published and shard.exists():
                    result = _refresh_from(con, shard, source, step.status == "unchanged")
                elif source in manifest:
                    step.details["kept_last_good_data"] = True
                if result is not None:
                    refreshed.append(result)
                    step.details["rows_published"] = {
                        "inserted": result.count_inserted,
                        "deleted": result.count_deleted,
                    }
                if result is not None or source in manifest:
                    upsert_manifest(
                        con,
                        source,
                        shard.name,
                        plan.run_id,
                        now,
                        step.status,
                        step.error_message,
                        result,
                    )
        for source in forget:
            forgotten.append((source.id, remove_source(con, source)))
        changed = bool(forgotten) or any(r.changed for r in refreshed)
        start_run(con, plan.command, plan.run_id, plan.started_at, plan.flow_run_id)
        for step in [*plan.steps, *steps]:
            record_step(con, plan.run_id, step)
        fingerprint = identity_fingerprint(settings)
        state = read_cursor(con, "identities", "*") or {}
        count_identities = count_contributors = None
        rebuilt = changed or state.get("settings") != fingerprint
        if rebuilt:
            count_identities, count_contributors = rebuild_identities(con, settings)
            write_cursor(con, "identities", "*", {"settings": fingerprint}, plan.run_id)
        else:
            count_contributors = con.execute("SELECT count(*) FROM dim_contributors").fetchall()[0][0]
        metric_state = read_metric_state(con)
        con.execute("CHECKPOINT")
    return Assembled(build, changed, rebuilt, count_identities, count_contributors, forgotten, metric_state)


def _unit_sources(unit: RepositoryUnit) -> list[Source]:
    """The sources a unit syncs, keyed as their rows are (git by the unit key, GitHub by owner/name)."""
    sources = [Source("git", unit.key)] if unit.git is not None else []
    return sources + ([Source("github", unit.github)] if unit.github is not None else [])


def _publishable_sources(plan: RunPlan, by_step: dict[tuple[str, str], StepResult]) -> set[Source]:
    chosen = set()
    for unit in plan.units:
        for source in _unit_sources(unit):
            step = by_step.get((f"{source.kind}_sync", source.repo))
            if step is not None and publishable(step):
                chosen.add(source)
    return chosen


def _refresh_from(con: duckdb.DuckDBPyConnection, shard: Path, source: Source, unchanged: bool) -> Refreshed:
    con.execute(f"ATTACH {sql_string(str(shard))} AS perftrust_shard (READ_ONLY)")
    try:
        if unchanged and source.kind == "git" and _same_cursor(con, source):
            # git writes nothing without moving its cursor (batches, removals, .mailmap, the
            # repository row all go with it): a sync that found nothing new, over a cursor the
            # database already holds, leaves nothing to compare (git/git: 0.3 s less per run).
            return Refreshed(source)
        return refresh_source(con, "perftrust_shard", source)
    finally:
        con.execute("DETACH perftrust_shard")


def _same_cursor(con: duckdb.DuckDBPyConnection, source: Source) -> bool:
    query = "SELECT cursor, updated_at, run_id FROM {}.sync_state WHERE source = ? AND repo = ?"
    mine = con.execute(query.format("main"), [source.kind, source.repo]).fetchall()
    theirs = con.execute(query.format("perftrust_shard.main"), [source.kind, source.repo]).fetchall()
    return bool(mine) and mine == theirs


@contextlib.contextmanager
def discarded_on_failure(store: Store, build: Path) -> Iterator[None]:
    """A build that failed is removed at once (a full disk must not stay full of it); the next run
    would clear it anyway."""
    try:
        yield
    except BaseException:
        for leftover in (
            build,
            Path(str(build) + ".wal"),
            *store.db_path.parent.glob(f".{store.db_path.name}.*.publishing"),
        ):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise


@dataclass(frozen=True)
class MetricState:
    """What the build's metric tables were computed with (metric_runs), read once per run."""

    has_metrics: bool  # metric tables were ever computed here: every publish keeps them in step
    row: tuple[Any, ...] | None  # as_of, as_of_date, window_days, min_n, timezone, hours, bots, pseudonymized


def read_metric_state(con: duckdb.DuckDBPyConnection) -> MetricState:
    rows = con.execute(
        """SELECT as_of, as_of_date, window_days, min_n, timezone, review_response_hours,
                  is_bots_included, is_pseudonymized FROM metric_runs"""
    ).fetchall()
    # A database from before metric_runs existed may hold metric rows without one.
    older = con.execute(
        "SELECT (SELECT count(*) FROM metric_consistency) + (SELECT count(*) FROM metric_follow_through)"
    ).fetchall()[0][0]
    row = rows[0] if len(rows) == 1 else None
    return MetricState(bool(rows) or bool(older), row)


def metrics_are_current(state: MetricState, metric_settings: MetricSettings, as_of_given: bool) -> bool:
    """Would recomputing the metric tables give what they hold? Yes when no data changed, they were
    computed with the same settings, and for the same day (as of now) or the same moment (--as-of)."""
    if state.row is None:
        return False
    as_of, as_of_date, window_days, min_n, tz, hours, bots, pseudonymized = state.row
    same_settings = (window_days, min_n, tz, hours, bots, pseudonymized) == (
        metric_settings.window_days,
        metric_settings.min_n,
        metric_settings.timezone,
        metric_settings.review_response_hours,
        metric_settings.include_bots,
        metric_settings.pseudonymize,
    )
    if as_of_given:
        return same_settings and as_of == metric_settings.as_of
    return same_settings and as_of_date == metric_settings.as_of_date and as_of <= metric_settings.as_of


def compute(build: Path, metric_settings: MetricSettings) -> dict[str, int]:
    """The metric tables of the build, computed in a child process (pipeline/metrics/worker.py)."""
    from pipeline.metrics.worker import request_for

    with writing(build):
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline.metrics.worker"],
            input=request_for(build, metric_settings),
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=die_with_parent,  # a run killed with SIGKILL takes its worker along
        )
    try:
        answer = json.loads(proc.stdout) if proc.returncode == 0 else None
    except ValueError:
        answer = None
    if answer is None:
        detail = scrub(
            proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        )
        raise PerftrustError(
            f"computing the metrics failed ({detail}); the published database is untouched",
            "this is a bug: please report it with this message; `perftrust sync` still loads data",
        )
    if "written" not in answer:
        error = DiskFullError if answer.get("disk_full") else PerftrustError
        raise error(answer["problem"], answer.get("fix"))
    return {str(k): int(v) for k, v in answer["written"].items()}


def finish(build: Path, plan: RunPlan, steps: Sequence[StepResult], error: str | None = None) -> str:
    with writing(build), contextlib.closing(connect(build)) as con:
        status = finish_run(con, plan.run_id, [*plan.steps, *steps], error_message=error)
        con.execute("CHECKPOINT")
    return status


def nothing_synced(steps: Sequence[StepResult]) -> bool:
    """Every source failed (or there was none to sync): a run like that publishes nothing new."""
    return not any(s.status != "failed" for s in steps)


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
    retry: bool = False,
) -> list[StepResult]:
    """git, then GitHub, for one repository. retry: a transient failure (no answer from GitHub, a
    git lock file) is tried again [nightly].retries times with exponential backoff, as the Prefect
    flow's tasks are."""
    steps = []
    retries = settings.nightly.retries if retry else 0
    if unit.git is not None:
        progress = progress_for(unit.key) if progress_for else None
        steps.append(
            _retried(lambda: sync_unit_git(store, unit, run_id, settings, progress), settings, retries)
        )
    if unit.github is not None:
        steps.append(_retried(lambda: sync_unit_github(store, unit, run_id, settings), settings, retries))
    return steps


def _retried(attempt: Callable[[], StepResult], settings: Settings, retries: int) -> StepResult:
    for tried in range(retries + 1):
        step = attempt()
        if step.status != "failed" or not step.transient:
            return step
        if tried == retries:
            if retries:
                step.error_message = f"{step.error_message} (still failing after retries)"
            return step
        time.sleep(settings.nightly.retry_delay_seconds * 2**tried)
    raise AssertionError("unreachable")


def run_plain(
    settings: Settings,
    command: str,
    store: Store,
    as_of: str | None = None,
    carry_metric_settings: bool = False,
    plan_kwargs: dict[str, Any] | None = None,
    wait_seconds: float = 0.0,
    after_publish: Callable[[RunOutcome], None] | None = None,
    progress_for: Callable[[str], Progress] | None = None,
) -> RunOutcome:
    """The whole run without Prefect: the same functions, repositories on a thread pool."""
    with store.lock(command, wait_seconds):
        seconds: dict[str, float] = {}
        clock = time.perf_counter()
        begin(store, settings)
        plan = new_plan(settings, command, **(plan_kwargs or {}))
        seconds["plan"] = time.perf_counter() - clock
        clock = time.perf_counter()
        with ThreadPoolExecutor(max_workers=settings.nightly.concurrency) as pool:
            results = list(
                pool.map(
                    lambda u: sync_unit(
                        store, u, plan.run_id, settings, progress_for, retry=command == "run"
                    ),
                    plan.units,
                )
            )
        steps = [s for unit_steps in results for s in unit_steps]
        seconds["sync"] = time.perf_counter() - clock
        if nothing_synced(steps):
            return unpublished(plan, steps, seconds)
        outcome = build_and_publish(store, plan, steps, settings, as_of, carry_metric_settings, seconds)
        if after_publish is not None:
            after_publish(outcome)
        return outcome


def unpublished(plan: RunPlan, steps: Sequence[StepResult], seconds: dict[str, float]) -> RunOutcome:
    """The outcome of a run in which nothing could be synced: nothing new was published."""
    return RunOutcome(plan.run_id, "failed", [*plan.steps, *steps], None, None, seconds=seconds)


def metric_settings_to_use(
    state: MetricState, settings: Settings, as_of: str | None, carry_metric_settings: bool
) -> MetricSettings:
    """The settings to compute the metric tables with. `run` follows the configuration; `sync` and
    `forget` keep what the tables were last computed with (a window or pseudonyms chosen with
    `perftrust metrics`), as of now."""
    if not carry_metric_settings or state.row is None:
        return metric_settings_for(settings, as_of)
    _as_of, _as_of_date, window_days, min_n, tz, hours, bots, pseudonymized = state.row
    return replace(
        metric_settings_for(settings, as_of, timezone=tz),
        window_days=window_days,
        min_n=min_n,
        review_response_hours=hours,
        include_bots=bots,
        pseudonymize=pseudonymized,
    )


def update_metrics(
    assembled: Assembled, settings: Settings, as_of: str | None, carry_metric_settings: bool
) -> dict[str, int]:
    """Recompute the metric tables of the build unless they already hold exactly that (no data
    changed, same settings, same day): metric tables never describe other data than what is published.
    `sync` and `forget` (carry_metric_settings) keep the metric tables of a database that has them in
    step; a database that was only ever synced has none to keep (its first sync stays a data load)."""
    state = assembled.metric_state
    if carry_metric_settings and not state.has_metrics:
        return {}  # only synced so far: no metric tables to keep in step (`perftrust metrics` makes them)
    metric_settings = metric_settings_to_use(state, settings, as_of, carry_metric_settings)
    if (
        not assembled.changed
        and not assembled.identities_rebuilt
        and metrics_are_current(state, metric_settings, as_of is not None)
    ):
        return {}
    return compute(assembled.build, metric_settings)


def build_and_publish(
    store: Store,
    plan: RunPlan,
    steps: list[StepResult],
    settings: Settings,
    as_of: str | None = None,
    carry_metric_settings: bool = False,
    seconds: dict[str, float] | None = None,
    forget: Sequence[Source] = (),
) -> RunOutcome:
    seconds = {} if seconds is None else seconds
    build = store.build_path(plan.run_id)
    with discarded_on_failure(store, build), writing(build):
        clock = time.perf_counter()
        assembled = assemble(store, plan, steps, settings, forget)
        seconds["assemble"] = time.perf_counter() - clock
        clock = time.perf_counter()
        written = update_metrics(assembled, settings, as_of, carry_metric_settings)
        seconds["metrics"] = time.perf_counter() - clock
        status = finish(assembled.build, plan, steps)
        clock = time.perf_counter()
        kept = publish(store, assembled.build, plan.run_id, settings.keep_previous)
        seconds["publish"] = time.perf_counter() - clock
    return RunOutcome(
        plan.run_id,
        status,
        [*plan.steps, *steps],
        store.db_path,
        kept,
        written,
        assembled.count_identities,
        assembled.count_contributors,
        seconds,
        assembled.forgotten,
    )


def forget_sources(
    store: Store, settings: Settings, names: Sequence[str], wait_seconds: float = 0.0
) -> RunOutcome:
    """`perftrust forget`: publish the database without these sources (rollback brings them back)."""
    from pipeline.sources import match_sources

    require_published(store)  # before the lock: a mistyped --db creates nothing
    with store.lock("forget", wait_seconds):
        begin(store, settings, must_exist=True)
        with contextlib.closing(connect(store.db_path, read_only=True)) as con:
            known = list(read_manifest(con))
        chosen = match_sources(names, known)
        plan = RunPlan(str(uuid.uuid4()), "forget", utc_now(), [])
        return build_and_publish(store, plan, [], settings, None, True, forget=chosen)


def render_report(db_path: Path, settings: Settings, as_of: str | None = None) -> Path:
    """The report of a published database into settings.report_dir (HTML, Markdown, CSV), and one
    per configured team into report_dir/team-<name>/."""
    from pipeline.teams import team_contributor_ids
    from reports import ReportOptions, api_url_to_web_url, render_reports

    base = ReportOptions(
        web_url=settings.reports.web_url or api_url_to_web_url(settings.github.url),
        pseudonymize=settings.reports.pseudonymize,
        as_of=None if as_of is None else metric_settings_for(settings, as_of).as_of_date,
        settings=settings,
    )
    out = (
        settings.report_dir if db_path == settings.db_path else replace(settings, db_path=db_path).report_dir
    )
    html_path = render_reports(db_path, out, base).html_path
    for team in sorted(settings.teams):
        with contextlib.closing(connect(db_path, read_only=True)) as con:
            members, _unmatched = team_contributor_ids(con, settings, team)
        if members:
            folder = out / ("team-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", team))
            render_reports(db_path, folder, replace(base, team=team, contributor_ids=members))
    return html_path


def recompute_metrics(
    store: Store, settings: Settings, metric_settings: MetricSettings, wait_seconds: float = 0.0
) -> RunOutcome:
    """`perftrust metrics`: the published database copied, metrics recomputed there, published."""
    require_published(store)  # before the lock: a mistyped --db creates nothing
    with store.lock("metrics", wait_seconds):
        begin(store, settings, must_exist=True)
        plan = RunPlan(str(uuid.uuid4()), "metrics", utc_now(), [])
        build = store.build_path(plan.run_id)
        seconds: dict[str, float] = {}
        clock = time.perf_counter()
        copy_file(store.db_path, build)
        with writing(build), contextlib.closing(connect(build)) as con:
            start_run(con, "metrics", plan.run_id, plan.started_at)
        seconds["copy"] = time.perf_counter() - clock
        clock = time.perf_counter()
        written = compute(build, metric_settings)
        seconds["metrics"] = time.perf_counter() - clock
        status = finish(build, plan, [])
        kept = publish(store, build, plan.run_id, settings.keep_previous)
        return RunOutcome(plan.run_id, status, [], store.db_path, kept, written, seconds=seconds)
