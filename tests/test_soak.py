"""The whole loop as a person runs it, through the real command line, on a real Dovecot.

Only the `gatekeeper` script of this environment runs gatekeeper here (subprocesses, so
the real shipped model); the reader acts through their own IMAP client. Two tests:

- the reproduction of what was seen in use: after `train`, with the daemon running in
  active mode, three deletes and one rescue in `review` turned the profile over and the
  daemon passed mail on a declared disinterest; and the daemon's save threw away what
  review had learned;
- a soak: two weeks of the demo's simulated reader with the daemon running as a service
  would, while review, `undo --since`, mode switches, a `train` and two SIGKILLs happen
  beside it. Then what it learned is read back and checked against the store.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from gatekeeper.core.brain import Brain
from gatekeeper.core.embed import OnnxEmbedder
from gatekeeper.core.message import parse
from gatekeeper.demo.inbox import CALENDAR_START, generate_inbox
from gatekeeper.demo.persona import PERSONA, RESCUE, Behaviour
from gatekeeper.demo.run import HISTORY_DAYS, SimulatedReader
from gatekeeper.mail.account import load_brain
from gatekeeper.mail.config import load_settings, paths
from gatekeeper.mail.learning import catch_up
from gatekeeper.mail.store import Store
from gatekeeper.testing import build_message

from conftest import account_for
from reader import ImapMailClient, Reader, wait_for
from test_imap import HELD

pytestmark = pytest.mark.model

GATEKEEPER = Path(sys.executable).with_name("gatekeeper")
ACCOUNT = "alice"


def gatekeeper(*args: str) -> str:
    result = subprocess.run([str(GATEKEEPER), *args], capture_output=True, text=True,
                            timeout=300, env=dict(os.environ))
    assert result.returncode == 0, f"gatekeeper {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


class Service:
    """`gatekeeper run` as a service runs it: started, stopped, killed, started again."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as output:
            self.process = subprocess.Popen([str(GATEKEEPER), "run"], stdout=output,
                                            stderr=subprocess.STDOUT, env=dict(os.environ))
        wait_for(lambda: self.account_state() == "watching", timeout=90,
                 what="the daemon to watch")

    def account_state(self) -> str:
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        try:
            status = json.loads(paths().status_file.read_text())
        except (OSError, ValueError):
            return ""
        if status.get("pid") != self.process.pid:
            return ""
        return status["accounts"][ACCOUNT]["state"]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=30) == 0, self.log.read_text()[-3000:]


def store() -> Store:
    return Store(paths().database)


def decided_ids() -> set[str]:
    database = store()
    found = {row.message_id for row in database.decisions(ACCOUNT)}
    database.close()
    return found


def write_settings(server, mode: str, interests: list[str], disinterests: list[str]) -> None:
    account = account_for(server).backend  # written flat, as files of older versions are
    where = paths()
    where.config.mkdir(parents=True, exist_ok=True)
    where.config_file.write_text(
        f"mode = {json.dumps(mode)}\ninterests = {json.dumps(interests)}\n"
        f"disinterests = {json.dumps(disinterests)}\n[policy]\nprobe_share = 0.0\n"
        f"[[accounts]]\nname = \"{ACCOUNT}\"\nhost = \"{account.host}\"\n"
        f"port = {account.port}\nusername = \"{account.username}\"\nsecurity = \"tls\"\n"
        f"ca_file = \"{account.ca_file}\"\npassword_env = \"GK_TEST_PASSWORD\"\n"
        "poll_seconds = 1\ntimeout_seconds = 10\n")


def saved_brain() -> Brain:
    """The brain as gatekeeper opens it: the saved profile caught up with the store. (The
    checkpoint alone may lag the store: a daemon still busy when its stop grace ends exits
    without its last save, and the next start replays the rest.)"""
    database = store()
    brain = load_brain(ACCOUNT, load_settings(), paths(), database, OnnxEmbedder())
    database.close()
    return brain


