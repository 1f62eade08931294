"""Ownership (admitting mistakes): self-reverts and fix-ups of one's own work, shown as counts.

Higher is not worse: reverting or fixing one's own work in the open is the practice this family
shows, so there is no rate here and nothing to minimise.

Definitions (reachable, non-merge commits authored at or before as_of; dates in settings.timezone):
- self-revert: a revert commit ("This reverts commit <sha>") whose reverted commit was authored by
  the same contributor. Counted for that contributor on the revert's date.
- reverted by others: one of the contributor's commits reverted by someone else (a bot included),
  counted for the author of the reverted commit on the revert's date. A revert whose target is not
  loaded, or whose abbreviated id matches several commits, is no one's (fct_commits.reverted_sha).
- fix-up of own work: a commit C by X, not itself a revert, such that any of
  (a) autosquash: C's subject is "fixup! S", "squash! S" or "amend! S" (markers may repeat), and X
      authored a commit with subject S in the same repository in the FIXUP_WINDOW_DAYS before C;
  (b) explicit reference: C's message has a "Fixes: <commit id>" line, or C's subject starts with
      the word fix (Fix, Fixes, Fixed, fix:, fix(scope):) and its message names a commit id (7 to 40
      hex digits), and that id is an earlier commit of X in the same repository (any age);
  (c) fix of a fresh change: C's subject starts with the word fix and C changes a file whose
      previous change in the repository (by author date) was X's own, made in the
      FIXUP_WINDOW_DAYS before C.
  A commit meeting several rules counts once.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipeline.metrics.common import (
    PERIOD_KEYS,
    SUBJECT_KEYS,
    MetricSettings,
    by_subject,
    commits,
    human_contributors,
    local_date,
    periods,
    read,
)
from pipeline.metrics.credit_sharing import commit_key

FIXUP_WINDOW_DAYS = 14
OWNERSHIP_NOTE = (
    "Counts, not rates: higher is not worse. Reverting or fixing one's own work openly is the practice "
    "shown here; a conversation starter about performance trust, not a verdict on a person."
)
AUTOSQUASH_MARKERS = r"^(?:(?:fixup|squash|amend)! *)+"
FIX_SUBJECT = r"(?i)^fix(?:es|ed)?(?:\([^)]*\))?!?(?::|\s|$)"
FIXES_LINE = r"(?im)^[ \t]*fixes:[ \t]*[0-9a-f]{7,40}\b"
COMMIT_ID = r"(?i)\b[0-9a-f]{7,40}\b"

MEASURES = (
    "count_commits",
    "count_self_reverts",
    "count_reverted_by_others",
    "count_fixups",
    "evidence_keys",
    "note",
)


def _commits(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Every loaded commit (all reachable from the synced refs). The message is read
    only where it mentions a fix, which is all rule (b) needs."""
    return commits(con, settings)


