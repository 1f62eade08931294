"""Linear git histories of any length, written by `git fast-import` (thousands of commits per second)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(path: Path, *args: str, stdin: bytes | None = None) -> str:
    out = subprocess.run(
        ["git", *args], cwd=path, input=stdin, env=os.environ.copy(), check=True, capture_output=True
    )
    return out.stdout.decode().strip()


def grow_history(path: Path, count: int, remote: str | None = None) -> str:
    """Append `count` commits to main (creating the repository if needed); returns the new tip.

    Authors rotate over seven people; each commit changes one of ten files."""
    if not (path / ".git").exists() and not (path / "HEAD").exists():
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", "main")
        if remote:
            git(path, "remote", "add", "origin", remote)
    existing = int(git(path, "rev-list", "--count", "--all") or 0)
    chunks: list[bytes] = []
    for n in range(existing + 1, existing + count + 1):
        who = f"Dev {n % 7} <dev{n % 7}@example.org>".encode()
        when = 1_600_000_000 + 3600 * n
        message = f"change {n}\n".encode()
        content = f"version {n}\n".encode()
        chunks.append(b"commit refs/heads/main\nmark :%d\n" % n)
        chunks.append(b"author %s %d +0000\ncommitter %s %d +0000\n" % (who, when, who, when))
        chunks.append(b"data %d\n%s" % (len(message), message))
        if n > existing + 1:
            chunks.append(b"from :%d\n" % (n - 1))
        elif existing:
            chunks.append(b"from refs/heads/main^0\n")
        chunks.append(b"M 100644 inline src/file%d.txt\ndata %d\n%s\n" % (n % 10, len(content), content))
    git(path, "fast-import", "--quiet", stdin=b"".join(chunks))
    return git(path, "rev-parse", "main")
