"""Parse `git log -z --numstat` into Arrow batches, streaming, at the speed git writes it.

With -z every record ends in NUL and paths are never quoted:
  header  = sha \x1f parents \x1f an \x1f ae \x1f ad \x1f cn \x1f ce \x1f cd \x1f message      (one token)
  numstat = [\n]added \t deleted \t path                                              (one token)
          | [\n]added \t deleted \t   then  old_path  then  new_path                  (three tokens: a rename)
The first numstat token of a commit starts with a newline; binary files show "-" counts;
merges have no numstat tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cache
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


LOG_FORMAT = "%H%x1f%P%x1f%an%x1f%ae%x1f%ad%x1f%cn%x1f%ce%x1f%cd%x1f%B"
LOG_ARGS = ("-z", "--numstat", "--date=raw", f"--format={LOG_FORMAT}")


@cache
def file_type() -> pa.DataType:
    """The type of a commit's `files` (built on first use: importing pyarrow takes 0.1 s, which a
    first sync spends while git already reads the history)."""
    import pyarrow as pa

    return pa.struct(
        [
            pa.field("path", pa.string()),
            pa.field("old_path", pa.string()),
            pa.field("lines_added", pa.int32()),
            pa.field("lines_deleted", pa.int32()),
        ]
    )


@cache
def commit_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("repo", pa.string()),
            pa.field("sha", pa.string()),
            pa.field("parent_shas", pa.list_(pa.string())),
            pa.field("author_name", pa.string()),
            pa.field("author_email", pa.string()),
            pa.field("author_epoch", pa.int64()),
            pa.field("author_tz", pa.string()),
            pa.field("committer_name", pa.string()),
            pa.field("committer_email", pa.string()),
            pa.field("committer_epoch", pa.int64()),
            pa.field("committer_tz", pa.string()),
            pa.field("message", pa.string()),
            pa.field("files", pa.list_(file_type())),
            pa.field("run_id", pa.string()),
            pa.field("extracted_at", pa.timestamp("us")),
        ]
    )


READ_SIZE = 1 << 20


def decode(raw: bytes) -> str:
    """UTF-8, else Latin-1: old commits often carry Latin-1 names, and every byte is valid Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _decode_tokens(block: bytes) -> list[str]:
    try:
        return block.decode("utf-8").split("\0")
    except UnicodeDecodeError:
        pass
    tokens = []
    for raw in block.split(b"\0"):
        try:
            tokens.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            # Decode a header field by field, so a Latin-1 name does not garble a UTF-8 message.
            tokens.append("\x1f".join(decode(part) for part in raw.split(b"\x1f")))
    return tokens


def _split_date(raw: str) -> tuple[int | None, str | None]:
    """'1600000000 +0200' -> (1600000000, '+0200'); keeps odd zones verbatim, never raises."""
    epoch, _, tz = raw.strip().partition(" ")
    try:
        return int(epoch), tz or None
    except ValueError:
        return None, tz or None


def _count(raw: str) -> int | None:
    return None if raw == "-" else int(raw)


