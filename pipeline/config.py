"""perftrust.toml: loaded once, validated, unknown keys are errors (a typo must not be silently ignored)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.git_repo import RepoSpec
from pipeline.secrets import has_userinfo, scrub

DEFAULT_CONFIG = Path("perftrust.toml")
# perftrust's own folder inside a git work tree: its .gitignore keeps the database, the store and the
# reports out of `git status`, the way a virtualenv or pytest's cache keeps itself out.
PERFTRUST_DIR = ".perftrust"
LEGACY_DB = Path("perftrust.duckdb")
# GitHub Projects date fields that are due dates unless [github].due_date_fields says otherwise
# (pipeline/github_projects.py uses this one constant too).
DEFAULT_DUE_DATE_FIELDS = ("Due date", "Due", "Target date", "End date", "Deadline")


def work_tree_root(start: Path) -> Path | None:
    """The top folder of the git work tree that start is in (the nearest with a .git entry), if any."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def default_db_path() -> Path:
    """Where the database goes when neither --db nor [database].path names it: ./perftrust.duckdb if it
    exists (where perftrust kept it before), else .perftrust/perftrust.duckdb at the top of the git
    work tree you stand in, else ./perftrust.duckdb."""
    if LEGACY_DB.exists():
        return LEGACY_DB
    cwd = Path.cwd()
    top = work_tree_root(cwd)
    if top is None:
        return LEGACY_DB
    folder = Path(PERFTRUST_DIR) if top == cwd.resolve() else top / PERFTRUST_DIR
    return folder / "perftrust.duckdb"


# Accounts that are automation, not people; matched (case-insensitive) against names, emails and logins.
DEFAULT_BOT_PATTERNS = (
    r"\[bot\]",
    r"^dependabot",
    r"^renovate",
    r"^github-actions",
    r"^(noreply|web-flow)@github\.com$",
    r"^GitHub$",
    r"^pre-commit-ci",
    r"^snyk-bot",
    # AI coding agents credited in Co-authored-by trailers.
    r"^noreply@anthropic\.com$",
    r"^(\d+\+)?copilot@users\.noreply\.github\.com$",
    r"^cursoragent@cursor\.com$",
)

_REF_SELECTION = re.compile(r"^(default|all|branch:.+)$")
_OWNER_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def is_owner_name(text: str) -> bool:
    return bool(_OWNER_NAME.match(text))


@dataclass(frozen=True)
class RepositoryConfig:
    spec: RepoSpec
    branches: str = "default"


@dataclass(frozen=True)
class OrganizationConfig:
    """A whole GitHub organization; include/exclude are shell patterns on the repository name."""

    name: str
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()

    def wants(self, repo_name: str) -> bool:
        short = repo_name.split("/", 1)[-1].lower()
        return any(fnmatch.fnmatchcase(short, p.lower()) for p in self.include) and not any(
            fnmatch.fnmatchcase(short, p.lower()) for p in self.exclude
        )


@dataclass(frozen=True)
class GitHubConfig:
    url: str = "https://api.github.com"  # GitHub Enterprise: https://HOST/api/v3
    repositories: tuple[str, ...] = ()  # owner/name
    organizations: tuple[OrganizationConfig, ...] = ()
    concurrency: int = 4
    max_rate_limit_wait: float = 900.0
    timeout: float = 30.0
    # GitHub Projects date fields that carry an item's due date (SPEC: a project date field, else an
    # iteration field's last day, else the milestone's due date), matched case-insensitively; read by
    # pipeline/github_projects.py after each repository's issues.
    due_date_fields: tuple[str, ...] = DEFAULT_DUE_DATE_FIELDS
    # Projects to read due dates from, as "owner/number" (an organization's or a user's project);
    # empty: every project an item is on.
    projects: tuple[str, ...] = ()
    # Which GitHub API reads issues, pull requests, timelines, reviews and commit logins: "graphql"
    # (a few points per 100 items) or "rest" (a request per item); both give the same rows.
    api: str = "graphql"


GITHUB_APIS = ("graphql", "rest")
# A project named in [github].projects: its owner's login and its number (github.com/orgs/OWNER/projects/N).
_PROJECT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]*)/([1-9][0-9]*)$")


@dataclass(frozen=True)
class ReportsConfig:
    output_dir: Path | None = None  # None: beside the database (see Settings.report_dir)
    pseudonymize: bool = False
    web_url: str | None = None  # links in reports; None: derived from [github].url


