"""From `gatekeeper init` to a reviewed held folder, as a new user would, on a real Dovecot.

Only the real command line runs gatekeeper here: the `gatekeeper` script of this
environment in subprocesses (so with the real shipped model), and `gatekeeper review` on a
real pseudo-terminal. The private home comes from conftest's GATEKEEPER_HOME, which the
subprocesses inherit. The mailbox is filled, played with and checked through the reader's
own IMAP client, so what is asserted on the server does not depend on gatekeeper's code.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gatekeeper.testing import build_message

from reader import PASSWORD, Reader, unwanted_message, wait_for, wanted_message
from test_imap import HELD
from test_review import run_in_terminal

pytestmark = pytest.mark.model

GATEKEEPER = Path(sys.executable).with_name("gatekeeper")
ON_ARRIVAL = {"pass": "INBOX", "hold": HELD, "delete": "Trash"}
WANTED = ("wanted-1@orbital.example", "wanted-2@orbital.example", "hike@pals.example")
UNWANTED = ("unwanted-1@shoes.example", "unwanted-2@shoes.example", "presale@coins.example")
RESCUE = "rover-1@marsnews.example"  # wanted, from a sender the profile has never seen


def gatekeeper(*args: str) -> str:
    """Run the real command with the test's environment; its output, after checking it
    exited with 0."""
    result = subprocess.run([str(GATEKEEPER), *args], capture_output=True, text=True,
                            timeout=120, env=dict(os.environ))
    assert result.returncode == 0, f"gatekeeper {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def status() -> dict:
    return json.loads(gatekeeper("status", "--json", "--last", "100"))


def deliver_at(reader: Reader, raw: bytes, when: datetime, folder: str = "INBOX",
               flags: tuple[str, ...] = ()) -> None:
    """Deliver with an arrival (internal) date, as mail that has been there a while."""
    reader.client.append(folder, raw, flags=flags, msg_time=when)


def fill_history(reader: Reader, now: datetime) -> set[str]:
    """Two months of a reader's mail: what they sent, the space newsletter they read, a
    friend's replies they answered, launch notices they flagged, shoe deals they deleted
    unread, and one old newsletter from before the training window. Its Message-IDs."""
    deliver_at(reader, build_message(
        sender="Alice <alice@example.org>", to="Sam <sam@pals.example>", subject="Dinner?",
        body="Saturday at eight?", date=now - timedelta(days=30),
        message_id="<dinner@example.org>"), now - timedelta(days=30), "Sent", ("\\Seen",))
    for n in range(16):
        day = now - timedelta(days=64 - 4 * n)
        deliver_at(reader, build_message(
            sender="Orbital Weekly <news@orbital.example>", date=day,
            headers={"List-Id": "<weekly.orbital.example>"}, subject=f"Rocket launch report {n}",
            body=f"The rocket reached orbit on mission {n}.",
            message_id=f"<space-{n}@orbital.example>"), day, flags=("\\Seen",))
        deliver_at(reader, build_message(
            sender="Shoe Deals <deals@shoes.example>", date=day,
            headers={"List-Id": "<deals.shoes.example>"}, subject=f"Discount shoes {n}",
            body=f"Cheap sneakers, coupon {n}, buy today!",
            message_id=f"<deal-{n}@shoes.example>"), day, "Trash")
    for n in range(2):
        day = now - timedelta(days=20 - 7 * n)
        deliver_at(reader, build_message(
            sender="Sam <sam@pals.example>", date=day, subject=f"Re: Dinner? ({n})",
            body="Yes, see you there.", message_id=f"<sam-{n}@pals.example>"),
            day, flags=("\\Seen", "\\Answered"))
        deliver_at(reader, build_message(
            sender="Mission Control <ops@launch.example>", date=day,
            subject=f"Launch window moved {n}",
            body="The launch window for the orbit insertion moved by a day.",
            message_id=f"<ops-{n}@launch.example>"), day, flags=("\\Seen", "\\Flagged"))
    old = now - timedelta(days=200)
    deliver_at(reader, build_message(
        sender="Orbital Weekly <news@orbital.example>", date=old, subject="Old launch report",
        body="A rocket from long ago.", message_id="<old@orbital.example>"), old,
        flags=("\\Seen",))
    return set(reader.where_is())


def new_mail() -> list[bytes]:
    return [
        wanted_message(1), unwanted_message(1),
        build_message(sender="Sam <sam@pals.example>", subject="Hiking on Sunday?",
                      body="Are you free on Sunday for a hike?", message_id=f"<{WANTED[2]}>"),
        build_message(sender="Coin Moon <promo@coins.example>",
                      subject="Crypto token presale ends tonight",
                      body="Buy the new token before it moons. Limited presale.",
                      message_id=f"<{UNWANTED[2]}>"),
        build_message(sender="Mars News <editor@marsnews.example>",
                      subject="Mars rover spots an ancient river bed",
                      body="The rover's cameras found layered rock where water once flowed.",
                      message_id=f"<{RESCUE}>"),
        wanted_message(2), unwanted_message(2),
    ]


def daemon_state() -> str:
    return status()["daemon"].get("accounts", {}).get("alice", {}).get("state", "")


def run_until_decided(reader: Reader, count: int, log: Path) -> dict[str, str]:
    """`gatekeeper run`, new mail delivered while it watches, stopped with SIGTERM once
    `count` messages are decided; Message-ID -> action."""
    with log.open("w") as output:
        process = subprocess.Popen([str(GATEKEEPER), "run"], stdout=output,
                                   stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        wait_for(lambda: daemon_state() == "watching", timeout=60, what="the daemon to watch")
        # One MULTIAPPEND for the whole burst, so every message lands while it idles.
        reader.client.multiappend("INBOX", new_mail())
        wait_for(lambda: len(status()["decisions"]) >= count, timeout=30,
                 what="the new mail to be decided")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return {row["message_id"]: row["action"] for row in status()["decisions"]}


def train_report(output: str) -> tuple[int, int, dict[str, int], int, int, dict[str, int]]:
    """(messages read, examples, behaviours, held-out examples, AUC %, last week's
    actions) from `gatekeeper train`'s report."""
    read = re.search(r"alice: read (\d+) messages of the last 90 days; learned from (\d+) "
                     r"\((.*)\); 1 correspondents", output)
    heldout = re.search(r"on the latest (\d+), trained on the earlier ones, it ranks kept "
                        r"mail above thrown-away mail (\d+)% of the time", output)
    week = re.search(r"with last week's mail it would have done: (.*)", output)
    assert read and heldout and week, output
    behaviours = {name: int(n) for name, n in
                  (part.rsplit(" ", 1) for part in read.group(3).split(", "))}
    actions = {name: int(n) for name, n in (part.split(" ") for part in week.group(1).split(", "))}
    return (int(read.group(1)), int(read.group(2)), behaviours, int(heldout.group(1)),
            int(heldout.group(2)), actions)


