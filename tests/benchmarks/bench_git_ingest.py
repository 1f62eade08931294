"""Benchmark: full git ingest against `git log --numstat` on the same repository, peak memory, no-change re-run.

    .venv/bin/python -m tests.benchmarks.bench_git_ingest --commits 100000
    .venv/bin/python -m tests.benchmarks.bench_git_ingest --repo /path/to/clone      # a real repository

A benchmark, not a test: it prints figures (and writes them as JSON under bench-results/) and
asserts nothing. The synthetic repository is generated once per (commits, seed) and reused.
Run it on an otherwise idle machine: on 2 cores any other load distorts the ratio.

Measured on the project's 2-core machine (2026-12-07, idle; the whole `perftrust sync` process,
metrics not included: a database that was only synced has none):
  synthetic, 60,000 commits: git log --numstat 14.59 s, sync 11.61 s (ratio 0.80), peak 271 MiB,
      no-change re-run 1.04 s
  pallets/flask, 5,531:      git log 1.40 s, sync 2.26 s (1.62), peak 182 MiB, no-change 0.99 s
  git/git, 81,966:           git log 44.45 s, sync 32.23 s (0.73), peak 354 MiB, no-change 1.21 s
      (with metrics, `perftrust run --engine plain --no-report`: 43.0 s, peak 366 MiB)
  (2026-11-21: synthetic 100,000 0.93, git/git 0.79 with 328 MiB before metrics were part of a
  publish; the issue-10 work measured git/git at 0.91 and 562 MiB with metrics in-process, then
  brought it to the figures above)
Python must be able to keep its bytecode (./run compiles the project once; PYTHONDONTWRITEBYTECODE
otherwise makes every start compile perftrust again, ~0.3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.synthrepo import generate_repo

CLEAN_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def _timed(cmd: list[str], **kwargs: object) -> tuple[float, int]:
    """(wall seconds, peak RSS in MiB of the largest process in the tree) for one command."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr, env=CLEAN_ENV, **kwargs)  # type: ignore[call-overload]
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            stderr.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({status}):\n{stderr.read().decode(errors='replace')}")
    return elapsed, usage.ru_maxrss // 1024


def _best(cmd: list[str], runs: int, **kwargs: object) -> tuple[float, int]:
    results = [_timed(cmd, **kwargs) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repo", type=Path, help="benchmark this repository instead of a synthetic one")
    parser.add_argument("--ref", default="HEAD", help="ref whose history git log reads (default HEAD)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "perftrust-bench")
    parser.add_argument("--runs", type=int, default=2, help="best of N for each timing")
    args = parser.parse_args()

    if args.repo is None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        repo = args.workdir / f"synthetic-{args.commits}-{args.seed}"
        if not (repo / ".git").exists():
            started = time.perf_counter()
            generate_repo(repo, commits=args.commits, seed=args.seed, manifest=False)
            print(f"generated {repo} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    else:
        repo = args.repo
    count = int(
        subprocess.run(
            ["git", "rev-list", "--count", args.ref],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
            env=CLEAN_ENV,
        ).stdout
    )

    # Warm the page cache once so neither side pays for cold reads.
    _timed(["git", "log", "--numstat", args.ref], cwd=repo)
    git_seconds, _ = _best(["git", "log", "--numstat", args.ref], args.runs, cwd=repo)

    ingest: list[float] = []
    peak = 0
    rerun = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            db = Path(tmp) / f"bench-{i}.duckdb"
            # The console script, as a user runs it (`python -m` would compile cli.py on every start).
            sync = [
                str(Path(sys.executable).parent / "perftrust"),
                "sync",
                "--repo",
                str(repo),
                "--db",
                str(db),
            ]
            seconds, rss = _timed(sync)
            ingest.append(seconds)
            peak = max(peak, rss)
        rerun, _ = _best(sync, args.runs)
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        step_seconds = con.execute(
            "SELECT duration_seconds FROM pipeline_run_steps ORDER BY started_at DESC LIMIT 1"
        ).fetchall()[0][0]
        loaded = con.execute("SELECT count(*) FROM raw_git__commits").fetchall()[0][0]
        con.close()

    figures = {
        "repository": str(repo),
        "commits": count,
        "commits_loaded": loaded,
        "cores": os.cpu_count(),
        "git_log_numstat_seconds": round(git_seconds, 2),
        "ingest_seconds": round(min(ingest), 2),
        "ratio_to_git_log": round(min(ingest) / git_seconds, 3),
        "peak_rss_mib": peak,
        "no_change_rerun_seconds": round(rerun, 3),
        "no_change_rerun_step_seconds": round(step_seconds, 4),
    }
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / f"git_ingest-{count}.json").write_text(json.dumps(figures, indent=1))
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