def _files(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> pl.LazyFrame:
    """Files changed by non-merge commits authored by as_of, with the commit's author and time (the
    commits from the shared read: fct_commits is not read again for the join)."""
    files = read(con, "SELECT repo, sha, path FROM fct_commit_files")
    authors = (
        commits(con, settings)
        .filter(~pl.col("is_merge"))
        .select("repo", "sha", "contributor_id", "authored_at")
    )
    return files.join(authors, on=["repo", "sha"], how="inner")


def _live(commits: pl.LazyFrame) -> pl.LazyFrame:
    return commits.filter(~pl.col("is_merge"))


def is_fix_subject() -> pl.Expr:
    return pl.col("subject").fill_null("").str.contains(FIX_SUBJECT)


def within_window(later: str, earlier: str) -> pl.Expr:
    gap = pl.col(later) - pl.col(earlier)
    return (gap >= pl.duration(seconds=0)) & (gap <= pl.duration(days=FIXUP_WINDOW_DAYS))


def _autosquash_fixups(candidates: pl.LazyFrame, commits: pl.LazyFrame) -> pl.LazyFrame:
    """Rule (a): (repo, sha) of fixup!/squash!/amend! commits whose target subject is X's recent commit."""
    marked = candidates.filter(pl.col("subject").fill_null("").str.contains(AUTOSQUASH_MARKERS)).select(
        "repo",
        "sha",
        "contributor_id",
        "authored_at",
        pl.col("subject").str.replace(AUTOSQUASH_MARKERS, "").alias("target_subject"),
    )
    targets = commits.select(
        "repo",
        "contributor_id",
        pl.col("subject").alias("target_subject"),
        pl.col("sha").alias("target_sha"),
        pl.col("authored_at").alias("target_at"),
    )
    return (
        marked.join(targets, on=["repo", "contributor_id", "target_subject"], how="inner")
        .filter((pl.col("target_sha") != pl.col("sha")) & within_window("authored_at", "target_at"))
        .select("repo", "sha")
    )


def _referenced_ids() -> pl.Expr:
    """Commit ids C's message names as the thing it fixes (rule b), lower case."""
    fixes_lines = (
        pl.col("message")
        .str.extract_all(FIXES_LINE)
        .list.eval(pl.element().str.extract(r"([0-9a-fA-F]{7,40})$", 1))
    )
    anywhere = pl.col("message").str.extract_all(COMMIT_ID)
    ids = pl.when(is_fix_subject()).then(fixes_lines.list.concat(anywhere)).otherwise(fixes_lines)
    return ids.list.eval(pl.element().str.to_lowercase())


def _referenced_fixups(candidates: pl.LazyFrame, commits: pl.LazyFrame) -> pl.LazyFrame:
    """Rule (b): (repo, sha) of commits naming an earlier commit of their own author as what they fix."""
    refs = (
        candidates.filter(pl.col("message").is_not_null())
        .select("repo", "sha", "contributor_id", "authored_at", _referenced_ids().alias("ref"))
        .explode("ref")
        .filter(pl.col("ref").is_not_null())
        .with_columns(prefix=pl.col("ref").str.slice(0, 7))
    )
    targets = commits.select(
        "repo",
        "contributor_id",
        pl.col("sha").alias("target_sha"),
        pl.col("sha").str.slice(0, 7).alias("prefix"),
        pl.col("authored_at").alias("target_at"),
    )
    return (
        refs.join(targets, on=["repo", "contributor_id", "prefix"], how="inner")
        .filter(
            pl.col("target_sha").str.starts_with(pl.col("ref"))
            & (pl.col("target_sha") != pl.col("sha"))
            & (pl.col("target_at") <= pl.col("authored_at"))
        )
        .select("repo", "sha")
    )


def _fresh_change_fixups(candidates: pl.LazyFrame, files: pl.LazyFrame) -> pl.LazyFrame:
    """Rule (c): (repo, sha) of fix commits touching a file whose previous change was their author's,
    recently. Changes of one file at the same instant (a rebase, a squash of several authors) are one
    previous change, the author's if any of them is: which came "last" among them is not knowable,
    and taking whichever row sorted last made the result depend on row order."""
    fix_files = (
        candidates.filter(is_fix_subject())
        .select("repo", "sha", "contributor_id", "authored_at")
        .join(files.select("repo", "sha", "path"), on=["repo", "sha"], how="inner")
        .sort("authored_at")
    )
    # The instant of each file's previous change, then whether the author made any change of that
    # file at that instant: rows at one instant share it, so no grouping of the two million changes
    # into lists of authors is needed (that grouping was 3-4 s of the family on the benchmark).
    changes = files.select("repo", "path", pl.col("authored_at").alias("previous_at"))
    own_changes = files.select("repo", "path", "contributor_id", pl.col("authored_at").alias("previous_at"))
    return (
        fix_files.join_asof(
            changes.sort("previous_at"),
            left_on="authored_at",
            right_on="previous_at",
            by=["repo", "path"],
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,  # both sides sorted above; polars cannot check within `by` groups
        )
        .filter(within_window("authored_at", "previous_at"))
        .join(own_changes, on=["repo", "path", "contributor_id", "previous_at"], how="semi")
        .select("repo", "sha")
    )


def _revert_pairs(commits: pl.LazyFrame) -> pl.LazyFrame:
    """Each live revert with the author of the commit it reverts."""
    targets = commits.select(
        "repo", pl.col("sha").alias("reverted_sha"), pl.col("contributor_id").alias("reverted_contributor_id")
    )
    return (
        _live(commits)
        .filter(pl.col("is_revert") & pl.col("reverted_sha").is_not_null())
        .select("repo", "sha", "contributor_id", "authored_at", "reverted_sha")
        .join(targets, on=["repo", "reverted_sha"], how="inner")
    )


def ownership_events(
    commits: pl.LazyFrame, files: pl.LazyFrame, humans: pl.LazyFrame, settings: MetricSettings
) -> pl.LazyFrame:
    """One row per live commit of a human (flags: self-revert, fix-up) and one per revert of a human's
    commit by someone else (attributed to the reverted commit's author)."""
    live = _live(commits)
    candidates = live.filter(~pl.col("is_revert"))
    fixups = (
        pl.concat(
            [
                _autosquash_fixups(candidates, commits),
                _referenced_fixups(candidates, commits),
                _fresh_change_fixups(candidates, files),
            ]
        )
        .unique()
        .with_columns(is_fixup=pl.lit(True))
    )
    pairs = _revert_pairs(commits)
    self_reverts = (
        pairs.filter(pl.col("contributor_id") == pl.col("reverted_contributor_id"))
        .select("repo", "sha")
        .unique()
        .with_columns(is_self_revert=pl.lit(True))
    )
    own = (
        live.join(humans, on="contributor_id", how="semi")
        .join(fixups, on=["repo", "sha"], how="left")
        .join(self_reverts, on=["repo", "sha"], how="left")
        .select(
            "repo",
            "contributor_id",
            "authored_at",
            pl.lit(True).alias("is_commit"),
            pl.col("is_self_revert").fill_null(False),
            pl.lit(False).alias("is_reverted_by_other"),
            pl.col("is_fixup").fill_null(False),
            commit_key().alias("evidence_key"),
        )
        .with_columns(
            evidence_key=pl.when(pl.col("is_self_revert") | pl.col("is_fixup")).then(pl.col("evidence_key"))
        )
    )
    by_others = (
        pairs.filter(pl.col("contributor_id").ne_missing(pl.col("reverted_contributor_id")))
        .join(humans, left_on="reverted_contributor_id", right_on="contributor_id", how="semi")
        .select(
            "repo",
            pl.col("reverted_contributor_id").alias("contributor_id"),
            "authored_at",
            pl.lit(False).alias("is_commit"),
            pl.lit(False).alias("is_self_revert"),
            pl.lit(True).alias("is_reverted_by_other"),
            pl.lit(False).alias("is_fixup"),
            commit_key().alias("evidence_key"),
        )
    )
    return pl.concat([own, by_others], how="vertical_relaxed").with_columns(
        day=local_date("authored_at", settings.timezone)
    )


def _aggregations() -> list[pl.Expr]:
    return [
        pl.col("is_commit").sum().cast(pl.Int64).alias("count_commits"),
        pl.col("is_self_revert").sum().cast(pl.Int64).alias("count_self_reverts"),
        pl.col("is_reverted_by_other").sum().cast(pl.Int64).alias("count_reverted_by_others"),
        pl.col("is_fixup").sum().cast(pl.Int64).alias("count_fixups"),
        pl.col("evidence_key").drop_nulls().unique().sort().alias("evidence_keys"),
    ]


def metric_rows(events: pl.LazyFrame, settings: MetricSettings) -> pl.LazyFrame:
    return (
        by_subject(periods(events, "day", settings), _aggregations())
        .with_columns(note=pl.lit(OWNERSHIP_NOTE))
        .select(*SUBJECT_KEYS, *PERIOD_KEYS, *MEASURES)
        .sort([*SUBJECT_KEYS, *PERIOD_KEYS], nulls_last=True)
    )


def compute(con: duckdb.DuckDBPyConnection, settings: MetricSettings) -> dict[str, pl.DataFrame]:
    commits = _commits(con, settings)
    events = ownership_events(commits, _files(con, settings), human_contributors(con, settings), settings)
    return {"metric_ownership": metric_rows(events, settings).collect()}
