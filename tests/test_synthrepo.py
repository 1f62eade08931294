"""Tests for the synthetic repository generator: its manifest is checked against real git."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.synthrepo import (
    TRAILER_KINDS,
    ExpectedCommit,
    ExpectedFile,
    ExpectedTrailer,
    SynthRepo,
    generate_repo,
    git_env,
)

N_COMMITS = 300
SEED = 7
KINDS = {k.lower() for k in TRAILER_KINDS}
TRAILER_RE = re.compile(
    r"^(?P<key>[A-Za-z]+(?:-[A-Za-z]+)*):[ \t]*(?P<name>[^<>\n]*?)[ \t]*<(?P<email>[^<>\n]+)>$"
)


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=git_env(), input=stdin, capture_output=True, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


def decode_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> SynthRepo:
    return generate_repo(tmp_path_factory.mktemp("synth") / "repo", commits=N_COMMITS, seed=SEED)


@pytest.fixture(scope="module")
def all_commits(repo: SynthRepo) -> dict[str, ExpectedCommit]:
    return {c.sha: c for c in [*repo.commits, *repo.unmerged]}


@pytest.fixture(scope="module")
def raw_objects(repo: SynthRepo, all_commits: dict[str, ExpectedCommit]) -> dict[str, bytes]:
    """sha -> raw commit object, read with git cat-file --batch."""
    shas = list(all_commits)
    out = git(repo.path, "cat-file", "--batch", stdin="".join(f"{s}\n" for s in shas).encode())
    objects: dict[str, bytes] = {}
    pos = 0
    for sha in shas:
        header_end = out.index(b"\n", pos)
        got_sha, kind, size = out[pos:header_end].split()
        assert got_sha.decode() == sha and kind == b"commit"
        start = header_end + 1
        objects[sha] = out[start : start + int(size)]
        pos = start + int(size) + 1
    return objects


def parse_numstat(repo: Path) -> dict[str, list[ExpectedFile]]:
    """Independent parse of ``git log --numstat -M -z`` for every ref."""
    out = git(repo, "log", "--all", "--numstat", "-M", "-z", "--format=%x01%H")
    result: dict[str, list[ExpectedFile]] = {}
    for chunk in out.split(b"\x01")[1:]:
        sha_bytes, _, rest = chunk.partition(b"\0")
        tokens = [t for t in rest.lstrip(b"\n").split(b"\0")]
        files: list[ExpectedFile] = []
        i = 0
        while i < len(tokens):
            token = tokens[i].lstrip(b"\n")
            i += 1
            if not token:
                continue
            added, deleted, path = token.split(b"\t", 2)
            old: str | None = None
            if path == b"":  # rename: "added\tdeleted\t\0old\0new\0"
                old, path = tokens[i].decode(), tokens[i + 1]
                i += 2
            files.append(
                ExpectedFile(
                    path.decode(),
                    old,
                    None if added == b"-" else int(added),
                    None if deleted == b"-" else int(deleted),
                )
            )
        result[sha_bytes.decode()] = files
    return result


# ------------------------------------------------------------------------------------------- shape


def test_commit_count_parents_and_merges(repo: SynthRepo) -> None:
    assert len(repo.commits) == N_COMMITS
    assert repo.commits[-1].sha == repo.head
    lines = git(repo.path, "rev-list", "--parents", repo.branch).decode().splitlines()
    actual = {line.split()[0]: tuple(line.split()[1:]) for line in lines}
    assert actual == {c.sha: c.parents for c in repo.commits}
    merges = [c for c in repo.commits if len(c.parents) == 2]
    assert len(merges) == repo.merges
    assert N_COMMITS / 20 <= len(merges) <= N_COMMITS / 5  # roughly one merge per 10 commits
    assert all(c.files == () for c in merges)
    # A true merge: the second parent is not an ancestor of the first.
    for m in merges:
        proc = subprocess.run(
            ["git", "merge-base", "--is-ancestor", m.parents[1], m.parents[0]], cwd=repo.path, env=git_env()
        )
        assert proc.returncode == 1
    # Parents come before children in the manifest.
    seen: set[str] = set()
    for c in repo.commits:
        assert set(c.parents) <= seen
        seen.add(c.sha)


def test_refs_and_unmerged_branch(repo: SynthRepo) -> None:
    refs = git(repo.path, "for-each-ref", "--format=%(refname)").decode().split()
    assert sorted(refs) == sorted([f"refs/heads/{repo.branch}", "refs/heads/feature/unmerged"])
    ahead = git(repo.path, "rev-list", "--reverse", f"{repo.branch}..feature/unmerged").decode().split()
    assert ahead == [c.sha for c in repo.unmerged]
    assert len(ahead) == 2
    assert git(repo.path, "rev-parse", "HEAD").decode().strip() == repo.head
    assert git(repo.path, "symbolic-ref", "HEAD").decode().strip() == f"refs/heads/{repo.branch}"


def test_worktree_checked_out(repo: SynthRepo) -> None:
    assert git(repo.path, "status", "--porcelain").decode() == ""
    assert (repo.path / ".mailmap").read_text(encoding="utf-8") == repo.mailmap
    assert git(repo.path, "show", f"{repo.commits[0].sha}:.mailmap").decode() == repo.mailmap


# ------------------------------------------------------------------------------------------- determinism


def test_same_seed_same_history(tmp_path: Path, repo: SynthRepo) -> None:
    again = generate_repo(tmp_path / "again", commits=N_COMMITS, seed=SEED, manifest=False)
    assert again.head == repo.head
    assert again.commits == []
    assert again.mailmap == repo.mailmap
    assert again.persons == repo.persons
    assert again.merges == repo.merges
    unmerged = git(again.path, "rev-parse", "feature/unmerged").decode().strip()
    assert unmerged == repo.unmerged[-1].sha
    other = generate_repo(tmp_path / "other", commits=N_COMMITS, seed=SEED + 1, manifest=False)
    assert other.head != repo.head


def test_bare(tmp_path: Path, repo: SynthRepo) -> None:
    bare = generate_repo(tmp_path / "bare.git", commits=N_COMMITS, seed=SEED, bare=True)
    assert git(bare.path, "rev-parse", "--is-bare-repository").decode().strip() == "true"
    assert not (bare.path / ".git").exists()
    assert bare.head == repo.head
    assert [c.sha for c in bare.commits] == [c.sha for c in repo.commits]
    # check-mailmap in a bare repository reads HEAD:.mailmap
    pairs = re.findall(r"^(?!#).*<([^<>]+)> <([^<>]+)>$", bare.mailmap, re.MULTILINE)
    proper, commit_email = next((p, c) for p, c in pairs if p.lower() != c.lower())
    mapped = git(bare.path, "check-mailmap", f"Some Body <{commit_email}>").decode()
    assert mapped.strip().endswith(f"<{proper}>")


def test_small_repos(tmp_path: Path) -> None:
    for n in (1, 2, 3, 5):
        r = generate_repo(tmp_path / f"r{n}", commits=n, seed=n, branch="trunk")
        assert len(r.commits) == n and len(r.unmerged) == 2
        assert git(r.path, "rev-list", "--count", "trunk").decode().strip() == str(n)


def test_rejects_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("hi")
    with pytest.raises(FileExistsError):
        generate_repo(tmp_path / "x", commits=3)


# ------------------------------------------------------------------------------------------- content


def test_numstat_matches_git(repo: SynthRepo, all_commits: dict[str, ExpectedCommit]) -> None:
    actual = parse_numstat(repo.path)
    assert set(actual) == set(all_commits)
    mismatches = [
        (sha[:10], list(c.files), actual[sha])
        for sha, c in all_commits.items()
        if list(c.files) != actual[sha]
    ]
    assert mismatches == []
    files = [f for c in all_commits.values() for f in c.files]
    renames = [f for f in files if f.old_path is not None]
    assert any(f.lines_added == f.lines_deleted == 0 for f in renames), "no pure rename"
    assert any((f.lines_added or 0) + (f.lines_deleted or 0) > 0 for f in renames), "no rename with edits"
    assert len(renames) >= N_COMMITS // 60
    later = [f for c in repo.commits[1:] for f in c.files]
    assert any(f.lines_added is None for f in later), "no binary change after the root commit"
    assert any(" " in f.path for f in files)
    assert any(not f.path.isascii() for f in files)
    root_files = {f.path for f in repo.commits[0].files}
    assert 200 <= len(root_files) <= 400


def test_file_sizes_realistic(repo: SynthRepo) -> None:
    special = {".mailmap", "requirements.txt"}
    sizes = [
        f.lines_added for f in repo.commits[0].files if f.lines_added is not None and f.path not in special
    ]
    assert min(sizes) >= 20 and max(sizes) <= 300
    edits = [len(c.files) for c in repo.commits[1:] if c.files and not c.reverted_sha]
    assert set(edits) == set(range(1, 7))
    # Edits keep every text file within 20..300 lines, all the way to HEAD.
    binary = 0
    for name in git(repo.path, "ls-files", "-z").split(b"\0"):
        if not name or name.decode() in special:
            continue
        data = (repo.path / name.decode()).read_bytes()
        if b"\0" in data:
            binary += 1
        else:
            assert 20 <= data.count(b"\n") <= 300, name
    assert binary >= 1


def test_headers_match_manifest(
    all_commits: dict[str, ExpectedCommit], raw_objects: dict[str, bytes]
) -> None:
    header_re = re.compile(rb"^(author|committer) (.*) <([^<>]*)> (\d+) ([+-]\d{4})$")
    latin1_authors = 0
    for sha, raw in raw_objects.items():
        c = all_commits[sha]
        headers, _, message = raw.partition(b"\n\n")
        assert message.decode("utf-8") == c.message
        fields: dict[bytes, tuple[bytes, bytes, int, str]] = {}
        for line in headers.split(b"\n"):
            m = header_re.match(line)
            if m:
                fields[m[1]] = (m[2], m[3], int(m[4]), m[5].decode())
        a_name, a_email, a_epoch, a_tz = fields[b"author"]
        c_name, c_email, c_epoch, _ = fields[b"committer"]
        try:
            a_name.decode("utf-8")
        except UnicodeDecodeError:
            latin1_authors += 1
            assert a_name.decode("latin-1") == c.author_name
        assert (decode_name(a_name), a_email.decode(), a_epoch, a_tz) == (
            c.author_name,
            c.author_email,
            c.author_epoch,
            c.author_tz,
        )
        assert (decode_name(c_name), c_email.decode(), c_epoch) == (
            c.committer_name,
            c.committer_email,
            c.committer_epoch,
        )
    assert latin1_authors >= 1


def test_dates_and_timezones(repo: SynthRepo) -> None:
    epochs = [c.author_epoch for c in repo.commits]
    assert epochs == sorted(epochs) and len(set(epochs)) == len(epochs)
    committed = [c.committer_epoch for c in repo.commits]
    assert committed == sorted(committed)
    assert all(c.committer_epoch >= c.author_epoch for c in repo.commits)
    assert repo.commits[0].author_epoch == 1_600_000_000
    tzs = {c.author_tz for c in repo.commits}
    assert {"+0545", "-0930", "+1400"} <= tzs
    assert len(tzs) >= 8
    differs = [
        c for c in repo.commits if (c.committer_name, c.committer_email) != (c.author_name, c.author_email)
    ]
    assert len(differs) >= N_COMMITS // 20
    assert any(c.committer_name == "GitHub" for c in differs)


def test_trailers_match_message(repo: SynthRepo, all_commits: dict[str, ExpectedCommit]) -> None:
    messages = git(repo.path, "log", "--all", "-z", "--format=%H%n%B").split(b"\0")
    found_any_middle = False
    keys: Counter[str] = Counter()
    for entry in messages:
        if not entry.strip():
            continue
        sha, _, body = entry.lstrip(b"\n").decode().partition("\n")
        c = all_commits[sha]
        found: list[ExpectedTrailer] = []
        paragraphs = body.rstrip("\n").split("\n\n")
        for i, para in enumerate(paragraphs):
            for line in para.split("\n"):
                m = TRAILER_RE.match(line)
                if m and m["key"].lower() in KINDS:
                    found.append(ExpectedTrailer(m["key"].lower(), m["name"], m["email"]))
                    keys[m["key"]] += 1
                    if i < len(paragraphs) - 1:
                        found_any_middle = True
        assert found == list(c.trailers), sha
    assert found_any_middle, "no trailer outside the last paragraph"
    assert any(k != k.lower() and k.lower() in KINDS and k not in TRAILER_KINDS for k in keys), (
        "no odd casing"
    )
    assert any(k.islower() for k in keys)
    assert {k.lower() for k in keys} == KINDS
    assert sum(1 for c in repo.commits if len(c.trailers) >= 2) >= N_COMMITS // 10


def test_persons(repo: SynthRepo) -> None:
    owner: dict[tuple[str, str], str] = {}
    for person, identities in repo.persons.items():
        for ident in identities:
            assert ident not in owner, f"{ident} belongs to {owner[ident]} and {person}"
            owner[ident] = person
    for c in [*repo.commits, *repo.unmerged]:
        assert owner[(c.author_name, c.author_email)] == c.person
        for t in c.trailers:
            assert (t.name, t.email) in owner
    assert "bot:dependabot" in repo.persons
    assert any(c.person == "bot:dependabot" for c in repo.commits)
    humans = [p for p in repo.persons if not p.startswith("bot:")]
    assert len(humans) == 12
    assert sum(1 for p in humans if len(repo.persons[p]) >= 2) >= 4
    names = {n for ids in repo.persons.values() for n, _ in ids}
    assert "Zoë Ångström" in names and "李雷" in names
    assert any("users.noreply.github.com" in e for p in humans for _, e in repo.persons[p])


def test_mailmap(repo: SynthRepo) -> None:
    owner = {e.lower(): p for p, ids in repo.persons.items() for _, e in ids}
    identities = [(p, n, e) for p, ids in repo.persons.items() for n, e in ids]
    query = "".join(f"{n} <{e}>\n" for _, n, e in identities).encode()
    out = git(repo.path, "check-mailmap", "--stdin", stdin=query).decode().splitlines()
    assert len(out) == len(identities)
    changed = unchanged_variants = 0
    for (person, name, email), mapped in zip(identities, out, strict=True):
        m = re.fullmatch(r"(.*) <(.*)>", mapped)
        assert m is not None
        if (m[1], m[2]) != (name, email):
            changed += 1
            assert owner.get(m[2].lower(), person) == person, f"{name} <{email}> mapped to another person"
        elif len(repo.persons[person]) > 1 and (name, email) != repo.persons[person][0]:
            unchanged_variants += 1
    assert changed >= 3
    assert unchanged_variants >= 1, "every variant is in the mailmap; identity resolution has nothing to do"
    for line in repo.mailmap.splitlines():
        assert line.startswith("#") or re.fullmatch(r"([^<>]+ )?<[^<>]+> <[^<>]+>", line), line


def test_reverts(repo: SynthRepo) -> None:
    by_sha = {c.sha: c for c in repo.commits}
    reverts = [c for c in repo.commits if c.reverted_sha is not None]
    assert len(reverts) == repo.reverts >= 1
    for r in reverts:
        assert r.reverted_sha is not None
        target = by_sha[r.reverted_sha]
        assert r.message.startswith(
            f'Revert "{target.message.splitlines()[0]}"\n\nThis reverts commit {target.sha}.'
        )
        inverse = sorted(
            (
                ExpectedFile(
                    f.old_path or f.path, f.path if f.old_path else None, f.lines_deleted, f.lines_added
                )
                for f in target.files
            ),
            key=lambda f: f.path.encode(),
        )
        assert list(r.files) == inverse
    assert not any(c.reverted_sha is None and "This reverts commit" in c.message for c in repo.commits)


def test_reverts_by_same_and_other_person(tmp_path: Path) -> None:
    r = generate_repo(tmp_path / "big", commits=1500, seed=3)
    by_sha = {c.sha: c for c in r.commits}
    same = other = 0
    for c in r.commits:
        if c.reverted_sha:
            if by_sha[c.reverted_sha].person == c.person:
                same += 1
            else:
                other += 1
    assert same >= 1 and other >= 1


def test_cli_and_hash_seed_independence(tmp_path: Path) -> None:
    """The CLI prints one summary line; str hash randomisation never leaks into the history."""
    root = Path(__file__).resolve().parent.parent
    heads = []
    for hash_seed in ("1", "2"):
        target = tmp_path / f"cli{hash_seed}"
        proc = subprocess.run(
            [sys.executable, "-m", "tests.support.synthrepo", str(target), "--commits", "400", "--seed", "2"],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        )
        lines = proc.stdout.strip().splitlines()
        assert len(lines) == 1
        assert "400 commits" in lines[0] and "merges" in lines[0] and lines[0].endswith("s")
        assert git(target, "rev-list", "--count", "main").decode().strip() == "400"
        heads.append(git(target, "rev-parse", "main").decode().strip())
    assert heads[0] == heads[1]
    assert heads[0] == generate_repo(tmp_path / "inproc", commits=400, seed=2, manifest=False).head
