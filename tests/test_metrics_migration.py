"""A database made by the schema before issue 13 (rates without r_numerator / r_denominator, no
weeks_with_anyone_active_ratio, medians without bounds) opens with the new one: the metric tables
whose columns changed are dropped and created anew (every metrics run recomputes them whole), the
others keep their rows, and metric_runs no longer passes for current, so the next run fills them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from pipeline.db import connect
from pipeline.metrics.common import MetricSettings
from pipeline.metrics.run import compute_metrics

# metric_expectations as the schema before issue 13 created it (no warned_rate_numerator/_denominator).
OLD_EXPECTATIONS = """CREATE TABLE metric_expectations (
    contributor_id VARCHAR, team_id VARCHAR, period_type VARCHAR NOT NULL, period_start DATE NOT NULL,
    period_end DATE NOT NULL, count_commitments_resolved BIGINT NOT NULL, count_slipped BIGINT NOT NULL,
    count_slipped_warned BIGINT NOT NULL, warned_rate DOUBLE, warned_rate_lower DOUBLE,
    warned_rate_upper DOUBLE, is_enough_data_warned_rate BOOLEAN NOT NULL,
    count_due_moved_after_passed BIGINT NOT NULL, evidence_keys VARCHAR[] NOT NULL)"""


def _columns(con: object, table: str) -> list[str]:
    return [r[0] for r in con.execute(  # type: ignore[attr-defined]
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
    ).fetchall()]  # fmt: skip


def test_old_metric_tables_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = connect(path)
    new_expectations = _columns(con, "metric_expectations")
    # Make it the old schema: an old metric table with a row, an unchanged one with a row, a run row.
    con.execute("DROP TABLE metric_expectations")
    con.execute(OLD_EXPECTATIONS)
    con.execute(
        "INSERT INTO metric_expectations VALUES ('email:a@x', NULL, 'window', DATE '2024-01-01', "
        "DATE '2024-03-31', 3, 2, 1, NULL, 0.1, 0.9, false, 0, [])"
    )
    con.execute(
        "INSERT INTO metric_ownership VALUES ('email:a@x', NULL, 'window', DATE '2024-01-01', "
        "DATE '2024-03-31', 4, 0, 0, 1, [], 'note')"
    )
    con.execute(
        "INSERT INTO metric_runs VALUES (TIMESTAMP '2024-03-31 12:00', TIMESTAMP '2024-03-31 23:59:59', "
        "DATE '2024-03-31', DATE '2024-01-02', 90, 5, 'UTC', 48.0, false, false)"
    )
    con.execute("UPDATE pipeline_schema SET fingerprint = 'before-issue-13'")
    con.close()

    con = connect(path)  # the schema scripts run again, _migrate first
    try:
        assert _columns(con, "metric_expectations") == new_expectations
        assert "warned_rate_numerator" in new_expectations
        assert con.execute("SELECT count(*) FROM metric_expectations").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM metric_ownership").fetchall() == [(1,)]  # unchanged table
        # The settings stay (a sync recomputes with them), the moment does not pass for current.
        assert con.execute("SELECT as_of, as_of_date, window_days, min_n FROM metric_runs").fetchall() == [
            (datetime(1970, 1, 1), date(1970, 1, 1), 90, 5)
        ]
        # And the next metrics run fills the new tables.
        compute_metrics(con, MetricSettings(as_of=datetime(2024, 3, 31, 23, 59, 59)))
        assert con.execute("SELECT as_of_date FROM metric_runs").fetchall() == [(date(2024, 3, 31),)]
    finally:
        con.close()

    con = connect(path)  # a database with the current schema: nothing is dropped
    try:
        assert con.execute("SELECT count(*) FROM metric_runs").fetchall() == [(1,)]
        assert con.execute("SELECT as_of_date FROM metric_runs").fetchall() == [(date(2024, 3, 31),)]
    finally:
        con.close()
