"""Nothing lost, nothing written where it must not be (issue 10), through the command line a user
types: the published database is the union of every source synced into its store; a source that
fails keeps its last good data; a run that syncs nothing publishes nothing; `forget` and `rollback`;
a damaged, vanished or re-created clone; an unshallowed clone; a full disk at each step; a shard
that cannot be opened; secrets; file modes and a symlinked --db."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

from pipeline.cli import main
from tests.support.github_scenario import Dataset, generate_dataset
from tests.support.github_server import GitHubServer
from tests.support.history import git, grow_history
from tests.support.snapshot import differences, snapshot

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "valid-token-for-tests"


def _cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _commits(db: Path) -> dict[str, int]:
    return dict(_query(db, "SELECT repo, count(*) FROM fct_commits GROUP BY repo"))


def _flat(text: str) -> str:
    return " ".join(text.split())


def _break_a_blob(repo: Path) -> None:
    """Delete the blob the newest commit wrote: `git log --numstat` then fails on that commit."""
    path = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD")
    blob = git(repo, "rev-parse", f"HEAD:{path}")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()


# ------------------------------------------------------------------------------ the union of sources


def test_each_sync_adds_its_sources_and_keeps_every_other(tmp_path: Path) -> None:
    a, b, db = tmp_path / "alpha", tmp_path / "beta", tmp_path / "team.duckdb"
    grow_history(a, 30)
    grow_history(b, 20)
    assert _cli("sync", "--repo", a, "--db", db).exit_code == 0
    assert _query(db, "SELECT count(*) FROM metric_runs") == [(0,)]  # only synced: no metrics yet
    assert _cli("metrics", "--db", db).exit_code == 0
    assert _cli("sync", "--repo", b, "--db", db).exit_code == 0
    assert _commits(db) == {"alpha": 30, "beta": 20}
    assert _query(db, "SELECT source_id, last_attempt_status FROM pipeline_sources ORDER BY 1") == [
        ("git:alpha", "succeeded"),
        ("git:beta", "succeeded"),
    ]
    # Once computed, the metric tables describe what is published (both repositories), never an older state.
    assert _query(
        db, "SELECT DISTINCT team_id FROM metric_consistency WHERE team_id LIKE 'repo:%' ORDER BY 1"
    ) == [
        ("repo:alpha",),
        ("repo:beta",),
    ]

    grow_history(a, 5)
    assert _cli("sync", "--repo", a, "--db", db).exit_code == 0
    assert _commits(db) == {"alpha": 35, "beta": 20}  # beta kept exactly as it was


def test_a_sync_in_which_nothing_could_be_synced_publishes_nothing(tmp_path: Path) -> None:
    a, db = tmp_path / "alpha", tmp_path / "team.duckdb"
    grow_history(a, 10)
    assert _cli("sync", "--repo", a, "--db", db).exit_code == 0
    before = _digest(db)
    kept = sorted((tmp_path / "team.duckdb.store" / "previous").iterdir())

    typo = _cli("sync", "--repo", tmp_path / "alpah", "--db", db)

    assert typo.exit_code == 2
    assert "nothing was published" in _flat(typo.output) and "does not exist" in typo.output
    assert _digest(db) == before
    assert sorted((tmp_path / "team.duckdb.store" / "previous").iterdir()) == kept
    assert not list((tmp_path / "team.duckdb.store" / "shards").glob("alpah*"))  # no shard for a typo


def test_a_failing_source_keeps_its_last_good_data_and_says_so(tmp_path: Path) -> None:
    a, b, db = tmp_path / "alpha", tmp_path / "beta", tmp_path / "team.duckdb"
    grow_history(a, 10)
    grow_history(b, 10)
    assert _cli("sync", "--repo", a, "--repo", b, "--db", db).exit_code == 0
    synced_at = _query(db, "SELECT last_synced_at FROM pipeline_sources WHERE source_id = 'git:beta'")
    grow_history(a, 3)
    grow_history(b, 4)
    _break_a_blob(b)

    result = _cli("sync", "--repo", a, "--repo", b, "--db", db)

    assert result.exit_code == 1
    said = _flat(result.output)
    assert "git could not read the history" in said and "fsck" in said
    assert "its data from the last good sync stays published" in said
    assert _commits(db) == {"alpha": 13, "beta": 10}
    assert _query(
        db,
        "SELECT last_attempt_status, last_error_message LIKE '%fsck%', last_synced_at FROM pipeline_sources "
        "WHERE source_id = 'git:beta'",
    ) == [("failed", True, synced_at[0][0])]


def test_git_and_github_of_one_repository_are_independent_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    dataset: Dataset = generate_dataset(11, repos=1, issues=20, prs=6)
    full_name = dataset.repositories[0].full_name
    clone, db = tmp_path / "clone", tmp_path / "team.duckdb"
    grow_history(clone, 25, remote=f"https://github.com/{full_name}.git")
    assert _cli("sync", "--repo", clone, "--db", db).exit_code == 0
    assert _cli("metrics", "--db", db).exit_code == 0
    with GitHubServer(dataset, quota=10**9, tokens={TOKEN}) as server:
        result = _cli("sync", "--github", full_name, "--github-url", server.base_url, "--db", db)
    assert result.exit_code == 0, result.output
    assert _commits(db) == {full_name: 25}  # the git source is kept
    assert _query(db, "SELECT count(*) > 0 FROM raw_github__issues") == [(True,)]
    assert _query(db, "SELECT source_id FROM pipeline_sources ORDER BY 1") == [
        (f"git:{full_name}",),
        (f"github:{full_name}",),
    ]
    # Metrics recomputed from both sources: pull requests now count.
    assert _query(db, "SELECT sum(count_prs_resolved) > 0 FROM metric_follow_through WHERE team_id = 'all'")[
        0
    ][0]


def test_forget_removes_a_source_and_rollback_brings_it_back(tmp_path: Path) -> None:
    a, b, db = tmp_path / "alpha", tmp_path / "beta", tmp_path / "team.duckdb"
    grow_history(a, 10)
    grow_history(b, 20)
    assert (
        _cli("run", "--engine", "plain", "--no-report", "--repo", a, "--repo", b, "--db", db).exit_code == 0
    )
    assert _query(db, "SELECT count(*) > 0 FROM metric_consistency WHERE team_id = 'repo:beta'") == [(True,)]

    unknown = _cli("forget", "git:gamma", "--db", db)
    assert unknown.exit_code == 2 and "git:alpha" in unknown.output and "git:beta" in unknown.output

    forgot = _cli("forget", "git:beta", "--db", db)
    assert forgot.exit_code == 0, forgot.output
    assert "git:beta" in forgot.output and "rollback" in forgot.output
    assert _commits(db) == {"alpha": 10}
    assert _query(db, "SELECT count(*) FROM dim_repositories WHERE repo = 'beta'") == [(0,)]
    assert _query(db, "SELECT count(*) FROM metric_consistency WHERE team_id = 'repo:beta'") == [(0,)]

    grow_history(a, 2)
    assert _cli("sync", "--repo", a, "--db", db).exit_code == 0
    assert _commits(db) == {"alpha": 12}  # a forgotten source stays out of later runs

    assert _cli("rollback", "--db", db).exit_code == 0  # undoes the sync
    assert _cli("rollback", "--db", db, "--to", _previous_before_forget(db)).exit_code == 0
    assert _commits(db) == {"alpha": 10, "beta": 20}
    assert _cli("sync", "--repo", a, "--db", db).exit_code == 0
    assert _commits(db) == {"alpha": 12, "beta": 20}  # back in the union after the rollback


def _previous_before_forget(db: Path) -> str:
    """The kept database of the first run (its history holds that one run only)."""
    for path in sorted((db.parent / f"{db.name}.store" / "previous").glob("*.duckdb")):
        if _query(path, "SELECT command FROM pipeline_runs") == [("run",)]:
            return path.name
    raise AssertionError("the first database is not kept")


# ------------------------------------------------------------------------- damaged or changed clones


@pytest.mark.parametrize("engine", ["sync", "run-plain"])
def test_a_damaged_clone_fails_alone_with_gits_words_and_the_fix(tmp_path: Path, engine: str) -> None:
    good, damaged, gone, db = (
        tmp_path / "good",
        tmp_path / "damaged",
        tmp_path / "gone",
        tmp_path / "t.duckdb",
    )
    grow_history(good, 12)
    grow_history(damaged, 12)
    grow_history(gone, 5)
    _break_a_blob(damaged)
    shutil.rmtree(gone)
    command = ["sync"] if engine == "sync" else ["run", "--engine", "plain", "--no-report"]

    result = _cli(*command, "--repo", good, "--repo", damaged, "--repo", gone, "--db", db)

    assert result.exit_code == 1, result.output
    said = _flat(result.output)
    assert "Traceback" not in result.output
    assert "git could not read the history of" in said and "unable to read" in said
    assert f"git -C {damaged} fsck" in said and "clone it again" in said
    assert "does not exist" in said
    assert _commits(db) == {"good": 12}


def test_a_shallow_clone_is_backfilled_once_unshallowed(tmp_path: Path) -> None:
    origin, clone, db = tmp_path / "origin", tmp_path / "clone", tmp_path / "t.duckdb"
    grow_history(origin, 40)
    subprocess.run(["git", "clone", "-q", "--depth", "5", f"file://{origin}", str(clone)], check=True)
    shallow = _cli("sync", "--repo", clone, "--db", db)
    assert shallow.exit_code == 0 and "shallow clone" in shallow.output
    assert _commits(db) == {"clone": 5}

    git(clone, "fetch", "-q", "--unshallow")
    assert _cli("sync", "--repo", clone, "--db", db).exit_code == 0

    fresh = tmp_path / "fresh.duckdb"
    assert _cli("sync", "--repo", clone, "--db", fresh).exit_code == 0
    assert _commits(db) == {"clone": 40}
    assert differences(snapshot(db), snapshot(fresh)) == []


def test_a_clone_recreated_with_another_history_holds_only_that_history(tmp_path: Path) -> None:
    repo, db = tmp_path / "repo", tmp_path / "t.duckdb"
    grow_history(repo, 30)
    assert _cli("sync", "--repo", repo, "--db", db).exit_code == 0
    shutil.rmtree(repo)
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "new.txt").write_text("another project\n", encoding="utf-8")
    git(repo, "add", "new.txt")
    git(repo, "-c", "user.name=Eve", "-c", "user.email=eve@example.org", "commit", "-q", "-m", "start over")

    result = _cli("sync", "--repo", repo, "--db", db)

    assert result.exit_code == 0 and "were removed" in _flat(result.output)
    fresh = tmp_path / "fresh.duckdb"
    assert _cli("sync", "--repo", repo, "--db", fresh).exit_code == 0
    assert _commits(db) == {"repo": 1}
    assert differences(snapshot(db), snapshot(fresh)) == []


# ------------------------------------------------------------------------------ full disk, bad shards

DISK_FULL_AT = """
import errno, resource, sys
from pathlib import Path
import duckdb
import pipeline.nightly, pipeline.store
from pipeline.cli import main

