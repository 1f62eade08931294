"""Bad input: every problem gives a clear error (problem + fix), and nothing already loaded is lost.

Repositories are real git repositories: built with the git CLI, `git fast-import` for large
histories, and `git hash-object -t commit` for commit objects git itself would never write
(Latin-1 names, dates before 1970 or in the year 3 million, odd time zones).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

from pipeline.cli import main
from pipeline.config import RepositoryConfig, Settings, load_settings
from pipeline.db import connect
from pipeline.errors import DatabaseError
from pipeline.git_repo import RepoSpec
from pipeline.sync import SyncSummary, run_sync
from tests.conftest import GitRepo
from tests.support.report_db import seed_small_db

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def _git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, input=input, check=True, capture_output=True)
    return out.stdout.decode("utf-8", "replace").strip()


def _sync(con: duckdb.DuckDBPyConnection, *paths: Path) -> SyncSummary:
    return run_sync(con, Settings(), [RepositoryConfig(RepoSpec(p)) for p in paths])


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`perftrust ARGS` in a fresh interpreter (the real exit code and stderr a user sees)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def _empty_tree(repo: GitRepo) -> str:
    return repo.git("hash-object", "-t", "tree", "-w", "--stdin", input=b"")


def _craft_commit(
    repo: GitRepo,
    *,
    author: bytes,
    committer: bytes,
    message: bytes,
    parent: str | None = None,
    extra_headers: bytes = b"",
) -> str:
    """Write a commit object byte for byte (git checks its format, not its encoding or dates)."""
    header = b"tree " + _empty_tree(repo).encode() + b"\n"
    if parent:
        header += b"parent " + parent.encode() + b"\n"
    header += b"author " + author + b"\ncommitter " + committer + b"\n" + extra_headers
    return repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=header + b"\n" + message)


def _fast_import(path: Path, stream: bytes) -> None:
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "fast-import", "--quiet", input=stream)


def _linear_history(path: Path, count: int) -> None:
    """`count` commits on main, each changing one of ten files, written by fast-import in well under a second."""
    chunks: list[bytes] = []
    for i in range(1, count + 1):
        who = f"Dev {i % 7} <dev{i % 7}@example.org>".encode()
        when = 1_600_000_000 + 3600 * i
        message = f"change {i}\n".encode()
        content = f"version {i}\n".encode()
        chunks.append(b"commit refs/heads/main\nmark :%d\n" % i)
        chunks.append(b"author %s %d +0000\ncommitter %s %d +0000\n" % (who, when, who, when))
        chunks.append(b"data %d\n%s" % (len(message), message))
        if i > 1:
            chunks.append(b"from :%d\n" % (i - 1))
        chunks.append(b"M 100644 inline src/file%d.txt\ndata %d\n%s\n" % (i % 10, len(content), content))
    _fast_import(path, b"".join(chunks))


def _rev_list(path: Path, ref: str = "main") -> set[str]:
    return set(_git(path, "rev-list", ref).split())


def _loaded_shas(con: duckdb.DuckDBPyConnection, repo: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT sha FROM raw_git__commits WHERE repo = ?", [repo]).fetchall()}


@pytest.fixture
def source(repo: GitRepo) -> GitRepo:
    """A plain repository with five commits on main."""
    for i in range(5):
        repo.commit(f"commit {i}", {f"f{i}.txt": f"{i}\n"})
    return repo


# ------------------------------------------------------------------------------------------------
# 1-3: paths that are not (usable) repositories
# ------------------------------------------------------------------------------------------------


def test_not_a_git_repository_fails_its_step_and_the_other_repository_still_loads(
    tmp_path: Path, source: GitRepo, con: duckdb.DuckDBPyConnection
) -> None:
    plain = tmp_path / "just-a-folder"
    plain.mkdir()
    (plain / "notes.txt").write_text("no .git here\n")

    summary = _sync(con, plain, source.path)

    bad, good = summary.steps
    assert bad.status == "failed"
    assert bad.error_message is not None
    assert f"{plain} is not a git repository" in bad.error_message
    assert "fix: pass the top folder of a clone" in bad.error_message
    assert good.status == "succeeded"
    assert good.count_rows_added == 5
    assert _loaded_shas(con, "project") == _rev_list(source.path)
    assert summary.status == "partial"
    recorded = con.execute(
        "SELECT status, error_message FROM pipeline_run_steps WHERE run_id = ? AND repo = ?",
        [summary.run_id, str(plain)],
    ).fetchall()
    assert recorded == [("failed", bad.error_message)]
    assert con.execute(
        "SELECT status, count_failed_steps, count_rows_added, finished_at IS NOT NULL FROM pipeline_runs "
        "WHERE run_id = ?",
        [summary.run_id],
    ).fetchall() == [("partial", 1, 5, True)]


def test_not_a_git_repository_via_cli_exits_1_and_still_loads_the_valid_one(
    tmp_path: Path, source: GitRepo, db_path: Path
) -> None:
    plain = tmp_path / "just-a-folder"
    plain.mkdir()

    result = _cli(
        "sync", "--repo", str(plain), "--repo", str(source.path), "--db", str(db_path), cwd=tmp_path
    )

    assert result.returncode == 1, result.stderr
    assert "not a git repository" in result.stderr
    assert "pass the top folder of a clone" in result.stderr
    with duckdb.connect(str(db_path), read_only=True) as check:
        assert _scalar(check, "SELECT count(*) FROM raw_git__commits WHERE repo = 'project'") == 5


def test_a_file_instead_of_a_folder_is_not_a_git_repository(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    a_file = tmp_path / "README.md"
    a_file.write_text("hello\n")

    (step,) = _sync(con, a_file).steps

    assert step.status == "failed"
    assert step.error_message is not None
    assert "not a git repository" in step.error_message


def test_missing_path_fails_with_does_not_exist(
    tmp_path: Path, source: GitRepo, con: duckdb.DuckDBPyConnection
) -> None:
    missing = tmp_path / "no" / "such" / "clone"

    summary = _sync(con, missing, source.path)

    bad, good = summary.steps
    assert bad.status == "failed"
    assert bad.error_message is not None
    assert f"the path {missing} does not exist" in bad.error_message
    assert "fix:" in bad.error_message
    assert good.status == "succeeded"
    assert _loaded_shas(con, "project") == _rev_list(source.path)
    assert not missing.exists()  # nothing was created on the way


def test_empty_repository_is_status_empty_with_a_warning_and_cli_exit_0(
    tmp_path: Path, make_repo: type[GitRepo], db_path: Path
) -> None:
    empty = make_repo(tmp_path / "fresh")  # git init, no commits

    result = _cli("sync", "--repo", str(empty.path), "--db", str(db_path), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "no commits yet" in result.stderr
    with duckdb.connect(str(db_path), read_only=True) as check:
        steps = check.execute(
            "SELECT repo, status, warnings, error_message FROM pipeline_run_steps"
        ).fetchall()
        assert len(steps) == 1
        repo_key, status, warnings, error = steps[0]
        assert (repo_key, status, error) == ("fresh", "empty", None)
        assert any("no commits yet" in w for w in warnings)
        assert check.execute("SELECT status FROM pipeline_runs").fetchall() == [("succeeded",)]
        assert _scalar(check, "SELECT count(*) FROM raw_git__commits") == 0
        assert check.execute("SELECT repo, is_bare, is_shallow FROM dim_repositories").fetchall() == [
            ("fresh", False, False)
        ]


def test_empty_repository_then_first_commit_loads_it(
    make_repo: type[GitRepo], tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    empty = make_repo(tmp_path / "fresh")
    (step,) = _sync(con, empty.path).steps
    assert step.status == "empty"
    assert any("no commits yet" in w for w in step.warnings)

    sha = empty.commit("first", {"a.txt": "a\n"})
    (step,) = _sync(con, empty.path).steps

    assert step.status == "succeeded"
    assert _loaded_shas(con, "fresh") == {sha}


# ------------------------------------------------------------------------------------------------
# 4-5: shallow and bare clones
# ------------------------------------------------------------------------------------------------


def test_shallow_clone_loads_what_it_has_and_warns(
    tmp_path: Path, source: GitRepo, con: duckdb.DuckDBPyConnection
) -> None:
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "2", f"file://{source.path}", str(shallow))

    (step,) = _sync(con, shallow).steps

    assert step.status == "succeeded"
    assert step.count_rows_added == 2
    assert (
        _loaded_shas(con, "shallow")
        == _rev_list(shallow)
        == set(source.git("rev-list", "-2", "main").split())
    )
    (warning,) = step.warnings
    assert "shallow clone" in warning
    assert "history before its boundary is missing" in warning
    assert "git fetch --unshallow" in warning
    assert con.execute(
        "SELECT is_shallow, is_bare FROM dim_repositories WHERE repo = 'shallow'"
    ).fetchall() == [(True, False)]
    # The boundary commit is grafted: git reports it without parents.
    boundary = source.git("rev-parse", "main~1")
    assert _scalar(con, "SELECT parent_count FROM fct_commits WHERE sha = ?", [boundary]) == 0


def test_bare_clone_loads_the_same_commits_and_honours_the_mailmap_in_head(
    tmp_path: Path, repo: GitRepo, con: duckdb.DuckDBPyConnection
) -> None:
    old = repo.commit("by my old identity", {"a.txt": "a\n"}, author=("Old Name", "old@example.org"))
    repo.commit("more", {"b.txt": "b\n"})
    repo.commit(
        "mailmap",
        {".mailmap": "Ada Lovelace <ada@example.org> Old Name <old@example.org>\n"},
    )
    bare = tmp_path / "mirror.git"
    _git(tmp_path, "clone", "-q", "--bare", str(repo.path), str(bare))
    assert not (bare / ".mailmap").exists()  # only HEAD's blob can provide it

    (step,) = _sync(con, bare).steps

    assert step.status == "succeeded"
    assert step.warnings == []
    assert _loaded_shas(con, "mirror") == _rev_list(repo.path)
    assert con.execute(
        "SELECT is_bare, is_shallow FROM dim_repositories WHERE repo = 'mirror'"
    ).fetchall() == [(True, False)]
    # raw keeps what the commit says, fct applies the .mailmap committed in HEAD.
    assert con.execute(
        "SELECT author_name, author_email FROM raw_git__commits WHERE sha = ?", [old]
    ).fetchall() == [("Old Name", "old@example.org")]
    assert con.execute(
        "SELECT author_name, author_email FROM fct_commits WHERE sha = ?", [old]
    ).fetchall() == [("Ada Lovelace", "ada@example.org")]
    # Both identities resolve to one contributor.
    assert (
        _scalar(con, "SELECT count(DISTINCT author_contributor_id) FROM fct_commits WHERE repo = 'mirror'")
        == 1
    )


# ------------------------------------------------------------------------------------------------
# 6-7: database files that cannot be used
# ------------------------------------------------------------------------------------------------


def test_a_file_that_is_not_duckdb_is_refused_and_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "perftrust.duckdb"
    payload = b"%PDF-1.7\n" + bytes(range(256)) * 40  # someone else's file
    db.write_bytes(payload)
    before = sorted(p.name for p in tmp_path.iterdir())

    for read_only in (False, True):
        with pytest.raises(DatabaseError) as info:
            connect(db, read_only=read_only)
        assert info.value.problem == f"{db} exists but is not a DuckDB database (it was left untouched)"
        assert info.value.fix is not None and "--db" in info.value.fix

    assert db.read_bytes() == payload
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no .wal or other file appeared


def _sqlite_file(path: Path) -> bytes:
    with closing(sqlite3.connect(path)) as lite:
        lite.execute("CREATE TABLE notes (body TEXT)")
        lite.execute("INSERT INTO notes VALUES ('keep me')")
        lite.commit()
    return path.read_bytes()


def test_a_sqlite_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    # DuckDB recognises SQLite's header and tries to open the file through its sqlite extension;
    # perftrust disables extension auto-install, so without a cached extension the open fails.
    db = tmp_path / "data.sqlite"
    payload = _sqlite_file(db)
    before = sorted(p.name for p in tmp_path.iterdir())

    with pytest.raises(DatabaseError) as info:
        connect(db)

    assert str(db) in info.value.problem
    assert db.read_bytes() == payload
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_sqlite_file_error_says_it_is_not_duckdb(tmp_path: Path) -> None:
    db = tmp_path / "data.sqlite"
    _sqlite_file(db)

    with pytest.raises(DatabaseError) as info:
        connect(db)

    assert info.value.problem == f"{db} exists but is not a DuckDB database (it was left untouched)"


def test_a_file_that_is_not_duckdb_via_cli_exits_2_and_is_untouched(tmp_path: Path, source: GitRepo) -> None:
    db = tmp_path / "notes.duckdb"
    payload = b"these are my notes, not a database\n" * 100
    db.write_bytes(payload)

    result = _cli("sync", "--repo", str(source.path), "--db", str(db), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "is not a DuckDB database" in result.stderr
    assert "fix:" in result.stderr
    assert db.read_bytes() == payload


HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE kept AS SELECT 42 AS answer")
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def locked_db(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A database held open for writing by another process: (path, pid of that process)."""
    db = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline()  # EOF (b"") if the holder died
        assert line == b"locked\n", holder.stderr.read() if holder.stderr else b""
        yield db, holder.pid
    finally:
        holder.kill()
        holder.wait(timeout=30)
        for stream in (holder.stdout, holder.stderr):
            if stream is not None:
                stream.close()