class CommitBatches:
    """Accumulates parsed commits column by column and hands them out as Arrow tables."""

    def __init__(self, repo: str, run_id: str, extracted_at: datetime) -> None:
        self.repo = repo
        self.run_id = run_id
        self.extracted_at = extracted_at
        self._reset()

    def _reset(self) -> None:
        self.sha: list[str] = []
        self.parents: list[list[str]] = []
        self.an: list[str] = []
        self.ae: list[str] = []
        self.at: list[int | None] = []
        self.atz: list[str | None] = []
        self.cn: list[str] = []
        self.ce: list[str] = []
        self.ct: list[int | None] = []
        self.ctz: list[str | None] = []
        self.message: list[str] = []
        self.file_offsets: list[int] = [0]
        self.path: list[str] = []
        self.old_path: list[str | None] = []
        self.added: list[int | None] = []
        self.deleted: list[int | None] = []

    @property
    def count_commits(self) -> int:
        return len(self.sha)

    @property
    def count_files(self) -> int:
        return len(self.path)

    def add_header(self, token: str) -> None:
        fields = token.split("\x1f", 8)
        if len(fields) != 9:
            raise ValueError(f"unexpected git log record: {token[:80]!r}")
        sha, parents, an, ae, ad, cn, ce, cd, message = fields
        if self.sha:
            self.file_offsets.append(len(self.path))
        self.sha.append(sha)
        self.parents.append(parents.split() if parents else [])
        self.an.append(an)
        self.ae.append(ae)
        epoch, tz = _split_date(ad)
        self.at.append(epoch)
        self.atz.append(tz)
        self.cn.append(cn)
        self.ce.append(ce)
        epoch, tz = _split_date(cd)
        self.ct.append(epoch)
        self.ctz.append(tz)
        self.message.append(message.rstrip("\n"))

    def add_file(self, added: str, deleted: str, path: str, old_path: str | None) -> None:
        self.path.append(path)
        self.old_path.append(old_path)
        self.added.append(_count(added))
        self.deleted.append(_count(deleted))

    def take(self) -> pa.Table | None:
        """The commits gathered so far as one Arrow table (None if there are none)."""
        import pyarrow as pa

        n = len(self.sha)
        if n == 0:
            return None
        offsets = [*self.file_offsets, len(self.path)]
        files = pa.ListArray.from_arrays(
            pa.array(offsets, pa.int32()),
            pa.StructArray.from_arrays(
                [
                    pa.array(self.path, pa.string()),
                    pa.array(self.old_path, pa.string()),
                    pa.array(self.added, pa.int32()),
                    pa.array(self.deleted, pa.int32()),
                ],
                fields=list(file_type()),
            ),
        )
        table = pa.Table.from_arrays(
            [
                pa.array([self.repo] * n, pa.string()),
                pa.array(self.sha, pa.string()),
                pa.array(self.parents, pa.list_(pa.string())),
                pa.array(self.an, pa.string()),
                pa.array(self.ae, pa.string()),
                pa.array(self.at, pa.int64()),
                pa.array(self.atz, pa.string()),
                pa.array(self.cn, pa.string()),
                pa.array(self.ce, pa.string()),
                pa.array(self.ct, pa.int64()),
                pa.array(self.ctz, pa.string()),
                pa.array(self.message, pa.string()),
                files,
                pa.array([self.run_id] * n, pa.string()),
                pa.array([self.extracted_at] * n, pa.timestamp("us")),
            ],
            schema=commit_schema(),
        )
        self._reset()
        return table


class LogParser:
    """A state machine over NUL-separated tokens; tokens may arrive in any chunking."""

    def __init__(
        self, batches: CommitBatches, *, batch_commits: int = 5000, batch_files: int = 100_000
    ) -> None:
        self.batches = batches
        self.batch_commits = batch_commits
        self.batch_files = batch_files
        self._rename: list[str] | None = None  # [added, deleted] and then old path, while a rename is read

    def feed(self, tokens: Iterable[str]) -> Iterator[pa.Table]:
        b = self.batches
        for token in tokens:
            if not token:
                continue
            rename = self._rename
            if rename is not None:
                rename.append(token)
                if len(rename) == 4:
                    b.add_file(rename[0], rename[1], rename[3], rename[2])
                    self._rename = None
                continue
            if token[0] == "\n":
                token = token[1:]
            tab = token.find("\t", 0, 24)
            if tab > 0:
                added = token[:tab]
                second = token.index("\t", tab + 1)
                path = token[second + 1 :]
                if path:
                    b.add_file(added, token[tab + 1 : second], path, None)
                else:
                    self._rename = [added, token[tab + 1 : second]]
            else:
                # A new commit: the previous one is complete, so a full batch can go out.
                if b.count_commits >= self.batch_commits or b.count_files >= self.batch_files:
                    table = b.take()
                    if table is not None:
                        yield table
                b.add_header(token)

    def finish(self) -> pa.Table | None:
        if self._rename is not None:
            raise ValueError("git log output ended inside a rename record")
        return self.batches.take()


def parse_stream(stream: IO[bytes], parser: LogParser, read_size: int = READ_SIZE) -> Iterator[pa.Table]:
    """Read a git log -z stream in large blocks and yield Arrow batches as they fill."""
    pending = b""
    while True:
        chunk = stream.read(read_size)
        if not chunk:
            break
        block = pending + chunk
        cut = block.rfind(b"\0")
        if cut < 0:
            pending = block
            continue
        pending = block[cut + 1 :]
        yield from parser.feed(_decode_tokens(block[:cut]))
    if pending:
        yield from parser.feed(_decode_tokens(pending))
    last = parser.finish()
    if last is not None:
        yield last
