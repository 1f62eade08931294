"""What the figures rest on and what is missing, in plain words, with the command that fixes it.

One place for the notices the HTML report (its first screen), summary.md and the command line show:

    with connect(db_path, read_only=True) as con:
        for text, command in read_coverage(con).notices():
            ...

`read_coverage` needs nothing but an open (read-only) connection to a perftrust database. It reads
which sources were synced (git history, GitHub data), the settings the metric tables were computed
with (if there are any), how many people have figures in their window and the last day anybody (bots
left out) did something the metrics count. It never fails on a database that lacks some tables: it
says what it can."""

from __future__ import annotations

import shlex
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal, NamedTuple

import duckdb

from pipeline.config import is_owner_name

Source = Literal["git", "github", "any"]
DEFAULT_DB_NAME = "perftrust.duckdb"  # `--db` is left out of a suggested command for this name
DEFAULT_MIN_N = 5
DEFAULT_TIMEZONE = "UTC"
_REPOS_NAMED = 3  # repositories named in a sentence before "and N more"
_GITHUB_BATCH = 200  # issues looked at per step when looking for the last GitHub activity
_GITHUB_STEPS = 25  # at most this many steps (5,000 items); the best found so far is kept

# What a missing source leaves out, in the words of the signal families (reports/measures.py).
GITHUB_NEEDED_BY = (
    "follow-through (commitments, pull requests, review requests), managing expectations and "
    "communication, and the review parts of credit-sharing and help-seeking"
)
GIT_NEEDED_BY = "co-author and trailer credits, commits co-authored, reverts and fix-ups (ownership)"
SOURCE_LABELS = {"git": "git history", "github": "GitHub data"}


class Notice(NamedTuple):
    """One thing a reader must know before reading the figures, and the command that fixes it."""

    text: str
    command: str | None  # one shell command per line; None when there is nothing to run


