"""How a campaign simulation is shown: terminal tables and a self-contained HTML page.

Both read the documented JSON form (`SimulationReport.to_dict`), so what a person sees and
what a script gets are the same numbers.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from . import htmlreport as html
from .policy import ACTIONS



def _share(entry: dict) -> str:
    return f"{entry['share']:.0%} ({entry['low']:.0%}-{entry['high']:.0%})"


def _effect(items: list[dict]) -> str:
    if not items:
        return "-"
    top = items[0]
    return f"{top['effect']:+.1f}: {_clip(top['sentence'], 60)}"


def _effects(items: list[dict]) -> str:
    return "; ".join(f"{i['effect']:+.1f} {i['sentence']}" for i in items) or "-"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def terminal_report(data: dict) -> list[RenderableType]:
    """The simulation as terminal tables: per variant, per segment, the series, the checks."""
    out: list[RenderableType] = []
    sends = data["sends"]
    for variant in data["variants"]:
        overall = variant["actions"]
        title = (f"{variant['name']}: \"{_clip(variant['subject'], 60)}\" to "
                 f"{data['recipients']:,} recipients ({data['audience']})")
        table = Table(title=title, title_justify="left")
        for column in ("segment", "recipients", "pass", "hold", "delete", "relevance",
                       "subject", "lifts most", "sinks most"):
            table.add_column(column, overflow="fold",
                             justify="right" if column in ("recipients", "subject") else "left")
        for segment in variant["segments"]:
            actions = segment["actions"]
            table.add_row(segment["name"], f"{segment['recipients']:,}",
                          *(_share(actions[a]) for a in ACTIONS), segment["relevance"],
                          f"{segment['subject_effect']:+.1f}", _effect(segment["lifts"]),
                          _effect(segment["sinks"]))
        table.add_row("everyone", f"{data['recipients']:,}",
                      *(_share(overall[a]) for a in ACTIONS), "", "", "", "", style="bold")
        out.append(table)
        irrelevant = [s["name"] for s in variant["segments"] if s["relevance"] == "irrelevant"]
        if irrelevant:
            out.append(f"Simply irrelevant to: {', '.join(irrelevant)}.")
        if sends > 1:
            out += _series(variant)
        out.append(_findings(variant["findings"]))
    if len(data["variants"]) > 1:
        out.append(_ranking(data["ranking"]))
    return out


def _series(variant: dict) -> list[RenderableType]:
    table = Table(title=f"{variant['name']}: send by send", title_justify="left")
    for column in ("send", "pass", "hold", "delete", "engaged"):
        table.add_column(column, justify="right")
    for send in variant["series"]:
        table.add_row(str(send["send"]), *(f"{send[k]:.0%}" for k in (*ACTIONS, "engaged")))
    out: list[RenderableType] = [table]
    turning = [(s["name"], s["turning_points"]) for s in variant["segments"]]
    for name, points in turning:
        if points["mostly_held_from"] or points["deleting_from"]:
            parts = []
            if points["mostly_held_from"]:
                parts.append(f"mostly held or deleted from send {points['mostly_held_from']}")
            if points["deleting_from"]:
                parts.append(f"deleting from send {points['deleting_from']}")
            out.append(f"  {name}: {', '.join(parts)}")
    return out


def _findings(findings: list[dict]) -> RenderableType:
    if not findings:
        return "Deliverability checks: no problems found."
    table = Table(title="Deliverability checks", title_justify="left")
    for column in ("severity", "problem", "fix"):
        table.add_column(column, overflow="fold")
    colour = {"error": "red", "warning": "yellow", "info": "blue"}
    for finding in findings:
        table.add_row(Text(finding["severity"], style=colour.get(finding["severity"], "white")),
                      finding["title"], finding["fix"])
    return table


def _ranking(ranking: list[dict]) -> RenderableType:
    table = Table(title="Variants, best first", title_justify="left")
    for column in ("place", "variant", "pass rate", "biggest gap to the best"):
        table.add_column(column, overflow="fold")
    for entry in ranking:
        gaps = sorted(entry["difference_to_best"].items(), key=lambda kv: kv[1]["difference"])
        worst = (f"{gaps[0][0]} {gaps[0][1]['difference']:+.0%}"
                 if gaps and gaps[0][1]["difference"] < 0 else "-")
        table.add_row(str(entry["place"]), entry["name"], f"{entry['pass_rate']:.0%}", worst)
    return table


def html_report(data: dict) -> str:
    """One self-contained HTML page with the simulation's tables and charts."""
    sections = []
    for variant in data["variants"]:
        segments = variant["segments"]
        bars = html.stacked_bars(
            [s["name"] for s in segments],
            {a: [100 * s["actions"][a]["share"] for s in segments] for a in ACTIONS},
            title="What the gatekeepers do, per segment (first send)")
        rows = [[s["name"], s["recipients"], *(_share(s["actions"][a]) for a in ACTIONS),
                 s["relevance"], f"{s['subject_effect']:+.2f}",
                 _effects(s["lifts"]), _effects(s["sinks"])]
                for s in segments]
        parts = [html.paragraph(f"Subject: {variant['subject']} | From: {variant['from']} | "
                                f"pass rate {variant['pass_rate']:.1%}"), bars,
                 html.table(["segment", "recipients", "pass", "hold", "delete", "relevance",
                             "subject effect (log-odds)", "sentences that lift it",
                             "sentences that sink it"], rows)]
        if data["sends"] > 1:
            series = variant["series"]
            parts.append(html.line_chart(
                [str(s["send"]) for s in series],
                {name: [100 * s[name] for s in series] for name in (*ACTIONS, "engaged")},
                title="Send by send: share of recipients", y_max=100, y_label="%"))
        findings = variant["findings"]
        parts.append(html.table(["severity", "problem", "fix"],
                                [[f["severity"], f["title"], f["fix"]] for f in findings])
                     if findings else html.paragraph("Deliverability checks: no problems found."))
        sections.append(html.section(f"{variant['name']}", *parts))
    if len(data["variants"]) > 1:
        ranking = data["ranking"]
        sections.append(html.section("Variants, best first", html.stacked_bars(
            [r["name"] for r in ranking], {"pass": [100 * r["pass_rate"] for r in ranking]},
            title="Pass rate"), html.table(["place", "variant", "pass rate"], [
                [r["place"], r["name"], f"{r['pass_rate']:.1%}"] for r in ranking])))
    assumptions = data["assumptions"]
    sections.append(html.section("How this was simulated", html.paragraph(
        f"{data['recipients']:,} recipients sampled around the personas of "
        f"'{data['audience']}' (seed {data['seed']}), each scored by a profile built the way "
        "the gatekeeper daemon builds one and decided by its policy. Recipients are settled "
        f"users (profiles of {assumptions['settled_examples']} examples); intervals are "
        f"{assumptions['interval']}.", "note")))
    return html.page("Campaign simulation", sections,
                     subtitle=f"{len(data['variants'])} variant(s), {data['sends']} send(s)")
