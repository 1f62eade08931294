"""What the nightly run costs: Prefect's overhead over the plain functions, and the price of
building a new database each night (assemble + publish) instead of writing the published one.

    .venv/bin/python -m tests.benchmarks.bench_nightly [--repos 4] [--commits 25000] [--work DIR]

Each repository is a linear history written by git fast-import. For each engine (plain, prefect)
it times, as separate processes (what a user or cron sees, imports included): a first run over
every repository, then a run with nothing new. The prefect engine starts a temporary local API
each time (PREFECT_API_URL unset); set PREFECT_API_URL to measure against a running server.
Per-step seconds come from the run itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.history import grow_history

ROOT = Path(__file__).resolve().parents[2]


def _run(engine: str, config: Path, home: Path) -> tuple[float, str]:
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    started = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.cli",
            "run",
            "--config",
            str(config),
            "--engine",
            engine,
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
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="perftrust-bench-nightly-"))
    repos = [work / f"repo{i}" for i in range(args.repos)]
    for repo in repos:
        if not repo.exists():
            grow_history(repo, args.commits)
    results: dict[str, dict[str, float]] = {}
    for engine in ("plain", "prefect"):
        data = work / engine
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir()
        config = data / "perftrust.toml"
        config.write_text(
            '[database]\npath = "perftrust.duckdb"\n'
            + "".join(f'[[repositories]]\npath = "{r}"\n' for r in repos),
            encoding="utf-8",
        )
        first, _ = _run(engine, config, data / "prefect-home")
        again, _ = _run(engine, config, data / "prefect-home")
        size = (data / "perftrust.duckdb").stat().st_size
        results[engine] = {
            "first_run_s": round(first, 2),
            "no_change_run_s": round(again, 2),
            "db_mib": round(size / 2**20, 1),
        }
        print(engine, json.dumps(results[engine]), flush=True)
    overhead_first = results["prefect"]["first_run_s"] - results["plain"]["first_run_s"]
    overhead_again = results["prefect"]["no_change_run_s"] - results["plain"]["no_change_run_s"]
    print(
        f"{args.repos} repositories x {args.commits:,} commits: Prefect adds {overhead_first:.1f} s to a first run "
        f"and {overhead_again:.1f} s to a run with nothing new"
    )


if __name__ == "__main__":
    main()
