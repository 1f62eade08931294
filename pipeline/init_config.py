"""`perftrust init`: a commented example perftrust.toml naming every key, its meaning and its default.

The defaults shown are read from the dataclasses in pipeline.config, so they cannot drift from what
load_settings does when a key is left out; tests/test_init_config.py parses the example as written
and with every commented-out key switched on, and checks that every key of the schema is in it.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import (
    DEFAULT_BOT_PATTERNS,
    GitHubConfig,
    MetricsConfig,
    NightlyConfig,
    ReportsConfig,
    Settings,
)
from pipeline.errors import ConfigError


def _toml(value: object) -> str:
    """A TOML literal for a default value (strings as literal strings: regexes keep their backslashes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        text = str(value)
        if "\\" in text and "'" not in text and "\n" not in text:
            return f"'{text}'"
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML literal for {value!r}")


def _example() -> str:
    gh, metrics, nightly, reports = GitHubConfig(), MetricsConfig(), NightlyConfig(), ReportsConfig()
    bot_patterns = "\n".join(f"#   {_toml(p)}," for p in DEFAULT_BOT_PATTERNS)
    return f"""\
# perftrust.toml: the configuration of `perftrust run`, `sync`, `metrics`, `serve` and `doctor`.
#
# Every key perftrust understands is below, each with what it does and its default. A line
# `# key = value` is switched off and shows the default (or, where there is none, an example):
# remove the `# ` to set it. Unknown keys and sections are errors, so a typo never silently does
# nothing. Relative paths are relative to this file, not to where a command runs. Tokens never go
# here: perftrust reads the GitHub token from the GITHUB_TOKEN environment variable only.
# `perftrust doctor` checks this file, git, GitHub, the database and Prefect.

[database]
# The published DuckDB file that reports and `perftrust sql` read (relative to this file). Without
# this key and --db: ./perftrust.duckdb if it exists, else .perftrust/perftrust.duckdb at the top of
# the git work tree the command runs in (kept out of git), else ./perftrust.duckdb. Default: as above.
path = "perftrust.duckdb"
# Folder for per-repository shards, builds and previous databases. Default: "<path>.store" beside the database.
# store_dir = "perftrust.duckdb.store"
# How many previously published databases to keep for `perftrust rollback` (0: none). Default: {Settings.keep_previous}.
# keep_previous = {_toml(Settings.keep_previous)}

[git]
# Parallel `git log` processes per repository. Default: one per core, at most 4.
# workers = 2

# One [[repositories]] table per local clone (bare or not); repeat the table for more clones.
# Default when no repository is configured (and no GitHub source): the clone you run perftrust in.
[[repositories]]
# The clone's folder. Required in each [[repositories]] table.
path = "."
# The key the repository is stored under. Default: owner/name of a GitHub `origin` remote (so git and GitHub data join), else the folder's name.
# name = "acme/api"
# Which refs to read: "default" (the default branch), "all" (every branch) or "branch:NAME". Default: "default".
# branches = "default"

[github]
# The GitHub REST API; GitHub Enterprise: "https://HOST/api/v3". Default: {_toml(gh.url)}.
# url = {_toml(gh.url)}
# GitHub repositories to sync, as "owner/name". Default: none.
# repositories = ["acme/api", "acme/web"]
# Whole organizations: a name, or {{name, include, exclude}} with shell patterns on repository names. Default: none.
# organizations = ["acme", {{ name = "acme-labs", include = ["svc-*"], exclude = ["*-archive"] }}]
# Parallel timeline and review requests per repository (GitHub wants few). Default: {gh.concurrency}.
# concurrency = {_toml(gh.concurrency)}
# Seconds to wait for a rate-limit reset before stopping cleanly (what was synced is kept). Default: {gh.max_rate_limit_wait:g}.
# max_rate_limit_wait = {gh.max_rate_limit_wait:g}
# Seconds to wait for one GitHub answer before retrying it. Default: {gh.timeout:g}.
# timeout = {gh.timeout:g}
# GitHub Projects due dates are read after each repository's issues (through GraphQL; the token needs read:project).
# Date fields holding an item's due date (case-insensitive; every iteration field counts too: due on its last day). Default: {_toml(gh.due_date_fields)}.
# due_date_fields = {_toml(gh.due_date_fields)}
# GitHub Projects to read due dates from, as "owner/number" (https://github.com/orgs/acme/projects/1 is "acme/1"). Default: [] (every project an item is on).
# projects = []
# Which GitHub API reads issues, pull requests, timelines, reviews and commit logins: "graphql" (a few
# quota points per 100 items) or "rest" (a request per item). Same rows either way (GitHub Projects due dates:
# GraphQL either way). Default: {_toml(gh.api)}.
# api = {_toml(gh.api)}

[metrics]
# The trailing window of the `window` period, in days (90d) or weeks (12w). Default: "{metrics.window_days}d".
# window = "{metrics.window_days}d"
# Below this sample size a rate is NULL ("not enough data"). Default: {metrics.min_n}.
# min_n = {_toml(metrics.min_n)}
# Time zone of calendar dates, weeks and months (an IANA name). Default: {_toml(metrics.timezone)}.
# timezone = {_toml(metrics.timezone)}
# A review request answered after this many hours counts as answered late. Default: {metrics.review_response_hours:g}.
# review_response_hours = {metrics.review_response_hours:g}
# Also compute metric rows for bots. Default: {_toml(metrics.include_bots)}.
# include_bots = {_toml(metrics.include_bots)}

[identities]
# One person behind identities nothing else links: emails and github:LOGIN. Default: none.
# aliases = {{ "Mona Lisa" = ["mona@work.example", "mona@home.example", "github:monalisa"] }}
# Regexes on names, emails and logins that mark automation; replaces the defaults shown. Default: as shown.
# bot_patterns = [
{bot_patterns}
# ]
# Regexes added to bot_patterns (the usual way to add a bot). Default: none.
# extra_bot_patterns = ['^ci@build\\.', '^release-bot$']

[teams]
# One key per team: its members as GitHub logins, emails or alias names (reports group people by team). Default: no teams.
# platform = ["octocat", "mona@work.example", "Mona Lisa"]

[reports]
# Folder the HTML reports and CSV files are written to (relative to this file).
# Default: beside the database, named after it ("perftrust-reports" for "perftrust.duckdb").
# output_dir = "perftrust-reports"
# Replace ids, logins, names and emails in reports with stable pseudonyms. Default: {_toml(reports.pseudonymize)}.
# pseudonymize = {_toml(reports.pseudonymize)}
# The web address links in reports point to. Default: derived from [github].url (https://github.com for api.github.com).
# web_url = "https://github.example.com"

[nightly]
# When `perftrust serve` runs the nightly job: minute hour day-of-month month day-of-week. Default: {_toml(nightly.cron)}.
# cron = {_toml(nightly.cron)}
# Time zone the schedule is read in (an IANA name). Default: {_toml(nightly.timezone)}.
# timezone = {_toml(nightly.timezone)}
# Repositories synced at once. Default: {nightly.concurrency}.
# concurrency = {_toml(nightly.concurrency)}
# Retries per repository on transient failures (network, GitHub 5xx, git lock files). Default: {nightly.retries}.
# retries = {_toml(nightly.retries)}
# Seconds before the first retry, doubled at each retry. Default: {nightly.retry_delay_seconds:g}.
# retry_delay_seconds = {nightly.retry_delay_seconds:g}
# How repositories run: "threads", or "dask" (needs the perftrust[dask] extra). Default: {_toml(nightly.task_runner)}.
# task_runner = {_toml(nightly.task_runner)}
# Worker processes of the local Dask cluster (task_runner = "dask"). Default: {nightly.dask_workers}.
# dask_workers = {_toml(nightly.dask_workers)}
# An existing Dask scheduler to use instead of a local cluster. Default: none (a local cluster).
# dask_address = "tcp://scheduler.example:8786"
"""


EXAMPLE_CONFIG: str = _example()


def write_example(path: Path, force: bool = False) -> Path:
    """Write EXAMPLE_CONFIG to path; an existing file is only replaced with force."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a folder", f"pass a file name, e.g. {path / 'perftrust.toml'}")
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists (it was left untouched)",
            "pass --force to replace it, or give another path",
        )
    if not path.parent.is_dir():
        raise ConfigError(f"the folder {path.parent} does not exist", "create it, or give another path")
    try:
        path.write_text(EXAMPLE_CONFIG, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror or exc}", "check the folder's permissions"
        ) from exc
    return path
