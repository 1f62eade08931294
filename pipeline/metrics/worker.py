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

# Polars' allocator gives freed memory back at once (read when Polars loads).
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

import duckdb

from pipeline.errors import DiskFullError, PerftrustError, disk_full, is_out_of_space
from pipeline.metrics.settings import MetricSettings

PARALLEL_FROM_COMMITS = 250_000


def request_for(database: Path, settings: MetricSettings) -> str:
    payload = asdict(settings)
    payload["as_of"] = settings.as_of.isoformat()
    return json.dumps({"database": str(database), "settings": payload})


def settings_from(payload: dict[str, Any]) -> MetricSettings:
    return MetricSettings(**{**payload, "as_of": datetime.fromisoformat(payload["as_of"])})


def run(database: Path, settings: MetricSettings) -> dict[str, int]:
    from pipeline.db import connect
    from pipeline.metrics.run import compute_metrics

    with contextlib.closing(connect(database)) as con:
        commits = con.execute("SELECT count(*) FROM raw_git__commits").fetchall()[0][0]
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
