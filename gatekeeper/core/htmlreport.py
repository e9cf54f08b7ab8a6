"""Self-contained HTML reports with inline SVG charts: no JavaScript, no network, no files.

Used by `gatekeeper stats --html`, `gatekeeper simulate --html` and the demo. Every
function returns a string of well-formed markup (it parses as XML once the doctype is
removed, which the tests rely on), and every piece of text is escaped here, so callers
pass plain strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from .vocabulary import VerdictAction

PALETTE = ("#2e7d32", "#f9a825", "#c62828", "#1565c0", "#6a1b9a", "#00838f", "#ef6c00",
           "#5d4037")
ACTION_COLOURS: dict[str, str] = {
    VerdictAction.PASS: "#2e7d32", VerdictAction.HOLD: "#f9a825", VerdictAction.DELETE: "#c62828",
    "primary": "#2e7d32", "promotions": "#1565c0", "spam": "#c62828"}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.4em;border-bottom:1px solid #ddd}
p{margin:.5em 0}ul,ol{margin:.4em 0}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}td,th{padding:.25em .6em;border-bottom:1px solid #eee;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.9em}svg{display:block;margin:.5em 0}
.sev-error{color:#c62828}.sev-warning{color:#ef6c00}.sev-info{color:#1565c0}
.headline{font-size:1.15em;background:#f5f7fa;border-left:4px solid #1565c0;padding:.6em 1em}
.warning{background:#fdecea;border-left:4px solid #c62828;padding:.6em 1em;font-weight:bold}
td.clip{max-width:22em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
table{max-width:100%}li{margin:.2em 0}
table.compact{font-size:.85em}table.compact td{white-space:nowrap;padding:.15em .5em}
"""


def page(title: str, sections: Sequence[str], subtitle: str = "") -> str:
    """A whole HTML document: a title, an optional subtitle and the sections in order."""
    head = f"<h1>{escape(title)}</h1>"
    if subtitle:
        head += f'<p class="note">{escape(subtitle)}</p>'
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"/><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>{head}{''.join(sections)}</body></html>\n")


def items(texts: Sequence[str], ordered: bool = False) -> str:
    """A list of plain-text items (numbered when `ordered`)."""
    tag = "ol" if ordered else "ul"
    return f"<{tag}>{''.join(f'<li>{escape(text)}</li>' for text in texts)}</{tag}>"


def section(heading: str, *parts: str) -> str:
    return f"<section><h2>{escape(heading)}</h2>{''.join(parts)}</section>"


