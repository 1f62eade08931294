"""The `perftrust` command line."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pipeline import __version__
from pipeline.config import (
    RepositoryConfig,
    Settings,
    check_timezone,
    is_owner_name,
    load_settings,
    parse_window,
)
from pipeline.db import connect
from pipeline.errors import ConfigError, PerftrustError
from pipeline.git_repo import RepoSpec

if TYPE_CHECKING:
    from pipeline.git_sync import Progress as ProgressCallback
    from pipeline.metrics.common import MetricSettings
    from pipeline.sync import SyncSummary

console = Console(stderr=True)

FRAMING = (
    "perftrust shows performance-trust signals from repository activity: conversation starters, "
    "not verdicts on a person, and no measure of interpersonal trust."
)


def _say(label: str, style: str, text: str) -> None:
    """One message line; text from repositories or errors is never read as rich markup."""
    console.print(Text.assemble((label, style), " ", text), soft_wrap=True, highlight=False)


def _fail(exc: PerftrustError) -> None:
    _say("error:", "bold red", exc.problem)
    if exc.fix:
        _say("  fix:", "bold", exc.fix)
    sys.exit(2)


@contextmanager
def _progress() -> Iterator[Any]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("commits"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as progress:

        def factory(label: str) -> ProgressCallback:
            task = progress.add_task(label, total=None)

            def update(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return update

        yield factory


def _repositories(settings: Settings, repos: tuple[str, ...], branches: str | None) -> list[RepositoryConfig]:
    if repos:
        chosen = [RepositoryConfig(RepoSpec.parse(r)) for r in repos]
    elif settings.repositories:
        chosen = list(settings.repositories)
    else:
        chosen = [RepositoryConfig(RepoSpec(Path(".")))]  # the repository you stand in
    if branches:
        chosen = [RepositoryConfig(r.spec, branches) for r in chosen]
    return chosen


def _print_summary(summary: SyncSummary, seconds: float) -> None:
    table = Table(
        title=f"perftrust {summary.command} - run {summary.run_id[:8]} - {summary.status}",
        title_justify="left",
    )
    for column in ("repository", "source", "status", "added", "requests", "seconds"):
        table.add_column(column, justify="right" if column in ("added", "requests", "seconds") else "left")
    for step in summary.steps:
        table.add_row(
            step.repo,
            step.step.removesuffix("_sync"),
            step.status,
            f"{step.count_rows_added:,}",
            f"{step.count_api_requests:,}" if step.step.startswith("github") else "",
            f"{step.duration_seconds:.2f}",
        )
    console.print(table)
    for step in summary.steps:
        for warning in step.warnings:
            _say("warning", "yellow", f"{step.repo}: {warning}")
        if step.error_message:
            _say("failed", "bold red", f"{step.repo}: {step.error_message}")
    contributors = "unchanged" if summary.count_contributors is None else f"{summary.count_contributors:,}"
    github = ""
    if any(s.step.startswith("github") for s in summary.steps):
        github = f"   GitHub items updated: {summary.count_github_items:,} ({summary.count_api_requests:,} requests)"
    console.print(
        f"commits added: {summary.count_commits_added:,}{github}   contributors: {contributors}   "
        f"time: {seconds:.2f} s",
        highlight=False,
        soft_wrap=True,
    )


def _sync(
    config: Path | None,
    db: Path | None,
    repos: tuple[str, ...],
    branches: str | None,
    command: str,
    github_repos: tuple[str, ...] = (),
    github_orgs: tuple[str, ...] = (),
    github_url: str | None = None,
) -> None:
    from pipeline.sync import run_sync  # here: `perftrust sql` and `metrics` need no GitHub client

    started = time.perf_counter()
    try:
        settings = load_settings(config)
        if github_url:
            settings = replace(settings, github=replace(settings.github, url=github_url.rstrip("/")))
        for name in github_repos:
            if not is_owner_name(name):
                raise ConfigError(
                    f"--github {name!r} is not an owner/name", "write it like --github octo-org/octo-repo"
                )
        # --github alone syncs only GitHub; local clones join when given with --repo or configured.
        only_github = bool(github_repos or github_orgs) and not repos and not settings.repositories
        repositories = [] if only_github else _repositories(settings, repos, branches)
        con = connect(db or settings.db_path)
        with _progress() as progress_for:
            summary = run_sync(
                con,
                settings,
                repositories,
                command=command,
                progress_for=progress_for,
                github_repositories=list(github_repos) or None,
                github_organizations=list(github_orgs) or None,
            )
        if command == "run":
            _run_metrics(con, _metric_settings(settings, None, None, None, None, False))
        con.close()
    except PerftrustError as exc:
        _fail(exc)
        return
    _print_summary(summary, time.perf_counter() - started)
    if summary.status != "succeeded":
        sys.exit(1)


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


def _sync_command(name: str) -> Callable[..., None]:
    def command(
        db: Path | None,
        config: Path | None,
        repos: tuple[str, ...],
        all_branches: bool,
        branch: str | None,
        github_repos: tuple[str, ...],
        github_orgs: tuple[str, ...],
        github_url: str | None,
    ) -> None:
        _sync(config, db, repos, _branches(all_branches, branch), name, github_repos, github_orgs, github_url)

    return command


run = main.command(
    name="run", help="The nightly job: sync every configured source, then compute the metrics."
)(_sync_options(_sync_command("run")))
sync = main.command(
    name="sync", help="Load new git history and GitHub activity into the database (incremental)."
)(_sync_options(_sync_command("sync")))


def _metric_settings(  # imports here: a plain sync needs neither Polars nor the metric code
    settings: Settings,
    as_of: str | None,
    window: str | None,
    min_n: int | None,
    timezone: str | None,
    pseudonymize: bool,
) -> MetricSettings:
    from pipeline.metrics.common import MetricSettings, parse_as_of

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


def _run_metrics(con: Any, metric_settings: MetricSettings) -> None:
    from pipeline.metrics.run import compute_metrics

    started = time.perf_counter()
    written = compute_metrics(con, metric_settings)
    tables = ", ".join(f"{t} {n:,}" for t, n in written.items())
    console.print(
        f"metrics as of {metric_settings.as_of:%Y-%m-%d %H:%M} UTC (window {metric_settings.window_days} days, "
        f"minimum n {metric_settings.min_n}): {tables}   time: {time.perf_counter() - started:.2f} s",
        highlight=False,
        soft_wrap=True,
    )


_metric_options = [
    click.option(
        "--as-of", metavar="DATE", help="Evaluate as of the end of this day (YYYY-MM-DD). Default: now."
    ),
    click.option(
        "--window",
        metavar="90d",
        help="Trailing window, e.g. 90d or 12w (default from perftrust.toml, else 90d).",
    ),
    click.option(
        "--min-n", type=int, help="Below this many cases a rate shows as not enough data (default 5)."
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
def metrics(
    db: Path | None,
    config: Path | None,
    as_of: str | None,
    window: str | None,
    min_n: int | None,
    timezone: str | None,
    pseudonymize: bool,
) -> None:
    try:
        settings = load_settings(config)
        metric_settings = _metric_settings(settings, as_of, window, min_n, timezone, pseudonymize)
        con = connect(db or settings.db_path)
        _run_metrics(con, metric_settings)
        con.close()
    except PerftrustError as exc:
        _fail(exc)


@main.command(help='Run a read-only SQL query, e.g. perftrust sql "SELECT * FROM fct_commits LIMIT 5".')
@_db_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.argument("query")
def sql(db: Path | None, fmt: str, query: str) -> None:
    import duckdb

    try:
        con = connect(db or Path("perftrust.duckdb"), read_only=True)
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
        _fail(
            PerftrustError(
                f"the query failed: {str(exc).splitlines()[0]}",
                "check the SQL; tables are listed in sql/ and the README",
            )
        )
        return
    out = sys.stdout
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        json.dump(
            [dict(zip(columns, r, strict=True)) for r in rows], out, default=str, ensure_ascii=False, indent=1
        )
        out.write("\n")
    else:
        table = Table(*columns, show_lines=False)
        for r in rows:
            table.add_row(*("NULL" if v is None else str(v) for v in r))
        Console(file=out, width=max(100, Console().width)).print(table)
        out.write(f"({len(rows)} rows)\n")


if __name__ == "__main__":
    main()
