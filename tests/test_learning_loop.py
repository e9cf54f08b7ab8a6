"""Commands beside a running daemon, against a real Dovecot: one owner of learned state.

The daemon runs in a thread of the test (the model-free HashEmbedder); the commands run
through click's CliRunner with the same embedder in place of the model, so both read mail
alike. Each test is one of the failures seen in use: a mode change that never reached the
daemon, two daemons on one home, `undo --since` that left held-then-deleted mail in the
held folder, undo's moves learned as rescues, and review or train thrown away by the
daemon's next save.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.core.brain import Brain
from gatekeeper.core.embed import EMBEDDERS
from gatekeeper.errors import HomeLockedError
from gatekeeper.mail import training
from gatekeeper.mail.config import load_settings, paths
from gatekeeper.mail.daemon import Daemon
from gatekeeper.mail.store import DONE, Store
from gatekeeper.testing import HashEmbedder

from reader import Reader, unwanted_message, wait_for, wanted_message
from test_imap import HELD, write_config


@pytest.fixture(autouse=True)
def hash_model(monkeypatch):
    """The commands read mail with the daemon's embedder, not the shipped model."""
    monkeypatch.setitem(EMBEDDERS, "onnx", lambda *_: HashEmbedder())


class Running:
    """`gatekeeper run` in a thread, on the settings file as it is."""

    def __init__(self) -> None:
        self.daemon = Daemon(load_settings(), paths(), embedder=HashEmbedder())
        self.thread = threading.Thread(target=self.daemon.run, daemon=True)
        self.thread.start()
        wait_for(lambda: self.state() == "watching", timeout=20, what="the daemon to watch")

    def state(self) -> str:
        return self.daemon.workers[0].status.state

    def stop(self) -> None:
        self.daemon.stop.set()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive()


