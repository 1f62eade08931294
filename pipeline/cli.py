"""The `perftrust` command line."""

from __future__ import annotations

import os
import shutil

# GitPython refuses to import when git is missing; `perftrust doctor` must still run and say so.
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
# Polars' allocator (jemalloc) returns freed memory to the system at once instead of keeping it for
# later: a sync of git/git peaked 90 MB lower. Read when Polars loads, so set before any import. The
# metrics worker chooses again by history size (pipeline/metrics/worker.py).
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipeline import __version__
from pipeline.config import check_as_of, check_min_n, check_timezone, load_settings, parse_window
from pipeline.db import connect
from pipeline.errors import ConfigError, PerftrustError
from pipeline.nightly import RunRequest
from pipeline.runs import StepResult
from pipeline.secrets import scrub
from pipeline.sql_output import printable

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.git_sync import Progress as ProgressCallback

console = Console(stderr=True)

FRAMING = (
    "perftrust shows performance-trust signals from repository activity: conversation starters, "
    "not verdicts on a person, and no measure of interpersonal trust."
)


def _say(label: str, style: str, text: str) -> None:
    """One message; text from repositories or errors is never read as rich markup, its control
    characters are shown as escapes (no escape sequence reaches the terminal), and a token (or a
    URL's credentials) never reaches the terminal or a log. The lines of a message of several lines
    (DuckDB's hints under its error) are indented under the first."""
    first, *rest = printable(scrub(text), keep_newlines=True).split("\n")
    indent = " " * (len(label) + 1)
    lines = "".join([first, *(f"\n{indent}{line}" if line else "\n" for line in rest)])
    console.print(Text.assemble((label, style), " ", lines), soft_wrap=True, highlight=False)


def _fail(exc: PerftrustError) -> None:
    _say("error:", "bold red", exc.problem)
    if exc.fix:
        _say("  fix:", "bold", exc.fix)
    sys.exit(2)


