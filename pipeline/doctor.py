"""`perftrust doctor`: check everything a run needs, and say what to fix, before the nightly run fails.

Each check is independent and never raises: a problem is a Check with status "fail" (the run would
fail) or "warn" (it would run, but something is off), its detail and the fix. The GitHub token is
never printed, not even in part: messages name GITHUB_TOKEN, and every check is scrubbed of the
token's text before it is returned. GitHub and Prefect are asked with plain HTTP requests (no
retries, no rate-limit waits) bounded by `timeout`, so a doctor run takes seconds even when a server
is down.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from pipeline.config import RepositoryConfig, Settings
from pipeline.db import connect
from pipeline.errors import PerftrustError
from pipeline.git_repo import GIT_ENV, RepoSpec, has_commits, open_repo, repo_key_for, select_refs
from pipeline.git_repo import strip_credentials as _strip_credentials
from pipeline.store import Store

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_GIT = (2, 25)
LOW_QUOTA = 1000  # GitHub requests left below which a full sync may stop for the rate limit
# The last successful run is older than this: the nightly job is not running (or keeps failing).
STALE_AFTER = timedelta(hours=48)

_NO_PREFECT = (
    "no Prefect server configured: `perftrust run` uses a temporary local API; "
    "`perftrust serve` needs `prefect server start` and PREFECT_API_URL"
)
_TOKEN_FIX = "export GITHUB_TOKEN=... (a token that can read the repositories; it is never stored or printed)"
_NEW_TOKEN_FIX = (
    "create a new token (GitHub: Settings > Developer settings > Personal access tokens) that can read the "
    "repositories, then export GITHUB_TOKEN=..."
)
_REPO_ACCESS_FIX = (
    "check the owner/name; a private repository needs a classic token with the `repo` scope, or a "
    "fine-grained token granted access to it"
)


@dataclass
class Check:
    name: str  # what was checked: git, repository, github, database, store, prefect, config
    status: str  # "ok" | "warn" | "fail"
    detail: str
    fix: str | None = None


def run_checks(
    settings: Settings, token: str | None, prefect_api_url: str | None, timeout: float = 5.0
) -> list[Check]:
    """Every check, in a stable order; never raises."""
    groups: list[tuple[str, Callable[[], list[Check]]]] = [
        ("git", lambda: check_git(timeout)),
        ("repository", lambda: check_repositories(settings)),
        ("github", lambda: check_github(settings, token, timeout)),
        ("database", lambda: check_database(settings)),
        ("store", lambda: check_store(settings)),
        ("prefect", lambda: check_prefect(prefect_api_url, timeout)),
        ("config", lambda: check_config(settings)),
    ]
    checks: list[Check] = []
    for name, group in groups:
        try:
            checks.extend(group())
        except Exception as exc:  # a bug in a check must not hide the others
            checks.append(
                Check(
                    name,
                    FAIL,
                    f"the check itself failed: {type(exc).__name__}: {exc}",
                    "this is a bug in perftrust doctor; please report it",
                )
            )
    return [_scrub(check, token) for check in checks]


def exit_code(checks: Iterable[Check]) -> int:
    """0 when nothing failed (warnings allowed), 1 when any check failed."""
    return 1 if any(c.status == FAIL for c in checks) else 0


def format_checks(checks: list[Check]) -> str:
    """Plain text, one line per check (`ok    git        git version 2.47.3`), fixes indented below."""
    width = max([10, *(len(c.name) for c in checks)]) + 1
    lines: list[str] = []
    for c in checks:
        label = "FAIL" if c.status == FAIL else c.status
        detail = c.detail.replace("\n", "\n" + " " * (6 + width))
        lines.append(f"{label:<6}{c.name:<{width}}{detail}")
        if c.fix and c.status != OK:
            lines.append(f"{'':<6}fix: {c.fix}")
    failed = sum(1 for c in checks if c.status == FAIL)
    warned = sum(1 for c in checks if c.status == WARN)
    if failed or warned:
        parts = [f"{failed} failed"] if failed else []
        parts += [f"{warned} warning{'s' if warned != 1 else ''}"] if warned else []
        lines.append(f"\n{', '.join(parts)} ({len(checks)} checks)")
    else:
        lines.append(f"\nall {len(checks)} checks passed")
    return "\n".join(lines)


def _scrub(check: Check, token: str | None) -> Check:
    """Belt and braces: no message may carry the token, whatever an exception put in it."""
    if not token or len(token.strip()) < 4:
        return check
    secret = token.strip()

    def clean(text: str | None) -> str | None:
        return (
            None if text is None else text.replace(token, "[GITHUB_TOKEN]").replace(secret, "[GITHUB_TOKEN]")
        )

    return replace(
        check, name=clean(check.name) or "", detail=clean(check.detail) or "", fix=clean(check.fix)
    )


# ----------------------------------------------------------------------------------------------- git


def check_git(timeout: float = 5.0) -> list[Check]:
    install = "install git 2.25 or newer (e.g. `apt-get install git`, `brew install git`) and put it on PATH"
    exe = shutil.which("git")
    if exe is None:
        return [Check("git", FAIL, "git is not installed (no `git` on PATH)", install)]
    try:
        out = subprocess.run(
            [exe, "--version"],
            capture_output=True,
            text=True,
            timeout=max(timeout, 1.0),
            env={**os.environ, **GIT_ENV},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [Check("git", FAIL, f"`git --version` did not run: {type(exc).__name__}: {exc}", install)]
    printed = (out.stdout or out.stderr or "").strip()
    text = printed.splitlines()[0] if printed else ""
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if out.returncode != 0 or not match:
        return [Check("git", FAIL, f"`git --version` failed or printed no version: {text!r}", install)]
    version = (int(match.group(1)), int(match.group(2)))
    if version < MIN_GIT:
        return [
            Check(
                "git",
                FAIL,
                f"{text}: too old, perftrust needs git {MIN_GIT[0]}.{MIN_GIT[1]} or newer",
                install.replace("install", "upgrade to", 1),
            )
        ]
    return [Check("git", OK, text)]


# -------------------------------------------------------------------------------------- repositories


def _repositories_to_check(settings: Settings) -> list[tuple[RepositoryConfig, bool]]:
    """(repository, configured) pairs: the configured clones, else (no GitHub either) the current folder,
    which is what `perftrust run` reads then."""
    if settings.repositories:
        return [(r, True) for r in settings.repositories]
    if settings.github.repositories or settings.github.organizations:
        return []
    return [(RepositoryConfig(RepoSpec(Path("."))), False)]


def check_repositories(settings: Settings) -> list[Check]:
    targets = _repositories_to_check(settings)
    if targets and shutil.which("git") is None:
        return [
            Check("repository", FAIL, "the clones cannot be checked without git", "install git (see above)")
        ]
    checks: list[Check] = []
    keys: dict[str, list[Path]] = {}
    for repository, configured in targets:
        try:
            found, key = _check_repository(repository, configured)
            checks.extend(found)
            if key is not None:
                keys.setdefault(key.casefold(), []).append(repository.spec.path)
        except Exception as exc:
            checks.append(
                Check(
                    "repository",
                    FAIL,
                    f"{repository.spec.path}: cannot be read ({type(exc).__name__}: {exc})",
                    "check the clone with `git fsck`, and that this user may read it",
                )
            )
    for key, paths in keys.items():
        if len(paths) > 1:
            checks.append(
                Check(
                    "repository",
                    FAIL,
                    f"{len(paths)} clones would be stored under the same key {key!r}: "
                    + ", ".join(str(p) for p in paths),
                    'give each a distinct name = "owner/name" in its [[repositories]] table',
                )
            )
    return checks


def _check_repository(repository: RepositoryConfig, configured: bool) -> tuple[list[Check], str | None]:
    """The checks of one clone, and the key it is stored under (None when it cannot be opened)."""
    spec = repository.spec
    path = spec.path if configured else spec.path.resolve()
    where = str(path) if configured else f"{path} (the current folder: no [[repositories]] configured)"
    try:
        local = open_repo(RepoSpec(path, spec.name))
    except PerftrustError as exc:
        if not configured:
            fix = "run perftrust inside a clone, or list clones as [[repositories]] in perftrust.toml"
        else:
            fix = f"{exc.fix}; or fix its path in [[repositories]]" if exc.fix else "fix its path"
        return [Check("repository", FAIL, exc.problem, fix)], None
    if not has_commits(local):
        fix = "commit (or fetch) something first" + (
            ", or remove it from [[repositories]]" if configured else ""
        )
        return [Check("repository", FAIL, f"{where} has no commits yet", fix)], local.key
    if repository.branches.startswith("branch:"):
        try:
            select_refs(local, repository.branches)
        except PerftrustError as exc:
            return [Check("repository", FAIL, exc.problem, exc.fix)], local.key
    # repo_key_for gives owner/name only for a GitHub remote; a folder's name has no slash.
    from_github = bool(local.remote_url) and "/" in repo_key_for(local.path, local.remote_url)
    checks: list[Check] = []
    if local.is_shallow:
        checks.append(
            Check(
                "repository",
                WARN,
                f"{where} is a shallow clone: history before its cut is missing, so signals are incomplete",
                f"git -C {path} fetch --unshallow",
            )
        )
    if not spec.name and not from_github:
        checks.append(
            Check(
                "repository",
                WARN,
                f"{where} has no GitHub `origin` remote and no name: it is stored under the key "
                f"{local.key!r} (the folder's name), so renaming the folder starts a new history, and "
                "its commits join no GitHub data",
                'give it name = "owner/name" in a [[repositories]] table (or add a GitHub origin remote)',
            )
        )
    if not checks:
        kind = "bare clone" if local.is_bare else "clone"
        source = "its configured name" if spec.name else "its GitHub origin"
        checks.append(Check("repository", OK, f"{where}: {kind}, key {local.key} (from {source})"))
    return checks, local.key


# -------------------------------------------------------------------------------------------- github


_DNS_FAILURES = (
    "Name or service not known",
    "Temporary failure in name resolution",
    "No address associated with hostname",
    "nodename nor servname",
    "getaddrinfo failed",
)


def _reason(exc: requests.RequestException) -> str:
    """Why a request got no answer, in words (never the request's headers)."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        reason = getattr(cause, "reason", None)  # urllib3's MaxRetryError keeps the cause here
        cause = (
            cause.__cause__ or cause.__context__ or (reason if isinstance(reason, BaseException) else None)
        )
    text = " ".join(str(c) for c in chain)
    if any(isinstance(c, socket.gaierror) for c in chain) or any(m in text for m in _DNS_FAILURES):
        return "the host name does not resolve (DNS)"
    if any(isinstance(c, ConnectionRefusedError) for c in chain) or "Connection refused" in text:
        return "connection refused"
    if isinstance(exc, requests.Timeout):
        return "no answer within the timeout"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS/SSL error (certificate?)"
    return type(exc).__name__


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:120].strip() or "no message"
    return str(data.get("message", "no message")) if isinstance(data, dict) else "no message"


