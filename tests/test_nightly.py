"""The nightly run without Prefect: shards, an atomically published database, the run lock,
rollback, and the faults (SIGKILL, disk full, two runs at once, readers during a run)."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.config import RepositoryConfig, Settings, settings_from_dict
from pipeline.errors import ConfigError
from pipeline.git_repo import RepoSpec
from pipeline.nightly import RunOutcome, run_plain
from pipeline.store import DiskFull, RunLock, Store, StoreError
from tests.support.history import grow_history

ROOT = Path(__file__).resolve().parent.parent


def _settings(tmp_path: Path, *repos: Path, **extra: Any) -> Settings:
    return Settings(
        db_path=tmp_path / "perftrust.duckdb",
        repositories=tuple(RepositoryConfig(RepoSpec(r)) for r in repos),
        **extra,
    )


def _run(settings: Settings, command: str = "sync", **kwargs: Any) -> RunOutcome:
    as_of = "2026-11-01" if command == "run" else None
    return run_plain(settings, command, Store.for_settings(settings), as_of, command != "run", **kwargs)


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_run_publishes_a_new_file_and_keeps_the_previous_one(tmp_path: Path) -> None:
    a, b = tmp_path / "alpha", tmp_path / "beta"
    grow_history(a, 30)
    grow_history(b, 20)
    settings = _settings(tmp_path, a, b, keep_previous=2)
    store = Store.for_settings(settings)

    first = _run(settings, "run")
    assert first.status == "succeeded" and first.kept_previous is None
    assert _query(
        settings.db_path, "SELECT repo, count(*) FROM raw_git__commits GROUP BY repo ORDER BY repo"
    ) == [
        ("alpha", 30),
        ("beta", 20),
    ]
    assert _query(settings.db_path, "SELECT count(*) > 0 FROM metric_consistency") == [(True,)]
    inode = settings.db_path.stat().st_ino

    grow_history(a, 5)
    second = _run(settings)  # sync: no metrics computed, the last ones are carried over
    assert [(s.repo, s.status, s.count_rows_added) for s in second.steps] == [
        ("alpha", "succeeded", 5),
        ("beta", "unchanged", 0),
    ]
    assert settings.db_path.stat().st_ino != inode  # a new file, not the old one written in place
    assert second.kept_previous is not None and second.kept_previous.stat().st_ino == inode
    assert _query(settings.db_path, "SELECT count(*) FROM raw_git__commits") == [(55,)]
    assert _query(settings.db_path, "SELECT count(*) > 0 FROM metric_consistency") == [(True,)]
    assert _query(
        settings.db_path, "SELECT command, status, count_rows_added FROM pipeline_runs ORDER BY started_at"
    ) == [
        ("run", "succeeded", 50),
        ("sync", "succeeded", 5),
    ]
    # The shards hold each repository's raw data; nothing half-built is left behind.
    assert sorted(p.name.split("-")[0] for p in store.shards.iterdir() if p.suffix == ".duckdb") == [
        "alpha",
        "beta",
    ]
    assert list(store.builds.iterdir()) == []

    _run(settings)
    _run(settings)
    assert len(store.previous_files()) == 2  # keep_previous


@pytest.mark.skipif(
    not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == os.stat(tempfile.gettempdir()).st_dev,
    reason="needs /dev/shm on another file system than the temporary folder",
)
def test_a_store_on_another_file_system_still_publishes_atomically(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    grow_history(repo, 6)
    elsewhere = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="perftrust-store-"))
    try:
        settings = _settings(tmp_path, repo, store_dir=elsewhere)
        _run(settings)
        grow_history(repo, 4)
        outcome = _run(settings)
        assert outcome.status == "succeeded" and outcome.kept_previous is not None
        assert _query(settings.db_path, "SELECT count(*) FROM raw_git__commits") == [(10,)]
        assert _query(outcome.kept_previous, "SELECT count(*) FROM raw_git__commits") == [(6,)]
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    finally:
        shutil.rmtree(elsewhere)


def test_one_failing_repository_is_reported_and_the_others_publish(tmp_path: Path) -> None:
    good = tmp_path / "good"
    grow_history(good, 10)
    settings = _settings(tmp_path, good, tmp_path / "missing")
    outcome = _run(settings)
    assert outcome.status == "partial"
    failed = [s for s in outcome.steps if s.status == "failed"]
    assert len(failed) == 1 and "does not exist" in (failed[0].error_message or "")
    assert _query(settings.db_path, "SELECT count(*) FROM raw_git__commits") == [(10,)]
    assert _query(
        settings.db_path, "SELECT repo, status FROM pipeline_run_steps WHERE status = 'failed'"
    ) == [("missing", "failed")]  # the key it would have had; the message names the path


# --------------------------------------------------------------------------------------- the lock

HOLD_LOCK = """
import sys, time
from pathlib import Path
from pipeline.store import RunLock
with RunLock(Path(sys.argv[1]), "run"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_lock(lock: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock), str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_run_exits_with_a_clear_message_or_waits(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    grow_history(repo, 5)
    settings = _settings(tmp_path, repo)
    store = Store.for_settings(settings)
    holder = _hold_lock(store.lock_path, 30)
    try:
        with pytest.raises(StoreError) as refused:
            _run(settings)
        assert f"process {holder.pid}" in str(refused.value) and "--wait" in str(refused.value)
        assert not settings.db_path.exists()

        result = CliRunner().invoke(main, ["sync", "--repo", str(repo), "--db", str(settings.db_path)])
        assert result.exit_code == 2 and "another perftrust run is writing" in result.output
    finally:
        holder.kill()
        holder.wait()

    queued = _hold_lock(store.lock_path, 1.0)
    started = time.monotonic()
    outcome = _run(settings, wait_seconds=30)
    assert time.monotonic() - started >= 0.5 and outcome.status == "succeeded"
    queued.wait()


# ------------------------------------------------------------------------------------- SIGKILL

KILL_AT = """
import os, signal, sys
from pathlib import Path
import pipeline.git_sync, pipeline.nightly, pipeline.store
from pipeline.config import RepositoryConfig, Settings
from pipeline.git_repo import RepoSpec
from pipeline.nightly import run_plain
from pipeline.store import Store

stage, db, repo = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if stage == "sync":  # half-way through loading the shard: after two batches
    real = pipeline.git_sync.extract_commits
    def extract_then_die(*args, **kwargs):
        for n, table in enumerate(real(*args, **kwargs), start=1):
            yield table
            if n == 2:
                die()
    pipeline.git_sync.extract_commits = extract_then_die
elif stage == "metrics":  # the new database is assembled in build/, metrics not yet computed
    pipeline.nightly.compute = die
elif stage == "publish":  # everything written, the rename not yet done
    pipeline.store.os.replace = die
settings = Settings(db_path=db, repositories=(RepositoryConfig(RepoSpec(repo)),), git_workers=1)
run_plain(settings, "run", Store.for_settings(settings), "2026-11-01")
"""


@pytest.mark.parametrize("stage", ["sync", "metrics", "publish"])
def test_killed_mid_run_leaves_the_published_database_untouched(tmp_path: Path, stage: str) -> None:
    repo = tmp_path / "repo"
    grow_history(repo, 200)
    settings = _settings(tmp_path, repo, git_workers=1)
    _run(settings, "run")
    before = _digest(settings.db_path)
    grow_history(repo, 12_000)  # > 2 batches of 5,000

    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT, stage, str(settings.db_path), str(repo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _digest(settings.db_path) == before
    assert _query(settings.db_path, "SELECT count(*) FROM raw_git__commits") == [(200,)]

    outcome = _run(settings, "run")  # the next run completes: no lock left, no half-built file in the way
    assert outcome.status == "succeeded"
    assert _query(settings.db_path, "SELECT count(*), count(DISTINCT sha) FROM raw_git__commits") == [
        (12_200, 12_200)
    ]
    assert list(Store.for_settings(settings).builds.iterdir()) == []


# ----------------------------------------------------------------------------------- disk full


def _limit_file_size(limit: int) -> None:
    # The kernel then fails writes past `limit` bytes with EFBIG, as a full disk fails them with
    # ENOSPC; SIGXFSZ would kill the process instead of letting it report the error.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_disk_full_while_writing_leaves_the_published_database_and_says_so(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    grow_history(repo, 50)
    settings = _settings(tmp_path, repo)
    _run(settings)
    before = _digest(settings.db_path)
    grow_history(repo, 3000)

    full = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "sync", "--repo", str(repo), "--db", str(settings.db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: _limit_file_size(256 * 1024),
    )
    assert full.returncode == 2, full.stderr
    message = " ".join(full.stderr.split())
    assert "ran out of room" in message and "published database is untouched" in message
    assert "store_dir" in message  # the fix
    assert "Traceback" not in full.stderr
    assert _digest(settings.db_path) == before

    assert _run(settings).status == "succeeded"  # room again: the next run completes
    assert _query(settings.db_path, "SELECT count(*) FROM raw_git__commits") == [(3050,)]


def test_a_build_that_cannot_fit_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    grow_history(repo, 5)
    settings = _settings(tmp_path, repo)
    _run(settings)
    before = _digest(settings.db_path)
    monkeypatch.setattr(
        "pipeline.store.shutil.disk_usage", lambda _path: type("U", (), {"free": 1024 * 1024})()
    )
    with pytest.raises(DiskFull, match="only 1 MiB free"):
        _run(settings)
    assert _digest(settings.db_path) == before


# ------------------------------------------------------------------------- readers during a run

READER = """
import json, sys, time
from pathlib import Path
import duckdb
db, stop = sys.argv[1], Path(sys.argv[2])
seen, errors, count = set(), [], 0
while not stop.exists() or count < 3:
    try:
        with duckdb.connect(db, read_only=True) as con:
            row = con.execute('''SELECT (SELECT count(*) FROM raw_git__commits),
                                        (SELECT max(run_id ORDER BY started_at) FROM pipeline_runs),
                                        (SELECT count(*) FROM pipeline_runs WHERE status <> 'succeeded'),
                                        (SELECT count(*) FROM metric_consistency)''').fetchall()[0]
        seen.add(row)
    except Exception as exc:
        errors.append(repr(exc))
    count += 1
print(json.dumps({"seen": sorted(seen), "errors": errors[:5], "count": count}))
"""


@pytest.mark.usefixtures("prefect_api")
def test_readers_never_fail_and_see_the_old_or_the_new_state_during_a_nightly_run(tmp_path: Path) -> None:
    """A reader process queries in a loop while the real nightly flow (Prefect) runs."""
    repo = tmp_path / "repo"
    grow_history(repo, 500)
    settings = _settings(tmp_path, repo)
    _run(settings, "run")
    state = "SELECT (SELECT count(*) FROM raw_git__commits), (SELECT max(run_id ORDER BY started_at) FROM pipeline_runs), (SELECT count(*) FROM pipeline_runs WHERE status <> 'succeeded'), (SELECT count(*) FROM metric_consistency)"
    before = _query(settings.db_path, state)[0]
    grow_history(repo, 20_000)

    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.db_path), str(stop)], stdout=subprocess.PIPE, text=True
    )
    from flows.nightly import nightly

    outcome = nightly(
        db_path=str(settings.db_path), repos=[str(repo)], as_of="2026-11-01", render_report=False
    )
    stop.touch()
    out, _ = reader.communicate(timeout=60)
    after = _query(settings.db_path, state)[0]
    report = json.loads(out)

    assert outcome["status"] == "succeeded" and after[0] == 20_500
    assert report["errors"] == []
    assert report["count"] > 20
    assert {tuple(s) for s in report["seen"]} <= {tuple(before), tuple(after)}
    assert {tuple(before), tuple(after)} <= {tuple(s) for s in report["seen"]}