stage, limit = sys.argv[1], int(sys.argv[2])

def no_room(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")

def duckdb_no_room(*args, **kwargs):
    raise duckdb.IOException('Could not write file "build.duckdb": No space left on device')

if stage == "shard":  # a real limit: every file the run writes may grow to `limit` bytes at most
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
elif stage == "build":  # copying the published database into build/
    pipeline.store.shutil.copyfile = no_room
elif stage == "metrics":
    pipeline.nightly.compute = duckdb_no_room
elif stage == "publish":  # the new file is complete; keeping the replaced one fails
    pipeline.store.os.link = no_room
    pipeline.store.shutil.copy2 = no_room
main(sys.argv[3:])
"""


@pytest.mark.parametrize("stage", ["shard", "build", "metrics", "publish"])
def test_a_full_disk_at_any_step_says_so_and_blocks_nothing(tmp_path: Path, stage: str) -> None:
    repo, db = tmp_path / "repo", tmp_path / "t.duckdb"
    grow_history(repo, 40)
    assert _cli("sync", "--repo", repo, "--db", db).exit_code == 0
    assert _cli("metrics", "--db", db).exit_code == 0  # so that each sync recomputes them
    before = _digest(db)
    grow_history(repo, 4000)
    new = tmp_path / "new"
    grow_history(new, 4000)  # a first sync of another repository: its shard is new

    full = subprocess.run(
        [sys.executable, "-c", DISK_FULL_AT, stage, str(200 * 1024), "sync", "--repo", str(repo), "--repo",
         str(new), "--db", str(db)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    said = _flat(full.stderr)
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr
    assert "the disk ran out of room" in said and "the published database is untouched" in said, said
    assert "free space" in said and "store_dir" in said  # the fix
    assert _digest(db) == before
    leftovers = list((tmp_path / "t.duckdb.store" / "build").iterdir()) + list(tmp_path.glob(".t.duckdb.*"))
    assert leftovers == [] or stage == "shard"  # a half-built file is removed (the next run clears it)

    again = _cli("sync", "--repo", repo, "--repo", new, "--db", db)  # room again
    assert again.exit_code == 0, again.output
    assert _commits(db) == {"repo": 4040, "new": 4000}
    fresh = tmp_path / "fresh.duckdb"
    assert _cli("sync", "--repo", repo, "--repo", new, "--db", fresh).exit_code == 0
    assert differences(snapshot(db), snapshot(fresh)) == []


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage"])
def test_a_shard_that_cannot_be_opened_is_moved_aside_and_rebuilt(tmp_path: Path, damage: str) -> None:
    repo, db = tmp_path / "repo", tmp_path / "t.duckdb"
    grow_history(repo, 300)
    assert _cli("sync", "--repo", repo, "--db", db).exit_code == 0
    (shard,) = (tmp_path / "t.duckdb.store" / "shards").glob("*.duckdb")
    content = shard.read_bytes()
    shard.write_bytes(
        {
            "empty": b"",
            "truncated": content[: len(content) // 3],
            "garbage": b"\0" * 8 + b"DUCK" + b"\1" * 5000,
        }[damage]
    )
    grow_history(repo, 7)

    result = _cli("sync", "--repo", repo, "--db", db)

    assert result.exit_code == 0, result.output
    said = _flat(result.output)
    assert "could not be opened" in said and "moved to" in said and "loaded again" in said
    assert "Traceback" not in result.output
    assert _commits(db) == {"repo": 307}
    (aside,) = (tmp_path / "t.duckdb.store" / "broken").iterdir()  # kept, never deleted
    assert aside.stat().st_size == len(shard.read_bytes()) or aside.read_bytes() != shard.read_bytes()


# ------------------------------------------------------------------------------------------- secrets


def test_credentials_in_the_github_url_are_refused_before_anything_runs(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    for command in (["sync"], ["run", "--engine", "plain"], ["run"]):
        result = _cli(
            *command, "--github", "octo/api", "--github-url", "https://me:s3cretpass@ghe.example.com/api/v3",
            "--db", db,
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        assert "carries credentials" in _flat(result.output) and "GITHUB_TOKEN" in result.output
        assert "s3cretpass" not in result.output
    config = tmp_path / "perftrust.toml"
    config.write_text('[github]\nurl = "https://x-access-token:s3cretpass@ghe.example.com/api/v3"\n')
    for command in (["sync"], ["doctor"], ["report"]):
        result = _cli(*command, "--config", config)
        assert result.exit_code == 2 and "[github].url carries credentials" in _flat(result.output)
        assert "s3cretpass" not in result.output
    assert not db.exists()


def test_a_token_in_a_git_error_never_reaches_the_summary_or_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "ghp_" + "A1b2C3d4" * 5
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    good, db = tmp_path / "good", tmp_path / "t.duckdb"
    grow_history(good, 5)
    bad = tmp_path / f"clone-{secret}"  # a path carrying the token: git's message repeats it
    bad.mkdir()
    result = _cli("sync", "--repo", good, "--repo", bad, "--db", db)
    assert result.exit_code == 1
    assert secret not in result.output and "***" in result.output
    everything = json.dumps(_query(db, "SELECT * FROM pipeline_run_steps"), default=str)
    assert secret not in everything and "***" in everything


# ----------------------------------------------------------------------------- modes and symlinks


def test_the_mode_an_operator_set_survives_every_publish(tmp_path: Path) -> None:
    repo, db = tmp_path / "repo", tmp_path / "t.duckdb"
    grow_history(repo, 10)
    assert _cli("sync", "--repo", repo, "--db", db).exit_code == 0
    os.chmod(db, 0o600)
    grow_history(repo, 2)
    for command in (["sync", "--repo", repo], ["metrics"], ["forget", "git:repo"], ["rollback"]):
        assert _cli(*command, "--db", db).exit_code == 0, command
        assert stat.S_IMODE(db.stat().st_mode) == 0o600, command


def test_the_mode_an_operator_set_on_the_report_survives_the_next_report(tmp_path: Path) -> None:
    repo, db, out = tmp_path / "repo", tmp_path / "t.duckdb", tmp_path / "report"
    grow_history(repo, 10)
    assert _cli("run", "--engine", "plain", "--no-report", "--repo", repo, "--db", db).exit_code == 0
    assert _cli("report", "--db", db, "--out", out).exit_code == 0
    private = [out / "report.html", out / "summary.md", *sorted((out / "csv").glob("*.csv"))[:2]]
    for path in private:
        os.chmod(path, 0o600)
    public = out / "csv" / "metric_ownership.csv"
    os.chmod(public, 0o644)

    assert _cli("report", "--db", db, "--out", out).exit_code == 0

    assert [stat.S_IMODE(p.stat().st_mode) for p in private] == [0o600] * len(private)
    assert stat.S_IMODE(public.stat().st_mode) == 0o644


def test_a_symlinked_db_is_followed(tmp_path: Path) -> None:
    repo, real = tmp_path / "repo", tmp_path / "data" / "real.duckdb"
    real.parent.mkdir()
    grow_history(repo, 10)
    assert _cli("sync", "--repo", repo, "--db", real).exit_code == 0
    link = tmp_path / "link.duckdb"
    link.symlink_to(real)
    grow_history(repo, 3)

    assert _cli("sync", "--repo", repo, "--db", link).exit_code == 0

    assert link.is_symlink() and link.resolve() == real
    assert _commits(real) == {"repo": 13}
    assert not (tmp_path / "link.duckdb.store").exists()  # one store, beside the real file
    assert (real.parent / "real.duckdb.store" / "previous").is_dir()