# -- the reproduction ----------------------------------------------------------------------
SPACE, CARS = "Orbital Weekly <news@orbital.example>", "Auto Forum <forum@autos.example>"
GUNS = "Gun Rights Digest <digest@guns.example>"


def post(sender: str, subject: str, body: str, n: int, day: datetime) -> bytes:
    domain = sender.split("@")[1].rstrip(">")
    return build_message(sender=sender, subject=subject, body=body, date=day,
                         message_id=f"<{subject.split()[0].lower()}-{n}@{domain}>")


def space_post(n: int, day: datetime, sender: str = SPACE) -> bytes:
    return post(sender, f"Launch report {n}: the rocket reached orbit",
                f"The booster landed and the capsule docked with the station, flight {n}.", n, day)


def car_post(n: int, day: datetime, sender: str = CARS) -> bytes:
    return post(sender, f"Engine question {n}: timing belt and brake pads",
                f"My sedan's engine rattles at idle; is it the timing belt? Car number {n}.",
                n, day)


def gun_post(n: int, day: datetime, sender: str = GUNS) -> bytes:
    return post(sender, f"Gun control bill {n}: the vote on firearms",
                f"The senate debates the gun control bill, the second amendment and rifles {n}.",
                n, day)


def shop_post(n: int, day: datetime) -> bytes:
    return post("Mega Deals <offers@deals.example>", f"Flash sale {n}: 70% off watches",
                f"Huge discount on watches and sneakers today only, coupon {n}.", n, day)


BORDERLINE = [
    ("City Dealer", "citydealer.example", "Lease a new sedan this month",
     "Our dealership offers a lease on the new sedan with free brake service."),
    ("Pixel Lab", "pixellab.example", "Rendering course: shaders and ray tracing",
     "Learn 3D rendering, shaders and ray tracing in our online graphics course."),
    ("Town Hall", "townhall.example", "Road works on Main Street next week",
     "The council schedules road works on Main Street; expect detours."),
    ("Cook Club", "cookclub.example", "Ten recipes for autumn soups",
     "Pumpkin, leek and lentil: ten soups for the autumn evenings."),
    ("Insure Now", "insurenow.example", "Cheaper car insurance in two minutes",
     "Compare car insurance quotes and save on your premium today."),
    ("Stargazers", "stargazers.example", "Telescope night at the observatory",
     "Join our telescope night: planets, nebulae and a talk on the moon landing."),
]
# Wanted, but close to the declared disinterest: the rescue that turned the profile over.
TRUCK = ("Truck Talk", "trucktalk.example", "Mounting a rifle rack in my pickup truck",
         "The engine bay is fine; where do I mount the gun rack, and is it legal to carry "
         "a rifle in the cab?")