@dataclass(frozen=True)
class NightlyConfig:
    cron: str = "0 2 * * *"
    timezone: str = "UTC"
    concurrency: int = 4  # repositories synced at once
    retries: int = 2  # per repository, on transient failures (network, GitHub 5xx, git lock files)
    retry_delay_seconds: float = 30.0  # doubled at each retry
    task_runner: str = "threads"  # threads | dask
    dask_workers: int = 2
    dask_address: str | None = None  # an existing Dask scheduler (tcp://HOST:8786); None: a LocalCluster


@dataclass(frozen=True)
class MetricsConfig:
    window_days: int = 90
    min_n: int = 5
    timezone: str = "UTC"
    review_response_hours: float = 48.0
    include_bots: bool = False


@dataclass(frozen=True)
class Settings:
    db_path: Path = field(default_factory=default_db_path)
    repositories: tuple[RepositoryConfig, ...] = ()
    github: GitHubConfig = GitHubConfig()
    metrics: MetricsConfig = MetricsConfig()
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    bot_patterns: tuple[str, ...] = DEFAULT_BOT_PATTERNS
    git_workers: int | None = None
    # Where per-repository shards, builds and previous databases live; None: <db_path>.store beside it.
    store_dir: Path | None = None
    keep_previous: int = 3
    teams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reports: ReportsConfig = ReportsConfig()
    nightly: NightlyConfig = NightlyConfig()

    @property
    def store_path(self) -> Path:
        return (
            self.store_dir
            if self.store_dir is not None
            else self.db_path.with_name(self.db_path.name + ".store")
        )

    @property
    def report_dir(self) -> Path:
        """[reports].output_dir, else beside the database and named after it (perftrust.duckdb:
        perftrust-reports/), so each database has its own reports wherever a command runs."""
        if self.reports.output_dir is not None:
            return self.reports.output_dir
        return self.db_path.with_name(self.db_path.stem + "-reports")

    def bot_regex(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self.bot_patterns), re.IGNORECASE)


_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "database": {"path": str, "store_dir": str, "keep_previous": int},
    "git": {"workers": int},
    "github": {
        "url": str,
        "repositories": list,
        "organizations": list,
        "concurrency": int,
        "max_rate_limit_wait": (int, float),
        "timeout": (int, float),
        "due_date_fields": list,
        "projects": list,
        "api": str,
    },
    "metrics": {
        "window": str,
        "min_n": int,
        "timezone": str,
        "review_response_hours": (int, float),
        "include_bots": bool,
    },
    "identities": {"aliases": dict, "bot_patterns": list, "extra_bot_patterns": list},
    "teams": {},  # any key: a team name
    "reports": {"output_dir": str, "pseudonymize": bool, "web_url": str},
    "nightly": {
        "cron": str,
        "timezone": str,
        "concurrency": int,
        "retries": int,
        "retry_delay_seconds": (int, float),
        "task_runner": str,
        "dask_workers": int,
        "dask_address": str,
    },
}
_ORG_KEYS: dict[str, type] = {"name": str, "include": list, "exclude": list}
_REPO_KEYS: dict[str, type] = {"path": str, "name": str, "branches": str}


def _check_keys(section: str, table: dict[str, Any], allowed: dict[str, Any], source: Path) -> None:
    for key, value in table.items():
        if key not in allowed:
            raise ConfigError(
                f"{source}: unknown key [{section}].{key}",
                f"remove it or use one of: {', '.join(sorted(allowed))}",
            )
        if not isinstance(value, allowed[key]):
            expected = allowed[key].__name__ if isinstance(allowed[key], type) else "value"
            raise ConfigError(
                f"{source}: [{section}].{key} must be a {expected}, not {type(value).__name__}",
                f"write {key} as a TOML {expected}",
            )


def load_settings(path: Path | None) -> Settings:
    """Settings from perftrust.toml (path given, or ./perftrust.toml if present, else defaults)."""
    if path is None:
        if not DEFAULT_CONFIG.exists():
            return Settings()
        path = DEFAULT_CONFIG
    if not path.exists():
        raise ConfigError(f"the configuration file {path} does not exist", "create it, or leave out --config")
    try:
        data = tomllib.loads(_config_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "fix the line named above") from exc
    return settings_from_dict(data, path)


