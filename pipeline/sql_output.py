"""What `perftrust sql` prints: a result (column names and rows) as a table, CSV or JSON text.

Pure functions (rows + columns + width in, text out): no console, no markup, no highlighting.
Every format prints a value exactly as stored. The table, for a person at a terminal, also shows
control characters as escapes (an escape sequence in a commit subject must not reach the terminal
raw, and a tab or newline must not break a row in two) and fits the result into the width it is
given: long values are cut with "…" (and a note says how to see them whole); when the columns do
not fit even so, each row is shown one field per line instead."""

from __future__ import annotations

import io
import itertools
import os
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from rich.cells import cell_len, chop_cells

DEFAULT_WIDTH = 120  # when the output is not a terminal and COLUMNS is not set
MIN_WIDTH = 40
MIN_COLUMN = 10  # table columns narrower than this are unreadable: one field per line instead

# C0 controls, DEL and C1 controls (ESC starts a terminal escape sequence; 0x9b is a one-byte CSI),
# plus the characters that reorder or break a line of text on display (bidirectional overrides and
# isolates, the Unicode line and paragraph separators).
_CONTROLS = [*range(0x20), *range(0x7F, 0xA0)]
_LAYOUT = [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_ESCAPES = {c: _NAMED.get(c, f"\\x{c:02x}") for c in _CONTROLS} | {c: f"\\u{c:04x}" for c in _LAYOUT}
_ESCAPES_KEEPING_NEWLINES = {c: e for c, e in _ESCAPES.items() if c != 0x0A}


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """text with every control character shown as an escape (ESC as \\x1b, tab as \\t, newline as
    \\n unless keep_newlines): safe to print on a terminal, one line unless keep_newlines."""
    return text.translate(_ESCAPES_KEEPING_NEWLINES if keep_newlines else _ESCAPES)


def count_rows(count: int) -> str:
    """(0 rows), (1 row), (2 rows)."""
    return f"({count:,} {'row' if count == 1 else 'rows'})"


def output_width(stream: IO[str], environ: Mapping[str, str] = os.environ) -> int:
    """How wide a table printed to stream may be: COLUMNS if set, else the terminal's width, else
    DEFAULT_WIDTH (a pipe or a file); never less than MIN_WIDTH."""
    columns = environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    try:
        if stream.isatty():
            return max(os.get_terminal_size(stream.fileno()).columns, MIN_WIDTH)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    return DEFAULT_WIDTH


def is_ascii_only(stream: IO[str]) -> bool:
    """True when stream cannot take box-drawing characters (its encoding is not UTF)."""
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "").replace("_", "")
    return not encoding.startswith("utf")