def _is_token_usable(token: str) -> bool:
    return token == token.strip() and token.isascii() and token.isprintable() and " " not in token


class _GitHub:
    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.shown_url = _strip_credentials(self.base_url)
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "perftrust-doctor",
            }
        )

    def get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        return self.session.get(self.base_url + path, params=params, timeout=self.timeout)

    def unreachable(self, what: str, exc: requests.RequestException) -> Check:
        return Check(
            "github",
            FAIL,
            f"no answer from {self.shown_url} for {what}: {_reason(exc)}",
            "check [github].url / network (proxy, VPN, firewall)",
        )


def check_github(settings: Settings, token: str | None, timeout: float = 5.0) -> list[Check]:
    gh = settings.github
    if not gh.repositories and not gh.organizations:
        return [Check("github", OK, "not configured (no [github] repositories or organizations): git only")]
    if not token:
        return [Check("github", FAIL, "GITHUB_TOKEN is not set in the environment", _TOKEN_FIX)]
    if not _is_token_usable(token):
        return [
            Check(
                "github",
                FAIL,
                "GITHUB_TOKEN contains spaces, a line break or other characters a token never has "
                "(often a trailing newline read from a file)",
                "export GITHUB_TOKEN again with only the token's characters",
            )
        ]
    client = _GitHub(gh.url, token, timeout)
    with contextlib.closing(client.session):
        return _check_github(settings, client)


