"""Benchmark: render the reports (HTML, Markdown, every CSV) for a team of about 200 people.

    .venv/bin/python -m tests.benchmarks.bench_reports                 # 200 people (target: < 5 s)
    .venv/bin/python -m tests.benchmarks.bench_reports --people 500 --repeat 3

The database is the synthetic one of tests/benchmarks/synthetic_db.py scaled to the team (per person
the full benchmark's 200 commits, 40 issues and 10 pull requests), with its metrics computed once;
both are reused on the next run. The figure is the wall time of render_reports (read the tables,
render, write everything), the best of --repeat runs. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

from pipeline.db import connect
from pipeline.metrics.common import MetricSettings
from pipeline.metrics.run import compute_metrics
from reports import ReportOptions, render_reports
from tests.benchmarks.synthetic_db import build_synthetic_db

AS_OF = datetime(2026, 6, 30, 23, 59, 59)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "perftrust-bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.workdir / f"reports-{args.people}.duckdb"
    if not db.exists():
        started = time.perf_counter()
        build_synthetic_db(
            db,
            commits=200 * args.people,
            issues=40 * args.people,
            prs=10 * args.people,
            contributors=args.people,
            repos=max(1, min(20, args.people // 25)),
        )
        con = connect(db)
        compute_metrics(con, MetricSettings(as_of=AS_OF))
        con.close()
        print(f"built {db} and its metrics in {time.perf_counter() - started:.1f} s")

    out = args.workdir / f"reports-{args.people}"
    timings = []
    for _ in range(args.repeat):
        result = render_reports(db, out, ReportOptions(team="Benchmark"))
        timings.append(result.seconds)
    csv_bytes = sum(p.stat().st_size for p in result.csv_dir.iterdir())
    figures = {
        "people_in_report": result.count_contributors,
        "render_seconds_best": round(min(timings), 2),
        "render_seconds_all": [round(t, 2) for t in timings],
        "html_mib": round(result.html_path.stat().st_size / 2**20, 1),
        "markdown_kib": round(result.markdown_path.stat().st_size / 2**10, 1),
        "csv_mib": round(csv_bytes / 2**20, 1),
    }
    results = Path("bench-results")
    results.mkdir(exist_ok=True)
    (results / f"reports-{args.people}.json").write_text(json.dumps(figures, indent=1))
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
