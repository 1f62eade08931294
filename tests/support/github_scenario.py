"""Deterministic synthetic GitHub data for tests: repositories, issues, pull requests and their histories.

``generate_dataset(seed, repos=1, issues=200, prs=60, people=15)`` returns a :class:`Dataset`: plain Python
objects that are at the same time the *input* of the fake GitHub server (``tests.support.github_server``)
and the *ground truth* an extractor's output is compared with.  Everything derives from
``random.Random(seed)``, so the same arguments always give the same data (ids, texts, timestamps).

The shapes follow what GitHub really returns (see the recordings under
``shared/data/github-recorded``): a pull request is an issue with a :class:`PullRequest` attached,
issue and pull-request numbers share one sequence in creation order, timelines hold ``assigned``,
``unassigned``, ``milestoned``, ``demilestoned``, ``labeled``, ``renamed``, ``closed`` (with
``state_reason``), ``reopened``, ``cross-referenced``, ``commented``, ``review_requested``,
``review_request_removed``, ``ready_for_review``, ``reviewed`` and ``merged`` entries, and an item's
``updated_at`` is never earlier than its last activity.  Milestone due dates are midnight US-Pacific
stored in UTC (07:00Z in daylight-saving time, 08:00Z otherwise), like GitHub's.

Scenario content that metric tests need is indexed in ``Repository.scenarios`` (name -> item numbers,
as generated; ``advance`` does not re-tag).  With the default sizes every repository is guaranteed to
hold ``closed_on_time``, ``closed_late``, ``overdue_open``, ``not_planned``, ``reassigned_before_due``,
``reassigned_after_due``, ``review_answered``, ``review_answered_late``, ``review_ignored``,
``review_request_removed`` (each forced at least twice when eligible items exist), ``nul_body``,
``ghost_author``, ``long_timeline`` (issues >= 50), ``many_reviews`` (prs >= 20) and, in the first
repository, ``transferred`` (to the second repository when there is one, else to a repository outside
the dataset).  The others (``bot_author``, ``deleted_fork``, ``unicode_body``, ``review_dismissed``...)
are random but frequent.  See :data:`SCENARIOS` for the full list and meaning.

Ground truth beyond the payload fields: ``PullRequest.review_requests`` (reviewer, requested_at,
outcome, answered_at, removed_at), ``PullRequest.requested_reviewers`` (pending),
``Issue.transferred_to``, ``Commit.author`` (None when the email is not linked to an account),
``User.association`` and ``Dataset.updated_since``.  All timestamps are whole-second UTC datetimes.

Time passes with :meth:`Dataset.advance` (comments, closes, reopenings, reassignments, reviews, merges
and new items after ``dataset.now``), and :meth:`Dataset.change_milestone_due` moves a due date without
touching any issue's ``updated_at`` (exactly the case an incremental sync based on ``since`` misses).
Every mutation takes ``dataset.lock`` and bumps ``dataset.version``, which the server watches.

GitHub Projects are opt-in: :func:`add_projects` adds org and user projects with date and iteration
fields (its own random generator and ids, so nothing else changes) and returns
:data:`PROJECT_SCENARIOS`; :meth:`Dataset.set_project_value` moves or clears a value between runs.

``minimum_requests(dataset, repo)`` is the request-count oracle: the fewest GET requests (100 per page)
a complete sync of one repository needs.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import math
import random
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final

__all__ = [
    "DEPENDABOT",
    "GHOST",
    "SCENARIOS",
    "AdvanceResult",
    "Commit",
    "Dataset",
    "ForkRepo",
    "Issue",
    "IssueComment",
    "Label",
    "Milestone",
    "Project",
    "ProjectField",
    "ProjectItem",
    "ProjectIteration",
    "PullRequest",
    "Repository",
    "Review",
    "ReviewComment",
    "ReviewRequest",
    "TimelineEvent",
    "Transfer",
    "User",
    "add_projects",
    "generate_dataset",
    "minimum_requests",
    "pacific_midnight_utc",
]

DEFAULT_START: Final = datetime(2024, 1, 1, tzinfo=UTC)

SCENARIOS: Final[dict[str, str]] = {
    "closed_on_time": "issue closed (completed) at or before its milestone's due_on",
    "closed_late": "issue closed (completed) after its milestone's due_on",
    "overdue_open": "issue still open although its milestone's due_on is before dataset.now",
    "not_planned": "issue closed with state_reason not_planned",
    "duplicate": "issue closed with state_reason duplicate",
    "reopened": "item closed, reopened, (maybe) closed again",
    "reassigned_before_due": "assignee replaced (unassigned + assigned) before the milestone's due_on",
    "reassigned_after_due": "assignee replaced after the milestone's due_on",
    "milestone_changed": "demilestoned from one milestone and milestoned to another",
    "milestone_removed": "demilestoned and left without milestone",
    "renamed": "title changed (renamed event)",
    "cross_referenced": "has a cross-referenced timeline entry",
    "review_answered": "PR with a review request answered by that reviewer within 48 hours",
    "review_answered_late": "PR with a review request answered after more than 4 days",
    "review_ignored": "PR with a review request never answered (still in requested_reviewers)",
    "review_request_removed": "PR with a review request removed before the reviewer answered",
    "review_dismissed": "PR with a review in state DISMISSED",
    "draft_then_ready": "PR opened as draft, then ready_for_review",
    "still_draft": "PR still a draft",
    "merged": "PR merged",
    "closed_unmerged": "PR closed without merge",
    "deleted_fork": "PR whose head.repo is null (fork deleted)",
    "fork": "PR from a fork (head.repo is another repository)",
    "nul_body": "the item's body, or one of its comments, contains a NUL character",
    "unicode_body": "body or a comment contains non-ASCII text (astral plane, RTL, combining marks)",
    "null_body": "body is null",
    "ghost_author": "item whose user is null (deleted account; timeline actor is the 'ghost' user)",
    "bot_author": "item opened by dependabot[bot]",
    "updated_after_activity": "updated_at later than the last timeline entry (edits, reactions)",
    "long_timeline": "issue with more than 100 timeline entries (needs 2 timeline pages)",
    "many_reviews": "PR with more than 100 reviews (needs 2 review pages)",
    "transferred": "issue transferred to another repository: gone from /issues, GET answers 301",
    "transferred_in": "issue received by transfer from another repository of the dataset",
    "unlinked_commit_author": "PR whose head commit's author email is not linked to a GitHub user",
}

_TIME_FMT: Final = "%Y-%m-%dT%H:%M:%SZ"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _node(prefix: str, number: int) -> str:
    """A new-style GraphQL node id (``I_kwDO...``); deterministic, unique per prefix and number."""
    raw = number.to_bytes(8, "big").lstrip(b"\0") or b"\0"
    return prefix + "_kwDO" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def pacific_midnight_utc(day: date) -> datetime:
    """Midnight US-Pacific of ``day`` in UTC, which is how GitHub stores a milestone's due date."""
    year = day.year
    march_first = date(year, 3, 1)
    dst_start = march_first + timedelta(days=(6 - march_first.weekday()) % 7 + 7)  # second Sunday of March
    nov_first = date(year, 11, 1)
    dst_end = nov_first + timedelta(days=(6 - nov_first.weekday()) % 7)  # first Sunday of November
    hour = 7 if dst_start < day <= dst_end else 8
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class User:
    """A GitHub account. ``type`` is ``User``, ``Bot`` or ``Organization``."""

    login: str
    id: int
    node_id: str
    type: str = "User"
    name: str | None = None
    email: str | None = None
    association: str = "NONE"  # author_association of this account in the dataset's repositories
    site_admin: bool = False
    avatar_url: str | None = None


GHOST: Final = User(login="ghost", id=10137, node_id="MDQ6VXNlcjEwMTM3", name="Deleted user")
DEPENDABOT: Final = User(
    login="dependabot[bot]",
    id=49699333,
    node_id="MDM6Qm90NDk2OTkzMzM=",
    type="Bot",
    name="dependabot[bot]",
    email="49699333+dependabot[bot]@users.noreply.github.com",
    association="CONTRIBUTOR",
    avatar_url="https://avatars.githubusercontent.com/in/29110?v=4",
)


@dataclass(eq=False, slots=True)
class Label:
    id: int
    node_id: str
    name: str
    color: str
    description: str | None
    default: bool = False


@dataclass(eq=False, slots=True)
class Milestone:
    number: int
    id: int
    node_id: str
    title: str
    description: str | None
    creator: User | None
    state: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    due_on: datetime | None
    deleted: bool = False


