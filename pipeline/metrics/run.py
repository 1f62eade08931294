"""Compute every metric family and write its tables, two families at a time."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import duckdb
import polars as pl

from pipeline.db import transaction
from pipeline.metrics.common import MetricSettings, shared_reads, write_table
from pipeline.runs import utc_now
from pipeline.trailers import keep_trailers

# Each module has compute(con, settings) -> {table: DataFrame}. Families in one group run in order
# (expectations reads the fct_commitments that follow_through writes); groups run side by side.
FAMILIES = (
    "pipeline.metrics.consistency",  # the largest first, so the small ones fill the other core
    "pipeline.metrics.follow_through",
    "pipeline.metrics.expectations",
    "pipeline.metrics.credit_sharing",
    "pipeline.metrics.communication",
    "pipeline.metrics.help_seeking",
    "pipeline.metrics.ownership",
)
DEPENDS_ON = {"pipeline.metrics.expectations": "pipeline.metrics.follow_through"}


def _family(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None  # not built yet
        raise


def _groups(families: Sequence[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    for name in families:
        parent = DEPENDS_ON.get(name)
        holder = next((g for g in groups if parent in g), None)
        if holder is not None:
            holder.append(name)
        else:
            groups.append([name])
    return groups


def compute_metrics(
    con: duckdb.DuckDBPyConnection,
    settings: MetricSettings,
    on_table: Callable[[str, int, float], None] | None = None,
    families: Sequence[str] = FAMILIES,
    memory_limit: str = "1GB",
    parallel: int = 2,
) -> dict[str, int]:
    """Recompute every metric table from the fct/dim tables; returns rows written per table.

    Each family's tables are replaced in a transaction of their own (one transaction for all
    doubled peak memory on a million commits), on its own cursor so two families can run at once:
    Polars and DuckDB each leave a core idle between their steps. Readers of a published database
    never see a half-written state: the nightly run builds a new file and swaps it in whole."""
    written: dict[str, int] = {}
    keep_trailers(con)  # credit-sharing and help-seeking read them; a database loaded by hand may lack them
    lock = threading.Lock()
    con.execute(f"SET memory_limit = '{memory_limit}'")  # DuckDB spills instead of growing
    if parallel > 1:
        con.execute("SET threads = 1")  # two families already keep both cores busy (measured: -1 s)

    def run_group(group: list[str]) -> None:
        cursor = con.cursor()
        try:
            for name in group:
                module = _family(name)
                if module is None:
                    continue
                started = time.perf_counter()
                frames: dict[str, pl.DataFrame] = module.compute(cursor, settings)
                with transaction(cursor):
                    for table, frame in frames.items():
                        count = write_table(cursor, table, frame, settings)
                        with lock:
                            written[table] = count
                            if on_table:
                                on_table(table, count, time.perf_counter() - started)
        finally:
            cursor.close()

    try:
        # shared_reads: inputs more than one family needs (the commits) are read once for all.
        with (
            shared_reads(),
            ThreadPoolExecutor(max(1, parallel), thread_name_prefix="perftrust-metrics") as pool,
        ):
            for future in [pool.submit(run_group, group) for group in _groups(families)]:
                future.result()
    finally:
        con.execute("RESET memory_limit")
        con.execute("RESET threads")
    with transaction(con):
        con.execute("DELETE FROM metric_runs")
        con.execute(
            "INSERT INTO metric_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                utc_now(),
                settings.as_of,
                settings.as_of_date,
                settings.window_start,
                settings.window_days,
                settings.min_n,
                settings.timezone,
                settings.review_response_hours,
                settings.include_bots,
                settings.pseudonymize,
            ],
        )
    return {table: written[table] for table in sorted(written, key=list(written).index)}
