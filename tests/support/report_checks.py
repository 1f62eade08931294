"""Read the figures a report shows (its data-* attributes) and compare them with the metric tables.

The same comparison runs on figures read from the HTML text and on figures read from the DOM of a
real browser, so "what the reader sees" and "what the tables hold" are checked to be one thing."""

from __future__ import annotations

import math
from html.parser import HTMLParser
from typing import Any

import duckdb

from reports.measures import FAMILIES, Measure

MEASURES: dict[str, Measure] = {m.metric: m for f in FAMILIES for m in f.measures}

# The DOM query the browser test runs; the HTML parser below yields the same shape.
FIGURES_JS = """JSON.stringify([...document.querySelectorAll('[data-metric]')].map(e => ({
  metric: e.dataset.metric, subject: e.dataset.subject, kind: e.dataset.kind || null,
  n: e.dataset.n ?? null, value: e.dataset.value ?? null, lower: e.dataset.lower ?? null,
  upper: e.dataset.upper ?? null, enough: e.dataset.enough ?? null, missing: e.dataset.missing ?? null,
  shown: (e.querySelector('.value') || e.querySelector('.nodata') || e.querySelector('td.num') || {}).textContent ?? null,
})))"""


class _Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = dict(attrs)
        if "data-metric" in data:
            self.found.append(
                {
                    "metric": data["data-metric"],
                    "subject": data.get("data-subject"),
                    "kind": data.get("data-kind"),
                    "n": data.get("data-n"),
                    "value": data.get("data-value"),
                    "lower": data.get("data-lower"),
                    "upper": data.get("data-upper"),
                    "enough": data.get("data-enough"),
                    "missing": data.get("data-missing"),
                    "shown": None,
                }
            )


