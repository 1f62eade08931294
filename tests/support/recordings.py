"""Real GitHub API recordings as test inputs: loaders, an index, a local replay server.

The recordings live outside the repository (never copy them in): ``$PERFTRUST_GITHUB_RECORDINGS``,
else ``<repo root>/../shared/data/github-recorded``.  ``recordings_root()`` returns ``None`` when
the folder is missing and ``require_recordings()`` skips the calling test with the reason.
``INDEX.tsv`` lists every exchange and ``PROVENANCE.md`` the origin and licence of every file.

Formats and loaders (all return exchanges in recorded order; ``Exchange.source`` is
``"<file relative to the root>#<seq>"``, the same file/seq pair as ``INDEX.tsv``):

- ``load_pygithub_replay("Issue.setUp")``: PyGithub ``ReplayData/*.txt``; per exchange the lines
  protocol, verb, host, port, url, request headers (Python dict repr), request body, status,
  response headers (Python list-of-pairs repr), response body (one line), then a blank line.
- ``load_octokit_fixture("paginate-issues", kind="normalized" | "raw")``: nock definitions.
  ``normalized`` has stable names (ids 1000+, dates 2017-10-10, counts 42); ``raw`` is the real
  traffic (2022; get-archive 2024; temporary ``tmp-scenario-*`` repositories).  JSON bodies are re-serialised
  compactly (nock stores them parsed); binary bodies (``get-archive``) stay hex text.
- ``load_betamax_cassette("Repository_issues_state_all")``: github3.py cassettes; base64/gzip
  bodies are decoded to text.
- ``load_devlake_table("issues")`` -> rows ``{"data", "url", "input", "params", "row_id",
  "created_at"}``: DevLake raw tables (panjf2000/ants, 2022).
- ``load_dlt_case("github.issues.load_page_5_duck")`` -> bare API items (no HTTP envelope).
- ``load_openapi()`` / ``load_webhook_examples()``: GitHub's OpenAPI description and webhook
  payload examples (issues, issue_comment, milestone, pull_request*, by event name).
- ``load_index()`` / ``index_entries(...)``: INDEX.tsv rows; ``all_exchanges()`` loads every HTTP
  recording (PyGithub, octokit, betamax: 549 exchanges, parsed once); ``find_exchanges(pred)``
  filters them; ``SELECTORS`` holds named predicates for the catalogue below.

``ReplayServer(exchanges)`` serves exchanges on 127.0.0.1 (see its docstring);
``devlake_ants_exchanges()`` / ``duckdb_issue_exchanges()`` / ``dlt_issue_event_exchanges()``
build synthetic GET listings (``paginate``) from the record-only sources.

Catalogue (built by inspecting the data; P = pygithub-replaydata/ReplayData, B =
github3py-cassettes/cassettes, O = octokit-fixtures/scenarios/api.github.com, D = DevLake raw tables
of panjf2000/ants, L = dlt cases; ``#n`` = exchange seq)::

  issue, single         P/Issue.setUp #1 (PyGithub#28, recorded 2025: title "Issue created by
                        PyGithub", closed 2012-05-26T14:59:33Z, milestone "Version 1.4" due_on
                        2012-08-05T07:00:00Z, labels bug+question, assignee jacquev6, 3 comments),
                        P/IssueComment.setUp, B/Repository_issue, B/Repository_issue_multiple_assignees
                        (github3.py#637, two assignees), P/Issue572.* and B/Issue_pull_request (an
                        issue with a "pull_request" key, fetched as issue and as pull)
  issue pages           (P/Issue33.* and P/PaginatedList.testIteration/testCustomPerPage items were
                        trimmed upstream to {"id": ...}: good for paging, not for fields)
                        P/Issue33.testOpenIssues (openFrameworks 2012: 14 pages, 338 issues, Link
                        next/last), P/Issue33.testClosedIssues (38 pages, 950, state=closed),
                        P/PaginatedList.testIteration (14 pages, 333), P/PaginatedList.testCustomPerPage
                        (per_page=100: 5 pages, 456 issues, Link URLs switch to /repositories/345337;
                        needs P/PaginatedList.setUp for the repository), P/Repository
                        .testGetIssuesWithArguments (state/milestone/labels/sort/direction/since/
                        mentioned filters), B/Repository_issues_state_all (301 repo redirect, then
                        2 pages: 100 + 50 issues via /repositories/11439734 Link URLs),
                        B/Repository_issues_ascending (one page of 16), O/paginate-issues
                        (per_page=3: 5 pages, 13 issues, first/prev/next/last; raw = real 2022 ids),
                        D/issues (41 + one duplicate row), L/github.issues.load_page_5_duck
  milestones            P/Milestone.setUp #1 (PyGithub milestone 1 "Version 0.4", closed, due_on
                        2012-03-13T07:00:00Z, 0 open / 2 closed issues), P/Repository.testGetMilestones
                        (list: #2 due_on 2012-06-04T07:00:00Z), P/Repository
                        .testGetMilestonesWithArguments (sort=due_date&state=closed&direction=asc),
                        P/Issue.testEditWithAllParameters #1 and P/Repository.testGetIssuesWithArguments
                        #0 (single milestones with due_on), B/Repository_milestones (6 milestones,
                        1.0.0b1 due_on 2015-01-06T08:00:00Z, others null), B/Repository_milestone
                        (due_on null), D/milestones (apache/incubator-devlake v0.11.0, due_on null;
                        DevLake attached it to every ants issue)
  timelines             P/Issue.testGetTimeline (#28: assigned, commented, locked, unlocked,
                        subscribed, closed, labeled, cross-referenced), P/PullRequest
                        .testGetIssueTimeline (#31: committed, reviewed, line-commented, merged ...)
  issue events          P/Issue.testGetEvents (#28: 15819975 subscribed, 15820048 assigned),
                        P/IssueEvent.setUp (27 single events, one of each kind: review_requested,
                        review_request_removed, review_dismissed, milestoned, demilestoned, merged,
                        renamed, head_ref_deleted ...), P/Repository.testGetIssuesEvents (Link),
                        P/PullRequest.testGetIssueEvents, B/Issue_events, B/Repository_issue_events
                        (per_page=50, review_requested, Link), D/events (49 ants events),
                        L/github_events (dlt-hub/dlt issue events: review_requested, review_dismissed,
                        merged, project_v2_*), L/github.events.load_page_1_duck (duckdb Events API:
                        PullRequestReviewEvent, PullRequestEvent, IssueCommentEvent ...)
  pulls, head.repo null P/PullRequest.setUp #1 (PyGithub#31: head.repo null and head.label null,
                        merged by jacquev6, requested_reviewers [sfdye]), P/Repository
                        .testGetPullsWithArguments (state=closed: #32 and #31 with head.repo null),
                        B/PullRequest_single / B/PullRequest_commits ... #0 (github3.py#235, merged,
                        head.repo null), P/Issue131.testGetPullsWithOrgHeadUser (pulls?state=closed
                        page 1 of 8, Link next/last), B/Repository_pull_requests, D/pull_requests (49 ants
                        PRs, 15 with head.repo null: #8 #14 #15 #23 #30 #41 #53 #66 #79 #91 #107 #174
                        #185 #186 #198)
  reviews               P/PullRequestReview.setUp #1 (review 28482091 APPROVED by jzelinskie),
                        P/PullRequestReview.testAttributes (5 reviews of #538), P/PullRequest1169
                        .testReviewApproveWithoutBody (POST, APPROVED), P/PullRequestReview1856
                        .testDelete (PENDING, then []), B/PullRequest_pull_reviews (5 COMMENTED),
                        D/pull_request_reviews (ants #41 #51 #53: COMMENTED, 3 CHANGES_REQUESTED)
  review requests       P/PullRequest.testReviewRequests (GET/POST/DELETE requested_reviewers;
                        hand-edited upstream: 2012 headers, empty POST/DELETE bodies), B/PullRequest
                        _review_requests (2021, {"users": [], "teams": []}), P/PaginatedList
                        .testTotalCountWithDictionary, requested_reviewers inside P/PullRequest.setUp
                        #1; events: P/IssueEvent.setUp #8 (review_requested) and #21
                        (review_request_removed), B/Repository_issue_events #1, L/github_events
  review comments       P/PullRequest.testGetReviewComments, P/Repository.testGetPullsComments,
                        B/PullRequest_review_comments, D/pull_request_review_comments (16)
  comments, commits     P/Issue.testGetComments(Since), P/Repository.testGetIssuesComments (Link),
                        B/Issue_comments, D/comments (94 + 1 duplicate), P/Repository.testGetCommits*
                        (Link), B/Repository_commits, D/pull_request_commits (43 PRs)
  conditional requests  P/ConditionalRequestUpdate.setUp (200, ETag "8600bedc...", Last-Modified),
                        then .testDidNotUpdate (304, If-None-Match) or .testDidUpdate (200)
  redirects             P/Repository.testGetRepositoryWith301Redirect (301 -> /repositories/112116543),
                        P/Requester.testLoggingRedirection (301), B/Repository_issues_* #0 (301),
                        O/get-archive (302 to codeload, then a binary body kept as hex text),
                        O/rename-repository (301 GET, 307 PATCH)
  rate limits           P/SpecificExceptions.testRateLimitExceeded (200 then 403 with
                        X-RateLimit-Remaining 0), P/SpecificExceptions.testAuthenticatedRateLimitExceeded
                        (secondary limit: 403 with Retry-After 60, no remaining=0), P/RateLimiting.*,
                        P/RateLimitOverview.setUp, B/GitHub_rate_limit (GET /rate_limit)
  errors                401: P/Exceptions.testBadAuthentication, P/SpecificExceptions.testBadCredentials,
                        P/SpecificExceptions.test2FARequired; 403: P/SpecificExceptions.testBadUserAgent,
                        P/Authentication.testAuthorizationHeaderWithToken; 404: P/Exceptions
                        .testUnknownObject, P/Exceptions.testUnknownUser, P/SpecificExceptions
                        .testUnknownObject, P/PullRequest.testMerge #0, O/branch-protection;
                        422: O/errors, O/release-assets-conflict, P/Exceptions.testInvalidInput;
                        5xx: P/Retry.testReturnsRepoAfter1Retry (500 then 200), P/Retry
                        .testReturnsRepoAfter3Retries (3 x 502 then 200), P/Retry
                        .testRaisesRetryErrorAfterMaxRetries (4 x 502), P/Exceptions
                        .testNonJsonDataReturnedByGithub (503 with an HTML body)

``SELECTORS`` (``find_exchanges("rate_limited")`` ...) finds these groups; ``tests/test_recordings.py``
checks that each finds something and spot-checks several of the values quoted above.
"""

