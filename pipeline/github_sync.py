"""Incremental GitHub sync: issues (and PRs) since a cursor, their timelines and reviews, pulls,
milestones with the due dates seen each run, review comments, and the logins behind commit emails.

Economy: one list page per 100 items, then one timeline request per changed item and one reviews
request per changed pull request; conditional requests (ETag) make an unchanged repository cost
only 304s. Safety: an item of the issues list is committed together with its timeline (and its
reviews), in small groups as they arrive and before any error is raised, so the row of
raw_github__issues with its updated_at is itself the record "details fetched for that updated_at";
the since-cursor moves only over a prefix of the list whose items are all committed. A run cut by
the rate limit, by faults or by a kill resumes where it stopped, refetches no committed item, and
ends equal to an uninterrupted run.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from pipeline.db import registered, transaction
from pipeline.github_client import GitHubClient, NotFound, Response, recorded_step
from pipeline.identities import github_login_from_email
from pipeline.runs import StepResult, read_cursor, utc_now, write_cursor

SOURCE = "github"
MAX_PASSES = 20  # of a since-cursor list per run; each pass that finds changes moves the cursor on
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class GitHubSyncOptions:
    concurrency: int = 4  # parallel timeline/review requests; GitHub's secondary limits want few
    commit_logins: bool = True  # ask GitHub which account is behind each commit author email
    max_commit_logins: int = 500  # per run, to spare the quota; the rest come next run
    # Fetched timelines/reviews are committed at least this often (and at the end of each list page,
    # and before an error is raised): what a kill can lose. 0 commits each item as it completes.
    commit_seconds: float = 2.0


def parse_time(value: str | None) -> datetime | None:
    """GitHub ISO 8601 -> naive UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _replace_rows(
    con: duckdb.DuckDBPyConnection, table: str, keys: list[str], rows: list[dict[str, Any]], schema: pa.Schema
) -> None:
    """Delete the rows with these keys, then insert the new ones (an upsert on the natural key)."""
    if not rows:
        return
    data = pa.Table.from_pylist(rows, schema=schema)  # payload strings are cast to JSON on insert
    with registered(con, "perftrust_rows", data):
        match = " AND ".join(f"t.{k} = r.{k}" for k in keys)
        con.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM perftrust_rows r WHERE {match})")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM perftrust_rows")


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in fields])


_ENVELOPE = (("fetched_at", pa.timestamp("us")), ("run_id", pa.string()))
ISSUES = _schema(
    ("repo", pa.string()), ("number", pa.int32()), ("is_pull_request", pa.bool_()),
    ("updated_at", pa.timestamp("us")), ("payload", pa.string()), ("url", pa.string()), *_ENVELOPE,
    ("gone_reason", pa.string()),
)  # fmt: skip
TIMELINE = _schema(
    ("repo", pa.string()), ("issue_number", pa.int32()), ("event_index", pa.int32()), ("event", pa.string()),
    ("payload", pa.string()), *_ENVELOPE,
)  # fmt: skip
PULLS = _schema(
    ("repo", pa.string()), ("number", pa.int32()), ("updated_at", pa.timestamp("us")), ("payload", pa.string()),
    ("url", pa.string()), *_ENVELOPE,
)  # fmt: skip
REVIEWS = _schema(
    ("repo", pa.string()), ("pull_number", pa.int32()), ("review_id", pa.int64()), ("payload", pa.string()),
    *_ENVELOPE,
)  # fmt: skip
REVIEW_COMMENTS = _schema(
    ("repo", pa.string()), ("comment_id", pa.int64()), ("updated_at", pa.timestamp("us")),
    ("payload", pa.string()), *_ENVELOPE,
)  # fmt: skip
MILESTONES = _schema(
    ("repo", pa.string()), ("number", pa.int32()), ("payload", pa.string()), *_ENVELOPE,
    ("deleted_at", pa.timestamp("us")),
)  # fmt: skip


_Details = dict[str, list[dict[str, Any]]]  # "timeline" / "reviews" -> what GitHub listed


@dataclass
class _IssuePage:
    """One page of the issues list while its items' details arrive."""

    page: Response
    page_number: int
    since: Any  # the since-cursor the page was asked with
    items: list[dict[str, Any]]
    changed: set[int]  # numbers of the items whose details are fetched (new or updated)
    ready: dict[int, _Details] = field(default_factory=dict)  # complete, not committed yet
    committed: set[int] = field(default_factory=set)
    prefix: int = 0  # items[:prefix] are committed and the since-cursor is at the last of them
    last_commit: float = field(default_factory=time.perf_counter)


