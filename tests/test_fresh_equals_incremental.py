"""Fresh equals incremental, property-style: after any sequence of syncs of a changing clone (new
commits, branches made and deleted, force-pushes with garbage collection, a switch between the
default branch and all branches, a .mailmap that changes, a shallow clone deepened and unshallowed,
the clone re-created with another history), the published database holds exactly what one fresh
sync of the same refs into a new store holds."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import RepositoryConfig, Settings
from pipeline.git_repo import RepoSpec
from pipeline.nightly import run_plain
from pipeline.store import Store
from tests.conftest import CLEAN_GIT_ENV
from tests.support.snapshot import differences, snapshot


class Origin:
    """The upstream repository the synced clone fetches from; its operations shape the history."""

    def __init__(self, path: Path, seed: int) -> None:
        self.path = path
        self.clock = 1_700_000_000 + seed * 100_000
        self.count = 0
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.commit(2)

    def git(self, *args: str) -> str:
        env = {**CLEAN_GIT_ENV, "PATH": "/usr/bin:/bin:/usr/local/bin"}
        return subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def commit(self, n: int, who: int = 0) -> None:
        for _ in range(n):
            self.count += 1
            self.clock += 3600
            name = f"f{self.count % 4}.txt"
            (self.path / name).write_text(f"{self.count}\n", encoding="utf-8")
            self.git("add", name)
            self._commit(who, f"{self.clock} +0000")

    def _commit(self, who: int, date: str) -> None:
        env = {
            **CLEAN_GIT_ENV,
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "GIT_AUTHOR_NAME": f"Dev {who}",
            "GIT_AUTHOR_EMAIL": f"dev{who}@example.org",
            "GIT_COMMITTER_NAME": f"Dev {who}",
            "GIT_COMMITTER_EMAIL": f"dev{who}@example.org",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        message = f"change {self.count}\n\nCo-authored-by: Dev {who + 1} <dev{who + 1}@example.org>"
        subprocess.run(
            ["git", "commit", "-q", "--allow-empty", "-m", message], cwd=self.path, env=env, check=True
        )

    def branch_work(self, name: str, n: int) -> None:
        self.git("checkout", "-q", "-B", name)
        self.commit(n, who=2)
        self.git("checkout", "-q", "main")

    def delete_branch(self, name: str) -> None:
        if name in self.git("branch", "--format=%(refname:short)").split():
            self.git("branch", "-q", "-D", name)

    def force_push(self, back: int, n: int) -> None:
        depth = int(self.git("rev-list", "--count", "HEAD"))
        self.git("reset", "-q", "--hard", f"HEAD~{min(back, depth - 1)}")
        self.commit(n, who=3)

    def mailmap(self, version: int) -> None:
        (self.path / ".mailmap").write_text(
            f"Dev Zero {version} <dev0@example.org> Dev 0 <dev0@example.org>\n", encoding="utf-8"
        )
        self.git("add", ".mailmap")
        self._commit(1, f"{self.clock + 1} +0000")


def _clone_from(origin: Origin, clone: Path, depth: int | None) -> None:
    """(Re)fetch every branch of origin into a bare clone, pruning deleted ones, forcing rewrites."""
    if not clone.exists():
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(clone)], check=True)
    args = ["git", "-C", str(clone), "fetch", "-q", "--force", "--prune"]
    shallow = (clone / "shallow").exists()
    if depth is not None:
        args.append(f"--depth={depth}")
    elif shallow:
        args.append("--unshallow")
    subprocess.run([*args, str(origin.path), "+refs/heads/*:refs/heads/*"], check=True, env=CLEAN_GIT_ENV)
    subprocess.run(["git", "-C", str(clone), "gc", "-q", "--prune=now"], check=True, env=CLEAN_GIT_ENV)


def _sync(db: Path, clone: Path, branches: str) -> None:
    config = Settings(db_path=db, repositories=(RepositoryConfig(RepoSpec(clone, "repo"), branches),))
    outcome = run_plain(config, "sync", Store.for_settings(config), carry_metric_settings=True)
    assert outcome.status == "succeeded", [s.error_message for s in outcome.steps]


OPERATIONS = st.one_of(
    st.tuples(st.just("commit"), st.integers(1, 4)),
    st.tuples(st.just("branch"), st.sampled_from(["a", "b"]), st.integers(1, 3)),
    st.tuples(st.just("delete"), st.sampled_from(["a", "b"])),
    st.tuples(st.just("force"), st.integers(1, 3), st.integers(0, 2)),
    st.tuples(st.just("mailmap"), st.integers(1, 3)),
    st.tuples(st.just("select"), st.sampled_from(["default", "all"])),
    st.tuples(st.just("shallow"), st.integers(1, 3)),
    st.tuples(st.just("unshallow")),
    st.tuples(st.just("recreate")),
    st.tuples(st.just("sync")),
)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATIONS, min_size=2, max_size=8))
def test_any_sequence_of_syncs_equals_one_fresh_sync(
    tmp_path_factory: pytest.TempPathFactory, operations: list[tuple[Any, ...]]
) -> None:
    root = tmp_path_factory.mktemp("fresh")
    # Only the data is compared (metric tables depend on the clock): skip computing them.
    with mock.patch("pipeline.nightly.update_metrics", return_value={}):
        _run_operations(root, operations)


def _run_operations(root: Path, operations: list[tuple[Any, ...]]) -> None:
    origin = Origin(root / "origin", seed=0)
    clone = root / "clone.git"
    incremental = root / "incremental.duckdb"
    branches = "default"
    depth: int | None = None
    generation = 0
    _clone_from(origin, clone, depth)
    _sync(incremental, clone, branches)
    for operation in operations:
        kind = operation[0]
        if kind == "commit":
            origin.commit(operation[1])
        elif kind == "branch":
            origin.branch_work(operation[1], operation[2])
        elif kind == "delete":
            origin.delete_branch(operation[1])
        elif kind == "force":
            origin.force_push(operation[1], operation[2])
        elif kind == "mailmap":
            origin.mailmap(operation[1])
        elif kind == "select":
            branches = operation[1]
        elif kind == "shallow":
            depth = operation[1]
            shutil.rmtree(clone)  # a shallow clone made afresh
        elif kind == "unshallow":
            depth = None
        elif kind == "recreate":  # the same path, another history
            generation += 1
            shutil.rmtree(origin.path)
            origin = Origin(root / f"origin-{generation}", seed=generation)
            shutil.rmtree(clone)
        _clone_from(origin, clone, depth)
        if kind in ("sync", "select", "unshallow", "recreate", "force", "shallow") or len(operations) < 4:
            _sync(incremental, clone, branches)
    _sync(incremental, clone, branches)

    fresh = root / "fresh.duckdb"
    _sync(fresh, clone, branches)
    assert differences(snapshot(incremental), snapshot(fresh)) == []