def _config_text(path: Path) -> str:
    """The file's text: TOML is UTF-8 (a leading byte-order mark, as Notepad writes, is allowed)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the configuration file {path}: {exc.strerror or exc}",
            "pass --config with a readable perftrust.toml (or create ./perftrust.toml)",
        ) from exc
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} is not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} is not valid UTF-8 "
            "(TOML files must be UTF-8; this one was probably saved as Latin-1 or Windows-1252)",
            f"save it as UTF-8 (in an editor: save with encoding UTF-8; or run "
            f"`iconv -f latin1 -t utf-8 {path} > utf8.toml` and use that file)",
        ) from exc


def settings_from_dict(data: dict[str, Any], source: Path) -> Settings:
    for key in data:
        if key not in (*_SCHEMA, "repositories"):
            raise ConfigError(
                f"{source}: unknown section [{key}]",
                f"use one of: {', '.join(sorted([*_SCHEMA, 'repositories']))}",
            )
    for section, allowed in _SCHEMA.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: {section} must be a table", f"write it as [{section}]")
        if section != "teams":
            _check_keys(section, table, allowed, source)

    repositories = []
    for i, entry in enumerate(data.get("repositories", [])):
        if not isinstance(entry, dict):
            raise ConfigError(f"{source}: repositories[{i}] must be a table", "write it as [[repositories]]")
        _check_keys(f"repositories[{i}]", entry, _REPO_KEYS, source)
        if "path" not in entry:
            raise ConfigError(f"{source}: repositories[{i}] has no path", 'add path = "/path/to/clone"')
        branches = entry.get("branches", "default")
        if not _REF_SELECTION.match(branches):
            raise ConfigError(
                f"{source}: repositories[{i}].branches = {branches!r} is not understood",
                'use "default", "all" or "branch:NAME"',
            )
        base = source.parent
        repo_path = Path(entry["path"]).expanduser()
        spec = RepoSpec(repo_path if repo_path.is_absolute() else base / repo_path, entry.get("name"))
        repositories.append(RepositoryConfig(spec, branches))

    identities = data.get("identities", {})
    aliases: dict[str, tuple[str, ...]] = {}
    for name, members in identities.get("aliases", {}).items():
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ConfigError(
                f"{source}: [identities.aliases].{name} must be a list of emails or github:LOGIN strings",
                f'write "{name}" = ["someone@example.com", "github:someone"]',
            )
        aliases[name] = tuple(members)
    patterns = tuple(identities.get("bot_patterns", DEFAULT_BOT_PATTERNS)) + tuple(
        identities.get("extra_bot_patterns", [])
    )
    for pattern in patterns:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise ConfigError(
                f"{source}: bot pattern {pattern!r} is not a valid regular expression ({exc})",
                "fix or remove the pattern in [identities]",
            ) from exc

    github = data.get("github", {})
    github_repos = tuple(github.get("repositories", []))
    for name in github_repos:
        if not isinstance(name, str) or not _OWNER_NAME.match(name):
            raise ConfigError(
                f"{source}: [github].repositories has {name!r}", 'write repositories as "owner/name"'
            )
    if has_userinfo(str(github.get("url", ""))):
        raise ConfigError(
            f"{source}: [github].url carries credentials ({scrub(str(github['url']))})",
            "write the URL without user:token@ and put the token in the GITHUB_TOKEN environment variable",
        )
    api = github.get("api", GitHubConfig.api)
    if api not in GITHUB_APIS:
        raise ConfigError(
            f"{source}: [github].api = {api!r} is not understood",
            'use "graphql" (the default: fewer quota points) or "rest"',
        )
    github_config = GitHubConfig(
        url=github.get("url", GitHubConfig.url).rstrip("/"),
        repositories=github_repos,
        organizations=tuple(
            _organization(entry, i, source) for i, entry in enumerate(github.get("organizations", []))
        ),
        concurrency=_positive(github, "github", "concurrency", GitHubConfig.concurrency, source),
        max_rate_limit_wait=float(github.get("max_rate_limit_wait", GitHubConfig.max_rate_limit_wait)),
        timeout=float(github.get("timeout", GitHubConfig.timeout)),
        due_date_fields=(
            _strings(github, "github", "due_date_fields", source)
            if "due_date_fields" in github
            else GitHubConfig.due_date_fields
        ),
        projects=_projects(github, source),
        api=api,
    )
    metrics = data.get("metrics", {})
    metrics_config = MetricsConfig(
        window_days=_window(metrics, source),
        min_n=check_min_n(metrics.get("min_n", MetricsConfig.min_n), f"{source}: [metrics].min_n"),
        timezone=check_timezone(metrics.get("timezone", MetricsConfig.timezone)),
        review_response_hours=float(
            metrics.get("review_response_hours", MetricsConfig.review_response_hours)
        ),
        include_bots=metrics.get("include_bots", False),
    )
    db = data.get("database", {}).get("path")
    db_path = default_db_path() if db is None else Path(db).expanduser()
    if db is not None and not db_path.is_absolute():
        db_path = source.parent / db_path
    database = data.get("database", {})
    store = database.get("store_dir")
    keep_previous = database.get("keep_previous", Settings.keep_previous)
    if keep_previous < 0:
        raise ConfigError(
            f"{source}: [database].keep_previous must be 0 or more, not {keep_previous}",
            "write how many previous databases to keep for `perftrust rollback`, e.g. keep_previous = 3",
        )
    reports = data.get("reports", {})
    return Settings(
        db_path=db_path,
        repositories=tuple(repositories),
        aliases=aliases,
        bot_patterns=patterns,
        git_workers=data.get("git", {}).get("workers"),
        github=github_config,
        metrics=metrics_config,
        store_dir=None if store is None else _relative_to(source, store),
        keep_previous=keep_previous,
        teams=_teams(data.get("teams", {}), source),
        reports=ReportsConfig(
            output_dir=_relative_to(source, reports["output_dir"]) if "output_dir" in reports else None,
            pseudonymize=reports.get("pseudonymize", False),
            web_url=reports.get("web_url", "").rstrip("/") or None,
        ),
        nightly=_nightly(data.get("nightly", {}), source),
    )


def _relative_to(source: Path, text: str) -> Path:
    """Paths in perftrust.toml are relative to the file, not to where the command runs."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else source.parent / path


