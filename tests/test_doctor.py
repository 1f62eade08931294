"""`perftrust doctor` against real things: git, clones built here, the local GitHub-compatible server,
refused ports, DuckDB files, a file system that is not the database's, and a Prefect-like health API."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from pipeline.config import (
    GitHubConfig,
    NightlyConfig,
    OrganizationConfig,
    RepositoryConfig,
    Settings,
)
from pipeline.db import connect
from pipeline.doctor import (
    Check,
    check_config,
    check_database,
    check_git,
    check_prefect,
    check_repositories,
    check_store,
    exit_code,
    format_checks,
    run_checks,
)
from pipeline.git_repo import RepoSpec
from pipeline.runs import finish_run, start_run, utc_now
from pipeline.store import Store
from tests.conftest import GitRepo
from tests.support.github_scenario import Dataset, generate_dataset
from tests.support.github_server import GitHubServer
from tests.support.openapi import SKIP_REASON, openapi_available, validate_response

# Shaped like a classic personal access token, so a leak of any part of it would be noticed.
TOKEN = "ghp_DoctorTestToken0123456789abcdefABCD"
FINE_GRAINED = "github_pat_11DOCTOR0fine0grained0token0abcdef"
NO_SCOPES = "ghp_NoScopesAtAll0123456789abcdefABCDEF"
PUBLIC_ONLY = "ghp_PublicRepoOnly0123456789abcdefABCDE"


def statuses(checks: list[Check], name: str) -> list[str]:
    return [c.status for c in checks if c.name == name]


def only(checks: list[Check], name: str) -> Check:
    found = [c for c in checks if c.name == name]
    assert len(found) == 1, found
    return found[0]


def assert_secret_kept(checks: list[Check], *tokens: str) -> None:
    text = format_checks(checks) + json.dumps([asdict(c) for c in checks])
    for token in tokens:
        assert token not in text
        assert token[-12:] not in text and token[4:16] not in text


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# ----------------------------------------------------------------------------------------------- git


def test_git_is_found_and_new_enough() -> None:
    (check,) = check_git()
    assert check.status == "ok" and check.detail.startswith("git version 2.")


def test_git_missing_or_too_old_fails_with_the_install_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    (missing,) = check_git()
    assert missing.status == "fail" and "not installed" in missing.detail
    assert missing.fix and "2.25" in missing.fix
    (clones,) = check_repositories(Settings(repositories=(RepositoryConfig(RepoSpec(tmp_path)),)))
    assert clones.status == "fail" and "without git" in clones.detail

    old = tmp_path / "old-bin"
    old.mkdir()
    script = old / "git"
    script.write_text("#!/bin/sh\necho 'git version 2.20.1'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(old))
    (too_old,) = check_git()
    assert too_old.status == "fail" and "2.20.1" in too_old.detail and "too old" in too_old.detail
    assert too_old.fix and "2.25" in too_old.fix


# ------------------------------------------------------------------------------------- repositories


def test_each_repository_is_checked(tmp_path: Path) -> None:
    api = GitRepo(tmp_path / "api")
    api.commit("first")
    api.git("remote", "add", "origin", "https://github.com/acme/api.git")
    local_only = GitRepo(tmp_path / "scratch")
    local_only.commit("first")
    named = GitRepo(tmp_path / "named")
    named.commit("first")
    shallow = tmp_path / "shallow"
    api.commit("second")
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{api.path}", str(shallow)],
        check=True,
        capture_output=True,
    )
    empty = GitRepo(tmp_path / "empty")
    plain = tmp_path / "plain"
    plain.mkdir()

    def repo(path: Path, name: str | None = None, branches: str = "default") -> RepositoryConfig:
        return RepositoryConfig(RepoSpec(path, name), branches)

    settings = Settings(
        repositories=(
            repo(api.path),
            repo(local_only.path),
            repo(named.path, "acme/named"),
            repo(shallow, "acme/shallow"),
            repo(empty.path, "acme/empty"),
            repo(plain),
            repo(tmp_path / "missing"),
            repo(named.path, "acme/other", "branch:nope"),
        )
    )
    checks = check_repositories(settings)
    by_path: dict[str, list[Check]] = {}
    for check in checks:
        path = next(
            p
            for p in ("api", "scratch", "named", "shallow", "empty", "plain", "missing")
            if f"/{p}" in check.detail
        )
        by_path.setdefault(path, []).append(check)

    assert [c.status for c in by_path["api"]] == ["ok"] and "key acme/api" in by_path["api"][0].detail
    (scratch,) = by_path["scratch"]
    assert (
        scratch.status == "warn" and "'scratch'" in scratch.detail and "no GitHub `origin`" in scratch.detail
    )
    assert scratch.fix and 'name = "owner/name"' in scratch.fix
    assert [c.status for c in by_path["named"]] == ["ok", "fail"]  # the second entry names a missing branch
    assert "nope" in by_path["named"][1].detail
    (shallow_check,) = by_path["shallow"]
    assert shallow_check.status == "warn" and "shallow" in shallow_check.detail
    assert shallow_check.fix and "--unshallow" in shallow_check.fix
    assert by_path["empty"][0].status == "fail" and "no commits" in by_path["empty"][0].detail
    assert by_path["plain"][0].status == "fail" and "not a git repository" in by_path["plain"][0].detail
    assert by_path["missing"][0].status == "fail" and "does not exist" in by_path["missing"][0].detail
    assert all(c.fix for c in checks if c.status != "ok")


def test_two_clones_under_one_key_fail(tmp_path: Path) -> None:
    one, two = GitRepo(tmp_path / "a" / "api"), GitRepo(tmp_path / "b" / "api")
    one.commit("x")
    two.commit("y")
    settings = Settings(repositories=tuple(RepositoryConfig(RepoSpec(r.path)) for r in (one, two)))
    checks = check_repositories(settings)
    clash = [c for c in checks if c.status == "fail"]
    assert len(clash) == 1 and "'api'" in clash[0].detail and "same key" in clash[0].detail


def test_without_configured_repositories_the_current_folder_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = GitRepo(tmp_path / "here")
    here.commit("x")
    here.git("remote", "add", "origin", "git@github.com:acme/here.git")
    monkeypatch.chdir(here.path)
    (check,) = check_repositories(Settings())
    assert check.status == "ok" and "current folder" in check.detail and "acme/here" in check.detail
    monkeypatch.chdir(tmp_path)
    (outside,) = check_repositories(Settings())
    assert outside.status == "fail" and outside.fix and "[[repositories]]" in outside.fix
    # A GitHub-only configuration reads no clone.
    assert check_repositories(Settings(github=GitHubConfig(repositories=("acme/api",)))) == []


# -------------------------------------------------------------------------------------------- github


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate_dataset(7, repos=2, issues=3, prs=2, people=3)  # two: the org count comes from Link


@pytest.fixture(scope="module")
def github(dataset: Dataset) -> Iterator[GitHubServer]:
    scopes = {TOKEN: "read:org, repo", FINE_GRAINED: None, NO_SCOPES: "", PUBLIC_ONLY: "public_repo"}
    with GitHubServer(dataset, tokens=(), token_scopes=scopes) as server:
        yield server
        assert server.errors == []


def github_settings(url: str, repositories: tuple[str, ...] = (), orgs: tuple[str, ...] = ()) -> Settings:
    return Settings(
        repositories=(),
        github=GitHubConfig(
            url=url, repositories=repositories, organizations=tuple(OrganizationConfig(o) for o in orgs)
        ),
    )


def github_checks(settings: Settings, token: str | None) -> list[Check]:
    checks = [c for c in run_checks(settings, token, None) if c.name == "github"]
    assert_secret_kept(checks, TOKEN, FINE_GRAINED, NO_SCOPES, PUBLIC_ONLY)
    return checks


def test_github_good_token_repositories_and_organizations(github: GitHubServer, dataset: Dataset) -> None:
    full = dataset.repositories[0].full_name
    org = dataset.org.login
    settings = github_settings(github.base_url, (full, f"{org}/missing"), (org, "no-such-org"))
    checks = github_checks(settings, TOKEN)
    details = [f"{c.status} {c.detail}" for c in checks]
    assert details[0].startswith("ok token accepted") and "perftrust-tester" in details[0]
    assert details[1].startswith("ok classic token, scopes: read:org, repo")
    # read:project, a check of its own: without it GitHub Projects due dates are skipped.
    projects = checks[2]
    assert projects.status == "warn" and projects.detail.startswith("no read:project scope")
    assert projects.fix and "gh auth refresh -s read:project" in projects.fix
    assert details[3].startswith("ok quota: ") and " of 5000 requests left" in details[3]
    assert details[4] == f"ok repository {full} readable (public)"
    missing = checks[5]
    assert missing.status == "fail" and f"{org}/missing" in missing.detail and "404" in missing.detail
    assert missing.fix and f"{org}/missing" in missing.fix and "[github].repositories" in missing.fix
    assert (
        details[6] == f"ok organization {org}: 2 repositories listable by the token (before include/exclude)"
    )
    assert checks[7].status == "fail" and "no-such-org" in checks[7].detail and checks[7].fix
    assert len(checks) == 8


def test_github_renamed_repository_warns(dataset: Dataset) -> None:
    renamed = generate_dataset(7, repos=1, issues=3, prs=2, people=3)
    old = renamed.repositories[0].full_name
    with GitHubServer(renamed, tokens=(TOKEN,)) as server:
        server.rename_repo(old, "engine-v2")
        checks = github_checks(github_settings(server.base_url, (old,)), TOKEN)
    (moved,) = [c for c in checks if "renamed" in c.detail]
    assert moved.status == "warn" and "engine-v2" in moved.detail and moved.fix and "engine-v2" in moved.fix


def test_github_bad_token_is_rejected(github: GitHubServer, dataset: Dataset) -> None:
    bad = "ghp_RevokedToken000000000000000000000000"
    settings = github_settings(github.base_url, (dataset.repositories[0].full_name,))
    checks = [c for c in run_checks(settings, bad, None) if c.name == "github"]
    (check,) = checks
    assert check.status == "fail" and "token rejected" in check.detail and "401" in check.detail
    assert check.fix and "GITHUB_TOKEN" in check.fix
    assert_secret_kept(checks, bad)
    assert exit_code(checks) == 1


def test_github_missing_or_malformed_token_asks_nothing(github: GitHubServer, dataset: Dataset) -> None:
    settings = github_settings(github.base_url, orgs=(dataset.org.login,))
    before = len(github.requests)
    (missing,) = github_checks(settings, None)
    assert missing.status == "fail" and missing.fix and "export GITHUB_TOKEN=..." in missing.fix
    (newline,) = github_checks(settings, TOKEN + "\n")
    assert newline.status == "fail" and "line break" in newline.detail
    assert len(github.requests) == before


def test_github_token_kinds(github: GitHubServer, dataset: Dataset) -> None:
    settings = github_settings(github.base_url, (dataset.repositories[0].full_name,))
    fine, fine_projects = github_checks(settings, FINE_GRAINED)[1:3]
    assert fine.status == "ok" and "fine-grained" in fine.detail and "repository access" in fine.detail
    assert fine_projects.status == "ok" and "Projects: read" in fine_projects.detail
    none, none_projects = github_checks(settings, NO_SCOPES)[1:3]
    assert none.status == "warn" and "scopes: none" in none.detail and none.fix and "`repo`" in none.fix
    assert none_projects.status == "warn" and none_projects.fix and "read:project" in none_projects.fix
    public = github_checks(settings, PUBLIC_ONLY)[1]
    assert public.status == "ok" and "public repositories only" in public.detail


def test_github_low_quota_warns(dataset: Dataset) -> None:
    with GitHubServer(dataset, tokens=(TOKEN,), quota=500) as server:
        checks = github_checks(github_settings(server.base_url, (dataset.repositories[0].full_name,)), TOKEN)
    quota = next(c for c in checks if "quota" in c.detail)
    assert (
        quota.status == "warn" and "of 500 requests left" in quota.detail and quota.fix and "UTC" in quota.fix
    )


def test_github_unreachable_fails_fast_with_the_url(dataset: Dataset) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    checks = github_checks(github_settings(url, (dataset.repositories[0].full_name,)), TOKEN)
    assert time.monotonic() - started < 2
    (check,) = checks
    assert check.status == "fail" and url in check.detail and "connection refused" in check.detail
    assert check.fix == "check [github].url / network (proxy, VPN, firewall)"


def test_github_url_that_is_not_the_api_fails(dataset: Dataset) -> None:
    with health_server(200, b"true") as root:  # answers 404 to anything but /api/health
        (check,) = github_checks(github_settings(root, (dataset.repositories[0].full_name,)), TOKEN)
    assert check.status == "fail" and "does not look like the GitHub REST API" in check.detail
    assert check.fix and "/api/v3" in check.fix


def test_github_not_configured_is_not_checked() -> None:
    (check,) = github_checks(Settings(), None)
    assert check.status == "ok" and "not configured" in check.detail


@pytest.mark.skipif(not openapi_available(), reason=SKIP_REASON)
def test_the_servers_user_endpoint_matches_githubs_description(github: GitHubServer) -> None:
    response = requests.get(f"{github.base_url}/user", headers={"Authorization": f"token {TOKEN}"}, timeout=5)
    validate_response("GET", "/user", 200, response.json())
    assert response.headers["X-OAuth-Scopes"] == "read:org, repo"
    fine = requests.get(
        f"{github.base_url}/user", headers={"Authorization": f"Bearer {FINE_GRAINED}"}, timeout=5
    )
    assert fine.status_code == 200 and "X-OAuth-Scopes" not in fine.headers
    unauthorized = requests.get(f"{github.base_url}/user", timeout=5)
    validate_response("GET", "/user", 401, unauthorized.json())


# ------------------------------------------------------------------------------------------ database


def test_database_absent_warns_and_a_missing_folder_fails(tmp_path: Path) -> None:
    (absent,) = check_database(Settings(db_path=tmp_path / "perftrust.duckdb"))
    assert absent.status == "warn" and "`perftrust run` creates it" in absent.detail
    (no_folder,) = check_database(Settings(db_path=tmp_path / "nope" / "perftrust.duckdb"))
    assert no_folder.status == "fail" and "does not exist" in no_folder.detail and no_folder.fix


def record_run(db: Path, status: str, hours_ago: float, error: str | None = None) -> None:
    con = connect(db)
    try:
        run_id = start_run(con, "run")
        finish_run(con, run_id, [], error_message=error)
        con.execute(
            "UPDATE pipeline_runs SET status = ?, finished_at = ? WHERE run_id = ?",
            [status, utc_now() - timedelta(hours=hours_ago), run_id],
        )
    finally:
        con.close()


def test_database_reports_the_last_run_and_warns_when_it_is_stale(tmp_path: Path) -> None:
    db = tmp_path / "perftrust.duckdb"
    settings = Settings(db_path=db)
    connect(db).close()
    (empty,) = check_database(settings)
    assert empty.status == "warn" and "no run recorded" in empty.detail

    record_run(db, "succeeded", hours_ago=3)
    (fresh,) = check_database(settings)
    assert (
        fresh.status == "ok" and "`perftrust run` succeeded" in fresh.detail and "(3 h ago)" in fresh.detail
    )

    record_run(db, "failed", hours_ago=1, error="GitHub rejected the token")
    (failed,) = check_database(settings)
    assert (
        failed.status == "warn" and "failed" in failed.detail and "GitHub rejected the token" in failed.detail
    )

    (stale,) = check_database(settings, now=utc_now() + timedelta(hours=50))
    assert (
        stale.status == "warn"
        and "the last successful run finished 2 days ago (more than 48 h)" in stale.detail
    )
    assert stale.fix and "pipeline_run_steps" in stale.fix and "nightly" in stale.fix

    quiet = tmp_path / "quiet.duckdb"
    record_run(quiet, "succeeded", hours_ago=49)
    (not_running,) = check_database(Settings(db_path=quiet))
    assert (
        not_running.status == "warn"
        and "succeeded" in not_running.detail
        and "more than 48 h" in not_running.detail
    )
    assert not_running.fix and "nightly job" in not_running.fix


def test_database_that_is_foreign_or_not_perftrust_or_locked_fails(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.duckdb"
    foreign.write_text("SQLite format 3\x00 and then some more bytes")
    (check,) = check_database(Settings(db_path=foreign))
    assert check.status == "fail" and "not a DuckDB database" in check.detail and check.fix

    other = tmp_path / "other.duckdb"
    with contextlib.closing(duckdb.connect(str(other))) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    (check,) = check_database(Settings(db_path=other))
    assert check.status == "fail" and "not a perftrust database" in check.detail

    locked = tmp_path / "locked.duckdb"
    connect(locked).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
            str(locked),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        (check,) = check_database(Settings(db_path=locked))
    finally:
        holder.kill()
        holder.wait()
    assert check.status == "fail" and "in use by another process" in check.detail and check.fix


def test_a_folder_as_database_fails_without_raising(tmp_path: Path) -> None:
    checks = run_checks(Settings(db_path=tmp_path, repositories=()), None, None)
    assert only(checks, "database").status == "fail"


# --------------------------------------------------------------------------------------------- store


def test_store_is_writable_and_counts_previous_databases(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "perftrust.duckdb", keep_previous=2)
    (before,) = check_store(settings)
    assert before.status == "ok" and "not created yet" in before.detail
    store = Store.for_settings(settings)
    store.prepare()
    for name in ("20250101T000000000000Z-aaaa.duckdb", "20250102T000000000000Z-bbbb.duckdb"):
        (store.previous / name).write_bytes(b"")
    (after,) = check_store(settings)
    assert after.status == "ok" and "writable" in after.detail
    assert "2 previous databases kept" in after.detail and "keep_previous = 2" in after.detail

    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    (clash,) = check_store(replace(settings, store_dir=a_file))
    assert clash.status == "fail" and "is a file" in clash.detail and clash.fix


def test_store_warns_when_the_disk_cannot_hold_a_second_copy(tmp_path: Path) -> None:
    db = tmp_path / "perftrust.duckdb"
    with db.open("wb") as f:  # sparse: as large as half the free space and more, costing nothing
        f.truncate(shutil.disk_usage(tmp_path).free // 2 + 2**30)
    (check,) = check_store(Settings(db_path=db))
    assert check.status == "warn" and "twice the database" in check.detail and check.fix


@pytest.mark.skipif(
    not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == os.stat(tempfile.gettempdir()).st_dev,
    reason="needs /dev/shm on another file system than the temporary folder",
)
def test_store_on_another_file_system_warns(tmp_path: Path) -> None:
    elsewhere = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="perftrust-doctor-"))
    try:
        settings = Settings(db_path=tmp_path / "perftrust.duckdb", store_dir=elsewhere / "store")
        checks = check_store(settings)
    finally:
        shutil.rmtree(elsewhere)
    assert [c.status for c in checks] == ["warn"] and "another file system" in checks[0].detail


def test_store_that_cannot_be_written_fails(tmp_path: Path) -> None:
    # A folder the kernel refuses files in for every user, root included (file permissions alone
    # would not stop root, and CI may run as root).
    settings = Settings(db_path=tmp_path / "perftrust.duckdb", store_dir=Path("/proc/self"))
    (check,) = check_store(settings)
    assert check.status == "fail" and "cannot write" in check.detail and check.fix


# ------------------------------------------------------------------------------------------- prefect


class _Health(BaseHTTPRequestHandler):
    answer: tuple[int, bytes] = (200, b"true")

    def do_GET(self) -> None:
        status, body = self.answer if self.path == "/api/health" else (404, b'{"detail":"Not Found"}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextlib.contextmanager
def health_server(status: int, body: bytes) -> Iterator[str]:
    handler = type("Handler", (_Health,), {"answer": (status, body)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_prefect_healthy_unhealthy_unreachable_and_unset() -> None:
    with health_server(200, b"true") as root:
        (healthy,) = check_prefect(f"{root}/api")
        (no_api_suffix,) = check_prefect(root)
    assert healthy.status == "ok" and "healthy" in healthy.detail
    assert no_api_suffix.status == "fail" and no_api_suffix.fix and "/api" in no_api_suffix.fix

    with health_server(503, b'{"detail":"database is locked"}') as root:
        (sick,) = check_prefect(f"{root}/api")
    assert sick.status == "fail" and "503" in sick.detail

    url = f"http://127.0.0.1:{free_port()}/api"
    started = time.monotonic()
    (down,) = check_prefect(url, timeout=2)
    assert time.monotonic() - started < 2
    assert down.status == "fail" and url in down.detail
    assert down.fix == "start `prefect server start` or unset PREFECT_API_URL"

    (unset,) = check_prefect(None)
    assert unset.status == "ok"
    assert unset.detail == (
        "no Prefect server configured: `perftrust run` uses a temporary local API; "
        "`perftrust serve` needs `prefect server start` and PREFECT_API_URL"
    )


# ---------------------------------------------------------------------------------- config, output


def test_config_notes() -> None:
    # GitHub Projects due date fields are read now: configuring them is nothing to note.
    (read,) = check_config(Settings(github=GitHubConfig(due_date_fields=("Due date",), projects=("acme/1",))))
    assert (read.status, read.detail) == ("ok", "nothing to note")
    (fine,) = check_config(Settings())
    assert fine.status == "ok"
    dask = check_config(Settings(nightly=replace(NightlyConfig(), task_runner="dask")))
    assert [c.status for c in dask] == (["ok"] if importlib.util.find_spec("prefect_dask") else ["fail"])


def test_a_whole_run_formats_one_line_per_check_and_keeps_the_token(
    tmp_path: Path, github: GitHubServer, dataset: Dataset
) -> None:
    repo = GitRepo(tmp_path / "api")
    repo.commit("first")
    repo.git("remote", "add", "origin", f"https://github.com/{dataset.repositories[0].full_name}.git")
    db = tmp_path / "perftrust.duckdb"
    record_run(db, "succeeded", hours_ago=1)
    settings = Settings(
        db_path=db,
        repositories=(RepositoryConfig(RepoSpec(repo.path)),),
        github=GitHubConfig(
            url=github.base_url, repositories=(dataset.repositories[0].full_name, "acme/gone")
        ),
    )
    checks = run_checks(settings, TOKEN, None, timeout=5)
    assert [c.name for c in checks] == [
        "git",
        "repository",
        "github",
        "github",
        "github",
        "github",
        "github",
        "github",
        "database",
        "store",
        "prefect",
        "config",
    ]
    assert exit_code(checks) == 1 and exit_code([c for c in checks if c.status != "fail"]) == 0
    text = format_checks(checks)
    lines = text.splitlines()
    assert lines[0].startswith("ok    git        git version 2.")
    gone = lines.index(
        next(line for line in lines if line.startswith("FAIL  github     repository acme/gone"))
    )
    assert lines[gone + 1].startswith("      fix: fix acme/gone in [github].repositories")
    assert lines[-1] == "1 failed, 1 warning (12 checks)"  # the warning: no read:project
    assert_secret_kept(checks, TOKEN)