def gatekeeper(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def decisions() -> dict[str, str]:
    store = Store(paths().database)
    rows = {row.message_id: row.action for row in store.decisions()}
    store.close()
    return rows


def reactions(**query) -> list:
    store = Store(paths().database)
    found = store.reactions("alice", **query)
    store.close()
    return found


def saved_examples() -> set[int]:
    brain = Brain.load(paths().profile_dir("alice"), HashEmbedder())
    return set(brain.profile.examples_.ids)


def held_ids() -> list[int]:
    return [item["id"] for item in json.loads(gatekeeper("review", "--list", "--json"))]


def test_a_mode_change_reaches_the_running_daemon(server):
    write_config(server, mode="shadow")
    reader = Reader(server)
    daemon = Running()
    try:
        reader.deliver(unwanted_message(1))
        wait_for(lambda: "unwanted-1@shoes.example" in decisions(), what="a shadow decision")
        assert "the running gatekeeper (pid" in gatekeeper("mode", "active")
        assert daemon.daemon.workers[0].status.mode == "active"
        reader.deliver(unwanted_message(2))
        wait_for(lambda: "unwanted-2@shoes.example" in reader.message_ids(HELD),
                 what="the next message held in active mode")
        assert "unwanted-1@shoes.example" in reader.message_ids("INBOX")  # shadow touched nothing
    finally:
        daemon.stop()
        reader.close()


def test_a_second_daemon_on_the_same_home_says_who_holds_it(server):
    write_config(server)
    daemon = Running()
    try:
        with pytest.raises(HomeLockedError, match="already running for this home"):
            Daemon(load_settings(), paths(), embedder=HashEmbedder()).run()
        result = CliRunner().invoke(main, ["run"])
        assert result.exit_code == 2
        assert "already running for this home" in result.output and "pid" in result.output
        assert "daemon: running, pid" in gatekeeper("status")
    finally:
        daemon.stop()
    assert "daemon: not running" in gatekeeper("status")


def hold_two(reader: Reader) -> Running:
    daemon = Running()
    for n in (1, 2):
        reader.deliver(unwanted_message(n))
    wait_for(lambda: len(reader.message_ids(HELD)) == 2, what="two messages held")
    # The journal marks a move done just after the server made it: only done moves are
    # undone, so under load `undo` could otherwise find one of the two.
    wait_for(lambda: len(done_moves()) == 2, what="both moves journalled as done")
    return daemon


def done_moves() -> list:
    store = Store(paths().database)
    found = store.journal(state=DONE)
    store.close()
    return found


def test_undo_since_puts_held_then_deleted_mail_back_in_the_inbox_at_once(server):
    write_config(server)
    reader = Reader(server)
    daemon = hold_two(reader)
    daemon.stop()
    first, second = held_ids()
    gatekeeper("review", "--delete", str(first), "--delete", str(second))
    assert set(reader.message_ids("Trash")) == {"unwanted-1@shoes.example",
                                                 "unwanted-2@shoes.example"}

    output = gatekeeper("undo", "--since", "1h")

    assert output.count("restored to INBOX") == 2 and "not found" not in output
    assert set(reader.message_ids("INBOX")) == {"unwanted-1@shoes.example",
                                                 "unwanted-2@shoes.example"}
    assert reader.message_ids(HELD) == {} and reader.message_ids("Trash") == {}
    assert reactions(undone=False) == []  # the review's deletes were taken back
    assert saved_examples() == set()
    reader.close()


def test_undo_beside_the_running_daemon_is_not_learned_as_a_rescue(server):
    write_config(server)
    reader = Reader(server)
    daemon = hold_two(reader)
    try:
        output = gatekeeper("undo", "--since", "1h")
        assert output.count("restored to INBOX") == 2
        reader.deliver(wanted_message(1))  # a later wake-up looks at the inbox again
        wait_for(lambda: "wanted-1@orbital.example" in decisions(), what="the next decision")
        assert reactions() == []
        stats = json.loads(gatekeeper("stats", "--json", "--days", "1"))
        assert stats["engaged"] == []
    finally:
        daemon.stop()
    reader.close()


def test_review_beside_the_running_daemon_is_learned_and_kept(server):
    write_config(server)
    reader = Reader(server)
    daemon = hold_two(reader)
    try:
        first, second = held_ids()
        output = gatekeeper("review", "--pass", str(first), "--delete", str(second))
        assert "the daemon (pid" in output and "has learned it" in output
        learned = {r.id for r in reactions(source="review")}
        assert len(learned) == 2
        assert daemon.daemon.workers[0].status.learned_up_to >= max(learned)
        assert daemon.daemon.workers[0].status.examples == 2
    finally:
        daemon.stop()
    assert saved_examples() == learned  # the daemon's last save kept them
    reader.close()


def test_train_beside_the_running_daemon_is_learned_and_not_overwritten(server):
    write_config(server)
    reader = Reader(server)
    for n in range(6):
        reader.deliver(wanted_message(10 + n), flags=("\\Seen",))
        reader.deliver(unwanted_message(10 + n), folder="Trash")
    daemon = Running()
    try:
        output = gatekeeper("train", "--days", "30")
        assert "has learned it" in output
        trained = {r.id for r in reactions(source="train") if r.lesson.example}
        assert len(trained) == 12
        assert daemon.daemon.workers[0].status.examples == 12
    finally:
        daemon.stop()
    assert saved_examples() == trained
    gatekeeper("train", "--days", "30")  # a second training replaces the first
    assert len(reactions(source="train", undone=False)) == len(trained)
    assert saved_examples() == {r.id for r in reactions(source="train", undone=False)
                                if r.lesson.example}
    reader.close()


def test_a_staged_train_beside_the_running_daemon_hands_each_stage_to_it(server,
                                                                          monkeypatch):
    """The newest mail's stage is left to the daemon without waiting, the rest after."""
    monkeypatch.setattr(training, "FIRST_STAGE", 4)
    write_config(server)
    reader = Reader(server)
    for n in range(6):
        reader.deliver(wanted_message(10 + n), flags=("\\Seen",))
        reader.deliver(unwanted_message(10 + n), folder="Trash")
    daemon = Running()
    try:
        output = gatekeeper("train", "--days", "30")
        assert "learned the newest 4 of 12 messages" in output
        assert "has learned it" in output
        trained = {r.id for r in reactions(source="train") if r.lesson.example}
        assert len(trained) == 12
        assert daemon.daemon.workers[0].status.examples == 12
    finally:
        daemon.stop()
    assert saved_examples() == trained
    reader.close()


def test_the_daemon_stops_within_seconds_after_a_mass_undo(server):
    """Seen in use: after a mass undo the daemon ignored SIGTERM for minutes while it
    rewrote its status file over and over."""
    write_config(server)
    reader = Reader(server)
    daemon = Running()
    reader.client.multiappend("INBOX", [unwanted_message(n) for n in range(30)])
    wait_for(lambda: len(reader.message_ids(HELD)) == 30, timeout=60, what="30 messages held")
    held = held_ids()
    gatekeeper("review", *[arg for item in held[:20] for arg in ("--delete", str(item))])
    writes = []
    original = Daemon.write_status
    daemon.daemon.write_status = lambda running=True: writes.append(running) or \
        original(daemon.daemon, running)
    gatekeeper("undo", "--since", "1h")
    started = time.monotonic()
    daemon.stop()
    assert time.monotonic() - started < 5.0
    assert len(writes) <= 2 * (time.monotonic() - started) + 20  # not 130 a second
    reader.close()


def test_the_status_file_is_written_at_most_once_a_second(server, monkeypatch):
    write_config(server)
    daemon = Daemon(load_settings(), paths(), embedder=HashEmbedder())
    replaced = []
    monkeypatch.setattr("pathlib.Path.replace", lambda self, target: replaced.append(target))
    for _ in range(100):
        daemon.write_status()
    daemon.write_status(running=False)  # the last word is always written
    assert len(replaced) == 2
