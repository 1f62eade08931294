"""Deterministic synthetic git repositories for tests, written with ``git fast-import``.

``generate_repo(path, commits=N, seed=S)`` builds a repository whose history looks like a real
engineering team's (people with several identities, a ``.mailmap``, bots, unicode and Latin-1
names, feature branches merged with true merges, renames, binary files, trailers, reverts, odd
time zones) and returns a manifest of what every commit *must* look like to an ingester: shas,
parents, raw identities, dates, the exact ``git log --numstat -M`` per file, trailers and the
ground-truth person behind every identity.

Everything is derived from ``random.Random(seed)``; git runs with a scrubbed environment, so the
same arguments always give byte-identical objects and therefore identical shas.

The stream is written straight into ``git fast-import``'s stdin while it is generated, so memory
stays flat whatever the size.  With ``manifest=False`` only what is needed to produce the history
is kept (no per-commit records, no marks file).

Numstat exactness rests on one invariant: every line ever written into a text file is unique
(it carries a repository-wide serial number), and an edit only ever inserts *fresh* lines.  Then the
longest common subsequence of old and new file is exactly the set of untouched lines, so any
minimal diff (git's Myers diff is minimal for such small edit distances) reports exactly the lines
we inserted and deleted.  Renames keep at least ~80% of the content and unrelated files never
share lines, so ``-M`` pairs exactly the renames we made.

Command line::

    python -m tests.support.synthrepo PATH --commits N [--seed S] [--persons P] [--bare]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, TypeAlias

__all__ = [
    "TRAILER_KINDS",
    "ExpectedCommit",
    "ExpectedFile",
    "ExpectedTrailer",
    "SynthRepo",
    "generate_repo",
    "git_env",
    "main",
]

TRAILER_KINDS: Final[tuple[str, ...]] = (
    "Co-authored-by",
    "Signed-off-by",
    "Reviewed-by",
    "Acked-by",
    "Tested-by",
    "Reported-by",
    "Suggested-by",
    "Helped-by",
)

UNMERGED_BRANCH: Final = "feature/unmerged"
_FEATURE_REF: Final = b"refs/synth/feature"


# --------------------------------------------------------------------------------------------------
# Public manifest types
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedFile:
    """One ``git log --numstat -M`` row: ``path`` is the new path (the deleted path for deletions)."""

    path: str
    old_path: str | None  # set only for renames
    lines_added: int | None  # None = binary ("-" in numstat)
    lines_deleted: int | None


@dataclass(frozen=True)
class ExpectedTrailer:
    trailer: str  # canonical lower-case key, e.g. "co-authored-by"
    name: str
    email: str


@dataclass(frozen=True)
class ExpectedCommit:
    sha: str
    parents: tuple[str, ...]
    author_name: str  # raw, before mailmap; Latin-1 author bytes decoded as Latin-1
    author_email: str
    author_epoch: int
    author_tz: str  # e.g. "+0200"
    committer_name: str
    committer_email: str
    committer_epoch: int
    message: str
    files: tuple[ExpectedFile, ...]  # in git's output order; empty for merge commits
    trailers: tuple[ExpectedTrailer, ...]  # every trailer line of TRAILER_KINDS, in message order
    reverted_sha: str | None  # set when the message says "This reverts commit <sha>."
    person: str  # ground-truth person key of the author identity


@dataclass
class SynthRepo:
    path: Path
    head: str
    branch: str
    commits: list[ExpectedCommit]  # every commit reachable from `branch`, parents before children
    persons: dict[str, list[tuple[str, str]]]  # person key -> every (name, email) used for them
    mailmap: str  # text of the .mailmap committed in the root commit
    merges: int = 0  # merge commits on `branch`
    reverts: int = 0  # revert commits on `branch`
    unmerged: list[ExpectedCommit] = field(default_factory=list)  # the 2 commits of feature/unmerged
    seconds: float = 0.0  # wall time taken by generate_repo


# --------------------------------------------------------------------------------------------------
# Static vocabulary
# --------------------------------------------------------------------------------------------------

# fmt: off
_WORDS: Final[tuple[str, ...]] = (
    "cache", "buffer", "metric", "window", "batch", "retry", "budget", "exporter", "reader", "writer",
    "schema", "column", "index", "shard", "queue", "worker", "token", "session", "client", "server",
    "router", "handler", "parser", "encoder", "decoder", "stream", "chunk", "record", "ledger", "commit",
    "branch", "review", "author", "report", "signal", "trend", "median", "quantile", "bucket", "sample",
    "filter", "mapper", "reducer", "planner", "cursor", "snapshot", "journal", "config", "option", "flag",
    "limit", "timeout", "backoff", "deadline", "latency", "throughput", "counter", "gauge", "histogram",
    "tracker", "pipeline", "stage", "task", "runner", "scheduler", "trigger", "hook", "plugin", "adapter",
    "bridge", "gateway", "proxy", "mirror", "replica", "leader", "follower", "vector", "matrix", "tensor",
    "graph", "node", "edge", "path", "walker", "visitor", "builder", "factory", "registry", "catalog",
    "manifest", "bundle", "archive", "payload", "envelope", "header", "footer", "frame", "packet",
    "socket", "channel",
)
_UNICODE_WORDS: Final[tuple[str, ...]] = (
    "naïve", "café", "façade", "über", "coördinate", "résumé", "jalapeño", "日本語", "данные", "Ωmega",
)
_VERBS: Final[tuple[str, ...]] = (
    "Fix", "Add", "Refactor", "Update", "Remove", "Improve", "Handle", "Document", "Simplify", "Speed up",
    "Clean up", "Support", "Avoid", "Use", "Guard against", "Tidy", "Extract", "Inline", "Cache", "Validate",
)
_CC_TYPES: Final[tuple[str, ...]] = ("feat", "fix", "chore", "docs", "refactor", "perf", "test", "build", "ci")

# Templates for file lines: "@" is replaced by the unique serial; {a}{b}{c}{d} words, {A}{B}{C}
# capitalised words, {n} a number, {S} a short sentence.
_LINE_TEMPLATES: Final[dict[str, tuple[str, ...]]] = {
    "py": (
        "def {a}_{b}_@(self, {c}):",
        "    {a}_@ = self.{b}({c}, {n})",
        "    return {a}_{b}_@",
        "    # {A} the {b} {c} before {d} (@)",
        "    if {a}_@ > {n}:",
        "        {a}_@.append({b})",
        "from .{a} import {b}_@",
        "class {A}{B}@:",
        '        raise {A}Error("{b} {c} @")',
        "    {a}_@: int = {n}",
    ),
    "js": (
        "  const {a}@ = {b}.{c}({n});",
        "export function {a}{B}@({c}) {",
        "  // {A} {b} {c} @",
        "  return {a}_@;",
        "}; // {a}@",
        "  if ({a}@ > {n}) {b}();",
        "import { {a}@ } from './{b}';",
    ),
    "go": (
        "\t{a}@ := {b}.{C}({n})",
        "func {A}{B}@({c} int) error {",
        "\t// {A} {b} {c} @",
        "\treturn {a}@, nil",
        "} // {a}@",
        "\tif {a}@ > {n} {",
        "type {A}{B}@ struct{}",
    ),
    "rs": (
        "    let {a}_@ = {b}::{c}({n});",
        "pub fn {a}_{b}_@(&self) -> Result<()> {",
        "    // {A} {b} {c} @",
        "    Ok({a}_@)",
        "} // {a}_@",
        "use crate::{a}::{b}_@;",
        "    {a}_@.{b}()?;",
    ),
    "md": ("{S} (@).", "- {a} {b} `@`", "## {A} {b} @", "{S}, see `{a}_@`.", "1. {A} {b} {c} @", "> {S} @"),
    "txt": ("{S} @", "{A} {b} {c} @", "  * {a} {b} @"),
    "yaml": ("{a}_@: {b}", "  - {a}-{b}-@", "# {A} {b} @", "  {a}_@: {n}"),
    "toml": ('{a}_@ = "{b}"', "[{a}.{b}_@]", "# {a} {b} @", "{a}_@ = {n}"),
    "json": ('  "{a}_@": "{b} {c}",', '  "{a}_@": {n},'),
    "sh": ('{a}_@="${b}"', 'echo "{a} {b} @"', "# {A} {b} @", "{a}_@ || exit {n}"),
    "html": ('<div class="{a}-@">{S}</div>', '  <p id="{a}@">{S}</p>', "<!-- {a} {b} @ -->"),
}
_EXT_FAMILY: Final[dict[str, str]] = {
    "py": "py", "js": "js", "go": "go", "rs": "rs", "md": "md", "rst": "txt", "txt": "txt",
    "yaml": "yaml", "toml": "toml", "json": "json", "sh": "sh", "html": "html",
}
# (directory, extensions).  Directory names never contain "." and file names always do, so a file
# can never collide with a directory.
_TEXT_DIRS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("", ("md", "txt")),
    ("src/perftrust", ("py",)),
    ("src/perftrust/core", ("py",)),
    ("src/perftrust/core/metrics", ("py",)),
    ("src/perftrust/io", ("py",)),
    ("src/perftrust/io/readers", ("py",)),
    ("src/perftrust/io/writers", ("py",)),
    ("src/perftrust/api/v1", ("py",)),
    ("src/perftrust/utils", ("py",)),
    ("src/perftrust/ünïcode", ("py", "txt")),
    ("src/web/static/js", ("js",)),
    ("src/web/templates", ("html",)),
    ("src/web/i18n/日本語", ("json", "txt")),
    ("cmd/server", ("go",)),
    ("internal/store", ("go",)),
    ("pkg/résumé", ("go",)),
    ("crates/engine/src", ("rs",)),
    ("tests/unit", ("py",)),
    ("tests/integration", ("py",)),
    ("tests/fixtures/sample data", ("json", "yaml", "txt")),
    ("docs", ("md", "rst")),
    ("docs/user guide", ("md",)),
    ("docs/Über uns", ("md",)),
    ("docs/design notes/2021", ("md", "txt")),
    ("docs/api", ("rst", "md")),
    ("scripts", ("sh", "py")),
    ("tools/release notes", ("md", "txt")),
    ("config", ("yaml", "toml", "json")),
    ("deploy/k8s", ("yaml",)),
    ("vendor/third party/lib", ("js", "txt")),
)
_TEXT_DIR_EXTS: Final[dict[str, tuple[str, ...]]] = dict(_TEXT_DIRS)
_BIN_DIRS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("assets/images", ("png", "ico")),
    ("assets/fonts", ("woff2", "ttf")),
    ("data/fixtures", ("bin", "parquet")),
)
_BIN_MAGIC: Final[dict[str, bytes]] = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "ico": b"\x00\x00\x01\x00\x01\x00",
    "woff2": b"wOF2\x00\x01\x00\x00",
    "ttf": b"\x00\x01\x00\x00\x00\x0c",
    "bin": b"\x00\x00\x00\x00SYNT",
    "parquet": b"PAR1\x15\x00\x15\x00",
}
_UNICODE_STEMS: Final[tuple[str, ...]] = (
    "résumé", "naïve bayes", "数据", "Ünïcode notes", "café", "façade", "zürich", "δelta", "日本",
)
_MIN_LINES: Final = 20  # text file sizes stay within these bounds
_MAX_LINES: Final = 300
_SPECIAL_FILES: Final[frozenset[str]] = frozenset({".mailmap", "requirements.txt"})
_LIBS: Final[tuple[str, ...]] = (
    "requests", "urllib3", "duckdb", "polars", "pyarrow", "click", "rich", "pydantic", "fastapi",
    "sqlalchemy", "httpx", "jinja2", "pyyaml", "attrs", "numpy", "pandas", "orjson", "structlog",
    "tenacity", "typer", "uvicorn", "gitpython", "pygithub", "prefect", "anyio",
)

# Home time zones are handed out in this order so that the unusual ones are always present.
_HOME_TZS: Final[tuple[str, ...]] = (
    "+0200", "+0545", "-0930", "+1400", "-0700", "+0100", "+0530", "-0500",
    "+0800", "+0000", "+0900", "-0330", "+1245", "-0800", "+1000", "-0300",
)
_ALL_TZS: Final[tuple[str, ...]] = (*_HOME_TZS, "-1000", "+0300", "+0430", "-0230")

# (display, ascii)
_FIRST: Final[tuple[tuple[str, str], ...]] = (
    ("Amara", "amara"), ("Björn", "bjorn"), ("Chloé", "chloe"), ("Dmitri", "dmitri"), ("Émile", "emile"),
    ("Fatima", "fatima"), ("Gökhan", "gokhan"), ("Hana", "hana"), ("Ingrid", "ingrid"), ("Jürgen", "jurgen"),
    ("Kwame", "kwame"), ("Łukasz", "lukasz"), ("Mateus", "mateus"), ("Nadia", "nadia"),
    ("Olúwaseun", "oluwaseun"), ("Priya", "priya"), ("Quentin", "quentin"), ("Rosa", "rosa"),
    ("Søren", "soren"), ("Tomás", "tomas"), ("Uma", "uma"), ("Valentina", "valentina"), ("Wei", "wei"),
    ("Ximena", "ximena"), ("Yusuf", "yusuf"), ("Aoife", "aoife"), ("Mike", "mike"), ("Sarah", "sarah"),
    ("John", "john"), ("Siobhán", "siobhan"), ("Ana", "ana"), ("Lars", "lars"),
)
_LAST: Final[tuple[tuple[str, str], ...]] = (
    ("Okafor", "okafor"), ("Kowalski", "kowalski"), ("Nakamura", "nakamura"), ("García", "garcia"),
    ("Petrović", "petrovic"), ("Øvergaard", "overgaard"), ("Müller", "muller"), ("O'Brien", "obrien"),
    ("Nguyễn", "nguyen"), ("Smith", "smith"), ("van der Berg", "vanderberg"), ("Dubois", "dubois"),
    ("Schröder", "schroder"), ("Haddad", "haddad"), ("Johansson", "johansson"), ("Rossi", "rossi"),
    ("Y\u0131lmaz", "yilmaz"), ("Sato", "sato"), ("Mbeki", "mbeki"), ("Fernández", "fernandez"), ("Kim", "kim"),
    ("Ivanova", "ivanova"), ("Lindqvist", "lindqvist"), ("Brown", "brown"),
)
# (display, romanised, ascii first, ascii last)
_CJK: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("韩梅梅", "Meimei Han", "meimei", "han"),
    ("王芳", "Fang Wang", "fang", "wang"),
    ("张伟", "Wei Zhang", "wei", "zhang"),
    ("佐藤 花子", "Hanako Sato", "hanako", "sato"),
    ("김민준", "Minjun Kim", "minjun", "kim"),
    ("陈静", "Jing Chen", "jing", "chen"),
)
_WORK_DOMAIN: Final = "acme-analytics.com"
_OLD_WORK_DOMAIN: Final = "initech.io"
_PROVIDERS: Final[tuple[str, ...]] = ("gmail.com", "proton.me", "fastmail.fm", "outlook.com", "posteo.de")

# fmt: on

Content: TypeAlias = "tuple[str, ...] | bytes"  # text file = tuple of lines (each ending "\n")


# --------------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------------


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for running git independent of the user's config, clock and locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME="synthrepo",
        GIT_AUTHOR_EMAIL="synthrepo@invalid",
        GIT_AUTHOR_DATE="@1600000000 +0000",
        GIT_COMMITTER_NAME="synthrepo",
        GIT_COMMITTER_EMAIL="synthrepo@invalid",
        GIT_COMMITTER_DATE="@1600000000 +0000",
        LC_ALL="C",
        TZ="UTC",
    )
    if extra:
        env.update(extra)
    return env


# --------------------------------------------------------------------------------------------------
# Internal model
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Identity:
    name: str
    email: str
    person: str  # "" for non-person identities (GitHub web-flow committer)
    raw: bytes  # b"Name <email>" as written into commit headers


@dataclass(eq=False)
class _Person:
    key: str
    name: str
    email: str
    login: str
    tz: str
    latin1: bool
    bot: bool
    identities: list[_Identity]


_GITHUB = _Identity("GitHub", "noreply@github.com", "", b"GitHub <noreply@github.com>")


class _Pool:
    """Paths with O(1) add, remove and uniform random choice, in a deterministic order."""

    __slots__ = ("index", "items")

    def __init__(self) -> None:
        self.items: list[str] = []
        self.index: dict[str, int] = {}

    def copy(self) -> _Pool:
        new = _Pool()
        new.items = self.items.copy()
        new.index = self.index.copy()
        return new

    def __len__(self) -> int:
        return len(self.items)

    def add(self, path: str) -> None:
        self.index[path] = len(self.items)
        self.items.append(path)

    def remove(self, path: str) -> None:
        i = self.index.pop(path)
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.index[last] = i

    def choice(self, rng: random.Random) -> str:
        return self.items[int(rng.random() * len(self.items))]


def _dirname(path: str) -> str:
    return path.rpartition("/")[0]


class _Tree:
    """The file contents of one branch tip."""

    __slots__ = ("binary", "by_dir", "files", "text")

    def __init__(self) -> None:
        self.files: dict[str, Content] = {}
        self.text = _Pool()  # editable text files (special files excluded)
        self.binary = _Pool()
        self.by_dir: dict[str, dict[str, None]] = {}  # directory -> editable text files in it

    def copy(self) -> _Tree:
        new = _Tree()
        new.files = self.files.copy()
        new.text = self.text.copy()
        new.binary = self.binary.copy()
        new.by_dir = {d: f.copy() for d, f in self.by_dir.items()}
        return new

    def put(self, path: str, content: Content) -> None:
        if path not in self.files and path not in _SPECIAL_FILES:
            if isinstance(content, bytes):
                self.binary.add(path)
            else:
                self.text.add(path)
                self.by_dir.setdefault(_dirname(path), {})[path] = None
        self.files[path] = content

    def remove(self, path: str) -> Content:
        content = self.files.pop(path)
        if path in self.text.index:
            self.text.remove(path)
            del self.by_dir[_dirname(path)][path]
        elif path in self.binary.index:
            self.binary.remove(path)
        return content


@dataclass(slots=True)
class _Change:
    old_path: str | None  # None for additions
    new_path: str | None  # None for deletions
    before: Content | None
    after: Content | None
    added: int | None  # None for binary
    deleted: int | None

    def inverse(self) -> _Change:
        return _Change(self.new_path, self.old_path, self.after, self.before, self.deleted, self.added)

    def expected(self) -> ExpectedFile:
        path = self.new_path if self.new_path is not None else self.old_path
        assert path is not None
        renamed = self.old_path is not None and self.new_path is not None and self.old_path != self.new_path
        return ExpectedFile(path, self.old_path if renamed else None, self.added, self.deleted)


@dataclass(slots=True)
class _Undo:
    mark: int
    subject: str
    person: _Person
    changes: list[_Change]


@dataclass(slots=True)
class _Feature:
    tree: _Tree
    area: str
    fork: int
    tip: int
    schedule: list[str]
    author: _Person
    name: str
    pr: int
    subjects: list[str]
    blobs: dict[int, tuple[Content, int]] = field(default_factory=dict)  # id(content) -> (content, mark)


@dataclass(slots=True)
class _Rec:
    mark: int
    parents: tuple[int, ...]
    author: _Identity
    author_epoch: int
    author_tz: str
    committer: _Identity
    committer_epoch: int
    message: str
    files: tuple[ExpectedFile, ...]
    trailers: tuple[ExpectedTrailer, ...]
    reverted: str | None


def _ascii_fold(s: str) -> str:
    table = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "\u0131": "i", "ß": "ss", "æ": "ae"})
    decomposed = unicodedata.normalize("NFKD", s.translate(table))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --------------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------------


class _Generator:
    # Per-commit probabilities.
    P_FEATURE = 0.22  # start a feature branch when idle (~1 merge per 10 commits)
    P_REVERT = 0.02
    P_BOT = 0.04
    P_RENAME = 1 / 30
    P_TRAILERS = 0.45

    def __init__(
        self,
        rng: random.Random,
        out: IO[bytes],
        sha_reader: IO[bytes],
        *,
        n_persons: int,
        start_epoch: int,
        branch: str,
        manifest: bool,
    ) -> None:
        self.rng = rng
        self.out = out
        self.sha_reader = sha_reader
        self.manifest = manifest
        self.main_ref = f"refs/heads/{branch}".encode()
        self.clock = start_epoch
        self.last_committer_epoch = start_epoch
        self.serial = 0x10000
        self.next_mark = 1
        self.pr = 100
        self.shas: dict[int, str] = {}
        self.used: dict[_Identity, None] = {}
        self.records: list[_Rec] = []
        self.merges = 0
        self.reverts = 0
        self.used_feature_ref = False
        self.undo: deque[_Undo] = deque(maxlen=40)

        self.humans = self._make_persons(n_persons)
        ranks = list(range(n_persons))
        rng.shuffle(ranks)
        # Keep the Latin-1 person among the most active so small repos always contain them.
        latin1_rank = ranks[1]
        if latin1_rank > 2:
            j = ranks.index(rng.randint(0, min(2, n_persons - 1)))
            ranks[1], ranks[j] = ranks[j], ranks[1]
        total = 0.0
        self.human_cum: list[float] = []
        for r in ranks:
            total += 1.0 / (r + 1) ** 0.9
            self.human_cum.append(total)
        self.dependabot = self._bot(
            "bot:dependabot",
            [
                ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
                ("dependabot[bot]", "support@github.com"),
            ],
        )
        self.actions_bot = self._bot(
            "bot:github-actions",
            [("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")],
        )
        self.mailmap = self._make_mailmap()
        self.shapes = {fam: self._make_shapes(tpls, 192) for fam, tpls in _LINE_TEMPLATES.items()}
        self.tree = _Tree()
        self.main_tip = 0

    # ---------------------------------------------------------------------------------- persons

    def _identity(self, person_key: str, name: str, email: str, latin1: bool) -> _Identity:
        raw = f"{name} <{email}>".encode("latin-1" if latin1 else "utf-8")
        return _Identity(name, email, person_key, raw)

    def _bot(self, key: str, ids: list[tuple[str, str]]) -> _Person:
        identities = [self._identity(key, n, e, False) for n, e in ids]
        login = ids[0][0]
        return _Person(key, ids[0][0], ids[0][1], login, "+0000", False, True, identities)

    def _make_persons(self, n: int) -> list[_Person]:
        rng = self.rng
        taken_names: set[str] = set()
        taken_emails: set[str] = set()
        people: list[_Person] = []
        for i in range(n):
            cjk_roman: str | None = None
            if i == 0:
                name, afirst, alast = "Zoë Ångström", "zoe", "angstrom"
            elif i == 1:
                name, afirst, alast = "Sébastien Lefèvre", "sebastien", "lefevre"
            elif i == 2:
                name, cjk_roman, afirst, alast = "李雷", "Lei Li", "lei", "li"
            else:
                for attempt in range(50):
                    if rng.random() < 0.15:
                        name, cjk_roman, afirst, alast = rng.choice(_CJK)
                    else:
                        (first, afirst), (last, alast) = rng.choice(_FIRST), rng.choice(_LAST)
                        name, cjk_roman = f"{first} {last}", None
                    if attempt >= 40:
                        initial = chr(ord("A") + rng.randrange(26))
                        name = f"{name.split(' ')[0]} {initial}. {name.split(' ', 1)[-1]}"
                        afirst = f"{afirst}{initial.lower()}"
                    if name not in taken_names:
                        break
            taken_names.add(name)
            key = f"p{i:03d}"
            latin1 = i == 1
            alast_clean = alast.replace(" ", "").replace("'", "")

            def unique_email(email: str) -> str:
                local, _, domain = email.partition("@")
                candidate, k = email, 2
                while candidate.lower() in taken_emails:
                    candidate = f"{local}{k}@{domain}"
                    k += 1
                taken_emails.add(candidate.lower())
                return candidate

            login = rng.choice(
                (f"{afirst}{alast_clean}", f"{afirst[0]}{alast_clean}", f"{afirst}-{alast_clean}")
            )
            if rng.random() < 0.3:
                login += str(rng.randint(1, 99))
            domain = _WORK_DOMAIN if rng.random() < 0.8 else _OLD_WORK_DOMAIN
            work = unique_email(f"{afirst}.{alast_clean}@{domain}")
            ids: list[tuple[str, str]] = [(name, work)]
            emails = 1
            variants: list[str] = []
            if cjk_roman is not None:
                variants.append(cjk_roman)
            else:
                if name.lower() != name:
                    variants.append(name.lower())
                folded = _ascii_fold(name)
                if folded != name:
                    variants.append(folded)
                parts = name.split(" ")
                variants.append(f"{parts[0][0]}. {' '.join(parts[1:])}")
            variant = rng.choice(variants) if rng.random() < 0.6 else None
            if rng.random() < 0.65:
                provider = rng.choice(_PROVIDERS)
                personal = unique_email(f"{afirst}{alast_clean[:1]}{rng.randint(1, 99)}@{provider}")
                ids.append((variant if variant and rng.random() < 0.4 else name, personal))
                emails += 1
            if rng.random() < 0.4 or i == 2:
                noreply = unique_email(f"{rng.randint(10_000, 99_999_999)}+{login}@users.noreply.github.com")
                ids.append((login if rng.random() < 0.5 else name, noreply))
                emails += 1
            if variant is not None and rng.random() < 0.6:
                ids.append((variant, work))
            if emails < 3 and rng.random() < 0.2:
                local, _, dom = work.partition("@")
                cased = ".".join(p.capitalize() for p in local.split(".")) + "@" + dom.capitalize()
                ids.append((name, cased))
            seen: set[tuple[str, str]] = set()
            identities: list[_Identity] = []
            for nm, em in ids:
                if (nm, em) not in seen:
                    seen.add((nm, em))
                    identities.append(self._identity(key, nm, em, latin1))
            tz = _HOME_TZS[i % len(_HOME_TZS)]
            people.append(_Person(key, name, work, login, tz, latin1, False, identities))
        return people

    def _make_mailmap(self) -> str:
        rng = self.rng
        entries: list[tuple[_Person, _Identity]] = [
            (p, ident) for p in self.humans for ident in p.identities[1:]
        ]
        include = [rng.random() < 0.75 for _ in entries]
        if len(entries) >= 2:
            if all(include):
                include[-1] = False
            if not any(include):
                include[0] = True
        lines = [
            "# Canonical contributor identities, see git-check-mailmap(1).",
            "# Proper Name <proper@email> <commit@email>",
        ]
        for (person, ident), inc in zip(entries, include, strict=True):
            if not inc:
                continue
            if ident.name == person.name:
                lines.append(f"<{person.email}> <{ident.email}>")
            else:
                lines.append(f"{person.name} <{person.email}> <{ident.email}>")
        return "\n".join(lines) + "\n"

    def _pick_human(self, exclude: _Person | None = None) -> _Person:
        for _ in range(8):
            p = self.rng.choices(self.humans, cum_weights=self.human_cum)[0]
            if p is not exclude:
                return p
        return p

    def _pick_identity(self, person: _Person) -> _Identity:
        ids = person.identities
        if len(ids) == 1 or self.rng.random() < 0.55:
            return ids[0]
        return ids[self.rng.randrange(1, len(ids))]

    # ---------------------------------------------------------------------------------- text

    # The hot paths use int(random() * n) rather than randrange(n): same determinism, 3x cheaper.
    def _word(self) -> str:
        return _WORDS[int(self.rng.random() * len(_WORDS))]

    def _sentence(self, lo: int = 4, hi: int = 10) -> str:
        rng = self.rng
        rand = rng.random
        n_words = len(_WORDS)
        words = [_WORDS[int(rand() * n_words)] for _ in range(lo + int(rand() * (hi - lo + 1)))]
        if rand() < 0.06:
            words[rng.randrange(len(words))] = rng.choice(_UNICODE_WORDS)
        return " ".join(words).capitalize() + "."

    def _fill(self, template: str) -> str:
        rng = self.rng
        out = template
        for key in ("{a}", "{b}", "{c}", "{d}"):
            if key in out:
                out = out.replace(key, self._word())
        for key in ("{A}", "{B}", "{C}"):
            if key in out:
                out = out.replace(key, self._word().capitalize())
        if "{n}" in out:
            out = out.replace("{n}", str(rng.randint(0, 4096)))
        if "{S}" in out:
            out = out.replace("{S}", self._sentence(3, 7)[:-1])
        return out.replace("@", "%s") + "\n"

    def _make_shapes(self, templates: Sequence[str], count: int) -> list[str]:
        return [self._fill(templates[i % len(templates)]) for i in range(count)]

    def _lines(self, shapes: list[str], count: int) -> list[str]:
        rand = self.rng.random
        n = len(shapes)
        first = self.serial + 1
        self.serial += count
        return [shapes[int(rand() * n)] % format(i, "x") for i in range(first, first + count)]

    def _shapes_for(self, path: str) -> list[str]:
        return self.shapes[_EXT_FAMILY.get(path.rpartition(".")[2], "txt")]

    def _new_text(self, path: str) -> tuple[str, ...]:
        n = max(_MIN_LINES, min(_MAX_LINES, int(self.rng.lognormvariate(4.2, 0.55))))
        shapes = self._shapes_for(path)
        return tuple(self._lines(shapes, n))

    def _new_binary(self, path: str) -> bytes:
        magic = _BIN_MAGIC.get(path.rpartition(".")[2], b"\x00\x00")
        return magic + b"\x00" + self.rng.randbytes(self.rng.randint(64, 1500))

    def _edit(self, path: str, lines: tuple[str, ...], *, small: bool) -> tuple[tuple[str, ...], int, int]:
        """Replace/insert/delete a few lines; only fresh lines are inserted (see module docstring)."""
        rng = self.rng
        shapes = self._shapes_for(path)
        n = len(lines)
        hunks = 1 if small else min(n, rng.choice((1, 1, 1, 2, 2, 3)))
        positions = sorted(rng.sample(range(n), hunks))
        new = list(lines)
        added = deleted = 0
        limit = n
        max_lines = 2 if small else 4
        for pos in reversed(positions):
            size = n + added - deleted
            r = rng.random()
            kind = "replace" if r < 0.5 else "insert" if r < 0.75 else "delete"
            if (kind == "delete" and size <= _MIN_LINES) or (kind == "insert" and size >= _MAX_LINES):
                kind = "replace"
            n_del = 0 if kind == "insert" else rng.randint(1, min(max_lines, limit - pos))
            n_add = 0 if kind == "delete" else rng.randint(1, max_lines)
            # Keep files within [_MIN_LINES, _MAX_LINES] lines.
            if kind == "delete":
                n_del = min(n_del, size - _MIN_LINES)
            elif kind == "insert":
                n_add = min(n_add, _MAX_LINES - size)
            elif not _MIN_LINES <= size - n_del + n_add <= _MAX_LINES:
                n_add = n_del
            new[pos : pos + n_del] = self._lines(shapes, n_add)
            added += n_add
            deleted += n_del
            limit = pos
        return tuple(new), added, deleted

    def _file_name(self, directory: str, exts: Sequence[str]) -> str:
        rng = self.rng
        ext = exts[rng.randrange(len(exts))]
        r = rng.random()
        if r < 0.07:
            stem = f"{self._word().capitalize()} {self._word()}"
        elif r < 0.11:
            stem = rng.choice(_UNICODE_STEMS)
        elif r < 0.6:
            stem = f"{self._word()}_{self._word()}"
        elif r < 0.75:
            stem = f"{self._word()}-{self._word()}"
        else:
            stem = self._word()
        name = f"{stem}.{ext}"
        return f"{directory}/{name}" if directory else name

    def _new_path(self, tree: _Tree, directory: str, exts: Sequence[str], touched: set[str]) -> str:
        for attempt in range(1000):
            path = self._file_name(directory, exts)
            if attempt >= 5:
                stem, dot, ext = path.rpartition(".")
                path = f"{stem}_{attempt}{dot}{ext}"
            if path not in tree.files and path not in touched:
                return path
        raise RuntimeError("could not find a free file name")  # pragma: no cover

    # ---------------------------------------------------------------------------------- changes

    def _pick_text(self, tree: _Tree, area: str | None, locked: str | None, touched: set[str]) -> str | None:
        rng = self.rng
        if area is not None:
            candidates = [p for p in tree.by_dir.get(area, {}) if p not in touched]
            return candidates[rng.randrange(len(candidates))] if candidates else None
        for _ in range(12):
            if not tree.text:
                return None
            p = tree.text.choice(rng)
            if p not in touched and (locked is None or _dirname(p) != locked):
                return p
        return None

    def _text_dir(self, area: str | None, locked: str | None) -> str:
        if area is not None:
            return area
        while True:
            d = _TEXT_DIRS[self.rng.randrange(len(_TEXT_DIRS))][0]
            if d != locked:
                return d

    def _changes(self, tree: _Tree, area: str | None = None, locked: str | None = None) -> list[_Change]:
        """Pick and apply (to ``tree``) the file changes of one ordinary commit."""
        rng = self.rng
        changes: list[_Change] = []
        touched: set[str] = set()
        n_files = rng.choices((1, 2, 3, 4, 5, 6), cum_weights=(35, 60, 75, 85, 93, 100))[0]
        if rng.random() < self.P_RENAME:
            src = self._pick_text(tree, area, locked, touched)
            if src is not None:
                before = tree.remove(src)
                assert isinstance(before, tuple)
                if area is not None or rng.random() < 0.7:
                    directory = _dirname(src)
                else:
                    directory = self._text_dir(None, locked)
                exts = _TEXT_DIR_EXTS.get(directory) or (src.rpartition(".")[2],)
                dst = self._new_path(tree, directory, exts, touched | {src})
                if len(before) >= 20 and rng.random() < 0.5:
                    after, added, deleted = self._edit(dst, before, small=True)
                else:
                    after, added, deleted = before, 0, 0
                tree.put(dst, after)
                touched.update((src, dst))
                changes.append(_Change(src, dst, before, after, added, deleted))
                n_files -= 1
        n_text = len(tree.text) if area is None else len(tree.by_dir.get(area, {}))
        p_add = (0.07 if n_text < 330 else 0.02) if area is None else 0.12
        p_del = (0.035 if n_text > 200 else 0.005) if area is None else (0.05 if n_text > 3 else 0.0)
        for _ in range(n_files):
            r = rng.random()
            if r < p_add:
                d = self._text_dir(area, locked)
                path = self._new_path(tree, d, _TEXT_DIR_EXTS[d], touched)
                content = self._new_text(path)
                tree.put(path, content)
                touched.add(path)
                changes.append(_Change(None, path, None, content, len(content), 0))
                continue
            if r < p_add + p_del:
                src_del = self._pick_text(tree, area, locked, touched)
                if src_del is not None:
                    gone = tree.remove(src_del)
                    touched.add(src_del)
                    changes.append(_Change(src_del, None, gone, None, 0, len(gone)))
                continue
            if r < p_add + p_del + 0.015 and area is None:
                self._binary_change(tree, locked, touched, changes)
                continue
            path_mod = self._pick_text(tree, area, locked, touched)
            if path_mod is None:
                continue
            old = tree.files[path_mod]
            assert isinstance(old, tuple)
            new, added, deleted = self._edit(path_mod, old, small=False)
            tree.put(path_mod, new)
            touched.add(path_mod)
            changes.append(_Change(path_mod, path_mod, old, new, added, deleted))
        if not changes:
            d = self._text_dir(area, locked)
            path = self._new_path(tree, d, _TEXT_DIR_EXTS[d], touched)
            content = self._new_text(path)
            tree.put(path, content)
            changes.append(_Change(None, path, None, content, len(content), 0))
        return changes

    def _binary_change(
        self, tree: _Tree, locked: str | None, touched: set[str], changes: list[_Change]
    ) -> None:
        rng = self.rng
        existing: str | None = None
        if len(tree.binary) and rng.random() < 0.6:
            cand = tree.binary.choice(rng)
            if cand not in touched and _dirname(cand) != locked:
                existing = cand
        if existing is None:
            d, exts = _BIN_DIRS[rng.randrange(len(_BIN_DIRS))]
            path = self._new_path(tree, d, exts, touched)
            data = self._new_binary(path)
            tree.put(path, data)
            touched.add(path)
            changes.append(_Change(None, path, None, data, None, None))
        elif len(tree.binary) > 3 and rng.random() < 0.15:
            gone = tree.remove(existing)
            touched.add(existing)
            changes.append(_Change(existing, None, gone, None, None, None))
        else:
            old = tree.files[existing]
            data = self._new_binary(existing)
            tree.put(existing, data)
            touched.add(existing)
            changes.append(_Change(existing, existing, old, data, None, None))

    @staticmethod
    def _ops(changes: Sequence[_Change]) -> dict[str, Content | None]:
        ops: dict[str, Content | None] = {}
        for ch in changes:
            if ch.old_path is not None and ch.old_path != ch.new_path:
                ops[ch.old_path] = None
        for ch in changes:
            if ch.new_path is not None:
                ops[ch.new_path] = ch.after
        return ops

    # ---------------------------------------------------------------------------------- messages

    def _key_case(self, kind: str) -> str:
        r = self.rng.random()
        if r < 0.8:
            return kind
        if r < 0.88:
            return kind.lower()
        if r < 0.93:
            return kind.upper()
        return "-".join(part.capitalize() for part in kind.split("-"))

    def _trailer_kind(self) -> str:
        return self.rng.choices(TRAILER_KINDS, cum_weights=(25, 55, 70, 76, 84, 90, 95, 100))[0]

    def _subject(self, changes: Sequence[_Change]) -> str:
        rng = self.rng
        renames = [c for c in changes if c.old_path and c.new_path and c.old_path != c.new_path]
        if renames and rng.random() < 0.5:
            src, dst = renames[0].old_path or "", renames[0].new_path or ""
            subject = f"Move {src.rpartition('/')[2]} to {dst.rpartition('/')[2] or dst}"
        elif rng.random() < 0.3:
            subject = f"{rng.choice(_CC_TYPES)}({self._word()}): {rng.choice(_VERBS).lower()} {self._word()} {self._word()}"
        else:
            subject = f"{rng.choice(_VERBS)} {self._word()} {self._word()}"
            if rng.random() < 0.4:
                subject += f" in {self._word()} {self._word()}"
        if rng.random() < 0.04:
            subject += rng.choice((" ✨", " — naïve path", " (日本語)"))
        if rng.random() < 0.25:
            self.pr += 1
            subject += f" (#{self.pr})"
        return subject

    def _paragraph(self) -> str:
        rng = self.rng
        if rng.random() < 0.2:
            return "\n".join(f"- {self._sentence(3, 7)}" for _ in range(rng.randint(2, 4)))
        lines: list[str] = []
        current = ""
        for _ in range(rng.randint(1, 4)):
            for word in self._sentence(5, 12).split(" "):
                if current and len(current) + 1 + len(word) > 72:
                    lines.append(current)
                    current = word
                else:
                    current = f"{current} {word}" if current else word
        lines.append(current)
        return "\n".join(lines)

    def _trailer_lines(
        self, count: int, author: _Identity, person: _Person, trailers: list[tuple[str, _Identity]]
    ) -> list[str]:
        out: list[str] = []
        seen: set[tuple[str, _Identity]] = set()
        for _ in range(count):
            kind = self._trailer_kind()
            if kind == "Signed-off-by" and self.rng.random() < 0.6:
                who = author
            else:
                who = self._pick_identity(self._pick_human(exclude=person))
            if (kind, who) in seen:  # no verbatim duplicate lines within one block
                continue
            seen.add((kind, who))
            trailers.append((kind.lower(), who))
            out.append(f"{self._key_case(kind)}: {who.name} <{who.email}>")
        return out

    def _message(
        self, subject: str, author: _Identity, person: _Person
    ) -> tuple[str, list[tuple[str, _Identity]]]:
        """Subject, body paragraphs and trailer paragraphs; returns the text and its trailers in order."""
        rng = self.rng
        trailers: list[tuple[str, _Identity]] = []
        paras: list[str] = []
        has_trailers = rng.random() < self.P_TRAILERS
        if has_trailers and rng.random() < 0.12:
            # Squash-merge style: one paragraph per squashed commit, some with their own trailers.
            for _ in range(rng.randint(2, 4)):
                paras.append(f"* {self._sentence(3, 8)}")
                if rng.random() < 0.5:
                    paras.append("\n".join(self._trailer_lines(rng.randint(1, 2), author, person, trailers)))
            final: list[str] = []
            for _ in range(rng.randint(1, 3)):
                who = self._pick_identity(self._pick_human(exclude=person))
                trailers.append(("co-authored-by", who))
                final.append(f"{self._key_case('Co-authored-by')}: {who.name} <{who.email}>")
            paras.append("\n".join(final))
        else:
            n_body = rng.choice((0, 0, 1, 1, 1, 2, 3))
            layout = ["p"] * n_body
            if has_trailers:
                if n_body >= 2 and rng.random() < 0.15:
                    layout.insert(rng.randint(1, n_body - 1), "t")  # trailers in a middle paragraph
                layout.append("t")
            for i, kind in enumerate(layout):
                if kind == "p":
                    text = self._paragraph()
                    if has_trailers and rng.random() < 0.04:
                        text += "\n" + self._trailer_lines(1, author, person, trailers)[0]
                    paras.append(text)
                else:
                    lines = self._trailer_lines(rng.choice((1, 1, 2, 2, 3, 4)), author, person, trailers)
                    if i == len(layout) - 1 and rng.random() < 0.1:
                        extra = rng.choice(
                            (f"Change-Id: I{rng.getrandbits(160):040x}", f"Refs: #{rng.randint(1, 999)}")
                        )
                        lines.insert(rng.randint(0, len(lines)), extra)
                    paras.append("\n".join(lines))
        if paras:
            return subject + "\n\n" + "\n\n".join(paras) + "\n", trailers
        return subject + "\n", trailers

    # ---------------------------------------------------------------------------------- emitting

    def _stamp(self, person: _Person) -> tuple[int, str]:
        rng = self.rng
        self.clock += 60 + int(rng.expovariate(1 / 2400.0))
        tz = person.tz if person.bot or rng.random() < 0.9 else _ALL_TZS[rng.randrange(len(_ALL_TZS))]
        return self.clock, tz

    def _committer(
        self, author: _Identity, person: _Person, epoch: int, tz: str, *, github: float, other: float
    ) -> tuple[_Identity, int, str]:
        rng = self.rng
        r = rng.random()
        if r < github:
            ident, c_epoch, c_tz = _GITHUB, epoch + rng.randint(30, 1800), "+0000"
        elif r < github + other:
            maintainer = self._pick_human(exclude=person)
            ident, c_epoch, c_tz = maintainer.identities[0], epoch + rng.randint(30, 1800), maintainer.tz
        else:
            ident, c_epoch, c_tz = author, epoch, tz
        c_epoch = max(c_epoch, self.last_committer_epoch)
        self.last_committer_epoch = c_epoch
        return ident, c_epoch, c_tz

    def _sha(self, mark: int) -> str:
        sha = self.shas.get(mark)
        if sha is None:
            self.out.write(b"get-mark :%d\n" % mark)
            self.out.flush()
            sha = self.sha_reader.readline().decode("ascii").strip()
            if len(sha) != 40:
                raise RuntimeError(f"git fast-import returned {sha!r} for get-mark :{mark}")
            self.shas[mark] = sha
        return sha

    def _blob(self, content: Content) -> int:
        mark = self.next_mark
        self.next_mark += 1
        data = content if isinstance(content, bytes) else "".join(content).encode("utf-8")
        self.out.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)))
        self.out.write(data)
        self.out.write(b"\n")
        return mark

    def _emit(
        self,
        *,
        ref: bytes,
        parents: tuple[int, ...],
        explicit_from: bool,
        author: _Identity,
        person: _Person,
        epoch: int,
        tz: str,
        committer: tuple[_Identity, int, str],
        message: str,
        trailers: Sequence[tuple[str, _Identity]],
        ops: Mapping[str, Content | None],
        changes: Sequence[_Change] | None,
        reverted: str | None = None,
        blobs: dict[int, tuple[Content, int]] | None = None,
    ) -> int:
        """Write one commit.  With ``blobs`` (feature branches) file contents are written as marked
        blobs first and remembered by object identity, so the merge can reference them by mark
        instead of sending the data again."""
        if blobs is not None:
            for content in ops.values():
                if content is not None:
                    known = blobs.get(id(content))
                    if known is None or known[0] is not content:
                        blobs[id(content)] = (content, self._blob(content))
        mark = self.next_mark
        self.next_mark += 1
        c_ident, c_epoch, c_tz = committer
        msg = message.encode("utf-8")
        w = self.out.write
        w(
            b"commit %s\nmark :%d\nauthor %s %d %s\ncommitter %s %d %s\ndata %d\n"
            % (ref, mark, author.raw, epoch, tz.encode(), c_ident.raw, c_epoch, c_tz.encode(), len(msg))
        )
        w(msg)
        w(b"\n")
        if explicit_from and parents:
            w(b"from :%d\n" % parents[0])
        for extra in parents[1:]:
            w(b"merge :%d\n" % extra)
        for path, content in ops.items():
            pb = path.encode("utf-8")
            if content is None:
                w(b"D %s\n" % pb)
            elif blobs is not None:
                w(b"M 100644 :%d %s\n" % (blobs[id(content)][1], pb))
            else:
                data = content if isinstance(content, bytes) else "".join(content).encode("utf-8")
                w(b"M 100644 inline %s\ndata %d\n" % (pb, len(data)))
                w(data)
                w(b"\n")
        w(b"\n")

        used = self.used
        used[author] = None
        if c_ident.person:
            used[c_ident] = None
        for _, who in trailers:
            used[who] = None
        if self.manifest:
            files: tuple[ExpectedFile, ...] = ()
            if changes is not None:
                ordered = sorted(changes, key=lambda c: (c.new_path or c.old_path or "").encode("utf-8"))
                files = tuple(c.expected() for c in ordered)
            self.records.append(
                _Rec(
                    mark,
                    parents,
                    author,
                    epoch,
                    tz,
                    c_ident,
                    c_epoch,
                    message,
                    files,
                    tuple(ExpectedTrailer(k, who.name, who.email) for k, who in trailers),
                    reverted,
                )
            )
        return mark

    # ---------------------------------------------------------------------------------- commits

    def root(self) -> None:
        rng = self.rng
        tree = self.tree
        tree.put(".mailmap", tuple(self.mailmap.splitlines(keepends=True)))
        reqs = [f"{lib}=={rng.randint(0, 3)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}\n" for lib in _LIBS]
        tree.put("requirements.txt", tuple(reqs))
        tree.put("README.md", self._new_text("README.md"))
        for _ in range(rng.randint(220, 300)):
            d, exts = _TEXT_DIRS[rng.randrange(len(_TEXT_DIRS))]
            path = self._new_path(tree, d, exts, set())
            tree.put(path, self._new_text(path))
        for _ in range(rng.randint(4, 8)):
            d, exts = _BIN_DIRS[rng.randrange(len(_BIN_DIRS))]
            path = self._new_path(tree, d, exts, set())
            tree.put(path, self._new_binary(path))
        changes = [
            _Change(
                None,
                p,
                None,
                c,
                None if isinstance(c, bytes) else len(c),
                None if isinstance(c, bytes) else 0,
            )
            for p, c in tree.files.items()
        ]
        person = self.humans[0]
        author = person.identities[0]
        epoch, tz = self.clock, person.tz
        message, trailers = self._message("Initial commit", author, person)
        self.main_tip = self._emit(
            ref=self.main_ref,
            parents=(),
            explicit_from=False,
            author=author,
            person=person,
            epoch=epoch,
            tz=tz,
            committer=(author, epoch, tz),
            message=message,
            trailers=trailers,
            ops=self._ops(changes),
            changes=changes,
        )

    def main_commit(self, locked: str | None) -> None:
        rng = self.rng
        if self.undo and rng.random() < self.P_REVERT and self._revert(locked):
            return
        if rng.random() < self.P_BOT:
            self._bot_commit(locked)
            return
        person = self._pick_human()
        author = self._pick_identity(person)
        changes = self._changes(self.tree, None, locked)
        subject = self._subject(changes)
        message, trailers = self._message(subject, author, person)
        epoch, tz = self._stamp(person)
        committer = self._committer(author, person, epoch, tz, github=0.1, other=0.12)
        mark = self._emit(
            ref=self.main_ref,
            parents=(self.main_tip,),
            explicit_from=False,
            author=author,
            person=person,
            epoch=epoch,
            tz=tz,
            committer=committer,
            message=message,
            trailers=trailers,
            ops=self._ops(changes),
            changes=changes,
        )
        self.main_tip = mark
        self.undo.append(_Undo(mark, subject, person, changes))

    def _bot_commit(self, locked: str | None) -> None:
        rng = self.rng
        trailers: list[tuple[str, _Identity]] = []
        if rng.random() < 0.75:
            person = self.dependabot
            author = person.identities[0]
            old = self.tree.files["requirements.txt"]
            assert isinstance(old, tuple)
            i = rng.randrange(len(old))
            lib, _, version = old[i].rstrip("\n").partition("==")
            major, minor, patch = (int(x) for x in version.split("."))
            if rng.random() < 0.7:
                patch, kind = patch + 1, "patch"
            else:
                minor, patch, kind = minor + 1, 0, "minor"
            new_version = f"{major}.{minor}.{patch}"
            new = (*old[:i], f"{lib}=={new_version}\n", *old[i + 1 :])
            self.tree.put("requirements.txt", new)
            changes = [_Change("requirements.txt", "requirements.txt", old, new, 1, 1)]
            subject = f"Bump {lib} from {version} to {new_version}"
            url = f"https://github.com/{lib}/{lib}"
            sob = person.identities[1]
            trailers.append(("signed-off-by", sob))
            message = (
                f"{subject}\n\nBumps [{lib}]({url}) from {version} to {new_version}.\n"
                f"- [Release notes]({url}/releases)\n- [Commits]({url}/compare/v{version}...v{new_version})\n\n"
                f"---\nupdated-dependencies:\n- dependency-name: {lib}\n  dependency-type: direct:production\n"
                f"  update-type: version-update:semver-{kind}\n...\n\n"
                f"Signed-off-by: {sob.name} <{sob.email}>\n"
            )
            committer_share = 1.0
        else:
            person = self.actions_bot
            author = person.identities[0]
            changes = self._changes(self.tree, None, locked)
            subject = rng.choice(
                (
                    "chore: regenerate API reference [skip ci]",
                    "Update generated files",
                    "chore(ci): sync workflow files",
                )
            )
            message = subject + "\n"
            committer_share = 0.0
        epoch, tz = self._stamp(person)
        committer = self._committer(author, person, epoch, tz, github=committer_share, other=0.0)
        mark = self._emit(
            ref=self.main_ref,
            parents=(self.main_tip,),
            explicit_from=False,
            author=author,
            person=person,
            epoch=epoch,
            tz=tz,
            committer=committer,
            message=message,
            trailers=trailers,
            ops=self._ops(changes),
            changes=changes,
        )
        self.main_tip = mark
        self.undo.append(_Undo(mark, subject, person, changes))

    def _revertable(self, undo: _Undo, locked: str | None) -> bool:
        files = self.tree.files
        for ch in undo.changes:
            for p in (ch.old_path, ch.new_path):
                if p is not None and locked is not None and _dirname(p) == locked:
                    return False
            if ch.new_path is not None and files.get(ch.new_path) is not ch.after:
                return False
            if ch.old_path is not None and ch.old_path != ch.new_path and ch.old_path in files:
                return False
        return True

    def _revert(self, locked: str | None) -> bool:
        rng = self.rng
        candidates = [u for u in self.undo if self._revertable(u, locked)]
        if not candidates:
            return False
        target = candidates[rng.randrange(len(candidates))]
        self.undo.remove(target)
        inverse = [ch.inverse() for ch in target.changes]
        for ch in inverse:
            if ch.old_path is not None:
                self.tree.remove(ch.old_path)
        for ch in inverse:
            if ch.new_path is not None and ch.after is not None:
                self.tree.put(ch.new_path, ch.after)
        person = target.person if not target.person.bot and rng.random() < 0.5 else self._pick_human()
        author = self._pick_identity(person)
        sha = self._sha(target.mark)
        subject = f'Revert "{target.subject}"'
        paras = [f"This reverts commit {sha}."]
        if rng.random() < 0.5:
            paras.append(self._paragraph())
        trailers: list[tuple[str, _Identity]] = []
        if rng.random() < 0.3:
            paras.append("\n".join(self._trailer_lines(rng.randint(1, 2), author, person, trailers)))
        message = subject + "\n\n" + "\n\n".join(paras) + "\n"
        epoch, tz = self._stamp(person)
        committer = self._committer(author, person, epoch, tz, github=0.1, other=0.1)
        self.main_tip = self._emit(
            ref=self.main_ref,
            parents=(self.main_tip,),
            explicit_from=False,
            author=author,
            person=person,
            epoch=epoch,
            tz=tz,
            committer=committer,
            message=message,
            trailers=trailers,
            ops=self._ops(inverse),
            changes=inverse,
            reverted=sha,
        )
        self.reverts += 1
        return True

    def start_feature(self, remaining: int) -> _Feature | None:
        rng = self.rng
        n_feature = min(rng.randint(1, 5), remaining - 1)
        n_main = min(rng.randint(0, 3), remaining - 1 - n_feature)
        areas = [d for d, files in self.tree.by_dir.items() if d and len(files) >= 3]
        if not areas:
            return None
        area = areas[rng.randrange(len(areas))]
        schedule = ["F"] * n_feature + ["M"] * n_main
        rng.shuffle(schedule)
        author = self._pick_human()
        name = f"{author.login}/{self._word()}-{self._word()}"
        self.pr += 1
        return _Feature(self.tree.copy(), area, self.main_tip, 0, schedule, author, name, self.pr, [])

    def feature_commit(self, feature: _Feature) -> None:
        rng = self.rng
        person = feature.author if rng.random() < 0.85 else self._pick_human()
        author = self._pick_identity(person)
        changes = self._changes(feature.tree, feature.area, None)
        subject = self._subject(changes)
        feature.subjects.append(subject)
        message, trailers = self._message(subject, author, person)
        epoch, tz = self._stamp(person)
        committer = self._committer(author, person, epoch, tz, github=0.0, other=0.05)
        first = feature.tip == 0
        feature.tip = self._emit(
            ref=_FEATURE_REF,
            parents=(feature.fork if first else feature.tip,),
            explicit_from=first,
            author=author,
            person=person,
            epoch=epoch,
            tz=tz,
            committer=committer,
            message=message,
            trailers=trailers,
            ops=self._ops(changes),
            changes=changes,
            blobs=feature.blobs,
        )
        self.used_feature_ref = True

    def merge(self, feature: _Feature) -> None:
        rng = self.rng
        main, ft, area = self.tree, feature.tree, feature.area
        ops: dict[str, Content | None] = {}
        for p in main.by_dir.get(area, {}):
            if p not in ft.files:
                ops[p] = None
        for p in ft.by_dir.get(area, {}):
            content = ft.files[p]
            if main.files.get(p) is not content:
                ops[p] = content
        for p, c in ops.items():
            if c is None:
                main.remove(p)
            else:
                main.put(p, c)
        person = feature.author if rng.random() < 0.5 else self._pick_human()
        author = self._pick_identity(person)
        if rng.random() < 0.7:
            title = feature.subjects[0] if feature.subjects else self._sentence(3, 6)
            subject = f"Merge pull request #{feature.pr} from {feature.name}"
            message = f"{subject}\n\n{title}\n"
        else:
            message = f"Merge branch '{feature.name}'\n"
        trailers: list[tuple[str, _Identity]] = []
        if rng.random() < 0.1:
            lines = self._trailer_lines(1, author, person, trailers)
            message += "\n" + "\n".join(lines) + "\n"
        epoch, tz = self._stamp(person)
        committer = self._committer(author, person, epoch, tz, github=0.6, other=0.0)
        self.main_tip = self._emit(
            ref=self.main_ref,
            parents=(self.main_tip, feature.tip),
            explicit_from=False,
            author=author,
            person=person,
            epoch=epoch,
            tz=tz,
            committer=committer,
            message=message,
            trailers=trailers,
            ops=ops,
            changes=None,
            blobs=feature.blobs,
        )
        self.merges += 1

    def unmerged(self, fork: int, tree: _Tree) -> list[int]:
        """Two commits on feature/unmerged, forked from ``fork`` and never merged."""
        marks: list[int] = []
        person = self._pick_human()
        ref = f"refs/heads/{UNMERGED_BRANCH}".encode()
        parent = fork
        for i in range(2):
            author = self._pick_identity(person)
            changes = self._changes(tree)
            subject = ("WIP: " if i == 0 else "") + self._subject(changes)
            message, trailers = self._message(subject, author, person)
            epoch, tz = self._stamp(person)
            parent = self._emit(
                ref=ref,
                parents=(parent,),
                explicit_from=i == 0,
                author=author,
                person=person,
                epoch=epoch,
                tz=tz,
                committer=(author, epoch, tz),
                message=message,
                trailers=trailers,
                ops=self._ops(changes),
                changes=changes,
            )
            marks.append(parent)
        return marks

    def run(self, n_commits: int) -> list[int]:
        """Generate the whole history; returns the marks of the unmerged branch's commits."""
        rng = self.rng
        self.root()
        produced = 1
        fork_at = max(1, n_commits - rng.randint(0, 4))
        snapshot: tuple[int, _Tree] | None = (self.main_tip, self.tree.copy()) if fork_at <= 1 else None
        feature: _Feature | None = None
        while produced < n_commits:
            on_main = True
            if feature is None and n_commits - produced >= 3 and rng.random() < self.P_FEATURE:
                feature = self.start_feature(n_commits - produced)
            if feature is None:
                self.main_commit(None)
            elif feature.schedule:
                if feature.schedule.pop() == "F":
                    self.feature_commit(feature)
                    on_main = False
                else:
                    self.main_commit(feature.area)
            else:
                self.merge(feature)
                feature = None
            produced += 1
            if snapshot is None and on_main and produced >= fork_at:
                snapshot = (self.main_tip, self.tree.copy())
        assert feature is None and snapshot is not None
        return self.unmerged(*snapshot)

    def persons_used(self) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        for person in [*self.humans, self.dependabot, self.actions_bot]:
            ids = [(i.name, i.email) for i in person.identities if i in self.used]
            if ids:
                out[person.key] = ids
        return out