@dataclass(eq=False, slots=True)
class IssueComment:
    id: int
    node_id: str
    issue_number: int
    user: User | None
    body: str
    created_at: datetime
    updated_at: datetime
    author_association: str


@dataclass(eq=False, slots=True)
class Review:
    """A submitted pull-request review; ``state`` is APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED."""

    id: int
    node_id: str
    pull_number: int
    user: User | None
    state: str
    body: str
    submitted_at: datetime
    commit_id: str
    author_association: str


@dataclass(eq=False, slots=True)
class ReviewComment:
    id: int
    node_id: str
    pull_number: int
    review_id: int | None
    user: User | None
    body: str
    path: str
    line: int
    diff_hunk: str
    commit_id: str
    created_at: datetime
    updated_at: datetime
    author_association: str


@dataclass(eq=False, slots=True)
class ReviewRequest:
    """Ground truth of one review request (the timeline has the matching events).

    ``outcome`` is ``answered`` (reviewed within 48 h), ``answered_late`` (reviewed after more than
    4 days), ``ignored`` (never reviewed; still pending) or ``removed`` (request withdrawn first).
    """

    reviewer: User
    requested_by: User | None
    requested_at: datetime
    outcome: str
    answered_at: datetime | None = None
    removed_at: datetime | None = None


@dataclass(eq=False, slots=True)
class TimelineEvent:
    """One entry of ``GET /repos/{o}/{r}/issues/{n}/timeline``.

    ``actor`` None means a deleted account (rendered as the ``ghost`` user, as GitHub does).
    ``commented`` entries carry ``comment`` and ``reviewed`` entries carry ``review`` (their id is the
    comment's / review's id and their time its created_at / submitted_at).
    """

    id: int
    event: str
    created_at: datetime
    actor: User | None
    assignee: User | None = None
    milestone_title: str | None = None
    rename_from: str | None = None
    rename_to: str | None = None
    requested_reviewer: User | None = None
    state_reason: str | None = None
    commit_id: str | None = None
    label: Label | None = None
    comment: IssueComment | None = None
    review: Review | None = None
    source_number: int | None = None


@dataclass(eq=False, slots=True)
class Commit:
    """A commit served by ``GET /repos/{o}/{r}/commits/{sha}``; ``author`` None = email not linked to an account."""

    sha: str
    message: str
    author: User | None
    author_name: str
    author_email: str
    committer: User | None
    committer_name: str
    committer_email: str
    authored_at: datetime
    committed_at: datetime
    parents: list[str]
    filename: str
    additions: int
    deletions: int


@dataclass(eq=False, slots=True)
class ForkRepo:
    """The head repository of a pull request opened from a fork."""

    id: int
    node_id: str
    owner: User
    name: str
    created_at: datetime

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass(eq=False, slots=True)
class PullRequest:
    """The pull-request half of an item (the issue half is the :class:`Issue` holding it)."""

    id: int
    draft: bool
    head_ref: str
    head_sha: str
    head_repo: Repository | ForkRepo | None  # None: the fork was deleted
    head_user: User | None
    base_ref: str
    base_sha: str
    merged_at: datetime | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    requested_reviewers: list[User] = field(default_factory=list)  # pending requests, in request order
    review_requests: list[ReviewRequest] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)
    commits: int = 1
    additions: int = 0
    deletions: int = 0
    changed_files: int = 1
    maintainer_can_modify: bool = False


@dataclass(eq=False, slots=True)
class Transfer:
    """Where a transferred issue went (``repo_id`` may be a repository outside the dataset)."""

    repo_id: int
    full_name: str
    number: int
    at: datetime


@dataclass(eq=False, slots=True)
class Issue:
    """An issue, or the issue half of a pull request (then ``pull`` is set)."""

    number: int
    id: int
    node_id: str
    title: str
    body: str | None
    user: User | None
    created_at: datetime
    updated_at: datetime
    author_association: str
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: User | None = None
    labels: list[Label] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    milestone: Milestone | None = None
    locked: bool = False
    comments: list[IssueComment] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    pull: PullRequest | None = None
    transferred_to: Transfer | None = None

    @property
    def is_pull(self) -> bool:
        return self.pull is not None

    @property
    def last_activity(self) -> datetime:
        """The latest timeline entry's time (or created_at)."""
        return max((e.created_at for e in self.timeline), default=self.created_at)


@dataclass(eq=False)
class Repository:
    owner: User
    name: str
    id: int
    node_id: str
    created_at: datetime
    description: str | None = None
    default_branch: str = "main"
    items: dict[int, Issue] = field(default_factory=dict)  # issues and pull requests by number
    milestones: dict[int, Milestone] = field(default_factory=dict)
    labels: list[Label] = field(default_factory=list)
    commits: dict[str, Commit] = field(default_factory=dict)
    scenarios: dict[str, list[int]] = field(default_factory=dict)
    former_names: list[str] = field(default_factory=list)  # old full names (renames) -> 301
    deleted: bool = False
    pushed_at: datetime | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def visible_items(self) -> Iterator[Issue]:
        """Items listed by /issues (everything except transferred-away issues), by number."""
        return (item for item in self.items.values() if item.transferred_to is None)

    def issues(self) -> Iterator[Issue]:
        return (item for item in self.visible_items() if item.pull is None)

    def pulls(self) -> Iterator[Issue]:
        return (item for item in self.visible_items() if item.pull is not None)

    def live_milestones(self) -> Iterator[Milestone]:
        return (m for m in self.milestones.values() if not m.deleted)

    def tag(self, scenario: str, number: int) -> None:
        numbers = self.scenarios.setdefault(scenario, [])
        if number not in numbers:
            numbers.append(number)


@dataclass(frozen=True, slots=True)
class AdvanceResult:
    """What :meth:`Dataset.advance` changed: ``{full_name: sorted item numbers}``."""

    since: datetime
    until: datetime
    updated: dict[str, list[int]]
    created: dict[str, list[int]]


class _Ids:
    """Id allocators; GitHub ids grow with time, so do ours (per kind)."""

    def __init__(self) -> None:
        self.repo = itertools.count(700_000_001)
        self.user = itertools.count(90_000_001)
        self.issue = itertools.count(2_000_000_001)
        self.pull = itertools.count(1_500_000_001)
        self.comment = itertools.count(1_800_000_001)
        self.event = itertools.count(10_000_000_001)
        self.review = itertools.count(1_900_000_001)
        self.review_comment = itertools.count(1_600_000_001)
        self.milestone = itertools.count(9_000_001)
        self.label = itertools.count(5_000_000_001)