def _check_github(settings: Settings, client: _GitHub) -> list[Check]:
    checks: list[Check] = []
    try:
        user = client.get("/user")
    except requests.RequestException as exc:
        return [client.unreachable("GET /user", exc)]
    if user.status_code == 401:
        return [
            Check(
                "github",
                FAIL,
                f"token rejected: {client.shown_url} answered 401 Bad credentials (GITHUB_TOKEN is wrong, "
                "expired or revoked)",
                _NEW_TOKEN_FIX,
            )
        ]
    app_token = user.status_code == 403 and "not accessible by integration" in _message(user).lower()
    login: Any = None
    if user.status_code == 200:
        with contextlib.suppress(ValueError, AttributeError):
            login = user.json().get("login")
    if user.status_code == 404 or (user.status_code == 200 and not login):
        answer = "404" if user.status_code == 404 else "no user"
        return [
            Check(
                "github",
                FAIL,
                f"{client.shown_url} does not look like the GitHub REST API (GET /user answered {answer})",
                "set [github].url to the API address: https://api.github.com, or https://HOST/api/v3 "
                "for GitHub Enterprise",
            )
        ]
    if user.status_code == 200:
        checks.append(Check("github", OK, f"token accepted by {client.shown_url}: authenticated as {login}"))
        checks.append(_scopes(user))
        checks.append(_project_scope(user))
    elif app_token:
        checks.append(
            Check(
                "github",
                OK,
                f"token accepted by {client.shown_url} (a GitHub App token: it has no user, and its "
                "permissions cannot be listed; the repository checks below show what it can read)",
            )
        )
    else:
        checks.append(
            Check(
                "github",
                FAIL,
                f"{client.shown_url} answered {user.status_code} for GET /user: {_message(user)}",
                "check [github].url, and the token's access (SSO authorization, IP allow list)",
            )
        )
    checks.append(_quota(client))
    for name in settings.github.repositories:
        checks.append(_repository(client, name))
    for org in settings.github.organizations:
        checks.append(_organization(client, org.name))
    return checks