def test_a_rescue_in_review_does_not_turn_the_profile_over(server, tmp_path):
    reader, client = Reader(server), None
    now = datetime.now(timezone.utc)
    for n in range(8):  # two months of history, as the reader left it
        day = now - timedelta(days=60 - 7 * n)
        reader.client.append("INBOX", space_post(n, day), flags=["\\Seen"], msg_time=day)
        reader.client.append("INBOX", car_post(n, day), flags=["\\Seen"], msg_time=day)
        reader.client.append("Trash", gun_post(n, day), msg_time=day)
        reader.client.append("Trash", shop_post(n, day), msg_time=day)
    write_settings(server, "active", ["space exploration, rockets and launches",
                                      "car repair and engines"], ["gun politics"])
    assert "learned from 32" in gatekeeper("train", "--days", "90")
    daemon = Service(tmp_path / "run.log")
    daemon.start()
    today = now
    new = [space_post(20, today, "Mars Daily <desk@marsdaily.example>"),
           car_post(21, today, "Garage Talk <talk@garage.example>"),
           shop_post(20, today), gun_post(30, today, "Rifle News <news@rifles.example>")]
    # Mail from senders never seen, on topics the history says little about: the held.
    new += [post(f"{name} <hello@{domain}>", subject, body, n, today)
            for n, (name, domain, subject, body) in enumerate([*BORDERLINE, TRUCK])]
    reader.client.multiappend("INBOX", new)
    wait_for(lambda: len(decided_ids()) == len(new), timeout=60, what="the new mail decided")
    held = json.loads(gatekeeper("review", "--list", "--json"))
    assert len(held) >= 4, held
    rescue = next(item for item in held if item["subject"] == TRUCK[2])
    others = sorted((item for item in held if item is not rescue),
                    key=lambda item: item["probability"])
    gun = parse(gun_post(99, today, "Second Amendment Times <ed@2a-times.example>"))
    (tmp_path / "gun.eml").write_bytes(gun_post(99, today, "Second Amendment Times <ed@2a-times.example>"))
    before = json.loads(gatekeeper("explain", str(tmp_path / "gun.eml"), "--json"))

    for item in others[:3]:
        assert "has learned it" in gatekeeper("review", "--delete", str(item["id"]))
    assert "has learned it" in gatekeeper("review", "--pass", str(rescue["id"]))

    after = json.loads(gatekeeper("explain", str(tmp_path / "gun.eml"), "--json"))
    reader.client.append("INBOX", gun_post(99, today, "Second Amendment Times <ed@2a-times.example>"))
    wait_for(lambda: gun.message_id in decided_ids(), timeout=30, what="the gun post decided")
    daemon.stop()

    database = store()
    (decision,) = [row for row in database.decisions(ACCOUNT) if row.message_id == gun.message_id]
    reviewed = {r.id for r in database.reactions(ACCOUNT, source="review")}
    database.close()
    print(f"\ngun politics post: P(wanted) {before['probability']:.3f}, interests "
          f"{before['evidence_log_odds']['interests']:+.1f} before the review; "
          f"{after['probability']:.3f}, {after['evidence_log_odds']['interests']:+.1f} after; "
          f"the daemon: {decision.action} at {decision.probability:.3f}")
    assert decision.action != "pass"
    assert after["evidence_log_odds"]["interests"] < 0
    assert after["probability"] < 0.5
    assert len(reviewed) == 4 and reviewed <= set(saved_brain().profile.examples_.ids)
    reader.close()


# -- the soak ------------------------------------------------------------------------------
LIVE_DAYS = 14