def figures_from_html(html: str) -> list[dict[str, Any]]:
    parser = _Figures()
    parser.feed(html)
    return parser.found


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def _num(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def _window_rows(con: duckdb.DuckDBPyConnection, table: str) -> dict[str | None, dict[str, Any]]:
    cursor = con.execute(f"SELECT * EXCLUDE (evidence_keys) FROM {table} WHERE period_type = 'window'")
    columns = [d[0] for d in cursor.description or ()]
    out: dict[str | None, dict[str, Any]] = {}
    for values in cursor.fetchall():
        row = dict(zip(columns, values, strict=True))
        key = row["contributor_id"] if row["contributor_id"] is not None else f"team:{row['team_id']}"
        out[key] = row
    return out


def compare_figures(
    figures: list[dict[str, Any]], con: duckdb.DuckDBPyConnection, min_n: int, check_text: bool = False
) -> tuple[int, list[str]]:
    """-> (figures checked, mismatches). Person figures against the person's window row; team
    figures against the sums of the person rows (everyone: the report was not filtered)."""
    rows = {f.table: _window_rows(con, f.table) for f in FAMILIES}
    problems: list[str] = []
    checked = 0
    for fig in figures:
        measure = MEASURES.get(fig["metric"])
        if measure is None:
            problems.append(f"unknown metric {fig['metric']}")
            continue
        table = rows[measure.table]
        people = [r for k, r in table.items() if k is not None and not str(k).startswith("team:")]
        value = _num(fig["value"])
        where = f"{fig['metric']} for {fig['subject']}"
        if fig["subject"] == "team":
            if measure.kind == "count":
                expected = float(sum(r[measure.column] or 0 for r in people))
                if measure.summable and not _close(value, expected):
                    problems.append(f"{where}: shows {value}, the tables add up to {expected}")
            elif measure.kind == "rate":
                assert measure.numerator is not None
                k = sum(r[measure.numerator] or 0 for r in people)
                n = sum(sum(r[c] or 0 for c in measure.n_columns) for r in people)
                if int(fig["n"]) != n:
                    problems.append(f"{where}: n {fig['n']} but the tables add up to {n}")
                want = k / n if n >= min_n and n else None
                if not _close(value, want):
                    problems.append(f"{where}: shows {value}, the tables give {want}")
            checked += 1
            continue
        row = table.get(fig["subject"])
        if fig.get("missing") and measure.kind != "count":
            # Not measured (its data source was never synced): nothing may back it in the tables.
            n = sum(int(row[c] or 0) for c in measure.n_columns) if row is not None else 0
            if n or value is not None or fig.get("enough") == "true":
                problems.append(f"{where}: shown as not measured, but the table has n={n}, value {value}")
            shown = (fig.get("shown") or "").strip()
            if check_text and shown != f"not measured: needs {fig['missing']}":
                problems.append(f"{where}: the page shows {shown!r} for a measure without its data source")
            checked += 1
            continue
        if row is None:
            if measure.kind == "count" and measure.zero_when_missing:
                if value != 0.0:
                    problems.append(f"{where}: no row but shows {value}")
            elif fig.get("enough") == "true":
                problems.append(f"{where}: no row but shown as enough data")
            checked += 1
            continue
        n = sum(int(row[c] or 0) for c in measure.n_columns)
        if measure.kind == "count":
            if not _close(value, float(row[measure.column] or 0)):
                problems.append(f"{where}: shows {value}, the table has {row[measure.column]}")
            checked += 1
            continue
        if fig["n"] is not None and int(fig["n"]) != n:
            problems.append(f"{where}: n {fig['n']}, the table has {n}")
        flag = bool(row[measure.enough_column]) if measure.enough_column else n >= min_n
        table_value = row[measure.column] if flag else None
        if (fig["enough"] == "true") != (flag and table_value is not None):
            problems.append(f"{where}: enough={fig['enough']}, the table says {flag} ({table_value})")
        if not _close(value, table_value):
            problems.append(f"{where}: shows {value}, the table has {table_value}")
        if measure.kind == "rate":
            for bound in ("lower", "upper"):
                if not _close(_num(fig[bound]), row[f"{measure.column}_{bound}"]):
                    problems.append(
                        f"{where}: {bound} {fig[bound]}, the table has {row[f'{measure.column}_{bound}']}"
                    )
        if check_text:
            shown = (fig.get("shown") or "").strip()
            if flag and table_value is not None and measure.kind == "rate":
                if shown != f"{table_value * 100:.0f}%":
                    problems.append(f"{where}: the page shows {shown!r} for {table_value}")
            elif not flag and shown != f"not enough data (n={n}, minimum {min_n})":
                problems.append(f"{where}: the page shows {shown!r} below the minimum n")
        checked += 1
    return checked, problems


# Layout as a reader sees it, checked in the page (screen or print media, whatever is emulated):
# - every visible text at least MIN_FONT_PX, SVG text by its font size times the scale it is drawn at;
# - no clipped text: each SVG <text> inside its <svg>'s box; no element that hides or scrolls its
#   overflow (overflow hidden, clip, auto, scroll) holds more than it shows;
# - no chart without data: each chart has at least one mark (a dot, a month with a value, a bar, an
#   active week, a matrix cell).
# Returns JSON: {"problems": [...], "texts": N, "svg_texts": N, "charts": {class: N}}.
MIN_FONT_PX = 11
LAYOUT_JS = """JSON.stringify((() => {
  const MIN = MIN_FONT_PX, problems = [], charts = {};
  const shown = (el) => {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || style.opacity === '0') return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const where = (el) => {
    const id = el.closest('[id]');
    return `${el.tagName.toLowerCase()}.${(el.getAttribute('class') || '').replace(/ /g, '.')} in #${id ? id.id : '?'}` +
      ` "${(el.textContent || '').trim().slice(0, 40)}"`;
  };
  let texts = 0;
  for (const el of document.body.querySelectorAll('*')) {
    if (el instanceof SVGElement) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own && shown(el)) {
      texts += 1;
      const size = parseFloat(getComputedStyle(el).fontSize);
      if (size < MIN - 0.01) problems.push(`font ${size}px < ${MIN}px: ${where(el)}`);
    }
    const style = getComputedStyle(el);
    const hides = (v) => ['hidden', 'clip', 'auto', 'scroll'].includes(v);
    if ((hides(style.overflowX) || hides(style.overflowY)) && el !== document.documentElement && el !== document.body && shown(el)) {
      if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
        problems.push(`overflow ${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}: ${where(el)}`);
    }
  }
  let svgTexts = 0;
  for (const t of document.querySelectorAll('svg text')) {
    if (!shown(t)) continue;
    svgTexts += 1;
    const m = t.getScreenCTM();
    const size = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    if (size < MIN - 0.01) problems.push(`svg font ${size.toFixed(2)}px < ${MIN}px: ${where(t)}`);
    const box = t.getBoundingClientRect(), frame = t.ownerSVGElement.getBoundingClientRect();
    if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5 || box.top < frame.top - 0.5 || box.bottom > frame.bottom + 0.5)
      problems.push(`svg text outside its chart (${box.left.toFixed(1)},${box.top.toFixed(1)},${box.right.toFixed(1)},${box.bottom.toFixed(1)}` +
        ` not in ${frame.left.toFixed(1)},${frame.top.toFixed(1)},${frame.right.toFixed(1)},${frame.bottom.toFixed(1)}): ${where(t)}`);
  }
  const marks = {
    dots: (s) => s.querySelectorAll('circle').length,
    trend: (s) => s.querySelectorAll('circle:not([fill="none"])').length,
    bars: (s) => [...s.querySelectorAll('rect')].filter(r => parseFloat(r.getAttribute('height')) > 0).length,
    strip: (s) => s.querySelectorAll('rect[data-active-days]:not([data-active-days="0"])').length,
    matrix: (s) => s.querySelectorAll('rect > title').length,
    interval: (s) => s.querySelectorAll('rect').length,
  };
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.ownerSVGElement) continue;
    const kind = svg.getAttribute('class');
    charts[kind] = (charts[kind] || 0) + 1;
    if (!(kind in marks)) problems.push(`unknown chart ${kind}: ${where(svg)}`);
    else if (!marks[kind](svg)) problems.push(`chart without data: ${where(svg)} ${svg.getAttribute('aria-label')}`);
  }
  return {problems, texts, svg_texts: svgTexts, charts};
})())""".replace("MIN_FONT_PX", str(MIN_FONT_PX))