def _scopes(user: requests.Response) -> Check:
    header = user.headers.get("X-OAuth-Scopes")
    if header is None:
        return Check(
            "github",
            OK,
            "scopes cannot be listed for fine-grained tokens (GitHub sends no X-OAuth-Scopes): check "
            "repository access instead (the repository checks below do)",
        )
    scopes = sorted({s.strip() for s in header.split(",") if s.strip()})
    shown = ", ".join(scopes) or "none"
    if "repo" in scopes:
        return Check(
            "github", OK, f"classic token, scopes: {shown} (`repo` reads public and private repositories)"
        )
    if "public_repo" in scopes:
        return Check(
            "github",
            OK,
            f"classic token, scopes: {shown}: public repositories only (private ones need the `repo` scope)",
        )
    return Check(
        "github",
        WARN,
        f"classic token without the `repo` or `public_repo` scope (scopes: {shown})",
        "give the token the `repo` scope (private repositories) or `public_repo` (public ones only)",
    )


PROJECT_SCOPE_FIX = (
    "add the scope: `gh auth refresh -s read:project` (a GitHub CLI token), or tick read:project at "
    "https://github.com/settings/tokens (GitHub Enterprise: the same page on your host)"
)


def _project_scope(user: requests.Response) -> Check:
    """GitHub Projects due dates (SPEC: a Projects date field, else an iteration, else the milestone)
    need read:project (or project) on a classic token; without it GitHub answers INSUFFICIENT_SCOPES,
    each sync skips the projects of every repository with a warning, and milestones alone give due
    dates. A fine-grained token's permissions cannot be listed: it needs Projects: read on the
    organization."""
    header = user.headers.get("X-OAuth-Scopes")
    if header is None:
        return Check(
            "github",
            OK,
            "GitHub Projects due dates: a fine-grained token's permissions cannot be listed; it needs the "
            "organization permission Projects: read (without it each sync says so and milestones alone "
            "give due dates)",
        )
    scopes = {s.strip() for s in header.split(",") if s.strip()}
    if scopes & {"read:project", "project"}:
        return Check(
            "github", OK, "read:project: GitHub Projects due dates (date and iteration fields) are read"
        )
    return Check(
        "github",
        WARN,
        "no read:project scope: due dates kept in GitHub Projects (date and iteration fields) cannot be read; "
        "each sync skips them with a warning and milestones alone give due dates",
        PROJECT_SCOPE_FIX,
    )