def test_two_weeks_of_a_reader_with_commands_and_crashes_beside_the_daemon(server, tmp_path):
    inbox = generate_inbox(260, seed=11)
    history_end = CALENDAR_START + timedelta(days=HISTORY_DAYS)
    reader = Reader(server)
    client = ImapMailClient(reader)
    person = SimulatedReader(client, Behaviour(), seed=11)
    for name in ("Sent", "Junk", "Trash"):
        client.folder(name)
    # The history as the reader left it, its dates moved to end now, for `train` to read.
    client.dates_moved_by = datetime.now(timezone.utc) - history_end
    for mail in inbox.sent:
        if mail.when < history_end:
            client.deliver("Sent", mail, "S")
    for mail in inbox.received:
        if mail.when < history_end:
            person.file_past(mail)
    client.dates_moved_by = None  # the new mail arrives as it is delivered
    write_settings(server, "shadow", list(PERSONA.interests), list(PERSONA.disinterests))
    gatekeeper("train", "--days", "30")

    daemon = Service(tmp_path / "run.log")
    daemon.start()
    live = [m for m in inbox.received if m.when >= history_end]
    mode, figures = "shadow", Counter()
    for day in range(LIVE_DAYS):
        start = history_end + timedelta(days=day)
        today = [m for m in live if start <= m.when < start + timedelta(days=1)]
        if day == 2:
            gatekeeper("mode", "active")
            mode = "active"
        elif day == 5:
            gatekeeper("mode", "tag")
            mode = "tag"
        elif day == 6:
            gatekeeper("mode", "active")
            mode = "active"
        before_delivery = datetime.now().isoformat(timespec="seconds")
        for mail in today:
            client.deliver("INBOX", mail)
        if day in (4, 11):  # SIGKILL while the day's mail is being decided
            daemon.kill()
            figures["sigkills"] += 1
            daemon.start()
        expected = {m.message_id for m in today}
        wait_for(lambda: expected <= decided_ids(), timeout=90, what=f"day {day}'s mail decided")
        verdicts = _verdicts(expected)
        if day == 8:  # the day's moves are undone: all of it back in the inbox
            output = gatekeeper("undo", "--since", before_delivery)
            figures["undone"] += output.count("restored to")
            verdicts = {mid: "pass" for mid in verdicts}
            for mid in expected:
                person.held.pop(mid, None)
        if day == 9:
            gatekeeper("train", "--days", "60")  # beside the running daemon
        person.catch_up()
        for mail in today:
            person.react(mail, verdicts[mail.message_id] if mode == "active" else "pass")
        if person.behaviour.looks_at_held(day):
            _review(person, day, use_command=day % 4 == 1, figures=figures)
    daemon.stop()

    # Every message in exactly one folder, none lost.
    where = reader.where_is()
    everything = {m.message_id for m in inbox.received} | {
        m.message_id for m in inbox.sent if m.when < history_end}
    assert set(where) == everything
    # Every live reaction learned exactly once; nothing undone is still learned.
    database = store()
    reactions = database.reactions(ACCOUNT)
    database.close()
    live_reactions = [r for r in reactions if not r.undone]
    once = Counter((r.message_id, r.behaviour) for r in live_reactions if r.source != "train")
    assert max(once.values()) == 1
    brain = saved_brain()
    examples = list(brain.profile.examples_.ids)
    assert len(examples) == len(set(examples))
    assert set(examples) == {r.id for r in live_reactions if r.lesson.example is not None}
    assert not {r.id for r in reactions if r.undone} & set(examples)
    # The profile scores as one refitted from scratch on the same reactions.
    database = store()
    fresh = Brain(brain.embedder, settings=brain.settings)
    fresh.set_interests(PERSONA.interests, PERSONA.disinterests)
    catch_up(fresh, database, ACCOUNT)
    database.close()
    probe = [parse(m.raw) for m in live[::7]]
    now = datetime.now(timezone.utc).timestamp()
    saved = np.array([a.probability for a in brain.assess(probe, now=now)])
    refitted = np.array([a.probability for a in fresh.assess(probe, now=now)])
    figures.update(recorded=len(reactions), learned=len(set(examples)),
                   taken_back=sum(r.undone for r in reactions),
                   lost=len({r.id for r in live_reactions if r.lesson.example} - set(examples)))
    print(f"\nsoak: {dict(figures)}; largest difference from a refit "
          f"{np.abs(saved - refitted).max():.4f} over {len(probe)} messages")
    assert figures["lost"] == 0 and figures["undone"] > 0 and figures["sigkills"] == 2
    np.testing.assert_allclose(saved, refitted, atol=0.01)
    reader.close()


def _verdicts(message_ids: set[str]) -> dict[str, str]:
    database = store()
    found = {row.message_id: row.action for row in database.decisions(ACCOUNT)
             if row.message_id in message_ids}
    database.close()
    return found


def _review(person: SimulatedReader, day: int, use_command: bool, figures: Counter) -> None:
    """The reader's look at the held folder: through `gatekeeper review`, or by moving
    messages in their mail client."""
    choices = person.review_choices(day)
    if not use_command:
        for message_id, action in choices:
            if action == RESCUE:
                person.client.move(message_id, HELD, "INBOX", letters="S")
            else:
                person.client.move(message_id, HELD, "Trash")
        figures["moved by the reader"] += len(choices)
        return
    ids = {item["message_id"]: item["id"]
           for item in json.loads(gatekeeper("review", "--list", "--json"))}
    args = []
    for message_id, action in choices:
        if message_id in ids:
            args += ["--pass" if action == RESCUE else "--delete", str(ids[message_id])]
    if args:
        gatekeeper("review", *args)
        figures["reviewed"] += len(args) // 2
