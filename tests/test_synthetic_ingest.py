"""Ingest a realistic synthetic repository and compare every field with the generator's manifest."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from pipeline.config import RepositoryConfig, Settings
from pipeline.db import connect
from pipeline.git_repo import RepoSpec
from pipeline.sync import run_sync
from tests.support.synthrepo import SynthRepo, generate_repo


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthRepo, duckdb.DuckDBPyConnection]:
    base = tmp_path_factory.mktemp("synthetic")
    synth = generate_repo(base / "repo", commits=600, seed=7, bare=True)
    con = connect(base / "db.duckdb")
    # Small chunks so that several git processes share the work, as on a large repository.
    summary = run_sync(
        con,
        Settings(git_workers=2),
        [RepositoryConfig(RepoSpec(synth.path, "synthetic"), "all")],
    )
    assert summary.status == "succeeded"
    return synth, con


def test_every_commit_matches_the_manifest(synthetic: tuple[SynthRepo, duckdb.DuckDBPyConnection]) -> None:
    synth, con = synthetic
    rows = con.execute(
        """SELECT sha, parent_shas, author_name, author_email, author_epoch, author_tz,
                  committer_name, committer_email, committer_epoch, message,
                  list_sort(list_transform(files, lambda f: [f.path, f.old_path,
                      CAST(f.lines_added AS VARCHAR), CAST(f.lines_deleted AS VARCHAR)]))
           FROM raw_git__commits"""
    ).fetchall()
    loaded = {r[0]: r for r in rows}
    expected = [*synth.commits, *synth.unmerged]
    assert len(loaded) == len(rows) == len(expected)
    for commit in expected:
        row = loaded[commit.sha]
        files = sorted(
            [
                f.path,
                f.old_path,
                None if f.lines_added is None else str(f.lines_added),
                None if f.lines_deleted is None else str(f.lines_deleted),
            ]
            for f in commit.files
        )
        assert row[1:] == (
            list(commit.parents),
            commit.author_name,
            commit.author_email,
            commit.author_epoch,
            commit.author_tz,
            commit.committer_name,
            commit.committer_email,
            commit.committer_epoch,
            commit.message.rstrip("\n"),
            files,
        ), commit.sha


def test_trailers_and_reverts_match_the_manifest(
    synthetic: tuple[SynthRepo, duckdb.DuckDBPyConnection],
) -> None:
    synth, con = synthetic
    trailers: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for sha, trailer, name, email in con.execute(
        "SELECT sha, trailer, name, email FROM stg_git__commit_trailers ORDER BY sha, trailer_index"
    ).fetchall():
        trailers[sha].append((trailer, name, email))
    reverted = dict(con.execute("SELECT sha, reverted_sha FROM fct_commits WHERE is_revert").fetchall())
    expected_commits = [*synth.commits, *synth.unmerged]
    for commit in expected_commits:
        assert trailers.get(commit.sha, []) == [(t.trailer, t.name, t.email) for t in commit.trailers], (
            commit.sha
        )
        assert reverted.get(commit.sha) == commit.reverted_sha, commit.sha
    assert sum(len(c.trailers) for c in expected_commits) > 100
    assert synth.reverts > 0 and len(reverted) == synth.reverts


def test_merges_and_reachability(synthetic: tuple[SynthRepo, duckdb.DuckDBPyConnection]) -> None:
    synth, con = synthetic
    merges, loaded = con.execute(
        "SELECT count(*) FILTER (WHERE is_merge), count(*) FROM fct_commits"
    ).fetchall()[0]
    assert merges == synth.merges > 0
    assert loaded == len(synth.commits) + len(synth.unmerged)  # exactly what the synced branches reach


def test_identities_never_join_two_people(synthetic: tuple[SynthRepo, duckdb.DuckDBPyConnection]) -> None:
    """Precision is absolute (never merge two people); recall is what .mailmap and emails allow."""
    synth, con = synthetic
    person_of = {identity: person for person, identities in synth.persons.items() for identity in identities}
    people_in: dict[str, set[str]] = defaultdict(set)
    for name, email, contributor in con.execute(
        "SELECT name, email, contributor_id FROM dim_identities"
    ).fetchall():
        if (name, email) in person_of:
            people_in[contributor].add(person_of[(name, email)])
    assert all(len(people) == 1 for people in people_in.values()), people_in
    # Recall: every .mailmap line links the commit address to the proper one.
    contributor_of_email: dict[str, set[str]] = defaultdict(set)
    for email, contributor in con.execute(
        "SELECT lower(email), contributor_id FROM dim_identities"
    ).fetchall():
        contributor_of_email[email].add(contributor)
    links = 0
    for line in synth.mailmap.splitlines():
        if line.startswith("#") or "<" not in line:
            continue
        addresses = re.findall(r"<([^>]+)>", line)
        proper, commit_address = addresses[0].lower(), addresses[-1].lower()
        if commit_address in contributor_of_email and proper in contributor_of_email:
            assert contributor_of_email[commit_address] == contributor_of_email[proper], line
            links += 1
    assert links >= 5
    bots = {r[0] for r in con.execute("SELECT contributor_id FROM dim_contributors WHERE is_bot").fetchall()}
    bot_people = {p for c in bots for p in people_in.get(c, set())}
    assert bot_people == {p for p in synth.persons if p.startswith("bot:")}


def test_resync_of_an_unchanged_repository_adds_nothing(
    synthetic: tuple[SynthRepo, duckdb.DuckDBPyConnection],
) -> None:
    synth, con = synthetic
    summary = run_sync(con, Settings(), [RepositoryConfig(RepoSpec(synth.path, "synthetic"), "all")])
    assert [s.status for s in summary.steps] == ["unchanged"]
    assert con.execute("SELECT count(*) FROM raw_git__commits").fetchall()[0][0] == len(synth.commits) + 2


def test_latin1_and_unicode_names_survive(synthetic: tuple[SynthRepo, duckdb.DuckDBPyConnection]) -> None:
    synth, con = synthetic
    names = {r[0] for r in con.execute("SELECT DISTINCT author_name FROM raw_git__commits").fetchall()}
    expected = {c.author_name for c in synth.commits}
    assert names >= expected
    assert any(not n.isascii() for n in names)


def test_manifest_path_is_a_bare_repository(synthetic: tuple[SynthRepo, duckdb.DuckDBPyConnection]) -> None:
    synth, con = synthetic
    assert Path(synth.path, "HEAD").exists()
    assert con.execute("SELECT is_bare FROM dim_repositories").fetchall() == [(True,)]