def _positive(table: dict[str, Any], section: str, key: str, default: int, source: Path) -> int:
    value: int = table.get(key, default)
    if value < 1:
        raise ConfigError(
            f"{source}: [{section}].{key} must be 1 or more, not {value}", f"write {key} = {default}"
        )
    return value


def _strings(table: dict[str, Any], section: str, key: str, source: Path) -> tuple[str, ...]:
    values = table.get(key, [])
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(
            f"{source}: [{section}].{key} must be a list of non-empty strings", f'write {key} = ["..."]'
        )
    return tuple(values)


def _projects(github: dict[str, Any], source: Path) -> tuple[str, ...]:
    """[github].projects: "owner/number" each (a number, not the project's title: titles change and
    repeat); kept as written, compared case-insensitively."""
    values = github.get("projects", [])
    for value in values:
        if isinstance(value, str) and _PROJECT.match(value.strip()):
            continue
        address = (
            re.search(r"/(?:orgs|users)/([^/]+)/projects/([0-9]+)", value) if isinstance(value, str) else None
        )
        hint = f' ("{address[1]}/{address[2]}" for that address)' if address else ""
        raise ConfigError(
            f'{source}: [github].projects has {value!r}, which is not a project as "owner/number"',
            f'write each project as its owner\'s login and its number, e.g. projects = ["acme/1"]{hint}: '
            "the number is the last part of the project's address, https://github.com/orgs/acme/projects/1 "
            "(or https://github.com/users/LOGIN/projects/N for a user's project)",
        )
    return tuple(v.strip() for v in values)


def _organization(entry: Any, i: int, source: Path) -> OrganizationConfig:
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{source}: [github].organizations[{i}] must be a name or a table",
            'write "acme" or {name = "acme", include = ["svc-*"], exclude = ["*-archive"]}',
        )
    _check_keys(f"github.organizations[{i}]", entry, _ORG_KEYS, source)
    name = entry.get("name", "")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", name):
        raise ConfigError(
            f"{source}: [github].organizations[{i}] has no valid name ({name!r})",
            'give the organization login, e.g. name = "acme"',
        )
    include = _strings(entry, f"github.organizations[{i}]", "include", source) or ("*",)
    return OrganizationConfig(name, include, _strings(entry, f"github.organizations[{i}]", "exclude", source))


def _teams(table: dict[str, Any], source: Path) -> dict[str, tuple[str, ...]]:
    teams: dict[str, tuple[str, ...]] = {}
    for name, members in table.items():
        if not isinstance(members, list) or not members or not all(isinstance(m, str) and m for m in members):
            raise ConfigError(
                f"{source}: [teams].{name} must be a non-empty list of GitHub logins, emails or alias names",
                f'write {name} = ["octocat", "someone@example.com"]',
            )
        teams[name] = tuple(members)
    return teams


