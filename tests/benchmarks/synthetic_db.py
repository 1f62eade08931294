"""A large synthetic perftrust database, written directly with DuckDB SQL, for the metrics benchmark.

    .venv/bin/python -m tests.benchmarks.synthetic_db PATH [--commits 1000000] [--issues 200000]
        [--prs 50000] [--contributors 5000] [--repos 20] [--seed 1] [--as-of 2026-06-30] [--overwrite]
        [--memory-limit 256MB]

``build_synthetic_db(path, ...)`` fills the raw_* tables the way the git and GitHub syncs would (lean
payloads: the fields the stg_* views read, plus ids, numbers and html_url), then runs
``rebuild_identities`` so dim_identities / dim_contributors and every fct_* view are ready. It returns
the row count of every table it wrote. No Python loop touches a row: everything is
``range()`` + hash-based pseudo-random values (``hash(seed, ...)``) + ``json_object``, so the same
arguments always give the same database (with the same DuckDB version).

What is in it, shaped so that every metric has work to do (rates are approximate):

- contributors, each with 1-3 git identities: a work address; a ``ID+login@users.noreply.github.com``
  address; a third one that is the work address in other letter case, a personal address under the
  login (linked by GitHub's commit API) or under the first name (linked by ``raw_git__mailmap``).
  About 85% of work addresses are linked to the login by ``raw_github__commit_authors``, 12% by
  the .mailmap (to the noreply address), 3% by nothing (a few people show up as two contributors,
  as in real data). Bots: dependabot[bot], renovate[bot], github-actions[bot] (GitHub type Bot),
  GitHub's web-flow committer, dependabot's ``support@github.com`` sign-off and an AI co-author.
  People are picked with a skew (a few do most of the work) that drifts over the two years, each
  mostly in one "home" repository;
- commits over the two years before ``as_of``, one linear history per repository: 8% merges (two
  parents, no files, most committed by web-flow), 1% reverts (``This reverts commit <sha>.``, 10% with
  an abbreviated sha, half of them reverting the same person's commit), 1-5 files with line counts
  (1% binary, 2% renames), 12% committed by someone else, ~10% with trailers (Co-authored-by with the
  work or noreply address, some in a middle paragraph as squash merges write them; Signed-off-by;
  Reviewed-by; Acked/Tested/Reported/Suggested/Helped-by; an AI co-author), ~3% by bots;
- per repository ~50 milestones (due_on at US-Pacific midnight, i.e. 07:00Z or 08:00Z; 8% without
  a due date; the last ones after ``as_of``), 15% whose due date moved (two due-date observations,
  half of them moved after the old date had passed);
- issues and pull requests sharing one number sequence per repository; PR items carry a
  ``pull_request`` key and have a raw_github__pull_requests row. Assignees (some handed off before
  or after the due date), milestones (some moved to the next one), closes before and after the due
  date, completed / not_planned / duplicate, reopenings, never-closed items; timelines with
  assigned, unassigned, milestoned, demilestoned, commented (by the assignee, warning about the due
  date, or by others), closed, reopened, cross-referenced, and for PRs ready_for_review,
  review_requested (people and teams), review_request_removed, reviewed, merged; 0-4 reviews per PR
  (approved, commented, changes requested, dismissed; some on one's own PR), review comments and the
  PR author's replies; drafts, forks and deleted forks, bodies from empty to long, "Fixes #N" links.

Full size (1M commits, 200k issues, 50k PRs, 5k contributors, 20 repositories) on the project's
2-core machine: 13-14 s wall (about 10 s of generation, 3 s of rebuild_identities), 405 MB peak RSS
(/usr/bin/time -v) with the default 256MB DuckDB memory limit, a 350 MB file; 1.03M timeline events,
57k reviews, 5,158 contributors (5,000 people + 152 unlinked work addresses + 6 bots).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline import __version__
from pipeline.config import Settings
from pipeline.db import connect, transaction
from pipeline.identities import rebuild_identities

MILESTONES_PER_REPO = 50
SPAN_DAYS = 730  # history covered before as_of
MILESTONE_HORIZON_DAYS = 90  # the last milestones fall due this long after as_of

# Tables written (and counted), in the order they are filled.
TABLES = (
    "pipeline_runs",
    "dim_repositories",
    "raw_github__repositories",
    "raw_git__commits",
    "raw_git__mailmap",
    "raw_github__commit_authors",
    "raw_github__milestones",
    "raw_github__due_date_observations",
    "raw_github__issues",
    "raw_github__pull_requests",
    "raw_github__timeline_events",
    "raw_github__reviews",
    "raw_github__review_comments",
    "dim_identities",
    "dim_contributors",
)

_REPO_NAMES = [
    "api", "web", "mobile", "worker", "billing", "auth", "search", "infra", "docs", "cli",
    "sdk-python", "sdk-js", "gateway", "scheduler", "storage", "analytics", "notifications",
    "design-system", "data-pipeline", "admin",
]  # fmt: skip
_FIRST = [
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
    "Radia", "Guido", "Yukihiro", "Bjarne", "Anders", "Sophie", "Mateo", "Lucía", "José", "Zoë",
    "Łukasz", "Søren", "Chloé", "Björn", "Amara", "Chidi", "Aiko", "Hiroshi", "Mei", "Wei", "Priya",
    "Arjun", "Ananya", "Rohan", "Fatima", "Omar", "Leila", "Yusuf", "Olga", "Dmitri", "Ivan",
    "Katarzyna", "Nikos", "Elena", "Marco", "Giulia", "Pierre", "Camille", "Hannah", "Jonas", "Lena",
    "Noah", "Emma", "Liam", "Olivia", "Ethan", "Ava", "Mia", "Lucas", "Sara", "Tomás", "Inés",
    "Kwame", "Nia",
]  # fmt: skip
_LAST = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen",
    "Dijkstra", "Perlman", "van Rossum", "Matsumoto", "Stroustrup", "Hejlsberg", "Wilson", "García",
    "Martínez", "Müller", "Schmidt", "Kowalski", "Nowak", "Jensen", "Andersson", "Okafor", "Mensah",
    "Tanaka", "Suzuki", "Wang", "Li", "Zhang", "Sharma", "Patel", "Gupta", "Khan", "Haddad", "Öztürk",
    "Ivanova", "Petrov", "Papadopoulos", "Rossi", "Bianchi", "Dubois", "Moreau", "Fischer", "Weber",
    "Novák", "Horvat", "Silva", "Santos", "Kim", "Park", "Nguyen", "Tran", "Cohen", "Levi", "Murphy",
    "Kelly", "Smith", "Johnson", "Brown", "Davis", "Clark", "Lewis",
]  # fmt: skip
_TZ = [
    "+0000",
    "+0100",
    "+0200",
    "+0300",
    "-0300",
    "-0400",
    "-0500",
    "-0700",
    "-0800",
    "+0530",
    "+0800",
    "+0900",
]
_VERBS = [
    "Fix", "Add", "Remove", "Refactor", "Update", "Improve", "Simplify", "Document", "Optimize",
    "Rename", "Handle", "Support", "Test", "Clean up", "Avoid", "Use",
]  # fmt: skip
_OBJECTS = [
    "cache invalidation", "login flow", "retry logic", "config parser", "CLI help", "error messages",
    "date handling", "pagination", "rate limiter", "logging", "database migrations", "CI pipeline",
    "dependency pins", "search index", "API client", "unit tests", "memory leak", "race condition",
    "build script", "README", "webhook handler", "session timeout", "CSV export", "feature flags",
]  # fmt: skip
_AREAS = ["core", "api", "web", "worker", "scheduler", "auth", "billing", "storage"]
_SENTENCES = [
    "The previous behaviour dropped events when the queue was full.",
    "This keeps the public API unchanged.",
    "Follow-up to the review comments.",
    "No functional change intended.",
    "Measured 12% faster on the benchmark suite.",
    "Needed for the upcoming release.",
]
_DIRS = [
    "src/core",
    "src/api",
    "src/web",
    "src/worker",
    "lib/util",
    "tests",
    "docs",
    "scripts",
    "config",
    "src/db",
]
_EXTS = [".py", ".py", ".ts", ".py", ".py", ".py", ".md", ".sh", ".yaml", ".sql"]
_STEMS = [
    "cache", "client", "config", "models", "views", "handlers", "auth", "session", "queue", "retry",
    "export", "search", "index", "schema", "routes", "utils", "errors", "logging", "flags", "billing",
    "invoice", "user", "team", "report", "metrics", "settings", "storage", "upload", "webhook", "cli",
    "parser", "dates", "pagination", "limits", "jobs", "events", "email", "templates", "i18n", "main",
]  # fmt: skip
_PACKAGES = [
    "requests", "urllib3", "lodash", "axios", "pyyaml", "jinja2", "express", "react", "webpack",
    "pytest", "black", "numpy", "django", "flask", "eslint", "typescript",
]  # fmt: skip
_TRAILER_KEYS = ["Acked-by", "Tested-by", "Reported-by", "Suggested-by", "Helped-by"]
_COMMENTS = [
    "I can reproduce this on main.",
    "Any update on this?",
    "+1, we hit this in production too.",
    "Could you share the logs?",
    "Looks related to the retry change.",
    "Thanks for the report!",
]
_WARNINGS = [
    "Heads-up: this will slip past the milestone, the migration is bigger than expected.",
    "Running late on this one; I need another week.",
    "Blocked on the API change, moving this to the next milestone.",
]
_TEAMS = ["core", "frontend", "platform", "security"]

# Bots: index offset from the number of people, git identity, GitHub login, user id.
_BOTS = [
    ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", "dependabot[bot]", 49699333),
    ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com", "renovate[bot]", 29139614),
    ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com", "github-actions[bot]", 41898282),
    ("GitHub", "noreply@github.com", None, 19864447),  # web-flow: the committer of web merges
    ("Claude", "noreply@anthropic.com", None, None),  # an AI co-author, seen in trailers only
]  # fmt: skip


def _lit(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_lit(v) for v in values) + "]"


def _choice(values: list[str], a: str, b: str, salt: str) -> str:
    """SQL: one element of a literal list, chosen by _h(a, b, salt)."""
    return f"({_list(values)})[1 + _h({a}, {b}, '{salt}') % {len(values)}]"


def _epoch(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp())


def _statements(
    *,
    commits: int,
    issues: int,
    prs: int,
    contributors: int,
    repos: int,
    seed: int,
    as_of: datetime,
    run_id: str,
) -> list[str]:
    """The SQL that fills the database, in order (temporary macros and tables, then inserts)."""
    K, R, C, P = contributors, repos, commits, prs
    N = issues + prs  # issue and PR numbers share one sequence per repository
    M = MILESTONES_PER_REPO
    AS_OF = _epoch(as_of)
    SPAN = SPAN_DAYS * 86400
    START = AS_OF - SPAN
    SP2 = SPAN + MILESTONE_HORIZON_DAYS * 86400
    DAY = 86400
    AS_OF_TS = f"make_timestamp({AS_OF}::BIGINT * 1000000)"
    RUN = _lit(run_id)
    DEP, REN, ACT, WEB = K, K + 1, K + 2, K + 3  # bots; K + 4 is the AI co-author
    items_per_repo = max(1, N // R)
    nl2 = "chr(10) || chr(10)"

    macros = f"""