from __future__ import annotations

import ast
import base64
import csv
import functools
import gzip
import hashlib
import json
import math
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

ENV_VAR = "PERFTRUST_GITHUB_RECORDINGS"
API_ORIGINS = ("https://api.github.com", "http://api.github.com")
_API = "https://api.github.com"

PYGITHUB_DIR = "pygithub-replaydata/ReplayData"
OCTOKIT_DIR = "octokit-fixtures/scenarios/api.github.com"
BETAMAX_DIR = "github3py-cassettes/cassettes"
DEVLAKE_DIR = "devlake-github-e2e/raw_tables"
DLT_DIR = "dlt"

# ---------------------------------------------------------------------------------------------
# Locating the recordings


def recordings_root() -> Path | None:
    """The recordings folder, or None if it is not there."""
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env)
    else:
        repo_root = Path(__file__).resolve().parents[2]
        path = repo_root.parent / "shared" / "data" / "github-recorded"
    return path if (path / "INDEX.tsv").is_file() else None


def missing_reason() -> str:
    where = os.environ.get(ENV_VAR) or "<repo root>/../shared/data/github-recorded"
    return (
        f"GitHub recordings not found at {where} (no INDEX.tsv there); set {ENV_VAR} to the "
        "github-recorded folder (CI keeps it beside the checkout)"
    )