@contextmanager
def _progress() -> Iterator[Any]:
    if not console.is_terminal:
        yield None  # no bar to draw (a log file, a pipe): rich.progress is not even imported
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("commits"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:

        def factory(label: str) -> ProgressCallback:
            task = progress.add_task(label, total=None)

            def update(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return update

        yield factory


def grouped_warnings(steps: list[StepResult], shown: int = 3) -> list[str]:
    """Each step's warnings, "repo: warning"; a warning several repositories share word for word
    but their names (a token without read:project, over fifty repositories) is said once, naming
    the first few of them."""
    groups: dict[str, list[str]] = {}
    for step in steps:
        for warning in step.warnings:
            template = warning.replace(step.repo, "\0") if step.repo else warning
            groups.setdefault(template, []).append(step.repo)
    lines = []
    for template, repos in groups.items():
        if len(set(repos)) < 2 or "\0" not in template:
            lines += [f"{repo}: {template.replace(chr(0), repo)}" for repo in repos]
            continue
        more = f" and {len(repos) - shown} more" if len(repos) > shown else ""
        lines.append(
            f"{', '.join(repos[:shown])}{more}: {template.replace(chr(0), 'each of these repositories')}"
        )
    return lines


def _print_summary(
    command: str,
    run_id: str,
    status: str,
    steps: list[StepResult],
    count_contributors: int | None,
    seconds: float,
    published: Path | None = None,
) -> None:
    # Every cell and line is a Text: a repository key, path, warning or error is plain text, never
    # rich markup ("dependabot[bot]" keeps its brackets, "[/]" cannot crash the summary).
    title = Text(f"perftrust {command} - run {run_id[:8]} - {status}", style="table.title")
    table = Table(title=title, title_justify="left")
    for column in ("repository", "source", "status", "added", "requests", "seconds"):
        table.add_column(column, justify="right" if column in ("added", "requests", "seconds") else "left")
    for step in steps:
        table.add_row(
            Text(printable(scrub(step.repo))),
            Text(step.step.removesuffix("_sync")),
            Text(step.status),
            Text(f"{step.count_rows_added:,}"),
            Text(f"{step.count_api_requests:,}" if step.step.startswith("github") else ""),
            Text(f"{step.duration_seconds:.2f}"),
        )
    console.print(table)
    for line in grouped_warnings(steps):
        _say("warning", "yellow", line)
    for step in steps:
        if step.error_message:
            kept = ""
            if step.details.get("kept_last_good_data"):
                kept = " [its data from the last good sync stays published]"
            elif step.status == "failed" and "rows_published" in step.details:
                kept = " [what it synced before it stopped is published]"
            _say("failed", "bold red", f"{step.repo}: {step.error_message}{kept}")
    commits = sum(s.count_rows_added for s in steps if s.step == "git_sync")
    github = ""
    if any(s.step.startswith("github") for s in steps):
        items = sum(s.count_rows_added for s in steps if s.step == "github_sync")
        requests = sum(s.count_api_requests for s in steps)
        entries = sum(int((s.details.get("projects") or {}).get("rows") or 0) for s in steps)
        projects = f", Projects entries changed: {entries:,}" if entries else ""
        github = f"   GitHub items updated: {items:,}{projects} ({requests:,} requests)"
    contributors = "" if count_contributors is None else f"   contributors: {count_contributors:,}"
    console.print(
        Text(f"commits added: {commits:,}{github}{contributors}   time: {seconds:.2f} s"),
        highlight=False,
        soft_wrap=True,
    )
    if published is not None:
        console.print(Text(f"published {printable(str(published))}"), highlight=False, soft_wrap=True)


def _print_notices(db_path: Path) -> None:
    """What the figures rest on and what is missing (the report's first screen says the same)."""
    from reports.coverage import read_coverage

    with connect(db_path, read_only=True) as con:
        notices = read_coverage(con).notices()
    for text, command in notices:
        _say("note:", "yellow", text + ("\n" + command if command else ""))
    here = Path(sys.argv[0]).resolve().parent
    if notices and shutil.which("perftrust") is None and (here / "perftrust").exists():
        # ./run starts perftrust from its own .venv: the commands above need that path (or PATH).
        _say(
            "note:", "yellow", f"perftrust is not on your PATH: add {here} to PATH, or type {here}/perftrust"
        )


def _steps_from_dicts(rows: list[dict[str, Any]]) -> list[StepResult]:
    from datetime import datetime

    steps = []
    for row in rows:
        row = dict(row, started_at=datetime.fromisoformat(row["started_at"]))
        steps.append(StepResult(**row))
    return steps


def _run(
    request: RunRequest,
    engine: str = "prefect",
    task_runner: str | None = None,
    report: bool = True,
) -> None:
    """sync (no metrics) or run (sync, metrics, report): shards synced, a new database published."""
    from pipeline.nightly import preflight, render_report, run_plain
    from pipeline.store import Store

    started = time.perf_counter()
    try:
        settings = request.settings()
        sources = preflight(request, settings)  # before Prefect: a plain problem answers at once
        _say(
            f"perftrust {request.command}:",
            "bold",
            f"{', '.join(sources) or 'nothing to sync'} into {settings.db_path}",
        )
        if engine == "prefect":
            from flows.temporary_api import (
                check_configured_api,
                configured_api_url,
                temporary_api,
                wait_until_ready,
            )

            configured = configured_api_url()
            if configured:
                check_configured_api(configured)

            with temporary_api() as url:  # it boots while the flow module imports
                if url:
                    _say(
                        "prefect:",
                        "bold",
                        "starting a temporary Prefect API for this run (about 7 s or more; set PREFECT_API_URL "
                        "to use a running server, or pass --engine plain to run without Prefect)",
                    )
                from flows.nightly import nightly

                if url:
                    wait_until_ready(url)
                    _say("prefect:", "bold", f"API ready after {time.perf_counter() - started:.1f} s")
                outcome = nightly(
                    config_path=request.config_path,
                    db_path=request.db_path,
                    command=request.command,
                    repos=list(request.repos),
                    branches=request.branches,
                    github_repos=list(request.github_repos),
                    github_orgs=list(request.github_orgs),
                    github_url=request.github_url,
                    as_of=request.as_of,
                    metric_settings_from_config=request.command == "run",
                    render_report=report and request.command == "run",
                    task_runner=task_runner,
                    wait_seconds=request.wait_seconds,
                )
            steps = _steps_from_dicts(outcome["steps"])
            run_id, status, contributors = outcome["run_id"], outcome["status"], outcome["count_contributors"]
            report_path = outcome["report"]
            published = Path(outcome["published"]) if outcome["published"] else None
        else:
            with _progress() as progress_for:
                result = run_plain(
                    settings,
                    request.command,
                    Store.for_settings(settings),
                    request.as_of,
                    carry_metric_settings=request.command != "run",
                    plan_kwargs=request.plan_kwargs(settings),
                    wait_seconds=request.wait_seconds,
                    progress_for=progress_for,
                )
            steps, run_id, status, contributors = (
                result.steps,
                result.run_id,
                result.status,
                result.count_contributors,
            )
            published = result.published
            report_path = None
            if report and request.command == "run" and published is not None:
                report_path = render_report(settings.db_path, settings, request.as_of)
    except PerftrustError as exc:
        _fail(exc)
        return
    _print_summary(
        request.command, run_id, status, steps, contributors, time.perf_counter() - started, published
    )
    if report_path:
        console.print(Text(f"report {printable(str(report_path))}"), highlight=False, soft_wrap=True)
    if published is not None and request.command == "run":
        _print_notices(published)
    if published is None:
        _fail(
            PerftrustError(
                f"nothing was published: no source could be synced, so {settings.db_path} is unchanged",
                "fix what the failures above name, then run again",
            )
        )
    if status != "succeeded":
        sys.exit(1)


def _with_db(settings: Settings, db: Path | None) -> Settings:
    """The settings with --db applied (the store and the report folder follow the database)."""
    return settings if db is None else replace(settings, db_path=db)


def _checked(check: Callable[[Any], object]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """An option callback: the value is checked as the command line is read (a bad one exits 2 with
    the problem and the fix before anything runs) and passed on as given."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            try:
                check(value)
            except PerftrustError as exc:
                _fail(exc)
        return value

    return callback


_db_option = click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    help="DuckDB file (default: perftrust.duckdb here).",
)
_config_option = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="perftrust.toml (default: ./perftrust.toml).",
)
_repo_option = click.option(
    "--repo",
    "repos",
    multiple=True,
    metavar="[NAME=]PATH",
    help="A local clone to sync (repeatable). Default: the repositories in perftrust.toml, else the current one.",
)
_github_options = [
    click.option(
        "--github",
        "github_repos",
        multiple=True,
        metavar="OWNER/NAME",
        help="A GitHub repository to sync (repeatable); token from GITHUB_TOKEN.",
    ),
    click.option(
        "--github-org",
        "github_orgs",
        multiple=True,
        metavar="ORG",
        help="Every repository of a GitHub organization (repeatable).",
    ),
    click.option(
        "--github-url",
        metavar="URL",
        help="GitHub API URL (GitHub Enterprise: https://HOST/api/v3). Default: api.github.com.",
    ),
]
_branch_options = [
    click.option("--all-branches", is_flag=True, help="Take every branch, not only the default branch."),
    click.option("--branch", metavar="NAME", help="Take this branch instead of the default branch."),
]


def _branches(all_branches: bool, branch: str | None) -> str | None:
    if all_branches and branch:
        raise click.UsageError("--all-branches and --branch exclude each other")
    return "all" if all_branches else (f"branch:{branch}" if branch else None)


@click.group(help=f"perftrust {__version__}. {FRAMING}")
@click.version_option(__version__, prog_name="perftrust")
def main() -> None:
    pass


def _sync_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options run and sync share."""
    for option in reversed([_db_option, _config_option, _repo_option, *_branch_options, *_github_options]):
        command = option(command)
    return command


_wait_option = click.option(
    "--wait",
    "wait_seconds",
    type=float,
    default=0.0,
    metavar="SECONDS",
    help="If another run is writing the database, wait this long for it (default: exit at once).",
)


@main.command(help="The nightly job: sync every configured source, compute the metrics, render the report.")
@_sync_options
@click.option(
    "--as-of",
    metavar="DATE",
    callback=_checked(check_as_of),
    help="Evaluate the metrics as of the end of this day (YYYY-MM-DD, 1970-01-01 to 2999-12-31).",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "prefect", "plain"]),
    default="auto",
    show_default=True,
    help="prefect: the nightly flow, reported to the Prefect API at PREFECT_API_URL (or to a temporary "
    "local one, about 7 s to start); plain: the same steps and retries without Prefect; auto: prefect "
    "when PREFECT_API_URL is set, else plain.",
)
@click.option(
    "--task-runner",
    type=click.Choice(["threads", "dask"]),
    help="Where repositories are synced (default from [nightly].task_runner, else threads).",
)
@click.option("--no-report", is_flag=True, help="Skip rendering the report.")
@_wait_option
def run(engine: str, task_runner: str | None, no_report: bool, **source: Any) -> None:
    _run(_request("run", **source), _engine(engine), task_runner, report=not no_report)


def _engine(chosen: str) -> str:
    """auto: Prefect when there is a Prefect API to report to (PREFECT_API_URL in the environment or
    the active Prefect profile, or Prefect already set up in this process, e.g. a test harness).
    Without one, a temporary API would cost about 7 s and show nobody anything (it runs no UI and
    stops with the run), so the same steps run plain."""
    from flows.temporary_api import configured_api_url

    if chosen != "auto":
        return chosen
    return "prefect" if configured_api_url() or "prefect" in sys.modules else "plain"


@main.command(help="Load new git history and GitHub activity (incremental) and publish a new database.")
@_sync_options
@_wait_option
def sync(**source: Any) -> None:
    _run(_request("sync", **source), engine="plain", report=False)


def _request(
    command: str,
    db: Path | None,
    config: Path | None,
    repos: tuple[str, ...],
    all_branches: bool,
    branch: str | None,
    github_repos: tuple[str, ...],
    github_orgs: tuple[str, ...],
    github_url: str | None,
    wait_seconds: float,
    as_of: str | None = None,
) -> RunRequest:
    """The options run and sync share, as one request."""
    return RunRequest(
        command=command,
        config_path=str(config) if config else None,
        db_path=str(db) if db else None,
        repos=repos,
        branches=_branches(all_branches, branch),
        github_repos=github_repos,
        github_orgs=github_orgs,
        github_url=github_url,
        as_of=as_of,
        wait_seconds=wait_seconds,
    )


_metric_options = [
    click.option(
        "--as-of",
        metavar="DATE",
        callback=_checked(check_as_of),
        help="Evaluate as of the end of this day (YYYY-MM-DD, 1970-01-01 to 2999-12-31). Default: now.",
    ),
    click.option(
        "--window",
        metavar="90d",
        callback=_checked(parse_window),
        help="Trailing window, e.g. 90d or 12w, at most 3660 days (default from perftrust.toml, else 90d).",
    ),
    click.option(
        "--min-n",
        type=int,
        callback=_checked(check_min_n),
        help="Below this many cases (1 or more) a rate shows as not enough data (default 5).",
    ),
    click.option("--timezone", metavar="ZONE", help="Time zone for dates, e.g. Europe/Berlin (default UTC)."),
    click.option(
        "--pseudonymize", is_flag=True, help="Stable pseudonyms instead of names, logins and emails."
    ),
]


@main.command(help="Compute the performance-trust metric tables from what sync loaded.")
@_db_option
@_config_option
@_metric_options[0]
@_metric_options[1]
@_metric_options[2]
@_metric_options[3]
@_metric_options[4]
@_wait_option
def metrics(
    db: Path | None,
    config: Path | None,
    as_of: str | None,
    window: str | None,
    min_n: int | None,
    timezone: str | None,
    pseudonymize: bool,
    wait_seconds: float,
) -> None:
    from pipeline.nightly import metric_settings_for, recompute_metrics
    from pipeline.store import Store

    try:
        settings = load_settings(config)
        metric_settings = metric_settings_for(settings, as_of, window, min_n, timezone, pseudonymize)
        outcome = recompute_metrics(Store.for_settings(settings, db), settings, metric_settings, wait_seconds)
    except PerftrustError as exc:
        _fail(exc)
        return
    tables = ", ".join(f"{t} {n:,}" for t, n in outcome.metrics.items())
    console.print(
        Text(
            f"metrics as of {metric_settings.as_of:%Y-%m-%d %H:%M} UTC (window {metric_settings.window_days} "
            f"days, minimum n {metric_settings.min_n}): {tables}   time: {outcome.seconds['metrics']:.2f} s "
            f"(+ {outcome.seconds['copy']:.2f} s copying the published database)\n"
            f"published {printable(str(outcome.published))}"
        ),
        highlight=False,
        soft_wrap=True,
    )


@main.command(help="Render the report: report.html (self-contained), summary.md and csv/ (see README).")
@_db_option
@_config_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder (default [reports].output_dir, else <db name>-reports/ beside the database).",
)
@click.option("--team", metavar="NAME", help="Only the members of this [teams] entry.")
@click.option(
    "--as-of",
    metavar="DATE",
    callback=_checked(check_as_of),
    help="Another date than the metrics were computed for (recomputed on a copy; YYYY-MM-DD).",
)
@click.option("--pseudonymize", is_flag=True, help="Stable pseudonyms instead of names, logins and emails.")
def report(
    db: Path | None,
    config: Path | None,
    out: Path | None,
    team: str | None,
    as_of: str | None,
    pseudonymize: bool,
) -> None:
    from pipeline.nightly import metric_settings_for
    from pipeline.teams import team_contributor_ids
    from reports import ReportOptions, api_url_to_web_url, render_reports

    try:
        settings = _with_db(load_settings(config), db)
        db_path = settings.db_path
        members: tuple[str, ...] | None = None
        if team is not None:
            with connect(db_path, read_only=True) as con:
                members, unmatched = team_contributor_ids(con, settings, team)
            for member in unmatched:
                _say("warning", "yellow", f"team {team}: {member} matches no identity in {db_path}")
        options = ReportOptions(
            web_url=settings.reports.web_url or api_url_to_web_url(settings.github.url),
            team=team,
            contributor_ids=members,
            pseudonymize=pseudonymize or settings.reports.pseudonymize,
            as_of=metric_settings_for(settings, as_of).as_of_date if as_of else None,
            settings=settings,
        )
        result = render_reports(db_path, out or settings.report_dir, options)
    except PerftrustError as exc:
        _fail(exc)
        return
    console.print(
        Text(
            f"report for {result.count_contributors:,} people in {result.seconds:.2f} s: "
            + printable(f"{result.html_path}, {result.markdown_path}, {result.csv_dir}/")
        ),
        highlight=False,
        soft_wrap=True,
    )


