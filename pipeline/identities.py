"""Resolve identities (git name/email pairs from authors, committers and trailers) into contributors.

Links, all deterministic so dim_* can be rebuilt from raw at any time:
- .mailmap: an identity and its mapped identity are one person (per repository's .mailmap);
- email: the same address in any letter case is one person;
- noreply: `ID+login@users.noreply.github.com` and `login@users.noreply.github.com` are GitHub `login`;
- github_api: GitHub's commit API names the account behind a commit author email;
- alias: perftrust.toml [identities.aliases] joins listed emails and github:LOGINs under one name.
GitHub accounts seen in issues, pull requests and reviews are identities too (source github).
Names alone never link identities: two different people are often both called "John".
Nor do placeholder emails: converted svn/hg history writes `none@none` for everyone, servers write
`root@localhost`. An address that looks like a placeholder, or that at least SHARED_EMAIL_MIN_NAMES
different names use, links nothing: each (name, address) pair there stands alone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.config import Settings
from pipeline.db import registered, transaction
from pipeline.trailers import keep_trailers

if TYPE_CHECKING:
    import duckdb

SHARED_EMAIL_MIN_NAMES = 5
_PLACEHOLDER_EMAIL = re.compile(
    r"^(?:[^@]*|(?:none|unknown|nobody|noreply|no-reply|invalid|root|user|anonymous|\(none\))"
    r"@(?:none|unknown|localhost|localhost\.localdomain|localdomain|invalid|example\.com|\(none\)|[^.]*))$",
    re.IGNORECASE,
)
_NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[^@+]+)@users\.noreply\.github\.com$", re.IGNORECASE)


def is_placeholder_email(email: str) -> bool:
    return bool(_PLACEHOLDER_EMAIL.match(email.strip()))


def github_login_from_email(email: str | None) -> str | None:
    if not email:
        return None
    match = _NOREPLY.match(email.strip())
    return match.group("login").lower() if match else None


@dataclass
class _Identity:
    name: str
    email: str | None
    mapped: list[tuple[str, str]]  # (name, email) after each repository's .mailmap
    count_authored: int
    count_mentions: int
    source: str = "git"
    api_logins: list[str] = field(default_factory=list)  # GitHub's commit API: the account behind the email
    is_bot_type: bool = False  # GitHub says type Bot
    nodes: list[str] = field(default_factory=list)
    resolved_by: set[str] = field(default_factory=set)

    @property
    def mapped_names(self) -> list[str]:
        return sorted({n for n, _ in self.mapped})

    @property
    def mapped_emails(self) -> list[str]:
        return sorted({e for _, e in self.mapped})


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent.setdefault(x, x)
        if parent != x:
            root = self.find(parent)
            self.parent[x] = root
            return root
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller key wins so the result does not depend on input order.
            self.parent[max(ra, rb)] = min(ra, rb)


def _load(con: duckdb.DuckDBPyConnection) -> list[_Identity]:
    keep_trailers(con)
    rows = con.execute(
        """WITH seen AS (
               SELECT repo, author_name AS name, author_email AS email, 1 AS authored, 0 AS mention
               FROM raw_git__commits
               UNION ALL SELECT repo, committer_name, committer_email, 0, 0 FROM raw_git__commits
               UNION ALL SELECT repo, name, email, 0, 1 FROM stg_git__commit_trailers)
           SELECT s.name, s.email, sum(s.authored), sum(s.mention),
                  list(DISTINCT [m.mapped_name, m.mapped_email]) FILTER (WHERE m.mapped_email IS NOT NULL),
                  list(DISTINCT lower(a.login)) FILTER (WHERE a.login IS NOT NULL)
           FROM seen s
           LEFT JOIN raw_git__mailmap m ON m.repo = s.repo AND m.name = s.name AND m.email = s.email
           -- One row per address (an email has a row per repository it committed to).
           LEFT JOIN (SELECT DISTINCT lower(email) AS email, login FROM raw_github__commit_authors
                      WHERE login IS NOT NULL) a ON a.email = lower(s.email)
           WHERE s.name IS NOT NULL
           GROUP BY s.name, s.email
           ORDER BY s.name, s.email"""
    ).fetchall()
    identities = [
        _Identity(
            name,
            email,
            sorted((n, e) for n, e in mapped or []),
            int(a),
            int(m),
            api_logins=sorted(logins or []),
        )
        for name, email, a, m, mapped, logins in rows
    ]
    # GitHub accounts seen in issues, pull requests, reviews and timelines.
    logins = con.execute(
        """WITH seen AS (
               SELECT author_login AS login, author_type AS type FROM stg_github__issues
               UNION ALL SELECT unnest(assignee_logins), NULL FROM stg_github__issues
               UNION ALL SELECT author_login, author_type FROM stg_github__pull_requests
               UNION ALL SELECT reviewer_login, reviewer_type FROM stg_github__reviews
               UNION ALL SELECT author_login, NULL FROM stg_github__review_comments
               UNION ALL SELECT actor_login, NULL FROM stg_github__timeline_events
               UNION ALL SELECT assignee_login, NULL FROM stg_github__timeline_events
               UNION ALL SELECT requested_reviewer_login, NULL FROM stg_github__timeline_events)
           SELECT login, bool_or(coalesce(type = 'Bot', false)) FROM seen
           -- 'ghost' is GitHub's stand-in for deleted accounts (null elsewhere): nobody to resolve.
           WHERE login IS NOT NULL AND login <> 'ghost' GROUP BY login ORDER BY login"""
    ).fetchall()
    identities += [
        _Identity(login, None, [], 0, 0, source="github", is_bot_type=bool(b)) for login, b in logins
    ]
    return identities


def rebuild_identities(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[int, int]:
    """Rebuild dim_identities and dim_contributors from raw data. -> (identities, contributors)."""
    identities = _load(con)
    bot = settings.bot_regex()
    uf = _UnionFind()

    alias_of: dict[str, str] = {}
    for alias, alias_members in sorted(settings.aliases.items()):
        for member in alias_members:
            node = (
                f"github:{member[7:].lower()}"
                if member.lower().startswith("github:")
                else f"email:{member.lower()}"
            )
            alias_of[node] = alias
            uf.union(f"alias:{alias}", node)

    names_per_email: dict[str, set[str]] = defaultdict(set)
    for ident in identities:
        if ident.email:
            names_per_email[ident.email.lower()].add(ident.name.casefold())

    def email_node(email: str | None, name: str) -> str:
        if (
            not email
            or is_placeholder_email(email)
            or len(names_per_email[email.lower()]) >= SHARED_EMAIL_MIN_NAMES
        ):
            return f"name:{name.casefold()} <{(email or '').lower()}>"
        return f"email:{email.lower()}"

    email_users: dict[str, int] = defaultdict(int)
    for ident in identities:
        email_users[email_node(ident.email, ident.name)] += 1
    for ident in identities:
        if ident.source == "github":
            ident.nodes.append(f"github:{ident.name.lower()}")
            if ident.nodes[0] in alias_of:
                ident.resolved_by.add("alias")
            continue
        own = email_node(ident.email, ident.name)
        ident.nodes.append(own)
        for mapped_name, mapped_email in ident.mapped:
            node = email_node(mapped_email, mapped_name)
            if node != own:
                ident.resolved_by.add("mailmap")
                ident.nodes.append(node)
        if any(n != ident.name for n in ident.mapped_names):
            ident.resolved_by.add("mailmap")
        if own.startswith("email:") and email_users[own] > 1:
            ident.resolved_by.add("email")
        for address in [ident.email, *ident.mapped_emails]:
            login = github_login_from_email(address)
            if login:
                ident.nodes.append(f"github:{login}")
                ident.resolved_by.add("noreply")
        for login in ident.api_logins:
            ident.nodes.append(f"github:{login}")
            ident.resolved_by.add("github_api")
        if any(node in alias_of for node in ident.nodes):
            ident.resolved_by.add("alias")
    for ident in identities:
        for node in ident.nodes[1:]:
            uf.union(ident.nodes[0], node)

    components: dict[str, list[_Identity]] = defaultdict(list)
    for ident in identities:
        components[uf.find(ident.nodes[0])].append(ident)

    id_rows: dict[str, list[object]] = defaultdict(list)
    contributor_rows: dict[str, list[object]] = defaultdict(list)
    for members in components.values():
        nodes = {uf_node for m in members for uf_node in m.nodes}
        aliases = sorted({alias_of[n] for n in nodes if n in alias_of})
        logins = sorted(n[7:] for n in nodes if n.startswith("github:"))
        # Ids come from the component's own nodes, so two contributors can never share one.
        mapped_targets = sorted(
            {
                f"email:{e.lower()}"
                for m in members
                for e in m.mapped_emails
                if m.email is None or e.lower() != m.email.lower()
            }
            & nodes
        )
        email_nodes = sorted(n for n in nodes if n.startswith("email:"))
        name_nodes = sorted(n for n in nodes if n.startswith("name:"))
        all_emails = sorted(
            {
                e.lower()
                for m in members
                for e in [*m.mapped_emails, m.email or ""]
                if e and not is_placeholder_email(e)
            }
        )
        if aliases:
            contributor_id = f"alias:{aliases[0]}"
        elif logins:
            contributor_id = f"github:{logins[0]}"
        else:
            contributor_id = (mapped_targets or email_nodes or name_nodes)[0]

        # Display: the alias, else the mailmapped name on most commits (then most mentions, then alphabetical).
        weight: dict[str, tuple[int, int, int]] = defaultdict(lambda: (0, 0, 0))
        email_weight: dict[str, int] = defaultdict(int)
        for m in members:
            for name in m.mapped_names or [m.name]:
                a, b, c = weight[name]
                # A name from git beats a bare GitHub login when neither has commits.
                weight[name] = (a + m.count_authored, b + m.count_mentions, c + (m.source == "git"))
            for e in m.mapped_emails or ([m.email] if m.email else []):
                email_weight[e.lower()] += m.count_authored
        display = (
            aliases[0]
            if aliases
            else min(weight, key=lambda n: (-weight[n][0], -weight[n][1], -weight[n][2], n))
        )
        primary_email = min(email_weight, key=lambda e: (-email_weight[e], e)) if email_weight else None

        member_is_bot = [
            bool(
                m.is_bot_type
                or bot.search(m.name)
                or (m.email and bot.search(m.email))
                or any(bot.search(x) for x in m.mapped_names)
            )
            for m in members
        ]
        for m, is_bot in zip(members, member_is_bot, strict=True):
            github = m.source == "github"
            id_rows["identity_id"].append(f"github:{m.name}" if github else f"git:{m.name} <{m.email or ''}>")
            id_rows["source"].append(m.source)
            id_rows["name"].append(m.name)
            id_rows["email"].append(m.email)
            own_login = (
                m.name if github else github_login_from_email(m.email) or next(iter(m.api_logins), None)
            )
            id_rows["github_login"].append(own_login or (logins[0] if logins else None))
            id_rows["contributor_id"].append(contributor_id)
            id_rows["resolved_by"].append(sorted(m.resolved_by))
            id_rows["is_bot"].append(is_bot)
            id_rows["count_commits_authored"].append(m.count_authored)
            id_rows["count_trailer_mentions"].append(m.count_mentions)
        contributor_rows["contributor_id"].append(contributor_id)
        contributor_rows["display_name"].append(display)
        contributor_rows["primary_email"].append(primary_email)
        contributor_rows["github_login"].append(logins[0] if logins else None)
        contributor_rows["is_bot"].append(all(member_is_bot))
        contributor_rows["count_identities"].append(len(members))
        contributor_rows["names"].append(sorted({n for m in members for n in [m.name, *m.mapped_names]}))
        contributor_rows["emails"].append(all_emails)
        contributor_rows["count_commits_authored"].append(sum(m.count_authored for m in members))

    with transaction(con):
        con.execute("DELETE FROM dim_identities")
        con.execute("DELETE FROM dim_contributors")
        if identities:
            _insert(con, "dim_identities", id_rows)
            _insert(con, "dim_contributors", contributor_rows)
    return len(identities), len(components)


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list[object]]) -> None:
    import pyarrow as pa

    with registered(con, "perftrust_rows", pa.table(columns)):
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM perftrust_rows")