def require_recordings() -> Path:
    """The recordings folder; skips the calling test when it is missing."""
    root = recordings_root()
    if root is None:
        import pytest

        pytest.skip(missing_reason())
    return root


def _root() -> Path:
    root = recordings_root()
    if root is None:
        raise FileNotFoundError(missing_reason())
    return root


def _resolve(name_or_path: str | Path, folder: str, suffix: str) -> Path:
    """A recording file from a bare name ("Issue.setUp"), a file name, or a path."""
    path = Path(name_or_path)
    if path.is_absolute() and path.is_file():
        return path
    root = _root()
    for candidate in (root / path, root / folder / path, root / folder / f"{name_or_path}{suffix}"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no recording {name_or_path!r} under {root / folder}")


def _source_name(path: Path) -> str:
    root = recordings_root()
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


# ---------------------------------------------------------------------------------------------
# Exchanges


@dataclass(frozen=True)
class Exchange:
    """One recorded HTTP exchange.  ``path`` is path + query as requested (no scheme/host)."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: str
    source: str
    request_headers: dict[str, str] = field(default_factory=dict, compare=False)
    request_body: str = field(default="", compare=False)

    def header(self, name: str) -> str | None:
        """A response header, case-insensitively."""
        lower = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lower:
                return value
        return None

    @property
    def route(self) -> str:
        """The path without its query string."""
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError for non-JSON bodies)."""
        return json.loads(self.body)

    def json_or_none(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def links(self) -> dict[str, str]:
        """The Link header as {rel: url}."""
        return parse_link_header(self.header("Link") or "")


_LINK_RE = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]+)"')


def parse_link_header(value: str) -> dict[str, str]:
    return {rel: url for url, rel in _LINK_RE.findall(value)}