def plural(count: int, one: str, many: str | None = None) -> str:
    """'1 person', '2 people', '0 commits', '1,234 commits'."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _names(repos: Iterable[str]) -> str:
    listed = sorted(repos)
    shown = ", ".join(listed[:_REPOS_NAMED])
    if len(listed) > _REPOS_NAMED:
        shown += f" and {len(listed) - _REPOS_NAMED} more"
    return shown


@dataclass(frozen=True)
class Coverage:
    """The facts behind the notices. Dates are calendar dates in the metrics' time zone."""

    git_repos: tuple[str, ...] = ()  # repositories whose git history is in the database
    github_repos: tuple[str, ...] = ()  # repositories whose GitHub data is in the database
    count_commits: int = 0
    count_github_items: int = 0  # issues and pull requests
    first_commit: date | None = None  # first and last commit authored by a person (bots left out)
    last_commit: date | None = None
    last_activity: date | None = None  # last commit, issue, pull request, review or comment by a person
    has_metrics: bool = False  # the metric tables exist and say which date they describe
    as_of: date | None = None
    window_start: date | None = None
    min_n: int = DEFAULT_MIN_N
    timezone: str = DEFAULT_TIMEZONE
    pseudonymized: bool = False
    count_people: int | None = None  # people with a figure in the window; None without metric tables
    db_path: str | None = None  # the database file, to name it in commands (--db) when not the default

    @property
    def has_git(self) -> bool:
        return bool(self.git_repos)

    @property
    def has_github(self) -> bool:
        return bool(self.github_repos)

    @property
    def window_days(self) -> int | None:
        if self.as_of is None or self.window_start is None:
            return None
        return (self.as_of - self.window_start).days + 1

    def measured(self, source: Source) -> bool:
        """Whether a measure that needs `source` can have data in this database at all."""
        if source == "github":
            return self.has_github
        if source == "git":
            return self.has_git
        return True

    @property
    def missing_github(self) -> tuple[str, ...]:
        """Repositories on GitHub (owner/name keys) whose git history is here but not their GitHub data."""
        return tuple(r for r in self.git_repos if is_owner_name(r) and r not in self.github_repos)

    def _perftrust(self, command: str, *options: str) -> str:
        parts = ["perftrust", command]
        if self.db_path and Path(self.db_path).name != DEFAULT_DB_NAME:
            parts += ["--db", shlex.quote(self.db_path)]
        return " ".join([*parts, *options])

    def metrics_command(self, as_of: date) -> str:
        """`perftrust metrics` for another date, with the window and settings the tables have now."""
        options = ["--as-of", as_of.isoformat(), "--window", f"{self.window_days or 90}d"]
        if self.min_n != DEFAULT_MIN_N:
            options += ["--min-n", str(self.min_n)]
        if self.timezone != DEFAULT_TIMEZONE:
            options += ["--timezone", shlex.quote(self.timezone)]
        if self.pseudonymized:
            options.append("--pseudonymize")
        return self._perftrust("metrics", *options) + "\n" + self._perftrust("report")

    def github_command(self, repos: Iterable[str]) -> str:
        named = [r for r in sorted(repos) if is_owner_name(r)] or ["OWNER/NAME"]
        options = [o for r in named for o in ("--github", r)]
        return "GITHUB_TOKEN=... " + self._perftrust("run", *options)

    def facts(self, window: bool = True) -> list[str]:
        """What the figures rest on, one short sentence each (the window last, unless left out)."""
        out = []
        if self.has_git:
            span = ""
            if self.first_commit and self.last_commit:
                span = f", {self.first_commit.isoformat()} to {self.last_commit.isoformat()}"
            out.append(
                f"Git history of {_names(self.git_repos)}: {plural(self.count_commits, 'commit')}{span}."
            )
        else:
            out.append("No git history.")
        if self.has_github:
            out.append(
                f"GitHub data of {_names(self.github_repos)}: "
                f"{plural(self.count_github_items, 'issue or pull request', 'issues and pull requests')}."
            )
        else:
            out.append("No GitHub data (issues, milestones, pull requests, reviews).")
        if window and self.has_metrics and self.as_of and self.window_start:
            people = (
                ""
                if self.count_people is None
                else f": {plural(self.count_people, 'person', 'people')} active"
            )
            out.append(
                f"Window {self.window_start.isoformat()} to {self.as_of.isoformat()} "
                f"({plural(self.window_days or 0, 'day')}){people}."
            )
        return out

    def notices(self) -> list[Notice]:
        """What is missing, in plain words, each with the command that fixes it (or None)."""
        out: list[Notice] = []
        if not self.has_git and not self.has_github:
            out.append(
                Notice(
                    "The database holds no repository data yet: no git history and no GitHub data were "
                    "synced, so there is nothing to measure.",
                    self._perftrust("run", "--repo", "PATH/TO/CLONE"),
                )
            )
            return out
        if not self.has_github:
            out.append(
                Notice(
                    f"No GitHub data: only git history was synced, so {GITHUB_NEEDED_BY} cannot be "
                    "measured. That is missing data, not missing work. To add it, sync GitHub with a token "
                    "that can read the repository (read from the GITHUB_TOKEN environment variable; "
                    "perftrust never reads a token from perftrust.toml)"
                    + ("" if self.missing_github else "; OWNER/NAME is the repository on GitHub")
                    + ":",
                    self.github_command(self.missing_github),
                )
            )
        elif self.missing_github:
            out.append(
                Notice(
                    f"No GitHub data for {_names(self.missing_github)} (git history only): the "
                    "commitments, pull requests and reviews there are missing from the figures. To add them "
                    "(token from the GITHUB_TOKEN environment variable):",
                    self.github_command(self.missing_github),
                )
            )
        if not self.has_git:
            repo = next((r for r in self.github_repos if is_owner_name(r)), "OWNER/NAME")
            out.append(
                Notice(
                    f"No git history: only GitHub data was synced, so {GIT_NEEDED_BY} cannot be measured. "
                    "To add it, sync a clone of the repository under the same name:",
                    self._perftrust("run", "--repo", f"{repo}=PATH/TO/CLONE"),
                )
            )
        if not self.has_metrics or self.as_of is None or self.window_start is None:
            out.append(
                Notice(
                    "The metric tables have not been computed yet, so there are no figures to show.",
                    self._perftrust("metrics") + "\n" + self._perftrust("report"),
                )
            )
            return out
        window = f"{self.window_start.isoformat()} to {self.as_of.isoformat()}"
        if self.count_people == 0:
            last = self.last_activity
            if last is None:
                out.append(
                    Notice(
                        f"Nobody was active in the window ({window}) and the data holds no activity by a "
                        "person at all (bots are left out), so every figure is empty.",
                        None,
                    )
                )
            elif last < self.window_start or last > self.as_of:
                gap = (
                    (self.window_start - last).days if last < self.window_start else (last - self.as_of).days
                )
                where = "before the window begins" if last < self.window_start else "after the window ends"
                out.append(
                    Notice(
                        f"Nobody was active in the window ({window}), so every figure is empty: that "
                        f"describes the window, not the people. The last activity in the data is on "
                        f"{last.isoformat()}, {plural(gap, 'day')} {where}. To see the "
                        f"{plural(self.window_days or 90, 'day')} up to it, compute the metrics as of "
                        f"that day and render the report again:",
                        self.metrics_command(last),
                    )
                )
            else:
                out.append(
                    Notice(
                        f"Nobody in this report has a figure in the window ({window}), though the data holds "
                        f"activity up to {last.isoformat()}: by people outside this report, or by bots, "
                        "which the metrics leave out.",
                        None,
                    )
                )
        elif self.count_people is not None and self.count_people < self.min_n:
            out.append(
                Notice(
                    f"Only {plural(self.count_people, 'person was', 'people were')} active in the window "
                    f"({window}), fewer than the minimum of {self.min_n}: the team figures rest on too few "
                    "people to say much about a team. Read the person profiles, each with its n.",
                    None,
                )
            )
        return out


