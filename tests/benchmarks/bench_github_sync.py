"""Benchmark: full GitHub sync of a seeded 10k-issue, 3k-PR repository from the local server.

    .venv/bin/python -m tests.benchmarks.bench_github_sync [--issues 10000] [--prs 3000]

Prints requests made against the minimum (ceil(items/100) list pages + one reviews request per PR
+ one timeline request per item), wall time, and the cost of a no-change re-sync. A benchmark,
not a test: nothing is asserted. Figures from the project's 2-core machine are in the README.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from pipeline.db import connect
from pipeline.github_client import ClientSettings, GitHubClient
from pipeline.github_sync import GitHubSyncOptions, sync_github_repository
from pipeline.runs import start_run
from tests.support.github_scenario import generate_dataset, minimum_requests
from tests.support.github_server import GitHubServer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--prs", type=int, default=3_000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    started = time.perf_counter()
    dataset = generate_dataset(1, issues=args.issues, prs=args.prs)
    generated = time.perf_counter() - started
    repo = dataset.repositories[0]
    minimum = minimum_requests(dataset, repo)
    options = GitHubSyncOptions(concurrency=args.concurrency, commit_logins=False)
    with tempfile.TemporaryDirectory() as tmp, GitHubServer(dataset, quota=10**9) as server:
        con = connect(Path(tmp) / "bench.duckdb")
        client = GitHubClient("valid-token", ClientSettings(base_url=server.base_url))
        started = time.perf_counter()
        full = sync_github_repository(con, client, repo.full_name, start_run(con, "bench"), options)
        full_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = sync_github_repository(con, client, repo.full_name, start_run(con, "bench"), options)
        again_seconds = time.perf_counter() - started
        counts = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in ("fct_issues", "fct_pull_requests", "fct_reviews", "stg_github__timeline_events")
        }
    figures = {
        "issues": args.issues,
        "pull_requests": args.prs,
        "dataset_seconds": round(generated, 2),
        "minimum_requests": minimum,
        "full_sync_requests": full.count_api_requests,
        "ratio_to_minimum": round(full.count_api_requests / minimum, 4),
        "full_sync_seconds": round(full_seconds, 1),
        "requests_per_second": round(full.count_api_requests / full_seconds),
        "resync_requests": again.count_api_requests,
        "resync_not_modified": again.count_not_modified,
        "resync_seconds": round(again_seconds, 3),
        **counts,
    }
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / f"github_sync-{args.issues}-{args.prs}.json").write_text(json.dumps(figures, indent=1))
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
