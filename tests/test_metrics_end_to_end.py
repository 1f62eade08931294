"""Metrics end to end: the local GitHub server's seeded scenario plus a synthetic git repository."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.config import RepositoryConfig, Settings
from pipeline.db import connect
from pipeline.git_repo import RepoSpec
from pipeline.github_client import ClientSettings, GitHubClient
from pipeline.metrics.common import MetricSettings, pseudonym
from pipeline.metrics.run import compute_metrics
from pipeline.sync import run_sync
from tests.support.github_scenario import Dataset, generate_dataset
from tests.support.github_server import GitHubServer
from tests.support.synthrepo import generate_repo


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dataset, duckdb.DuckDBPyConnection]]:
    base = tmp_path_factory.mktemp("e2e")
    dataset = generate_dataset(21)
    synth = generate_repo(base / "git", commits=400, seed=3, manifest=False)
    con = connect(base / "e2e.duckdb")
    with GitHubServer(dataset, quota=10**9) as server:
        client = GitHubClient("valid-token", ClientSettings(base_url=server.base_url))
        summary = run_sync(
            con,
            Settings(),
            [RepositoryConfig(RepoSpec(synth.path, "acme/synthetic"))],
            github_repositories=[dataset.repositories[0].full_name],
            github_client=client,
        )
    assert summary.status == "succeeded", [s.error_message for s in summary.steps]
    yield dataset, con


def _settings(dataset: Dataset, **kw: object) -> MetricSettings:
    return MetricSettings(as_of=dataset.now.replace(tzinfo=None), **kw)  # type: ignore[arg-type]


def test_commitment_outcomes_match_the_scenario(loaded: tuple[Dataset, duckdb.DuckDBPyConnection]) -> None:
    dataset, con = loaded
    compute_metrics(con, _settings(dataset))
    repo = dataset.repositories[0]
    got = {
        (n, login): (outcome, slip)
        for n, login, outcome, slip in con.execute(
            "SELECT number, assignee_login, outcome, slip_days FROM fct_commitments"
        ).fetchall()
    }
    checked = 0
    for tag in ("closed_on_time", "closed_late", "overdue_open", "not_planned"):
        for number in repo.scenarios.get(tag, []):
            item = repo.items[number]
            if (
                item.milestone is None
                or item.milestone.due_on is None
                or set(repo.scenarios.get("reopened", [])) & {number}
            ):
                continue
            unassigned = {e.assignee.login for e in item.timeline if e.event == "unassigned" and e.assignee}
            due = item.milestone.due_on.date()
            for person in item.assignees:
                if person.login in unassigned:
                    continue
                expected: tuple[str, int | None]
                if item.state == "open":
                    expected = ("overdue" if dataset.now.date() > due else "pending", None)
                elif item.state_reason in ("not_planned", "duplicate"):
                    expected = ("dropped", None)
                else:
                    closed = item.closed_at.date()  # type: ignore[union-attr]
                    expected = ("on_time", None) if closed <= due else ("late", (closed - due).days)
                assert got[(number, person.login)] == expected, (tag, number, person.login)
                checked += 1
    assert checked >= 10


def test_every_family_writes_rows_without_bots_scores_or_ranks(
    loaded: tuple[Dataset, duckdb.DuckDBPyConnection],
) -> None:
    dataset, con = loaded
    written = compute_metrics(con, _settings(dataset))
    assert written["fct_commitments"] > 0 and written["metric_follow_through"] > 0
    bots = {r[0] for r in con.execute("SELECT contributor_id FROM dim_contributors WHERE is_bot").fetchall()}
    assert bots
    for table in written:
        columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()]
        assert not any("score" in c or c.endswith("rank") or c.startswith("rank") for c in columns), table
        if table.startswith("metric_") and "contributor_id" in columns:
            ids = {r[0] for r in con.execute(f"SELECT DISTINCT contributor_id FROM {table}").fetchall()}
            assert not ids & bots, table
            assert "evidence_keys" in columns, table


def test_rerun_is_identical_and_pseudonymize_hides_people(
    loaded: tuple[Dataset, duckdb.DuckDBPyConnection],
) -> None:
    dataset, con = loaded
    compute_metrics(con, _settings(dataset))
    first = con.execute("SELECT * FROM metric_follow_through ORDER BY ALL").fetchall()
    compute_metrics(con, _settings(dataset))
    assert con.execute("SELECT * FROM metric_follow_through ORDER BY ALL").fetchall() == first

    compute_metrics(con, _settings(dataset, pseudonymize=True))
    logins = {p.login for p in dataset.people}
    dump = str(con.execute("SELECT * FROM fct_commitments").fetchall()) + str(
        con.execute("SELECT * FROM metric_follow_through").fetchall()
    )
    assert not any(f"'{login}'" in dump or f"github:{login}'" in dump for login in logins)
    # Nor inside keys (github:commitment:owner/name#N/login), and never pseudonymized twice: the
    # families that read fct_commitments see the same pseudonyms as fct_commitments.
    keys = str(con.execute("SELECT commitment_key FROM fct_commitments").fetchall()) + str(
        con.execute("SELECT evidence_keys FROM metric_expectations").fetchall()
    )
    assert not any(f"/{login}'" in keys for login in logins)
    assert "/person-" in keys
    assert {
        r[0]
        for r in con.execute(
            "SELECT contributor_id FROM metric_expectations WHERE contributor_id IS NOT NULL"
        ).fetchall()
    } <= {r[0] for r in con.execute("SELECT contributor_id FROM fct_commitments").fetchall()}
    people = {
        r[0] for r in con.execute("SELECT DISTINCT contributor_id FROM metric_follow_through").fetchall()
    }
    assert pseudonym("github:" + sorted(logins)[0]) in people or all(
        p is None or p.startswith("person-") for p in people
    )
    compute_metrics(con, _settings(dataset))  # leave real names for the other tests


def test_cli_metrics_as_of_and_window(
    loaded: tuple[Dataset, duckdb.DuckDBPyConnection], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from pipeline.cli import main

    dataset, con = loaded
    db = tmp_path / "copy.duckdb"
    con.execute(f"ATTACH '{db}' AS copy")
    con.execute(
        "COPY FROM DATABASE " + con.execute("SELECT current_database()").fetchall()[0][0] + " TO copy"
    )
    con.execute("DETACH copy")
    day = dataset.now.date().isoformat()
    result = CliRunner().invoke(
        main, ["metrics", "--db", str(db), "--as-of", day, "--window", "4w", "--min-n", "3"]
    )
    assert result.exit_code == 0, result.output
    assert f"metrics as of {day} 23:59" in result.output and "window 28 days" in result.output
    copy = duckdb.connect(str(db), read_only=True)
    windows = copy.execute(
        "SELECT DISTINCT period_start, period_end FROM metric_follow_through WHERE period_type = 'window'"
    ).fetchall()
    assert len(windows) == 1 and (windows[0][1] - windows[0][0]).days == 27
    bad = CliRunner().invoke(main, ["metrics", "--db", str(db), "--as-of", "yesterday"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
