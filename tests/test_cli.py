"""The perftrust command line as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import grouped_warnings, main
from pipeline.runs import StepResult
from tests.conftest import GitRepo


@pytest.fixture
def synced(repo: GitRepo, db_path: Path) -> tuple[GitRepo, Path]:
    repo.commit("one", {"a.txt": "a\n"})
    repo.commit("two", {"b.txt": "b\n"}, author=("Bo", "bo@example.org"))
    result = CliRunner().invoke(main, ["sync", "--repo", str(repo.path), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "commits added: 2" in result.output and "contributors: 2" in result.output
    return repo, db_path


@pytest.mark.usefixtures("prefect_api")
def test_run_defaults_to_the_repository_you_stand_in(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit("one", {"a.txt": "a\n"})
    monkeypatch.chdir(repo.path)
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 0, result.output
    # Inside a work tree everything goes to .perftrust/, which keeps itself out of git.
    assert (repo.path / ".perftrust" / "perftrust.duckdb").exists()
    assert (repo.path / ".perftrust" / "perftrust-reports" / "report.html").exists()
    assert not (repo.path / "perftrust.duckdb").exists() and not (repo.path / "reports").exists()
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""
    again = CliRunner().invoke(main, ["run"])
    assert "unchanged" in again.output and "commits added: 0" in again.output


def test_sql_formats(synced: tuple[GitRepo, Path]) -> None:
    _, db = synced
    query = "SELECT author_name, files_changed FROM fct_commits ORDER BY authored_at"
    as_json = CliRunner().invoke(main, ["sql", "--db", str(db), "--format", "json", query])
    assert json.loads(as_json.output) == [
        {"author_name": "Ada Lovelace", "files_changed": 1},
        {"author_name": "Bo", "files_changed": 1},
    ]
    as_csv = CliRunner().invoke(main, ["sql", "--db", str(db), "--format", "csv", query])
    assert as_csv.output.splitlines() == ["author_name,files_changed", "Ada Lovelace,1", "Bo,1"]
    as_table = CliRunner().invoke(main, ["sql", "--db", str(db), query])
    assert "Ada Lovelace" in as_table.output and "(2 rows)" in as_table.output


def test_sql_is_read_only_and_errors_are_clear(synced: tuple[GitRepo, Path], tmp_path: Path) -> None:
    _, db = synced
    write = CliRunner().invoke(main, ["sql", "--db", str(db), "DELETE FROM raw_git__commits"])
    assert write.exit_code == 2 and "read-only" in write.output.lower()
    typo = CliRunner().invoke(main, ["sql", "--db", str(db), "SELECT * FROM fct_comits"])
    assert typo.exit_code == 2 and "fct_comits" in typo.output
    missing = CliRunner().invoke(main, ["sql", "--db", str(tmp_path / "none.duckdb"), "SELECT 1"])
    assert missing.exit_code == 2 and "perftrust sync" in missing.output


def test_a_failed_repository_fails_the_command_but_not_the_others(
    synced: tuple[GitRepo, Path], tmp_path: Path
) -> None:
    repo, db = synced
    result = CliRunner().invoke(
        main, ["sync", "--db", str(db), "--repo", str(tmp_path / "nowhere"), "--repo", str(repo.path)]
    )
    assert result.exit_code == 1
    assert "does not exist" in result.output and "unchanged" in result.output


def test_config_file_repositories_and_unknown_keys(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("one", {"a.txt": "a\n"})
    config = tmp_path / "perftrust.toml"
    config.write_text(
        f'[database]\npath = "team.duckdb"\n\n[[repositories]]\npath = "{repo.path}"\nname = "acme/app"\n'
    )
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "team.duckdb").exists()
    config.write_text('[database]\npaht = "x.duckdb"\n')
    bad = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert bad.exit_code == 2
    assert "unknown key [database].paht" in bad.output and "fix:" in bad.output


def test_a_warning_many_repositories_share_is_said_once() -> None:
    """A token without read:project over many repositories: one line naming the first three and how
    many more, not one long line each; a warning of one repository stays as it is."""
    fix = "the token may not read projects (INSUFFICIENT_SCOPES); give the token the read:project scope"
    steps = []
    for name in ("acme/api", "acme/web", "acme/docs", "acme/infra", "acme/site"):
        step = StepResult("github_sync", name)
        step.warnings.append(f"GitHub Projects due dates of {name} were not read: {fix}")
        steps.append(step)
    steps[0].warnings.append("acme/api is now acme/api2 on GitHub (renamed or transferred)")
    assert grouped_warnings(steps) == [
        "acme/api, acme/web, acme/docs and 2 more: GitHub Projects due dates of each of these repositories "
        f"were not read: {fix}",
        "acme/api: acme/api is now acme/api2 on GitHub (renamed or transferred)",
    ]
    assert grouped_warnings(steps[1:2]) == [
        f"acme/web: GitHub Projects due dates of acme/web were not read: {fix}"
    ]