# ---- reading it ---------------------------------------------------------------------------------

_METRIC_TABLES = (
    "metric_follow_through",
    "metric_expectations",
    "metric_consistency",
    "metric_credit_sharing",
    "metric_communication",
    "metric_help_seeking",
    "metric_ownership",
)


def read_coverage(con: duckdb.DuckDBPyConnection) -> Coverage:
    """The coverage of the database `con` is open on (read-only is enough; nothing is written)."""
    present = _relations(con)

    def has(*names: str) -> bool:
        return all(n in present for n in names)

    git: dict[str, int] = {}
    github: dict[str, int] = {}
    if has("pipeline_sources"):
        for source, repo in con.execute("SELECT source, repo FROM pipeline_sources").fetchall():
            (git if source == "git" else github if source == "github" else {}).setdefault(str(repo), 0)
    if has("dim_repositories"):
        for (repo,) in con.execute("SELECT repo FROM dim_repositories").fetchall():
            git.setdefault(str(repo), 0)
    if has("raw_git__commits"):
        for repo, n in con.execute("SELECT repo, count(*) FROM raw_git__commits GROUP BY repo").fetchall():
            git[str(repo)] = int(n)
    if has("raw_github__repositories"):
        for (repo,) in con.execute("SELECT repo FROM raw_github__repositories").fetchall():
            github.setdefault(str(repo), 0)
    if has("sync_state"):
        for (repo,) in con.execute("SELECT repo FROM sync_state WHERE source = 'github'").fetchall():
            github.setdefault(str(repo), 0)
    if has("raw_github__issues"):
        for repo, n in con.execute("SELECT repo, count(*) FROM raw_github__issues GROUP BY repo").fetchall():
            github[str(repo)] = int(n)

    settings = _metric_settings(con, present)
    timezone = settings.timezone if settings else DEFAULT_TIMEZONE
    first_git, last_git = _git_activity(con, present)
    last_github = _last_github_activity(con, present) if github else None
    last = max((t for t in (last_git, last_github) if t is not None), default=None)
    as_of = settings.as_of if settings else None
    count_people = _count_people(con, present, as_of) if as_of is not None else None
    return Coverage(
        git_repos=tuple(sorted(git)),
        github_repos=tuple(sorted(github)),
        count_commits=sum(git.values()),
        count_github_items=sum(github.values()),
        first_commit=_local_date(first_git, timezone),
        last_commit=_local_date(last_git, timezone),
        last_activity=_local_date(last, timezone),
        has_metrics=as_of is not None,
        as_of=as_of,
        window_start=settings.window_start if settings else None,
        min_n=settings.min_n if settings else DEFAULT_MIN_N,
        timezone=timezone,
        pseudonymized=settings.pseudonymized if settings else False,
        count_people=count_people,
        db_path=_db_path(con),
    )


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        str(r[0])
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "UNION SELECT view_name FROM duckdb_views() WHERE database_name = current_database()"
        ).fetchall()
    }


def _db_path(con: duckdb.DuckDBPyConnection) -> str | None:
    found = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return str(found[0][0]) if found and found[0][0] else None


class _MetricSettings(NamedTuple):
    as_of: date
    window_start: date
    min_n: int = DEFAULT_MIN_N
    timezone: str = DEFAULT_TIMEZONE
    pseudonymized: bool = False


def _metric_settings(con: duckdb.DuckDBPyConnection, present: set[str]) -> _MetricSettings | None:
    """What the metric tables were computed with (None: there are none, or they are empty)."""
    if not all(t in present for t in _METRIC_TABLES):
        return None
    if "metric_runs" in present:
        found = con.execute(
            """SELECT as_of_date, window_start, min_n, timezone, is_pseudonymized
               FROM metric_runs ORDER BY computed_at DESC LIMIT 1"""
        ).fetchall()
        if found:
            as_of, start, min_n, timezone, pseudonymized = found[0]
            return _MetricSettings(as_of, start, int(min_n), str(timezone), bool(pseudonymized))
    # Tables from before metric_runs: their window rows end on the as-of date.
    parts = " UNION ALL ".join(
        f"SELECT period_start, period_end FROM {t} WHERE period_type = 'window'" for t in _METRIC_TABLES
    )
    end, start = con.execute(
        f"SELECT max(period_end), arg_max(period_start, period_end) FROM ({parts})"
    ).fetchall()[0]
    return None if end is None else _MetricSettings(end, start)


