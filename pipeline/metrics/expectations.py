"""Managing expectations: of commitments that slipped, how many were flagged before the due date;
and due dates moved after they had passed. Reads fct_commitments (written just before)."""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.metrics.common import (
    PERIOD_KEYS,
    MetricSettings,
    by_member,
    by_subject,
    periods,
    rate,
    read,
    with_team_intervals,
)

SLIPPED = ("late", "overdue", "dropped")


def compute(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> dict[str, pl.DataFrame]:
    facts = read(
        con,
        """SELECT repo, commitment_key, contributor_id, due_date, outcome, warned_before_due, due_moved_after_passed
           FROM fct_commitments
           WHERE contributor_id IS NOT NULL AND (? OR NOT is_assignee_bot) AND outcome <> 'pending'""",
        [settings.include_bots],
    )
    slipped = pl.col("outcome").is_in(SLIPPED)
    events = periods(facts, "due_date", settings).collect().lazy()  # read twice: computed once
    counts = [
        slipped.sum().alias("count_slipped"),
        (slipped & pl.col("warned_before_due")).sum().alias("count_slipped_warned"),
    ]
    warned = rate("warned_rate", "count_slipped_warned", "count_slipped", settings.min_n)
    rows = by_subject(
        events,
        [
            *counts,
            pl.col("due_moved_after_passed").sum().alias("count_due_moved_after_passed"),
            pl.len().alias("count_commitments_resolved"),
            pl.col("commitment_key")
            .filter(slipped | pl.col("due_moved_after_passed"))
            .sort()
            .alias("evidence_keys"),
        ],
    )
    metric = (
        with_team_intervals(
            rows.with_columns(*warned), by_member(events, counts).with_columns(*warned), ["warned_rate"]
        )
        .sort(["team_id", "contributor_id", *PERIOD_KEYS], nulls_last=False)
        .collect()
    )
    return {"metric_expectations": metric}