@main.command(
    help='Run a read-only SQL query, e.g. perftrust sql "SELECT * FROM fct_commits LIMIT 5". '
    "Only SELECT (with WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE) and EXPLAIN of one run; "
    "the query writes no file (the database, COPY, EXPORT), uses no network, attaches, installs or "
    "loads nothing, cannot change settings and never spills to disk. It reads only the database unless "
    "--allow-read names a folder or file."
)
@_db_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option(
    "--allow-read",
    "allow_read",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH",
    help="Let the query read local files (read_csv, read_parquet, read_json, read_text, glob) under this "
    "folder, or this one file; repeatable. Reading only: nothing is ever written there.",
)
@click.argument("query")
@_config_option
def sql(db: Path | None, fmt: str, allow_read: tuple[Path, ...], query: str, config: Path | None) -> None:
    import duckdb

    from pipeline import sql_output
    from pipeline.db import check_read_only_query, connect_for_query, query_error

    try:
        check_read_only_query(query)
        con = connect_for_query(db or load_settings(config).db_path, allow_read)
    except PerftrustError as exc:
        _fail(exc)
        return
    try:
        rel = con.sql(query)
        if rel is None:
            return
        columns = rel.columns
        rows = rel.fetchall()
    except duckdb.Error as exc:
        _fail(query_error(exc))
        return
    finally:
        con.close()
    out = sys.stdout
    if fmt == "csv":
        out.writelines(sql_output.csv_lines(columns, rows))
    elif fmt == "json":
        out.write(sql_output.format_json(columns, rows))
    else:
        width = sql_output.output_width(out)
        out.write(sql_output.format_table(columns, rows, width, ascii_only=sql_output.is_ascii_only(out)))