@dataclass(eq=False)
class Dataset:
    """Repositories plus the people acting in them; the single source of truth for server and tests."""

    seed: int
    start: datetime
    now: datetime
    org: User
    people: list[User]  # humans then dependabot[bot]
    repositories: list[Repository]
    version: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _ids: _Ids = field(default_factory=_Ids, repr=False)
    # GitHub Projects (ProjectsV2), org- and user-owned; empty unless add_projects() was called.
    projects: list[Project] = field(default_factory=list)

    # -- lookups ----------------------------------------------------------------------------------

    def repo(self, key: str | int) -> Repository:
        """A repository by current full name, former full name or id (deleted ones included)."""
        for repo in self.repositories:
            if key in (repo.full_name, repo.id) or key in repo.former_names:
                return repo
        raise KeyError(key)

    @property
    def humans(self) -> list[User]:
        return [p for p in self.people if p.type == "User"]

    def item(self, repo: str | int, number: int) -> Issue:
        return self.repo(repo).items[number]

    def updated_since(self, repo: str | int, since: datetime) -> list[int]:
        """Numbers of the listed items with ``updated_at >= since`` (what ``/issues?since=`` returns)."""
        return sorted(i.number for i in self.repo(repo).visible_items() if i.updated_at >= since)

    # -- mutations (all thread-safe, all bump ``version``) ----------------------------------------

    def touch(self) -> None:
        with self.lock:
            self.version += 1

    def change_milestone_due(self, repo: str | int, number: int, new_due: datetime | None) -> None:
        """Move a milestone's due date (``updated_at`` of the milestone changes, no issue's does)."""
        with self.lock:
            milestone = self.repo(repo).milestones[number]
            milestone.due_on = new_due
            milestone.updated_at = max(self.now, milestone.updated_at)
            self.version += 1

    def project(self, owner: str, number: int) -> Project:
        """A project by owner login and number."""
        for project in self.projects:
            if project.owner.login == owner and project.number == number:
                return project
        raise KeyError((owner, number))

    def set_project_value(
        self,
        owner: str,
        project_number: int,
        repo: str | int,
        number: int,
        field_name: str,
        value: date | ProjectIteration | None,
    ) -> None:
        """Set (or clear, with None) an item's value of a project field: the item's project item gets
        a new ``updated_at``; the issue's ``updated_at`` does not change (GitHub's behaviour, so an
        incremental issue sync alone never sees it)."""
        with self.lock:
            project = self.project(owner, project_number)
            content = self.item(repo, number)
            target = next(i for i in project.items if i.content is content)
            if value is None:
                target.values.pop(field_name, None)
            else:
                target.values[field_name] = value
            target.updated_at = max(self.now, target.updated_at)
            self.version += 1

    def delete_milestone(self, repo: str | int, number: int) -> None:
        """Delete a milestone: 404 from now on; its issues show ``milestone: null`` (updated_at unchanged)."""
        with self.lock:
            self.repo(repo).milestones[number].deleted = True
            self.version += 1

    def rename_repo(self, repo: str | int, new_name: str) -> None:
        """Rename: the old path answers 301 to ``/repositories/{id}...`` like GitHub."""
        with self.lock:
            target = self.repo(repo)
            target.former_names.append(target.full_name)
            target.name = new_name
            self.version += 1

    def delete_repo(self, repo: str | int) -> None:
        with self.lock:
            self.repo(repo).deleted = True
            self.version += 1

    def advance(
        self,
        seed: int,
        hours: float,
        fraction_updated: float = 0.05,
        *,
        new_issues: int = 0,
        new_prs: int = 0,
    ) -> AdvanceResult:
        """Let ``hours`` pass: a ``fraction_updated`` share of each repository's items gets new activity
        (comment, close, reopen, reassign, review request, review, merge...) at times after the old
        ``now``, with ``updated_at`` bumped; ``new_issues`` / ``new_prs`` items are opened per repository.
        """
        with self.lock:
            rng = random.Random(seed)
            since = self.now
            until = (since + timedelta(hours=hours)).replace(microsecond=0)
            updated: dict[str, list[int]] = {}
            created: dict[str, list[int]] = {}
            for repo in self.repositories:
                if repo.deleted:
                    continue
                builder = _Builder(self, repo, rng, until)
                candidates = list(repo.visible_items())
                count = min(len(candidates), round(len(candidates) * fraction_updated))
                changed = rng.sample(candidates, count)
                for item in changed:
                    builder.random_activity(item, since, until)
                updated[repo.full_name] = sorted(i.number for i in changed)
                fresh: list[int] = []
                kinds = [False] * new_issues + [True] * new_prs
                rng.shuffle(kinds)
                times = sorted(builder.between(since, until) for _ in kinds)
                for when, is_pr in zip(times, kinds, strict=True):
                    number = max(repo.items, default=0) + 1
                    item = builder.new_item(number, when, is_pr)
                    repo.items[number] = item
                    fresh.append(number)
                created[repo.full_name] = fresh
            self.now = until
            self.version += 1
            return AdvanceResult(since=since, until=until, updated=updated, created=created)


# --------------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------------

_PEOPLE: Final[tuple[tuple[str, str], ...]] = (
    ("ada-lovelace", "Ada Lovelace"),
    ("zoe-angstrom", "Zoë Ångström"),
    ("jose-alvarez", "José Álvarez"),
    ("li-lei", "李雷"),
    ("grace-hopper", "Grace Hopper"),
    ("nguyen-van-an", "Nguyễn Văn An"),
    ("soren-kierkegaard", "Søren Kierkegaard"),
    ("olafur-arnalds", "Ólafur Arnalds"),
    ("amira-haddad", "أميرة حداد"),
    ("dmitri-ivanov", "Дмитрий Иванов"),
    ("priya-raman", "Priya Raman"),
    ("kenji-sato", "佐藤 健二"),
    ("fatou-diop", "Fatou Diop"),
    ("marek-novak", "Marek Novák"),
    ("chloe-dubois", "Chloé Dubois"),
    ("yusuf-demir", "Yusuf Demir"),
    ("eva-muller", "Eva Müller"),
    ("tomasz-wojcik", "Tomasz Wójcik"),
    ("ana-silva", "Ana Silva"),
    ("noah-cohen", "Noah Cohen"),
)
_VERBS: Final = ("Fix", "Add", "Remove", "Refactor", "Document", "Speed up", "Support", "Handle", "Test")
_NOUNS: Final = (
    "parquet export",
    "window functions",
    "CSV sniffer",
    "date parsing",
    "the optimizer",
    "JSON reader",
    "memory limit",
    "ART index",
    "S3 credentials",
    "HTTP retries",
    "the Python client",
    "timezone handling",
)
_SENTENCES: Final = (
    "Steps to reproduce are below.",
    "This happens on every run since the last release.",
    "I think the root cause is in the planner.",
    "See the attached log for details.",
    "Happy to send a PR if this approach sounds right.",
    "Closes the gap discussed in the last sync.",
    "Benchmarks show a 12% improvement on TPC-H SF1.",
    "LGTM once CI is green.",
)
_UNICODE: Final = (
    "Zoë\u2019s naïve café ☕ \u2014 \u201cquoted\u201d",
    "日本語のテキストと中文字符",
    "emoji 🚀🔥👍🏽 and astral \U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522",
    "RTL: שלום עולם / مرحبا بالعالم",
    "combining: e\u0301 a\u0308 and zero\u200bwidth",
)
_LABELS: Final = (
    ("bug", "d73a4a", "Something isn't working", True),
    ("enhancement", "a2eeef", "New feature or request", True),
    ("good first issue", "7057ff", "Good for newcomers", True),
    ("documentation", "0075ca", None, True),
    ("priority: high", "b60205", "Needs attention this sprint", False),
    ("dependencies", "0366d6", "Pull requests that update a dependency file", False),
    ("ünïcode 🚀", "fbca04", "Label with non-ASCII name", False),
)
_FILES: Final = (
    "src/planner.cpp",
    "src/reader/csv.cpp",
    "tools/pythonpkg/duckdb.py",
    "README.md",
    "test/sql/window.test",
)

_ISSUE_FORCED: Final = ("on_time", "late", "overdue", "not_planned", "reassign_before", "reassign_after")
_REVIEW_FORCED: Final = ("answered", "answered_late", "ignored", "removed")


