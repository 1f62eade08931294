"""One naming pattern for every rate or ratio in every metric table (issue 13).

Every rate r has r, r_numerator, r_denominator, r_lower, r_upper and is_enough_data_r; a companion
never stands without its rate. Every median m has m, m_lower, m_upper and is_enough_data_m. Walks information_schema.columns of a database built from sql/, so a
column added later that breaks the pattern fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.db import connect

RATE = re.compile(r"_(rate|ratio|share)$")
COMPANIONS = ("_numerator", "_denominator", "_lower", "_upper")
# DOUBLE columns that are not rates: medians, spreads, a coefficient of variation. Anything else that is
# a DOUBLE must be a rate (and follow the pattern) or a bound: a new kind of number has to be named here.
NOT_RATES = re.compile(r"(_median(_hours|_days)?|_median_hours|_iqr_hours|_cv)$")
# Medians follow a pattern of their own: m, m_lower, m_upper (its 95% interval) and is_enough_data_m.
MEDIAN = re.compile(r"_median(_hours|_days)?$")


def _columns(path: Path) -> dict[str, dict[str, str]]:
    con = connect(path)
    try:
        rows = con.execute(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
               WHERE table_name LIKE 'metric\\_%' ESCAPE '\\' AND table_name <> 'metric_runs' ORDER BY table_name, ordinal_position"""
        ).fetchall()
    finally:
        con.close()
    tables: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, {})[column] = kind
    return tables


def naming_problems(tables: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    for table, columns in tables.items():
        rates = {c for c, kind in columns.items() if kind == "DOUBLE" and RATE.search(c)}
        for r in sorted(rates):
            for suffix in COMPANIONS:
                if f"{r}{suffix}" not in columns:
                    problems.append(f"{table}.{r} has no {r}{suffix}")
            if f"is_enough_data_{r}" not in columns:
                problems.append(f"{table}.{r} has no is_enough_data_{r}")
            for suffix, kind in (("_numerator", "BIGINT"), ("_denominator", "BIGINT"), ("_lower", "DOUBLE"),
                                 ("_upper", "DOUBLE")):  # fmt: skip
                if columns.get(f"{r}{suffix}", kind) != kind:
                    problems.append(f"{table}.{r}{suffix} is {columns[r + suffix]}, not {kind}")
        medians = {c for c, kind in columns.items() if kind == "DOUBLE" and MEDIAN.search(c)}
        for m in sorted(medians):
            for suffix in ("_lower", "_upper"):
                if columns.get(f"{m}{suffix}") != "DOUBLE":
                    problems.append(f"{table}.{m} has no DOUBLE {m}{suffix}")
            if columns.get(f"is_enough_data_{m}") != "BOOLEAN":
                problems.append(f"{table}.{m} has no BOOLEAN is_enough_data_{m}")
        for column, kind in columns.items():
            # count_* columns are counts kept as they were (count_on_time_denominator is the n of
            # on_time_rate, copied to on_time_rate_denominator): not companions.
            companion = not column.startswith("count_")
            stem = next((column[: -len(s)] for s in COMPANIONS if companion and column.endswith(s)), None)
            if stem is not None and stem not in columns:
                problems.append(f"{table}.{column} has no {stem} beside it")
            if stem is not None and column.endswith(("_numerator", "_denominator")) and stem not in rates:
                problems.append(
                    f"{table}.{column}: a numerator or denominator of something not named as a rate"
                )
            if column.startswith("is_enough_data_") and RATE.search(column) and column[15:] not in rates:
                problems.append(f"{table}.{column} has no rate {column[15:]}")
            if kind == "DOUBLE" and stem is None and column not in rates and not NOT_RATES.search(column):
                problems.append(
                    f"{table}.{column} is a DOUBLE that is neither a rate nor a known kind of number"
                )
    return problems


def test_every_rate_follows_the_pattern(tmp_path: Path) -> None:
    tables = _columns(tmp_path / "schema.duckdb")
    assert {"metric_follow_through", "metric_consistency", "metric_help_seeking"} <= set(tables)
    assert naming_problems(tables) == []
    # The ones issue 13 found without the pattern now have it.
    follow = tables["metric_follow_through"]
    for r in ("on_time_rate", "pr_completion_rate", "review_follow_through_rate"):
        assert {f"{r}_numerator", f"{r}_denominator"} <= set(follow)
    assert {"warned_rate_numerator", "warned_rate_denominator"} <= set(tables["metric_expectations"])
    assert "weeks_with_anyone_active_ratio_lower" in tables["metric_consistency"]
    for table, median in (
        ("metric_follow_through", "slip_days_median"),
        ("metric_follow_through", "review_response_hours_median"),
        ("metric_consistency", "pr_cycle_time_median_hours"),
        ("metric_communication", "review_comment_response_median_hours"),
    ):
        assert {f"{median}_lower", f"{median}_upper", f"is_enough_data_{median}"} <= set(tables[table])


def test_the_check_catches_a_broken_pattern() -> None:
    tables = {
        "metric_x": {
            "good_rate": "DOUBLE", "good_rate_numerator": "BIGINT", "good_rate_denominator": "BIGINT",
            "good_rate_lower": "DOUBLE", "good_rate_upper": "DOUBLE", "is_enough_data_good_rate": "BOOLEAN",
            "bare_rate": "DOUBLE", "bare_rate_lower": "DOUBLE", "bare_rate_upper": "DOUBLE",
            "orphan_share_numerator": "BIGINT", "mystery_score": "DOUBLE",
            "good_median_hours": "DOUBLE", "good_median_hours_lower": "DOUBLE", "good_median_hours_upper": "DOUBLE",
            "is_enough_data_good_median_hours": "BOOLEAN", "bare_median": "DOUBLE",
        }
    }  # fmt: skip
    assert naming_problems(tables) == [
        "metric_x.bare_rate has no bare_rate_numerator",
        "metric_x.bare_rate has no bare_rate_denominator",
        "metric_x.bare_rate has no is_enough_data_bare_rate",
        "metric_x.bare_median has no DOUBLE bare_median_lower",
        "metric_x.bare_median has no DOUBLE bare_median_upper",
        "metric_x.bare_median has no BOOLEAN is_enough_data_bare_median",
        "metric_x.orphan_share_numerator has no orphan_share beside it",
        "metric_x.orphan_share_numerator: a numerator or denominator of something not named as a rate",
        "metric_x.mystery_score is a DOUBLE that is neither a rate nor a known kind of number",
    ]
