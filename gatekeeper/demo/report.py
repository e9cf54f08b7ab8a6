"""The demo's HTML report: one self-contained page (inline SVG, no scripts, no network)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..core import htmlreport as html
from ..core.policy import ACTIONS
from .cast import KINDS
from .outcome import DemoResult

# Rows the reader would mind, in the page's warning colours.
ROW_CLASSES = {("wanted", "delete"): "sev-error", ("wanted", "hold"): "sev-warning",
               ("unwanted", "pass"): "sev-info"}


def write_report(result: DemoResult, path: Path) -> Path:
    """Write the report for a run to `path`; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
    return path


def render(result: DemoResult) -> str:
    new_days = len(result.by_day())
    return html.page(
        f"gatekeeper demo: {new_days} days of new mail for {result.persona.name}",
        [_summary(result), _days(result), _kinds(result), _learning(result),
         _decisions(result)],
        subtitle=f"{result.history} earlier messages and the reader's sent mail learned, then "
                 f"{len(result.decided)} new ones decided in active mode on a local Maildir, in "
                 f"{result.seconds:.0f} s. Every message was written by the demo; nothing left "
                 "this machine.")


def _summary(result: DemoResult) -> str:
    rows = result.summary_rows()
    return html.section(
        "What it did",
        html.table(("verdict", "messages", "right", "wrong"), rows),
        html.paragraph(f"Wanted mail deleted: {result.wanted_deleted}. Unwanted mail held or "
                       f"deleted: {result.unwanted_removed:.0%}."))


def _days(result: DemoResult) -> str:
    days = result.by_day()
    labels = [result.day_label(day) for day in days]
    series = {verdict: [days[day][verdict] for day in days] for verdict in ACTIONS}
    return html.section("Day by day", html.stacked_bars(
        labels, series, title="new messages per day: passed, held, deleted", unit="",
        total=None))


def _kinds(result: DemoResult) -> str:
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for mail in result.decided:
        counts[mail.kind][mail.verdict] += 1
    kinds = [kind for kind in KINDS if counts[kind]]
    shares = {verdict: [100 * counts[k][verdict] / sum(counts[k].values()) for k in kinds]
              for verdict in ACTIONS}
    return html.section("By kind of mail", html.stacked_bars(
        kinds, shares, title="share of each kind passed, held, deleted"))


def _learning(result: DemoResult) -> str:
    return html.section("What it learned", *(html.paragraph(line)
                                             for line in result.learning_lines()))


def _decisions(result: DemoResult) -> str:
    rows, classes = [], []
    for mail in result.decided:
        truth = "wanted" if mail.wanted else "unwanted"
        verdict = mail.verdict + (" (probe)" if mail.probe else "") + (
            ", rescued" if mail.rescued else "")
        rows.append((result.day_label(mail.day), mail.sender, mail.subject, mail.kind, truth,
                     verdict, f"{mail.probability:.2f}", mail.reason))
        classes.append(ROW_CLASSES.get((truth, mail.verdict), ""))
    return html.section(
        "Every decision",
        html.paragraph("Coloured rows: red a wanted message deleted, orange a wanted message "
                       "held, blue an unwanted message passed.", "note"),
        html.table(("day", "from", "subject", "kind", "truth", "verdict", "P(wanted)",
                    "top reason"), rows, row_classes=classes))
