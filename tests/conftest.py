"""Shared fixtures: small real git repositories built with the git CLI, and databases."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

# Prefect (imported by some tests) keeps state in PREFECT_HOME and phones home unless told not to:
# tests get a throwaway home, no telemetry and quiet logs, before anything imports prefect.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="perftrust-prefect-home-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)

from pipeline.db import connect

# Tests never read the developer's git config, and commit dates are fixed.
CLEAN_GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
}


@pytest.fixture(autouse=True)
def _clean_git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CLEAN_GIT_ENV.items():
        monkeypatch.setenv(key, value)


class GitRepo:
    """A throwaway repository with a fixed clock: each commit is one hour after the previous."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        self.clock = 1_700_000_000
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)

    def git(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        full_env = {**os.environ, **(env or {})}
        out = subprocess.run(
            ["git", *args], cwd=self.path, input=input, env=full_env, check=True, capture_output=True
        )
        return out.stdout.decode("utf-8", "replace").strip()

    def commit(
        self,
        message: str,
        files: dict[str, str | bytes | None] | None = None,
        author: tuple[str, str] = ("Ada Lovelace", "ada@example.org"),
        committer: tuple[str, str] | None = None,
        when: int | None = None,
    ) -> str:
        """Write (or delete, with None) files and commit them; returns the new sha."""
        for name, content in (files or {}).items():
            target = self.path / name
            if content is None:
                self.git("rm", "-q", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
            self.git("add", name)
        self.clock = when if when is not None else self.clock + 3600
        committer = committer or author
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": f"{self.clock} +0000",
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_COMMITTER_DATE": f"{self.clock} +0000",
        }
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def make_repo(tmp_path: Path) -> Iterator[type[GitRepo]]:
    yield GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "project")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "perftrust.duckdb"


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(db_path)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """One temporary Prefect API for every flow test in the session (it takes seconds to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
