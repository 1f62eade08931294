"""The example perftrust.toml of `perftrust init`: it parses, switched on it still parses, it names every key
of the schema, the defaults it shows are the real ones, and write_example never clobbers a file."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import (
    _ORG_KEYS,
    _REPO_KEYS,
    _SCHEMA,
    DEFAULT_BOT_PATTERNS,
    GitHubConfig,
    MetricsConfig,
    NightlyConfig,
    ReportsConfig,
    Settings,
    load_settings,
    settings_from_dict,
)
from pipeline.errors import ConfigError
from pipeline.init_config import EXAMPLE_CONFIG, write_example

# A switched-off key: `# key = value` (a bare or quoted TOML key), or a switched-off table header.
_OFF_KEY = re.compile(r'^# ((?:[A-Za-z0-9_-]+|"[^"]+") = .+)$')
_OFF_TABLE = re.compile(r"^# (\[\[?[A-Za-z0-9_.-]+\]\]?)\s*$")
# Anything that still looks like a key after switching everything on: a line the rule above missed.
_LOOKS_LIKE_KEY = re.compile(r'^#\s*(?:[A-Za-z0-9_-]+|"[^"]+")\s*=')


def switch_everything_on(text: str) -> tuple[str, int]:
    """Uncomment every `# key = value` line (and the lines of a multi-line array it opens)."""
    out: list[str] = []
    switched = 0
    in_array = False
    for line in text.splitlines():
        if in_array:
            assert line.startswith("# "), f"a switched-off array continues with {line!r}"
            out.append(line[2:])
            in_array = line.strip() != "# ]"
            continue
        match = _OFF_KEY.match(line) or _OFF_TABLE.match(line)
        if match:
            out.append(match.group(1))
            switched += 1
            in_array = match.group(1).rstrip().endswith("[")
        else:
            assert not _LOOKS_LIKE_KEY.match(line), f"a switched-off key in an unexpected form: {line!r}"
            out.append(line)
    return "\n".join(out) + "\n", switched


def test_the_example_parses_as_written(tmp_path: Path) -> None:
    path = tmp_path / "perftrust.toml"
    path.write_text(EXAMPLE_CONFIG, encoding="utf-8")
    settings = load_settings(path)
    # Switched off, every key is at its default.
    assert settings.db_path == tmp_path / "perftrust.duckdb"
    assert [r.spec.path for r in settings.repositories] == [tmp_path / "."]
    assert settings.github == GitHubConfig()
    assert settings.metrics == MetricsConfig()
    assert settings.nightly == NightlyConfig()
    assert settings.reports == ReportsConfig()
    assert settings.report_dir == tmp_path / "perftrust-reports"  # beside the database
    assert settings.bot_patterns == DEFAULT_BOT_PATTERNS
    assert settings.keep_previous == Settings.keep_previous
    assert (settings.git_workers, settings.store_dir, settings.aliases, settings.teams) == (
        None,
        None,
        {},
        {},
    )


def test_the_example_parses_with_every_key_switched_on(tmp_path: Path) -> None:
    text, switched = switch_everything_on(EXAMPLE_CONFIG)
    assert switched >= 30
    path = tmp_path / "perftrust.toml"
    path.write_text(text, encoding="utf-8")
    on = load_settings(path)
    off = settings_from_dict(tomllib.loads(EXAMPLE_CONFIG), path)

    # The values shown for keys that have a default are that default.
    assert on.metrics == off.metrics
    assert on.keep_previous == off.keep_previous
    assert on.store_path == off.store_path
    # output_dir's example value is where the default (beside the database) puts the reports.
    assert on.report_dir == off.report_dir
    assert replace(on.reports, output_dir=None) == replace(off.reports, web_url=on.reports.web_url)
    assert on.nightly == replace(off.nightly, dask_address=on.nightly.dask_address)
    assert on.github == replace(
        off.github,
        repositories=on.github.repositories,
        organizations=on.github.organizations,
        due_date_fields=on.github.due_date_fields,
    )
    assert on.bot_patterns[: len(DEFAULT_BOT_PATTERNS)] == DEFAULT_BOT_PATTERNS
    # ... and the examples of keys without one are real values.
    assert on.github.repositories and on.github.due_date_fields and on.teams and on.aliases
    assert {o.name for o in on.github.organizations} == {"acme", "acme-labs"}
    assert len(on.bot_patterns) > len(DEFAULT_BOT_PATTERNS)
    assert on.git_workers and on.reports.web_url and on.nightly.dask_address
    assert on.repositories[0].spec.name and on.repositories[0].branches == "default"


def test_every_key_of_the_schema_is_in_the_example() -> None:
    text, _ = switch_everything_on(EXAMPLE_CONFIG)
    data: dict[str, Any] = tomllib.loads(text)
    for section, keys in _SCHEMA.items():
        assert section in data, f"[{section}] is missing from the example"
        for key in keys:
            assert key in data[section], f"[{section}].{key} is missing from the example"
        assert set(data[section]) <= set(keys) or section == "teams"
    assert set(data) == {*_SCHEMA, "repositories"}
    assert set(_REPO_KEYS) <= set(data["repositories"][0])
    tables = [o for o in data["github"]["organizations"] if isinstance(o, dict)]
    assert any(isinstance(o, str) for o in data["github"]["organizations"])
    assert tables and set(_ORG_KEYS) <= set(tables[0])


def test_every_key_has_a_comment_saying_what_it_does_and_its_default() -> None:
    lines = EXAMPLE_CONFIG.splitlines()
    for i, line in enumerate(lines):
        is_key = _OFF_KEY.match(line) or re.match(r'^(?:[A-Za-z0-9_-]+|"[^"]+") = ', line)
        if is_key and not lines[i - 1].startswith("#   "):  # not inside a multi-line array
            above = lines[i - 1]
            assert above.startswith("# ") and not _OFF_KEY.match(above), f"no comment above {line!r}"
            assert "Default" in above or "Required" in above, f"no default named above {line!r}"


def test_write_example_writes_and_never_overwrites_without_force(tmp_path: Path) -> None:
    path = tmp_path / "perftrust.toml"
    assert write_example(path) == path
    assert path.read_text(encoding="utf-8") == EXAMPLE_CONFIG
    load_settings(path)

    path.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        write_example(path)
    assert "already exists" in refused.value.problem
    assert refused.value.fix is not None and "--force" in refused.value.fix
    assert path.read_text(encoding="utf-8") == "# mine\n"

    write_example(path, force=True)
    assert path.read_text(encoding="utf-8") == EXAMPLE_CONFIG


def test_write_example_names_the_problem_with_a_bad_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        write_example(tmp_path / "missing" / "perftrust.toml")
    with pytest.raises(ConfigError, match="is a folder"):
        write_example(tmp_path, force=True)