@main.command(help="Serve the nightly flow on a schedule (needs a Prefect server: see README, Scheduling).")
@_config_option
@_db_option
@click.option(
    "--cron", metavar='"0 2 * * *"', help="When to run (default from [nightly].cron, else 02:00 daily)."
)
@click.option(
    "--timezone", metavar="ZONE", help="Time zone of the cron expression (default [nightly].timezone)."
)
@click.option("--name", default="nightly", show_default=True, help="Deployment name in Prefect.")
def serve(config: Path | None, db: Path | None, cron: str | None, timezone: str | None, name: str) -> None:

    from pipeline.config import check_cron

    try:
        settings = load_settings(config)
        cron = check_cron(cron or settings.nightly.cron)
        tz = check_timezone(timezone or settings.nightly.timezone)
        from flows.temporary_api import configured_api_url

        api_url = configured_api_url()
        if not api_url:
            raise ConfigError(
                "PREFECT_API_URL is not set: a schedule needs a running Prefect server (a temporary one runs no "
                "scheduler, so no run would ever start)",
                "start one with `prefect server start` (it listens on 127.0.0.1:4200), then "
                "export PREFECT_API_URL=http://127.0.0.1:4200/api and run `perftrust serve` again",
            )
        # Absolute paths: the flow runs in a process started by the Prefect runner, maybe elsewhere.
        config_path = (config or Path("perftrust.toml")).resolve()
        parameters: dict[str, Any] = {
            "config_path": str(config_path) if config_path.exists() else None,
            "db_path": str((db or settings.db_path).resolve()),
        }
    except PerftrustError as exc:
        _fail(exc)
        return
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.nightly import nightly

    _say("serving", "bold", f"deployment perftrust-nightly/{name}: {cron} ({tz}) on {api_url}; Ctrl-C stops")
    nightly.serve(
        name=name,
        schedules=[Cron(cron, timezone=tz)],
        parameters=parameters,
        global_limit=1,  # never two nightly runs at once (the run lock would refuse the second anyway)
        pause_on_shutdown=False,
        print_starting_message=False,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


@main.command(help="Publish the previous database again (the current one is kept, so this can be undone).")
@_config_option
@_db_option
@click.option(
    "--to", metavar="RUN", help="Which previous database: its run id (see --list); default: the newest."
)
@click.option("--list", "list_only", is_flag=True, help="List the published and the previous databases.")
@_wait_option
def rollback(
    config: Path | None, db: Path | None, to: str | None, list_only: bool, wait_seconds: float
) -> None:
    import duckdb

    from pipeline.nightly import render_report
    from pipeline.store import Store, last_run_of
    from pipeline.store import rollback as roll_back

    try:
        settings = _with_db(load_settings(config), db)
        store = Store.for_settings(settings)
        if not store.db_path.exists() and not store.previous_files():
            raise PerftrustError(
                f"there is no database at {store.db_path}, and no previous one in {store.previous}",
                "check --db (or [database].path); `perftrust run` makes the database",
            )
        if list_only:
            _list_databases(store, last_run_of)
            return
        with store.lock("rollback", wait_seconds):
            _chosen, replaced = roll_back(store, to)
        now, was = last_run_of(store.db_path), last_run_of(replaced)
        report_path = None
        if _has_metrics(store.db_path):
            report_path = render_report(store.db_path, settings)
    except (PerftrustError, duckdb.Error) as exc:
        _fail(exc if isinstance(exc, PerftrustError) else PerftrustError(str(exc), "check the file"))
        return
    _say(
        "published",
        "bold",
        f"{store.db_path} is now the database of {now.run_label if now else 'no run'}; the one it "
        f"replaced ({was.run_label if was else 'no run'}) is kept: `perftrust rollback` again undoes this",
    )
    if report_path is not None:
        _say("report", "bold", f"{report_path} (rendered again from the database now published)")
    _say(
        "note",
        "yellow",
        "the next run rebuilds the database from the repository shards: fix what made the bad run first",
    )


def _list_databases(store: Any, last_run_of: Callable[[Path], Any]) -> None:
    """The published database (marked *) and the previous ones, newest first, by the run that made them."""
    table = Table(box=None)
    for column in ("", "run", "command", "status", "finished (UTC)", "size", "file"):
        table.add_column(column, no_wrap=True)
    files = ([store.db_path] if store.db_path.exists() else []) + list(reversed(store.previous_files()))
    for path in files:
        run = last_run_of(path)
        table.add_row(
            "*" if path == store.db_path else "",
            run.run_label if run else "(no run)",
            run.command if run else "",
            run.status if run else "",
            f"{run.finished_at:%Y-%m-%d %H:%M}" if run and run.finished_at else "",
            f"{path.stat().st_size / 2**20:.1f} MiB",
            Text(str(path)),
        )
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=200)  # a pipe or a file: whole lines, not 80 columns
    out.print(table)
    click.echo(
        "* is published now. `perftrust rollback --to RUN` publishes another one (default: the newest "
        "previous one); the published one is kept, so a rollback can be undone."
    )