class _Builder:
    """Builds and mutates items of one repository; used by generation and by ``Dataset.advance``."""

    def __init__(
        self, dataset: Dataset, repo: Repository, rng: random.Random, now: datetime, *, forced: bool = False
    ) -> None:
        self.ds = dataset
        self.repo = repo
        self.rng = rng
        self.now = now
        self.ids = dataset._ids
        self.humans = dataset.humans
        self.maintainers = [p for p in self.humans if p.association in ("OWNER", "MEMBER")] or self.humans
        # Outcomes every generated repository must contain at least twice (consumed by eligible items).
        self.forced_issue: deque[str] = deque(_ISSUE_FORCED * 2 if forced else ())
        self.forced_review: deque[str] = deque(_REVIEW_FORCED * 2 if forced else ())
        self._dated: list[Milestone] | None = None
        self._dues: list[datetime] = []
        self._undated: list[Milestone] = []

    # -- small helpers ----------------------------------------------------------------------------

    def between(self, a: datetime, b: datetime) -> datetime:
        """A whole-second time in (a, b]; ``a`` itself when the interval is shorter than a second."""
        span = int((b - a).total_seconds())
        return a + timedelta(seconds=self.rng.randint(1, span)) if span >= 1 else a

    def sha(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def other_human(self, *exclude: User | None) -> User:
        pool = [h for h in self.humans if h not in exclude] or self.humans
        return self.rng.choice(pool)

    def text(self, number: int, *, item_body: bool = False) -> str | None:
        """A body text; only an item's own body (``item_body``) can be null or forced to hold a NUL."""
        rng = self.rng
        r = rng.random()
        if item_body and r < 0.04:
            self.repo.tag("null_body", number)
            return None
        body = f"{rng.choice(_SENTENCES)}\r\n\r\n{rng.choice(_SENTENCES)}"
        if (item_body and number % 37 == 5) or r > 0.985:
            self.repo.tag("nul_body", number)
            body += "\x00 (NUL above)"
        elif r > 0.85:
            self.repo.tag("unicode_body", number)
            body += " " + rng.choice(_UNICODE)
        return body

    def event(
        self,
        item: Issue,
        kind: str,
        when: datetime,
        actor: User | None,
        *,
        assignee: User | None = None,
        milestone_title: str | None = None,
        rename_from: str | None = None,
        rename_to: str | None = None,
        requested_reviewer: User | None = None,
        state_reason: str | None = None,
        commit_id: str | None = None,
        label: Label | None = None,
        comment: IssueComment | None = None,
        review: Review | None = None,
        source_number: int | None = None,
    ) -> TimelineEvent:
        when = when.replace(microsecond=0)
        entry = TimelineEvent(
            0,
            kind,
            when,
            actor,
            assignee=assignee,
            milestone_title=milestone_title,
            rename_from=rename_from,
            rename_to=rename_to,
            requested_reviewer=requested_reviewer,
            state_reason=state_reason,
            commit_id=commit_id,
            label=label,
            comment=comment,
            review=review,
            source_number=source_number,
        )
        item.timeline.append(entry)
        return entry

    def comment(
        self, item: Issue, when: datetime, user: User | None, body: str | None = None
    ) -> IssueComment:
        when = when.replace(microsecond=0)
        cid = next(self.ids.comment)
        text = body if body is not None else (self.text(item.number) or "")
        c = IssueComment(
            id=cid,
            node_id=_node("IC", cid),
            issue_number=item.number,
            user=user,
            body=text,
            created_at=when,
            updated_at=when,
            author_association=user.association if user else "NONE",
        )
        item.comments.append(c)
        self.event(item, "commented", when, user, comment=c)
        return c

    def close(self, item: Issue, when: datetime, actor: User | None, reason: str | None) -> None:
        when = when.replace(microsecond=0)
        self.event(item, "closed", when, actor, state_reason=reason)
        item.state, item.state_reason, item.closed_at, item.closed_by = "closed", reason, when, actor

    def reopen(self, item: Issue, when: datetime, actor: User | None) -> None:
        when = when.replace(microsecond=0)
        self.event(item, "reopened", when, actor)
        item.state, item.closed_at, item.closed_by = "open", None, None
        item.state_reason = "reopened" if item.pull is None else None
        self.repo.tag("reopened", item.number)

    def assign(self, item: Issue, when: datetime, actor: User | None, who: User) -> None:
        when = when.replace(microsecond=0)
        self.event(item, "assigned", when, actor, assignee=who)
        if who not in item.assignees:
            item.assignees.append(who)

    def unassign(self, item: Issue, when: datetime, actor: User | None, who: User) -> None:
        when = when.replace(microsecond=0)
        self.event(item, "unassigned", when, actor, assignee=who)
        if who in item.assignees:
            item.assignees.remove(who)

    def review(self, item: Issue, when: datetime, user: User | None, state: str) -> Review:
        when = when.replace(microsecond=0)
        pull = item.pull
        assert pull is not None
        rid = next(self.ids.review)
        review = Review(
            id=rid,
            node_id=_node("PRR", rid),
            pull_number=item.number,
            user=user,
            state=state,
            body="" if state == "APPROVED" and self.rng.random() < 0.6 else self.rng.choice(_SENTENCES),
            submitted_at=when,
            commit_id=pull.head_sha,
            author_association=user.association if user else "NONE",
        )
        pull.reviews.append(review)
        self.event(item, "reviewed", when, user, review=review)
        if user is not None and user in pull.requested_reviewers:
            pull.requested_reviewers.remove(user)
        if state in ("COMMENTED", "CHANGES_REQUESTED") and self.rng.random() < 0.6:
            for k in range(self.rng.randint(1, 3)):
                rcid = next(self.ids.review_comment)
                line = self.rng.randint(5, 400)
                created = when - timedelta(seconds=60 * (3 - k))
                pull.review_comments.append(
                    ReviewComment(
                        id=rcid,
                        node_id=_node("PRRC", rcid),
                        pull_number=item.number,
                        review_id=rid,
                        user=user,
                        body=self.text(item.number) or "",
                        path=self.rng.choice(_FILES),
                        line=line,
                        diff_hunk=f"@@ -{line - 3},7 +{line - 3},7 @@\n context\n-old line\n+new line",
                        commit_id=pull.head_sha,
                        created_at=created,
                        updated_at=created,
                        author_association=review.author_association,
                    )
                )
        return review

    def request_review(
        self, item: Issue, when: datetime, actor: User | None, reviewer: User, outcome: str
    ) -> ReviewRequest:
        when = when.replace(microsecond=0)
        pull = item.pull
        assert pull is not None
        self.event(item, "review_requested", when, actor, requested_reviewer=reviewer)
        request = ReviewRequest(reviewer=reviewer, requested_by=actor, requested_at=when, outcome=outcome)
        pull.review_requests.append(request)
        if reviewer not in pull.requested_reviewers:
            pull.requested_reviewers.append(reviewer)
        return request

    def remove_request(self, item: Issue, request: ReviewRequest, when: datetime, actor: User | None) -> None:
        when = when.replace(microsecond=0)
        pull = item.pull
        assert pull is not None
        self.event(item, "review_request_removed", when, actor, requested_reviewer=request.reviewer)
        request.removed_at, request.outcome = when, "removed"
        if request.reviewer in pull.requested_reviewers:
            pull.requested_reviewers.remove(request.reviewer)

    def merge(self, item: Issue, when: datetime, merger: User) -> None:
        when = when.replace(microsecond=0)
        pull = item.pull
        assert pull is not None
        sha = self.sha()
        pull.merged_at, pull.merged_by, pull.merge_commit_sha = when, merger, sha
        self.event(item, "merged", when, merger, commit_id=sha)
        self.close(item, when, merger, None)
        author = item.user
        self.repo.commits[sha] = Commit(
            sha=sha,
            message=f"{item.title} (#{item.number})",
            author=author,
            author_name=(author.name or author.login) if author else "Deleted user",
            author_email=(author.email or "") if author else "deleted@example.invalid",
            committer=merger,
            committer_name=merger.name or merger.login,
            committer_email=merger.email or "",
            authored_at=when,
            committed_at=when,
            parents=[pull.base_sha, pull.head_sha],
            filename=self.rng.choice(_FILES),
            additions=pull.additions,
            deletions=pull.deletions,
        )
        self.repo.tag("merged", item.number)

    def finish(self, item: Issue, floor: datetime | None = None) -> None:
        """Sort the timeline, give events ids, set updated_at >= last activity."""
        item.timeline.sort(key=lambda e: e.created_at)
        item.comments.sort(key=lambda c: (c.created_at, c.id))
        if item.pull is not None:
            item.pull.reviews.sort(key=lambda r: (r.submitted_at, r.id))
            item.pull.review_comments.sort(key=lambda c: (c.created_at, c.id))
        for entry in item.timeline:
            if entry.id == 0:
                if entry.comment is not None:
                    entry.id = entry.comment.id
                elif entry.review is not None:
                    entry.id = entry.review.id
                else:
                    entry.id = next(self.ids.event)
        last = max(item.last_activity, floor or item.created_at, item.updated_at)
        if item.pull is not None:
            last = max([last, *(c.updated_at for c in item.pull.review_comments)])
        if self.rng.random() < 0.08 and last < self.now - timedelta(hours=1):
            last = self.between(last, min(self.now, last + timedelta(days=2)))
            self.repo.tag("updated_after_activity", item.number)
        item.updated_at = last

    # -- milestones ---------------------------------------------------------------------------------

    def make_milestones(self, count: int, start: datetime, end: datetime) -> None:
        rng = self.rng
        span = (end - start).total_seconds()
        for index in range(count):
            number = index + 1
            mid = next(self.ids.milestone)
            no_due = index == count - 1 or rng.random() < 0.12
            fraction = (index + 0.5 + rng.uniform(-0.3, 0.3)) / max(1, count - 1)
            due_day = (start + timedelta(seconds=span * min(fraction, 1.1))).date()
            due = None if no_due else pacific_midnight_utc(due_day)
            anchor = due or start + timedelta(seconds=span * rng.random())
            created = max(self.repo.created_at, anchor - timedelta(days=rng.randint(20, 90)))
            created = min(created, end - timedelta(days=1))
            created += timedelta(seconds=rng.randint(0, 3600 * 20))
            state, closed_at = "open", None
            if due is not None and due < self.now - timedelta(days=3) and rng.random() < 0.8:
                closed_at = min(
                    self.now - timedelta(hours=1), due + timedelta(seconds=rng.randint(0, 10 * 86400))
                )
                state = "closed"
            title = (
                "Backlog"
                if no_due and index == count - 1
                else rng.choices(
                    (f"v1.{index}.0", f"Sprint {index + 1}", f"Q{index % 4 + 1} \u2013 ünïcode 🚀 {index}"),
                    (45, 45, 10),
                )[0]
            )
            creator: User | None = None if rng.random() < 0.05 else rng.choice(self.maintainers)
            self.repo.milestones[number] = Milestone(
                number=number,
                id=mid,
                node_id=_node("MI", mid),
                title=title,
                description=None if rng.random() < 0.3 else rng.choice(_SENTENCES),
                creator=creator,
                state=state,
                created_at=created,
                updated_at=max(created, closed_at or created),
                closed_at=closed_at,
                due_on=due,
            )

    def pick_milestone(self, when: datetime) -> Milestone | None:
        rng = self.rng
        if self._dated is None:
            live = list(self.repo.live_milestones())
            self._dated = sorted(
                (m for m in live if m.due_on is not None), key=lambda m: (m.due_on, m.number)
            )
            self._dues = [m.due_on for m in self._dated if m.due_on is not None]
            self._undated = [m for m in live if m.due_on is None]
        first = bisect.bisect_right(self._dues, when)
        upcoming = self._dated[first : first + 2]
        if rng.random() < 0.12 or not upcoming:
            if self._undated:
                return rng.choice(self._undated)
            return rng.choice(self._dated) if self._dated else None
        return upcoming[0] if rng.random() < 0.7 or len(upcoming) == 1 else upcoming[1]

    def next_milestone(self, current: Milestone) -> Milestone | None:
        """The milestone an item slips to: the next dated one, else an undated one."""
        if self._dated is None:
            self.pick_milestone(current.created_at)
        later = [m for m in self._dated or () if current.due_on and m.due_on and m.due_on > current.due_on]
        if later:
            return later[0]
        return next((m for m in self._undated if m is not current), None)

    # -- items --------------------------------------------------------------------------------------

    def new_item(self, number: int, created: datetime, is_pr: bool) -> Issue:
        rng = self.rng
        r = rng.random()
        author: User | None
        if is_pr and r < 0.12:
            author = DEPENDABOT
            self.repo.tag("bot_author", number)
        elif r > 0.975 or number % 53 == 7:
            author = None
            self.repo.tag("ghost_author", number)
        else:
            author = rng.choice(self.humans)
        if author is DEPENDABOT:
            title = f"Bump {rng.choice(('urllib3', 'pyarrow', 'actions/checkout', 'ruff'))} from 1.{number % 9} to 1.{number % 9 + 1}"
        else:
            title = f"{rng.choice(_VERBS)} {rng.choice(_NOUNS)}"
            if rng.random() < 0.05:
                title += " \u2013 " + rng.choice(_UNICODE)[:12]
        iid = next(self.ids.issue)
        item = Issue(
            number=number,
            id=iid,
            node_id=_node("PR" if is_pr else "I", iid),
            title=title,
            body=self.text(number, item_body=True),
            user=author,
            created_at=created,
            updated_at=created,
            author_association=author.association if author else "NONE",
        )
        if rng.random() < 0.45:
            for label in rng.sample(self.repo.labels, rng.choice((1, 1, 2))):
                item.labels.append(label)
                self.event(item, "labeled", created, author, label=label)
        if author is DEPENDABOT and self.repo.labels:
            deps = next((lab for lab in self.repo.labels if lab.name == "dependencies"), None)
            if deps is not None and deps not in item.labels:
                item.labels.append(deps)
                self.event(item, "labeled", created, author, label=deps)
        if is_pr:
            self._pull_lifecycle(item)
        else:
            self._issue_lifecycle(item)
        return item

    def _issue_lifecycle(self, item: Issue) -> None:
        rng, now, repo, number = self.rng, self.now, self.repo, item.number
        created = item.created_at
        floor = created
        triager = rng.choice(self.maintainers)
        milestone: Milestone | None = None
        if rng.random() < 0.65:
            milestone = self.pick_milestone(created)
        if milestone is not None:
            t = self.between(created, min(now, created + timedelta(hours=30)))
            self.event(item, "milestoned", t, triager, milestone_title=milestone.title)
            floor = max(floor, t)
            r = rng.random()
            if r < 0.08:  # slipped to the next milestone
                other = self.next_milestone(milestone)
                if other is not None:
                    t2 = self.between(t, min(now, t + timedelta(days=6)))
                    self.event(item, "demilestoned", t2, triager, milestone_title=milestone.title)
                    self.event(
                        item, "milestoned", t2 + timedelta(seconds=1), triager, milestone_title=other.title
                    )
                    milestone, floor = other, max(floor, t2 + timedelta(seconds=1))
                    repo.tag("milestone_changed", number)
            elif r < 0.11:
                t2 = self.between(t, min(now, t + timedelta(days=6)))
                self.event(item, "demilestoned", t2, triager, milestone_title=milestone.title)
                milestone, floor = None, max(floor, t2)
                repo.tag("milestone_removed", number)
        item.milestone = milestone
        if rng.random() < 0.72:
            t = self.between(floor, min(now, floor + timedelta(days=3)))
            self.assign(item, t, triager, rng.choice(self.humans))
            if rng.random() < 0.08:
                self.assign(item, t + timedelta(seconds=2), triager, self.other_human(*item.assignees))
            floor = max(floor, t + timedelta(seconds=2))
        if number > 1 and rng.random() < 0.06:
            source = rng.randint(1, number - 1)
            if source in repo.items:
                t = self.between(floor, min(now, floor + timedelta(days=20)))
                self.event(item, "cross-referenced", t, rng.choice(self.humans), source_number=source)
                repo.tag("cross_referenced", number)
        if rng.random() < 0.05:
            t = self.between(created, min(now, created + timedelta(days=5)))
            new_title = item.title + " (revised)"
            self.event(item, "renamed", t, item.user or triager, rename_from=item.title, rename_to=new_title)
            item.title = new_title
            repo.tag("renamed", number)
        floor = max([floor, *(e.created_at for e in item.timeline)])

        # Outcome relative to the milestone's due date.
        due = milestone.due_on if milestone is not None else None
        close_at: datetime | None = None
        reason: str | None = "completed"
        reassign: str | None = None
        hour = timedelta(hours=1)
        if due is not None and floor + 2 * hour < due < now - 2 * hour:
            outcome = self.forced_issue.popleft() if self.forced_issue else None
            if outcome == "reassign_after":
                reassign, outcome = outcome, rng.choice(("late", "overdue"))
            elif outcome == "reassign_before":
                reassign, outcome = outcome, None
            if reassign is not None and not item.assignees:
                floor += timedelta(minutes=1)
                self.assign(item, floor, triager, rng.choice(self.humans))
            if outcome is None:
                outcome = rng.choices(("on_time", "late", "overdue", "not_planned"), (45, 27, 16, 12))[0]
            if outcome == "on_time":
                close_at = self.between(max(floor + hour, due - timedelta(days=30)), due)
                repo.tag("closed_on_time", number)
            elif outcome == "late":
                close_at = self.between(due + hour, min(now - hour, due + timedelta(days=45)))
                repo.tag("closed_late", number)
            elif outcome == "not_planned":
                close_at = self.between(floor + hour, min(now - hour, floor + timedelta(days=60)))
                reason = "not_planned"
            else:
                repo.tag("overdue_open", number)
            if reassign is None and rng.random() < 0.15:
                reassign = rng.choice(("reassign_before", "reassign_after"))
        elif due is not None and due >= now - 2 * hour:
            if rng.random() < 0.5:
                close_at = self.between(floor + hour, max(floor + 2 * hour, min(due, now) - hour))
        elif rng.random() < 0.62:
            days = min(120.0, rng.lognormvariate(1.3, 1.2))
            close_at = min(now - timedelta(seconds=30), floor + hour + timedelta(days=days)).replace(
                microsecond=0
            )
            reason = rng.choices(("completed", "not_planned", "duplicate"), (84, 12, 4))[0]
        if close_at is not None and close_at <= floor:
            close_at = None

        end = close_at or now
        if reassign is not None and due is not None and item.assignees:
            lo, hi = (
                (floor + timedelta(minutes=5), due) if reassign == "reassign_before" else (due + hour, end)
            )
            if lo < hi - timedelta(minutes=5):
                t = self.between(lo, hi - timedelta(minutes=5))
                old = item.assignees[0]
                new = self.other_human(*item.assignees)
                self.unassign(item, t, triager, old)
                self.assign(item, t + timedelta(seconds=1), triager, new)
                repo.tag(
                    "reassigned_before_due" if reassign == "reassign_before" else "reassigned_after_due",
                    number,
                )

        participants = [p for p in (item.user, *item.assignees, triager) if p is not None]
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4, 6))):
            who: User | None = rng.choice(participants) if rng.random() < 0.7 else rng.choice(self.humans)
            if rng.random() < 0.02:
                who = None
            late = close_at is not None and rng.random() < 0.08
            when = (
                self.between(close_at, min(now, close_at + timedelta(days=10))) if late and close_at else None
            )
            self.comment(item, when or self.between(created, end), who)

        if close_at is not None:
            closer = item.assignees[0] if item.assignees and rng.random() < 0.7 else triager
            if rng.random() < 0.06 and close_at - floor > 6 * hour:
                first = self.between(floor + hour, close_at - 3 * hour)
                self.close(item, first, closer, "completed")
                self.reopen(item, self.between(first, close_at - 2 * hour), item.user)
            if reason == "not_planned":
                repo.tag("not_planned", number)
            elif reason == "duplicate":
                repo.tag("duplicate", number)
            self.close(item, close_at, closer, reason)
        self.finish(item)

    def _pull_lifecycle(self, item: Issue) -> None:
        rng, now, repo, number = self.rng, self.now, self.repo, item.number
        created = item.created_at
        author = item.user
        hour = timedelta(hours=1)
        pid = next(self.ids.pull)
        head_repo: Repository | ForkRepo | None = repo
        if author is None:
            head_repo = None
        elif author is not DEPENDABOT and author.association not in ("OWNER", "MEMBER"):
            r = rng.random()
            if r < 0.08:
                head_repo = None
            elif r < 0.45:
                fid = next(self.ids.repo)
                head_repo = ForkRepo(
                    fid, _node("R", fid), author, repo.name, created - timedelta(days=rng.randint(1, 300))
                )
        if head_repo is None:
            repo.tag("deleted_fork", number)
        elif isinstance(head_repo, ForkRepo):
            repo.tag("fork", number)
        branch = (
            f"dependabot/pip/{item.title.split()[1]}-{number}"
            if author is DEPENDABOT
            else f"{rng.choice(('fix', 'feature', 'chore'))}/{number}-{rng.choice(_NOUNS).replace(' ', '-')}"
        )
        pull = PullRequest(
            id=pid,
            draft=False,
            head_ref=branch,
            head_sha=self.sha(),
            head_repo=head_repo,
            head_user=author,
            base_ref=repo.default_branch,
            base_sha=self.sha(),
            commits=rng.randint(1, 8),
            additions=rng.randint(1, 900),
            deletions=rng.randint(0, 400),
            changed_files=rng.randint(1, 30),
            maintainer_can_modify=isinstance(head_repo, ForkRepo),
        )
        item.pull = pull
        # The head commit: authored by the PR author; sometimes with an email GitHub cannot link.
        unlinked = author is not None and (rng.random() < 0.1 or number % 41 == 3)
        if unlinked:
            repo.tag("unlinked_commit_author", number)
        name = (author.name or author.login) if author else "Former Contributor"
        repo.commits[pull.head_sha] = Commit(
            sha=pull.head_sha,
            message=item.title,
            author=None if unlinked else author,
            author_name=name,
            author_email=f"{name.split()[0].lower()}@corp.example"
            if unlinked or author is None
            else (author.email or ""),
            committer=None if unlinked else author,
            committer_name=name,
            committer_email=f"{name.split()[0].lower()}@corp.example"
            if unlinked or author is None
            else (author.email or ""),
            authored_at=created - timedelta(minutes=rng.randint(1, 600)),
            committed_at=created - timedelta(minutes=1),
            parents=[pull.base_sha],
            filename=rng.choice(_FILES),
            additions=pull.additions,
            deletions=pull.deletions,
        )
        floor = created
        if rng.random() < 0.18 and author is not DEPENDABOT:
            pull.draft = True
            if rng.random() < 0.8:
                t = self.between(created, min(now, created + timedelta(days=5)))
                self.event(item, "ready_for_review", t, author)
                pull.draft, floor = False, t
                repo.tag("draft_then_ready", number)
        if rng.random() < 0.25:
            milestone = self.pick_milestone(created)
            if milestone is not None:
                t = self.between(created, min(now, created + hour))
                self.event(item, "milestoned", t, author, milestone_title=milestone.title)
                item.milestone = milestone
        if rng.random() < 0.3 and author is not None and author is not DEPENDABOT:
            self.assign(item, self.between(created, min(now, created + hour)), author, author)

        last = floor
        if not pull.draft:
            pool = [h for h in self.humans if h is not author]
            reviewers = rng.sample(pool, k=min(len(pool), rng.choice((0, 1, 1, 2, 2, 3))))
            for reviewer in reviewers:
                t_req = self.between(floor, min(now, floor + timedelta(hours=20)))
                outcome = (
                    self.forced_review.popleft()
                    if self.forced_review and t_req < now - timedelta(days=25)
                    else rng.choices(_REVIEW_FORCED, (50, 15, 20, 15))[0]
                )
                request = self.request_review(item, t_req, author, reviewer, outcome)
                if outcome in ("answered", "answered_late"):
                    delay = (
                        timedelta(minutes=rng.randint(10, 48 * 60))
                        if outcome == "answered"
                        else timedelta(days=rng.uniform(4.2, 20))
                    )
                    when = (t_req + delay).replace(microsecond=0)
                    if when < now:
                        state = rng.choices(("APPROVED", "CHANGES_REQUESTED", "COMMENTED"), (55, 25, 20))[0]
                        review = self.review(item, when, reviewer, state)
                        request.answered_at = when
                        repo.tag(f"review_{outcome}", number)
                        last = max(last, when)
                        if state == "CHANGES_REQUESTED" and rng.random() < 0.3:
                            review.state = "DISMISSED"
                            repo.tag("review_dismissed", number)
                        elif state == "CHANGES_REQUESTED" and rng.random() < 0.4:
                            t_again = (when + timedelta(hours=rng.uniform(1, 72))).replace(microsecond=0)
                            answer = (t_again + timedelta(hours=rng.uniform(0.2, 40))).replace(microsecond=0)
                            if answer < now:
                                again = self.request_review(item, t_again, author, reviewer, "answered")
                                self.review(item, answer, reviewer, "APPROVED")
                                again.answered_at = answer
                                last = max(last, answer)
                    else:
                        request.outcome = "ignored"
                        repo.tag("review_ignored", number)
                elif outcome == "removed":
                    when = (t_req + timedelta(hours=rng.uniform(1, 72))).replace(microsecond=0)
                    if when < now:
                        self.remove_request(item, request, when, author)
                        repo.tag("review_request_removed", number)
                        last = max(last, when)
                    else:
                        request.outcome = "ignored"
                        repo.tag("review_ignored", number)
                else:
                    repo.tag("review_ignored", number)
            if rng.random() < 0.3:
                when = self.between(floor, min(now, floor + timedelta(days=6)))
                self.review(item, when, self.other_human(author), "COMMENTED")
                last = max(last, when)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 4))):
            who = rng.choice(self.humans) if rng.random() < 0.7 else author
            self.comment(item, self.between(created, min(now, last + timedelta(days=3))), who)

        r = rng.random()
        if pull.draft:
            if r < 0.3:
                self.close(item, self.between(last, min(now, last + timedelta(days=30))), author, None)
                repo.tag("closed_unmerged", number)
            else:
                repo.tag("still_draft", number)
        elif r < 0.68:
            when = last + timedelta(minutes=rng.randint(10, 4 * 24 * 60))
            if when < now:
                approvers = [rv.user for rv in pull.reviews if rv.state == "APPROVED" and rv.user is not None]
                self.merge(item, when, approvers[0] if approvers else rng.choice(self.maintainers))
        elif r < 0.82:
            when = (last + timedelta(days=rng.uniform(0.1, 30))).replace(microsecond=0)
            if when < now:
                self.close(item, when, rng.choice(self.maintainers), None)
                repo.tag("closed_unmerged", number)
        self.finish(item)

    # -- mutations after generation -----------------------------------------------------------------

    def random_activity(self, item: Issue, since: datetime, until: datetime) -> None:
        """One or two random actions on ``item`` at times in (since, until]; bumps updated_at."""
        rng = self.rng
        when = (
            self.between(since, until - timedelta(seconds=2))
            if until - since > timedelta(seconds=4)
            else until
        )
        actor = rng.choice(self.humans)
        pull = item.pull
        choices = ["comment", "comment", "reassign"]
        if item.state == "open":
            choices += ["close", "close"]
            if pull is not None and not pull.draft:
                choices += ["request", "review", "merge"]
        elif pull is None or pull.merged_at is None:
            choices.append("reopen")
        action = rng.choice(choices)
        if action == "close":
            self.close(
                item, when, actor, None if pull else rng.choice(("completed", "completed", "not_planned"))
            )
        elif action == "reopen":
            self.reopen(item, when, actor)
        elif action == "reassign":
            if item.assignees:
                self.unassign(item, when, actor, item.assignees[0])
            self.assign(item, when + timedelta(seconds=1), actor, self.other_human(*item.assignees))
        elif action == "request" and pull is not None:
            reviewer = self.other_human(item.user, *pull.requested_reviewers)
            self.request_review(item, when, item.user, reviewer, "ignored")
        elif action == "review" and pull is not None:
            reviewer = (
                pull.requested_reviewers[0] if pull.requested_reviewers else self.other_human(item.user)
            )
            for request in pull.review_requests:
                if (
                    request.reviewer is reviewer
                    and request.outcome == "ignored"
                    and request.answered_at is None
                ):
                    late = when - request.requested_at > timedelta(days=4)
                    request.outcome, request.answered_at = ("answered_late" if late else "answered"), when
            self.review(item, when, reviewer, rng.choice(("APPROVED", "COMMENTED", "CHANGES_REQUESTED")))
        elif action == "merge" and pull is not None:
            self.merge(item, when, rng.choice(self.maintainers))
        else:
            self.comment(item, when, actor)
        item.updated_at = max(item.updated_at, when + timedelta(seconds=1))
        self.finish(item, floor=when + timedelta(seconds=1))


