"""Identity resolution: mailmap, case-folded emails, GitHub noreply logins, aliases, bots, placeholders."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.config import RepositoryConfig, Settings
from pipeline.git_repo import RepoSpec
from pipeline.identities import github_login_from_email, is_placeholder_email
from pipeline.sync import run_sync
from tests.conftest import GitRepo


def _contributors(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """contributor_id -> sorted emails of its identities."""
    rows = con.execute(
        "SELECT contributor_id, list(DISTINCT coalesce(email, '') ORDER BY coalesce(email, '')) "
        "FROM dim_identities GROUP BY 1"
    ).fetchall()
    return {cid: tuple(emails) for cid, emails in rows}


def _sync(con: duckdb.DuckDBPyConnection, repo: GitRepo, settings: Settings | None = None) -> None:
    summary = run_sync(con, settings or Settings(), [RepositoryConfig(RepoSpec(repo.path))])
    assert summary.status == "succeeded"


@pytest.mark.parametrize(
    ("email", "login"),
    [
        ("12345+Octo-Cat@users.noreply.github.com", "octo-cat"),
        ("octocat@users.noreply.github.com", "octocat"),
        ("49699333+dependabot[bot]@users.noreply.github.com", "dependabot[bot]"),
        ("octocat@github.com", None),
        (None, None),
    ],
)
def test_github_login_from_noreply(email: str | None, login: str | None) -> None:
    assert github_login_from_email(email) == login


def test_noreply_case_and_mailmap_link_one_person(con: duckdb.DuckDBPyConnection, repo: GitRepo) -> None:
    repo.commit(
        "a",
        {".mailmap": "Mona Lisa <mona@work.example> <mona@home.example>\n"},
        author=("Mona Lisa", "mona@work.example"),
    )
    repo.commit("b", author=("mona", "MONA@work.example"))
    repo.commit("c", author=("Mona", "mona@home.example"))
    repo.commit("d", author=("Mona L", "583231+monalisa@users.noreply.github.com"))
    repo.commit("e", author=("monalisa", "monalisa@users.noreply.github.com"))
    _sync(con, repo)
    groups = _contributors(con)
    assert groups == {
        "email:mona@work.example": ("MONA@work.example", "mona@home.example", "mona@work.example"),
        "github:monalisa": ("583231+monalisa@users.noreply.github.com", "monalisa@users.noreply.github.com"),
    }
    display = con.execute(
        "SELECT display_name, count_commits_authored FROM dim_contributors ORDER BY 1"
    ).fetchall()
    # github:monalisa: "Mona L" and "monalisa" have one commit each; ties go alphabetically.
    assert display == [("Mona L", 2), ("Mona Lisa", 3)]
    resolved = dict(con.execute("SELECT email, resolved_by FROM dim_identities").fetchall())
    assert resolved["mona@home.example"] == ["mailmap"]
    assert resolved["MONA@work.example"] == ["email"]
    assert resolved["monalisa@users.noreply.github.com"] == ["noreply"]


def test_alias_joins_what_nothing_else_would(con: duckdb.DuckDBPyConnection, repo: GitRepo) -> None:
    repo.commit("a", author=("Mona Lisa", "mona@work.example"))
    repo.commit("b", author=("Mona", "583231+monalisa@users.noreply.github.com"))
    _sync(con, repo, Settings(aliases={"Mona Lisa": ("mona@work.example", "github:monalisa")}))
    rows = con.execute(
        "SELECT contributor_id, display_name, github_login, count_identities FROM dim_contributors"
    ).fetchall()
    assert rows == [("alias:Mona Lisa", "Mona Lisa", "monalisa", 2)]
    resolved = {r[0] for r in con.execute("SELECT unnest(resolved_by) FROM dim_identities").fetchall()}
    assert "alias" in resolved


def test_same_name_does_not_link_and_placeholders_do_not_link(
    con: duckdb.DuckDBPyConnection, repo: GitRepo
) -> None:
    repo.commit("a", author=("John", "john@a.example"))
    repo.commit("b", author=("John", "john@b.example"))
    for name in ("hpk", "guido", "arigo", "fijal", "cfbolz"):
        repo.commit(f"svn {name}", author=(name, "none@none"))
    repo.commit("svn hpk again", author=("hpk", "none@none"))
    _sync(con, repo)
    groups = _contributors(con)
    assert "email:john@a.example" in groups and "email:john@b.example" in groups
    placeholder = {cid for cid, emails in groups.items() if emails == ("none@none",)}
    assert len(placeholder) == 5  # one per name, not one for all
    hpk = con.execute(
        "SELECT count_commits_authored, emails FROM dim_contributors WHERE display_name = 'hpk'"
    ).fetchall()
    assert hpk == [(2, [])]  # a placeholder is no one's email


@pytest.mark.parametrize(
    ("email", "placeholder"),
    [
        ("none@none", True),
        ("root@localhost", True),
        ("(none)", True),
        ("nobody", True),
        ("ada@example.org", False),
        ("dev@company.io", False),
    ],
)
def test_placeholder_emails(email: str, placeholder: bool) -> None:
    assert is_placeholder_email(email) is placeholder


def test_bots_are_flagged_and_configurable(con: duckdb.DuckDBPyConnection, repo: GitRepo) -> None:
    repo.commit("human", author=("Ada Lovelace", "ada@example.org"))
    repo.commit("deps", author=("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"))
    repo.commit(
        "web merge", author=("Ada Lovelace", "ada@example.org"), committer=("GitHub", "noreply@github.com")
    )
    repo.commit("nightly", author=("CI Runner", "ci@build.example"))
    _sync(con, repo, Settings(bot_patterns=(*Settings().bot_patterns, r"^ci@build\.")))
    bots = dict(con.execute("SELECT display_name, is_bot FROM dim_contributors").fetchall())
    assert bots == {"Ada Lovelace": False, "dependabot[bot]": True, "GitHub": True, "CI Runner": True}


def test_changing_aliases_rebuilds_identities_without_new_commits(
    con: duckdb.DuckDBPyConnection, repo: GitRepo
) -> None:
    repo.commit("a", author=("A", "a@one.example"))
    repo.commit("b", author=("A", "a@two.example"))
    _sync(con, repo)
    assert con.execute("SELECT count(*) FROM dim_contributors").fetchall()[0][0] == 2
    _sync(con, repo, Settings(aliases={"A": ("a@one.example", "a@two.example")}))
    assert con.execute("SELECT contributor_id FROM dim_contributors").fetchall() == [("alias:A",)]
    authors = {r[0] for r in con.execute("SELECT author_contributor_id FROM fct_commits").fetchall()}
    assert authors == {"alias:A"}


def test_unresolved_identities_lists_namesakes_with_the_fix(
    con: duckdb.DuckDBPyConnection, repo: GitRepo
) -> None:
    repo.commit("a", author=("Sviatoslav Sydorenko", "work@example.org"))
    repo.commit("b", author=("Sviatoslav Sydorenko", "home@example.net"))
    repo.commit("c", author=("Ada Lovelace", "ada@example.org"))
    _sync(con, repo)
    rows = con.execute("SELECT email, reason FROM unresolved_identities ORDER BY email").fetchall()
    assert [r[0] for r in rows] == ["home@example.net", "work@example.org"]
    assert all("add an alias" in r[1] for r in rows)
    _sync(con, repo, Settings(aliases={"Sviatoslav": ("work@example.org", "home@example.net")}))
    assert con.execute("SELECT count(*) FROM unresolved_identities").fetchall() == [(0,)]
