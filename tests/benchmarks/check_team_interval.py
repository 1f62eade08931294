"""Check (not a test: it needs a real history): is the team interval of "weeks with activity" at
least three quarters as wide as a cluster bootstrap over people of the same pooled rate?

    perftrust sync --repo /path/to/flask --db flask.duckdb
    perftrust metrics --db flask.duckdb --as-of 2026-04-08 --window 730d
    .venv/bin/python -m tests.benchmarks.check_team_interval --db flask.duckdb

Reads metric_consistency: the team row (team `all`, the window) with its interval, and each human
person's active weeks and weeks observed in the window. Resamples people with replacement
(--resamples times, fixed seed), takes the pooled rate of each resample, and prints the percentile
interval beside the product's, with the ratio of their widths (issue 13 asks for at least 0.75).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--resamples", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with duckdb.connect(str(args.db), read_only=True) as con:
        team = con.execute(
            """SELECT active_weeks_ratio, active_weeks_ratio_numerator, active_weeks_ratio_denominator,
                      active_weeks_ratio_lower, active_weeks_ratio_upper
               FROM metric_consistency WHERE team_id = 'all' AND period_type = 'window'"""
        ).fetchall()
        people = con.execute(
            """SELECT m.active_weeks_ratio_numerator, m.active_weeks_ratio_denominator
               FROM metric_consistency m JOIN dim_contributors c USING (contributor_id)
               WHERE m.team_id IS NULL AND m.period_type = 'window' AND NOT c.is_bot
                 AND m.active_weeks_ratio_denominator > 0"""
        ).fetchall()
    if not team or not people:
        raise SystemExit("no window rows in metric_consistency: run `perftrust metrics` first")
    rate, numerator, denominator, lower, upper = team[0]
    rng = random.Random(args.seed)
    n = len(people)
    pooled = []
    for _ in range(args.resamples):
        sample = [people[rng.randrange(n)] for _ in range(n)]
        pooled.append(sum(a for a, _ in sample) / sum(b for _, b in sample))
    pooled.sort()
    boot_lower = pooled[int(0.025 * len(pooled))]
    boot_upper = pooled[int(0.975 * len(pooled)) - 1]
    print(f"people {n}, pooled {numerator}/{denominator} = {rate:.4f}")
    print(f"team interval     {lower:.4f} - {upper:.4f} (width {upper - lower:.4f})")
    print(f"cluster bootstrap {boot_lower:.4f} - {boot_upper:.4f} (width {boot_upper - boot_lower:.4f})")
    print(f"width ratio: {(upper - lower) / (boot_upper - boot_lower):.2f} (at least 0.75 wanted)")


if __name__ == "__main__":
    main()
