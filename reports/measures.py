"""Which columns of the metric tables a report shows, grouped by signal family, in reading order.

A measure is a rate (numerator / n with a Wilson 95% interval), a median or other number with its n,
or a plain count. Nothing here combines measures: each is shown on its own, with its n."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["rate", "median", "number", "count"]
Source = Literal["git", "github", "any"]  # the data a measure needs: git history, GitHub data, either


@dataclass(frozen=True)
class Measure:
    table: str
    column: str
    label: str
    kind: Kind
    n_columns: tuple[str, ...] = ()  # summed: the n behind the value
    numerator: str | None = None  # rates: the count on top (pooled team rates add these up)
    enough_column: str | None = None  # the table's is_enough_data_* column, when it has one
    unit: str = ""  # medians and numbers: " h", " days"
    details: tuple[tuple[str, str], ...] = ()  # (label, count column) shown beside the value
    help: str = ""
    zero_when_missing: bool = True  # counts: no row in the window reads as zero
    summable: bool = True  # counts: a team total means something (a longest gap does not add up)

    @property
    def metric(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def source(self) -> Source:
        """The data this measure needs: without it, it is not measured (rather than zero)."""
        if self.table in _GITHUB_TABLES or self.column in _GITHUB_COLUMNS:
            return "github"
        if self.table in _GIT_TABLES or self.column in _GIT_COLUMNS:
            return "git"
        return "any"


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    question: str
    table: str
    measures: tuple[Measure, ...]
    note: str = ""
    nothing: str = ""  # what a person without a row had none of in the window, in neutral words

    @property
    def sources(self) -> frozenset[Source]:
        return frozenset(m.source for m in self.measures)


def _rate(
    table: str,
    name: str,
    label: str,
    numerator: str,
    n: str,
    help: str,
    details: tuple[tuple[str, str], ...] = (),
) -> Measure:
    return Measure(table, name, label, "rate", (n,), numerator, f"is_enough_data_{name}", "", details, help)


_FT = "metric_follow_through"
_EX = "metric_expectations"
_CO = "metric_consistency"
_CR = "metric_credit_sharing"
_CM = "metric_communication"
_HS = "metric_help_seeking"
_OW = "metric_ownership"

FAMILIES: tuple[Family, ...] = (
    Family(
        "follow_through",
        "Follow-through",
        "Are commitments (assigned items with a due date) finished by their date; are pull requests and review requests seen through?",
        _FT,
        (
            _rate(_FT, "on_time_rate", "Commitments finished on time", "count_on_time", "count_on_time_denominator",
                  "closed as completed by the end of the due date, of on time + late + overdue + dropped; handed-off and not-yet-due ones are not counted",
                  details=(("on time", "count_on_time"), ("late", "count_late"), ("overdue", "count_overdue"),
                           ("dropped", "count_dropped"), ("handed off", "count_handed_off"), ("not yet due", "count_pending"))),
            Measure(_FT, "slip_days_median", "Median days late (late ones)", "median", ("count_late",), unit=" days",
                    help="how far the late commitments slipped"),
            _rate(_FT, "pr_completion_rate", "Pull requests merged", "count_prs_merged", "count_prs_resolved",
                  "merged, of own pull requests resolved (merged or closed unmerged)",
                  details=(("merged", "count_prs_merged"), ("closed unmerged", "count_prs_closed_unmerged"))),
            _rate(_FT, "review_follow_through_rate", "Review requests answered in time", "count_review_requests_answered",
                  "count_review_requests_due", "answered within the response time, of requests due (answered, answered late, dropped)",
                  details=(("answered", "count_review_requests_answered"), ("late", "count_review_requests_answered_late"),
                           ("dropped", "count_review_requests_dropped"), ("withdrawn", "count_review_requests_removed"),
                           ("still open", "count_review_requests_pending"))),
            Measure(_FT, "review_response_hours_median", "Median hours to answer a review request", "median",
                    ("count_review_requests_answered", "count_review_requests_answered_late"), unit=" h",
                    help="from the request to the reviewer's first review"),
        ),
        nothing="no due-dated commitments, pull requests or review requests of theirs",
    ),
    Family(
        "expectations",
        "Managing expectations",
        "When a commitment slipped, did the assignee say so before the due date?",
        _EX,
        (
            _rate(_EX, "warned_rate", "Slipped commitments warned about in time", "count_slipped_warned", "count_slipped",
                  "the assignee commented or re-planned by the due date, of late, overdue and dropped commitments",
                  details=(("warned", "count_slipped_warned"), ("slipped", "count_slipped"))),
            Measure(_EX, "count_due_moved_after_passed", "Due dates moved after they had passed", "count",
                    help="commitments whose date changed once it was already past"),
        ),
        nothing="no commitment of theirs slipped",
    ),
    Family(
        "consistency",
        "Consistency",
        "Is activity steady over the weeks, and is delivery predictable?",
        _CO,
        (
            _rate(_CO, "active_weeks_ratio", "Weeks with activity", "active_weeks_ratio_numerator",
                  "active_weeks_ratio_denominator",
                  "weeks with any commit, pull request, issue, review or comment, of the weeks observed (a person's interval treats weeks as independent, so it is too narrow for activity that comes in streaks; the team interval counts people)"),
            Measure(_CO, "weekly_activity_cv", "Week-to-week variation of active days", "number",
                    ("active_weeks_ratio_denominator",), enough_column="is_enough_data_weekly_activity_cv",
                    help="how much the number of active days changes from week to week: standard deviation ÷ mean "
                    "(0 = the same every week, higher = more uneven); n = weeks"),
            Measure(_CO, "longest_gap_days", "Longest stretch without activity", "count", unit=" days",
                    help="consecutive calendar days without any activity in the window", zero_when_missing=False,
                    summable=False),
            Measure(_CO, "pr_cycle_time_median_hours", "Median hours from opening to merge", "median",
                    ("count_prs_merged",), enough_column="is_enough_data_pr_cycle_time", unit=" h",
                    help="own pull requests merged in the window"),
            Measure(_CO, "pr_cycle_time_iqr_hours", "Spread of that time (interquartile range)", "median",
                    ("count_prs_merged",), enough_column="is_enough_data_pr_cycle_time", unit=" h",
                    help="lower = more predictable"),
            _rate(_CO, "revert_rate", "Own commits reverted", "revert_rate_numerator", "revert_rate_denominator",
                  "own non-merge commits that were later reverted (by anyone)"),
        ),
        nothing="no recorded activity",
    ),
    Family(
        "credit",
        "Credit-sharing",
        "Is credit given where it is due: co-authors named, reviewers thanked, others' work reviewed?",
        _CR,
        (
            Measure(_CR, "count_coauthor_credits_given", "Co-author credits given", "count"),
            Measure(_CR, "count_coauthor_credits_received", "Co-author credits received", "count"),
            Measure(_CR, "count_review_credits_given", "Review credits given (Reviewed-, Acked-, Tested-by)", "count"),
            Measure(_CR, "count_review_credits_received", "Review credits received", "count"),
            Measure(_CR, "count_other_trailer_credits_given", "Other credits given (Reported-, Suggested-, Helped-by)", "count"),
            Measure(_CR, "count_other_trailer_credits_received", "Other credits received", "count"),
            Measure(_CR, "count_reviews_given_on_others_prs", "Reviews given on others' pull requests", "count"),
            Measure(_CR, "count_reviews_received_on_own_prs", "Reviews received on own pull requests", "count"),
            # Distinct counts do not add up across people: no team total.
            Measure(_CR, "count_distinct_people_credited", "Distinct people credited", "count", summable=False),
            Measure(_CR, "count_distinct_people_helped", "Distinct people helped", "count", summable=False),
        ),
        note="Counts, not rates: how much credit flows is shown, not judged.",
        nothing="no credits or reviews given or received",
    ),
    Family(
        "communication",
        "Communication",
        "Do pull requests explain themselves and link their issue; are review comments answered?",
        _CM,
        (
            _rate(_CM, "pr_description_share", "Pull requests with a real description", "pr_description_share_numerator",
                  "pr_description_share_denominator", "a non-trivial description (not an unfilled template), of pull requests opened"),
            _rate(_CM, "pr_issue_link_share", "Pull requests linked to an issue", "pr_issue_link_share_numerator",
                  "pr_issue_link_share_denominator", "of pull requests opened"),
            Measure(_CM, "review_comment_response_median_hours", "Median hours to answer a review comment", "median",
                    ("count_review_comments_answered",), enough_column="is_enough_data_review_comment_response",
                    unit=" h", help="on own pull requests, to the first reply in the thread"),
        ),
        nothing="no pull requests of theirs",
    ),
    Family(
        "help",
        "Help-seeking",
        "Do people ask for reviews, open work early as drafts, and work together?",
        _HS,
        (
            _rate(_HS, "review_request_rate", "Pull requests with a review asked for", "review_request_rate_numerator",
                  "review_request_rate_denominator", "of pull requests opened"),
            _rate(_HS, "draft_early_rate", "Pull requests opened as drafts", "draft_early_rate_numerator",
                  "draft_early_rate_denominator", "of pull requests opened"),
            _rate(_HS, "coauthored_commit_rate", "Commits co-authored", "coauthored_commit_rate_numerator",
                  "coauthored_commit_rate_denominator", "naming another person as co-author, of own commits"),
        ),
        nothing="no pull requests or commits of theirs",
    ),
    Family(
        "ownership",
        "Ownership",
        "Are mistakes owned openly: own work reverted or fixed up by its author?",
        _OW,
        (
            Measure(_OW, "count_self_reverts", "Own commits reverted by oneself", "count"),
            Measure(_OW, "count_fixups", "Fix-ups of own work", "count"),
            Measure(_OW, "count_reverted_by_others", "Own commits reverted by others", "count",
                    help="context, not an admission"),
            Measure(_OW, "count_commits", "Commits (context)", "count"),
        ),
        note="Counts, not rates: higher is not worse. Owning a mistake openly is the practice shown.",
        nothing="no commits of theirs",
    ),
)  # fmt: skip

# The data each measure needs (reports/coverage.py says which is missing).
_GITHUB_TABLES = {_FT, _EX, _CM}
_GITHUB_COLUMNS = {
    "pr_cycle_time_median_hours",
    "pr_cycle_time_iqr_hours",
    "count_reviews_given_on_others_prs",
    "count_reviews_received_on_own_prs",
    "review_request_rate",
    "draft_early_rate",
}
_GIT_TABLES = {_OW}
_GIT_COLUMNS = {
    "revert_rate",
    "count_coauthor_credits_given",
    "count_coauthor_credits_received",
    "count_review_credits_given",
    "count_review_credits_received",
    "count_other_trailer_credits_given",
    "count_other_trailer_credits_received",
    "coauthored_commit_rate",
}

METRIC_TABLES = tuple(f.table for f in FAMILIES)
RATE_MEASURES = tuple(m for f in FAMILIES for m in f.measures if m.kind == "rate")