def test_a_new_user_goes_from_init_to_a_reviewed_held_folder(server, private_home, tmp_path):
    assert GATEKEEPER.is_file(), f"no gatekeeper script beside {sys.executable}"
    now = datetime.now(timezone.utc)
    reader = Reader(server)
    # 1. the history gatekeeper will learn from, before it is even installed.
    history = fill_history(reader, now)
    assert len(history) == 38 and HELD not in reader.folders()

    # 2. init checks the login, creates the held folder and writes a shadow-mode account.
    output = gatekeeper("init", "--address", "alice@example.org", "--username", "alice",
                        "--host", "127.0.0.1", "--port", str(server.imaps_port),
                        "--security", "tls", "--ca-file", server.ca_file,
                        "--password-env", "GK_TEST_PASSWORD")
    config = private_home / "config" / "config.toml"
    assert ("logged in; folders: inbox = INBOX, held = Gatekeeper/Held, trash = Trash, "
            "junk = Junk, sent = Sent, archive = Archive") in output
    assert f"added account 'alice' to {config}; mode: shadow " in output
    assert HELD in reader.folders()
    assert 'password_env = "GK_TEST_PASSWORD"' in config.read_text()
    assert PASSWORD not in config.read_text()

    # 3. one interest, in plain words.
    gatekeeper("interests", "add", "space exploration, rockets and launches")
    assert json.loads(gatekeeper("interests", "list", "--json"))["interests"] == [
        "space exploration, rockets and launches"]

    # 4. train on the last 90 days: everything but the 200-day-old newsletter.
    read, examples, behaviours, heldout, auc, last_week = train_report(
        gatekeeper("train", "--days", "90"))
    assert (read, examples) == (37, 36)
    assert behaviours == {"read": 16, "deleted_unread": 16, "replied": 2, "flagged": 2}
    assert heldout == 8 and auc >= 90
    assert sum(last_week.values()) == 2 and last_week["pass"] == 1  # space-15 and deal-15
    assert (private_home / "data" / "profiles" / "alice" / "checkpoint.npz").is_file()

    # 5. active mode.
    assert "mode is now active" in gatekeeper("mode", "active")

    # 6. new mail arrives while `gatekeeper run` watches; SIGTERM stops it cleanly.
    decided = run_until_decided(reader, len(new_mail()), tmp_path / "run.log")
    assert set(decided) == {*WANTED, *UNWANTED, RESCUE}  # the history was left alone
    # Probes are drawn from a hash of the Message-ID: none of these is one.
    assert not any(row["probe"] for row in status()["decisions"])
    assert {decided[mid] for mid in WANTED} == {"pass"}
    assert {decided[mid] for mid in UNWANTED} <= {"hold", "delete"}
    assert decided[RESCUE] == "hold"
    daemon = status()["daemon"]
    assert daemon["running"] is False and daemon["accounts"]["alice"]["state"] == "stopped"
    assert daemon["accounts"]["alice"]["decided"] == dict(Counter(decided.values()))

    # 7. on the server: each message where its decision put it, unread, and none lost.
    where = reader.where_is()
    assert set(where) == history | set(decided)
    assert {mid: where[mid] for mid in decided} == {
        mid: ON_ARRIVAL[action] for mid, action in decided.items()}
    assert all(where[mid] == "INBOX" for mid in WANTED)
    assert all(where[mid] in (HELD, "Trash") for mid in UNWANTED)
    inbox = reader.message_ids("INBOX")
    assert all("\\Seen" not in inbox[mid] for mid in WANTED)  # looking never marks read

    # 8. review on a terminal: pass the Mars news back, delete the presale, skip the rest.
    held = json.loads(gatekeeper("review", "--list", "--json"))
    held_ids = [item["message_id"] for item in held]
    assert sorted(held_ids) == sorted(mid for mid, folder in where.items()
                                      if folder == HELD and mid in decided)
    keys = {RESCUE: "p", UNWANTED[2]: "d"}
    screen = run_in_terminal("".join(keys.get(mid, "s") for mid in held_ids))
    assert f"[{len(held)}/{len(held)}]" in screen and "Mars rover spots an ancient" in screen
    assert f"reviewed: 1 passed, 1 deleted, {len(held) - 2} skipped" in screen
    after_review = reader.where_is()
    assert (after_review[RESCUE], after_review[UNWANTED[2]]) == ("INBOX", "Trash")
    assert {mid: after_review[mid] for mid in held_ids if mid not in keys} == {
        mid: HELD for mid in held_ids if mid not in keys}
    assert set(after_review) == set(where)
    listed = [item["message_id"] for item in json.loads(gatekeeper("review", "--list", "--json"))]
    assert listed == [mid for mid in held_ids if mid not in keys]
    assert status()["activity"]["alice"]["waiting_in_review"] == len(listed)

    # 9. undo the delete, by the journal ID `gatekeeper status` shows.
    (deleted,) = [entry for entry in status()["journal"]
                  if entry["kind"] == "delete" and entry["message_id"] == UNWANTED[2]]
    assert (deleted["source"], deleted["target"], deleted["state"]) == (HELD, "Trash", "done")
    assert f"{deleted['id']}: restored to {HELD} ({UNWANTED[2]})" in gatekeeper(
        "undo", str(deleted["id"]))
    after_undo = reader.where_is()
    assert after_undo == {**after_review, UNWANTED[2]: HELD}
    journal = {entry["id"]: entry for entry in status()["journal"]}
    assert journal[deleted["id"]]["state"] == "undone"

    # 10. status and stats count today's decisions; one hold was rescued.
    counts = {action: sum(a == action for a in decided.values())
              for action in ("pass", "hold", "delete")}
    line = ", ".join(f"{n} {action}" for action, n in counts.items())
    text = gatekeeper("status")
    assert f"config: {config}" in text and "daemon: not running" in text
    assert f"alice: today {line}; last 7 days {line}" in text
    stats = json.loads(gatekeeper("stats", "--json", "--days", "7"))
    assert stats["total"] == len(decided)
    assert {action: days[-1] for action, days in stats["per_day"].items()} == counts
    assert stats["moved"] == {"hold": counts["hold"], "delete": counts["delete"]}
    assert stats["reversed"] == {"hold": 1, "delete": 0}
    # 10 s saved per unwanted message not triaged, less 3 s per held one; the rescue is out.
    assert stats["seconds_saved"] == 7 * (counts["hold"] - 1) + 10 * counts["delete"]
    assert {s["sender"]: s["behaviours"] for s in stats["engaged"]} == {
        "editor@marsnews.example": {"rescued": 1}}
    reader.close()
