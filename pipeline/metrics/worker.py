"""Compute the metric tables of a database in a process of their own.

    python -m pipeline.metrics.worker < request.json      (what pipeline.nightly.compute does)

A nightly run syncs first and computes the metrics after: in one process the memory that Polars,
Arrow and DuckDB keep after each stage adds up (a first sync of git/git peaked at 480 MB). A child
process starts clean and gives everything back when it ends. It also chooses how to run: for a
history under PARALLEL_FROM_COMMITS commits, one family at a time under a 128 MB DuckDB budget
(more if a query needs it; git/git's 82,000 commits: 368 MB at the peak, about a second slower);
above that, two side by side, where speed matters more (see bench_metrics).

The request (stdin, JSON): {"database": PATH, "settings": {MetricSettings fields}}. The answer
(stdout, JSON): {"written": {table: rows}} or {"problem": ..., "fix": ..., "disk_full": bool}.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipeline.errors import DiskFullError, PerftrustError, disk_full, is_out_of_space
from pipeline.metrics.settings import MetricSettings

PARALLEL_FROM_COMMITS = 250_000
# Polars' allocator (jemalloc, configured when Polars loads): below PARALLEL_FROM_COMMITS it gives
# freed memory back at once (lower peak: git/git's metrics 90 MB less); above, it keeps freed pages
# a second for reuse: giving a million commits' frames back at once and faulting them in again cost
# ~40 s of system time (bench_metrics, 2 cores: 85-95 s; 1 s: 65 s, peak 3.7 GB; jemalloc's default
# 10 s: 60 s, peak 4.6 GB; at once: peak 3.3 GB).
GIVE_BACK_AT_ONCE = "dirty_decay_ms:0,muzzy_decay_ms:0"
REUSE_FREED_MEMORY = "dirty_decay_ms:1000,muzzy_decay_ms:0"  # freed pages kept a second for reuse


def request_for(database: Path, settings: MetricSettings) -> str:
    payload = asdict(settings)
    payload["as_of"] = settings.as_of.isoformat()
    return json.dumps({"database": str(database), "settings": payload})


def settings_from(payload: dict[str, Any]) -> MetricSettings:
    return MetricSettings(**{**payload, "as_of": datetime.fromisoformat(payload["as_of"])})


def choose_allocator(commits: int) -> None:
    """Set how Polars' allocator gives memory back, unless the user set it otherwise (the command
    line sets GIVE_BACK_AT_ONCE when nothing is set) or Polars is loaded already."""
    if "polars" in sys.modules or os.environ.get("_RJEM_MALLOC_CONF", GIVE_BACK_AT_ONCE) != GIVE_BACK_AT_ONCE:
        return
    os.environ["_RJEM_MALLOC_CONF"] = (
        GIVE_BACK_AT_ONCE if commits < PARALLEL_FROM_COMMITS else REUSE_FREED_MEMORY
    )


def run(database: Path, settings: MetricSettings) -> dict[str, int]:
    from pipeline.db import connect

    with contextlib.closing(connect(database)) as con:
        commits = con.execute("SELECT count(*) FROM raw_git__commits").fetchall()[0][0]
        choose_allocator(commits)
        from pipeline.metrics.run import compute_metrics  # loads Polars: after the allocator is chosen

        if commits >= PARALLEL_FROM_COMMITS:
            written = compute_metrics(con, settings)
        else:
            try:
                written = compute_metrics(con, settings, memory_limit="128MB", parallel=1)
            except duckdb.OutOfMemoryException:
                # Some history needs more than the small budget: give it room (every table is
                # written again, each in a transaction of its own).
                written = compute_metrics(con, settings, memory_limit="1GB", parallel=1)
        con.execute("CHECKPOINT")
    return written


def main() -> None:
    request = json.loads(sys.stdin.read())
    answer: dict[str, Any]
    database = Path(request["database"])
    try:
        written = run(database, settings_from(request["settings"]))
    except PerftrustError as exc:
        answer = {"problem": exc.problem, "fix": exc.fix, "disk_full": isinstance(exc, DiskFullError)}
    except Exception as exc:
        if not is_out_of_space(exc):
            raise
        full = disk_full(exc, database)
        answer = {"problem": full.problem, "fix": full.fix, "disk_full": True}
    else:
        answer = {"written": written}
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
