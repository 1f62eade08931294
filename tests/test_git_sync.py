"""Git sync end to end on real repositories: incremental, force-push, refs, several repos, fct views."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline.config import RepositoryConfig, Settings
from pipeline.git_repo import RepoSpec
from pipeline.git_sync import GitSyncOptions, sync_repository
from pipeline.runs import start_run
from pipeline.sync import run_sync
from tests.conftest import GitRepo


def _sync(con: duckdb.DuckDBPyConnection, path: Path, branches: str = "default", **settings: object) -> int:
    summary = run_sync(con, Settings(**settings), [RepositoryConfig(RepoSpec(path), branches)])  # type: ignore[arg-type]
    assert summary.status == "succeeded", [s.error_message for s in summary.steps]
    return summary.count_commits_added


def _shas(con: duckdb.DuckDBPyConnection, where: str = "true") -> set[str]:
    return {r[0] for r in con.execute(f"SELECT sha FROM fct_commits WHERE {where}").fetchall()}


def _linear(repo: GitRepo, n: int, prefix: str = "c") -> list[str]:
    return [repo.commit(f"{prefix}{i}", {f"{prefix}{i}.txt": f"{i}\n"}) for i in range(n)]


def test_incremental_sync_reads_only_new_commits(con: duckdb.DuckDBPyConnection, repo: GitRepo) -> None:
    first = _linear(repo, 5)
    assert _sync(con, repo.path) == 5
    assert _sync(con, repo.path) == 0
    steps = con.execute("SELECT status FROM pipeline_run_steps ORDER BY started_at").fetchall()
    assert [s[0] for s in steps] == ["succeeded", "unchanged"]
    more = _linear(repo, 3, prefix="d")
    assert _sync(con, repo.path) == 3
    assert _shas(con) == set(first + more)
    assert con.execute("SELECT count(*), count(DISTINCT sha) FROM raw_git__commits").fetchall() == [(8, 8)]
    cursor = json.loads(con.execute("SELECT cursor FROM sync_state WHERE source = 'git'").fetchall()[0][0])
    assert cursor["tips"] == {"refs/heads/main": more[-1]}


def test_force_push_removes_rewritten_commits_and_brings_them_back(
    con: duckdb.DuckDBPyConnection, repo: GitRepo
) -> None:
    a, b, c = _linear(repo, 3)
    _sync(con, repo.path)
    repo.git("reset", "-q", "--hard", a)
    d = repo.commit("rewritten", {"x.txt": "x\n"})
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "-q", "--prune=now")  # the old tip no longer exists at all
    assert _sync(con, repo.path) == 1
    assert _shas(con) == {a, d}  # what a fresh sync of the new history holds
    step = con.execute(
        "SELECT details, warnings FROM pipeline_run_steps ORDER BY started_at DESC LIMIT 1"
    ).fetchall()[0]
    assert json.loads(step[0])["removed_unreachable"] == 2
    assert "no longer reachable" in step[1][0] and "were removed" in step[1][0]

    # The branch comes back to c (e.g. the force-push is undone by pushing c again).
    repo.git("fetch", "-q", str(repo.path), a)  # keep objects; c is recreated identically below
    repo.git("reset", "-q", "--hard", a)
    b2 = repo.commit("c1", {"c1.txt": "1\n"}, when=1_700_007_200)
    c2 = repo.commit("c2", {"c2.txt": "2\n"}, when=1_700_010_800)
    assert (b2, c2) == (b, c)
    assert _sync(con, repo.path) == 2  # loaded again: they had been removed
    assert _shas(con) == {a, b, c}


def test_default_branch_versus_all_branches(con: duckdb.DuckDBPyConnection, repo: GitRepo) -> None:
    base = _linear(repo, 2)
    repo.git("checkout", "-q", "-b", "feature")
    feature = repo.commit("feature work", {"f.txt": "f\n"})
    repo.git("checkout", "-q", "main")
    repo.git("branch", "copy-of-feature", "feature")  # same commits through two refs
    assert _sync(con, repo.path) == 2
    assert _shas(con) == set(base)
    assert _sync(con, repo.path, "all") == 1
    assert _shas(con) == {*base, feature}
    assert con.execute("SELECT count(*) FROM raw_git__commits").fetchall()[0][0] == 3
    # Back to the default branch only: the feature commit goes, as in a fresh sync of main.
    assert _sync(con, repo.path) == 0
    assert _shas(con) == set(base)


def test_branch_option_and_unknown_branch(con: duckdb.DuckDBPyConnection, repo: GitRepo) -> None:
    _linear(repo, 1)
    repo.git("checkout", "-q", "-b", "release")
    release = repo.commit("release fix")
    repo.git("checkout", "-q", "main")
    assert _sync(con, repo.path, "branch:release") == 2
    assert release in _shas(con)
    summary = run_sync(con, Settings(), [RepositoryConfig(RepoSpec(repo.path), "branch:nope")])
    assert summary.status == "failed"
    assert "branch 'nope' does not exist" in (summary.steps[0].error_message or "")


def test_several_repositories_in_one_database(
    con: duckdb.DuckDBPyConnection, make_repo: type[GitRepo], tmp_path: Path
) -> None:
    one, two = make_repo(tmp_path / "one"), make_repo(tmp_path / "two")
    _linear(one, 2)
    _linear(two, 3)
    two.git("remote", "add", "origin", "https://user:s3cret-token@github.com/acme/two.git")
    summary = run_sync(
        con,
        Settings(),
        [RepositoryConfig(RepoSpec(one.path, "team/one")), RepositoryConfig(RepoSpec(two.path))],
    )
    assert summary.status == "succeeded"
    counts = dict(con.execute("SELECT repo, count(*) FROM fct_commits GROUP BY repo").fetchall())
    assert counts == {"team/one": 2, "acme/two": 3}
    remote = con.execute("SELECT remote_url FROM dim_repositories WHERE repo = 'acme/two'").fetchall()[0][0]
    assert remote == "https://github.com/acme/two.git"
    everything = str(con.execute("SELECT * FROM dim_repositories").fetchall())
    assert "s3cret" not in everything


def test_commit_facts_trailers_reverts_and_mailmap(con: duckdb.DuckDBPyConnection, repo: GitRepo) -> None:
    repo.commit(
        "Add mailmap",
        {".mailmap": "Grace Hopper <grace@example.org> <ghopper@old.example>\n"},
        author=("Grace Hopper", "grace@example.org"),
    )
    work = repo.commit(
        "Feature\n\nsquashed:\nCo-authored-by: Alan Turing <alan@example.org>\n\n"
        "Reviewed-by: G. Hopper <ghopper@old.example>\nSIGNED-OFF-BY: Ada Lovelace <ada@example.org>\n"
        "Co-authored-by: Bot <49699333+dependabot[bot]@users.noreply.github.com>",
        {"lib.py": "a\nb\nc\n"},
    )
    revert = repo.commit(
        f'Revert "Feature"\n\nThis reverts commit {work[:10]}.',
        {"lib.py": None},
        author=("G Hopper", "ghopper@old.example"),
    )
    _sync(con, repo.path)
    row = con.execute(
        "SELECT author_name, author_email, is_revert, reverted_sha, files_changed, lines_added, lines_deleted "
        "FROM fct_commits WHERE sha = ?",
        [revert],
    ).fetchall()[0]
    assert row == ("Grace Hopper", "grace@example.org", True, work, 1, 0, 3)
    trailers = con.execute(
        "SELECT trailer, name, email, is_in_final_paragraph FROM fct_commit_trailers WHERE sha = ? "
        "ORDER BY trailer_index",
        [work],
    ).fetchall()
    assert trailers == [
        ("co-authored-by", "Alan Turing", "alan@example.org", False),
        ("reviewed-by", "Grace Hopper", "grace@example.org", True),
        ("signed-off-by", "Ada Lovelace", "ada@example.org", True),
        ("co-authored-by", "Bot", "49699333+dependabot[bot]@users.noreply.github.com", True),
    ]
    people = dict(con.execute("SELECT display_name, is_bot FROM dim_contributors").fetchall())
    assert people == {"Grace Hopper": False, "Ada Lovelace": False, "Alan Turing": False, "Bot": True}
    grace = con.execute(
        "SELECT count_identities, count_commits_authored FROM dim_contributors WHERE display_name = 'Grace Hopper'"
    ).fetchall()
    assert grace == [(3, 2)]  # grace@, ghopper@ as author, "G. Hopper" in a trailer


def test_sync_repository_is_a_plain_function(con: duckdb.DuckDBPyConnection, repo: GitRepo) -> None:
    """Flows wrap it; it takes its connection and options explicitly and returns what it did."""
    shas = _linear(repo, 4)
    run_id = start_run(con, "test")
    seen: list[tuple[int, int]] = []
    result = sync_repository(
        con,
        RepoSpec(repo.path),
        run_id,
        GitSyncOptions(batch_commits=1),
        progress=lambda d, t: seen.append((d, t)),
    )
    assert result.status == "succeeded" and result.count_rows_added == 4
    assert seen[0][0] == 0 and seen[-1] == (4, 4)  # the total grows while git lists the commits
    loaded = {
        r[0] for r in con.execute("SELECT sha FROM raw_git__commits WHERE run_id = ?", [run_id]).fetchall()
    }
    assert loaded == set(shas)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_parallel_readers_load_each_commit_once(
    con: duckdb.DuckDBPyConnection, repo: GitRepo, workers: int
) -> None:
    shas = _linear(repo, 12)
    repo.git("checkout", "-q", "-b", "side", shas[3])
    side = _linear(repo, 4, prefix="s")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "side")
    run_id = start_run(con, "test")
    options = GitSyncOptions(workers=workers, chunk_commits=2, batch_commits=3)
    result = sync_repository(con, RepoSpec(repo.path), run_id, options)
    assert result.details["git_processes"] == workers
    assert result.count_rows_added == 17
    assert _shas(con) == {*shas, *side, repo.git("rev-parse", "HEAD")}
    assert con.execute("SELECT count(*) FROM raw_git__commits").fetchall()[0][0] == 17


def test_readers_stop_when_the_consumer_fails(repo: GitRepo) -> None:
    """An insert error mid-way must not leave git processes or threads blocked behind a full queue."""
    import threading

    from pipeline.git_repo import open_repo
    from pipeline.git_sync import extract_commits

    shas = _linear(repo, 30)
    before = threading.active_count()
    batches = extract_commits(
        open_repo(RepoSpec(repo.path)),
        shas[::-1],
        "run",
        GitSyncOptions(workers=2, chunk_commits=5, batch_commits=1),
    )
    first = next(batches)
    assert first.num_rows == 1
    batches.close()  # what a raising consumer does to the generator
    assert threading.active_count() == before
