"""First use as a newcomer meets it: where files go, what fails fast, what read-only commands leave.

Each test runs the command line as a user types it (click's runner in this process, or a real
`perftrust` process where start-up time or output order matters)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.runs import StepResult
from pipeline.store import Store
from tests.conftest import GitRepo

PERFTRUST = str(Path(sys.executable).parent / "perftrust")
QUIET_PREFECT = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".git" not in p.parts)


def _perftrust(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [PERFTRUST, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET_PREFECT, **(env or {})},
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


def test_a_subfolder_of_the_work_tree_uses_the_same_database(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("one", {"src/a.txt": "a\n"})
    monkeypatch.chdir(repo.path / "src")
    synced = CliRunner().invoke(main, ["sync", "--repo", str(repo.path)])
    assert synced.exit_code == 0, synced.output
    assert (repo.path / ".perftrust" / "perftrust.duckdb").exists()
    assert (repo.path / ".perftrust" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")
    monkeypatch.chdir(repo.path)
    listed = CliRunner().invoke(main, ["sql", "--format", "csv", "SELECT count(*) AS n FROM fct_commits"])
    assert listed.output.splitlines() == ["n", "1"]
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""


def test_a_database_left_in_the_current_folder_by_an_older_perftrust_is_kept(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("one", {"a.txt": "a\n"})
    monkeypatch.chdir(repo.path)
    assert CliRunner().invoke(main, ["sync", "--db", "perftrust.duckdb"]).exit_code == 0
    again = CliRunner().invoke(main, ["sync"])
    assert again.exit_code == 0 and "into perftrust.duckdb" in again.output, again.output
    assert not (repo.path / ".perftrust").exists()


def test_outside_a_work_tree_the_database_goes_in_the_current_folder(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("one", {"a.txt": "a\n"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(main, ["run", "--engine", "plain", "--repo", str(repo.path)])
    assert result.exit_code == 0, result.output
    assert (elsewhere / "perftrust.duckdb").exists()
    # Reports beside the database, named after it: two databases in one folder never share one.
    assert (elsewhere / "perftrust-reports" / "report.html").exists()
    assert "report perftrust-reports/report.html" in result.output


def test_run_outside_any_repository_fails_at_once_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-repo"
    folder.mkdir()
    code, output, seconds = _perftrust("run", "--engine", "prefect", cwd=folder)  # refused before Prefect
    assert code == 2, output
    assert f"the current folder {folder} is not in a git repository" in output
    assert "--repo PATH" in output and "Traceback" not in output
    assert seconds < 5, seconds  # about 0.7 s here; never Prefect's start-up
    assert _files(folder) == []


def test_every_repository_unreadable_is_refused_before_anything_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["sync", "--repo", str(tmp_path / "typo-a"), "--repo", str(tmp_path / "typo-b")]
    )
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "none of the repositories can be read" in result.output and "typo-b" in result.output
    assert _files(tmp_path) == []


def test_a_second_run_while_one_holds_the_lock_says_so_in_one_error_without_prefect(
    repo: GitRepo, tmp_path: Path
) -> None:
    repo.commit("one", {"a.txt": "a\n"})
    db = tmp_path / "team.duckdb"
    store = Store.for_settings(Settings(db_path=db))
    with store.lock("run"):
        code, output, seconds = _perftrust(
            "run", "--engine", "prefect", "--repo", str(repo.path), "--db", str(db), cwd=tmp_path
        )
    assert code == 2, output
    assert "another perftrust run is writing this database" in output
    assert "Traceback" not in output and "prefect" not in output.lower()
    assert output.count("error:") == 1
    assert seconds < 5, seconds
    assert not db.exists()


def test_the_first_line_says_what_is_happening_before_prefect_starts(repo: GitRepo, tmp_path: Path) -> None:
    """The first line comes before the temporary Prefect API is started (its start is the slow part)."""
    repo.commit("one", {"a.txt": "a\n"})
    db = tmp_path / "team.duckdb"
    proc = subprocess.Popen(
        [PERFTRUST, "run", "--engine", "prefect", "--repo", str(repo.path), "--db", str(db), "--no-report"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **QUIET_PREFECT},
    )
    assert proc.stdout is not None
    started = time.perf_counter()
    first = proc.stdout.readline()
    first_after = time.perf_counter() - started
    second = proc.stdout.readline()
    rest = proc.stdout.read()
    assert proc.wait(timeout=180) == 0, first + second + rest
    assert first.startswith(f"perftrust run: {repo.path.name} into {db}"), first
    assert second.startswith("prefect: starting a temporary Prefect API"), second
    assert first_after < 3, first_after  # about 0.5 s here; generous for a loaded CI machine
    assert "API ready after" in rest


@pytest.mark.parametrize(
    "command",
    [
        ["sql", "SELECT 1"],
        ["report"],
        ["rollback", "--list"],
        ["rollback"],
        ["metrics"],
        ["forget", "git:acme/api"],
    ],
)
def test_commands_on_a_database_that_is_not_there_create_nothing(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """In a work tree (where a writer would make .perftrust/) and with a mistyped --db alike."""
    repo.commit("one", {"a.txt": "a\n"})
    monkeypatch.chdir(repo.path)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "fix:" in result.output
    assert _files(repo.path) == ["a.txt"]
    typo = tmp_path / "typo" / "team.duckdb"
    result = CliRunner().invoke(main, [*command, "--db", str(typo)])
    assert result.exit_code == 2, result.output
    assert not typo.parent.exists()


def test_rollback_lists_by_run_marks_the_published_one_and_renders_the_report_again(
    repo: GitRepo, tmp_path: Path
) -> None:
    db = tmp_path / "team.duckdb"
    runs = []
    for i in range(3):
        repo.commit(f"c{i}", {f"f{i}.txt": f"{i}\n"})
        result = CliRunner().invoke(
            main, ["run", "--engine", "plain", "--repo", str(repo.path), "--db", str(db)]
        )
        assert result.exit_code == 0, result.output
        runs.append(result.output.split("- run ", 1)[1][:8])
    report = tmp_path / "team-reports" / "summary.md"
    assert report.exists()

    listed = CliRunner().invoke(main, ["rollback", "--list", "--db", str(db)])
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.output.splitlines() if "run " in line and "MiB" in line]
    assert [line.split("run ", 1)[1][:8] for line in lines] == runs[::-1]  # newest first, by run id
    assert lines[0].lstrip().startswith("*") and not any(line.lstrip().startswith("*") for line in lines[1:])

    before = report.read_bytes()
    rolled = CliRunner().invoke(main, ["rollback", "--db", str(db), "--to", runs[0]])
    assert rolled.exit_code == 0, rolled.output
    assert f"database of run {runs[0]}" in rolled.output and f"(run {runs[2]}) is kept" in rolled.output
    assert "rendered again" in rolled.output
    assert report.read_bytes() != before  # the report shows the database now published
    relisted = CliRunner().invoke(main, ["rollback", "--list", "--db", str(db)])
    marked = [
        line for line in relisted.output.splitlines() if line.lstrip().startswith("*") and "MiB" in line
    ]
    assert len(marked) == 1 and f"run {runs[0]}" in marked[0]
    wrong = CliRunner().invoke(main, ["rollback", "--db", str(db), "--to", "ffffffff"])
    assert wrong.exit_code == 2 and "rollback --list" in wrong.output


def test_the_run_summary_says_what_is_missing_and_the_command_that_fixes_it(
    repo: GitRepo, tmp_path: Path
) -> None:
    """A git-only repository, quiet since 2023 (the fixture's clock): the run summary says so, as the
    report's first screen does, and the suggested metrics command shows the people."""
    repo.commit("one", {"a.txt": "a\n"})
    repo.commit("two", {"b.txt": "b\n"}, author=("Bo", "bo@example.org"))
    db = tmp_path / "team.duckdb"
    result = CliRunner().invoke(main, ["run", "--engine", "plain", "--repo", str(repo.path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "note: No GitHub data" in result.output
    assert "GITHUB_TOKEN=... perftrust run --db" in result.output
    assert "Nobody was active in the window" in result.output
    suggested = next(
        line.strip() for line in result.output.splitlines() if line.strip().startswith("perftrust metrics")
    )
    assert "--as-of 2023-11-15" in suggested, suggested  # the day of the last commit (UTC)
    again = CliRunner().invoke(main, suggested.split()[1:])
    assert again.exit_code == 0, again.output
    rerun = CliRunner().invoke(main, ["run", "--engine", "plain", "--repo", str(repo.path), "--db", str(db)])
    assert "Nobody was active" in rerun.output  # `run` computes as of today again, so it says so again


def test_run_without_a_prefect_api_runs_plain_and_retries_transient_failures_as_the_flow_does(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run` with no PREFECT_API_URL (auto engine): the plain steps, no temporary Prefect API, and the
    same retries of transient failures as the flow's tasks ([nightly].retries, backoff)."""
    import pipeline.nightly

    repo.commit("one", {"a.txt": "a\n"})
    config = tmp_path / "perftrust.toml"
    config.write_text(
        f'[[repositories]]\npath = "{repo.path}"\n[nightly]\nretries = 2\nretry_delay_seconds = 0\n',
        encoding="utf-8",
    )
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delitem(sys.modules, "prefect", raising=False)  # as in a fresh process: no Prefect set up
    calls: list[int] = []
    real = pipeline.nightly.sync_unit_git

    def locked_twice(*args: Any, **kwargs: Any) -> StepResult:
        if len(calls) < 2:
            return _always_locked(calls, repo)
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline.nightly, "sync_unit_git", locked_twice)
    result = CliRunner().invoke(main, ["run", "--config", str(config), "--no-report"])
    assert result.exit_code == 0, result.output
    assert len(calls) == 3 and "succeeded" in result.output
    assert "prefect:" not in result.output  # no temporary API was started

    calls.clear()
    monkeypatch.setattr(pipeline.nightly, "sync_unit_git", lambda *a, **k: _always_locked(calls, repo))
    failed = CliRunner().invoke(main, ["run", "--config", str(config), "--no-report"])
    assert failed.exit_code == 2 and len(calls) == 3  # 1 + 2 retries; nothing synced, nothing published
    assert "still failing after retries" in failed.output


def _always_locked(calls: list[int], repo: GitRepo) -> StepResult:
    calls.append(1)
    step = StepResult("git_sync", repo.path.name)
    step.status, step.error_message, step.transient = "failed", "Unable to create index.lock", True
    return step


def test_a_prefect_api_set_in_the_active_profile_counts_as_configured(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`prefect config set PREFECT_API_URL=...` writes the active profile, not the environment:
    `run --engine auto`, `serve` and `doctor` must see it (read without importing Prefect)."""
    from flows.temporary_api import configured_api_url
    from pipeline.cli import _engine

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delitem(sys.modules, "prefect", raising=False)
    assert configured_api_url() is None and _engine("auto") == "plain"  # no profiles file at all

    # What `prefect config set PREFECT_API_URL=...` wrote (Prefect 3.8), then `prefect profile use other`.
    (tmp_path / "profiles.toml").write_text(
        'active = "ephemeral"\n\n[profiles.ephemeral]\nPREFECT_SERVER_EPHEMERAL_ENABLED = "true"\n'
        'PREFECT_API_URL = "http://127.0.0.1:4299/api"\n\n[profiles.other]\n',
        encoding="utf-8",
    )
    assert configured_api_url() == "http://127.0.0.1:4299/api"
    assert _engine("auto") == "prefect" and _engine("plain") == "plain"
    monkeypatch.setenv("PREFECT_PROFILE", "other")
    assert configured_api_url() is None and _engine("auto") == "plain"
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4300/api")  # the environment wins
    assert configured_api_url() == "http://127.0.0.1:4300/api"
    monkeypatch.delenv("PREFECT_API_URL")
    (tmp_path / "profiles.toml").write_text("active = [", encoding="utf-8")  # Prefect itself rejects it
    assert configured_api_url() is None

    # A profile's URL where nothing answers: the run says so, names the profile, and starts nothing.
    monkeypatch.delenv("PREFECT_PROFILE")
    (tmp_path / "profiles.toml").write_text(
        'active = "dev"\n[profiles.dev]\nPREFECT_API_URL = "http://127.0.0.1:9/api"\n', encoding="utf-8"
    )
    repo.commit("one", {"a.txt": "a\n"})
    result = CliRunner().invoke(main, ["run", "--repo", str(repo.path), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code != 0 and not (tmp_path / "x.duckdb").exists()
    assert "PREFECT_API_URL is set to http://127.0.0.1:9/api (in the active Prefect profile)" in result.output