def _headers_from_pairs(pairs: Iterable[tuple[object, object]]) -> dict[str, str]:
    """Header pairs to a dict; repeated names are joined with ", " (as HTTP allows)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = str(name)
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        existing = next((k for k in out if k.lower() == key.lower()), None)
        if existing is None:
            out[key] = text
        else:
            out[existing] = f"{out[existing]}, {text}"
    return out


# --- PyGithub ReplayData ----------------------------------------------------------------------


def parse_pygithub_replay(text: str, source: str) -> list[Exchange]:
    """Parse the text of one PyGithub ReplayData file (see the module docstring for the layout)."""
    lines = text.split("\n")
    exchanges: list[Exchange] = []
    i = 0
    while True:
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines):
            return exchanges
        block = [line.strip() for line in lines[i : i + 10]]
        block += [""] * (10 - len(block))
        protocol, verb, _host, _port, url, req_headers, req_body, status, resp_headers, body = block
        where = f"{source}:{i + 1}"
        if protocol not in ("http", "https"):
            raise ValueError(f"{where}: expected a protocol line, got {protocol[:40]!r}")
        if not status.isdigit():
            raise ValueError(f"{where}: expected a status line, got {status[:40]!r}")
        parsed_headers = ast.literal_eval(resp_headers) if resp_headers else []
        if isinstance(parsed_headers, dict):
            parsed_headers = list(parsed_headers.items())
        request_headers = ast.literal_eval(req_headers) if req_headers else {}
        exchanges.append(
            Exchange(
                method=verb.upper(),
                path=url,
                status=int(status),
                headers=_headers_from_pairs(parsed_headers),
                body=body,
                source=f"{source}#{len(exchanges)}",
                request_headers={str(k): str(v) for k, v in dict(request_headers).items()},
                request_body="" if req_body == "None" else req_body,
            )
        )
        i += 10


def load_pygithub_replay(name_or_path: str | Path) -> list[Exchange]:
    """A PyGithub ReplayData file by test name ("Issue.setUp"), file name or path."""
    path = _resolve(name_or_path, PYGITHUB_DIR, ".txt")
    return parse_pygithub_replay(path.read_text(encoding="utf-8"), _source_name(path))


def pygithub_replay_names() -> list[str]:
    return sorted(p.stem for p in (_root() / PYGITHUB_DIR).glob("*.txt"))


# --- octokit/fixtures ---------------------------------------------------------------------------


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_octokit_fixture(
    scenario: str | Path, kind: Literal["normalized", "raw"] = "normalized"
) -> list[Exchange]:
    """An octokit/fixtures scenario ("paginate-issues") or a path to one of its JSON files."""
    if str(scenario).endswith(".json"):
        path = _resolve(scenario, OCTOKIT_DIR, "")
    else:
        path = _resolve(f"{scenario}/{kind}-fixture.json", OCTOKIT_DIR, "")
    source = _source_name(path)
    exchanges: list[Exchange] = []
    for seq, item in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        if "rawHeaders" in item:
            raw = [str(v) for v in item["rawHeaders"]]
            headers = _headers_from_pairs(zip(raw[0::2], raw[1::2], strict=True))
        else:
            headers = _headers_from_pairs(dict(item.get("headers") or {}).items())
        response = item.get("response", "")
        body = response if isinstance(response, str) else _compact_json(response)
        request = item.get("body", "")
        exchanges.append(
            Exchange(
                method=str(item["method"]).upper(),
                path=str(item["path"]),
                status=int(item["status"]),
                headers=headers,
                body=body,
                source=f"{source}#{seq}",
                request_headers={str(k): str(v) for k, v in dict(item.get("reqheaders") or {}).items()},
                request_body=request if isinstance(request, str) else _compact_json(request),
            )
        )
    return exchanges


def octokit_scenarios() -> list[str]:
    return sorted(p.name for p in (_root() / OCTOKIT_DIR).iterdir() if p.is_dir())


# --- github3.py betamax cassettes --------------------------------------------------------------


def _betamax_body(body: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    if "base64_string" in body:
        data = base64.b64decode(body["base64_string"] or "")
    else:
        data = str(body.get("string") or "").encode("utf-8")
    encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), "")
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif "deflate" in encoding.lower():
        data = zlib.decompress(data)
    return data.decode(str(body.get("encoding") or "utf-8"), errors="replace")


def _betamax_status(response: Mapping[str, Any]) -> int:
    status = response.get("status")
    if isinstance(status, dict):
        return int(status["code"])
    return int(response.get("status_code") or status or 0)  # Betamax < 0.2 wrote "status_code"


def load_betamax_cassette(name: str | Path) -> list[Exchange]:
    """A github3.py Betamax cassette by name ("Repository_issues_state_all") or path."""
    path = _resolve(name, BETAMAX_DIR, ".json")
    source = _source_name(path)
    exchanges: list[Exchange] = []
    for seq, interaction in enumerate(json.loads(path.read_text(encoding="utf-8"))["http_interactions"]):
        request, response = interaction["request"], interaction["response"]
        headers = _headers_from_pairs(dict(response.get("headers") or {}).items())
        parts = urlsplit(str(request["uri"]))
        exchanges.append(
            Exchange(
                method=str(request["method"]).upper(),
                path=parts.path + (f"?{parts.query}" if parts.query else ""),
                status=_betamax_status(response),
                headers=headers,
                body=_betamax_body(response.get("body") or {}, headers),
                source=f"{source}#{seq}",
                request_headers=_headers_from_pairs(dict(request.get("headers") or {}).items()),
                request_body=_betamax_body(request.get("body") or {}, {}),
            )
        )
    return exchanges


def betamax_cassettes() -> list[str]:
    return sorted(p.stem for p in (_root() / BETAMAX_DIR).glob("*.json"))


# --- DevLake raw tables and dlt cases ------------------------------------------------------------


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # DevLake's params column is not always JSON ('{"ConnectionId":,...}')


def load_devlake_table(table: str | Path) -> list[dict[str, Any]]:
    """Rows of a DevLake raw table ("issues", "pull_request_reviews", ... or a path).

    Each row is ``{"data": <API item>, "url": <request URL>, "input": <DevLake's input JSON or
    None>, "params": <DevLake params, JSON when parseable>, "row_id": int, "created_at": str}``.
    """
    name = str(table)
    if not name.endswith(".csv") and not name.startswith("_raw_github_api_"):
        name = f"_raw_github_api_{name}"
    path = _resolve(name, DEVLAKE_DIR, ".csv")
    csv.field_size_limit(1 << 30)
    rows: list[dict[str, Any]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "data": json.loads(row["data"]),
                    "url": row["url"],
                    "input": _json_or_text(row["input"]) if row.get("input") else None,
                    "params": _json_or_text(row["params"]),
                    "row_id": int(row["id"]),
                    "created_at": row["created_at"],
                }
            )
    return rows


def devlake_tables() -> list[str]:
    return sorted(p.stem.removeprefix("_raw_github_api_") for p in (_root() / DEVLAKE_DIR).glob("*.csv"))


def load_dlt_case(name: str | Path) -> list[dict[str, Any]]:
    """A dlt test case (bare API items): "github.issues.load_page_5_duck",
    "github.events.load_page_1_duck" (duckdb Events API) or "github_events" (dlt-hub issue events)."""
    path = Path(name)
    if not path.is_file():
        matches = sorted((_root() / DLT_DIR).rglob(f"{path.name.removesuffix('.json')}.json"))
        if not matches:
            raise FileNotFoundError(f"no dlt case {name!r} under {_root() / DLT_DIR}")
        path = matches[0]
    items = json.loads(path.read_text(encoding="utf-8"))
    return cast(list[dict[str, Any]], items)


def load_openapi() -> dict[str, Any]:
    """GitHub's OpenAPI description of api.github.com (with Octokit extensions)."""
    with gzip.open(_root() / "octokit-openapi" / "api.github.com.json.gz", "rt", encoding="utf-8") as f:
        return cast(dict[str, Any], json.load(f))


def load_webhook_examples() -> dict[str, list[dict[str, Any]]]:
    """Webhook payload examples by event name (issues, pull_request_review, milestone, ...)."""
    path = _root() / "octokit-webhooks-examples" / "api.github.com.issues-pulls-milestones.json"
    events = json.loads(path.read_text(encoding="utf-8"))
    return {str(e["name"]): list(e.get("examples") or []) for e in events}