-- hash(x, y, ...) only XORs the last argument's hash in, so values for two salts would be correlated:
-- hashing the combined hash again mixes every argument into every bit.
CREATE OR REPLACE TEMP MACRO _h(a, b, s) AS CAST(hash(hash({seed}, a, b, s)) >> 1 AS BIGINT);
CREATE OR REPLACE TEMP MACRO _u(a, b, s) AS hash(hash({seed}, a, b, s)) / 18446744073709551616.0;
CREATE OR REPLACE TEMP MACRO _frac(x) AS x - floor(x);
CREATE OR REPLACE TEMP MACRO _ts(e) AS make_timestamp(CAST(e AS BIGINT) * 1000000);
CREATE OR REPLACE TEMP MACRO _iso(e) AS strftime(make_timestamp(CAST(e AS BIGINT) * 1000000), '%Y-%m-%dT%H:%M:%SZ');
CREATE OR REPLACE TEMP MACRO _repo(r) AS
    'acme/' || ({_list(_REPO_NAMES)})[1 + r % {len(_REPO_NAMES)}]
    || CASE WHEN r >= {len(_REPO_NAMES)} THEN '-' || (r // {len(_REPO_NAMES)} + 1) ELSE '' END;
CREATE OR REPLACE TEMP MACRO _html(r) AS 'https://github.com/' || _repo(r);
-- Commit j of repository r: its sha, its time, and the commit at a given time (for merge shas).
CREATE OR REPLACE TEMP MACRO _sha(r, j) AS sha1('{seed}/' || r || '/' || j);
CREATE OR REPLACE TEMP MACRO _cn(r) AS ({C} - 1 - r) // {R} + 1;
CREATE OR REPLACE TEMP MACRO _jat(r, t) AS
    least(_cn(r) - 1, greatest(0, CAST(floor((t - {START}) * _cn(r) / {SPAN}) AS BIGINT)));
-- Item number n of repository r is a pull request: exactly P of the N items, spread evenly.
CREATE OR REPLACE TEMP MACRO _is_pr(r, n) AS
    (((CAST(n AS BIGINT) - 1) * {R} + r + 1) * {P}) // {N} > (((CAST(n AS BIGINT) - 1) * {R} + r) * {P}) // {N};
-- A person for repository r: 87% from its team (people p with p % R = r), 12% from one of the next
-- two repositories' teams, 1% from anywhere; skewed so that a few do most of the work, the skew
-- drifting with tf (0..1 over the two years).
CREATE OR REPLACE TEMP MACRO _team(t, u, tf) AS
    t + {R} * floor((({K} - t + {R} - 1) // {R}) * _frac(pow(u, 3) + 0.1 * tf));
CREATE OR REPLACE TEMP MACRO _pick(r, x, s, tf) AS CAST(
    CASE WHEN _u(r, x, s || '/x') < 0.01 THEN floor({K} * _frac(pow(_u(r, x, s), 3) + 0.1 * tf))
         WHEN _u(r, x, s || '/x') < 0.13 THEN _team((r + 1 + _h(r, x, s || '/n') % 2) % {R}, _u(r, x, s), tf)
         ELSE _team(r, _u(r, x, s), tf)
    END AS INTEGER);
CREATE OR REPLACE TEMP MACRO _other(p, q) AS CASE WHEN q = p THEN (q + 1) % {K} ELSE q END;
CREATE OR REPLACE TEMP MACRO _nids(p) AS CASE WHEN p >= {K} THEN 1 ELSE 1 + _h(p, 0, 'nid') % 3 END;
CREATE OR REPLACE TEMP MACRO _subject(r, x) AS
    {_choice(_VERBS, "r", "x", "sv")} || ' ' || {_choice(_OBJECTS, "r", "x", "so")}
    || CASE WHEN _h(r, x, 'sa') % 2 = 0 THEN ' in ' || {_choice(_AREAS, "r", "x", "sa2")} ELSE '' END;
CREATE OR REPLACE TEMP MACRO _version(r, x, s) AS
    (_h(r, x, s) % 5) || '.' || (_h(r, x, s || 'b') % 20) || '.' || (_h(r, x, s || 'c') % 10);
CREATE OR REPLACE TEMP MACRO _bump(r, x) AS
    'Bump ' || {_choice(_PACKAGES, "r", "x", "pk")} || ' from ' || _version(r, x, 'v') || ' to '
    || (_h(r, x, 'v') % 5) || '.' || (_h(r, x, 'vb') % 20) || '.' || (_h(r, x, 'vc') % 10 + 1);
CREATE OR REPLACE TEMP MACRO _branch(r, x) AS
    ({_list(["feature", "fix", "chore", "refactor"])})[1 + _h(r, x, 'br') % 4] || '/' || replace(lower({_choice(_OBJECTS, "r", "x", "so")}), ' ', '-');
CREATE OR REPLACE TEMP MACRO _path(idx) AS
    ({_list(_DIRS)})[1 + idx % {len(_DIRS)}] || '/' || ({_list(_STEMS)})[1 + (idx // {len(_DIRS)}) % {len(_STEMS)}]
    || ({_list(_EXTS)})[1 + idx % {len(_DIRS)}];
CREATE OR REPLACE TEMP MACRO _file(r, x, k) AS struct_pack(
    path := CASE WHEN _u(r, x * 8 + k, 'bin') < 0.01 THEN 'assets/img' || ((_h(r, x, 'im') + k) % 60) || '.png'
                 ELSE _path(CAST(floor({len(_DIRS) * len(_STEMS)} * pow(_u(r, x, 'fp'), 2)) AS BIGINT) + 7 * k) END,
    old_path := CASE WHEN _u(r, x * 8 + k, 'rn') < 0.02 THEN _path(_h(r, x * 8 + k, 'op')) END,
    lines_added := CASE WHEN _u(r, x * 8 + k, 'bin') >= 0.01 THEN CAST(floor(exp(6 * _u(r, x * 8 + k, 'la'))) - 1 AS INTEGER) END,
    lines_deleted := CASE WHEN _u(r, x * 8 + k, 'bin') >= 0.01 THEN CAST(floor(exp(5 * _u(r, x * 8 + k, 'ld'))) - 1 AS INTEGER) END);
-- Commit kind: 0 normal, 1 merge, 2 revert; and its author (before the self-revert rule).
CREATE OR REPLACE TEMP MACRO _ck(r, j) AS
    CASE WHEN j >= 2 AND _u(r, j, 'ck') < 0.08 THEN 1 WHEN j >= 50 AND _u(r, j, 'ck') < 0.09 THEN 2 ELSE 0 END;
CREATE OR REPLACE TEMP MACRO _ca(r, j, tf) AS
    CASE WHEN _ck(r, j) = 0 AND _u(r, j, 'bot') < 0.02 THEN {DEP}
         WHEN _ck(r, j) = 0 AND _u(r, j, 'bot') < 0.024 THEN {REN}
         WHEN _ck(r, j) = 0 AND _u(r, j, 'bot') < 0.03 THEN {ACT}
         ELSE _pick(r, j, 'ca', tf) END;
CREATE OR REPLACE TEMP MACRO _mtitle(m) AS 'v' || (1 + (m - 1) // 12) || '.' || ((m - 1) % 12);
CREATE OR REPLACE TEMP MACRO _login(login) AS CASE WHEN login IS NOT NULL THEN json_object('login', login) END;
"""

    bots = " UNION ALL ".join(
        f"SELECT {K + n}::INTEGER AS p, 0 AS kind, {_lit(name)} AS name, {_lit(email)} AS email, '+0000' AS tz, "
        f"{_lit(login)} AS login, NULL AS api_login, {_lit(uid)}::BIGINT AS user_id, NULL AS mm_name, NULL AS mm_email"
        for n, (name, email, login, uid) in enumerate(_BOTS)
    )
    bot_accounts = " UNION ALL ".join(
        f"SELECT {K + n}::INTEGER, {_lit(login)}, {uid}::BIGINT, 'Bot'"
        for n, (_name, _email, login, uid) in enumerate(_BOTS[:3])
    )
    people = f"""
CREATE TEMP TABLE _people AS
WITH b AS (
    SELECT CAST(p AS INTEGER) AS p, {_choice(_FIRST, "p", "0", "fn")} AS first, {_choice(_LAST, "p", "0", "ln")} AS last
    FROM range({K}) t(p)
), c AS (
    SELECT *, regexp_replace(lower(strip_accents(first)), '[^a-z0-9]', '', 'g') AS ff,
              regexp_replace(lower(strip_accents(last)), '[^a-z0-9]', '', 'g') AS fl
    FROM b
)
SELECT p, first, first || ' ' || last AS name, ff || '-' || fl || p AS login, 100000 + p AS user_id,
       ff || '.' || fl || p || '@acme.example' AS work_email,
       upper(ff[1]) || ff[2:] || '.' || upper(fl[1]) || fl[2:] || p || '@Acme.example' AS work_email_cased,
       (100000 + p) || '+' || ff || '-' || fl || p || '@users.noreply.github.com' AS noreply_email,
       ff || '-' || fl || p || '@mail.example' AS personal_email,
       _nids(p) AS n_ids, {_choice(_TZ, "p", "0", "tz")} AS tz,
       _u(p, 0, 'l0') AS l0, _u(p, 0, 'l2') AS l2
FROM c;

-- Git identities: (p, kind) -> name, email; api_login: what GitHub's commit API answers for the
-- email; mm_*: the .mailmap target, if any.
CREATE TEMP TABLE _ids AS
SELECT p.p, CAST(k.kind AS INTEGER) AS kind,
       CASE WHEN k.kind < 2 OR p.l2 < 0.3 THEN p.name WHEN p.l2 < 0.65 THEN p.login ELSE p.first END AS name,
       CASE k.kind WHEN 0 THEN p.work_email WHEN 1 THEN p.noreply_email
            ELSE CASE WHEN p.l2 < 0.3 THEN p.work_email_cased ELSE p.personal_email END END AS email,
       p.tz, p.login,
       CASE WHEN (k.kind = 0 OR k.kind = 2 AND p.l2 < 0.3) AND p.l0 < 0.85 THEN p.login
            WHEN k.kind = 2 AND p.l2 >= 0.3 AND p.l2 < 0.65 THEN p.login END AS api_login,
       p.user_id,
       CASE WHEN k.kind = 0 AND p.l0 >= 0.85 AND p.l0 < 0.97 OR k.kind = 2 AND p.l2 >= 0.65 THEN p.name END AS mm_name,
       CASE WHEN k.kind = 0 AND p.l0 >= 0.85 AND p.l0 < 0.97 THEN p.noreply_email
            WHEN k.kind = 2 AND p.l2 >= 0.65 THEN p.work_email END AS mm_email
FROM _people p JOIN range(3) k(kind) ON k.kind < p.n_ids
UNION ALL {bots};

-- GitHub accounts: people and the three bot apps.
CREATE TEMP TABLE _accounts AS
SELECT p, login, user_id, 'User' AS type FROM _people
UNION ALL {bot_accounts};
"""

    normal_message = f"""
        _subject(f.r, f.j)
        || CASE WHEN _u(f.r, f.j, 'prs') < 0.3 THEN ' (#' || (1 + _h(f.r, f.j, 'mn') % {items_per_repo}) || ')' ELSE '' END
        || CASE WHEN f.ut < 0.01
                THEN {nl2} || '* ' || _subject(f.r, -1 - f.j) || {nl2} || 'Co-authored-by: ' || f.qa
                     || {nl2} || '* ' || _subject(f.r, -1000000000 - f.j)
                ELSE '' END
        || CASE WHEN _u(f.r, f.j, 'bd') < 0.4 THEN {nl2} || {_choice(_SENTENCES, "f.r", "f.j", "se")} ELSE '' END
        || CASE WHEN f.ut < 0.01 THEN ''
                WHEN f.ut < 0.05 THEN {nl2} || 'Co-authored-by: ' || f.qa
                     || CASE WHEN _u(f.r, f.j, 'q2x') < 0.3 THEN chr(10) || 'Co-authored-by: ' || f.q2a ELSE '' END
                WHEN f.ut < 0.075 THEN {nl2} || 'Signed-off-by: ' || ai.name || ' <' || ai.email || '>'
                WHEN f.ut < 0.09 THEN {nl2} || 'Reviewed-by: ' || f.qa || chr(10)
                     || 'Signed-off-by: ' || ai.name || ' <' || ai.email || '>'
                WHEN f.ut < 0.097 THEN {nl2} || {_choice(_TRAILER_KEYS, "f.r", "f.j", "tk")} || ': ' || f.qa
                WHEN f.ut < 0.1 THEN {nl2} || 'Co-authored-by: Claude <noreply@anthropic.com>'
                ELSE '' END"""
    commits_sql = f"""
INSERT INTO raw_git__commits
WITH b AS (
    SELECT i % {R} AS r, i // {R} AS j, _cn(i % {R}) AS n_r FROM range({C}) t(i)
), c AS (
    SELECT r, j, n_r, j / n_r AS tf, _ck(r, j) AS ck,
           {START} + CAST(floor((j + _u(r, j, 't')) * {SPAN} / n_r) AS BIGINT) AS at
    FROM b
), d AS (
    SELECT *, CASE WHEN ck = 2 THEN j - 1 - _h(r, j, 'rt') % 40 END AS jt, _ca(r, j, tf) AS p0 FROM c
), e AS (
    -- Half the reverts undo the same person's commit.
    SELECT *, CASE WHEN ck = 2 AND _u(r, j, 'self') < 0.5 AND _ca(r, jt, jt / n_r) < {K}
                   THEN _ca(r, jt, jt / n_r) ELSE p0 END AS ap
    FROM d
), e2 AS (
    SELECT *, CAST(_h(r, j, 'ik') % _nids(ap) AS INTEGER) AS aik,
           CASE WHEN ap >= {K} OR (ck = 1 AND _u(r, j, 'wf') < 0.6) THEN {WEB}
                WHEN ck = 0 AND _u(r, j, 'cm') < 0.12 THEN _other(ap, _pick(r, j, 'cp', tf))
                ELSE ap END AS cp,
           CASE WHEN ck = 0 AND ap < {K} THEN _u(r, j, 'tr') ELSE 1.0 END AS ut,
           _other(ap, _pick(r, j, 'q', tf)) AS q, _other(ap, _pick(r, j, 'q2', tf)) AS q2
    FROM e
), f AS (
    SELECT e2.*,
           CASE WHEN e2.ut < 0.1 THEN q.name || ' <' || CASE WHEN _u(e2.r, e2.j, 'qe') < 0.5 THEN q.work_email ELSE q.noreply_email END || '>' END AS qa,
           CASE WHEN e2.ut < 0.05 THEN q2.name || ' <' || q2.work_email || '>' END AS q2a
    FROM e2 LEFT JOIN _people q ON q.p = e2.q LEFT JOIN _people q2 ON q2.p = e2.q2
)
SELECT
    _repo(f.r),
    _sha(f.r, f.j),
    CASE WHEN f.j = 0 THEN []
         WHEN f.ck = 1 THEN [_sha(f.r, f.j - 1), _sha(f.r, f.j - 2 - _h(f.r, f.j, 'mp') % least(30, f.j - 1))]
         ELSE [_sha(f.r, f.j - 1)] END,
    ai.name, ai.email, f.at, ai.tz,
    ci.name, ci.email,
    f.at + CASE WHEN f.cp <> f.ap THEN _h(f.r, f.j, 'cd') % (3 * {DAY})
                WHEN _h(f.r, f.j, 'cd') % 4 = 0 THEN _h(f.r, f.j, 'cd2') % 7200 ELSE 0 END,
    ci.tz,
    CASE
        WHEN f.ck = 1 THEN
            CASE WHEN _u(f.r, f.j, 'mm') < 0.7
                 THEN 'Merge pull request #' || (1 + _h(f.r, f.j, 'mn') % {items_per_repo}) || ' from '
                      || ai.login || '/' || _branch(f.r, f.j) || {nl2} || _subject(f.r, f.j)
                 ELSE 'Merge branch ''' || _branch(f.r, f.j) || ''' into main' END
        WHEN f.ck = 2 THEN
            'Revert "' || _subject(f.r, f.jt) || '"' || {nl2} || 'This reverts commit '
            || CASE WHEN _u(f.r, f.j, 'ab') < 0.1 THEN left(_sha(f.r, f.jt), 12) ELSE _sha(f.r, f.jt) END || '.'
        WHEN f.ap = {DEP} THEN
            _bump(f.r, f.j) || {nl2} || 'Bumps ' || {_choice(_PACKAGES, "f.r", "f.j", "pk")} || '.' || {nl2}
            || 'Signed-off-by: dependabot[bot] <support@github.com>'
        WHEN f.ap = {REN} THEN
            'chore(deps): update dependency ' || {_choice(_PACKAGES, "f.r", "f.j", "pk")} || ' to v' || _version(f.r, f.j, 'rv')
        WHEN f.ap = {ACT} THEN 'chore: update generated files [skip ci]'
        ELSE {normal_message}
    END,
    CASE WHEN f.ck = 1 THEN []
         ELSE list_transform(range(1 + CAST(floor(5 * pow(_u(f.r, f.j, 'nf'), 2)) AS INTEGER)), lambda k: _file(f.r, f.j, k))
    END,
    {RUN},
    {AS_OF_TS}
FROM f
JOIN _ids ai ON ai.p = f.ap AND ai.kind = f.aik
JOIN _ids ci ON ci.p = f.cp AND ci.kind = CASE WHEN f.cp = f.ap THEN f.aik ELSE 0 END;
"""

    git_links = f"""
-- What git check-mailmap answered for every identity seen (and every mapped identity, in every repository).
INSERT INTO raw_git__mailmap
SELECT s.repo, s.name, s.email, coalesce(i.mm_name, s.name), coalesce(i.mm_email, s.email), {RUN}
FROM (
    SELECT DISTINCT repo, author_name AS name, author_email AS email FROM raw_git__commits
    UNION SELECT DISTINCT repo, committer_name, committer_email FROM raw_git__commits
    UNION SELECT _repo(r), name, email FROM _ids, range({R}) t(r) WHERE mm_email IS NOT NULL
) s
LEFT JOIN _ids i ON i.name = s.name AND i.email = s.email;

-- GitHub's commit API, asked once per repository and author email (noreply addresses need no asking).
INSERT INTO raw_github__commit_authors
SELECT c.repo, c.author_email, min(c.sha), any_value(i.api_login),
       any_value(CASE WHEN i.api_login IS NOT NULL THEN i.user_id END), {AS_OF_TS}, {RUN}
FROM raw_git__commits c
JOIN _ids i ON i.name = c.author_name AND i.email = c.author_email
WHERE NOT c.author_email ILIKE '%@users.noreply.github.com'
GROUP BY c.repo, c.author_email;
"""

    milestones = f"""
CREATE TEMP TABLE _ms AS
WITH b AS (
    SELECT CAST(r AS INTEGER) AS r, CAST(m AS INTEGER) AS m,
           {START} + CAST((m - 0.5) * {SP2} / {M} AS BIGINT) AS nominal
    FROM range({R}) a(r), range(1, {M} + 1) b(m)
), c AS (
    -- GitHub stores a due date as midnight US-Pacific in UTC: 07:00Z or 08:00Z.
    SELECT *, CAST(epoch(timezone('America/Los_Angeles', CAST(CAST(_ts(nominal) AS DATE) AS TIMESTAMP))) AS BIGINT) AS pacific,
           _u(r, m, 'mnull') < 0.08 AS no_due
    FROM b
), d AS (
    SELECT r, m, CASE WHEN no_due THEN NULL ELSE pacific END AS due,
           nominal - 60 * {DAY} AS created,
           CASE WHEN nominal + 11 * {DAY} < {AS_OF} THEN nominal + (1 + _h(r, m, 'mc') % 10) * {DAY} END AS closed_at,
           pacific - (7 + _h(r, m, 'mv') % 21) * {DAY} AS old_due,
           greatest({START}, nominal - 60 * {DAY}) AS obs_start,
           NOT no_due AND _u(r, m, 'mv') < 0.15 AS move0
    FROM c
), e AS (
    -- Half the moves happen after the old due date had passed.
    SELECT *, CASE WHEN _u(r, m, 'ma') < 0.5 THEN old_due + (1 + _h(r, m, 'mt') % 5) * {DAY}
                   ELSE old_due - (2 + _h(r, m, 'mt') % 8) * {DAY} END AS t_move
    FROM d
)
SELECT r, m, due, created, closed_at, old_due, obs_start, t_move,
       move0 AND t_move > obs_start + {DAY} AND t_move < {AS_OF} AS moved
FROM e;

INSERT INTO raw_github__milestones
SELECT _repo(r), m,
       json_object('id', 9000000 + r * 1000 + m, 'number', m, 'title', _mtitle(m),
                   'state', CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END,
                   'due_on', _iso(due), 'created_at', _iso(created), 'closed_at', _iso(closed_at),
                   'html_url', _html(r) || '/milestone/' || m),
       {AS_OF_TS}, {RUN}, NULL
FROM _ms;

INSERT INTO raw_github__due_date_observations
SELECT _repo(r), m, _ts(due), _ts(obs_start), {AS_OF_TS}, {RUN}, {RUN} FROM _ms WHERE NOT moved
UNION ALL
SELECT _repo(r), m, _ts(old_due), _ts(obs_start), _ts(t_move - {DAY}), {RUN}, {RUN} FROM _ms WHERE moved
UNION ALL
SELECT _repo(r), m, _ts(due), _ts(t_move), {AS_OF_TS}, {RUN}, {RUN} FROM _ms WHERE moved;
"""

    items = f"""
CREATE TEMP TABLE _items AS
WITH b AS (
    SELECT g, CAST(g % {R} AS INTEGER) AS r, CAST(g // {R} + 1 AS INTEGER) AS number,
           ({N} - 1 - g % {R}) // {R} + 1 AS n_r, _is_pr(g % {R}, g // {R} + 1) AS is_pr
    FROM range({N}) t(g)
), c AS (
    SELECT *, {START} + CAST(floor((number - 1 + _u(r, number, 'ct')) * {SPAN} / n_r) AS BIGINT) AS created FROM b
), d AS (
    SELECT *, (created - {START}) / {SPAN} AS tf,
           CAST(floor((created - {START}) * {M} / {SP2} + 0.5) AS INTEGER) + 1 AS m0,
           _u(r, number, 'hm') < CASE WHEN is_pr THEN 0.25 ELSE 0.55 END AS has_ms
    FROM c
), e AS (
    SELECT *,
           CASE WHEN _u(r, number, 'gh') < 0.002 THEN NULL
                WHEN is_pr AND _u(r, number, 'bot') < 0.04 THEN {DEP}
                WHEN NOT is_pr AND _u(r, number, 'bot') < 0.004 THEN {ACT}
                ELSE _pick(r, number, 'au', tf) END AS author,
           _pick(r, number, 'mt', tf) AS maint,
           CASE WHEN has_ms THEN least({M}, m0 + CAST(_h(r, number, 'mo') % 3 AS INTEGER)) END AS m_cur
    FROM d
), f AS (
    SELECT e.*, e.m_cur - 1 >= e.m0 AND _u(e.r, e.number, 'mv') < 0.12 AS moved_req,
           mc.due AS due_cur, mo.due AS due_old
    FROM e
    LEFT JOIN _ms mc ON mc.r = e.r AND mc.m = e.m_cur
    LEFT JOIN _ms mo ON mo.r = e.r AND mo.m = e.m_cur - 1
), g2 AS (
    SELECT *, created + CAST((coalesce(due_old, created + 20 * {DAY}) - created) * (0.4 + _u(r, number, 'tm')) AS BIGINT) AS t_move
    FROM f
), h AS (
    -- Re-planned items moved from the previous milestone to m_cur (unless that is still to come).
    SELECT *, moved_req AND t_move < {AS_OF} AS moved,
           CASE WHEN moved_req AND t_move >= {AS_OF} THEN m_cur - 1 ELSE m_cur END AS ms_now,
           CASE WHEN moved_req THEN m_cur - 1 ELSE m_cur END AS ms_first,
           CASE WHEN moved_req AND t_move >= {AS_OF} THEN due_old ELSE due_cur END AS due_now
    FROM g2
), i AS (
    SELECT *,
           _u(r, number, 'ha1') < CASE WHEN is_pr THEN 0.45 ELSE 0.72 END AS has_a1,
           CASE WHEN is_pr AND author < {K} AND _u(r, number, 'sa') < 0.5 THEN author
                ELSE _pick(r, number, 'a1', tf) END AS a1,
           created + 60 + CAST({DAY} * _u(r, number, 'ta0') AS BIGINT) AS t_a0
    FROM h
), j AS (
    -- A former assignee, unassigned before or after the due date (handed off / dropped).
    SELECT *, has_a1 AND _u(r, number, 'ha0') < 0.09 AS has_a0, _other(a1, _pick(r, number, 'a0', tf)) AS a0,
           t_a0 + CASE WHEN due_now IS NOT NULL
                       THEN CAST(greatest(3600, (due_now - t_a0) * (0.2 + 1.3 * _u(r, number, 'tun'))) AS BIGINT)
                       ELSE {DAY} * (2 + _h(r, number, 'tun') % 30) END AS t_un
    FROM i
), k AS (
    SELECT *, has_a0 AND t_un < {AS_OF} - 3600 AS a0_ok FROM j
), l AS (
    SELECT *, CASE WHEN a0_ok THEN t_un + 300
                   ELSE created + 30 + CAST(3 * {DAY} * pow(_u(r, number, 'ta1'), 3) AS BIGINT) END AS t_a1
    FROM k
), m AS (
    SELECT *, has_a1 AND t_a1 < {AS_OF} AS a1_ok, _other(a1, _pick(r, number, 'a2', tf)) AS a2,
           created + 60 + CAST(5 * {DAY} * pow(_u(r, number, 'ta2'), 2) AS BIGINT) AS t_a2
    FROM l
), n AS (
    SELECT *, a1_ok AND _u(r, number, 'ha2') < 0.12 AND t_a2 < {AS_OF} AS a2_ok,
           _u(r, number, 'nv') < CASE WHEN is_pr THEN 0.06 ELSE 0.08 END AS never,
           greatest(created + CAST({DAY} * CASE WHEN is_pr THEN 0.02 + 20 * pow(_u(r, number, 'dur'), 2.5)
                                                ELSE 0.05 + 75 * pow(_u(r, number, 'dur'), 2.5) END AS BIGINT),
                    CASE WHEN a1_ok THEN t_a1 + 600 ELSE 0 END) AS t_close
    FROM m
), o AS (
    SELECT *, NOT never AND t_close < {AS_OF} AS closed,
           created + (t_close - created) // 2 AS t_c1, created + (t_close - created) * 7 // 10 AS t_re
    FROM n
), p AS (
    SELECT *, _u(r, number, 'ro') < 0.05 AND t_re < {AS_OF} AS reopened,
           is_pr AND closed AND _u(r, number, 'mg') < 0.8 AS merged,
           is_pr AND _u(r, number, 'dr') < 0.12 AS draft0,
           created + (least(t_close, {AS_OF}) - created) * 3 // 10 AS t_ready,
           CASE WHEN closed THEN t_close ELSE {AS_OF} END AS t_end
    FROM o
), q AS (
    SELECT *,
           CASE WHEN merged THEN CASE WHEN author < {K} AND _u(r, number, 'mby') < 0.3 THEN author
                                      ELSE _other(author, maint) END
                WHEN a1_ok AND _u(r, number, 'cby') < 0.7 THEN a1
                WHEN author < {K} THEN author
                ELSE maint END AS closer,
           CASE WHEN is_pr THEN NULL
                WHEN closed THEN CASE WHEN _u(r, number, 'sr') < 0.15 THEN 'not_planned'
                                      WHEN _u(r, number, 'sr') < 0.17 THEN 'duplicate' ELSE 'completed' END
                WHEN reopened THEN 'reopened' END AS state_reason,
           draft0 AND (NOT merged AND _u(r, number, 'dn') < 0.5 OR t_ready >= {AS_OF}) AS draft_now,
           CAST(floor(4 * pow(_u(r, number, 'noc'), 2)) AS INTEGER) AS n_comments,
           greatest(t_a1 + 60, due_now + CAST({DAY} * (-4 + 6 * _u(r, number, 'tw')) AS BIGINT)) AS t_warn,
           CASE WHEN NOT is_pr THEN 0 WHEN _u(r, number, 'nrq') < 0.25 THEN 0 WHEN _u(r, number, 'nrq') < 0.65 THEN 1
                WHEN _u(r, number, 'nrq') < 0.9 THEN 2 ELSE 3 END AS n_requests,
           is_pr AND _u(r, number, 'team') < 0.05 AS team_request,
           is_pr AND _u(r, number, 'xr') < 0.5 AS extra_review,
           CASE WHEN _u(r, number, 'hd') < 0.75 THEN 0 WHEN _u(r, number, 'hd') < 0.97 THEN 1 ELSE 2 END AS head_kind,
           _u(r, number, 'bk') AS body_kind,
           number - 1 - CAST(_h(r, number, 'fx') % 40 AS INTEGER) AS fix0
    FROM p
)
SELECT *,
       a1_ok AND due_now IS NOT NULL AND _u(r, number, 'wn') < 0.3 AND t_warn < t_end AS warned,
       CASE WHEN fix0 < 1 THEN NULL WHEN NOT _is_pr(r, fix0) THEN fix0
            WHEN fix0 > 1 AND NOT _is_pr(r, fix0 - 1) THEN fix0 - 1 ELSE fix0 END AS fix_number,
       is_pr AND body_kind >= 0.35 AND _u(r, number, 'hf') < 0.5 AND fix0 >= 1 AS has_fix,
       CASE WHEN author = {DEP} THEN _bump(r, -number)
            WHEN is_pr THEN _subject(r, -number)
            ELSE ({_list(["", "Bug: ", "Feature request: ", "Docs: ", ""])})[1 + _h(r, number, 'ip') % 5]
                 || _subject(r, -number) END AS title,
       CASE WHEN author = {DEP} THEN 'dependencies' WHEN is_pr THEN NULL
            WHEN _u(r, number, 'lb') < 0.35 THEN 'bug' WHEN _u(r, number, 'lb') < 0.6 THEN 'enhancement'
            WHEN _u(r, number, 'lb') < 0.7 THEN 'documentation' END AS label
FROM q;
"""

    reviews = f"""
-- Review requests: up to three people per PR (answered, removed or left unanswered) and some teams.
CREATE TEMP TABLE _rq AS
WITH b AS (
    SELECT i.g, i.r, i.number, i.tf, i.closed, i.t_close, i.draft0, i.draft_now, i.t_ready,
           coalesce(i.author, i.maint) AS requester, CAST(k.k AS INTEGER) AS k,
           CASE WHEN k.k < 3 THEN _other(i.author, _pick(i.r, i.number * 4 + k.k, 'rq', i.tf)) END AS reviewer,
           i.created + CAST(3600 * (0.05 + 48 * pow(_u(i.r, i.number * 4 + k.k, 'trq'), 2)) AS BIGINT) + 60 * k.k AS t_req0,
           _u(i.r, i.number * 4 + k.k, 'out') AS u_out
    FROM _items i JOIN range(4) k(k) ON k.k < i.n_requests OR (k.k = 3 AND i.team_request)
), c AS (
    SELECT *, CASE WHEN draft0 AND NOT draft_now THEN greatest(t_req0, t_ready + 60) ELSE t_req0 END AS t_req FROM b
), d AS (
    SELECT *,
           t_req + CAST(3600 * (0.1 + 96 * pow(_u(r, number * 4 + k, 'tan'), 3)) AS BIGINT) AS t_ans0,
           t_req + CAST(3600 * (1 + 48 * _u(r, number * 4 + k, 'trm')) AS BIGINT) AS t_rm
    FROM c WHERE t_req < {AS_OF} AND (NOT closed OR t_req < t_close)
), e AS (
    -- Most answers come before the merge; some after it.
    SELECT *, CASE WHEN closed AND t_ans0 > t_close AND _u(r, number * 4 + k, 'late') < 0.85
                   THEN t_req + (t_close - t_req) * 9 // 10 ELSE t_ans0 END AS t_ans
    FROM d
)
SELECT g, r, number, k, reviewer, requester, t_req, t_ans, t_rm,
       reviewer IS NOT NULL AND u_out < 0.65 AND t_ans < {AS_OF} AS answered,
       reviewer IS NOT NULL AND u_out >= 0.65 AND u_out < 0.77 AND t_rm < {AS_OF} AS removed,
       {_choice(_TEAMS, "r", "number", "tm")} AS team
FROM e;

CREATE TEMP TABLE _rv AS
WITH b AS (
    SELECT q.g, q.r, q.number, q.k AS slot, q.reviewer, q.t_ans AS t, i.author, false AS own
    FROM _rq q JOIN _items i ON i.r = q.r AND i.number = q.number
    WHERE q.answered
    UNION ALL
    SELECT g, r, number, 3, CASE WHEN author < {K} AND _u(r, number, 'own') < 0.4 THEN author
                                 ELSE _other(author, _pick(r, number, 'xrv', tf)) END,
           created + CAST((t_end - created) * _u(r, number, 'txr') AS BIGINT), author,
           author < {K} AND _u(r, number, 'own') < 0.4
    FROM _items
    WHERE extra_review AND created + CAST((t_end - created) * _u(r, number, 'txr') AS BIGINT) < {AS_OF}
)
SELECT *, 3000000000 + g * 4 + slot AS review_id,
       CASE WHEN own THEN 'COMMENTED'
            WHEN _u(r, number * 4 + slot, 'st') < 0.55 THEN 'APPROVED'
            WHEN _u(r, number * 4 + slot, 'st') < 0.8 THEN 'COMMENTED'
            WHEN _u(r, number * 4 + slot, 'st') < 0.95 THEN 'CHANGES_REQUESTED'
            ELSE 'DISMISSED' END AS state
FROM b;

-- Comments on diffs: one per commenting review, answered by the PR author 70% of the time.
CREATE TEMP TABLE _rc AS
SELECT r, number, review_id * 2 AS id, review_id, NULL::BIGINT AS reply_to, reviewer AS who, t, slot
FROM _rv WHERE state IN ('COMMENTED', 'CHANGES_REQUESTED') AND NOT own
UNION ALL
SELECT r, number, review_id * 2 + 1, NULL, review_id * 2, author,
       t + CAST(3600 * (0.1 + 72 * pow(_u(r, review_id, 'trp'), 2)) AS BIGINT), slot
FROM _rv
WHERE state IN ('COMMENTED', 'CHANGES_REQUESTED') AND NOT own AND author < {K} AND _u(r, review_id, 'hrp') < 0.7
  AND t + CAST(3600 * (0.1 + 72 * pow(_u(r, review_id, 'trp'), 2)) AS BIGINT) < {AS_OF};
"""

    events = f"""
-- Timeline events, narrow (people as numbers); payloads are built when they are inserted.
CREATE TEMP TABLE _ev AS
SELECT r, number, created + 120 AS t, 1 AS ord, 'milestoned' AS kind, maint AS actor, NULL::INTEGER AS target,
       ms_first AS ms, NULL::BIGINT AS aux, NULL::VARCHAR AS st
FROM _items WHERE ms_first IS NOT NULL AND created + 120 < {AS_OF}
UNION ALL SELECT r, number, t_move, 2, 'demilestoned', maint, NULL, ms_first, NULL, NULL FROM _items WHERE moved
UNION ALL SELECT r, number, t_move, 3, 'milestoned', maint, NULL, ms_now, NULL, NULL FROM _items WHERE moved
UNION ALL SELECT r, number, t_a0, 4, 'assigned', maint, a0, NULL, NULL, NULL FROM _items WHERE a0_ok
UNION ALL SELECT r, number, t_un, 5, 'unassigned', maint, a0, NULL, NULL, NULL FROM _items WHERE a0_ok
UNION ALL SELECT r, number, t_a1, 6, 'assigned', CASE WHEN _u(r, number, 'sf') < 0.5 THEN a1 ELSE maint END, a1, NULL, NULL, NULL
          FROM _items WHERE a1_ok
UNION ALL SELECT r, number, t_a2, 7, 'assigned', maint, a2, NULL, NULL, NULL FROM _items WHERE a2_ok
UNION ALL SELECT i.r, i.number, i.created + CAST((i.t_end - i.created) * _u(i.r, i.number * 4 + k.k, 'tc') AS BIGINT), 8, 'commented',
          CASE WHEN i.author < {K} AND _u(i.r, i.number * 4 + k.k, 'cau') < 0.4 THEN i.author
               ELSE _pick(i.r, i.number * 4 + k.k, 'cm', i.tf) END,
          NULL, NULL, 7000000000 + i.g * 8 + k.k, 'other'
          FROM _items i JOIN range(3) k(k) ON k.k < i.n_comments
UNION ALL SELECT r, number, t_warn, 8, 'commented', a1, NULL, NULL, 7000000000 + g * 8 + 4, 'warning' FROM _items WHERE warned
UNION ALL SELECT r, number, created + 300, 8, 'commented', {ACT}, NULL, NULL, 7000000000 + g * 8 + 5, 'bot'
          FROM _items WHERE is_pr AND _u(r, number, 'bc') < 0.15 AND created + 300 < {AS_OF}
UNION ALL SELECT r, number, t_ready, 9, 'ready_for_review', coalesce(author, maint), NULL, NULL, NULL, NULL
          FROM _items WHERE draft0 AND NOT draft_now
UNION ALL SELECT r, number, t_req, 10, 'review_requested', requester, reviewer, NULL, NULL,
                 CASE WHEN reviewer IS NULL THEN team END FROM _rq
UNION ALL SELECT r, number, t_rm, 11, 'review_request_removed', requester, reviewer, NULL, NULL, NULL FROM _rq WHERE removed
UNION ALL SELECT r, number, t, 12, 'reviewed', reviewer, NULL, NULL, review_id, state FROM _rv
UNION ALL SELECT r, number, t_c1, 13, 'closed', closer, NULL, NULL, NULL, CASE WHEN NOT is_pr THEN 'completed' END
          FROM _items WHERE reopened
UNION ALL SELECT r, number, t_re, 14, 'reopened', coalesce(author, maint), NULL, NULL, NULL, NULL FROM _items WHERE reopened
UNION ALL SELECT r, number, t_close, 15, 'merged', closer, NULL, NULL, NULL, NULL FROM _items WHERE merged
UNION ALL SELECT r, number, t_close, 16, 'closed', closer, NULL, NULL, NULL, state_reason FROM _items WHERE closed
UNION ALL SELECT r, fix_number, created + 5, 0, 'cross-referenced', coalesce(author, maint), NULL, NULL, number, NULL
          FROM _items WHERE has_fix AND created + 5 < {AS_OF};

CREATE TEMP TABLE _activity AS
SELECT r, number, max(t) AS last_t, count(*) FILTER (WHERE kind = 'commented') AS n_comments FROM _ev GROUP BY ALL;
"""

    user = "CASE WHEN {a}.login IS NOT NULL THEN json_object('login', {a}.login, 'id', {a}.user_id, 'type', {a}.type) END"
    pr_body = f"""CASE WHEN i.body_kind < 0.08 THEN NULL
             WHEN i.body_kind < 0.2 THEN ''
             WHEN i.body_kind < 0.35 THEN ({_list(["Fixes typo.", "See title.", "WIP", "Small cleanup."])})[1 + _h(i.r, i.number, 'sb') % 4]
             ELSE 'This change: ' || lower(i.title) || '.' || {nl2}
                  || repeat('It explains the motivation, the approach taken and how it was tested. ', 1 + CAST(_h(i.r, i.number, 'bl') % 8 AS INTEGER))
                  || CASE WHEN i.has_fix THEN {nl2} || 'Fixes #' || i.fix_number ELSE '' END END"""
    issue_body = f"""CASE WHEN i.body_kind < 0.1 THEN NULL
             ELSE 'Steps to reproduce: ' || lower(i.title) || '.' || {nl2} || {_choice(_SENTENCES, "i.r", "i.number", "ib")} END"""
    github_items = f"""
INSERT INTO raw_github__issues
SELECT _repo(x.r), x.number, x.is_pr, _ts(x.updated),
       CASE WHEN x.is_pr
            THEN json_merge_patch(x.obj, json_object('pull_request', json_object(
                     'url', 'https://api.github.com/repos/' || _repo(x.r) || '/pulls/' || x.number,
                     'merged_at', x.merged_at)))
            ELSE x.obj END,
       '/repos/' || _repo(x.r) || '/issues', {AS_OF_TS}, {RUN}, NULL
FROM (
    SELECT i.r, i.number, i.is_pr, greatest(i.created, a.last_t) AS updated,
           CASE WHEN i.merged THEN _iso(i.t_close) END AS merged_at,
           json_object(
               'id', 500000000 + i.g, 'number', i.number, 'title', i.title,
               'user', {user.format(a="au")},
               'labels', list_filter([CASE WHEN i.label IS NOT NULL THEN json_object('name', i.label) END], lambda v: v IS NOT NULL),
               'state', CASE WHEN i.closed THEN 'closed' ELSE 'open' END,
               'assignees', list_filter([_login(x1.login), _login(x2.login)], lambda v: v IS NOT NULL),
               'milestone', CASE WHEN i.ms_now IS NOT NULL
                                 THEN json_object('number', i.ms_now, 'title', _mtitle(i.ms_now), 'due_on', _iso(ms.due)) END,
               'comments', coalesce(a.n_comments, 0),
               'created_at', _iso(i.created),
               'updated_at', _iso(greatest(i.created, a.last_t)),
               'closed_at', CASE WHEN i.closed THEN _iso(i.t_close) END,
               'state_reason', i.state_reason,
               'body', CASE WHEN i.is_pr THEN {pr_body} ELSE {issue_body} END,
               'html_url', _html(i.r) || CASE WHEN i.is_pr THEN '/pull/' ELSE '/issues/' END || i.number) AS obj
    FROM _items i
    LEFT JOIN _accounts au ON au.p = i.author
    LEFT JOIN _accounts x1 ON x1.p = CASE WHEN i.a1_ok THEN i.a1 END
    LEFT JOIN _accounts x2 ON x2.p = CASE WHEN i.a2_ok THEN i.a2 END
    LEFT JOIN _ms ms ON ms.r = i.r AND ms.m = i.ms_now
    LEFT JOIN _activity a ON a.r = i.r AND a.number = i.number
) x;

INSERT INTO raw_github__pull_requests
SELECT _repo(i.r), i.number, _ts(greatest(i.created, a.last_t)),
       json_object(
           'id', 800000000 + i.g, 'number', i.number, 'title', i.title,
           'user', {user.format(a="au")},
           'state', CASE WHEN i.closed THEN 'closed' ELSE 'open' END,
           'draft', i.draft_now,
           'body', {pr_body},
           'created_at', _iso(i.created),
           'updated_at', _iso(greatest(i.created, a.last_t)),
           'closed_at', CASE WHEN i.closed THEN _iso(i.t_close) END,
           'merged_at', CASE WHEN i.merged THEN _iso(i.t_close) END,
           'merge_commit_sha', CASE WHEN i.merged THEN _sha(i.r, _jat(i.r, i.t_close)) END,
           'head', json_object(
               'ref', _branch(i.r, i.number), 'sha', sha1('head/' || i.g),
               'repo', CASE i.head_kind WHEN 0 THEN json_object('full_name', _repo(i.r))
                            WHEN 1 THEN json_object('full_name', coalesce(au.login, 'ghost') || '/' || split_part(_repo(i.r), '/', 2)) END),
           'base', json_object('ref', 'main', 'repo', json_object('full_name', _repo(i.r))),
           'requested_reviewers', coalesce(pending.logins, CAST([] AS JSON[])),
           'html_url', _html(i.r) || '/pull/' || i.number),
       '/repos/' || _repo(i.r) || '/pulls', {AS_OF_TS}, {RUN}
FROM _items i
LEFT JOIN _accounts au ON au.p = i.author
LEFT JOIN _activity a ON a.r = i.r AND a.number = i.number
LEFT JOIN (
    SELECT q.r, q.number, list(json_object('login', ac.login) ORDER BY q.k) AS logins
    FROM _rq q JOIN _accounts ac ON ac.p = q.reviewer
    WHERE NOT q.answered AND NOT q.removed
    GROUP BY ALL
) pending ON pending.r = i.r AND pending.number = i.number AND NOT i.closed
WHERE i.is_pr;

INSERT INTO raw_github__reviews
SELECT _repo(v.r), v.number, v.review_id,
       json_object('id', v.review_id, 'user', {user.format(a="ac")}, 'state', v.state,
                   'submitted_at', _iso(v.t),
                   'body', CASE v.state WHEN 'APPROVED' THEN ({_list(["LGTM", "", "Looks good, thanks!"])})[1 + _h(v.r, v.review_id, 'rb') % 3]
                                        WHEN 'CHANGES_REQUESTED' THEN 'Please add a test for the error path.'
                                        ELSE 'A few questions inline.' END,
                   'commit_id', _sha(v.r, _jat(v.r, v.t)),
                   'html_url', _html(v.r) || '/pull/' || v.number || '#pullrequestreview-' || v.review_id),
       {AS_OF_TS}, {RUN}
FROM _rv v JOIN _accounts ac ON ac.p = v.reviewer;

INSERT INTO raw_github__review_comments
SELECT _repo(c.r), c.id, _ts(c.t),
       json_object('id', c.id, 'pull_request_review_id', c.review_id, 'in_reply_to_id', c.reply_to,
                   'user', {user.format(a="ac")},
                   'created_at', _iso(c.t), 'updated_at', _iso(c.t),
                   'path', _path(_h(c.r, c.id // 2, 'rcp') % 400),
                   'body', CASE WHEN c.reply_to IS NULL THEN 'Could this be simpler? What happens on timeout?'
                                ELSE 'Good point, fixed in the next commit.' END,
                   'pull_request_url', 'https://api.github.com/repos/' || _repo(c.r) || '/pulls/' || c.number,
                   'html_url', _html(c.r) || '/pull/' || c.number || '#discussion_r' || c.id),
       {AS_OF_TS}, {RUN}
FROM _rc c JOIN _accounts ac ON ac.p = c.who;

INSERT INTO raw_github__timeline_events
SELECT _repo(e.r), e.number, e.event_index, e.kind,
       CASE e.kind
           WHEN 'commented' THEN json_object(
               'id', e.aux, 'event', e.kind, 'actor', _login(a.login), 'user', _login(a.login),
               'created_at', _iso(e.t), 'updated_at', _iso(e.t),
               'body', CASE e.st WHEN 'warning' THEN {_choice(_WARNINGS, "e.r", "e.aux", "wb")}
                                 WHEN 'bot' THEN 'CI: all checks passed.'
                                 ELSE {_choice(_COMMENTS, "e.r", "e.aux", "cb")} END,
               'html_url', _html(e.r) || '/issues/' || e.number || '#issuecomment-' || e.aux)
           WHEN 'reviewed' THEN json_object(
               'id', e.aux, 'event', e.kind, 'user', _login(a.login), 'state', lower(e.st),
               'submitted_at', _iso(e.t), 'commit_id', _sha(e.r, _jat(e.r, e.t)),
               'html_url', _html(e.r) || '/pull/' || e.number || '#pullrequestreview-' || e.aux)
           WHEN 'cross-referenced' THEN json_object(
               'event', e.kind, 'actor', _login(a.login), 'created_at', _iso(e.t), 'updated_at', _iso(e.t),
               'source', json_object('type', 'issue', 'issue', json_object(
                   'number', e.aux, 'html_url', _html(e.r) || '/pull/' || e.aux,
                   'repository', json_object('full_name', _repo(e.r)))))
           WHEN 'assigned' THEN json_object('id', e.id, 'event', e.kind, 'actor', _login(a.login),
               'created_at', _iso(e.t), 'assignee', _login(tg.login))
           WHEN 'unassigned' THEN json_object('id', e.id, 'event', e.kind, 'actor', _login(a.login),
               'created_at', _iso(e.t), 'assignee', _login(tg.login))
           WHEN 'milestoned' THEN json_object('id', e.id, 'event', e.kind, 'actor', _login(a.login),
               'created_at', _iso(e.t), 'milestone', json_object('title', _mtitle(e.ms)))
           WHEN 'demilestoned' THEN json_object('id', e.id, 'event', e.kind, 'actor', _login(a.login),
               'created_at', _iso(e.t), 'milestone', json_object('title', _mtitle(e.ms)))
           WHEN 'review_requested' THEN json_object('id', e.id, 'event', e.kind, 'actor', _login(a.login),
               'created_at', _iso(e.t), 'requested_reviewer', _login(tg.login),
               'requested_team', CASE WHEN e.st IS NOT NULL THEN json_object('slug', e.st) END)
           WHEN 'review_request_removed' THEN json_object('id', e.id, 'event', e.kind, 'actor', _login(a.login),
               'created_at', _iso(e.t), 'requested_reviewer', _login(tg.login))
           WHEN 'closed' THEN json_object('id', e.id, 'event', e.kind, 'actor', _login(a.login),
               'created_at', _iso(e.t), 'state_reason', e.st, 'commit_id', NULL)
           WHEN 'merged' THEN json_object('id', e.id, 'event', e.kind, 'actor', _login(a.login),
               'created_at', _iso(e.t), 'commit_id', _sha(e.r, _jat(e.r, e.t)))
           ELSE json_object('id', e.id, 'event', e.kind, 'actor', _login(a.login), 'created_at', _iso(e.t))
       END,
       {AS_OF_TS}, {RUN}
FROM (
    SELECT *, CAST(row_number() OVER (PARTITION BY r, number ORDER BY t, ord, aux, target) - 1 AS INTEGER) AS event_index,
           20000000000 + _h(r, number * 64 + ord, t) % 10000000000 AS id
    FROM _ev
) e
LEFT JOIN _accounts a ON a.p = e.actor
LEFT JOIN _accounts tg ON tg.p = e.target;
"""

    repositories = f"""
INSERT INTO pipeline_runs (run_id, command, started_at, finished_at, status, perftrust_version, count_steps, count_failed_steps, count_rows_added, error_message) VALUES ({RUN}, 'synthetic', {AS_OF_TS}, {AS_OF_TS}, 'succeeded', {_lit(__version__)}, 0, 0, 0, NULL);
INSERT INTO dim_repositories
SELECT _repo(r), 'git', '/synthetic/' || _repo(r), 'https://github.com/' || _repo(r) || '.git', 'default', false, false,
       {AS_OF_TS}, {AS_OF_TS}, {RUN}
FROM range({R}) t(r);
INSERT INTO raw_github__repositories
SELECT _repo(r), _repo(r),
       json_object('id', 700000000 + r, 'full_name', _repo(r), 'default_branch', 'main', 'html_url', _html(r)),
       '/repos/' || _repo(r), {AS_OF_TS}, {RUN}
FROM range({R}) t(r);
"""
    return [
        macros,
        repositories,
        people,
        commits_sql,
        git_links,
        milestones,
        items,
        reviews,
        events,
        github_items,
    ]


def build_synthetic_db(
    path: Path,
    *,
    commits: int = 1_000_000,
    issues: int = 200_000,
    prs: int = 50_000,
    contributors: int = 5_000,
    repos: int = 20,
    seed: int = 1,
    as_of: datetime = datetime(2026, 6, 30),
    overwrite: bool = False,
    memory_limit: str = "256MB",
) -> dict[str, int]:
    """Write a synthetic perftrust database at `path`; returns the row count of every table written.

    `as_of` (naive = UTC) is the moment of the synthetic sync: all activity lies in the two years
    before it, except the due dates of the last milestones. The file must not exist unless
    `overwrite`. `memory_limit` caps DuckDB's memory while building (it spills to disk beyond it);
    the full default size runs in about 400 MB of resident memory with the default cap.
    """
    if (
        repos < 1
        or contributors < 2 * repos
        or commits < repos
        or issues + prs < repos
        or prs < 0
        or issues < 0
    ):
        raise ValueError("need repos >= 1, contributors >= 2 * repos, commits >= repos and items >= repos")
    path = Path(path)
    if path.exists() or Path(f"{path}.wal").exists():
        if not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
    con = connect(path)
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET memory_limit = {_lit(memory_limit)}")
        run_id = f"synthetic-{seed}"
        with transaction(con):
            for sql in _statements(
                commits=commits,
                issues=issues,
                prs=prs,
                contributors=contributors,
                repos=repos,
                seed=seed,
                as_of=as_of,
                run_id=run_id,
            ):
                con.execute(sql)
        rebuild_identities(con, Settings())
        counts = {
            table: int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]) for table in TABLES
        }
        con.execute(
            "UPDATE pipeline_runs SET count_rows_added = ? WHERE run_id = ?",
            [sum(n for t, n in counts.items() if t.startswith("raw_")), run_id],
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--commits", type=int, default=1_000_000)
    parser.add_argument("--issues", type=int, default=200_000)
    parser.add_argument("--prs", type=int, default=50_000)
    parser.add_argument("--contributors", type=int, default=5_000)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--overwrite", action="store_true", help="replace PATH if it exists")
    parser.add_argument("--memory-limit", default="256MB", help="DuckDB memory_limit while building")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = build_synthetic_db(
        args.path,
        commits=args.commits,
        issues=args.issues,
        prs=args.prs,
        contributors=args.contributors,
        repos=args.repos,
        seed=args.seed,
        as_of=datetime.combine(args.as_of, datetime.min.time()),
        overwrite=args.overwrite,
        memory_limit=args.memory_limit,
    )
    seconds = time.perf_counter() - started
    width = max(map(len, counts))
    for table, count in counts.items():
        print(f"{table:<{width}}  {count:>10,}")
    print(f"{'seconds':<{width}}  {seconds:>10.1f}")


if __name__ == "__main__":
    main()
