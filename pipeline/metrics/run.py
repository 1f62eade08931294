"""Compute every metric family in order and write the tables in one transaction."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from types import ModuleType

import duckdb
import polars as pl

from pipeline.db import transaction
from pipeline.metrics.common import MetricSettings, write_table

# Order matters: later families may read tables written by earlier ones (expectations reads
# fct_commitments). Each module has compute(con, settings) -> {table: DataFrame}.
FAMILIES = (
    "pipeline.metrics.follow_through",
    "pipeline.metrics.expectations",
    "pipeline.metrics.consistency",
    "pipeline.metrics.credit_sharing",
    "pipeline.metrics.communication",
    "pipeline.metrics.help_seeking",
    "pipeline.metrics.ownership",
)


def _family(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None  # not built yet
        raise


def compute_metrics(
    con: duckdb.DuckDBPyConnection,
    settings: MetricSettings,
    on_table: Callable[[str, int, float], None] | None = None,
    families: Sequence[str] = FAMILIES,
    memory_limit: str = "1GB",
) -> dict[str, int]:
    """Recompute every metric table from the fct/dim tables; returns rows written per table.

    Each family's tables are replaced in one transaction of their own: holding every family's new
    rows in one transaction doubled peak memory on a million commits. Readers of a published
    database never see the gap (the nightly run builds a new file and swaps it in whole)."""
    written: dict[str, int] = {}
    # Let DuckDB spill instead of growing while Polars holds the frames.
    con.execute(f"SET memory_limit = '{memory_limit}'")
    try:
        for name in families:
            module = _family(name)
            if module is None:
                continue
            started = time.perf_counter()
            frames: dict[str, pl.DataFrame] = module.compute(con, settings)
            with transaction(con):
                for table, frame in frames.items():
                    written[table] = write_table(con, table, frame, settings)
                    if on_table:
                        on_table(table, written[table], time.perf_counter() - started)
            del frames
    finally:
        con.execute("RESET memory_limit")
    return written
