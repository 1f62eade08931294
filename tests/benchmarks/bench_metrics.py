"""Benchmark: every metric family over a large synthetic database, wall time and peak memory.

    .venv/bin/python -m tests.benchmarks.bench_metrics            # 1M commits, 200k issues, 50k PRs, 5k people
    .venv/bin/python -m tests.benchmarks.bench_metrics --scale 0.1

The database is generated directly into DuckDB once (tests/benchmarks/synthetic_db.py) and reused;
`perftrust metrics` then runs in a child process so its peak RSS is measured alone. A benchmark,
not a test: nothing is asserted. Figures from the project's 2-core machine are in the README.
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

import duckdb

from tests.benchmarks.synthetic_db import build_synthetic_db


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of 1M commits / 200k issues / 50k PRs / 5k people"
    )
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "perftrust-bench")
    args = parser.parse_args()
    sizes = {
        "commits": int(1_000_000 * args.scale),
        "issues": int(200_000 * args.scale),
        "prs": int(50_000 * args.scale),
        "contributors": int(5_000 * args.scale),
    }
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"metrics-{args.scale}.duckdb"
    if not db.exists():
        started = time.perf_counter()
        build_synthetic_db(db, **sizes)  # type: ignore[arg-type]
        print(f"built {db} in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    command = [sys.executable, "-m", "pipeline.cli", "metrics", "--db", str(db), "--as-of", "2026-06-30"]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        stderr.seek(0)
        output = stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(output)
    con = duckdb.connect(str(db), read_only=True)
    rows = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'metric_%' OR table_name IN "
            "('fct_commitments', 'fct_credits') ORDER BY 1"
        ).fetchall()
    }
    inputs = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("raw_git__commits", "raw_github__issues", "raw_github__pull_requests", "dim_contributors")
    }
    figures = {**inputs, "cores": os.cpu_count(), "metrics_seconds": round(seconds, 1),
               "peak_rss_mib": usage.ru_maxrss // 1024, **{f"rows_{k}": v for k, v in rows.items()}}  # fmt: skip
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / f"metrics-{args.scale}.json").write_text(json.dumps(figures, indent=1))
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(output.strip().splitlines()[-1] if output.strip() else "", file=sys.stderr)


if __name__ == "__main__":
    main()