class _Sync:
    """State of one repository's sync; methods are the stages, in order."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        client: GitHubClient,
        full_name: str,
        key: str,
        run_id: str,
        options: GitHubSyncOptions,
        progress: Progress | None,
    ) -> None:
        self.con = con
        self.client = client
        self.full_name = full_name
        self.key = key
        self.run_id = run_id
        self.options = options
        self.progress = progress
        self.cursor: dict[str, Any] = read_cursor(con, SOURCE, key) or {}
        self.result = StepResult("github_sync", key)
        self.changed = False  # anything but due-date observations written this run
        self._local = threading.local()

    # -- helpers ---------------------------------------------------------------------------------
    def _client(self) -> GitHubClient:
        """One client (one HTTP connection) per thread."""
        client: GitHubClient | None = getattr(self._local, "client", None)
        if client is None:
            client = (
                self.client if threading.current_thread() is threading.main_thread() else self.client.clone()
            )
            self._local.client = client
        return client

    def _save_cursor(self, **changes: Any) -> None:
        self.cursor.update(changes)
        write_cursor(self.con, SOURCE, self.key, self.cursor, self.run_id)

    def _advance(
        self, stream: str, items: list[dict[str, Any]], page: Response, page_number: int, since: Any
    ) -> None:
        """Move a since-cursor past a committed page (oldest first); a lone first page's ETag is kept
        with the `since` it answered, so the same request next run can be a 304."""
        cursor: dict[str, Any] = {}
        if items:
            cursor[f"{stream}_since"] = items[-1]["updated_at"]
        if page_number == 0 and page.next_url is None:
            cursor.update({f"{stream}_etag": page.etag, f"{stream}_etag_since": since})
        if cursor:
            self._save_cursor(**cursor)

    def _all(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        items: list[Any] = []
        for page in self._client().pages(path, params):
            items.extend(page.data or [])
        return items

    @property
    def base(self) -> str:
        return f"/repos/{self.full_name}"

    # -- stages ----------------------------------------------------------------------------------
    def repository(self) -> None:
        response = self.client.get(self.base, etag=self.cursor.get("repo_etag"))
        if response.status == 304:
            self.full_name = self.cursor.get("full_name", self.full_name)
            return
        data = response.data
        actual = str(data.get("full_name") or self.full_name)
        if actual.lower() != self.full_name.lower():
            self.result.warnings.append(
                f"{self.full_name} is now {actual} on GitHub (renamed or transferred); synced it under the "
                f"key {self.key}: update the configuration to the new name"
            )
        self.full_name = actual
        self.changed = True
        with transaction(self.con):
            self.con.execute(
                "INSERT OR REPLACE INTO raw_github__repositories VALUES (?, ?, ?, ?, ?, ?)",
                [self.key, actual, _json(data), self.client.scrub(response.path), utc_now(), self.run_id],
            )
            self._save_cursor(repo_etag=response.etag, full_name=actual)

    def milestones(self) -> None:
        """The whole milestone list (it is short). Unchanged when every page answers 304 to its ETag."""
        now = utc_now()
        if not self._milestones_unchanged():
            pages = list(self.client.pages(f"{self.base}/milestones", {"state": "all"}))
            self.changed = True
            items = [m for page in pages for m in page.data or []]
            rows = [
                {"repo": self.key, "number": m["number"], "payload": _json(m), "fetched_at": now,
                 "run_id": self.run_id, "deleted_at": None}
                for m in items
            ]  # fmt: skip
            with transaction(self.con):
                _replace_rows(self.con, "raw_github__milestones", ["repo", "number"], rows, MILESTONES)
                numbers = [m["number"] for m in items] or [-1]
                self.con.execute(
                    "UPDATE raw_github__milestones SET deleted_at = ? WHERE repo = ? AND deleted_at IS NULL "
                    "AND NOT list_contains(?, number)",
                    [now, self.key, numbers],
                )
                self._save_cursor(milestone_pages=[[p.path, p.etag] for p in pages])
        self._observe_due_dates(now)

    def _milestones_unchanged(self) -> bool:
        """Ask for each page seen last time with its ETag; any change shows on some page."""
        seen = self.cursor.get("milestone_pages") or []
        if not seen or not all(etag for _, etag in seen):
            return False
        for number, (path, etag) in enumerate(seen):
            response = self.client.get(
                path,
                {"state": "all", "per_page": self.client.settings.per_page} if number == 0 else None,
                etag,
            )
            if response.status != 304:
                return False
            if number == len(seen) - 1 and response.next_url:
                return False
        return True

    def _observe_due_dates(self, now: datetime) -> None:
        """Record the due date this run saw on every live milestone (the history GitHub does not keep)."""
        with transaction(self.con):
            self.con.execute(
                """UPDATE raw_github__due_date_observations o SET last_observed_at = $now, last_run_id = $run
                   FROM (SELECT number, perftrust_utc(payload->>'$.due_on') AS due_on
                         FROM raw_github__milestones WHERE repo = $repo AND deleted_at IS NULL) m
                   WHERE o.repo = $repo AND o.milestone_number = m.number
                     AND o.due_on IS NOT DISTINCT FROM m.due_on
                     AND o.last_observed_at = (SELECT max(last_observed_at) FROM raw_github__due_date_observations x
                                               WHERE x.repo = o.repo AND x.milestone_number = o.milestone_number)""",
                {"now": now, "run": self.run_id, "repo": self.key},
            )
            self.con.execute(
                """INSERT INTO raw_github__due_date_observations
                   SELECT $repo, m.number, m.due_on, $now, $now, $run, $run
                   FROM (SELECT number, perftrust_utc(payload->>'$.due_on') AS due_on
                         FROM raw_github__milestones WHERE repo = $repo AND deleted_at IS NULL) m
                   WHERE NOT EXISTS (
                       SELECT 1 FROM raw_github__due_date_observations o
                       WHERE o.repo = $repo AND o.milestone_number = m.number AND o.last_observed_at = $now)""",
                {"now": now, "run": self.run_id, "repo": self.key},
            )

    def issues(self) -> None:
        """Issues and PRs updated since the cursor, oldest first; per page: timelines, reviews, commit.

        Passes repeat until one brings nothing new: that last answer (the items at the cursor) is
        then fully stored, so its ETag can make the next run's identical request a free 304.
        """
        for _ in range(MAX_PASSES):
            if not self._issues_pass():
                return

    def _issues_pass(self) -> bool:
        since = self.cursor.get("issues_since")
        params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc"}
        if since:
            params["since"] = since
        # An item stored with the updated_at GitHub lists now has its details for that updated_at
        # (they are committed together), whichever run or pass stored it: it is not fetched again.
        known = dict(
            self.con.execute(
                "SELECT number, updated_at FROM raw_github__issues WHERE repo = ?", [self.key]
            ).fetchall()
        )
        etag = self.cursor.get("issues_etag") if self.cursor.get("issues_etag_since") == since else None
        done = 0
        any_changed = False
        for page_number, page in enumerate(self.client.pages(f"{self.base}/issues", params, etag)):
            if page.status == 304:
                return False
            items: list[dict[str, Any]] = page.data or []
            self.changed = self.changed or bool(items)
            changed = [i for i in items if known.get(i["number"]) != parse_time(i.get("updated_at"))]
            state = _IssuePage(page, page_number, since, items, {i["number"] for i in changed})
            state.ready.update({i["number"]: {} for i in items if i["number"] not in state.changed})
            self._details(state, changed)
            self._commit(state, final=True)
            any_changed = any_changed or bool(changed)
            done += len(items)
            if self.progress:
                self.progress(done, done + (100 if page.next_url else 0))
        return any_changed

    def _commit(self, state: _IssuePage, final: bool = False) -> None:
        """Commit the items whose details all arrived (with those details), and move the since-cursor
        over the page's leading committed items; `final`: the page is done (keep its ETag if it was
        the only page)."""
        ready = state.ready
        committed = state.committed | ready.keys()
        prefix = state.prefix
        while prefix < len(state.items) and state.items[prefix]["number"] in committed:
            prefix += 1
        cursor: dict[str, Any] = {}
        if prefix > state.prefix:
            cursor["issues_since"] = state.items[prefix - 1]["updated_at"]
        if final:
            assert prefix == len(state.items), "a page ends with every item committed, or raises"
            if state.page_number == 0 and state.page.next_url is None:
                cursor.update(issues_etag=state.page.etag, issues_etag_since=state.since)
        if not ready and not cursor:
            return
        now = utc_now()
        url = self.client.scrub(state.page.path)
        by_number = {i["number"]: i for i in state.items}
        issue_rows = [
            {"repo": self.key, "number": n, "is_pull_request": "pull_request" in by_number[n],
             "updated_at": parse_time(by_number[n].get("updated_at")), "payload": _json(by_number[n]),
             "url": url, "fetched_at": now, "run_id": self.run_id, "gone_reason": None}
            for n in ready
        ]  # fmt: skip
        timelines = {n: d["timeline"] for n, d in ready.items() if "timeline" in d}
        reviews = {n: d["reviews"] for n, d in ready.items() if "reviews" in d}
        with transaction(self.con):
            _replace_rows(self.con, "raw_github__issues", ["repo", "number"], issue_rows, ISSUES)
            # Timelines and reviews are refetched whole: replace each item's rows in one statement pair.
            self._replace_children(
                "raw_github__timeline_events", "issue_number", timelines.keys(),
                [{"repo": self.key, "issue_number": number, "event_index": n, "event": e.get("event"),
                  "payload": _json(e), "fetched_at": now, "run_id": self.run_id}
                 for number, events in timelines.items() for n, e in enumerate(events)],
                TIMELINE,
            )  # fmt: skip
            self._replace_children(
                "raw_github__reviews", "pull_number", reviews.keys(),
                [{"repo": self.key, "pull_number": number, "review_id": r["id"], "payload": _json(r),
                  "fetched_at": now, "run_id": self.run_id}
                 for number, pull_reviews in reviews.items() for r in pull_reviews],
                REVIEWS,
            )  # fmt: skip
            if cursor:
                self._save_cursor(**cursor)
        self.result.count_rows_added += sum(1 for n in ready if n in state.changed)
        state.committed = committed
        state.prefix = prefix
        state.last_commit = time.perf_counter()
        ready.clear()

    def _replace_children(
        self, table: str, parent: str, parents: Iterable[int], rows: list[dict[str, Any]], schema: pa.Schema
    ) -> None:
        numbers = list(parents)
        if not numbers:
            return
        self.con.execute(
            f"DELETE FROM {table} WHERE repo = ? AND list_contains(?, {parent})", [self.key, numbers]
        )
        if rows:
            with registered(self.con, "perftrust_rows", pa.Table.from_pylist(rows, schema=schema)):
                self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM perftrust_rows")

    def _details(self, state: _IssuePage, items: list[dict[str, Any]]) -> None:
        """Timelines of changed items and reviews of changed PRs, a few requests at a time, item by
        item in list order; each item is ready once all its details arrived, and ready items are
        committed every `commit_seconds` and, when a request fails for good, before the error is
        raised (requests not started yet are then dropped)."""
        jobs: list[tuple[str, int]] = []
        for item in items:
            jobs.append(("timeline", item["number"]))
            if "pull_request" in item:
                jobs.append(("reviews", item["number"]))
        wanted = {i["number"]: 2 if "pull_request" in i else 1 for i in items}
        partial: dict[int, _Details] = {}

        def fetch(job: tuple[str, int]) -> tuple[str, int, list[dict[str, Any]]]:
            kind, number = job
            path = (
                f"{self.base}/issues/{number}/timeline"
                if kind == "timeline"
                else f"{self.base}/pulls/{number}/reviews"
            )
            try:
                return kind, number, self._all(path)
            except NotFound:
                return kind, number, []  # the item was deleted or transferred between list and detail

        def take(outcome: tuple[str, int, list[dict[str, Any]]]) -> None:
            kind, number, data = outcome
            got = partial.setdefault(number, {})
            got[kind] = data
            if len(got) == wanted[number]:
                state.ready[number] = partial.pop(number)

        def take_and_maybe_commit(outcome: tuple[str, int, list[dict[str, Any]]]) -> None:
            take(outcome)
            if state.ready and time.perf_counter() - state.last_commit >= self.options.commit_seconds:
                self._commit(state)

        if self.options.concurrency <= 1 or len(jobs) <= 1:
            for job in jobs:
                try:
                    outcome = fetch(job)
                except Exception:
                    self._commit(state)  # keep what arrived before the failure
                    raise
                take_and_maybe_commit(outcome)
            return
        pool = ThreadPoolExecutor(self.options.concurrency, thread_name_prefix="perftrust-github")
        try:
            futures = [pool.submit(fetch, job) for job in jobs]
            remaining: set[Future[tuple[str, int, list[dict[str, Any]]]]] = set(futures)
            for future in as_completed(futures):
                remaining.discard(future)
                try:
                    outcome = future.result()
                except Exception:
                    for other in remaining:
                        other.cancel()
                    wait(remaining)  # the requests under way: what they got is kept too
                    for other in remaining:
                        if not other.cancelled() and other.exception() is None:
                            take(other.result())
                    self._commit(state)
                    raise
                take_and_maybe_commit(outcome)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def pulls(self) -> None:
        """/pulls has no `since`: read newest-updated first and stop at the cursor."""
        since = parse_time(self.cursor.get("pulls_since"))
        newest: str | None = None
        pages = self.client.pages(
            f"{self.base}/pulls",
            {"state": "all", "sort": "updated", "direction": "desc"},
            self.cursor.get("pulls_etag"),
        )
        first_etag: str | None = None
        for page_number, page in enumerate(pages):
            if page.status == 304:
                return
            if page_number == 0:
                first_etag = page.etag
            items: list[dict[str, Any]] = page.data or []
            self.changed = self.changed or bool(items)
            if items and newest is None:
                newest = items[0]["updated_at"]
            now = utc_now()
            fresh = [p for p in items if since is None or (parse_time(p.get("updated_at")) or since) >= since]
            rows = [
                {"repo": self.key, "number": p["number"], "updated_at": parse_time(p.get("updated_at")),
                 "payload": _json(p), "url": self.client.scrub(page.path), "fetched_at": now,
                 "run_id": self.run_id}
                for p in fresh
            ]  # fmt: skip
            with transaction(self.con):
                _replace_rows(self.con, "raw_github__pull_requests", ["repo", "number"], rows, PULLS)
            if len(fresh) < len(items):
                break  # older pages hold nothing updated since the last run
        with transaction(self.con):
            self._save_cursor(pulls_since=newest or self.cursor.get("pulls_since"), pulls_etag=first_etag)

    def review_comments(self) -> None:
        """Comments on diffs since the cursor; passes repeat like issues() so the last ETag is safe."""
        for _ in range(MAX_PASSES):
            if not self._review_comments_pass():
                return

    def _review_comments_pass(self) -> bool:
        since = self.cursor.get("review_comments_since")
        known = dict(
            self.con.execute(
                "SELECT comment_id, updated_at FROM raw_github__review_comments WHERE repo = ?", [self.key]
            ).fetchall()
        )
        any_changed = False
        params: dict[str, Any] = {"sort": "updated", "direction": "asc"}
        if since:
            params["since"] = since
        etag = (
            self.cursor.get("review_comments_etag")
            if self.cursor.get("review_comments_etag_since") == since
            else None
        )
        for page_number, page in enumerate(self.client.pages(f"{self.base}/pulls/comments", params, etag)):
            if page.status == 304:
                return False
            items: list[dict[str, Any]] = page.data or []
            any_changed = any_changed or any(
                known.get(c["id"]) != parse_time(c.get("updated_at")) for c in items
            )
            self.changed = self.changed or bool(items)
            now = utc_now()
            rows = [
                {"repo": self.key, "comment_id": c["id"], "updated_at": parse_time(c.get("updated_at")),
                 "payload": _json(c), "fetched_at": now, "run_id": self.run_id}
                for c in items
            ]  # fmt: skip
            with transaction(self.con):
                _replace_rows(
                    self.con, "raw_github__review_comments", ["repo", "comment_id"], rows, REVIEW_COMMENTS
                )
                self._advance("review_comments", items, page, page_number, since)
        return any_changed

    def gone_items(self) -> None:
        """Open items GitHub no longer lists here: transferred to another repository, or deleted.

        Cheap check first: GitHub's open_issues_count (issues + PRs) against ours; only when we hold
        more open items than GitHub counts is the open list read to find which ones left.
        """
        counts = self.con.execute(
            """SELECT (SELECT CAST(payload->>'$.open_issues_count' AS INTEGER) FROM raw_github__repositories
                       WHERE repo = $repo),
                      (SELECT count(*) FROM raw_github__issues WHERE repo = $repo AND gone_reason IS NULL
                       AND payload->>'$.state' = 'open')""",
            {"repo": self.key},
        ).fetchall()[0]
        if counts[0] is None or counts[1] <= counts[0]:
            return
        pages = list(
            self.client.pages(f"{self.base}/issues", {"state": "open", "sort": "created", "direction": "asc"})
        )
        listed = [i["number"] for page in pages for i in page.data or []]
        missing = [
            r[0]
            for r in self.con.execute(
                """SELECT number FROM raw_github__issues WHERE repo = ? AND gone_reason IS NULL
                   AND payload->>'$.state' = 'open' AND NOT list_contains(?, number)""",
                [self.key, listed or [-1]],
            ).fetchall()
        ]
        for number in missing:
            try:
                response = self.client.get(f"{self.base}/issues/{number}")
            except NotFound:
                reason = "deleted"
            else:
                url = str((response.data or {}).get("repository_url", ""))
                moved_to = "/".join(url.rstrip("/").split("/")[-2:])
                if moved_to.lower() == self.full_name.lower():
                    continue  # still here (listed moments later)
                reason = self.client.scrub(f"transferred:{moved_to}")
            self.con.execute(
                "UPDATE raw_github__issues SET gone_reason = ? WHERE repo = ? AND number = ?",
                [reason, self.key, number],
            )
            self.result.warnings.append(f"#{number} left {self.full_name}: {reason}")

    def commit_login_asks(self, limit: int) -> list[tuple[str, str]]:
        """(email, newest commit sha) of each commit author email whose account is not known yet and
        cannot be read off the address (noreply emails), at most `limit`, in email order."""
        rows = self.con.execute(
            """SELECT author_email, arg_max(sha, author_epoch) FROM raw_git__commits c
               WHERE repo = ? AND author_email LIKE '%@%'
                 AND NOT EXISTS (SELECT 1 FROM raw_github__commit_authors a
                                 WHERE a.repo = c.repo AND a.email = c.author_email)
               GROUP BY author_email ORDER BY author_email""",
            [self.key],
        ).fetchall()
        asks = [(email, sha) for email, sha in rows if not github_login_from_email(email)]
        return asks[:limit]

    def store_commit_logins(self, found: list[tuple[Any, ...]]) -> None:
        """Rows of raw_github__commit_authors: (repo, email, sha, login, user_id, fetched_at, run_id)."""
        if found:
            self.changed = True
            with transaction(self.con):
                self.con.executemany(
                    "INSERT OR REPLACE INTO raw_github__commit_authors VALUES (?, ?, ?, ?, ?, ?, ?)", found
                )

    def commit_logins(self) -> None:
        """The GitHub account behind each commit author email not yet known (one commit per email)."""
        asks = self.commit_login_asks(self.options.max_commit_logins)
        found: list[tuple[Any, ...]] = []
        try:
            for email, sha in asks:
                try:
                    data = self.client.get(f"{self.base}/commits/{sha}").data or {}
                except NotFound:
                    data = {}  # the commit is not on GitHub (local only, or rewritten)
                author = data.get("author") or {}
                found.append(
                    (self.key, email, sha, author.get("login"), author.get("id"), utc_now(), self.run_id)
                )
        finally:  # what was asked before a failure (the rate limit...) is kept: not asked again
            self.store_commit_logins(found)


def sync_github_repository(
    con: duckdb.DuckDBPyConnection,
    client: GitHubClient,
    full_name: str,
    run_id: str,
    options: GitHubSyncOptions = GitHubSyncOptions(),
    key: str | None = None,
    progress: Progress | None = None,
) -> StepResult:
    """Sync one GitHub repository (owner/name) into the database.

    Raises GitHubError on a hard failure (what was fetched before it is kept), with `exc.step`: this
    step as a failed StepResult with what it really did (requests, 304s, rows added, duration, quota
    left, the error message), for the caller to record instead of a step made up afterwards.
    """
    sync = _Sync(con, client, full_name, key or full_name, run_id, options, progress)
    result = sync.result
    with recorded_step(result, client):
        sync.repository()
        sync.milestones()
        sync.issues()
        sync.pulls()
        sync.review_comments()
        sync.gone_items()
        if options.commit_logins:
            sync.commit_logins()
    result.status = "succeeded" if sync.changed else "unchanged"
    return result


def list_organization_repositories(client: GitHubClient, org: str) -> Iterable[str]:
    """owner/name of every repository of an organization (archived ones included)."""
    for page in client.pages(f"/orgs/{org}/repos", {"type": "all"}):
        for repo in page.data or []:
            yield str(repo["full_name"])
