"""How a campaign simulation is shown: terminal tables and a self-contained HTML page.

Both read the documented JSON form (`SimulationReport.to_dict`), so what a person sees and
what a script gets are the same numbers. Both lead with the answer (the share expected in
the inbox and the main risk), then what to change, then the detail; effects are said in
words, never in log-odds.
"""

from __future__ import annotations

import math

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from ..core import htmlreport as html
from ..core.policy import ACTIONS

PLACES = ("primary", "promotions", "spam")
TOP_FACTORS = 5  # reasons shown for a placement; the JSON has them all
SENTENCE_CHARS = 40  # a sentence in the HTML's segment table: one line per segment at 1280 px


def _share(entry: dict) -> str:
    return f"{entry['share']:.0%} ({entry['low']:.0%}-{entry['high']:.0%})"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "…"


def _strength(points: float) -> str:
    size = abs(points)
    return "strongly" if size >= 2 else "clearly" if size >= 1 else "slightly"


def factor_words(factor: dict) -> str:
    """A placement factor in plain words: what it is and which way it pushes."""
    if factor["towards"] == "spam":
        way = "towards spam" if factor["points"] > 0 else "away from spam"
    else:
        way = "towards the promotions tab" if factor["points"] > 0 else "towards the primary inbox"
    return f"{factor['name']}: {_strength(factor['points'])} {way}"


def effect_words(effect: float) -> str:
    """A relevance effect (log-odds of 'wanted') in words."""
    if abs(effect) < 0.3:
        return "little effect"
    return f"{'helps' if effect > 0 else 'hurts'} {_strength(effect)}"


def change_words(change: dict) -> str:
    return (f"{change['action']}: {100 * change['gain']:+.0f} points "
            f"(inbox {change['inbox_after']:.0%})")


def _top_factors(placement: dict) -> list[dict]:
    return sorted(placement["factors"], key=lambda f: -abs(f["points"]))[:TOP_FACTORS]


def _used_actions(variant: dict) -> list[str]:
    """The gatekeeper actions that happen at all: a first send is never deleted, so a
    legend or column for "delete" would only say 0."""
    return [a for a in ACTIONS if a != "delete" or any(
        s["actions"]["delete"]["share"] > 0 for s in variant["segments"])]


# -- terminal --------------------------------------------------------------------------
def terminal_report(data: dict) -> list[RenderableType]:
    """The simulation for a terminal: per variant the answer, the changes, the reasons,
    the segments, the series and the checks; then the ranking."""
    out: list[RenderableType] = []
    for variant in data["variants"]:
        out += _terminal_variant(variant, data)
    if len(data["variants"]) > 1:
        out.append(_ranking(data["ranking"]))
    return out


def _terminal_variant(variant: dict, data: dict) -> list[RenderableType]:
    headline = variant["headline"]
    out: list[RenderableType] = [
        Text(f"{variant['name']}: \"{_clip(variant['subject'], 70)}\" to "
             f"{data['recipients']:,} recipients ({data['audience']})", style="bold"),
        Text(headline["summary"]), Text(f"Main risk: {headline['main_risk']}")]
    if variant["changes"]:
        out.append(Text("What would help most (each forecast again with the change made):"))
        out += [Text(f"  {place}. {change_words(c)}")
                for place, c in enumerate(variant["changes"], 1)]
    out.append(Text(f"Why it lands there ({variant['placement']['kind']} mail):"))
    out += [Text(f"  - {factor_words(f)}") for f in _top_factors(variant["placement"])]
    out.append(_segments_table(variant))
    irrelevant = [s["name"] for s in variant["segments"] if s["relevance"] == "irrelevant"]
    if irrelevant:
        out.append(Text(f"Simply irrelevant to: {', '.join(irrelevant)}."))
    if variant["reads_like_junk"]:
        out.append(Text(junk_words(variant["reads_like_junk"])))
    if data["sends"] > 1:
        out += _series(variant)
    out.append(_findings(variant["findings"]))
    return out


def _segments_table(variant: dict) -> Table:
    actions = _used_actions(variant)
    table = Table(title="Gatekeepers like ours, per segment (first send)", title_justify="left")
    for column in ("segment", "recipients", *actions, "relevance", "subject"):
        table.add_column(column, justify="right" if column == "recipients" else "left")
    for segment in variant["segments"]:
        table.add_row(segment["name"], f"{segment['recipients']:,}",
                      *(_share(segment["actions"][a]) for a in actions), segment["relevance"],
                      effect_words(segment["subject_effect"]))
    table.add_row("everyone", f"{sum(s['recipients'] for s in variant['segments']):,}",
                  *(_share(variant["actions"][a]) for a in actions), "", "", style="bold")
    return table


