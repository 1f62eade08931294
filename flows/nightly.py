"""The nightly Prefect flow: every repository synced into its shard (concurrently, retried on
transient failures, failures kept apart), then one new database built, metrics computed,
published atomically, and the report rendered.

Thin by design: each task calls one plain function of pipeline/nightly.py, which the tests call
without Prefect. Per-repository tasks get only picklable values, so they run on threads
(default) or on a Dask cluster (`[nightly] task_runner = "dask"`, `perftrust run --task-runner dask`).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

# Before Prefect is imported: no telemetry, nothing leaves the machine (settings a user set win).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from prefect import flow, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.tasks import Task, exponential_backoff
from prefect.utilities.annotations import allow_failure

from pipeline import nightly as plain
from pipeline.config import Settings
from pipeline.errors import PerftrustError
from pipeline.runs import StepResult
from pipeline.secrets import scrub
from pipeline.store import Store, writing


class TransientStepFailure(Exception):
    """A repository step failed in a way a later try may fix; Prefect retries the task."""

    def __init__(self, step: StepResult) -> None:
        super().__init__(step.error_message or f"{step.step} failed on {step.repo}")
        self.step = step


def _retry_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    try:
        state.result()
    except TransientStepFailure:
        return True
    except Exception:
        return False  # a bug or a permanent problem: retrying would fail the same way
    return False


def _raise_if_transient(step: StepResult) -> StepResult:
    if step.status == "failed" and step.transient:
        raise TransientStepFailure(step)
    return step


@task(name="git-sync", cache_policy=NO_CACHE, retry_condition_fn=_retry_transient)
def git_sync(store: Store, unit: plain.RepositoryUnit, run_id: str, settings: Settings) -> StepResult:
    return _raise_if_transient(plain.sync_unit_git(store, unit, run_id, settings))


@task(name="github-sync", cache_policy=NO_CACHE, retry_condition_fn=_retry_transient)
def github_sync(store: Store, unit: plain.RepositoryUnit, run_id: str, settings: Settings) -> StepResult:
    return _raise_if_transient(plain.sync_unit_github(store, unit, run_id, settings))


@task(name="assemble", cache_policy=NO_CACHE)
def assemble(
    store: Store, plan: plain.RunPlan, steps: list[StepResult], settings: Settings
) -> plain.Assembled:
    return plain.assemble(store, plan, steps, settings)


@task(name="metrics", cache_policy=NO_CACHE)
def metrics(
    assembled: plain.Assembled, settings: Settings, as_of: str | None, carry_metric_settings: bool
) -> dict[str, int]:
    return plain.update_metrics(assembled, settings, as_of, carry_metric_settings)


@task(name="publish", cache_policy=NO_CACHE)
def publish(
    store: Store, build: Path, plan: plain.RunPlan, steps: list[StepResult], settings: Settings
) -> tuple[str, Path | None]:
    from pipeline.store import publish as publish_file

    status = plain.finish(build, plan, steps)
    return status, publish_file(store, build, plan.run_id, settings.keep_previous)


@task(name="report", cache_policy=NO_CACHE)
def report(db_path: Path, settings: Settings, as_of: str | None) -> Path:
    return plain.render_report(db_path, settings, as_of)


def _failed_step(future: PrefectFuture[StepResult], step: str, repo: str) -> StepResult:
    """The step of a task that failed for good (retries used up, or a bug), with why."""
    try:
        result = future.result(raise_on_failure=True)
    except TransientStepFailure as exc:
        exc.step.error_message = f"{exc.step.error_message} (still failing after retries)"
        return exc.step
    except BaseException as exc:
        failed = StepResult(step, repo)
        failed.status, failed.error_message = "failed", scrub(f"{type(exc).__name__}: {exc}")
        return failed
    return result


def sync_repositories(store: Store, plan: plain.RunPlan, settings: Settings) -> list[StepResult]:
    """Per repository: git sync, then GitHub sync (it reads the commits for login lookups), at most
    settings.nightly.concurrency repositories at once, on the task runner the settings name (threads,
    or Dask). The tasks belong to the nightly flow run itself: a subflow only to choose the runner
    cost about 0.8 s of API calls per run."""
    options: dict[str, Any] = {"retries": settings.nightly.retries}
    if settings.nightly.retries:
        options["retry_delay_seconds"] = exponential_backoff(settings.nightly.retry_delay_seconds)(
            settings.nightly.retries
        )
    git_task, github_task = git_sync.with_options(**options), github_sync.with_options(**options)
    in_flight: list[tuple[plain.RepositoryUnit, list[tuple[PrefectFuture[StepResult], str, str]]]] = []
    steps: list[StepResult] = []

    def drain(limit: int) -> None:
        while len(in_flight) > limit:
            _unit, futures = in_flight.pop(0)
            for future, name, repo in futures:
                future.wait()
                steps.append(_failed_step(future, name, repo))

    with task_runner_for(settings) as runner:
        for unit in plan.units:
            drain(settings.nightly.concurrency - 1)
            futures: list[tuple[PrefectFuture[StepResult], str, str]] = []
            parameters = {"store": store, "unit": unit, "run_id": plan.run_id, "settings": settings}
            git_future = None
            if unit.git is not None:
                git_future = runner.submit(git_task, parameters)
                futures.append((git_future, "git_sync", unit.key))
            if unit.github is not None:
                # allow_failure in wait_for is what Task.submit hands the runner too (Prefect's stubs
                # type wait_for as plain futures).
                wait_for: Any = [allow_failure(git_future)] if git_future is not None else None
                github_future = runner.submit(github_task, parameters, wait_for)
                futures.append((github_future, "github_sync", unit.github))
            in_flight.append((unit, futures))
        drain(0)
    return steps


def task_runner_for(settings: Settings) -> TaskRunner[Any]:
    if settings.nightly.task_runner == "dask":
        try:
            from prefect_dask.task_runners import DaskTaskRunner
        except ImportError as exc:
            raise PerftrustError(
                "the dask task runner needs prefect-dask, which is not installed",
                "install perftrust with its dask extra (pip install 'perftrust[dask]'), or use threads",
            ) from exc
        runner: TaskRunner[Any]
        if settings.nightly.dask_address:
            runner = DaskTaskRunner(address=settings.nightly.dask_address)
            return runner
        runner = DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={
                "n_workers": settings.nightly.dask_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,  # no web server nobody asked for
            },
        )
        return runner
    return ThreadPoolTaskRunner(max_workers=settings.nightly.concurrency)


def _summary_markdown(outcome: dict[str, Any]) -> str:
    lines = [
        f"# perftrust nightly run `{outcome['run_id'][:8]}`: {outcome['status']}",
        "",
        "Performance-trust signals from repository activity: conversation starters, not verdicts.",
        "",
        "| repository | step | status | rows added | API requests | seconds | error |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for step in outcome["steps"]:
        error = (step["error_message"] or "").replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {step['repo']} | {step['step']} | {step['status']} | {step['count_rows_added']:,} | "
            f"{step['count_api_requests']:,} | {step['duration_seconds']:.1f} | {error} |"
        )
    lines += ["", f"Published `{outcome['published']}`."]
    if outcome.get("report"):
        lines.append(f"Report: `{outcome['report']}`.")
    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in outcome["seconds"].items())
    lines.append(f"Time: {seconds}.")
    return "\n".join(lines)


@flow(name="perftrust-nightly", validate_parameters=False)
def nightly(
    config_path: str | None = None,
    db_path: str | None = None,
    command: str = "run",
    repos: list[str] | None = None,
    branches: str | None = None,
    github_repos: list[str] | None = None,
    github_orgs: list[str] | None = None,
    github_url: str | None = None,
    as_of: str | None = None,
    metric_settings_from_config: bool = True,
    render_report: bool = True,
    task_runner: str | None = None,
    wait_seconds: float = 0.0,
) -> dict[str, Any]:
    """Sync every repository, build and publish a new database, render the report.

    The metric tables are recomputed whenever what they describe changed: with the configured
    settings (metric_settings_from_config, `perftrust run`), or, when the database has metric
    tables, with the settings they were last computed with (`perftrust sync`). A run in which no
    source could be synced publishes nothing."""
    request = plain.RunRequest(
        command=command,
        config_path=config_path,
        db_path=db_path,
        repos=tuple(repos or ()),
        branches=branches,
        github_repos=tuple(github_repos or ()),
        github_orgs=tuple(github_orgs or ()),
        github_url=github_url,
        as_of=as_of,
    )
    settings = request.settings()
    if task_runner:
        settings = replace(settings, nightly=replace(settings.nightly, task_runner=task_runner))
    store = Store.for_settings(settings)
    seconds: dict[str, float] = {}
    with store.lock(command, wait_seconds):
        clock = time.perf_counter()
        plain.begin(store, settings)
        plan = plain.new_plan(
            settings, command, flow_run_id=str(runtime.flow_run.id), **request.plan_kwargs(settings)
        )
        seconds["plan"] = time.perf_counter() - clock
        clock = time.perf_counter()
        steps = sync_repositories(store, plan, settings)
        seconds["sync"] = time.perf_counter() - clock
        published = not plain.nothing_synced(steps)
        if not published:
            status, kept, written = plain.unpublished(plan, steps, seconds).status, None, {}
            count_identities = count_contributors = None
        else:
            build = store.build_path(plan.run_id)
            with plain.discarded_on_failure(store, build), writing(build):
                clock = time.perf_counter()
                assembled = assemble(store, plan, steps, settings)
                seconds["assemble"] = time.perf_counter() - clock
                clock = time.perf_counter()
                written = metrics(assembled, settings, as_of, not metric_settings_from_config)
                seconds["metrics"] = time.perf_counter() - clock
                clock = time.perf_counter()
                status, kept = publish(store, assembled.build, plan, steps, settings)
                seconds["publish"] = time.perf_counter() - clock
            count_identities, count_contributors = assembled.count_identities, assembled.count_contributors
    report_path = None
    if render_report and published:
        clock = time.perf_counter()
        report_path = report(store.db_path, settings, as_of)
        seconds["report"] = time.perf_counter() - clock
    outcome = {
        "run_id": plan.run_id,
        "flow_run_id": plan.flow_run_id,
        "status": status,
        "published": str(store.db_path) if published else None,
        "kept_previous": str(kept) if kept else None,
        "report": str(report_path) if report_path else None,
        "steps": [_step_dict(s) for s in [*plan.steps, *steps]],
        "metrics": written,
        "count_identities": count_identities,
        "count_contributors": count_contributors,
        "seconds": seconds,
    }
    create_markdown_artifact(
        _summary_markdown(outcome), key="perftrust-nightly", description="What the nightly run did"
    )
    return outcome


def _step_dict(step: StepResult) -> dict[str, Any]:
    data = asdict(step)
    data.pop("started_clock")
    data["started_at"] = step.started_at.isoformat()
    return data