def _has_metrics(db_path: Path) -> bool:
    with connect(db_path, read_only=True) as con:
        return bool(con.execute("SELECT count(*) FROM metric_runs").fetchall()[0][0])


@main.command(
    help="Remove sources from the database, e.g. `perftrust forget git:acme/api github:acme/api` (or "
    "`acme/api` for both). The database is published anew without them and metrics recomputed; "
    "`perftrust rollback` undoes it. A source synced again later comes back."
)
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@_config_option
@_db_option
@_wait_option
def forget(sources: tuple[str, ...], config: Path | None, db: Path | None, wait_seconds: float) -> None:
    from pipeline.nightly import forget_sources
    from pipeline.store import Store

    started = time.perf_counter()
    try:
        settings = load_settings(config)
        outcome = forget_sources(Store.for_settings(settings, db), settings, sources, wait_seconds)
    except PerftrustError as exc:
        _fail(exc)
        return
    for source_id, rows in outcome.forgotten:
        _say("forgot", "bold", f"{source_id}: {rows:,} rows removed")
    _say(
        "published",
        "bold",
        f"{outcome.published} without them{', metrics recomputed' if outcome.metrics else ''} "
        f"({time.perf_counter() - started:.2f} s); undo with `perftrust rollback`",
    )


@main.command(help="Write a commented example perftrust.toml (every setting, with its default).")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False), default=Path("perftrust.toml"))
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def init(path: Path, force: bool) -> None:
    from pipeline.init_config import write_example

    try:
        written = write_example(path, force)
    except PerftrustError as exc:
        _fail(exc)
        return
    _say("wrote", "bold", f"{written}: edit it, then run `perftrust doctor`")