def _series(variant: dict) -> list[RenderableType]:
    table = Table(title=f"{variant['name']}: send by send", title_justify="left")
    for column in ("send", "pass", "hold", "delete", "engaged", "spam folder", "complaints",
                   "unsubscribes", "quiet 12 months"):
        table.add_column(column, justify="right")
    for send in variant["series"]:
        table.add_row(str(send["send"]), *(f"{send[k]:.0%}" for k in (*ACTIONS, "engaged")),
                      f"{send['spam_placement']:.0%}",
                      f"{send['complaint_rate']:.2%} {send['complaint_level']}",
                      f"{send['unsubscribe_rate']:.2%}", f"{send['dormant_share']:.0%}")
    out: list[RenderableType] = [table]
    for segment in variant["segments"]:
        points = segment["turning_points"]
        parts = []
        if points["mostly_held_from"]:
            parts.append(f"mostly held or deleted from send {points['mostly_held_from']}")
        if points["deleting_from"]:
            parts.append(f"deleting from send {points['deleting_from']}")
        if parts:
            out.append(Text(f"  {segment['name']}: {', '.join(parts)}"))
    if variant["series"][-1]["dormant_share"] > 0:
        out.append(Text("  Recipients quiet for 12 months are what providers recycle into spam "
                        "traps: stop mailing them or win them back first."))
    return out


def junk_words(junk: dict) -> str:
    """What reading like junk costs the campaign, in words."""
    factor = math.exp(-junk["log_odds"])
    times = f"{factor:,.0f}" if factor >= 10 else f"{factor:.1f}"
    return (f"It reads like mail nearly every reader throws away (closest: "
            f"\"{junk['statement']}\", cosine {junk['similarity']:.2f}): that alone divides its "
            f"odds of being wanted by {times} with a typical gatekeeper. Say what you offer in "
            f"your own words, to the people who asked for it.")


def _findings(findings: list[dict]) -> RenderableType:
    if not findings:
        return Text("Deliverability checks: no problems found.")
    table = Table(title="Deliverability checks", title_justify="left")
    for column in ("severity", "problem", "fix"):
        table.add_column(column)
    colour = {"error": "red", "warning": "yellow", "info": "blue"}
    for finding in findings:
        table.add_row(Text(finding["severity"], style=colour.get(finding["severity"], "white")),
                      finding["title"], finding["fix"])
    return table


def _gap_words(entry: dict) -> str:
    if entry["place"] == 1:
        return "best"
    gap = entry["reach_difference"]
    words = f"{100 * gap['difference']:+.1f} points ({100 * gap['low']:+.1f} to {100 * gap['high']:+.1f})"
    return words + (": within noise, not a real difference" if entry["within_noise"] else "")


def _ranking(ranking: list[dict]) -> RenderableType:
    table = Table(title="Variants, best first (expected to see it: inbox x gatekeeper pass)",
                  title_justify="left")
    for column in ("place", "variant", "reach", "inbox", "gatekeeper pass", "gap to the best"):
        table.add_column(column)
    for entry in ranking:
        table.add_row(str(entry["place"]), entry["name"], f"{entry['reach']:.1%}",
                      f"{entry['inbox']:.0%}", f"{entry['pass_rate']:.0%}", _gap_words(entry))
    return table


# -- HTML ------------------------------------------------------------------------------
def html_report(data: dict) -> str:
    """One self-contained HTML page: the answer first, then the reasons and detail."""
    sections = [_html_variant(variant, data) for variant in data["variants"]]
    if len(data["variants"]) > 1:
        ranking = data["ranking"]
        sections.append(html.section("Variants, best first", html.stacked_bars(
            [r["name"] for r in ranking], {"reach": [100 * r["reach"] for r in ranking]},
            title="Expected to see it (inbox x gatekeeper pass)", total=None,
            bar_labels=[f"{r['reach']:.1%}" for r in ranking]),
            html.table(["place", "variant", "expected to see it", "inbox", "gatekeeper pass",
                        "gap to the best"],
                       [[r["place"], r["name"], f"{r['reach']:.1%}", f"{r['inbox']:.0%}",
                         f"{r['pass_rate']:.0%}", _gap_words(r)] for r in ranking])))
    sections.append(html.section("How this was worked out", html.paragraph(
        _method(data), "note")))
    return html.page("Campaign simulation", sections,
                     subtitle=f"{len(data['variants'])} variant(s), {data['sends']} send(s), "
                              f"{data['recipients']:,} recipients ({data['audience']})")


