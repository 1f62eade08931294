"""GitHub REST through PyGithub's requester: counted requests, conditional GETs, bounded retries.

PyGithub's object layer completes listed objects lazily (one request per object touched), and its
GithubRetry sleeps through rate limits without bound. So perftrust uses PyGithub for transport,
authentication and redirects, keeps the raw JSON, and decides itself when to retry or stop.
Secrets never appear in messages: errors name the URL path, the status and the fix, and every text
taken from a server's answer (a body's message, a URL) goes through `pipeline.secrets.scrub` with
the client's own token, so a server that echoes the token (or any credential) cannot leak it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import github
import requests

from pipeline.errors import PerftrustError
from pipeline.runs import StepResult
from pipeline.secrets import scrub

DEFAULT_BASE_URL = "https://api.github.com"
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubError(PerftrustError):
    """GitHub answered in a way that stops this repository's sync."""

    # Set by sync_github_repository when the error stopped a sync: that step as far as it got (its
    # requests, 304s, rows added, duration and quota left), for the caller to record.
    step: StepResult | None = None


class TransientGitHubError(GitHubError):
    """No answer or a server error, after the client's own retries: worth retrying the repository later."""

    transient = True


class BadCredentials(GitHubError):
    pass


class NotFound(GitHubError):
    pass


class RateLimited(GitHubError):
    """The primary rate limit is exhausted and resets later than we are willing to wait."""

    def __init__(self, problem: str, fix: str, reset_at: float | None) -> None:
        super().__init__(problem, fix)
        self.reset_at = reset_at


class HeavyQuery(TransientGitHubError):
    """A GraphQL query timed out (502/504 or no answer in time): ask for less and try again."""


@dataclass(frozen=True)
class GraphQLResponse:
    """A GraphQL answer: `data` may be partial when `errors` is not empty (GitHub answers 200)."""

    data: dict[str, Any] | None
    errors: list[dict[str, Any]]
    headers: dict[str, Any]


@dataclass
class RequestStats:
    """What the requests cost; shared by the clients of one sync (thread-safe)."""

    count_requests: int = 0
    count_not_modified: int = 0
    count_retries: int = 0
    rate_limit_remaining: int | None = None
    rate_limit_reset: int | None = None
    waited_seconds: float = 0.0
    count_graphql_queries: int = 0  # also counted in count_requests
    graphql_points: int = 0  # what GitHub charged the GraphQL queries (their rateLimit.cost)
    graphql_remaining: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note_graphql(self, headers: dict[str, Any], cost: int) -> None:
        """One GraphQL query: its points come from rateLimit.cost, its budget from the headers (the
        GraphQL budget is not the REST one, so rate_limit_remaining is left alone)."""
        with self._lock:
            self.count_requests += 1
            self.count_graphql_queries += 1
            self.graphql_points += cost
            remaining = headers.get("x-ratelimit-remaining")
            if remaining is not None and str(remaining).isdigit():
                self.graphql_remaining = int(remaining)

    def note(self, status: int, headers: dict[str, Any]) -> None:
        with self._lock:
            self.count_requests += 1
            if status == 304:
                self.count_not_modified += 1
            remaining = headers.get("x-ratelimit-remaining")
            if remaining is not None and str(remaining).isdigit():
                self.rate_limit_remaining = int(remaining)
            reset = headers.get("x-ratelimit-reset")
            if reset is not None and str(reset).isdigit():
                self.rate_limit_reset = int(reset)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, Any]
    data: Any
    path: str

    @property
    def etag(self) -> str | None:
        value = self.headers.get("etag")
        return str(value) if value else None

    @property
    def next_url(self) -> str | None:
        match = _NEXT_LINK.search(str(self.headers.get("link", "")))
        return match.group(1) if match else None


@dataclass(frozen=True)
class ClientSettings:
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    max_retries: int = 4  # per request, for 5xx, timeouts, broken bodies and secondary limits
    backoff_seconds: float = 1.0  # doubled per retry, with jitter
    max_rate_limit_wait: float = 900.0  # wait for a primary-limit reset at most this long, then stop
    max_rate_limit_retries: int = 5  # rate-limit waits per request before giving up
    per_page: int = 100