def csv_lines(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header and one line per row, each ending in \\n alone. Quoting is the csv module's
    default (as when lines end in \\r\\n: a value holding \\r is quoted too); NULL is empty."""
    import csv  # here: the command line starts without it

    buffer = io.StringIO()
    writer = csv.writer(buffer)  # lineterminator \r\n: it decides the quoting, then is replaced
    for row in itertools.chain([columns], rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue().removesuffix("\r\n") + "\n"


# JSON escapes C0 controls itself; DEL and C1 controls are escaped too, so no raw escape sequence
# reaches a terminal (the value read back is the same). They occur only inside strings.
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def format_json(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A list of objects, one per row (column name: value; NULL is null), indented, ending in \\n."""
    import json

    records = [dict(zip(columns, row, strict=True)) for row in rows]
    return json.dumps(records, default=str, ensure_ascii=False, indent=1).translate(_JSON_ESCAPES) + "\n"


def cell_text(value: Any) -> str:
    """A value as one line of the table: NULL for null, control characters as escapes."""
    return "NULL" if value is None else printable(str(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _cut(text: str, width: int, ellipsis: str) -> tuple[str, bool]:
    """text in at most width cells, and whether it was cut (then it ends in the ellipsis)."""
    if cell_len(text) <= width:
        return text, False
    room = max(width - cell_len(ellipsis), 0)
    # A prefix is enough to measure (a character is at most 2 cells; a few are 0, e.g. accents).
    kept = chop_cells(text[: 4 * width + 16], room)[0] if room else ""
    return kept + ellipsis, True


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(width - cell_len(text), 0)
    return space + text if right else text + space


def _column_widths(natural: list[int], room: int) -> list[int]:
    """Column widths summing to at most room: the widest columns are narrowed to one cap (as wide
    as room allows), every other column keeps its width."""
    low, high = MIN_COLUMN, max(natural)
    while low < high:  # the largest cap whose table fits
        cap = (low + high + 1) // 2
        if sum(min(w, cap) for w in natural) <= room:
            low = cap
        else:
            high = cap - 1
    widths = [min(w, low) for w in natural]
    spare = room - sum(widths)
    for i, w in enumerate(natural):  # what is left over: one more cell for the first capped columns
        if spare <= 0:
            break
        if w > widths[i]:
            widths[i] += 1
            spare -= 1
    return widths


class _Box:
    def __init__(self, ascii_only: bool) -> None:
        if ascii_only:
            self.top, self.head, self.rule, self.cell, self.bottom = "+-++", "|", "|-+|", "|", "+-++"
            self.ellipsis, self.record = "...", "-"
        else:
            self.top, self.head, self.rule, self.cell, self.bottom = "┏━┳┓", "┃", "┡━╇┩", "│", "└─┴┘"
            self.ellipsis, self.record = "…", "─"

    @staticmethod
    def line(chars: str, widths: list[int]) -> str:
        """A border line: chars are its left end, its fill, a crossing and its right end."""
        return chars[0] + chars[2].join(chars[1] * (w + 2) for w in widths) + chars[3]


def format_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], width: int, *, ascii_only: bool = False
) -> str:
    """The result as a table at most width cells wide, then the row count and, when something had
    to give, a note: long values cut (with …), or one field per line when the columns do not fit."""
    width = max(width, MIN_WIDTH)
    box = _Box(ascii_only)
    header = [cell_text(c) for c in columns]
    body = [[cell_text(v) for v in row] for row in rows]
    lines: list[str] = []
    notes: list[str] = []
    cut = False
    if header:
        natural = [
            max(cell_len(text) for text in (name, *(r[i] for r in body))) for i, name in enumerate(header)
        ]
        border = 3 * len(header) + 1  # "│ " before each column, " " after it, the closing "│"
        if sum(natural) + border <= width:
            widths = natural
        elif sum(min(w, MIN_COLUMN) for w in natural) + border <= width:
            widths = _column_widths(natural, width - border)
        else:
            widths = []
        if widths:
            numbers = [
                any(v is not None for v in values) and all(_is_number(v) for v in values if v is not None)
                for values in zip(*rows, strict=True)
            ] or [False] * len(header)
            lines.append(box.line(box.top, widths))
            cut = _table_row(lines, header, widths, numbers, box.head, box.ellipsis) or cut
            lines.append(box.line(box.rule, widths))
            for row in body:
                cut = _table_row(lines, row, widths, numbers, box.cell, box.ellipsis) or cut
            lines.append(box.line(box.bottom, widths))
        else:
            cut = _vertical(lines, header, body, width, box)
            shown = "one line per field" if body else "their names, one per line"
            notes.append(f"{len(header)} columns do not fit in {width} characters: {shown}")
    if cut:
        notes.append(
            f"values cut at {box.ellipsis} to fit in {width} characters: --format json or --format csv "
            "prints every value whole"
        )
    lines.append(count_rows(len(body)))
    for note in notes:
        lines.extend(
            textwrap.wrap(f"note: {note}", width, subsequent_indent="      ", break_on_hyphens=False)
        )
    return "\n".join(lines) + "\n"


def _table_row(
    lines: list[str], cells: list[str], widths: list[int], right: list[bool], edge: str, ellipsis: str
) -> bool:
    """Appends one table line; True if a cell was cut."""
    parts, cut = [], False
    for text, w, r in zip(cells, widths, right, strict=True):
        shown, was_cut = _cut(text, w, ellipsis)
        cut = cut or was_cut
        parts.append(_pad(shown, w, right=r))
    lines.append(f"{edge} " + f" {edge} ".join(parts) + f" {edge}")
    return cut


def _vertical(lines: list[str], header: list[str], body: list[list[str]], width: int, box: _Box) -> bool:
    """Each row as a "── row N ──" line, then one "name │ value" line per field; True if a value
    (or a name) was cut to fit."""
    name_width = min(max(cell_len(name) for name in header), max(width // 3, MIN_COLUMN))
    value_width = width - name_width - 3
    names = []
    cut = False
    for name in header:
        shown, was_cut = _cut(name, name_width, box.ellipsis)
        names.append(_pad(shown, name_width))
        cut = cut or was_cut
    if not body:
        lines.append(f"{box.record * 2} columns ".ljust(width, box.record))
        lines.extend(name.rstrip() for name in names)
    for number, row in enumerate(body, 1):
        title = f"{box.record * 2} row {number:,} "
        lines.append(title + box.record * max(width - cell_len(title), 0))
        for name, text in zip(names, row, strict=True):
            shown, was_cut = _cut(text, value_width, box.ellipsis)
            cut = cut or was_cut
            lines.append(f"{name} {box.cell} {shown}")
    return cut
