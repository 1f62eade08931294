"""The git log -z parser: exact fields, renames, binaries, and independence from how the stream is chunked."""

from __future__ import annotations

import io
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.git_log import LOG_ARGS, CommitBatches, LogParser, decode, parse_stream
from tests.conftest import GitRepo


def _parse(raw: bytes, read_size: int, batch_commits: int = 5000) -> list[dict[str, Any]]:
    parser = LogParser(CommitBatches("r", "run", datetime(2026, 1, 1)), batch_commits=batch_commits)
    rows: list[dict[str, Any]] = []
    for table in parse_stream(io.BytesIO(raw), parser, read_size=read_size):
        rows.extend(table.to_pylist())
    return rows


def _log(repo: GitRepo) -> bytes:
    return subprocess.run(
        ["git", "log", *LOG_ARGS, "--all"], cwd=repo.path, check=True, capture_output=True
    ).stdout


@pytest.fixture
def history(repo: GitRepo) -> GitRepo:
    repo.commit(
        "first\n\nbody\n\nCo-authored-by: Bo <bo@example.org>", {"a.txt": "1\n2\n3\n", "bin.dat": b"\0\1\2"}
    )
    (repo.path / "dir with space").mkdir()
    repo.git("mv", "a.txt", "dir with space/tab\there.txt")
    repo.commit("rename with an edit", {"dir with space/tab\there.txt": "1\n2\n3\n4\n"})
    repo.commit(
        "unicode ünïcödé", {"ünï/cödé.txt": "x\n", "bin.dat": b"\0\1\3"}, author=("Zoë", "zoe@example.org")
    )
    repo.git("checkout", "-q", "-b", "side", "HEAD~1")
    repo.commit("on side", {"side.txt": "s\n"})
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "side")
    repo.commit("empty commit")
    return repo


def test_fields_match_git(history: GitRepo) -> None:
    rows = {r["message"].split("\n")[0]: r for r in _parse(_log(history), 1 << 20)}
    assert len(rows) == 6
    first = rows["first"]
    assert first["author_name"] == "Ada Lovelace" and first["author_email"] == "ada@example.org"
    assert first["author_epoch"] == 1_700_003_600 and first["author_tz"] == "+0000"
    assert first["message"] == "first\n\nbody\n\nCo-authored-by: Bo <bo@example.org>"
    assert first["parent_shas"] == []
    assert sorted(first["files"], key=lambda f: f["path"]) == [
        {"path": "a.txt", "old_path": None, "lines_added": 3, "lines_deleted": 0},
        {"path": "bin.dat", "old_path": None, "lines_added": None, "lines_deleted": None},
    ]
    renamed = rows["rename with an edit"]["files"]
    assert renamed == [
        {"path": "dir with space/tab\there.txt", "old_path": "a.txt", "lines_added": 1, "lines_deleted": 0}
    ]
    assert rows["unicode ünïcödé"]["author_name"] == "Zoë"
    assert {f["path"] for f in rows["unicode ünïcödé"]["files"]} == {"ünï/cödé.txt", "bin.dat"}
    merge = rows["Merge branch 'side'"]
    assert len(merge["parent_shas"]) == 2 and merge["files"] == []
    assert rows["empty commit"]["files"] == []
    assert rows["on side"]["sha"] == history.git("rev-parse", "side")


@pytest.mark.parametrize("read_size", [1, 3, 7, 64, 4096])
def test_chunking_does_not_change_the_result(history: GitRepo, read_size: int) -> None:
    raw = _log(history)
    assert _parse(raw, read_size, batch_commits=2) == _parse(raw, 1 << 20)


def test_batches_split_only_between_commits(history: GitRepo) -> None:
    parser = LogParser(CommitBatches("r", "run", datetime(2026, 1, 1)), batch_commits=2)
    sizes = [t.num_rows for t in parse_stream(io.BytesIO(_log(history)), parser, read_size=5)]
    assert sum(sizes) == 6 and max(sizes) <= 3


def test_latin1_bytes_in_a_name_keep_the_utf8_message(tmp_path: Path, repo: GitRepo) -> None:
    tree = repo.git("mktree", input=b"")
    body = (
        f"tree {tree}\nauthor J\xe9r\xf4me <j@example.org> 1600000000 +0200\n"
        "committer J\xe9r\xf4me <j@example.org> 1600000000 +0200\n\n"
    ).encode("latin-1") + "café ☕\n".encode()
    sha = repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=body)
    raw = subprocess.run(
        ["git", "log", *LOG_ARGS, sha], cwd=repo.path, check=True, capture_output=True
    ).stdout
    (row,) = _parse(raw, 1 << 20)
    assert row["author_name"] == "Jérôme"
    assert row["message"] == "café ☕"
    assert row["author_tz"] == "+0200"


def test_decode_falls_back_to_latin1() -> None:
    assert decode("Zoë".encode()) == "Zoë"
    assert decode("Zoë".encode("latin-1")) == "Zoë"


def test_truncated_stream_inside_a_rename_is_an_error() -> None:
    sha = "a" * 40
    raw = f"{sha}\x1f\x1fA\x1fa@x\x1f1 +0000\x1fA\x1fa@x\x1f1 +0000\x1fmsg\n\0\n1\t0\t\0old\0".encode()
    with pytest.raises(ValueError, match="inside a rename"):
        _parse(raw, 1 << 20)