def _make_people(rng: random.Random, ids: _Ids, count: int) -> list[User]:
    people: list[User] = []
    for index in range(count):
        if index < len(_PEOPLE):
            login, name = _PEOPLE[index]
        else:
            login, name = f"dev-{index:03d}", f"Developer {index}"
        uid = next(ids.user)
        association = (
            "MEMBER"
            if index < max(2, count // 5)
            else ("COLLABORATOR" if index < count // 2 else "CONTRIBUTOR")
        )
        email = f"{uid}+{login}@users.noreply.github.com" if rng.random() < 0.3 else f"{login}@example.org"
        people.append(
            User(
                login=login,
                id=uid,
                node_id=_b64(f"04:User{uid}"),
                name=name,
                email=email,
                association=association,
            )
        )
    return people


def generate_dataset(
    seed: int,
    *,
    repos: int = 1,
    issues: int = 200,
    prs: int = 60,
    people: int = 15,
    start: datetime = DEFAULT_START,
    days: int = 365,
    org: str = "perftrust-fixture-org",
) -> Dataset:
    """A deterministic dataset: ``repos`` repositories of ``org``, each with ``issues`` issues and ``prs``
    pull requests created over ``days`` days after ``start``; ``dataset.now`` is the end of that period.
    """
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    rng = random.Random(seed)
    ids = _Ids()
    org_id = next(ids.user)
    org_user = User(
        login=org,
        id=org_id,
        node_id=_b64(f"012:Organization{org_id}"),
        type="Organization",
        name=org,
        association="OWNER",
    )
    humans = _make_people(rng, ids, max(3, people))
    now = start + timedelta(days=days)
    dataset = Dataset(
        seed=seed, start=start, now=now, org=org_user, people=[*humans, DEPENDABOT], repositories=[], _ids=ids
    )
    names = ("engine", "client", "docs", "infra", "website", "benchmarks")
    for index in range(repos):
        rid = next(ids.repo)
        name = names[index] if index < len(names) else f"repo-{index}"
        repo = Repository(
            owner=org_user,
            name=name,
            id=rid,
            node_id=_node("R", rid),
            created_at=start - timedelta(days=rng.randint(30, 900)),
            description=rng.choice((None, f"The {name} of perftrust's fixture org \u2013 ünïcode ✓")),
        )
        dataset.repositories.append(repo)
        for lname, color, description, default in _LABELS:
            lid = next(ids.label)
            repo.labels.append(Label(lid, _node("LA", lid), lname, color, description, default))
        builder = _Builder(dataset, repo, rng, now, forced=True)
        builder.make_milestones(max(4, issues // 40 + 2), start, now)
        total = issues + prs
        span = (now - start).total_seconds() * 0.97
        offsets = sorted(int(rng.random() * span) for _ in range(total))
        kinds = [True] * prs + [False] * issues
        rng.shuffle(kinds)
        for number, (offset, is_pr) in enumerate(zip(offsets, kinds, strict=True), start=1):
            repo.items[number] = builder.new_item(number, start + timedelta(seconds=offset), is_pr)
        _add_special_items(builder, issues, prs)
        repo.pushed_at = max((c.committed_at for c in repo.commits.values()), default=repo.created_at)
    _add_transfer(dataset, rng)
    return dataset


def _add_special_items(builder: _Builder, issues: int, prs: int) -> None:
    """Guarantee pagination edge cases: a >100-entry timeline and a >100-review pull request."""
    repo, rng, now = builder.repo, builder.rng, builder.now
    if issues >= 50:
        candidates = [i for i in repo.issues() if i.created_at < now - timedelta(days=30)]
        if candidates:
            item = candidates[len(candidates) // 2]
            end = item.closed_at or now
            for _ in range(120):
                builder.comment(
                    item,
                    builder.between(item.created_at, end - timedelta(seconds=1)),
                    rng.choice(builder.humans),
                )
            builder.finish(item)
            repo.tag("long_timeline", item.number)
    if prs >= 20:
        candidates = [
            i for i in repo.pulls() if i.created_at < now - timedelta(days=30) and i.pull and not i.pull.draft
        ]
        if candidates:
            item = candidates[len(candidates) // 3]
            end = item.closed_at or now
            for _ in range(105):
                builder.review(
                    item,
                    builder.between(item.created_at, end - timedelta(seconds=1)),
                    rng.choice(builder.humans),
                    "COMMENTED",
                )
            builder.finish(item)
            repo.tag("many_reviews", item.number)


def _add_transfer(dataset: Dataset, rng: random.Random) -> None:
    """Transfer one issue of the first repository: to the second one if any, else out of the dataset."""
    source = dataset.repositories[0] if dataset.repositories else None
    if source is None:
        return
    tagged = {n for numbers in source.scenarios.values() for n in numbers}
    candidates = [i for i in source.issues() if i.number not in tagged]
    if not candidates:
        return
    item = candidates[len(candidates) * 2 // 5]
    when = max(item.updated_at, dataset.now - timedelta(days=2))
    if len(dataset.repositories) > 1:
        target = dataset.repositories[1]
        number = max(target.items, default=0) + 1
        moved = Issue(
            number=number,
            id=item.id,
            node_id=item.node_id,
            title=item.title,
            body=item.body,
            user=item.user,
            created_at=item.created_at,
            updated_at=when,
            author_association=item.author_association,
            state=item.state,
            state_reason=item.state_reason,
            closed_at=item.closed_at,
            closed_by=item.closed_by,
            labels=[],
            assignees=list(item.assignees),
            milestone=None,
            comments=list(item.comments),
            timeline=[
                e
                for e in item.timeline
                if e.event in ("commented", "assigned", "unassigned", "closed", "reopened")
            ],
        )
        target.items[number] = moved
        target.tag("transferred_in", number)
        item.transferred_to = Transfer(target.id, target.full_name, number, when)
    else:
        external = next(dataset._ids.repo)
        item.transferred_to = Transfer(external, f"{dataset.org.login}/archive", rng.randint(1, 500), when)
    source.tag("transferred", item.number)


# --------------------------------------------------------------------------------------------------
# Request-count oracle
# --------------------------------------------------------------------------------------------------


def minimum_requests(dataset: Dataset, repo: str | int | Repository, per_page: int = 100) -> int:
    """The fewest GET requests a complete sync of ``repo`` needs with ``per_page`` items per page.

    Counts ``max(1, ceil(n / per_page))`` pages for each repository-wide list (issues incl. pull
    requests with ``state=all``, milestones ``state=all``, pulls ``state=all``, pull review comments),
    plus, per pull request, its review pages, plus, per issue and pull request, its timeline pages.
    Not counted: ``GET /repos/{o}/{r}``, ``/rate_limit``, repository-wide issue comments (the timelines
    carry the comments) and commits.
    """

    def pages(count: int) -> int:
        return max(1, math.ceil(count / per_page))

    with dataset.lock:
        target = repo if isinstance(repo, Repository) else dataset.repo(repo)
        items = list(target.visible_items())
        pulls = [i.pull for i in items if i.pull is not None]
        total = pages(len(items))
        total += pages(sum(1 for _ in target.live_milestones()))
        total += pages(len(pulls))
        total += pages(sum(len(p.review_comments) for p in pulls))
        total += sum(pages(len(p.reviews)) for p in pulls)
        total += sum(pages(len(i.timeline)) for i in items)
        return total


def iso(moment: datetime | None) -> str | None:
    """GitHub's timestamp format (``2024-01-31T07:00:00Z``)."""
    return None if moment is None else moment.strftime(_TIME_FMT)


# --------------------------------------------------------------------------------------------------
# GitHub Projects (ProjectsV2): opt-in with add_projects(); draws from its own random generator and
# id counters, so the rest of the dataset (and every test built on it) is unchanged.
# --------------------------------------------------------------------------------------------------

PROJECT_SCENARIOS: Final[dict[str, str]] = {
    "project_date": "assigned issue, closed as completed, in one project with a due date field only",
    "project_iteration_done": "assigned issue in one project with an iteration that ended before dataset.now, no date field",
    "project_iteration_running": "open assigned issue whose iteration is still running at dataset.now",
    "project_over_milestone": "assigned issue with a dated milestone and a project date field on another day",
    "two_projects": "assigned issue with a date in two projects (org #1 Roadmap and org #2 Release plan), on different days",
    "project_date_moved": "open assigned issue with a due date in Release plan only (tests move it between runs)",
    "project_start_date_only": 'assigned issue whose only project date is "Start date" (not a due field)',
}


@dataclass(eq=False, slots=True)
class ProjectIteration:
    id: str  # GitHub's iterationId: a short hex string
    title: str
    start_date: date
    duration: int  # days

    @property
    def last_day(self) -> date:
        return self.start_date + timedelta(days=self.duration - 1)


@dataclass(eq=False, slots=True)
class ProjectField:
    id: int
    node_id: str
    name: str
    data_type: str  # TITLE, DATE, ITERATION, TEXT...
    iterations: list[ProjectIteration] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class ProjectItem:
    id: int
    node_id: str
    content: Issue
    repo: Repository
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    values: dict[str, date | ProjectIteration] = field(default_factory=dict)  # field name -> value


@dataclass(eq=False, slots=True)
class Project:
    number: int
    id: int
    node_id: str
    title: str
    owner: User  # an Organization or a User
    created_at: datetime
    fields: list[ProjectField] = field(default_factory=list)
    items: list[ProjectItem] = field(default_factory=list)
    closed: bool = False
    scenarios: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def field_named(self, name: str) -> ProjectField:
        return next(f for f in self.fields if f.name == name)


def _completed(item: Issue) -> bool:
    return item.state == "closed" and item.state_reason in (None, "completed")


def add_projects(dataset: Dataset) -> dict[str, list[tuple[str, int]]]:
    """Give the dataset GitHub Projects: org project #1 "Roadmap" (date fields "Target date" and
    "Start date", iteration field "Sprint": 14-day iterations from ``dataset.start`` to past
    ``dataset.now``), org project #2 "Release plan" (date field "Due date") and user project #1
    "Personal board" of the first person (date field "End date"); about a third of the items are on
    Roadmap, some on the others. Returns the scenarios (:data:`PROJECT_SCENARIOS` name -> [(repo
    full name, item number)]), each guaranteed once per repository when it has eligible items."""
    with dataset.lock:
        rng = random.Random(dataset.seed * 1_000_003 + 71)
        ids = itertools.count(80_000_001)
        org, person = dataset.org, dataset.humans[0]
        start = dataset.start.date()

        def make_field(
            name: str, kind: str, iterations: list[ProjectIteration] | None = None
        ) -> ProjectField:
            fid = next(ids)
            return ProjectField(fid, _b64(f"PVTF_{fid}"), name, kind, iterations or [])

        sprints = []
        day, index = start, 1
        while day <= dataset.now.date() + timedelta(days=28):
            sprints.append(ProjectIteration(f"{rng.getrandbits(32):08x}", f"Sprint {index}", day, 14))
            day += timedelta(days=14)
            index += 1

        def make_project(number: int, title: str, owner: User, fields: list[ProjectField]) -> Project:
            pid = next(ids)
            title_field = make_field("Title", "TITLE")
            return Project(
                number, pid, _b64(f"PVT_{pid}"), title, owner, dataset.start, [title_field, *fields]
            )

        roadmap = make_project(
            1, "Roadmap", org,
            [make_field("Target date", "DATE"), make_field("Start date", "DATE"),
             make_field("Sprint", "ITERATION", sprints)],
        )  # fmt: skip
        release = make_project(2, "Release plan", org, [make_field("Due date", "DATE")])
        personal = make_project(1, "Personal board", person, [make_field("End date", "DATE")])
        dataset.projects.extend([roadmap, release, personal])
        scenarios: dict[str, list[tuple[str, int]]] = {name: [] for name in PROJECT_SCENARIOS}

        def put(project: Project, repo: Repository, item: Issue, **values: date | ProjectIteration) -> None:
            pid = next(ids)
            created = max(item.created_at, dataset.start)
            entry = next((i for i in project.items if i.content is item), None)
            if entry is None:
                entry = ProjectItem(pid, _b64(f"PVTI_{pid}"), item, repo, created, created)
                project.items.append(entry)
            names = {"target": "Target date", "start": "Start date", "sprint": "Sprint", "due": "Due date",
                     "end": "End date"}  # fmt: skip
            for key, value in values.items():
                entry.values[names[key]] = value

        def sprint_of(day: date) -> ProjectIteration:
            return next((s for s in sprints if s.start_date <= day <= s.last_day), sprints[-1])

        today = dataset.now.date()
        for repo in dataset.repositories:
            if repo.deleted:
                continue
            issues = sorted((i for i in repo.issues() if i.assignees), key=lambda i: i.number)
            used: set[int] = set()

            def pick(
                test: Callable[[Issue], bool], issues: list[Issue] = issues, used: set[int] = used
            ) -> Issue | None:
                for candidate in issues:
                    if candidate.number not in used and test(candidate):
                        used.add(candidate.number)
                        return candidate
                return None

            chosen: dict[str, Issue | None] = {
                "project_date": pick(
                    lambda i: _completed(i) and (i.milestone is None or i.milestone.due_on is None)
                ),
                "project_iteration_done": pick(lambda i: i.closed_at is not None and _completed(i)),
                "project_iteration_running": pick(lambda i: i.state == "open"),
                "project_over_milestone": pick(
                    lambda i: _completed(i) and i.milestone is not None and i.milestone.due_on is not None
                ),
                "two_projects": pick(lambda i: _completed(i)),
                "project_date_moved": pick(lambda i: i.state == "open"),
                "project_start_date_only": pick(lambda i: True),
            }
            for name, item in chosen.items():
                if item is None:
                    continue
                scenarios[name].append((repo.full_name, item.number))
                closed_day = item.closed_at.date() if item.closed_at else today
                if name == "project_date":
                    put(roadmap, repo, item, target=closed_day + timedelta(days=2))
                elif name == "project_iteration_done":
                    put(roadmap, repo, item, sprint=sprint_of(closed_day - timedelta(days=20)))
                elif name == "project_iteration_running":
                    put(roadmap, repo, item, sprint=sprint_of(today))
                elif name == "project_over_milestone":
                    assert item.milestone is not None and item.milestone.due_on is not None
                    put(roadmap, repo, item, target=closed_day - timedelta(days=3))
                elif name == "two_projects":
                    put(roadmap, repo, item, target=closed_day + timedelta(days=5))
                    put(release, repo, item, due=closed_day - timedelta(days=5))
                elif name == "project_date_moved":
                    put(release, repo, item, due=today + timedelta(days=10))
                else:
                    put(roadmap, repo, item, start=item.created_at.date())
            for item in sorted(repo.visible_items(), key=lambda i: i.number):
                if item.number in used:
                    continue
                created = item.created_at.date()
                if rng.random() < 0.35:
                    draw = rng.random()
                    if draw < 0.45:
                        put(roadmap, repo, item, target=created + timedelta(days=rng.randint(3, 60)))
                    elif draw < 0.85:
                        put(
                            roadmap,
                            repo,
                            item,
                            sprint=sprint_of(created + timedelta(days=rng.randint(0, 14))),
                        )
                    elif draw < 0.95:
                        put(roadmap, repo, item, target=created + timedelta(days=rng.randint(3, 60)),
                            sprint=sprint_of(created), start=created)  # fmt: skip
                    else:
                        put(roadmap, repo, item)  # on the board, no dates
                if rng.random() < 0.12:
                    put(release, repo, item, due=created + timedelta(days=rng.randint(7, 90)))
                if rng.random() < 0.05:
                    put(personal, repo, item, end=created + timedelta(days=rng.randint(1, 30)))
        for project in dataset.projects:
            project.scenarios = scenarios
        dataset.version += 1
        return scenarios