def test_a_database_locked_by_another_process_gives_a_clear_error(locked_db: tuple[Path, int]) -> None:
    db, pid = locked_db

    for read_only in (False, True):
        with pytest.raises(DatabaseError) as info:
            connect(db, read_only=read_only)
        assert info.value.problem == f"the database {db} is in use by another process (process {pid})"
        assert info.value.fix == "wait for that run to finish, or point --db at another file"


def test_a_locked_database_via_cli_exits_2_and_keeps_its_data(
    tmp_path: Path, source: GitRepo, locked_db: tuple[Path, int]
) -> None:
    db, pid = locked_db

    result = _cli("sync", "--repo", str(source.path), "--db", str(db), cwd=tmp_path)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"is in use by another process (process {pid})" in result.stderr
    assert "wait for that run to finish" in result.stderr
    # Once the holder is gone (SIGKILL, no clean close) its committed data is still there.
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with duckdb.connect(str(db), read_only=True) as check:
        assert check.execute("SELECT answer FROM kept").fetchall() == [(42,)]


# ------------------------------------------------------------------------------------------------
# 8: one commit touching 100,000 files
# ------------------------------------------------------------------------------------------------


def test_a_commit_with_100k_files(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    count = 100_000
    path = tmp_path / "monorepo"
    message = b"vendor everything\n"
    # Blobs with marks, then one commit naming them: 4x faster than inline data in fast-import.
    stream = [b"blob\nmark :%d\ndata %d\n%d\n" % (i + 1, len(b"%d" % i) + 1, i) for i in range(count)]
    stream.append(b"commit refs/heads/main\ncommitter Ada Lovelace <ada@example.org> 1700000000 +0000\n")
    stream.append(b"data %d\n%s" % (len(message), message))
    stream += [b"M 100644 :%d d%03d/f%d.txt\n" % (i + 1, i % 1000, i) for i in range(count)]
    _fast_import(path, b"".join(stream))
    sha = _git(path, "rev-parse", "main")

    started = time.perf_counter()
    (step,) = _sync(con, path).steps
    seconds = time.perf_counter() - started

    assert step.status == "succeeded"
    assert step.count_rows_added == 1
    assert _scalar(con, "SELECT files_changed FROM fct_commits WHERE sha = ?", [sha]) == count
    assert _scalar(con, "SELECT lines_added FROM fct_commits WHERE sha = ?", [sha]) == count
    assert _scalar(con, "SELECT count(*) FROM fct_commit_files WHERE sha = ?", [sha]) == count
    assert _scalar(con, "SELECT count(DISTINCT path) FROM fct_commit_files WHERE sha = ?", [sha]) == count
    assert con.execute(
        "SELECT path, lines_added, lines_deleted, is_binary FROM fct_commit_files WHERE sha = ? AND path = ?",
        [sha, "d999/f99999.txt"],
    ).fetchall() == [("d999/f99999.txt", 1, 0, False)]
    # Measured on 2 cores: ~1 s to build, ~0.6 s to sync (~2-3 s for the whole test), so not @slow.
    # The bound only catches a quadratic blow-up in parsing or loading, not ordinary machine noise.
    assert seconds < 60, seconds


# ------------------------------------------------------------------------------------------------
# 9-10: commit objects git would not write today
# ------------------------------------------------------------------------------------------------


def test_latin1_author_name_and_utf8_message(
    make_repo: type[GitRepo], tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    repo = make_repo(tmp_path / "legacy")
    # No encoding header: git treats the commit as UTF-8 and prints the bytes as they are.
    latin1 = _craft_commit(
        repo,
        author=b"J\xe9r\xf4me Dupont <jerome@example.org> 1700000000 +0100",
        committer=b"Ada Lovelace <ada@example.org> 1700000000 +0000",
        message="café ☕\n\nthé à la crème\n".encode(),
    )
    # With an encoding header git re-encodes the whole commit to UTF-8 itself.
    declared = _craft_commit(
        repo,
        parent=latin1,
        author=b"Fran\xe7oise No\xebl <francoise@example.org> 1700003600 +0100",
        committer=b"Fran\xe7oise No\xebl <francoise@example.org> 1700003600 +0100",
        message=b"Caf\xe9 cr\xe8me\n",
        extra_headers=b"encoding ISO-8859-1\n",
    )
    repo.git("update-ref", "refs/heads/main", declared)

    (step,) = _sync(con, repo.path).steps

    assert step.status == "succeeded"
    rows = con.execute(
        "SELECT sha, author_name, committer_name, message FROM raw_git__commits ORDER BY author_epoch"
    ).fetchall()
    assert rows == [
        (latin1, "Jérôme Dupont", "Ada Lovelace", "café ☕\n\nthé à la crème"),
        (declared, "Françoise Noël", "Françoise Noël", "Café crème"),
    ]
    assert con.execute("SELECT author_name, subject FROM fct_commits ORDER BY authored_at").fetchall() == [
        ("Jérôme Dupont", "café ☕"),
        ("Françoise Noël", "Café crème"),
    ]
    assert _scalar(con, "SELECT count(*) FROM dim_identities WHERE name = 'Jérôme Dupont'") == 1


def test_dates_before_1970_far_future_and_odd_zones(
    make_repo: type[GitRepo], tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    repo = make_repo(tmp_path / "timewarp")
    dates = {
        "before-1970": b"-100000 +0000",  # 1969-12-30
        "year-3-million": b"99999999999999 +0000",
        "year-2100": b"4102444800 +0100",  # 2100-01-01 00:00:00 UTC
        "colon-zone": b"1700000000 +518:00",
        "six-digit-zone": b"1700000000 +51800",
        "india": b"1700000000 +0530",
    }
    shas: dict[str, str] = {}
    parent: str | None = None
    for label, date in dates.items():
        parent = shas[label] = _craft_commit(
            repo,
            parent=parent,
            author=b"Ada Lovelace <ada@example.org> " + date,
            committer=b"Ada Lovelace <ada@example.org> " + date,
            message=label.encode() + b"\n",
        )
    assert parent is not None
    repo.git("update-ref", "refs/heads/main", parent)

    summary = _sync(con, repo.path)

    assert summary.status == "succeeded"
    got = {
        row[0]: row[1:]
        for row in con.execute(
            """SELECT r.message, r.author_epoch, r.author_tz, r.committer_epoch, r.committer_tz,
                      f.authored_at, f.author_utc_offset_minutes, f.committed_at
               FROM raw_git__commits r JOIN fct_commits f USING (repo, sha)"""
        ).fetchall()
    }
    # git log prints an empty date for a negative timestamp: epoch and zone are NULL, nothing crashes.
    assert got["before-1970"] == (None, None, None, None, None, None, None)
    # Beyond year 9999 DuckDB has no timestamp: the raw epoch is kept, the timestamps are NULL.
    assert got["year-3-million"] == (99999999999999, "+0000", 99999999999999, "+0000", None, 0, None)
    assert got["year-2100"] == (
        4102444800,
        "+0100",
        4102444800,
        "+0100",
        datetime(2100, 1, 1),
        60,
        datetime(2100, 1, 1),
    )
    # git reads the zone as a number: "+518:00" stops at the colon and is printed as "+0518", so raw
    # holds what git prints (the ":00" is gone before perftrust sees it) and the offset is 5 h 18 min.
    assert got["colon-zone"][:2] == (1700000000, "+0518")
    assert got["colon-zone"][5] == 5 * 60 + 18
    # A zone git prints verbatim but that is not [+-]HHMM stays verbatim in raw; its offset is NULL.
    assert got["six-digit-zone"][:2] == (1700000000, "+51800")
    assert got["six-digit-zone"][4:6] == (datetime(2023, 11, 14, 22, 13, 20), None)
    assert got["india"][5] == 330


# ------------------------------------------------------------------------------------------------
# 11: a run killed half-way
# ------------------------------------------------------------------------------------------------

KILL_AFTER_TWO_BATCHES = """
import os, signal, sys
from pathlib import Path

import pipeline.git_sync as git_sync
from pipeline.db import connect
from pipeline.git_repo import RepoSpec
from pipeline.runs import start_run

real_extract = git_sync.extract_commits


def extract_then_die(*args, **kwargs):
    for n, table in enumerate(real_extract(*args, **kwargs), start=1):
        yield table
        if n == 2:  # the consumer inserted batches 1 and 2 and asks for batch 3: die now
            os.kill(os.getpid(), signal.SIGKILL)


git_sync.extract_commits = extract_then_die
con = connect(Path(sys.argv[1]))
run_id = start_run(con, "sync")
print(run_id, flush=True)
# Two git processes over chunks of 100 commits.
options = git_sync.GitSyncOptions(batch_commits=50, workers=2, chunk_commits=100)
git_sync.sync_repository(con, RepoSpec(Path(sys.argv[2])), run_id, options)
print("not killed", flush=True)
"""


def _commit_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute(
        "SELECT * EXCLUDE (run_id, extracted_at) FROM raw_git__commits ORDER BY repo, sha"
    ).fetchall()


def test_a_run_killed_half_way_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "history"
    _linear_history(path, 600)
    tip = _git(path, "rev-parse", "main")
    db = tmp_path / "killed.duckdb"

    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_TWO_BATCHES, str(db), str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    killed_run = killed.stdout.split()[0]

    con = connect(db)
    try:
        # What the killed run committed survived: exactly its two batches, and no cursor yet.
        assert _scalar(con, "SELECT count(*) FROM raw_git__commits") == 100
        assert _scalar(con, "SELECT count(*) FROM sync_state") == 0

        (step,) = _sync(con, path).steps

        assert step.status == "succeeded"
        assert step.count_rows_added == 500  # only what the killed run did not load
        assert _loaded_shas(con, "history") == _rev_list(path)
        assert _scalar(con, "SELECT count(*) FROM raw_git__commits") == 600
        assert _scalar(con, "SELECT count(DISTINCT (repo, sha)) FROM raw_git__commits") == 600
        cursor = json.loads(
            _scalar(con, "SELECT cursor FROM sync_state WHERE source = 'git' AND repo = 'history'")
        )
        assert cursor["tips"] == {"refs/heads/main": tip}
        assert con.execute(
            "SELECT status, finished_at FROM pipeline_runs WHERE run_id = ?", [killed_run]
        ).fetchall() == [("running", None)]
        resumed_rows = _commit_rows(con)
        resumed_facts = con.execute("SELECT * FROM fct_commits ORDER BY repo, sha").fetchall()
    finally:
        con.close()

    reference = connect(tmp_path / "reference.duckdb")
    try:
        _sync(reference, path)
        assert resumed_rows == _commit_rows(reference)
        assert resumed_facts == reference.execute("SELECT * FROM fct_commits ORDER BY repo, sha").fetchall()
    finally:
        reference.close()


# ------------------------------------------------------------------------------------------------
# 12: command-line values and configuration files that used to end in a traceback
# ------------------------------------------------------------------------------------------------

# Saved by an editor set to Latin-1: "É" and "ç" are single bytes that are not UTF-8.
LATIN1_CONFIG = (
    '[metrics]\nwindow = "90d"\n# Équipe de François\n[teams]\ncore = ["dev1@example.org"]\n'.encode(
        "latin-1"
    )
)
# Every command that reads perftrust.toml (sql only without --db).
COMMANDS_READING_CONFIG = {
    "run": ["run", "--engine", "plain", "--no-report"],
    "run (prefect)": ["run"],
    "sync": ["sync"],
    "metrics": ["metrics"],
    "report": ["report"],
    "sql": ["sql", "SELECT 1"],
    "serve": ["serve"],
    "rollback": ["rollback"],
    "rollback --list": ["rollback", "--list"],
    "doctor": ["doctor"],
}


def _invoke(*args: str) -> Result:
    """`perftrust ARGS` in-process: exit code, output, and the exception (SystemExit, not a crash)."""
    return CliRunner().invoke(main, list(args))


def _assert_exit_2(result: Result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # no traceback
    assert "fix:" in result.output
    for text in expected:
        assert text in result.output, (text, result.output)


def _tree(root: Path) -> dict[str, str]:
    """Every file below root with the sha256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("command", COMMANDS_READING_CONFIG.values(), ids=list(COMMANDS_READING_CONFIG))
@pytest.mark.parametrize("given", ["--config", "./perftrust.toml"])
def test_a_config_file_that_is_not_utf8_names_the_byte_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], given: str
) -> None:
    config = tmp_path / "perftrust.toml"
    config.write_bytes(LATIN1_CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # serve would need one
    before = _tree(tmp_path)
    args = [command[0], *(["--config", str(config)] if given == "--config" else []), *command[1:]]

    result = _invoke(*args)

    _assert_exit_2(
        result,
        "perftrust.toml is not UTF-8 text: byte 0xc9 on line 3 is not valid UTF-8",
        "fix: save it as UTF-8",
        "iconv -f latin1 -t utf-8",
    )
    assert _tree(tmp_path) == before  # nothing was created (no database, no store, no report)


def test_a_config_file_that_is_not_utf8_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "perftrust.toml").write_bytes(LATIN1_CONFIG)

    result = _cli("metrics", cwd=tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "is not UTF-8 text" in result.stderr and "fix: save it as UTF-8" in result.stderr


def test_a_config_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    config = tmp_path / "perftrust.toml"
    config.write_bytes(b"\xef\xbb\xbf" + "[metrics]\nmin_n = 3\n# Équipe\n".encode())

    assert load_settings(config).metrics.min_n == 3


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report tests' hand-built database, metrics computed as of 2024-06-30."""
    return seed_small_db(tmp_path_factory.mktemp("bad-input-small") / "small.duckdb")


@pytest.fixture
def db_copy(small_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "db" / "perftrust.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(small_db, copy)
    return copy


OUT_OF_RANGE_DATES = ["0001-01-01", "9999-12-31", "1969-12-31", "3000-01-01", "9999-12-30"]


@pytest.mark.parametrize("day", OUT_OF_RANGE_DATES)
def test_as_of_outside_the_range_is_refused_by_metrics_and_report(
    db_copy: Path, tmp_path: Path, day: str
) -> None:
    before = _tree(tmp_path)
    for args in (
        ["metrics", "--db", str(db_copy), "--as-of", day],
        ["metrics", "--db", str(db_copy), "--as-of", day, "--timezone", "America/Los_Angeles"],
        ["metrics", "--db", str(db_copy), "--as-of", day, "--timezone", "Pacific/Kiritimati"],
        ["report", "--db", str(db_copy), "--out", str(tmp_path / "out"), "--as-of", day],
    ):
        _assert_exit_2(
            _invoke(*args),
            f"--as-of {day} is outside the dates perftrust evaluates (1970-01-01 to 2999-12-31",
            "fix: pass a date in that range, e.g. --as-of 2024-06-30",
        )
    assert _tree(tmp_path) == before  # the database untouched, no report folder


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_as_of_outside_the_range_is_refused_by_run_before_anything_is_synced(
    tmp_path: Path, source: GitRepo, day: str
) -> None:
    db = tmp_path / "run" / "perftrust.duckdb"
    db.parent.mkdir()

    for engine in ("plain", "prefect"):
        result = _invoke(
            "run", "--engine", engine, "--repo", str(source.path), "--db", str(db), "--as-of", day
        )
        _assert_exit_2(result, f"--as-of {day} is outside the dates perftrust evaluates")
    assert list(db.parent.iterdir()) == []  # nothing synced, built or published


def test_the_first_and_last_accepted_as_of_dates_work_in_every_time_zone(db_copy: Path) -> None:
    for day, zone, window in (
        ("1970-01-01", "Pacific/Kiritimati", "3660d"),  # UTC+14: the day ends on 1969-12-31 in UTC
        ("1970-01-01", "America/Los_Angeles", "90d"),
        ("2999-12-31", "Etc/GMT+12", "12w"),  # UTC-12: the day ends on 3000-01-01 in UTC
        ("2999-12-31", "Pacific/Kiritimati", "3660d"),
    ):
        result = _invoke(
            "metrics", "--db", str(db_copy), "--as-of", day, "--timezone", zone, "--window", window
        )
        assert result.exit_code == 0, (day, zone, result.output)
        assert "metrics as of" in result.output
        with closing(duckdb.connect(str(db_copy), read_only=True)) as con:
            assert _scalar(con, "SELECT as_of_date FROM metric_runs").isoformat() == day


@pytest.mark.parametrize(
    ("window", "problem"),
    [
        ("1000000d", "--window '1000000d' is 1,000,000 days long: a window is 1 to 3,660 days"),
        ("523w", "--window '523w' is 3,661 days long"),
        ("99999999999999999999w", "days long: a window is 1 to 3,660 days"),
        ("0d", "--window '0d' is 0 days long"),
        ("0w", "--window '0w' is 0 days long"),
        ("-5d", "--window '-5d' is not understood"),
        ("5y", "--window '5y' is not understood"),
        ("3mo", "--window '3mo' is not understood"),
        ("1.5w", "--window '1.5w' is not understood"),
        ("\u0663\u0660d", "is not understood"),  # Arabic-Indic digits: int() would take them
        ("", "--window '' is not understood"),
    ],
)
def test_a_window_outside_1_to_3660_days_is_refused(db_copy: Path, window: str, problem: str) -> None:
    before = hashlib.sha256(db_copy.read_bytes()).hexdigest()

    result = _invoke("metrics", "--db", str(db_copy), "--window", window)

    _assert_exit_2(
        result, problem, "fix: write it like 90d" if "understood" in problem else "e.g. 90d or 12w"
    )
    assert hashlib.sha256(db_copy.read_bytes()).hexdigest() == before


def test_the_longest_window_is_accepted(db_copy: Path) -> None:
    result = _invoke("metrics", "--db", str(db_copy), "--window", "3660d", "--as-of", "2024-06-30")
    assert result.exit_code == 0, result.output
    assert "window 3660 days" in result.output


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('window = "1000000d"', "[metrics].window = '1000000d' is 1,000,000 days long"),
        ('window = "0d"', "[metrics].window = '0d' is 0 days long"),
        ('window = "forever"', "[metrics].window = 'forever' is not understood"),
        ("min_n = 0", "[metrics].min_n = 0 is not a minimum sample size: it must be 1 or more"),
        ("min_n = -3", "[metrics].min_n = -3 is not a minimum sample size"),
    ],
)
def test_bad_metrics_settings_in_the_config_file_are_refused(
    db_copy: Path, tmp_path: Path, line: str, problem: str
) -> None:
    config = tmp_path / "perftrust.toml"
    config.write_text(f"[metrics]\n{line}\n", encoding="utf-8")

    for command in (["metrics", "--db", str(db_copy)], ["run", "--engine", "plain"], ["report"]):
        result = _invoke(command[0], "--config", str(config), *command[1:])
        _assert_exit_2(result, f"{config}: {problem}")


@pytest.mark.parametrize("min_n", ["0", "-1", "-100"])
def test_min_n_below_1_is_refused(db_copy: Path, min_n: str) -> None:
    before = hashlib.sha256(db_copy.read_bytes()).hexdigest()

    result = _invoke("metrics", "--db", str(db_copy), "--min-n", min_n)

    _assert_exit_2(
        result,
        f"--min-n {min_n} is not a minimum sample size: it must be 1 or more",
        "fix: pass --min-n 1 or more, e.g. --min-n 5",
    )
    assert hashlib.sha256(db_copy.read_bytes()).hexdigest() == before
    assert _invoke("metrics", "--db", str(db_copy), "--min-n", "1").exit_code == 0


def _default_reports(db: Path) -> Path:
    return db.with_name(db.stem + "-reports")


@pytest.fixture
def default_report(db_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A report rendered into the default place (beside the database): its files and their hashes."""
    monkeypatch.chdir(tmp_path)
    result = _invoke("report", "--db", str(db_copy))
    assert result.exit_code == 0, result.output
    files = _tree(_default_reports(db_copy))
    assert "report.html" in files and "csv/metric_follow_through.csv" in files
    return files


@pytest.mark.parametrize(
    "where",
    [
        "{tmp}/notes.txt/report",  # below a file
        "{tmp}/notes.txt/deeper/report",
        "/proc/self/perftrust-report",  # the kernel makes no folder there, not even for root
        "/proc/self/perftrust-report/deeper",
    ],
)
def test_report_into_a_folder_that_cannot_be_written_names_it_and_keeps_the_previous_report(
    db_copy: Path, tmp_path: Path, default_report: dict[str, str], where: str
) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder\n", encoding="utf-8")
    out = where.format(tmp=tmp_path)

    result = _invoke("report", "--db", str(db_copy), "--out", out)

    _assert_exit_2(
        result,
        f"error: cannot write the report into the folder {out}",
        "fix: pass --out DIR with a folder you can write (it is created if missing)",
    )
    assert _tree(_default_reports(db_copy)) == default_report  # the previous report, byte for byte
    assert not Path(out).exists()
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]


def test_report_into_proc_in_a_real_process(db_copy: Path, tmp_path: Path) -> None:
    result = _cli("report", "--db", str(db_copy), "--out", "/proc/self/perftrust-report", cwd=tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot write the report into the folder /proc/self/perftrust-report" in result.stderr