def _quota(client: _GitHub) -> Check:
    try:
        response = client.get("/rate_limit")
    except requests.RequestException as exc:
        return client.unreachable("GET /rate_limit", exc)
    if response.status_code == 404:  # GitHub Enterprise with rate limiting disabled
        return Check("github", OK, "rate limiting is not enabled on this server")
    if response.status_code != 200:
        return Check(
            "github",
            WARN,
            f"the quota could not be read: GET /rate_limit answered {response.status_code}: {_message(response)}",
            None,
        )
    try:
        core = response.json()["resources"]["core"]
        remaining, limit, reset = int(core["remaining"]), int(core["limit"]), int(core["reset"])
    except (ValueError, KeyError, TypeError):
        return Check(
            "github", WARN, "the quota could not be read: GET /rate_limit answered no core quota", None
        )
    at = datetime.fromtimestamp(reset, UTC)
    minutes = max(0, round((reset - time.time()) / 60))
    detail = f"quota: {remaining} of {limit} requests left, resets at {at:%H:%M} UTC (in {minutes} min)"
    if remaining < LOW_QUOTA:
        return Check(
            "github",
            WARN,
            f"{detail}: a full sync may stop for the rate limit (it keeps what it synced)",
            f"run after {at:%H:%M} UTC, or stop other jobs that use this token",
        )
    return Check("github", OK, detail)


def _repository(client: _GitHub, name: str) -> Check:
    try:
        response = client.get(f"/repos/{name}")
    except requests.RequestException as exc:
        return client.unreachable(f"the repository {name}", exc)
    if response.status_code == 200:
        try:
            data = response.json()
            full_name = str(data.get("full_name") or name)
            private = bool(data.get("private"))
            archived = bool(data.get("archived"))
        except (ValueError, AttributeError):
            return Check("github", FAIL, f"repository {name}: GitHub answered no repository", None)
        if full_name.lower() != name.lower():
            return Check(
                "github",
                WARN,
                f"repository {name} was renamed or moved: GitHub now calls it {full_name}",
                f"write {full_name} in [github].repositories (data already synced under {name} stays there)",
            )
        notes = ", ".join(
            n for n in ("private" if private else "public", "archived" if archived else "") if n
        )
        return Check("github", OK, f"repository {full_name} readable ({notes})")
    if response.status_code in (404, 410):
        return Check(
            "github",
            FAIL,
            f"repository {name}: GitHub has no such repository, or the token cannot see it ({response.status_code})",
            f"fix {name} in [github].repositories: {_REPO_ACCESS_FIX}",
        )
    if response.status_code == 401:
        return Check("github", FAIL, f"repository {name}: token rejected (401)", _NEW_TOKEN_FIX)
    return Check(
        "github",
        FAIL,
        f"repository {name}: GitHub answered {response.status_code}: {_message(response)}",
        _REPO_ACCESS_FIX,
    )


_LAST_PAGE = re.compile(r'[?&]page=(\d+)[^>]*>;\s*rel="last"')