def paragraph(text: str, css_class: str = "") -> str:
    attribute = f' class="{escape(css_class)}"' if css_class else ""
    return f"<p{attribute}>{escape(text)}</p>"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]],
          row_classes: Sequence[str] | None = None, compact: bool = False) -> str:
    """A table; numbers are right-aligned, floats shown as given by the caller's formatting.
    A `compact` table keeps each row on one line (the caller keeps cells short)."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        css = f' class="{escape(row_classes[index])}"' if row_classes and row_classes[index] else ""
        cells = "".join(
            f'<td class="n">{escape(str(v))}</td>' if isinstance(v, (int, float))
            else f"<td>{escape(str(v))}</td>" for v in row)
        body.append(f"<tr{css}>{cells}</tr>")
    css = ' class="compact"' if compact else ""
    return f"<table{css}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _colour(name: str, index: int) -> str:
    return ACTION_COLOURS.get(name, PALETTE[index % len(PALETTE)])


def _legend(names: Sequence[str], x: float, y: float) -> str:
    items = []
    for index, name in enumerate(names):
        left = x + index * 110
        items.append(f'<rect x="{left:.1f}" y="{y - 9:.1f}" width="10" height="10" '
                     f'fill="{_colour(name, index)}"/>'
                     f'<text x="{left + 14:.1f}" y="{y:.1f}" font-size="11">{escape(name)}</text>')
    return "".join(items)


def stacked_bars(labels: Sequence[str], series: Mapping[str, Sequence[float]], *,
                 title: str = "", unit: str = "%", total: float | None = 100.0,
                 label_width: int = 170, width: int = 640,
                 bar_labels: Sequence[str] | None = None, bar_height: int = 18) -> str:
    """Horizontal stacked bars, one per label (shares of pass / hold / delete, say).

    `series` maps a part's name to one value per label; `total` fixes the scale (100 for
    percentages) or, when None, the largest bar sets it. Each bar is labelled with its
    `bar_labels` entry, by default its sum (pointless for shares adding up to 100: give
    the part that matters then).
    """
    names = list(series)
    bar, gap, top = bar_height, max(bar_height // 3, 2), 34 if title else 16
    height = top + len(labels) * (bar + gap) + 24
    sums = [sum(float(series[n][i]) for n in names) for i in range(len(labels))]
    scale_total = total if total is not None else max(sums + [1e-9])
    plot = width - label_width - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title or "bar chart")}">']
    if title:
        parts.append(f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>')
    for row, label in enumerate(labels):
        y = top + row * (bar + gap)
        parts.append(f'<text x="{label_width - 6}" y="{y + bar - 4}" font-size="11" '
                     f'text-anchor="end">{escape(str(label))}</text>')
        x = float(label_width)
        for index, name in enumerate(names):
            value = max(float(series[name][row]), 0.0)
            w = plot * value / scale_total if scale_total else 0.0
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                         f'fill="{_colour(name, index)}"><title>{escape(name)}: '
                         f'{value:.1f}{escape(unit)}</title></rect>')
            x += w
        label = (bar_labels[row] if bar_labels is not None
                 else f'{sums[row]:.0f}{unit if total is None else ""}')
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar - 4}" font-size="10" fill="#555">'
                     f'{escape(label)}</text>')
    parts.append(_legend(names, label_width, height - 6))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(x_labels: Sequence[str], series: dict[str, Sequence[float]], *,
               title: str = "", y_max: float | None = None, y_label: str = "",
               width: int = 640, height: int = 240) -> str:
    """Lines over a shared x axis (sends, days); one colour per series, with a legend."""
    names = list(series)
    left, right, top, bottom = 48, 16, 30 if title else 12, 44
    values = [float(v) for n in names for v in series[n]]
    top_value = y_max if y_max is not None else max(values + [1e-9])
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(x_labels), 1)

    def point(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)
        return x, top + plot_h * (1 - min(max(v / top_value, 0.0), 1.0))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title or "line chart")}">']
    if title:
        parts.append(f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>')
    for tick in range(5):
        value = top_value * tick / 4
        _, y = point(0, value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     f'stroke="#eee"/><text x="{left - 4}" y="{y + 4:.1f}" font-size="10" '
                     f'text-anchor="end">{value:.3g}</text>')
    for i, label in enumerate(x_labels):
        x, _ = point(i, 0)
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(str(label))}</text>')
    if y_label:
        parts.append(f'<text x="4" y="{top + plot_h / 2:.1f}" font-size="10" '
                     f'transform="rotate(-90 8 {top + plot_h / 2:.1f})">{escape(y_label)}</text>')
    for index, name in enumerate(names):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in
                          (point(i, float(v)) for i, v in enumerate(series[name])))
        parts.append(f'<polyline fill="none" stroke="{_colour(name, index)}" stroke-width="2" '
                     f'points="{points}"><title>{escape(name)}</title></polyline>')
    parts.append(_legend(names, left, height - 6))
    parts.append("</svg>")
    return "".join(parts)


def histogram(counts: Sequence[int], edges: Sequence[float], *, title: str = "",
              width: int = 640, height: int = 200, colour: str = "#1565c0") -> str:
    """Vertical bars of `counts` between consecutive `edges` (a score distribution)."""
    left, top, bottom = 40, 30 if title else 10, 30
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max(list(counts) + [1])
    bar_w = plot_w / max(len(counts), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title or "histogram")}">']
    if title:
        parts.append(f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>')
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        x = left + i * bar_w
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                     f'height="{h:.1f}" fill="{colour}"><title>{edges[i]:.2f}-{edges[i + 1]:.2f}: '
                     f'{count}</title></rect>')
    for i in (0, len(counts) // 2, len(counts)):
        x = left + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" font-size="10" '
                     f'text-anchor="middle">{edges[i]:.2g}</text>')
    parts.append(f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">{peak}</text>')
    parts.append("</svg>")
    return "".join(parts)
