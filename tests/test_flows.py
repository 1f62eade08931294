"""The nightly Prefect flow, run for real against a temporary Prefect API: git + GitHub per
repository, retries of transient failures only, failures kept apart, the run record and the
Markdown artifact, and the per-repository tasks on a Dask LocalCluster."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import pipeline.nightly
from flows.nightly import nightly
from pipeline.runs import StepResult
from tests.support.github_scenario import Dataset, generate_dataset
from tests.support.github_server import GitHubServer
from tests.support.history import git, grow_history

pytestmark = pytest.mark.usefixtures("prefect_api")
TOKEN = "valid-token"


def _query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "perftrust.toml"
    path.write_text(f'[database]\npath = "perftrust.duckdb"\n{body}', encoding="utf-8")
    return path


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Dataset, GitHubServer]]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    dataset = generate_dataset(5, repos=1, issues=40, prs=12)
    with GitHubServer(dataset, quota=10**9) as server:
        yield dataset, server
        assert server.errors == []


def test_git_and_github_of_one_repository_land_together(
    tmp_path: Path, github: tuple[Dataset, GitHubServer]
) -> None:
    dataset, server = github
    full_name = dataset.repositories[0].full_name
    clone = tmp_path / "clone"
    grow_history(clone, 40, remote=f"https://github.com/{full_name}.git")
    config = _config(
        tmp_path,
        f'[[repositories]]\npath = "clone"\n[github]\nurl = "{server.base_url}"\nrepositories = ["{full_name}"]\n',
    )

    outcome = nightly(config_path=str(config), as_of="2026-11-01", render_report=False)

    db = tmp_path / "perftrust.duckdb"
    assert outcome["status"] == "succeeded", [s["error_message"] for s in outcome["steps"]]
    assert [(s["step"], s["repo"]) for s in outcome["steps"]] == [
        ("git_sync", full_name),
        ("github_sync", full_name),
    ]
    # One repository key for both sources, so commits, issues and identities join up.
    assert _query(db, "SELECT DISTINCT repo FROM raw_git__commits") == [(full_name,)]
    assert _query(db, "SELECT DISTINCT repo FROM raw_github__issues") == [(full_name,)]
    assert len(list((tmp_path / "perftrust.duckdb.store" / "shards").glob("*.duckdb"))) == 1
    requests = sum(s["count_api_requests"] for s in outcome["steps"])
    assert requests > 0
    assert _query(db, "SELECT flow_run_id, status, count_api_requests FROM pipeline_runs") == [
        (outcome["flow_run_id"], "succeeded", requests)
    ]
    assert _query(db, "SELECT count(*) > 0 FROM metric_follow_through") == [(True,)]

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterId,
    )

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["perftrust-nightly"])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[outcome["flow_run_id"]])),
        )
    assert len(artifacts) == 1
    markdown = str(artifacts[0].data)
    assert f"| {full_name} | git_sync | succeeded | 40 |" in markdown
    assert TOKEN not in markdown


def test_transient_failures_are_retried_and_permanent_ones_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, count in (("flaky", 12), ("steady", 8)):
        grow_history(tmp_path / name, count)
    config = _config(
        tmp_path,
        '[[repositories]]\npath = "flaky"\n[[repositories]]\npath = "steady"\n[[repositories]]\npath = "gone"\n'
        "[nightly]\nretries = 2\nretry_delay_seconds = 0\nconcurrency = 2\n",
    )
    calls: dict[str, int] = {}
    real = pipeline.nightly.sync_unit_git

    def flaky_once(*args: Any, **kwargs: Any) -> StepResult:
        unit = args[1]
        calls[unit.key] = calls.get(unit.key, 0) + 1
        if unit.key == "flaky" and calls[unit.key] == 1:
            step = StepResult("git_sync", unit.key)
            step.status, step.error_message, step.transient = "failed", "index.lock': File exists", True
            return step
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline.nightly, "sync_unit_git", flaky_once)
    outcome = nightly(config_path=str(config), metric_settings_from_config=False, render_report=False)

    assert calls == {"flaky": 2, "steady": 1, "gone": 1}
    statuses = {s["repo"].rsplit("/", 1)[-1]: s["status"] for s in outcome["steps"]}
    assert statuses == {"flaky": "succeeded", "steady": "succeeded", "gone": "failed"}
    assert outcome["status"] == "partial"
    db = tmp_path / "perftrust.duckdb"
    assert _query(db, "SELECT repo, count(*) FROM raw_git__commits GROUP BY repo ORDER BY repo") == [
        ("flaky", 12),
        ("steady", 8),
    ]
    (error,) = _query(db, "SELECT error_message FROM pipeline_run_steps WHERE status = 'failed'")
    assert "does not exist" in error[0]


def test_a_transient_failure_that_persists_is_reported_after_the_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grow_history(tmp_path / "locked", 3)
    config = _config(
        tmp_path, '[[repositories]]\npath = "locked"\n[nightly]\nretries = 1\nretry_delay_seconds = 0\n'
    )
    calls = []

    def always_locked(*args: Any, **kwargs: Any) -> StepResult:
        calls.append(1)
        step = StepResult("git_sync", "locked")
        step.status, step.error_message, step.transient = "failed", "Unable to create index.lock", True
        return step

    monkeypatch.setattr(pipeline.nightly, "sync_unit_git", always_locked)
    outcome = nightly(config_path=str(config), metric_settings_from_config=False, render_report=False)
    assert len(calls) == 2
    (step,) = outcome["steps"]
    assert step["status"] == "failed" and "still failing after retries" in step["error_message"]
    assert outcome["status"] == "failed"


def test_a_damaged_clone_fails_alone_under_prefect_and_keeps_its_last_good_data(tmp_path: Path) -> None:
    for name in ("good", "damaged"):
        grow_history(tmp_path / name, 10)
    config = _config(tmp_path, '[[repositories]]\npath = "good"\n[[repositories]]\npath = "damaged"\n')
    first = nightly(config_path=str(config), as_of="2026-11-01", render_report=False)
    assert first["status"] == "succeeded"
    for name in ("good", "damaged"):
        grow_history(tmp_path / name, 3)
    damaged = tmp_path / "damaged"
    path = git(damaged, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD")
    blob = git(damaged, "rev-parse", f"HEAD:{path}")
    (damaged / ".git" / "objects" / blob[:2] / blob[2:]).unlink()

    outcome = nightly(config_path=str(config), as_of="2026-11-01", render_report=False)

    assert outcome["status"] == "partial" and outcome["published"]
    (failed,) = [s for s in outcome["steps"] if s["status"] == "failed"]
    assert failed["repo"] == "damaged" and "fsck" in failed["error_message"]
    assert "git could not read the history" in failed["error_message"]
    db = tmp_path / "perftrust.duckdb"
    assert _query(db, "SELECT repo, count(*) FROM raw_git__commits GROUP BY repo ORDER BY repo") == [
        ("damaged", 10),  # its last good data
        ("good", 13),
    ]

    shutil.rmtree(tmp_path / "good")
    before = (db.stat().st_mtime_ns, db.stat().st_ino)
    nothing = nightly(config_path=str(config), as_of="2026-11-01", render_report=False)
    assert nothing["published"] is None and nothing["status"] == "failed"
    assert (db.stat().st_mtime_ns, db.stat().st_ino) == before  # nothing was published


def test_per_repository_tasks_run_on_a_dask_cluster(tmp_path: Path) -> None:
    for name, count in (("one", 15), ("two", 25), ("three", 5)):
        grow_history(tmp_path / name, count)
    config = _config(
        tmp_path,
        '[[repositories]]\npath = "one"\n[[repositories]]\npath = "two"\n[[repositories]]\npath = "three"\n'
        '[nightly]\ntask_runner = "dask"\ndask_workers = 2\n',
    )
    outcome = nightly(config_path=str(config), as_of="2026-11-01", render_report=False)

    assert outcome["status"] == "succeeded"
    workers = {s["details"]["worker"].rsplit(":", 1)[1] for s in outcome["steps"]}
    assert str(os.getpid()) not in workers  # synced in Dask worker processes, not in the flow's
    db = tmp_path / "perftrust.duckdb"
    assert _query(db, "SELECT repo, count(*) FROM raw_git__commits GROUP BY repo ORDER BY repo") == [
        ("one", 15),
        ("three", 5),
        ("two", 25),
    ]
    assert _query(db, "SELECT count(*) > 0 FROM metric_consistency") == [(True,)]
    assert git(tmp_path / "one", "rev-list", "--count", "main") == "15"