# --------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------


def _git(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode("utf-8", errors="replace")


def generate_repo(
    path: Path,
    *,
    commits: int,
    seed: int = 0,
    persons: int = 12,
    bare: bool = False,
    branch: str = "main",
    manifest: bool = True,
    start_epoch: int = 1_600_000_000,
) -> SynthRepo:
    """Create a synthetic repository at ``path`` (which must not exist or be empty).

    ``commits`` is the number of commits reachable from ``branch`` (root, ordinary commits,
    merged feature-branch commits, merges and reverts); ``feature/unmerged`` adds 2 more.
    ``persons`` humans (>= 3) plus two bots.  With ``manifest=False`` ``commits``/``unmerged`` are
    empty lists; everything else (including the shas) is identical.
    """
    t0 = time.perf_counter()
    if commits < 1:
        raise ValueError("commits must be >= 1")
    if persons < 3:
        raise ValueError("persons must be >= 3")
    if branch == UNMERGED_BRANCH:
        raise ValueError(f"branch may not be {UNMERGED_BRANCH!r}")
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not an empty directory")
    path.mkdir(parents=True, exist_ok=True)
    env = git_env()
    _git(["init", "-q", *(["--bare"] if bare else []), f"--initial-branch={branch}", str(path)], path, env)
    git_dir = path if bare else path / ".git"
    env_fi = git_env({"GIT_DIR": str(git_dir)})
    # fast-import sets up and tears down a zlib stream per object; with glibc's default heap trimming
    # that costs a page-fault storm per object.  Keeping the heap around halves its system time.
    env_import = {
        **env_fi,
        "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
        "MALLOC_MMAP_THRESHOLD_": str(256 << 20),
        "MALLOC_TOP_PAD_": str(16 << 20),
    }

    with tempfile.TemporaryDirectory(prefix="synthrepo-") as tmp:
        marks_file = Path(tmp) / "marks"
        # Fast zlib level and no delta attempts for blobs (each blob would otherwise be deltified
        # against the previous, unrelated one): object ids are unaffected, import is ~2x faster.
        cmd = [
            "git",
            "-c",
            "pack.compression=1",
            "fast-import",
            "--quiet",
            "--done",
            "--big-file-threshold=1",
        ]
        if manifest:
            cmd.append(f"--export-marks={marks_file}")
        with open(Path(tmp) / "stderr", "w+b") as err:
            proc = subprocess.Popen(
                cmd,
                cwd=path,
                env=env_import,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                bufsize=1 << 16,
            )
            assert proc.stdin is not None and proc.stdout is not None
            gen = _Generator(
                random.Random(seed),
                proc.stdin,
                proc.stdout,
                n_persons=persons,
                start_epoch=start_epoch,
                branch=branch,
                manifest=manifest,
            )
            try:
                proc.stdin.write(b"feature done\nfeature get-mark\n")
                unmerged_marks = gen.run(commits)
                proc.stdin.write(b"done\n")
                proc.stdin.close()
            except BaseException as exc:
                proc.kill()
                proc.wait()
                if isinstance(exc, BrokenPipeError | RuntimeError):
                    err.seek(0)
                    raise RuntimeError(
                        f"git fast-import failed: {err.read().decode(errors='replace')}"
                    ) from exc
                raise
            rc = proc.wait()
            proc.stdout.close()
            if rc != 0:
                err.seek(0)
                raise RuntimeError(f"git fast-import exited {rc}: {err.read().decode(errors='replace')}")
        shas: dict[int, str] = {}
        if manifest:
            for line in marks_file.read_text().splitlines():
                mark, sha = line.split()
                shas[int(mark[1:])] = sha

    if gen.used_feature_ref:
        _git(["update-ref", "-d", _FEATURE_REF.decode()], path, env_fi)
    head = (
        shas[gen.main_tip] if manifest else _git(["rev-parse", f"refs/heads/{branch}"], path, env_fi).strip()
    )
    if not bare:
        _git(["reset", "-q", "--hard"], path, env)

    expected: list[ExpectedCommit] = []
    unmerged: list[ExpectedCommit] = []
    unmerged_set = set(unmerged_marks)
    for rec in gen.records:
        commit = ExpectedCommit(
            sha=shas[rec.mark],
            parents=tuple(shas[m] for m in rec.parents),
            author_name=rec.author.name,
            author_email=rec.author.email,
            author_epoch=rec.author_epoch,
            author_tz=rec.author_tz,
            committer_name=rec.committer.name,
            committer_email=rec.committer.email,
            committer_epoch=rec.committer_epoch,
            message=rec.message,
            files=rec.files,
            trailers=rec.trailers,
            reverted_sha=rec.reverted,
            person=rec.author.person,
        )
        (unmerged if rec.mark in unmerged_set else expected).append(commit)
    return SynthRepo(
        path=path,
        head=head,
        branch=branch,
        commits=expected,
        persons=gen.persons_used(),
        mailmap=gen.mailmap,
        merges=gen.merges,
        reverts=gen.reverts,
        unmerged=unmerged,
        seconds=time.perf_counter() - t0,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.synthrepo",
        description="Generate a deterministic synthetic git repository.",
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--commits", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--persons", type=int, default=12)
    parser.add_argument("--branch", default="main")
    parser.add_argument("--bare", action="store_true")
    args = parser.parse_args(argv)
    repo = generate_repo(
        args.path,
        commits=args.commits,
        seed=args.seed,
        persons=args.persons,
        bare=args.bare,
        branch=args.branch,
        manifest=False,
    )
    print(
        f"{repo.path}: {args.commits} commits on {repo.branch} ({repo.merges} merges, {repo.reverts} reverts, "
        f"+2 on {UNMERGED_BRANCH}), head {repo.head[:12]}, {repo.seconds:.2f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