def _organization(client: _GitHub, org: str) -> Check:
    try:
        response = client.get(f"/orgs/{org}/repos", {"per_page": 1})
    except requests.RequestException as exc:
        return client.unreachable(f"the organization {org}", exc)
    if response.status_code == 200:
        match = _LAST_PAGE.search(response.headers.get("Link", ""))
        try:
            count = int(match.group(1)) if match else len(response.json())
        except (ValueError, TypeError):
            count = 0
        return Check(
            "github",
            OK,
            f"organization {org}: {count} repositor{'y' if count == 1 else 'ies'} listable by the token "
            "(before include/exclude)",
        )
    if response.status_code == 404:
        return Check(
            "github",
            FAIL,
            f"organization {org}: GitHub has no such organization, or the token cannot see it (404)",
            f"fix {org!r} in [github].organizations (the organization's login, as in github.com/LOGIN)",
        )
    return Check(
        "github",
        FAIL,
        f"organization {org}: GitHub answered {response.status_code}: {_message(response)}",
        "check the token's access to the organization (SSO authorization, fine-grained token owner)",
    )


# ------------------------------------------------------------------------------------------ database


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(0, round(hours * 60))} min ago"
    if hours < 48:
        return f"{hours:.0f} h ago"
    return f"{hours / 24:.0f} days ago"


def check_database(settings: Settings, now: datetime | None = None) -> list[Check]:
    path = settings.db_path
    if not path.exists():
        if not path.parent.is_dir():
            return [
                Check(
                    "database",
                    FAIL,
                    f"the folder {path.parent} of the database {path.name} does not exist",
                    "create it, or set [database].path (or --db) to a file in an existing folder",
                )
            ]
        return [Check("database", WARN, f"no database yet at {path}; `perftrust run` creates it", None)]
    try:
        con = connect(path, read_only=True)
    except PerftrustError as exc:
        return [Check("database", FAIL, exc.problem, exc.fix)]
    with contextlib.closing(con):
        has_runs = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'pipeline_runs'"
        ).fetchall()[0][0]
        if not has_runs:
            return [
                Check(
                    "database",
                    FAIL,
                    f"{path} is a DuckDB file but not a perftrust database (it has no pipeline_runs table)",
                    "set [database].path (or --db) to a perftrust database, or to a new file",
                )
            ]
        last = con.execute(
            "SELECT command, status, finished_at, error_message FROM pipeline_runs "
            "ORDER BY coalesce(finished_at, started_at) DESC LIMIT 1"
        ).fetchall()
        succeeded = con.execute(
            "SELECT max(finished_at) FROM pipeline_runs WHERE status = 'succeeded'"
        ).fetchall()[0][0]
    size = _size(path.stat().st_size)
    if not last:
        return [Check("database", WARN, f"{path} ({size}) has no run recorded yet", "run `perftrust run`")]
    command, status, finished_at, error = last[0]
    now = now or datetime.now(UTC).replace(tzinfo=None)
    when = (
        f"finished {finished_at:%Y-%m-%d %H:%M} UTC ({_age(now - finished_at)})"
        if finished_at
        else "never finished"
    )
    detail = f"{path} ({size}): last run `perftrust {command}` {status}, {when}"
    if status != "succeeded" and error:
        detail += f": {error.splitlines()[0]}"
    failed_fix = (
        'see what failed: perftrust sql "SELECT repo, error_message FROM pipeline_run_steps WHERE status = '
        "'failed'\""
    )
    schedule_fix = (
        "check that the nightly job runs (`perftrust serve` with a Prefect server, or your scheduler)"
    )
    if succeeded is None:
        return [Check("database", WARN, f"{detail}; no run has succeeded yet", failed_fix)]
    if now - succeeded > STALE_AFTER:
        hours = f"{STALE_AFTER.total_seconds() / 3600:.0f} h"
        if status == "succeeded":
            return [Check("database", WARN, f"{detail}: more than {hours} ago", schedule_fix)]
        return [
            Check(
                "database",
                WARN,
                f"{detail}; the last successful run finished {_age(now - succeeded)} (more than {hours})",
                f"{failed_fix}; {schedule_fix}",
            )
        ]
    if status != "succeeded":
        return [Check("database", WARN, detail, failed_fix)]
    return [Check("database", OK, detail)]


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_store(settings: Settings) -> list[Check]:
    store = Store.for_settings(settings)
    root = store.root
    if root.exists() and not root.is_dir():
        return [
            Check(
                "store",
                FAIL,
                f"the store {root} is a file, not a folder",
                "move that file away, or set [database].store_dir to a folder",
            )
        ]
    base = _existing_ancestor(root)
    checks: list[Check] = []
    if root.is_dir():
        try:
            with tempfile.NamedTemporaryFile(dir=root, prefix=".perftrust-doctor-"):
                pass
        except OSError as exc:
            return [
                Check(
                    "store",
                    FAIL,
                    f"cannot write in the store {root}: {exc.strerror or exc}",
                    "give this user write access to it, or set [database].store_dir to a writable folder",
                )
            ]
        where = f"{root}: writable"
    else:
        if not os.access(base, os.W_OK | os.X_OK):
            return [
                Check(
                    "store",
                    FAIL,
                    f"the store {root} does not exist and cannot be created ({base} is not writable)",
                    "give this user write access there, or set [database].store_dir to a writable folder",
                )
            ]
        where = f"{root}: not created yet, its folder is writable"
    db_folder = _existing_ancestor(store.db_path.parent)
    if os.stat(base).st_dev != os.stat(db_folder).st_dev:
        checks.append(
            Check(
                "store",
                WARN,
                f"the store {root} is on another file system than the database {store.db_path}: each run "
                "copies its new database beside the published one before the rename (slower, and it needs "
                "room for a copy on both disks)",
                "set [database].store_dir to a folder on the database's disk",
            )
        )
    db_size = store.db_path.stat().st_size if store.db_path.is_file() else 0
    free = shutil.disk_usage(base).free
    if free < 2 * db_size:
        checks.append(
            Check(
                "store",
                WARN,
                f"only {_size(free)} free for the store {root}; a run needs about twice the database's "
                f"{_size(db_size)} (a new copy is built beside the published one)",
                "free disk space there, or set [database].store_dir to a larger folder on the same disk",
            )
        )
    kept = len(store.previous_files())
    if not checks:
        checks.append(
            Check(
                "store",
                OK,
                f"{where}, {_size(free)} free; {kept} previous database{'s' if kept != 1 else ''} "
                f"kept for `perftrust rollback` (keep_previous = {settings.keep_previous})",
            )
        )
    return checks