def _html_variant(variant: dict, data: dict) -> str:
    headline, placement = variant["headline"], variant["placement"]
    parts = [html.paragraph(warning, "warning") for warning in variant["warnings"]]
    parts += [html.paragraph(f"{headline['summary']} Main risk: {headline['main_risk']}.",
                             "headline"),
              html.paragraph(f"Subject: {variant['subject']} | From: {variant['from']}", "note")]
    if variant["changes"]:
        parts.append(html.paragraph("What would help most (each forecast again with the change "
                                    "made):"))
        parts.append(html.items([change_words(c) for c in variant["changes"]], ordered=True))
    parts.append(html.stacked_bars(
        ["this campaign"], {place: [100 * placement[place]] for place in PLACES},
        title="Where a large mailbox provider puts it", bar_labels=[
            f"{placement['inbox']:.0%} inbox"]))
    parts.append(html.paragraph(f"Why ({placement['kind']} mail):"))
    parts.append(html.items([factor_words(f) for f in _top_factors(placement)]))
    parts += _html_segments(variant)
    if variant["reads_like_junk"]:
        parts.append(html.paragraph(junk_words(variant["reads_like_junk"]), "warning"))
    if data["sends"] > 1:
        series = variant["series"]
        actions = ["pass", "hold", "delete"]
        parts.append(html.line_chart(
            [str(s["send"]) for s in series],
            {**{a: [100 * s[a] for s in series] for a in actions},
             "engaged": [100 * s["engaged"] for s in series],
             "spam folder": [100 * s["spam_placement"] for s in series]},
            title="Send by send: share of recipients", y_max=100, y_label="%", height=180))
        parts.append(html.table(
            ["send", "spam complaints", "unsubscribes", "quiet 12 months"],
            [[s["send"], f"{s['complaint_rate']:.2%} ({s['complaint_level']})",
              f"{s['unsubscribe_rate']:.2%}", f"{s['dormant_share']:.0%}"] for s in series],
            compact=True))
    findings = variant["findings"]
    parts.append(html.table(["severity", "problem", "fix"],
                            [[f["severity"], f["title"], f["fix"]] for f in findings])
                 if findings else html.paragraph("Deliverability checks: no problems found."))
    return html.section(variant["name"], *parts)


def _html_segments(variant: dict) -> list[str]:
    segments, actions = variant["segments"], _used_actions(variant)
    bars = html.stacked_bars(
        [s["name"] for s in segments],
        {a: [100 * s["actions"][a]["share"] for s in segments] for a in actions},
        title="Gatekeepers like ours: who sees it in the inbox, per segment (first send)",
        bar_labels=[f"{s['actions']['pass']['share']:.0%} pass" for s in segments],
        bar_height=12)
    rows = [[s["name"], _share(s["actions"]["pass"]), s["relevance"],
             effect_words(s["subject_effect"]),
             _clip(s["lifts"][0]["sentence"], SENTENCE_CHARS) if s["lifts"] else "-",
             _clip(s["sinks"][0]["sentence"], SENTENCE_CHARS) if s["sinks"] else "-"]
            for s in segments]
    return [bars, html.table(["segment", "pass", "relevance", "subject line",
                              "the sentence that helps most", "the sentence that hurts most"],
                             rows, compact=True)]


def _method(data: dict) -> str:
    assumptions = data["assumptions"]
    return (
        "Inbox placement: a documented points model of what Gmail, Yahoo and Microsoft publish "
        "that they check (authentication and alignment, one-click unsubscribe, complaint rate, "
        "volume, promotional or transactional content, message build), fed by the "
        "deliverability checks; not fitted to real placements. Gatekeepers: "
        f"{data['recipients']:,} recipients sampled around the personas of "
        f"'{data['audience']}' (seed {data['seed']}), each scored by a profile built the way "
        "the gatekeeper daemon builds one and decided by its policy; held mail waits in a "
        "review folder, deleted mail goes to the trash. Recipients are settled users "
        f"(profiles of {assumptions['settled_examples']} examples); intervals are "
        f"{assumptions['interval']}.")