_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


def check_cron(text: str) -> str:
    fields = text.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ConfigError(
            f"schedule {text!r} is not a cron expression",
            'write five fields: minute hour day-of-month month day-of-week, e.g. "0 2 * * *" (02:00 daily)',
        )
    return text


def _nightly(table: dict[str, Any], source: Path) -> NightlyConfig:
    runner = table.get("task_runner", NightlyConfig.task_runner)
    if runner not in ("threads", "dask"):
        raise ConfigError(
            f"{source}: [nightly].task_runner = {runner!r} is not understood", 'use "threads" or "dask"'
        )
    retries = table.get("retries", NightlyConfig.retries)
    if retries < 0:
        raise ConfigError(
            f"{source}: [nightly].retries must be 0 or more, not {retries}", "write retries = 2"
        )
    return NightlyConfig(
        cron=check_cron(table.get("cron", NightlyConfig.cron)),
        timezone=check_timezone(table.get("timezone", NightlyConfig.timezone)),
        concurrency=_positive(table, "nightly", "concurrency", NightlyConfig.concurrency, source),
        retries=retries,
        retry_delay_seconds=float(table.get("retry_delay_seconds", NightlyConfig.retry_delay_seconds)),
        task_runner=runner,
        dask_workers=_positive(table, "nightly", "dask_workers", NightlyConfig.dask_workers, source),
        dask_address=table.get("dask_address"),
    )


# The longest trailing window: about ten years (a longer one would reach back before 1970, where git
# has no dates, for an as-of date near the lower limit; and far beyond what a signal is about).
MAX_WINDOW_DAYS = 3660


def parse_window(text: str, where: str = "--window") -> int:
    """'90d' / '12w' / '90' -> days, 1 to MAX_WINDOW_DAYS (`where` names the setting in messages)."""
    match = re.fullmatch(r"\s*([0-9]+)\s*([dw]?)\s*", text)
    if not match:
        raise ConfigError(
            f"{where} {text!r} is not understood",
            "write it like 90d (days) or 12w (weeks): a whole number of days or weeks, no other unit",
        )
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ConfigError(
            f"{where} {text!r} is {days:,} days long: a window is 1 to {MAX_WINDOW_DAYS:,} days (about ten years)",
            "write a window in that range, e.g. 90d or 12w (the default is 90d)",
        )
    return days


def _window(metrics: dict[str, Any], source: Path) -> int:
    if "window" not in metrics:
        return MetricsConfig.window_days
    return parse_window(metrics["window"], f"{source}: [metrics].window =")


def check_min_n(value: int, where: str = "--min-n") -> int:
    """The minimum sample size of a rate: 1 or more (with 0 a rate of no cases would be 0/0)."""
    if isinstance(value, bool) or value < 1:
        option = where.startswith("--")
        given = f"{where} {value}" if option else f"{where} = {value}"
        raise ConfigError(
            f"{given} is not a minimum sample size: it must be 1 or more (below it a rate shows as not "
            "enough data; with 0 a rate of no cases would be 0/0)",
            "pass --min-n 1 or more, e.g. --min-n 5 (the default)"
            if option
            else "write min_n = 5 (the default) or another number from 1 in [metrics]",
        )
    return value


# --as-of: from the start of git time (git has no dates before 1970) to a far but safe future (the
# end of a day in any time zone, and the trailing window before it, stay valid dates everywhere).
MIN_AS_OF = date(1970, 1, 1)
MAX_AS_OF = date(2999, 12, 31)


def check_as_of(text: str) -> date:
    """'YYYY-MM-DD' -> the date, refused outside MIN_AS_OF .. MAX_AS_OF."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigError(
            f"--as-of {text!r} is not a date", "write it as YYYY-MM-DD, e.g. --as-of 2024-06-30"
        ) from exc
    if not MIN_AS_OF <= day <= MAX_AS_OF:
        raise ConfigError(
            f"--as-of {text} is outside the dates perftrust evaluates ({MIN_AS_OF} to {MAX_AS_OF}; "
            "git records no dates before 1970)",
            "pass a date in that range, e.g. --as-of 2024-06-30, or leave --as-of out for today",
        )
    return day


def check_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r}", "use an IANA name such as UTC or Europe/Berlin"
        ) from exc
    return name