# ------------------------------------------------------------------------------------- rollback


def test_rollback_publishes_the_previous_database_and_can_be_undone(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    grow_history(repo, 10)
    db = tmp_path / "perftrust.duckdb"
    sync = ["sync", "--repo", str(repo), "--db", str(db)]
    assert CliRunner().invoke(main, sync).exit_code == 0
    grow_history(repo, 7)
    assert CliRunner().invoke(main, sync).exit_code == 0
    assert _query(db, "SELECT count(*) FROM raw_git__commits") == [(17,)]

    listed = CliRunner().invoke(main, ["rollback", "--db", str(db), "--list"])
    assert listed.exit_code == 0 and "sync     succeeded" in listed.output, listed.output
    rolled = CliRunner().invoke(main, ["rollback", "--db", str(db)])
    assert rolled.exit_code == 0, rolled.output
    assert _query(db, "SELECT count(*) FROM raw_git__commits") == [(10,)]
    undone = CliRunner().invoke(main, ["rollback", "--db", str(db)])
    assert undone.exit_code == 0
    assert _query(db, "SELECT count(*) FROM raw_git__commits") == [(17,)]

    nothing = CliRunner().invoke(main, ["rollback", "--db", str(tmp_path / "other.duckdb")])
    assert nothing.exit_code == 2 and "no previous one" in nothing.output


def test_sql_reads_while_a_run_holds_the_lock(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    grow_history(repo, 4)
    settings = _settings(tmp_path, repo)
    _run(settings)
    with RunLock(Store.for_settings(settings).lock_path, "run"):
        result = CliRunner().invoke(
            main, ["sql", "--db", str(settings.db_path), "SELECT count(*) FROM fct_commits"]
        )
    assert result.exit_code == 0 and "4" in result.output


# ------------------------------------------------------------------------------------ configuration


def test_nightly_configuration_is_validated(tmp_path: Path) -> None:
    source = tmp_path / "perftrust.toml"
    settings = settings_from_dict(
        {
            "database": {"path": "data/p.duckdb", "store_dir": "store", "keep_previous": 5},
            "github": {
                "organizations": ["acme", {"name": "big", "include": ["svc-*"], "exclude": ["*-archive"]}]
            },
            "teams": {"platform": ["octocat", "ada@example.org"]},
            "reports": {"output_dir": "out", "pseudonymize": True},
            "nightly": {
                "cron": "30 3 * * 1-5",
                "timezone": "Europe/Berlin",
                "concurrency": 8,
                "task_runner": "dask",
            },
        },
        source,
    )
    assert settings.db_path == tmp_path / "data/p.duckdb" and settings.store_path == tmp_path / "store"
    assert settings.keep_previous == 5 and settings.teams == {"platform": ("octocat", "ada@example.org")}
    acme, big = settings.github.organizations
    assert acme.wants("acme/anything")
    assert big.wants("big/svc-api") and not big.wants("big/svc-api-archive") and not big.wants("big/web")
    assert settings.reports.output_dir == tmp_path / "out" and settings.reports.pseudonymize
    assert settings.nightly.cron == "30 3 * * 1-5" and settings.nightly.concurrency == 8
    assert Settings(db_path=tmp_path / "x.duckdb").store_path == tmp_path / "x.duckdb.store"

    bad: list[tuple[dict[str, Any], str]] = [
        ({"nightly": {"cron": "every night"}}, "not a cron expression"),
        ({"nightly": {"task_runner": "spark"}}, "task_runner"),
        ({"nightly": {"concurrency": 0}}, "concurrency must be 1 or more"),
        ({"nightly": {"schedule": "0 2 * * *"}}, "unknown key [nightly].schedule"),
        (
            {"github": {"organizations": [{"name": "acme", "exlude": ["x"]}]}},
            "unknown key [github.organizations[0]].exlude",
        ),
        ({"teams": {"platform": []}}, "[teams].platform must be a non-empty list"),
        ({"database": {"keep_previous": -1}}, "keep_previous must be 0 or more"),
        ({"nightly": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
    ]
    for data, message in bad:
        with pytest.raises(ConfigError) as error:
            settings_from_dict(data, source)
        assert message in str(error.value), (data, str(error.value))
        assert error.value.fix


def test_summary_json_has_no_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token is read where requests are made; it is never a parameter, so never in run records."""
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secretsecretsecret")
    repo = tmp_path / "repo"
    grow_history(repo, 3)
    settings = _settings(tmp_path, repo)
    outcome = _run(settings)
    assert "ghp_secret" not in json.dumps([vars(s) for s in outcome.steps], default=str)
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            dump = json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str)
            assert "ghp_secret" not in dump, table


def test_the_flow_module_needs_no_network_settings() -> None:
    script = textwrap.dedent(
        """
        import os
        os.environ.pop("PREFECT_SERVER_ANALYTICS_ENABLED", None)
        os.environ.pop("DO_NOT_TRACK", None)
        import flows.nightly
        print(os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"], os.environ["DO_NOT_TRACK"])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    )
    assert out.stdout.split() == ["false", "1"]


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_killing_a_real_nightly_run_leaves_no_server_and_the_next_run_completes(tmp_path: Path) -> None:
    """`perftrust run` (the Prefect flow with its temporary API) killed with SIGKILL while it syncs."""
    repo = tmp_path / "repo"
    grow_history(repo, 100)
    settings = _settings(tmp_path, repo)
    _run(settings, "run")
    before = _digest(settings.db_path)
    grow_history(repo, 40_000)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "run",
            "--repo",
            str(repo),
            "--db",
            str(settings.db_path),
            "--no-report",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shard = next(Store.for_settings(settings).shards.glob("*.duckdb"))
    wal = Path(str(shard) + ".wal")
    deadline = time.monotonic() + 120
    while not wal.exists() and time.monotonic() < deadline:  # the git task is writing the shard
        assert run.poll() is None
        time.sleep(0.05)
    assert wal.exists(), "the run never started syncing"
    servers = _children(run.pid)
    assert servers, "no temporary Prefect API process"
    run.send_signal(signal.SIGKILL)
    run.wait()

    assert _digest(settings.db_path) == before
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in servers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in servers), "the temporary Prefect API outlived perftrust run"

    outcome = _run(settings, "run")
    assert outcome.status == "succeeded"
    assert _query(settings.db_path, "SELECT count(*), count(DISTINCT sha) FROM raw_git__commits") == [
        (40_100, 40_100)
    ]


def test_each_run_records_its_duration(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    grow_history(repo, 5)
    settings = _settings(tmp_path, repo)
    _run(settings)
    ((seconds, span),) = _query(
        settings.db_path,
        "SELECT duration_seconds, date_diff('millisecond', started_at, finished_at) / 1000.0 FROM pipeline_runs",
    )
    assert 0 < seconds == pytest.approx(span, abs=0.01) and seconds < 60


def test_two_clones_with_the_same_key_are_reported_not_silently_merged(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "app", tmp_path / "b" / "app"
    grow_history(first, 4)
    grow_history(second, 6)
    settings = _settings(tmp_path, first, second)
    outcome = _run(settings)
    assert outcome.status == "partial"
    (failed,) = [s for s in outcome.steps if s.status == "failed"]
    assert "are both the repository app" in (failed.error_message or "") and "NAME=PATH" in (
        failed.error_message or ""
    )
    assert _query(settings.db_path, "SELECT count(*) FROM raw_git__commits") == [(4,)]


def test_a_first_sync_starts_git_before_the_shard_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first sync's git processes run while DuckDB loads and the shard is made (the head start);
    the shard then holds exactly what a sync without the head start loads, and a later sync (the
    shard exists) reads incrementally as before."""
    import pipeline.git_sync
    import pipeline.nightly

    repo = tmp_path / "repo"
    grow_history(repo, 120)
    with_head = _settings(tmp_path / "a", repo, git_workers=2)
    (tmp_path / "a").mkdir()
    outcome = _run(with_head)
    (step,) = [s for s in outcome.steps if s.step == "git_sync"]
    assert step.details.get("git_started_before_shard") is True
    assert step.count_rows_added == 120

    monkeypatch.setattr(pipeline.nightly, "start_head", lambda *a, **k: pipeline.git_sync.HeadStart(a[0], []))
    without = _settings(tmp_path / "b", repo, git_workers=2)
    (tmp_path / "b").mkdir()
    (plain,) = [s for s in _run(without).steps if s.step == "git_sync"]
    assert "git_started_before_shard" not in plain.details
    columns = "* EXCLUDE (run_id, extracted_at)"
    assert _query(with_head.db_path, f"SELECT {columns} FROM raw_git__commits ORDER BY sha") == _query(
        without.db_path, f"SELECT {columns} FROM raw_git__commits ORDER BY sha"
    )
    monkeypatch.undo()

    grow_history(repo, 5)
    (again,) = [s for s in _run(with_head).steps if s.step == "git_sync"]
    assert again.count_rows_added == 5 and "git_started_before_shard" not in again.details


def test_the_command_line_starts_without_duckdb_pyarrow_or_polars() -> None:
    """git starts before the heavy imports (a first sync's head start needs them not imported yet)."""
    code = "import sys, pipeline.cli; print(sorted({'duckdb', 'pyarrow', 'polars'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
