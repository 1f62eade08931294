"""`perftrust report` and the reports the nightly run renders: teams from perftrust.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.nightly import render_report, run_plain
from pipeline.store import Store
from tests.support.history import grow_history


@pytest.fixture
def published(tmp_path: Path) -> Path:
    grow_history(tmp_path / "repo", 300)  # Dev 0..6, hourly from 2020-09-13
    config = tmp_path / "perftrust.toml"
    config.write_text(
        '[database]\npath = "perftrust.duckdb"\n[[repositories]]\npath = "repo"\n'
        '[reports]\noutput_dir = "out"\n'
        '[identities]\naliases = { "Dev Three" = ["dev3@example.org"] }\n'
        '[teams]\ncore = ["dev1@example.org", "DEV2@example.org", "Dev Three", "nobody@example.org"]\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    run_plain(settings, "run", Store.for_settings(settings), "2020-09-30")
    return config


def test_report_for_a_team_and_for_everyone(published: Path) -> None:
    out = published.parent / "team-report"
    result = CliRunner().invoke(
        main, ["report", "--config", str(published), "--team", "core", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "report for 3 people" in result.output  # dev1, dev2 (any case), Dev Three by alias
    assert "nobody@example.org matches no identity" in result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "core" in page and "Dev 1" in page and "Dev 4" not in page
    assert (out / "summary.md").exists() and any((out / "csv").glob("metric_*.csv"))

    everyone = CliRunner().invoke(main, ["report", "--config", str(published)])
    assert everyone.exit_code == 0 and "report for 7 people" in everyone.output
    assert (published.parent / "out" / "report.html").exists()


def test_unknown_team_and_missing_database_say_what_to_do(published: Path, tmp_path: Path) -> None:
    unknown = CliRunner().invoke(main, ["report", "--config", str(published), "--team", "platform"])
    assert unknown.exit_code == 2 and "no team 'platform'" in unknown.output and "core" in unknown.output
    missing = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "perftrust" in missing.output


def test_the_nightly_renders_the_report_and_one_per_team(published: Path) -> None:
    settings = load_settings(published)
    html = render_report(settings.db_path, settings)
    assert html == published.parent / "out" / "report.html"
    team_page = (published.parent / "out" / "team-core" / "report.html").read_text(encoding="utf-8")
    assert "Dev 2" in team_page and "Dev 5" not in team_page
