"""What the nightly run costs: Prefect's overhead over the plain functions, and the price of
building a new database each night (assemble + publish) instead of writing the published one.

    .venv/bin/python -m tests.benchmarks.bench_nightly [--repos 4] [--commits 25000] [--work DIR]

Each repository is a linear history written by git fast-import. For each engine it times, as
separate processes (what a user or cron sees, imports included): a first run over every
repository, then runs with nothing new (best of --runs). Engines: plain; prefect with a temporary
local API (started by each run, PREFECT_API_URL unset); prefect reporting to a running server
(`prefect server start`, started here once and not counted).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from flows.temporary_api import wait_until_ready
from tests.support.history import grow_history

ROOT = Path(__file__).resolve().parents[2]


def _run(engine: str, config: Path, home: Path, api_url: str | None = None) -> tuple[float, str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
        **({"PREFECT_API_URL": api_url} if api_url else {}),
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "perftrust"),
            "run",
            "--config",
            str(config),
            "--engine",
            engine.split("+")[0],
            "--no-report",
            "--as-of",
            "2026-11-01",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, out.stderr


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repos", type=int, default=4)
    parser.add_argument("--commits", type=int, default=25_000, help="per repository")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="best of N for the run with nothing new")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="perftrust-bench-nightly-"))
    repos = [work / f"repo{i}" for i in range(args.repos)]
    for repo in repos:
        if not repo.exists():
            grow_history(repo, args.commits)
    results: dict[str, dict[str, float]] = {}
    with _server(work / "server-home") as api_url:
        for engine in ("plain", "prefect", "prefect+server"):
            data = work / engine
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir()
            config = data / "perftrust.toml"
            config.write_text(
                '[database]\npath = "perftrust.duckdb"\n'
                + "".join(f'[[repositories]]\npath = "{r}"\n' for r in repos),
                encoding="utf-8",
            )
            url = api_url if engine == "prefect+server" else None
            home = work / "server-home" if url else data / "prefect-home"
            first, _ = _run(engine, config, home, url)
            again = min(_run(engine, config, home, url)[0] for _ in range(args.runs))
            size = (data / "perftrust.duckdb").stat().st_size
            results[engine] = {
                "first_run_s": round(first, 2),
                "no_change_run_s": round(again, 2),
                "db_mib": round(size / 2**20, 1),
            }
            print(engine, json.dumps(results[engine]), flush=True)
    for engine in ("prefect", "prefect+server"):
        first = results[engine]["first_run_s"] - results["plain"]["first_run_s"]
        again = results[engine]["no_change_run_s"] - results["plain"]["no_change_run_s"]
        print(
            f"{args.repos} repositories x {args.commits:,} commits: {engine} adds {first:.1f} s to a first run "
            f"and {again:.1f} s to a run with nothing new"
        )


@contextlib.contextmanager
def _server(home: Path) -> Iterator[str]:
    """`prefect server start` on a free port, as a team running Prefect has it."""
    home.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "prefect"),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**env, "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_until_ready(url, 120)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