# --- INDEX.tsv and selection ------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexEntry:
    file: str
    seq: int
    method: str  # an HTTP verb, or RECORDS / WEBHOOKS for record-only sources
    path: str
    status: int | None
    recorded: str
    body: str  # a summary: object, list[N], empty, non-json, rows[N] ...


@functools.cache
def _index(root: Path) -> tuple[IndexEntry, ...]:
    entries: list[IndexEntry] = []
    with (root / "INDEX.tsv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            status = row["status"]
            entries.append(
                IndexEntry(
                    file=row["file"],
                    seq=int(row["seq"]),
                    method=row["method"],
                    path=row["path"],
                    status=int(status) if status.isdigit() else None,
                    recorded=row["recorded"],
                    body=row["body"],
                )
            )
    return tuple(entries)


def load_index() -> list[IndexEntry]:
    return list(_index(_root()))


def index_entries(predicate: Callable[[IndexEntry], bool] | None = None) -> list[IndexEntry]:
    return [e for e in _index(_root()) if predicate is None or predicate(e)]


def load_exchanges(file: str) -> list[Exchange]:
    """The exchanges of one HTTP recording, by its INDEX.tsv file column."""
    if file.startswith(PYGITHUB_DIR):
        return load_pygithub_replay(file)
    if file.startswith(OCTOKIT_DIR):
        return load_octokit_fixture(file)
    if file.startswith(BETAMAX_DIR):
        return load_betamax_cassette(file)
    raise ValueError(f"{file} is not an HTTP recording (DevLake/dlt/webhook sources hold bare records)")


def http_recording_files() -> list[str]:
    """INDEX.tsv files that hold HTTP exchanges, in INDEX order."""
    seen: dict[str, None] = {}
    for entry in _index(_root()):
        if entry.method not in ("RECORDS", "WEBHOOKS"):
            seen.setdefault(entry.file, None)
    return list(seen)


@functools.cache
def _all_exchanges(root: Path) -> tuple[Exchange, ...]:
    del root  # cache key only
    return tuple(ex for file in http_recording_files() for ex in load_exchanges(file))


def all_exchanges() -> list[Exchange]:
    """Every HTTP exchange of every recording (parsed once per process)."""
    return list(_all_exchanges(_root()))


def find_exchanges(
    predicate: Callable[[Exchange], bool] | str, *, files: Iterable[str] | None = None
) -> list[Exchange]:
    """Exchanges matching a predicate (or a ``SELECTORS`` name), optionally within some files."""
    test = SELECTORS[predicate] if isinstance(predicate, str) else predicate
    pool = [ex for f in files for ex in load_exchanges(f)] if files is not None else all_exchanges()
    return [ex for ex in pool if test(ex)]


def _route_matches(pattern: str) -> Callable[[Exchange], bool]:
    """``{x}`` matches one path segment; the query string is ignored."""
    regex = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(pattern)) + "$")
    return lambda ex: bool(regex.match(ex.route))


def _get_ok(pattern: str) -> Callable[[Exchange], bool]:
    route = _route_matches(pattern)
    return lambda ex: ex.method == "GET" and 200 <= ex.status < 300 and route(ex)


def _items(ex: Exchange) -> list[dict[str, Any]]:
    data = ex.json_or_none()
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [x for x in data if isinstance(x, dict)]
    return []


def _has_milestone_due_on(ex: Exchange) -> bool:
    if not (ex.method == "GET" and ex.status == 200 and "/milestones" in ex.route):
        return False
    return any(item.get("due_on") for item in _items(ex))


def _has_head_repo_null(ex: Exchange) -> bool:
    if not (ex.method == "GET" and ex.status == 200 and "/pulls" in ex.route):
        return False
    return any(
        isinstance(item.get("head"), dict) and item["head"].get("repo", "absent") is None
        for item in _items(ex)
    )


def _has_review_requests(ex: Exchange) -> bool:
    if ex.method == "GET" and ex.route.endswith("/requested_reviewers"):
        return True
    if ex.method == "GET" and ex.status == 200 and ("/events" in ex.route or "/timeline" in ex.route):
        return any(item.get("event") in ("review_requested", "review_request_removed") for item in _items(ex))
    return False


def _is_rate_limited(ex: Exchange) -> bool:
    return ex.status in (403, 429) and ex.header("X-RateLimit-Remaining") == "0"


SELECTORS: dict[str, Callable[[Exchange], bool]] = {
    "issue_pages": _get_ok("/repos/{o}/{r}/issues"),
    "issues": _get_ok("/repos/{o}/{r}/issues/{n}"),
    "pull_pages": _get_ok("/repos/{o}/{r}/pulls"),
    "pulls": _get_ok("/repos/{o}/{r}/pulls/{n}"),
    "milestones": lambda ex: ex.method == "GET" and ex.status == 200 and "/milestones" in ex.route,
    "milestones_with_due_on": _has_milestone_due_on,
    "timelines": _get_ok("/repos/{o}/{r}/issues/{n}/timeline"),
    "issue_events": lambda ex: (
        _get_ok("/repos/{o}/{r}/issues/{n}/events")(ex)
        or _get_ok("/repos/{o}/{r}/issues/events")(ex)
        or _get_ok("/repos/{o}/{r}/issues/events/{id}")(ex)
    ),
    "pulls_head_repo_null": _has_head_repo_null,
    "reviews": lambda ex: (
        _get_ok("/repos/{o}/{r}/pulls/{n}/reviews")(ex)
        or _get_ok("/repos/{o}/{r}/pulls/{n}/reviews/{id}")(ex)
    ),
    "review_requests": _has_review_requests,
    "link_pagination": lambda ex: ex.method == "GET" and "next" in ex.links(),
    "conditional_304": lambda ex: ex.status == 304,
    "redirects": lambda ex: ex.status in (301, 302, 307) and ex.header("Location") is not None,
    "rate_limited": _is_rate_limited,
    "unauthorized": lambda ex: ex.status == 401,
    "forbidden_not_rate_limit": lambda ex: ex.status == 403 and not _is_rate_limited(ex),
    "not_found": lambda ex: ex.status == 404,
    "unprocessable": lambda ex: ex.status == 422,
    "server_errors": lambda ex: ex.status >= 500,
}


