"""Databases for the report tests.

`seed_small_db` writes a small, hand-built scenario (real-shaped GitHub payloads and git commits
straight into the raw tables) whose report a person can work out on paper: the attention list, who
has enough data, the credit edges. It also carries hostile text: an issue titled
`<img src=x onerror=alert(1)>` and a contributor named `Mallory <script>alert(2)</script>`.

`synthetic_db` builds (once per test session) a larger realistic database with
tests/benchmarks/synthetic_db.py and computes its metrics."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipeline.config import Settings
from pipeline.db import connect
from pipeline.identities import rebuild_identities
from pipeline.metrics.common import MetricSettings
from pipeline.metrics.run import compute_metrics

REPO = "acme/app"
AS_OF = datetime(2024, 6, 30, 23, 59, 59)  # as_of date 2024-06-30; window 2024-04-02 .. 2024-06-30
XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_NAME = "Mallory <script>alert(2)</script>"

# login -> (git name, user id). Their commits use the GitHub noreply address, which links git and
# GitHub identities, so each person is one contributor github:<login> with a real-looking name.
PEOPLE = {
    "zed": ("Aaron Zed", 1006),  # login sorts last, name first
    "alice": ("Alice Archer", 1001),
    "dave": ("Dave Dunn", 1004),
    "carol": ("carol Chen", 1003),  # lower-case name: alphabetical order must ignore case
    "mallory": (XSS_NAME, 1005),
    "erin": ("Erin Ewing", 1007),
}
NAME_ORDER = [
    "Aaron Zed",
    "Alice Archer",
    "carol Chen",
    "Dave Dunn",
    "Erin Ewing",
    XSS_NAME,
    "Unlinked Person",
]

# (number, login) -> (status, days) on 2024-06-30, worked out by hand from the items below.
EXPECTED_ATTENTION = {
    (1, "alice"): ("overdue", 20),  # M1 due 06-10, open
    (2, "alice"): ("due soon", 3),  # M2 due 07-03
    (2, "dave"): ("due soon", 3),
    (3, "carol"): ("due soon", 7),  # M3 due 07-07: exactly a week out, still in
    (5, "dave"): ("due soon", 0),  # M5 due today: not yet past
    (6, "mallory"): ("overdue", 121),  # M6 due 03-01, before the window: stale
    (8, "erin"): ("overdue", 20),  # a pull request
}
# Left out: #4 (due in 8 days), #7 and #12-#19 (closed), #9 (a bot's), #10 (nobody assigned), #11 (dropped).


def _user(login: str) -> dict[str, Any]:
    uid = PEOPLE[login][1] if login in PEOPLE else 49699333
    return {"login": login, "id": uid, "type": "Bot" if login.endswith("[bot]") else "User"}


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


@dataclass
class Seeder:
    con: duckdb.DuckDBPyConnection
    events: dict[int, list[dict[str, Any]]]
    repo: str = REPO

    def milestone(self, number: int, due: str) -> None:
        payload = {
            "id": number,
            "number": number,
            "title": f"M{number}",
            "state": "open",
            "due_on": f"{due}T07:00:00Z",
        }
        self.con.execute(
            "INSERT INTO raw_github__milestones VALUES (?, ?, ?, ?, 'seed', NULL)",
            [REPO, number, json.dumps(payload), AS_OF],
        )

    def item(
        self,
        number: int,
        title: str,
        assignees: list[str],
        milestone: int | None,
        *,
        closed: str | None = None,
        state_reason: str | None = "completed",
        pull: bool = False,
        author: str = "alice",
        created: str = "2024-05-01T09:00:00Z",
    ) -> None:
        kind = "pull" if pull else "issues"
        payload: dict[str, Any] = {
            "id": 10_000 + number,
            "number": number,
            "title": title,
            "body": "A description long enough to count as one, with Fixes #1 in it.",
            "state": "closed" if closed else "open",
            "state_reason": state_reason if closed else None,
            "user": _user(author),
            "assignees": [_user(a) for a in assignees],
            "milestone": {"number": milestone, "title": f"M{milestone}"} if milestone else None,
            "created_at": created,
            "updated_at": closed or created,
            "closed_at": closed,
            "comments": 0,
            "html_url": f"https://github.com/{REPO}/{kind}/{number}",
        }
        if pull:
            payload["pull_request"] = {"url": f"https://api.github.com/repos/{REPO}/pulls/{number}"}
            pr = {
                "id": 50_000 + number,
                "number": number,
                "title": title,
                "state": payload["state"],
                "user": _user(author),
                "created_at": created,
                "updated_at": closed or created,
                "closed_at": closed,
                "merged_at": closed if closed and state_reason == "completed" else None,
                "draft": False,
                "body": payload["body"],
                "head": {"ref": f"topic-{number}", "repo": {"full_name": REPO}},
                "base": {"ref": "main"},
                "requested_reviewers": [],
                "html_url": payload["html_url"],
            }
            self.con.execute(
                "INSERT INTO raw_github__pull_requests VALUES (?, ?, ?, ?, 'u', ?, 'seed')",
                [REPO, number, closed or created, json.dumps(pr), AS_OF],
            )
        self.con.execute(
            "INSERT INTO raw_github__issues VALUES (?, ?, ?, ?, ?, 'u', ?, 'seed', NULL)",
            [REPO, number, pull, closed or created, json.dumps(payload), AS_OF],
        )
        if milestone:
            self.event(number, "milestoned", author, created, milestone={"title": f"M{milestone}"})
        for login in assignees:
            self.event(number, "assigned", author, created, assignee=_user(login))
        if closed:
            closer = assignees[0] if assignees else author
            if pull and state_reason == "completed":
                self.event(number, "merged", closer, closed, commit_id=_sha(f"merge{number}"))
            self.event(number, "closed", closer, closed, state_reason=state_reason)

    def event(self, number: int, event: str, actor: str, at: str, **fields: Any) -> None:
        self.events.setdefault(number, []).append(
            {
                "id": len(self.events) * 100 + number,
                "event": event,
                "actor": _user(actor),
                "created_at": at,
                **fields,
            }
        )

    def review(self, number: int, review_id: int, reviewer: str, at: str) -> None:
        review = {
            "id": review_id,
            "user": _user(reviewer),
            "state": "APPROVED",
            "submitted_at": at,
            "html_url": f"https://github.com/{REPO}/pull/{number}#pullrequestreview-{review_id}",
        }
        self.con.execute(
            "INSERT INTO raw_github__reviews VALUES (?, ?, ?, ?, ?, 'seed')",
            [REPO, number, review_id, json.dumps(review), AS_OF],
        )

    def commit(self, login_or_name: str, message: str, when: str, email: str | None = None) -> str:
        if login_or_name in PEOPLE:
            name, uid = PEOPLE[login_or_name]
            email = f"{uid}+{login_or_name}@users.noreply.github.com"
        else:
            name = login_or_name
        sha = _sha(message + when)
        epoch = int(datetime.fromisoformat(when).replace(tzinfo=UTC).timestamp())
        self.con.execute(
            "INSERT INTO raw_git__commits VALUES (?, ?, [], ?, ?, ?, '+0000', ?, ?, ?, '+0000', ?, "
            "[{'path': 'app.py', 'old_path': NULL, 'lines_added': 3, 'lines_deleted': 1}], 'seed', ?)",
            [self.repo, sha, name, email, epoch, name, email, epoch, message, AS_OF],
        )
        return sha

    def done(self) -> None:
        for number, events in self.events.items():
            for index, payload in enumerate(events):
                self.con.execute(
                    "INSERT INTO raw_github__timeline_events VALUES (?, ?, ?, ?, ?, ?, 'seed')",
                    [REPO, number, index, payload["event"], json.dumps(payload), AS_OF],
                )


def seed_small_db(path: Path, *, metrics: bool = True) -> Path:
    """The hand-built scenario at `path`, metrics computed as of AS_OF (min n 5, window 90 days)."""
    con = connect(path)
    s = Seeder(con, {})
    s.milestone(1, "2024-06-10")
    s.milestone(2, "2024-07-03")
    s.milestone(3, "2024-07-07")
    s.milestone(4, "2024-07-08")
    s.milestone(5, "2024-06-30")
    s.milestone(6, "2024-03-01")
    s.item(1, XSS_TITLE, ["alice"], 1)
    s.item(2, "Ship the exporter", ["alice", "dave"], 2)
    s.item(3, "Boundary: seven days out", ["carol"], 3)
    s.item(4, "Eight days out", ["carol"], 4)
    s.item(5, "Due today", ["dave"], 5)
    s.item(6, "Ancient promise", ["mallory"], 6, created="2024-02-01T09:00:00Z")
    s.item(8, "Pull request past its date", ["erin"], 1, pull=True, author="erin")
    s.item(9, "Bump a dependency", ["dependabot[bot]"], 1, author="dependabot[bot]")
    s.item(10, "Nobody's job", [], 1)
    s.item(
        11, "Not planned after all", ["alice"], 1, closed="2024-06-05T10:00:00Z", state_reason="not_planned"
    )
    # dave: 4 on time and 1 late (n = 5, enough); carol: 2 on time and 1 late (n = 3, not enough).
    for number, closed in ((7, "06-01"), (12, "06-02"), (13, "06-03"), (14, "06-12"), (15, "06-09")):
        s.item(number, f"Task {number}", ["dave"], 1, closed=f"2024-{closed}T10:00:00Z")
    for number, closed in ((17, "06-04"), (18, "06-14"), (19, "06-05")):
        s.item(number, f"Task {number}", ["carol"], 1, closed=f"2024-{closed}T10:00:00Z")
    # Reviews: alice reviews erin's pull request 8 (alice helps erin).
    s.review(8, 777, "alice", "2024-06-15T12:00:00Z")
    # Commits: everyone is active; credit trailers give the credit network its other edges.
    s.commit(
        "alice",
        "Add exporter\n\nCo-authored-by: carol Chen <1003+carol@users.noreply.github.com>",
        "2024-06-03T10:00:00",
    )
    s.commit(
        "dave",
        "Fix parser\n\nReviewed-by: Alice Archer <1001+alice@users.noreply.github.com>",
        "2024-06-04T10:00:00",
    )
    s.commit("zed", "Tidy the docs", "2024-06-05T10:00:00")
    s.commit("mallory", "Refactor <b>the</b> loader", "2024-06-06T10:00:00")
    s.commit("erin", "Start the pull request", "2024-06-07T10:00:00")
    s.commit("carol", "Update tests", "2024-06-08T10:00:00")
    s.commit(
        "Unlinked Person",
        "A commit from an address with no GitHub account",
        "2024-06-09T10:00:00",
        "unlinked@acme.example",
    )
    s.done()
    con.execute(
        """INSERT INTO dim_repositories BY NAME
           SELECT ? AS repo, 'git' AS source, '/src/app' AS path, ? AS remote_url, 'default' AS ref_selection,
                  false AS is_bare, false AS is_shallow, ?::TIMESTAMP AS first_synced_at,
                  ?::TIMESTAMP AS last_synced_at, 'seed' AS last_run_id""",
        [REPO, f"https://github.com/{REPO}.git", AS_OF, AS_OF],
    )
    con.execute(
        """INSERT INTO pipeline_runs BY NAME
           SELECT 'seed' AS run_id, 'run' AS command, ?::TIMESTAMP AS started_at, ?::TIMESTAMP AS finished_at,
                  'succeeded' AS status, '0.1.0' AS perftrust_version, 42 AS count_api_requests,
                  7 AS count_not_modified, 4958 AS rate_limit_remaining""",
        [datetime(2024, 6, 30, 2, 0), datetime(2024, 6, 30, 2, 5)],
    )
    rebuild_identities(con, Settings())
    if metrics:
        compute_metrics(con, MetricSettings(as_of=AS_OF))
    con.execute("CHECKPOINT")
    con.close()
    return path


SYNTHETIC_AS_OF = datetime(2026, 6, 30, 23, 59, 59)
SYNTHETIC_SIZE = {"commits": 3000, "issues": 600, "prs": 200, "contributors": 40, "repos": 2}


@functools.cache
def synthetic_db(base: Path) -> Path:
    """A realistic database of 40 people (tests/benchmarks/synthetic_db.py) with its metrics, built
    once per test session under `base` (pass tmp_path_factory.getbasetemp())."""
    from tests.benchmarks.synthetic_db import build_synthetic_db

    path = base / "reports-synthetic" / "synthetic.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    build_synthetic_db(path, **SYNTHETIC_SIZE, overwrite=True)  # type: ignore[arg-type]
    con = connect(path)
    compute_metrics(con, MetricSettings(as_of=SYNTHETIC_AS_OF))
    con.execute("CHECKPOINT")
    con.close()
    return path


# ---- git history only (no GitHub source): the pallets/flask case of issue 11 -------------------

GIT_REPO = "pallets/flask"
GIT_PEOPLE = (
    ("Ada Lovelace", "ada@example.org"),
    ("Barbara Liskov", "barbara@example.org"),
    ("Grace Hopper", "grace@example.org"),
    ("Ken Thompson", "ken@example.org"),
    ("Margaret Hamilton", "margaret@example.org"),
    ("Maximilian Alexander von Humboldt-Sternberg", "max@example.org"),  # a long name for the labels
)
BOT_NAME = "dependabot[bot]"
FLASK_LAST_DAY = date(2026, 4, 8)  # the last commit of the quiet repository
FLASK_TODAY = datetime(2026, 12, 7, 23, 59, 59)  # "today" in issue 11: eight months later


def seed_git_only_db(path: Path, as_of: datetime, last_day: date = FLASK_LAST_DAY, days: int = 180) -> Path:
    """Git history only (no GitHub data at all), `days` of commits ending on `last_day`, metrics
    computed as of `as_of` (window 90 days, minimum n 5).

    Six people commit on a fixed pattern (some weeks quiet); some commits carry Co-authored-by and
    Reviewed-by trailers (the credit network) and one is reverted. dependabot[bot] commits under
    its noreply address and is named in a trailer with another address: two bot identities that
    the data-quality list must show as one bot."""
    con = connect(path)
    s = Seeder(con, {}, repo=GIT_REPO)
    bot_email = f"49699333+{BOT_NAME}@users.noreply.github.com"
    count = 0
    for back in range(days - 1, -1, -1):
        day = last_day - timedelta(days=back)
        for i, (name, email) in enumerate(GIT_PEOPLE):
            if (back * 31 + i * 17) % 11 >= 3 + i % 3 or (back // 7 + i) % 5 == 0:
                continue  # not every day, and a quiet week now and then
            count += 1
            trailers = []
            if count % 9 == 0:
                other = GIT_PEOPLE[(i + 1) % len(GIT_PEOPLE)]
                trailers.append(f"Co-authored-by: {other[0]} <{other[1]}>")
            if count % 13 == 0:
                other = GIT_PEOPLE[(i + 2) % len(GIT_PEOPLE)]
                trailers.append(f"Reviewed-by: {other[0]} <{other[1]}>")
            if count % 40 == 0:
                trailers.append(f"Co-authored-by: {BOT_NAME} <support@github.com>")
            message = f"Change {count} by {name.split()[0]}" + (
                "\n\n" + "\n".join(trailers) if trailers else ""
            )
            s.commit(name, message, f"{day.isoformat()}T{9 + i:02d}:00:00", email)
        if back % 14 == 3:
            s.commit(BOT_NAME, f"Bump a dependency ({back})", f"{day.isoformat()}T06:00:00", bot_email)
    reverted = _sha(f"Change 5 by {GIT_PEOPLE[0][0].split()[0]}")  # not a real sha of the seed: unresolved
    s.commit(GIT_PEOPLE[0][0], f'Revert "Change 5"\n\nThis reverts commit {reverted}.',
             f"{last_day.isoformat()}T08:00:00", GIT_PEOPLE[0][1])  # fmt: skip
    synced = datetime.combine(last_day, datetime.min.time()) + timedelta(days=1)
    con.execute(
        """INSERT INTO dim_repositories BY NAME
           SELECT ? AS repo, 'git' AS source, '/src/flask' AS path, ? AS remote_url, 'default' AS ref_selection,
                  false AS is_bare, false AS is_shallow, ?::TIMESTAMP AS first_synced_at,
                  ?::TIMESTAMP AS last_synced_at, 'seed' AS last_run_id""",
        [GIT_REPO, f"https://github.com/{GIT_REPO}.git", synced, as_of],
    )
    con.execute(
        """INSERT INTO pipeline_sources BY NAME
           SELECT 'git:' || ? AS source_id, 'git' AS source, ? AS repo, ?::TIMESTAMP AS first_synced_at,
                  ?::TIMESTAMP AS last_synced_at, 'seed' AS last_synced_run_id, 'succeeded' AS last_attempt_status""",
        [GIT_REPO, GIT_REPO, synced, as_of],
    )
    con.execute(
        """INSERT INTO pipeline_runs BY NAME
           SELECT 'seed' AS run_id, 'run' AS command, ?::TIMESTAMP AS started_at, ?::TIMESTAMP AS finished_at,
                  'succeeded' AS status, '0.1.0' AS perftrust_version""",
        [as_of - timedelta(minutes=5), as_of],
    )
    rebuild_identities(con, Settings())
    compute_metrics(con, MetricSettings(as_of=as_of))
    con.execute("CHECKPOINT")
    con.close()
    return path
