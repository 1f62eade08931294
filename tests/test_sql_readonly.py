"""`perftrust sql` is truly read-only: no file written, no network, no extension, no ATTACH, settings locked.

Every attack runs the command line (click's runner, in-process) against a real database synced
from a git repository, then checks that the published file's bytes are unchanged, that nothing in
the whole temporary folder was created, changed or removed (directory mtimes catch a file made
and deleted again, e.g. a spill folder), and that the command exited 2 with a message saying the
query was refused and what is allowed. Local files can be read only with --allow-read, and only
under the folders (or the files) it names."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline import db as pipeline_db
from pipeline.cli import main
from pipeline.config import RepositoryConfig, Settings
from pipeline.db import connect
from pipeline.git_repo import RepoSpec
from pipeline.sync import run_sync
from tests.conftest import GitRepo

ROOT = Path(__file__).resolve().parent.parent
SECRET = "top secret, not in the database"


@dataclass(frozen=True)
class Published:
    root: Path  # the temporary folder: everything below it is watched
    db: Path
    pristine: Path  # a copy of db outside root: each test starts from it, whatever an earlier one did
    secret: Path  # a local file outside any allowed folder
    data: Path  # a folder of CSV files a test may allow
    data_twin: Path  # a sibling whose name starts with the allowed folder's name
    data_link: Path  # a symbolic link to data


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    root = tmp_path_factory.mktemp("sql-readonly")
    old = {k: os.environ.get(k) for k in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")}
    os.environ.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    try:
        repo = GitRepo(root / "project")
        repo.commit("one", {"a.txt": "a\n"})
        repo.commit("two", {"b.txt": "b\n"}, author=("Bo", "bo@example.org"))
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    (root / "published").mkdir()
    db = root / "published" / "perftrust.duckdb"
    con = connect(db)
    run_sync(con, Settings(), [RepositoryConfig(RepoSpec(repo.path))])
    con.execute("CHECKPOINT")
    con.close()
    pristine = tmp_path_factory.mktemp("sql-readonly-pristine") / "perftrust.duckdb"
    shutil.copyfile(db, pristine)
    secret = root / "secret.csv"
    secret.write_text(f"secret\n{SECRET}\n", encoding="utf-8")
    data = root / "data"
    data.mkdir()
    (data / "targets.csv").write_text("team,target\ncore,3\nweb,5\n", encoding="utf-8")
    twin = root / "data-private"
    twin.mkdir()
    (twin / "salaries.csv").write_text(f"who,what\nbo,{SECRET}\n", encoding="utf-8")
    link = root / "data-link"
    link.symlink_to(data, target_is_directory=True)
    return Published(root, db, pristine, secret, data, twin, link)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every path below root: (kind, size, mtime in ns). A folder's mtime changes whenever an entry
    is created or removed in it, so a file written and deleted again still shows."""
    found = {".": ("dir", 0, root.stat().st_mtime_ns)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            stat = path.lstat()
            kind = "dir" if path.is_dir() else "file"
            found[str(path.relative_to(root))] = (
                kind,
                0 if kind == "dir" else stat.st_size,
                stat.st_mtime_ns,
            )
    return found


def _sql(published: Published, *args: str) -> Result:
    return CliRunner().invoke(main, ["sql", "--db", str(published.db), *args])


@dataclass
class Watched:
    published: Published
    digest: str
    before: dict[str, tuple[str, int, int]]

    def assert_untouched(self) -> None:
        assert _digest(self.published.db) == self.digest
        assert _snapshot(self.published.root) == self.before


@pytest.fixture
def watched(published: Published) -> Watched:
    if _digest(published.db) != _digest(published.pristine):
        shutil.copyfile(published.pristine, published.db)  # an earlier test broke it (without the fix)
    return Watched(published, _digest(published.db), _snapshot(published.root))


def _assert_refused(result: Result) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback, a clean exit
    assert "error: the query was refused: perftrust sql is read-only" in result.output
    assert "fix:" in result.output
    assert SECRET not in result.output


ATTACKS = {
    "copy over the database itself": "COPY (SELECT 1) TO '{db}' (FORMAT csv)",
    "copy to another path": "COPY (SELECT * FROM fct_commits) TO '{root}/stolen.csv' (FORMAT csv)",
    "copy a table to parquet": "COPY fct_commits TO '{root}/stolen.parquet' (FORMAT parquet)",
    "export database": "EXPORT DATABASE '{root}/export'",
    "read_text of a local file": "SELECT * FROM read_text('{secret}')",
    "read_csv of a local file": "SELECT * FROM read_csv('{secret}')",
    "read_blob of a local file": "SELECT * FROM read_blob('{secret}')",
    "glob over local files": "SELECT * FROM glob('{root}/*')",
    "glob through a relative path": "SELECT * FROM glob('../*')",
    "install an extension": "INSTALL httpfs",
    "force install an extension": "FORCE INSTALL httpfs",
    "load an extension": "LOAD httpfs",
    "update extensions": "UPDATE EXTENSIONS",
    "attach a new database file": "ATTACH '{root}/new.duckdb' AS n",
    "attach in memory": "ATTACH ':memory:' AS m",
    "detach": "DETACH perftrust",
    "turn external access back on": "SET enable_external_access = true",
    "unlock the configuration": "SET lock_configuration = false",
    "reset the lock": "RESET lock_configuration",
    "set a spill folder": "SET temp_directory = '{root}/spill'",
    "pragma": "PRAGMA enable_profiling",
    "a settings change before a copy": "SET enable_external_access = true; COPY (SELECT 1) TO '{root}/x.csv'",
    "a select before a copy": "SELECT 1; COPY (SELECT 1) TO '{root}/x.csv'",
    "create table": "CREATE TABLE pwned AS SELECT 1 AS x",
    "create temporary table": "CREATE TEMP TABLE scratch AS SELECT 1 AS x",
    "create persistent secret": "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "delete": "DELETE FROM raw_git__commits",
    "drop": "DROP TABLE raw_git__commits",
    "checkpoint": "CHECKPOINT",
    "explain analyze of a copy": "EXPLAIN ANALYZE COPY (SELECT 1) TO '{root}/x.csv'",
    "copy of a pivot": "COPY (PIVOT fct_commits ON author_name USING count(*)) TO '{root}/x.csv'",
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=list(ATTACKS))
def test_an_attack_is_refused_and_changes_nothing(
    published: Published, watched: Watched, attack: str
) -> None:
    query = attack.format(db=published.db, root=published.root, secret=published.secret)

    result = _sql(published, query)

    _assert_refused(result)
    watched.assert_untouched()


def test_a_refusal_names_what_is_allowed(published: Published, watched: Watched) -> None:
    copy = _sql(published, f"COPY (SELECT 1) TO '{published.db}' (FORMAT csv)")
    _assert_refused(copy)
    assert "runs only SELECT" in copy.output and "not a COPY statement" in copy.output
    assert "--format csv > FILE" in copy.output

    read = _sql(published, f"SELECT * FROM read_csv('{published.secret}')")
    _assert_refused(read)
    assert "reads only the database" in read.output
    assert "--allow-read DIR" in read.output
    watched.assert_untouched()


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request (and answers 404)."""
    hits: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize(
    "query",
    [
        "INSTALL httpfs FROM '{url}'",
        "INSTALL '{url}/evil.duckdb_extension'",
        "SELECT * FROM read_csv('{url}/data.csv')",
        "SELECT * FROM read_text('{url}/data.txt')",
    ],
)
def test_no_network(
    published: Published, watched: Watched, web_server: tuple[str, list[str]], query: str
) -> None:
    url, hits = web_server

    result = _sql(published, query.format(url=url))

    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "error: the query was refused: perftrust sql is read-only" in result.output
    assert hits == []  # DuckDB never even connected
    watched.assert_untouched()


def test_a_query_that_would_spill_fails_cleanly_and_writes_nothing(
    published: Published, watched: Watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small memory limit stands in for a big query on a small machine: with a temporary folder
    # (DuckDB's default is <db>.tmp beside the database) this sort spills there and succeeds.
    monkeypatch.setitem(pipeline_db.QUERY_CONFIG, "memory_limit", "32MB")
    monkeypatch.setitem(pipeline_db.QUERY_CONFIG, "threads", 1)
    query = "SELECT count(*), max(m) FROM (SELECT md5(i::VARCHAR) AS m FROM range(2000000) r(i) ORDER BY m)"

    result = _sql(published, query)

    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "the query needs more memory than DuckDB may use here" in result.output
    assert "never spills" in result.output and "fix: narrow the query" in result.output
    watched.assert_untouched()


def test_a_normal_select_still_works(published: Published, watched: Watched) -> None:
    query = "SELECT author_name, files_changed FROM fct_commits ORDER BY authored_at"
    as_json = _sql(published, "--format", "json", query)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == [
        {"author_name": "Ada Lovelace", "files_changed": 1},
        {"author_name": "Bo", "files_changed": 1},
    ]
    table = _sql(published, query)
    assert table.exit_code == 0 and "Ada Lovelace" in table.output and "(2 rows)" in table.output
    for harmless in (
        "DESCRIBE fct_commits",
        "SHOW TABLES",
        "SUMMARIZE fct_commits",
        "EXPLAIN SELECT count(*) FROM fct_commits",
        "EXPLAIN ANALYZE SELECT count(*) FROM fct_commits",
        "WITH c AS (FROM fct_commits) SELECT count(*) FROM c",
        "PIVOT fct_commits ON author_name IN ('Bo') USING count(*)",
        "SELECT 1; SELECT 2",
    ):
        result = _sql(published, "--format", "csv", harmless)
        assert result.exit_code == 0, (harmless, result.output)
    watched.assert_untouched()


def test_allow_read_reads_that_folder_and_only_that_one(published: Published, watched: Watched) -> None:
    allow = ["--allow-read", str(published.data), "--format", "csv"]

    inside = _sql(published, *allow, f"SELECT * FROM read_csv('{published.data}/targets.csv') ORDER BY team")
    assert inside.exit_code == 0, inside.output
    assert inside.output.splitlines() == ["team,target", "core,3", "web,5"]
    listed = _sql(published, *allow, f"SELECT file FROM glob('{published.data}/*')")
    assert listed.output.splitlines() == ["file", f"{published.data}/targets.csv"]

    for outside in (
        f"SELECT * FROM read_csv('{published.secret}')",
        f"SELECT * FROM read_text('{published.data}/../secret.csv')",
        f"SELECT * FROM read_csv('{published.data_twin}/salaries.csv')",  # same name prefix
        f"SELECT * FROM glob('{published.root}/*')",
    ):
        _assert_refused(_sql(published, *allow, outside))
    # Reading is all it allows: nothing is written into the allowed folder either.
    for write in (
        f"COPY (SELECT 1) TO '{published.data}/written.csv'",
        f"COPY (SELECT 1) TO '{published.data}/targets.csv'",
        f"EXPORT DATABASE '{published.data}/export'",
        f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{published.data}/written.csv'",
        f"ATTACH '{published.data}/new.duckdb'",
    ):
        _assert_refused(_sql(published, *allow, write))
    watched.assert_untouched()


def test_allow_read_of_one_file(published: Published, watched: Watched) -> None:
    target = published.data / "targets.csv"
    one = _sql(
        published, "--allow-read", str(target), "--format", "csv", f"SELECT count(*) AS n FROM '{target}'"
    )
    assert one.exit_code == 0, one.output
    assert one.output.splitlines() == ["n", "2"]
    _assert_refused(
        _sql(published, "--allow-read", str(target), f"SELECT * FROM read_csv('{published.secret}')")
    )
    watched.assert_untouched()


def test_allow_read_through_a_symbolic_link(published: Published, watched: Watched) -> None:
    allow = ["--allow-read", str(published.data_link), "--format", "csv"]
    for name in (published.data_link, published.data):  # the query may name either
        result = _sql(published, *allow, f"SELECT count(*) AS n FROM read_csv('{name}/targets.csv')")
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == ["n", "2"]
    _assert_refused(_sql(published, *allow, f"SELECT * FROM read_csv('{published.data_twin}/salaries.csv')"))
    watched.assert_untouched()


def test_allow_read_of_a_missing_folder_is_a_usage_error(published: Published, watched: Watched) -> None:
    result = _sql(published, "--allow-read", str(published.root / "nowhere"), "SELECT 1")
    assert result.exit_code == 2
    assert "--allow-read" in result.output and "does not exist" in result.output
    watched.assert_untouched()


def test_a_refusal_in_a_real_process_has_no_traceback(published: Published, watched: Watched) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "sql", "--db", str(published.db), "EXPORT DATABASE 'out'"],
        cwd=published.root,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "the query was refused: perftrust sql is read-only" in result.stderr
    watched.assert_untouched()