@main.command(
    help="Check git, the GitHub token (scopes, quota, access), the database, the store and Prefect."
)
@_config_option
def doctor(config: Path | None) -> None:
    from pipeline.doctor import exit_code, format_checks, run_checks

    try:
        settings = load_settings(config)
    except PerftrustError as exc:
        _fail(exc)
        return
    from flows.temporary_api import configured_api_url

    checks = run_checks(settings, os.environ.get("GITHUB_TOKEN") or None, configured_api_url())
    click.echo(format_checks(checks))  # plain text: [github].url must not be read as markup
    sys.exit(exit_code(checks))


def run_command_line() -> None:
    """The `perftrust` console script: the command, then the process ends without Python's teardown
    (finalising DuckDB, Arrow and GitPython takes 0.1 s, 5 % of a first sync of flask). Only when
    that is safe: everything perftrust writes is closed and published before a command returns,
    Prefect (whose exit handlers send the last events and logs) is not loaded, and no other thread
    runs."""
    import threading

    try:
        main()
    except SystemExit as exc:
        if not isinstance(exc.code, int | None) or "prefect" in sys.modules or threading.active_count() > 1:
            raise
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe (`| head`): let Python report it as usual
            raise exc from None
        os._exit(exc.code or 0)


if __name__ == "__main__":
    run_command_line()