# ---------------------------------------------------------------------------------------------
# Replay server


@dataclass(frozen=True)
class ServedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: str
    status: int
    source: str | None  # the exchange served, None when unmatched


_DROPPED_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive"}
_NO_BODY = {204, 304}


def rewrite_api_urls(text: str, base_url: str) -> str:
    """Absolute api.github.com URLs in a header value or body, pointed at ``base_url``."""
    for origin in API_ORIGINS:
        text = text.replace(origin, base_url)
    return text


def _query_items(path: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(path)
    return unquote(parts.path) or "/", parse_qsl(parts.query, keep_blank_values=True)


def _match_key(
    method: str, path: str, ignore: frozenset[str]
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(METHOD, path, sorted query) with ``page`` defaulting to 1 and ``per_page`` to 30."""
    route, items = _query_items(path)
    names = {k for k, _ in items}
    if "page" not in names:
        items.append(("page", "1"))
    if "per_page" not in names:
        items.append(("per_page", "30"))
    kept = tuple(sorted((k, v) for k, v in items if k not in ignore))
    return method.upper(), route, kept


def _page_of(path: str) -> str:
    return dict(_query_items(path)[1]).get("page", "1")


class _ReplayHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    replay: ReplayServer


class _ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # one buffered write per response (headers + body) and no Nagle: no 40 ms delayed-ACK stalls
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        replay = cast(_ReplayHTTPServer, self.server).replay
        method = "GET" if self.command == "HEAD" else self.command  # HEAD answers like GET, minus the body
        status, headers, payload = replay._respond(method, self.path, dict(self.headers.items()), body)
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        if status not in _NO_BODY and not 100 <= status < 200:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if status not in _NO_BODY and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class ReplayServer:
    """Serve recorded exchanges over HTTP on 127.0.0.1 (a fresh port) from a background thread.

    A request matches an exchange with the same method, path and query (query order does not
    matter; a missing ``page`` equals page 1 and a missing ``per_page`` equals 30, as on GitHub).
    ``ignore_params`` names query parameters left out of the comparison (e.g. ``{"sort",
    "direction", "since"}`` for synthetic listings).  With ``ignore_paging=True`` ``page`` and
    ``per_page`` are left out too, and among the matches the one for the requested page is
    preferred.  When several exchanges match, they are served in recorded order (a 200 then a 304,
    a 500 then the retried 200); once all were served the last one repeats.

    The recorded status, headers and body are served with ``https://api.github.com`` rewritten to
    ``base_url`` (Link headers, Location, every URL in the body) and Content-Length recomputed
    (Transfer-Encoding / Content-Encoding dropped; the body is plain UTF-8).  ``honour_etags=True``
    answers 304 (no body) when the request's If-None-Match equals the chosen exchange's ETag.

    Unmatched requests get a 404 JSON body and are listed in ``unmatched`` ("METHOD /path?query");
    every request is logged in ``requests``.
    """

    def __init__(
        self,
        exchanges: Iterable[Exchange],
        *,
        ignore_paging: bool = False,
        ignore_params: Iterable[str] = (),
        honour_etags: bool = False,
    ) -> None:
        self.exchanges: list[Exchange] = list(exchanges)
        self.ignore_paging = ignore_paging
        self.honour_etags = honour_etags
        ignored = set(ignore_params)
        if ignore_paging:
            ignored |= {"page", "per_page"}
        self._ignored = frozenset(ignored)
        self._keys = [_match_key(ex.method, ex.path, self._ignored) for ex in self.exchanges]
        self._served = [0] * len(self.exchanges)
        self._lock = threading.Lock()
        self.requests: list[ServedRequest] = []
        self.unmatched: list[str] = []
        self._httpd: _ReplayHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # lifecycle
    def start(self) -> ReplayServer:
        if self._httpd is not None:
            return self
        httpd = _ReplayHTTPServer(("127.0.0.1", 0), _ReplayHandler)
        httpd.replay = self
        self._httpd = httpd
        self.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="replay-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # inspection
    def unserved(self) -> list[Exchange]:
        """Exchanges never served so far."""
        with self._lock:
            return [ex for ex, n in zip(self.exchanges, self._served, strict=True) if n == 0]

    def served_sources(self) -> list[str]:
        with self._lock:
            return [r.source for r in self.requests if r.source is not None]

    # matching and answering
    def _choose(self, method: str, path: str) -> int | None:
        key = _match_key(method, path, self._ignored)
        candidates = [i for i, k in enumerate(self._keys) if k == key]
        if not candidates:
            return None
        if self.ignore_paging:
            page = _page_of(path)
            same_page = [i for i in candidates if _page_of(self.exchanges[i].path) == page]
            candidates = same_page or candidates
        return next((i for i in candidates if self._served[i] == 0), candidates[-1])

    def _respond(
        self, method: str, path: str, request_headers: dict[str, str], request_body: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._lock:
            index = self._choose(method, path)
            if index is None:
                self.unmatched.append(f"{method} {path}")
                payload = _compact_json(
                    {
                        "message": "Not Found (no recorded exchange matches this request)",
                        "request": f"{method} {path}",
                        "documentation_url": "https://docs.github.com/rest",
                    }
                ).encode("utf-8")
                self.requests.append(ServedRequest(method, path, request_headers, request_body, 404, None))
                return 404, [("Content-Type", "application/json; charset=utf-8")], payload
            self._served[index] += 1
            exchange = self.exchanges[index]
            status = exchange.status
            etag = exchange.header("ETag")
            if_none_match = next(
                (v for k, v in request_headers.items() if k.lower() == "if-none-match"), None
            )
            if self.honour_etags and etag and if_none_match and if_none_match == etag:
                status = 304
            self.requests.append(
                ServedRequest(method, path, request_headers, request_body, status, exchange.source)
            )
        headers = [
            (name, rewrite_api_urls(value, self.base_url))
            for name, value in exchange.headers.items()
            if name.lower() not in _DROPPED_HEADERS and name.lower() != "status"
        ]
        payload = (
            b"" if status in _NO_BODY else rewrite_api_urls(exchange.body, self.base_url).encode("utf-8")
        )
        return status, headers, payload


# ---------------------------------------------------------------------------------------------
# Synthetic listings from record-only sources


def _page_url(route: str, query: Sequence[tuple[str, str]], per_page: int, page: int) -> str:
    return f"{route}?{urlencode([*query, ('per_page', str(per_page)), ('page', str(page))])}"


def json_exchange(
    path: str, data: Any, source: str, extra_headers: Mapping[str, str] | None = None
) -> Exchange:
    """A synthetic 200 GET with a JSON body (and a content-derived weak ETag)."""
    body = _compact_json(data)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "ETag": f'W/"{hashlib.sha256(body.encode("utf-8")).hexdigest()[:40]}"',
        **(extra_headers or {}),
    }
    return Exchange("GET", path, 200, headers, body, source)


def paginate(
    route: str,
    items: Sequence[Any],
    *,
    per_page: int = 100,
    query: Sequence[tuple[str, str]] = (),
    source: str = "synthetic",
) -> list[Exchange]:
    """GET pages of ``items`` at ``route`` with GitHub-style Link headers (first/prev/next/last).

    Page 1 is recorded without ``page``/``per_page`` in its path when ``per_page`` is 30 (GitHub's
    default), else with ``per_page``; the other pages carry both, as GitHub's Link URLs do.  Link
    URLs are absolute ``https://api.github.com`` URLs, which ``ReplayServer`` rewrites.  An empty
    list gives one page holding ``[]``.
    """
    last = max(1, math.ceil(len(items) / per_page))
    exchanges: list[Exchange] = []
    for page in range(1, last + 1):
        chunk = list(items[(page - 1) * per_page : page * per_page])
        links: list[str] = []
        if page > 1:
            links.append(f'<{_API}{_page_url(route, query, per_page, 1)}>; rel="first"')
            links.append(f'<{_API}{_page_url(route, query, per_page, page - 1)}>; rel="prev"')
        if page < last:
            links.append(f'<{_API}{_page_url(route, query, per_page, page + 1)}>; rel="next"')
            links.append(f'<{_API}{_page_url(route, query, per_page, last)}>; rel="last"')
        if page == 1:
            first_query = [*query] if per_page == 30 else [*query, ("per_page", str(per_page))]
            path = f"{route}?{urlencode(first_query)}" if first_query else route
        else:
            path = _page_url(route, query, per_page, page)
        extra = {"Link": ", ".join(links)} if links else {}
        exchanges.append(json_exchange(path, chunk, f"{source}#page{page}", extra))
    return exchanges


def _unique_by_id(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """First occurrence of each ``id`` (DevLake's tables repeat a few rows)."""
    seen: set[Any] = set()
    out: list[dict[str, Any]] = []
    for item in items:
        key = item.get("id", item.get("sha"))
        if key is None or key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _number_from_url(url: str, marker: str) -> int | None:
    match = re.search(rf"/{marker}/(\d+)(?:$|[/?#])", url)
    return int(match.group(1)) if match else None


def _group(
    items: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], int | None]
) -> dict[int, list[dict[str, Any]]]:
    groups: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        number = key(item)
        if number is not None:
            groups.setdefault(number, []).append(item)
    return groups


def _rows_by_pull(rows: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """DevLake rows' API items grouped by the PR number in their request URL (.../pulls/{n}/...)."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        number = _number_from_url(str(row["url"]), "pulls")
        if number is not None:
            groups.setdefault(number, []).append(row["data"])
    return groups


def devlake_ants_exchanges(per_page: int = 100) -> list[Exchange]:
    """panjf2000/ants as a GitHub API, from DevLake's raw tables (recorded 2022), as GET exchanges.

    Listings (paged with Link headers; ``state=all`` where GitHub accepts it):
    ``/repos/panjf2000/ants`` (the repository object embedded as ``base.repo`` of the most recently
    updated PR), ``issues?state=all`` (41 issues incl. 15 PRs, all closed), ``pulls?state=all``
    (49 PRs, 15 with ``head.repo`` null), ``milestones?state=all`` (the one milestone DevLake attached
    to the issues, v0.11.0, ``due_on`` null), ``issues/comments`` (94), ``issues/events`` (49, for
    issues #157-#230 that are not in the issues table), ``pulls/comments`` (16); per PR
    ``pulls/{n}/reviews`` (30 reviews of #41/#51/#53, ``[]`` for the other PRs), ``pulls/{n}/commits``
    (43 PRs), ``pulls/{n}/comments``; per issue ``issues/{n}/comments`` and ``issues/{n}/events``
    where rows exist; single ``issues/{n}``, ``pulls/{n}`` and ``milestones/{n}``.  Rows DevLake
    repeated (same ``id``, e.g. issue/PR #4) appear once.  Single objects are the list items
    (GitHub's single-PR response has more fields, e.g. ``merged_by``, ``additions``).
    """
    repo = "/repos/panjf2000/ants"
    source = f"{DEVLAKE_DIR}/ants"

    def data(table: str) -> list[dict[str, Any]]:
        return _unique_by_id(row["data"] for row in load_devlake_table(table))

    issues = data("issues")
    pulls = data("pull_requests")
    comments = data("comments")
    events = data("events")
    reviews_rows = load_devlake_table("pull_request_reviews")
    review_comments = data("pull_request_review_comments")
    commit_rows = load_devlake_table("pull_request_commits")

    repository = max(pulls, key=lambda p: str(p.get("updated_at")))["base"]["repo"]
    milestones = _unique_by_id(i["milestone"] for i in issues if i.get("milestone"))

    out: list[Exchange] = [json_exchange(repo, repository, f"{source}/repository")]

    def listing(route: str, items: Sequence[Any], state: bool = False) -> None:
        query = [("state", "all")] if state else []
        out.extend(paginate(route, items, per_page=per_page, query=query, source=f"{source}{route}"))

    listing(f"{repo}/issues", issues, state=True)
    listing(f"{repo}/pulls", pulls, state=True)
    listing(f"{repo}/milestones", milestones, state=True)
    listing(f"{repo}/issues/comments", comments)
    listing(f"{repo}/issues/events", events)
    listing(f"{repo}/pulls/comments", review_comments)

    reviews_by_pr = _rows_by_pull(reviews_rows)
    for number in sorted({int(p["number"]) for p in pulls}):
        listing(f"{repo}/pulls/{number}/reviews", _unique_by_id(reviews_by_pr.get(number, [])))
    for number, items in sorted(_rows_by_pull(commit_rows).items()):
        listing(f"{repo}/pulls/{number}/commits", items)
    for number, items in sorted(
        _group(
            review_comments, lambda c: _number_from_url(str(c.get("pull_request_url", "")), "pulls")
        ).items()
    ):
        listing(f"{repo}/pulls/{number}/comments", items)
    for number, items in sorted(
        _group(comments, lambda c: _number_from_url(str(c.get("issue_url", "")), "issues")).items()
    ):
        listing(f"{repo}/issues/{number}/comments", items)
    for number, items in sorted(
        _group(
            events, lambda e: int(e["issue"]["number"]) if isinstance(e.get("issue"), dict) else None
        ).items()
    ):
        listing(f"{repo}/issues/{number}/events", items)

    for issue in issues:
        out.append(
            json_exchange(f"{repo}/issues/{issue['number']}", issue, f"{source}/issues/{issue['number']}")
        )
    for pull in pulls:
        out.append(json_exchange(f"{repo}/pulls/{pull['number']}", pull, f"{source}/pulls/{pull['number']}"))
    for milestone in milestones:
        number = milestone["number"]
        out.append(json_exchange(f"{repo}/milestones/{number}", milestone, f"{source}/milestones/{number}"))
    return out


def duckdb_issue_exchanges(per_page: int = 100) -> list[Exchange]:
    """duckdb/duckdb as GET exchanges from dlt's cases.

    ``/repos/duckdb/duckdb/issues?state=all`` pages of the 100 recorded issues (page 5 of
    duckdb's list, 2018-2023, 25 of them PRs, in recorded order); ``/repos/duckdb/duckdb/events``
    pages of the 100 recorded repository events (Events API format, April 2023); single
    ``issues/{n}``; and ``/repos/duckdb/duckdb`` (the repository object embedded as
    ``pull_request.base.repo`` of the newest PullRequestEvent).
    """
    repo = "/repos/duckdb/duckdb"
    source = f"{DLT_DIR}/duckdb"
    issues = load_dlt_case("github.issues.load_page_5_duck")
    events = load_dlt_case("github.events.load_page_1_duck")
    out: list[Exchange] = []
    pr_events = [e for e in events if e.get("type") == "PullRequestEvent"]
    if pr_events:
        newest = max(pr_events, key=lambda e: str(e.get("created_at")))
        out.append(
            json_exchange(repo, newest["payload"]["pull_request"]["base"]["repo"], f"{source}/repository")
        )
    out += paginate(
        f"{repo}/issues", issues, per_page=per_page, query=[("state", "all")], source=f"{source}/issues"
    )
    out += paginate(f"{repo}/events", events, per_page=per_page, source=f"{source}/events")
    for issue in issues:
        out.append(
            json_exchange(f"{repo}/issues/{issue['number']}", issue, f"{source}/issues/{issue['number']}")
        )
    return out


def dlt_issue_event_exchanges(per_page: int = 100) -> list[Exchange]:
    """``/repos/dlt-hub/dlt/issues/events`` pages of dlt's 100 recorded issue events (Oct 2024:
    review_requested, review_dismissed, merged, project_v2_item_status_changed, ...)."""
    events = load_dlt_case("github_events")
    return paginate(
        "/repos/dlt-hub/dlt/issues/events", events, per_page=per_page, source=f"{DLT_DIR}/dlt-hub"
    )