# ------------------------------------------------------------------------------------------- prefect


def check_prefect(prefect_api_url: str | None, timeout: float = 5.0) -> list[Check]:
    if not prefect_api_url:
        return [Check("prefect", OK, _NO_PREFECT)]
    url = prefect_api_url.rstrip("/")
    shown = _strip_credentials(url)
    fix = "start `prefect server start` or unset PREFECT_API_URL"
    if not url.endswith("/api") and "/api/" not in url:
        fix += " (the API address ends with /api, e.g. http://127.0.0.1:4200/api)"
    try:
        response = requests.get(f"{url}/health", timeout=timeout)
    except requests.RequestException as exc:
        return [Check("prefect", FAIL, f"no Prefect API answers at {shown}: {_reason(exc)}", fix)]
    if response.status_code in (401, 403):
        return [
            Check(
                "prefect",
                WARN,
                f"the Prefect API at {shown} wants authentication ({response.status_code}); its health was not checked",
                "for Prefect Cloud, set PREFECT_API_KEY; a self-hosted server: check its auth settings",
            )
        ]
    try:
        healthy = response.status_code == 200 and json.loads(response.text) is True
    except ValueError:
        healthy = False
    if not healthy:
        body = response.text[:80].strip().replace("\n", " ")
        return [
            Check(
                "prefect",
                FAIL,
                f"the Prefect API at {shown} is not healthy: GET /health answered {response.status_code} {body!r}",
                fix,
            )
        ]
    return [Check("prefect", OK, f"Prefect API at {shown} is healthy")]


# -------------------------------------------------------------------------------------------- config


def check_config(settings: Settings) -> list[Check]:
    checks: list[Check] = []
    if settings.nightly.task_runner == "dask" and importlib.util.find_spec("prefect_dask") is None:
        checks.append(
            Check(
                "config",
                FAIL,
                '[nightly].task_runner = "dask" but prefect-dask is not installed',
                "install perftrust with its dask extra (pip install 'perftrust[dask]'), or use "
                'task_runner = "threads"',
            )
        )
    if not checks:
        checks.append(Check("config", OK, "nothing to note"))
    return checks
