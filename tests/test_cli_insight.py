"""`gatekeeper status` (activity, review backlog, time saved) and `gatekeeper stats` in
terminal, JSON and HTML form, through click's CliRunner in a private GATEKEEPER_HOME."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ElementTree
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.mail.config import paths
from gatekeeper.mail.insight import (
    SECONDS_TO_REVIEW_HELD,
    SECONDS_TO_TRIAGE_UNWANTED,
    TIME_SAVED_ASSUMPTION,
    local_midnight,
)
from gatekeeper.mail.mailbox import MessageRef
from gatekeeper.mail.store import DONE, Store

from test_cli_commands import table_rows

SVG = "{http://www.w3.org/2000/svg}svg"
WIDE = {"COLUMNS": "200"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def decide(store: Store, n: int, at: float, action: str, sender: str, probability: float,
           mode: str = "active") -> str:
    """Record a decision; an active hold or delete is also journaled and tracked as moved."""
    message_id = f"m{n}@example.org"
    store.record_decision("personal", "INBOX", MessageRef(f"1:{n}"), {
        "message_id": message_id, "content_hash": f"h{n}", "sender": sender,
        "subject": f"message {n}", "at": at, "action": action, "probability": probability,
        "mode": mode})
    if mode == "active" and action != "pass":
        target = "Gatekeeper/Held" if action == "hold" else "Trash"
        entry = store.journal_intent("personal", message_id, action, "INBOX", target)
        store.journal_finish(entry, DONE)
        store.track("personal", message_id, target, MessageRef(""), frozenset(), at, action)
    return message_id


def fill_three_days() -> list[str]:
    """Five decisions over the last three local days; returns those days, oldest first."""
    now = time.time()
    today, yesterday, before = (local_midnight(now, back) for back in (0, 1, 2))
    store = Store(paths().database)
    liked = decide(store, 1, today, "pass", "friend@a.example", 0.92)
    unwanted = decide(store, 2, today, "delete", "promo@b.example", 0.03)
    decide(store, 3, before + 3600, "hold", "news@c.example", 0.3)  # still held
    decide(store, 4, yesterday + 3600, "delete", "promo@b.example", 0.1, mode="shadow")
    rescued = decide(store, 5, yesterday + 7200, "hold", "news@c.example", 0.2)
    store.update_tracked("personal", rescued, folder="INBOX")
    for message_id, behaviour in ((liked, "replied"), (liked, "read_soon"),
                                  (rescued, "rescued"), (unwanted, "deleted_unread")):
        store.record_reaction("personal", message_id, behaviour, "test", now)
    store.close()
    first = date.fromtimestamp(before)
    return [(first + timedelta(days=n)).isoformat() for n in range(3)]


def flat(text: str) -> str:
    return " ".join(text.split())


# -- status ---------------------------------------------------------------------------------
def test_status_shows_activity_waiting_mail_and_time_saved(runner):
    fill_three_days()
    result = runner.invoke(main, ["status"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "activity (local time; last 7 days = today and the 6 days before):" in result.output
    assert ("  personal: today 1 pass, 0 hold, 1 delete; last 7 days 1 pass, 2 hold, 2 delete"
            in result.output)
    assert ("    1 waiting in review; time saved about 10 s today, 17 s in the last 7 days"
            in result.output)
    assert f"(time saved is an estimate: {TIME_SAVED_ASSUMPTION})" in result.output


def test_status_json_has_the_activity_of_each_account(runner):
    fill_three_days()
    result = runner.invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    personal = report["activity"]["personal"]
    assert personal["today"]["decisions"] == {"pass": 1, "hold": 0, "delete": 1}
    assert personal["last_7_days"]["decisions"] == {"pass": 1, "hold": 2, "delete": 2}
    assert (personal["today"]["seconds_saved"], personal["last_7_days"]["seconds_saved"]) == (
        10.0, 17.0)
    assert personal["waiting_in_review"] == 1
    assert personal["today"]["since"] == local_midnight(time.time())
    assert report["time_saved_assumption"] == TIME_SAVED_ASSUMPTION
    assert len(report["decisions"]) == 5


def test_status_help_states_the_week_and_the_time_saved_assumption(runner):
    result = runner.invoke(main, ["status", "--help"])
    assert result.exit_code == 0
    text = flat(result.output)
    assert "today and the 6 days before, local time" in text
    assert f"{SECONDS_TO_TRIAGE_UNWANTED:.0f} s for each unwanted message" in text
    assert f"less {SECONDS_TO_REVIEW_HELD:.0f} s for each held one" in text


# -- stats ----------------------------------------------------------------------------------
def test_stats_without_decisions_says_so_and_writes_no_page(runner, tmp_path):
    page = tmp_path / "stats.html"
    result = runner.invoke(main, ["stats", "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert "no decisions yet in the last 30 days, so no stats" in result.output
    assert not page.exists()
    report = json.loads(runner.invoke(main, ["stats", "--json", "--days", "5"]).output)
    assert (report["total"], report["days"], report["quiet_days"], report["reversed_share"]) == \
        (0, [], 5, None)


def test_stats_of_an_account_without_decisions_names_it(runner):
    fill_three_days()
    result = runner.invoke(main, ["stats", "--account", "work"])
    assert result.exit_code == 0, result.output
    assert "no decisions yet in the last 30 days for work" in result.output


def test_stats_prints_days_with_bars_scores_senders_and_reversals(runner):
    first, second, today = fill_three_days()
    result = runner.invoke(main, ["stats", "--days", "3"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert f"all accounts: 5 decisions (1 pass, 2 hold, 2 delete) from {first} to {today}" \
        in result.output
    rows = table_rows(result.output)
    assert rows[:3] == [[first, "0", "1", "0", "▒" * 15],
                        [second, "0", "1", "1", "▒" * 15 + "░" * 15],
                        [today, "1", "0", "1", "█" * 15 + "░" * 15]]
    scores = {row[0]: row[1:] for row in rows[3:13]}
    assert (scores["0.0-0.1"], scores["0.1-0.2"], scores["0.9-1.0"]) == (
        ["0", "0", "1"], ["0", "0", "1"], ["1", "0", "0"])
    assert (scores["0.2-0.3"], scores["0.3-0.4"]) == (["0", "1", "0"], ["0", "1", "0"])
    assert rows[13:] == [["friend@a.example", "4.5", "0", "read_soon 1, replied 1"],
                         ["news@c.example", "3", "0", "rescued 1"],
                         ["promo@b.example", "0", "2", "deleted_unread 1"]]
    assert ("you undid or rescued 1 of 3 holds and deletes made in active mode (33%): "
            "1 of 2 holds, 0 of 1 deletes") in result.output
    assert "time saved: about 17 s" in result.output


def test_stats_json_prints_everything(runner):
    first, _, today = fill_three_days()
    result = runner.invoke(main, ["stats", "--days", "3", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["days"][0] == first and report["days"][-1] == today
    assert report["per_day"] == {"pass": [0, 0, 1], "hold": [1, 1, 0], "delete": [0, 1, 1]}
    assert report["histograms"]["hold"] == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    assert [s["sender"] for s in report["engaged"]] == ["friend@a.example", "news@c.example"]
    assert [(s["sender"], s["net"]) for s in report["disengaged"]] == [("promo@b.example", -2.0)]
    assert (report["moved"], report["reversed"]) == ({"hold": 2, "delete": 1},
                                                     {"hold": 1, "delete": 0})
    assert report["reversed_share"] == pytest.approx(1 / 3)
    assert (report["total"], report["seconds_saved"]) == (5, 17.0)


def test_stats_html_is_one_well_formed_page_with_charts(runner, tmp_path):
    days = fill_three_days()
    page = tmp_path / "stats.html"
    result = runner.invoke(main, ["stats", "--days", "3", "--html", str(page)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert f"wrote {page}" in result.output
    doctype, markup = page.read_text().split("\n", 1)
    assert doctype == "<!DOCTYPE html>"
    root = ElementTree.fromstring(markup)
    charts = root.findall(f".//{SVG}")
    assert [chart.get("aria-label") for chart in charts] == [
        "pass / hold / delete per day", "P(wanted) of pass decisions: 1",
        "P(wanted) of hold decisions: 2", "P(wanted) of delete decisions: 2"]
    day_labels = [t.text for t in charts[0].iter("{http://www.w3.org/2000/svg}text")]
    assert all(day in day_labels for day in days)
    cells = [td.text for td in root.iter("td")]
    assert "friend@a.example" in cells and "promo@b.example" in cells
    assert "src" not in markup and "<script" not in markup  # self-contained


def test_stats_html_and_json_together_keep_the_json_clean(runner, tmp_path):
    fill_three_days()
    page = tmp_path / "stats.html"
    result = runner.invoke(main, ["stats", "--json", "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == 5
    assert page.read_text().startswith("<!DOCTYPE html>\n")


def test_stats_of_a_new_install_shows_only_the_days_with_decisions(runner, tmp_path):
    """Seen: a new install's `stats` printed 29 empty days, and its page listed them twice."""
    store = Store(paths().database)
    decide(store, 1, time.time(), "hold", "news@c.example", 0.3)
    store.close()
    page = tmp_path / "stats.html"
    result = runner.invoke(main, ["stats", "--html", str(page)], env=WIDE)
    assert "29 days without any left out" in result.output
    day_rows = [row for row in table_rows(result.output) if re.match(r"\d{4}-\d\d-\d\d", row[0])]
    assert len(day_rows) == 1
    markup = page.read_text().split("\n", 1)[1]
    today = date.today().isoformat()
    assert [td.text for td in ElementTree.fromstring(markup).iter("td")].count(today) == 1