def _count_people(con: duckdb.DuckDBPyConnection, present: set[str], as_of: date) -> int:
    parts = " UNION ALL ".join(
        f"SELECT contributor_id FROM {t} WHERE period_type = 'window' AND period_end = $as_of "
        "AND contributor_id IS NOT NULL"
        for t in _METRIC_TABLES
        if t in present
    )
    return int(
        con.execute(f"SELECT count(DISTINCT contributor_id) FROM ({parts})", {"as_of": as_of}).fetchall()[0][
            0
        ]
    )


def _git_activity(
    con: duckdb.DuckDBPyConnection, present: set[str]
) -> tuple[datetime | None, datetime | None]:
    """First and last commit authored by a person (bot identities left out), UTC."""
    if "raw_git__commits" not in present:
        return None, None
    bots = "FALSE"
    if "dim_identities" in present:
        bots = """EXISTS (SELECT 1 FROM dim_identities i WHERE i.source = 'git' AND i.is_bot
                          AND i.name IS NOT DISTINCT FROM c.author_name AND i.email IS NOT DISTINCT FROM c.author_email)"""
    low, high = con.execute(
        f"SELECT min(author_epoch), max(author_epoch) FROM raw_git__commits c WHERE NOT {bots}"
    ).fetchall()[0]
    return _from_epoch(low), _from_epoch(high)


def _from_epoch(epoch: object) -> datetime | None:
    if not isinstance(epoch, int):
        return None
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _last_github_activity(con: duckdb.DuckDBPyConnection, present: set[str]) -> datetime | None:
    """The last issue or pull request opened, review submitted or comment written by a person (UTC):
    the activity the metrics count (pipeline/metrics/consistency.py), bots left out.

    Any such activity moves its item's updated_at, so items are read newest-updated first, a batch at
    a time, until the best activity found is later than every item still unread: only the few items
    near the end are parsed, whatever the size of the history."""
    needed = (
        "raw_github__issues",
        "stg_github__issues",
        "stg_github__timeline_events",
        "stg_github__reviews",
    )
    if not all(t in present for t in needed):
        return None
    bots: set[str] = set()
    if "dim_identities" in present:
        bots = {
            str(r[0]).lower()
            for r in con.execute(
                "SELECT github_login FROM dim_identities WHERE is_bot AND github_login IS NOT NULL"
            ).fetchall()
        }

    def person(login: object) -> bool:
        return isinstance(login, str) and not login.lower().endswith("[bot]") and login.lower() not in bots

    best: datetime | None = None
    for step in range(_GITHUB_STEPS):
        batch = con.execute(
            """SELECT repo, number, updated_at FROM raw_github__issues WHERE updated_at IS NOT NULL
               ORDER BY updated_at DESC, repo, number LIMIT ? OFFSET ?""",
            [_GITHUB_BATCH, step * _GITHUB_BATCH],
        ).fetchall()
        if not batch or (best is not None and best >= batch[0][2]):
            break
        found = con.execute(
            """WITH w AS (SELECT unnest($repos::VARCHAR[]) AS repo, unnest($numbers::INTEGER[]) AS number)
               SELECT author_login AS login, author_type AS kind, created_at AS at
               FROM stg_github__issues i SEMI JOIN w ON w.repo = i.repo AND w.number = i.number
               UNION ALL
               SELECT actor_login, NULL, created_at
               FROM stg_github__timeline_events t SEMI JOIN w ON w.repo = t.repo AND w.number = t.issue_number
               WHERE t.event = 'commented'
               UNION ALL
               SELECT reviewer_login, reviewer_type, submitted_at
               FROM stg_github__reviews r SEMI JOIN w ON w.repo = r.repo AND w.number = r.pull_number
               WHERE r.state <> 'PENDING'""",
            {"repos": [b[0] for b in batch], "numbers": [b[1] for b in batch]},
        ).fetchall()
        for login, kind, at in found:
            if at is not None and kind != "Bot" and person(login) and (best is None or at > best):
                best = at
    return best


def _local_date(moment: datetime | None, timezone: str) -> date | None:
    """The calendar date of a naive UTC moment in the time zone (as the metrics count days)."""
    if moment is None:
        return None
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return moment.replace(tzinfo=UTC).astimezone(zone).date()