class GitHubClient:
    """One HTTP connection; use `clone()` for each extra thread."""

    def __init__(
        self,
        token: str | None,
        settings: ClientSettings = ClientSettings(),
        stats: RequestStats | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token = token
        self.settings = settings
        self.stats = stats or RequestStats()
        self._sleep = sleep
        auth = github.Auth.Token(token) if token else None
        self._github = github.Github(
            auth=auth,
            base_url=settings.base_url,
            timeout=int(settings.timeout) or 1,
            retry=None,
            seconds_between_requests=None,
            # PyGithub spaces POSTs a second apart (GitHub's advice for requests that create
            # content). perftrust's only POSTs are GraphQL queries, which read: the spacing would
            # cost a second a query (a sync of 259 items: 5.3 s instead of 1.2 s). GitHub's own
            # limits on queries answer 403/429 with Retry-After, which this client waits out.
            seconds_between_writes=None,
            per_page=settings.per_page,
            user_agent="perftrust",
        )
        self._requester = self._github.requester

    def clone(self) -> GitHubClient:
        return GitHubClient(self._token, self.settings, self.stats, self._sleep)

    def scrub(self, text: str) -> str:
        """text without this client's token, any other token-shaped string or URL credentials."""
        return scrub(text, [self._token])

    def _short(self, path: str) -> str:
        return self.scrub(_short(path))

    def _message(self, body: str) -> str:
        return _message(body, self.scrub)

    def _wait(self, seconds: float) -> None:
        with self.stats._lock:
            self.stats.waited_seconds += seconds
        self._sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        return float(self.settings.backoff_seconds * (2**attempt) * (0.75 + random.random() / 2))

    def get(self, path: str, params: dict[str, Any] | None = None, etag: str | None = None) -> Response:
        """One GET (path relative to the base URL, or an absolute URL from a Link header)."""
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if etag:
            headers["If-None-Match"] = etag
        problem = ""
        attempt = 0
        rate_limit_waits = 0
        while True:
            try:
                status, response_headers, body = self._requester.requestJson("GET", path, params, headers)
            except (requests.RequestException, http.client.HTTPException, OSError) as exc:
                # Timeouts, refused or dropped connections, bodies cut short (ChunkedEncodingError).
                problem = f"no answer from GitHub for {self._short(path)} ({type(exc).__name__})"
            else:
                self.stats.note(status, response_headers)
                if status == 304:
                    return Response(304, response_headers, None, path)
                if 200 <= status < 300:
                    try:
                        return Response(status, response_headers, json.loads(body) if body else None, path)
                    except ValueError:
                        problem = f"GitHub sent a body that is not JSON (truncated?) for {self._short(path)}"
                elif status == 401:
                    raise BadCredentials(
                        f"GitHub rejected the token (401 Bad credentials) for {self._short(path)}",
                        "set GITHUB_TOKEN to a valid token that can read the repository",
                    )
                elif status in (403, 429):
                    wait = self._rate_limit_wait(status, response_headers, body, path)
                    if wait is not None and rate_limit_waits < self.settings.max_rate_limit_retries:
                        rate_limit_waits += 1
                        with self.stats._lock:
                            self.stats.count_retries += 1
                        self._wait(wait)
                        continue
                    if wait is not None:
                        raise RateLimited(
                            f"GitHub kept refusing {self._short(path)} for rate limits after {rate_limit_waits} waits",
                            "what was synced is kept; run again later",
                            None,
                        )
                    raise GitHubError(
                        f"GitHub refused {self._short(path)} (403): {self._message(body)}",
                        "check that the token may read this repository",
                    )
                elif status in (404, 410):
                    raise NotFound(
                        f"GitHub has no {self._short(path)} ({status}): deleted, renamed away, or not visible "
                        "to the token",
                        "check the owner/name, and that the token can read it",
                    )
                elif status == 422 and "No commit found" in self._message(body):
                    # GitHub's answer for a sha it does not have (a local-only or rewritten commit).
                    raise NotFound(
                        f"GitHub has no commit {self._short(path).rsplit('/', 1)[-1]} (422)",
                        "nothing to do: the commit exists only locally",
                    )
                elif status >= 500:
                    problem = f"GitHub failed on {self._short(path)} ({status})"
                else:
                    raise GitHubError(
                        f"GitHub answered {status} for {self._short(path)}: {self._message(body)}"
                    )
            if attempt >= self.settings.max_retries:
                raise TransientGitHubError(
                    problem + f"; gave up after {attempt + 1} tries", "run again later"
                )
            with self.stats._lock:
                self.stats.count_retries += 1
            self._wait(self._backoff(attempt))
            attempt += 1

    def _rate_limit_wait(self, status: int, headers: dict[str, Any], body: str, path: str) -> float | None:
        """Seconds to wait before retrying a 403/429, or None if it is not a rate limit."""
        retry_after = headers.get("retry-after")
        if retry_after is not None and str(retry_after).isdigit():
            return min(float(retry_after), self.settings.max_rate_limit_wait)  # secondary limit
        if str(headers.get("x-ratelimit-remaining")) == "0":
            return self._until_reset(_reset_at(headers), "the GitHub rate limit is used up")
        if status == 429 or "secondary rate limit" in body.lower():
            return 60.0  # GitHub asks for at least a minute when it gives no Retry-After
        return None

    def graphql(self, query: str, variables: dict[str, Any]) -> GraphQLResponse:
        """One GraphQL query through PyGithub's requester (`graphql_query`, POST {base}/graphql).

        Returns data and errors as GitHub sent them (partial data is the caller's to judge). Raises
        HeavyQuery on 502/504/timeouts without retrying (the caller halves its page size), waits out
        secondary limits and a RATE_LIMITED answer when the reset is near (else RateLimited), retries
        other 5xx with backoff, and maps 401 to BadCredentials.
        """
        attempt = 0
        rate_limit_waits = 0
        while True:
            try:
                headers, data = self._requester.graphql_query(query, variables)
            except (requests.RequestException, http.client.HTTPException, OSError) as exc:
                with self.stats._lock:
                    self.stats.count_requests += 1
                    self.stats.count_graphql_queries += 1
                raise HeavyQuery(
                    f"no answer in time from GitHub's GraphQL API ({type(exc).__name__})", "run again later"
                ) from None
            except github.GithubException as exc:
                headers = dict(exc.headers or {})
                body = exc.data if isinstance(exc.data, dict) else {}
                status = exc.status
                errors = body.get("errors") if isinstance(body.get("errors"), list) else None
                self.stats.note_graphql(headers, 0)
                if errors is not None and status in (400, 404):
                    # PyGithub raises for any `errors` in a 200 answer; rate limits are ours to handle.
                    if any(str(e.get("type", "")).startswith("RATE_LIMIT") for e in errors):
                        wait = self._graphql_reset_wait(headers)
                        if rate_limit_waits < self.settings.max_rate_limit_retries:
                            rate_limit_waits += 1
                            with self.stats._lock:
                                self.stats.count_retries += 1
                            self._wait(wait)
                            continue
                        raise RateLimited(
                            f"GitHub kept refusing GraphQL queries for rate limits after {rate_limit_waits} waits",
                            "what was synced is kept; run again later",
                            None,
                        ) from None
                    partial = body.get("data")
                    return GraphQLResponse(partial if isinstance(partial, dict) else None, errors, headers)
                if status == 401:
                    raise BadCredentials(
                        "GitHub rejected the token (401 Bad credentials) for /graphql",
                        "set GITHUB_TOKEN to a valid token that can read the repository",
                    ) from None
                if status in (403, 429):
                    text = json.dumps(body)
                    wait_for = self._rate_limit_wait(status, headers, text, "/graphql")
                    if wait_for is not None and rate_limit_waits < self.settings.max_rate_limit_retries:
                        rate_limit_waits += 1
                        with self.stats._lock:
                            self.stats.count_retries += 1
                        self._wait(wait_for)
                        continue
                    raise GitHubError(
                        f"GitHub refused /graphql ({status}): {self._message(text)}",
                        "check that the token may read this repository",
                    ) from None
                if status in (502, 504):
                    raise HeavyQuery(
                        f"GitHub's GraphQL API timed out ({status})", "run again later"
                    ) from None
                if status >= 500 and attempt < self.settings.max_retries:
                    with self.stats._lock:
                        self.stats.count_retries += 1
                    self._wait(self._backoff(attempt))
                    attempt += 1
                    continue
                if status >= 500:
                    raise TransientGitHubError(
                        f"GitHub failed on /graphql ({status}); gave up after {attempt + 1} tries",
                        "run again later",
                    ) from None
                raise GitHubError(
                    f"GitHub answered {status} for /graphql: {self._message(json.dumps(body))}"
                ) from None
            rate = (data.get("data") or {}).get("rateLimit") if isinstance(data, dict) else None
            self.stats.note_graphql(headers, int(rate.get("cost") or 0) if isinstance(rate, dict) else 0)
            payload = data.get("data") if isinstance(data, dict) else None
            return GraphQLResponse(payload if isinstance(payload, dict) else None, [], headers)

    def _graphql_reset_wait(self, headers: dict[str, Any]) -> float:
        """Seconds until the GraphQL budget resets, or RateLimited when that is longer than we may wait."""
        return self._until_reset(_reset_at(headers), "the GitHub GraphQL rate limit is used up")

    def _until_reset(self, reset_at: float | None, what: str) -> float:
        """Seconds to wait for a rate limit's reset (epoch seconds), or RateLimited when that is
        longer than perftrust may wait ([github].max_rate_limit_wait)."""
        wait = (reset_at - time.time() + 1) if reset_at else self.settings.max_rate_limit_wait + 1
        if wait <= self.settings.max_rate_limit_wait:
            return max(wait, 0.0)
        raise RateLimited(
            f"{what} until {time.strftime('%H:%M UTC', time.gmtime(reset_at or 0))}"
            f" (longer than the {self.settings.max_rate_limit_wait:.0f} s perftrust may wait)",
            "what was synced is kept; run again after the reset (or raise max_rate_limit_wait)",
            reset_at,
        )

    def back_off_heavy_query(self, attempt: int, what: str) -> None:
        """GitHub timed out (502/504) on a GraphQL query already at its smallest: wait with backoff
        before the next try, or give up after max_retries with an error saying so."""
        if attempt >= self.settings.max_retries:
            raise TransientGitHubError(f"GitHub's GraphQL API kept timing out on {what}", "run again later")
        self._wait(self._backoff(attempt))

    def wait_for_graphql_budget(self, rate: dict[str, Any], min_remaining: int) -> bool:
        """Before a GraphQL query, given the last answer's rateLimit: True after waiting for the reset
        when fewer than min_remaining points are left and the reset is near enough (the caller then
        forgets that rateLimit); RateLimited when it is not (what earlier answers brought is
        committed by then); False when there is budget."""
        remaining = rate.get("remaining")
        if remaining is None or remaining >= min_remaining:
            return False
        reset = rate.get("resetAt")
        try:
            reset_at = (
                datetime.fromisoformat(str(reset).replace("Z", "+00:00")).timestamp() if reset else None
            )
        except ValueError:
            reset_at = None
        self._wait(
            self._until_reset(
                reset_at, f"the GitHub GraphQL budget is nearly used up ({remaining} points left)"
            )
        )
        return True

    def pages(
        self, path: str, params: dict[str, Any] | None = None, etag: str | None = None
    ) -> Iterator[Response]:
        """Every page of a list (following Link rel=next). A 304 on the first page is the only page."""
        url: str | None = path
        query = {"per_page": self.settings.per_page, **(params or {})}
        first = True
        while url:
            response = self.get(url, query if first else None, etag if first else None)
            yield response
            if response.status == 304:
                return
            url = response.next_url
            first = False


def _short(path: str) -> str:
    """The path without query strings: never echo parameters or hosts into messages."""
    path = re.sub(r"^https?://[^/]+", "", path)
    return path.split("?", 1)[0]


def _message(body: str, clean: Callable[[str], str]) -> str:
    """The message of an error body, cleaned (of secrets) before it is cut short: a cut must never
    leave part of a secret that the cleaner would have recognised whole."""
    try:
        data = json.loads(body)
    except ValueError:
        return clean(body)[:120].strip() or "no message"
    return clean(str(data.get("message", "no message"))) if isinstance(data, dict) else "no message"


def _reset_at(headers: dict[str, Any]) -> float | None:
    reset = headers.get("x-ratelimit-reset")
    return float(reset) if reset is not None and str(reset).isdigit() else None


@contextlib.contextmanager
def recorded_step(
    result: StepResult, client: GitHubClient, *, rest: bool = True, graphql: bool = False
) -> Iterator[StepResult]:
    """What a GitHub step really did, recorded on `result` however it ends: the REST requests, 304s,
    retries, waits and quota left (`rest`), the GraphQL queries and points (`graphql`; with `rest`
    also the GraphQL points left), scrubbed warnings and the duration. A GitHubError marks the step failed with GitHub's (scrubbed) words and goes on with
    `exc.step` set, for the caller to record this step instead of one made up afterwards."""
    stats = client.stats
    requests_before, not_modified_before, retries_before = (
        stats.count_requests,
        stats.count_not_modified,
        stats.count_retries,
    )
    queries_before, points_before, waited_before = (
        stats.count_graphql_queries,
        stats.graphql_points,
        stats.waited_seconds,
    )
    try:
        yield result
    except GitHubError as exc:
        result.status = "failed"
        result.error_message = client.scrub(str(exc))
        result.transient = exc.transient
        exc.step = result
        raise
    finally:
        if rest:
            result.count_api_requests = stats.count_requests - requests_before
            result.count_not_modified = stats.count_not_modified - not_modified_before
            result.details.update(
                rate_limit_remaining=stats.rate_limit_remaining,
                retries=stats.count_retries - retries_before,
                waited_seconds=round(stats.waited_seconds - waited_before, 1),
            )
        if graphql:
            result.details.update(
                graphql_queries=stats.count_graphql_queries - queries_before,
                graphql_points=stats.graphql_points - points_before,
            )
            if rest:
                result.details["graphql_remaining"] = stats.graphql_remaining
        result.warnings = [client.scrub(w) for w in result.warnings]
        result.duration_seconds = time.perf_counter() - result.started_clock
