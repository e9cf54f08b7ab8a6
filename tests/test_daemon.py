"""The daemon against a real Dovecot: idling, several accounts, outages, crashes, signals.

In-process daemons use the model-free HashEmbedder; the crash and signal tests run the
real `gatekeeper run` command (and so the real model) in a subprocess.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.core.brain import CHECKPOINT
from gatekeeper.core.policy import PolicySettings
from gatekeeper.mail.config import Settings, paths
from gatekeeper.mail.daemon import Daemon
from gatekeeper.mail.homelock import DAEMON, HomeLock
from gatekeeper.mail.mailbox import MaildirMailbox, MaildirSettings
from gatekeeper.mail.pipeline import BATCH_SIZE
from gatekeeper.mail.store import Store
from gatekeeper.testing import HashEmbedder

from conftest import account_for
from reader import SPACE, Reader, unwanted_message, wanted_message, wait_for
from test_imap import HELD, write_config


def settings_for(*accounts, mode: str = "active") -> Settings:
    return Settings(mode=mode, accounts=tuple(accounts), interests=(SPACE,),
                    policy=PolicySettings(probe_share=0.0))


class RunningDaemon:
    """A daemon in a thread of the test process."""

    def __init__(self, settings: Settings, start_at_existing: bool = False) -> None:
        self.daemon = Daemon(settings, paths(), embedder=HashEmbedder(),
                             start_at_existing=start_at_existing)
        self.exit_code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.exit_code = self.daemon.run()

    def state(self, account: str) -> str:
        return next(w.status.state for w in self.daemon.workers if w.config.name == account)

    def stop(self) -> None:
        self.daemon.stop.set()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive()


def decided(account: str | None = None) -> dict[str, str]:
    """Message-ID -> action of every decision recorded so far."""
    if not paths().database.exists():
        return {}
    store = Store(paths().database)
    rows = store.decisions(account)
    store.close()
    return {row.message_id: row.action for row in rows}


def test_new_mail_is_decided_promptly_while_idling(server):
    reader = Reader(server)
    running = RunningDaemon(settings_for(account_for(server, poll_seconds=600)))
    wait_for(lambda: running.state("alice") == "watching", what="the daemon to watch")
    time.sleep(0.5)  # let it enter IDLE: with a 600 s poll, only IDLE can wake it in time
    reader.deliver(unwanted_message(1))
    wait_for(lambda: decided() == {"unwanted-1@shoes.example": "hold"}, timeout=10,
             what="the new message to be decided")
    wait_for(lambda: "unwanted-1@shoes.example" in reader.message_ids(HELD), what="the move")
    running.stop()
    reader.close()
    assert running.exit_code == 0


def test_without_idle_it_polls(start_dovecot):
    server = start_dovecot(without=("IDLE",))
    reader = Reader(server)
    running = RunningDaemon(settings_for(account_for(server, poll_seconds=1)))
    wait_for(lambda: running.state("alice") == "watching", what="the daemon to watch")
    reader.deliver(unwanted_message(1))
    wait_for(lambda: decided() == {"unwanted-1@shoes.example": "hold"}, timeout=10,
             what="the next poll to decide the message")
    running.stop()
    reader.close()


def test_two_accounts_are_watched_at_once(server):
    readers = {user: Reader(server, user) for user in ("alice", "bob")}
    running = RunningDaemon(settings_for(account_for(server, "alice"), account_for(server, "bob")))
    wait_for(lambda: running.state("alice") == running.state("bob") == "watching",
             what="both accounts to be watched")
    readers["alice"].deliver(wanted_message(1))
    readers["bob"].deliver(unwanted_message(2))
    wait_for(lambda: decided("alice") and decided("bob"), what="a decision in each account")
    running.stop()
    assert decided("alice") == {"wanted-1@orbital.example": "pass"}
    assert decided("bob") == {"unwanted-2@shoes.example": "hold"}
    assert set(readers["bob"].message_ids(HELD)) == {"unwanted-2@shoes.example"}
    assert set(readers["alice"].message_ids("INBOX")) == {"wanted-1@orbital.example"}
    for reader in readers.values():
        reader.close()


def test_after_a_server_outage_it_reconnects_and_decides_the_backlog(server):
    running = RunningDaemon(settings_for(account_for(server, timeout_seconds=5)))
    wait_for(lambda: running.state("alice") == "watching", what="the daemon to watch")
    server.stop()
    wait_for(lambda: running.state("alice") == "reconnecting", what="the daemon to notice")
    # Mail delivered straight into the Maildir while the IMAP server is down.
    maildir = MaildirMailbox(replace(account_for(server), backend=MaildirSettings(
        path=str(server.root / "mail" / "alice"))))
    for n in (1, 2):
        maildir.append("INBOX", unwanted_message(n))
    for path in (server.root / "mail" / "alice").rglob("*"):
        os.chown(path, 65534, 65534)
    server.start()
    wait_for(lambda: len(decided()) == 2, timeout=60, what="the backlog to be decided")
    running.stop()
    reader = Reader(server)
    assert set(reader.message_ids(HELD)) == {"unwanted-1@shoes.example", "unwanted-2@shoes.example"}
    reader.close()


def test_the_daemon_says_what_it_does_and_warns_while_the_profile_is_thin(server, caplog):
    caplog.set_level(logging.INFO, logger="gatekeeper")
    write_config(server, mode="active")
    running = RunningDaemon(settings_for(account_for(server, timeout_seconds=5)))
    wait_for(lambda: running.state("alice") == "watching", what="the daemon to watch")
    said = caplog.text
    assert f"alice: connected to 127.0.0.1:{server.imaps_port}; watching INBOX, held mail to " \
        f"{HELD}, deleted to Trash; mode active; the profile holds 0 examples and 1 interest " \
        "statements" in said
    assert "alice: the profile has learned from 0 examples and 1 interest statements: it " \
        "holds what it is unsure of and deletes nothing until it has" in said
    wait_for(lambda: "alice: warning: the profile has learned from 0 examples" in
             CliRunner().invoke(main, ["status"]).output, what="`status` to show the warning")
    server.stop()
    wait_for(lambda: running.state("alice") == "reconnecting", what="the daemon to notice")
    server.start()
    wait_for(lambda: f"alice: reconnected to 127.0.0.1:{server.imaps_port}" in caplog.text,
             timeout=60, what="the reconnection to be logged")
    running.stop()
    assert "alice: stopped; the profile holds 0 examples" in caplog.text
    assert "alice: alice:" not in caplog.text


def test_a_wrong_password_stops_the_account_with_a_clear_error_and_no_retries(server, monkeypatch):
    monkeypatch.setenv("GK_TEST_PASSWORD", "wrong password")
    running = RunningDaemon(settings_for(account_for(server)))
    running.thread.join(timeout=30)
    assert running.exit_code == 1
    status = json.loads(paths().status_file.read_text())["accounts"]["alice"]
    assert status["state"] == "failed"
    assert "refused the login for alice" in status["error"]
    assert not status["error"].startswith("alice:")  # `status` names the account already
    wait_for(lambda: "(auth failed" in server.log(), what="Dovecot to log the failed login")
    assert server.log().count("(auth failed") == 1, server.log()  # one attempt, no retries


# -- the real command in a subprocess ------------------------------------------------------
def start_gatekeeper(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "gatekeeper", "run", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.model
def test_killed_mid_batch_and_restarted_every_message_is_acted_on_exactly_once(server):
    write_config(server, mode="active")
    reader = Reader(server)
    ids = {}
    # More than one batch: the kill lands while a later batch still waits to be fetched.
    for n in range(BATCH_SIZE + 8):
        raw = wanted_message(n) if n % 3 == 0 else unwanted_message(n)
        reader.deliver(raw)
        ids[n] = f"{'wanted' if n % 3 == 0 else 'unwanted'}-{n}@" + \
            ("orbital.example" if n % 3 == 0 else "shoes.example")

    process = start_gatekeeper("--existing")
    wait_for(lambda: len(decided()) >= 3, timeout=120, what="the first decisions")
    process.kill()  # SIGKILL: no clean-up of any kind
    process.wait()
    assert len(decided()) < len(ids), "the kill came too late to be mid-batch"

    process = start_gatekeeper("--existing")
    wait_for(lambda: len(decided()) == len(ids), timeout=180, what="every message decided")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0

    store = Store(paths().database)
    rows = store.decisions()
    moves = Counter(e.message_id for e in store.journal() if e.state == "done")
    store.close()
    assert Counter(row.message_id for row in rows) == Counter(ids.values())  # once each
    where = {mid: folder for folder in ("INBOX", HELD, "Trash")
             for mid in reader.message_ids(folder)}
    assert sorted(where) == sorted(ids.values())  # none lost, none duplicated
    expected_folder = {"pass": "INBOX", "hold": HELD, "delete": "Trash"}
    for row in rows:
        assert where[row.message_id] == expected_folder[row.action], row.message_id
        assert moves[row.message_id] == (0 if row.action == "pass" else 1)
    reader.close()


@pytest.mark.model
def test_sigterm_stops_the_daemon_cleanly_within_two_seconds(server):
    write_config(server, mode="shadow")
    process = start_gatekeeper()
    wait_for(lambda: paths().status_file.exists() and json.loads(
        paths().status_file.read_text())["accounts"]["alice"]["state"] == "watching",
        timeout=60, what="the daemon to watch")
    time.sleep(0.5)  # in IDLE now
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0  # scripts/bench_daemon.py measures how fast
    status = json.loads(paths().status_file.read_text())
    assert status["running"] is False and status["accounts"]["alice"]["state"] == "stopped"
    assert (paths().profile_dir("alice") / CHECKPOINT).exists()


# -- back-off ---------------------------------------------------------------------------------
class FlakyServer:
    """`connect` for an AccountWorker: down for `outage` attempts, then up for one healthy
    pass until the connection drops; the attempt after that stops the worker."""

    def __init__(self, config, stop: threading.Event, outage: int) -> None:
        self.config, self.stop, self.outage = config, stop, outage
        self.attempts = 0

    def __call__(self, config):
        from gatekeeper.errors import ConnectionLostError

        self.attempts += 1
        if self.attempts > self.outage + 1:
            self.stop.set()
        if self.attempts != self.outage + 1:
            raise ConnectionLostError("alice: cannot reach the server")
        box = MaildirMailbox(self.config)

        def drop(*args, **kwargs):
            raise ConnectionLostError("alice: connection lost")

        box.wait = drop  # after a healthy pass, the server restarts
        return box


def test_the_back_off_starts_again_after_a_healthy_reconnect(tmp_path, monkeypatch):
    from gatekeeper.mail.config import AccountConfig
    from gatekeeper.mail.daemon import AccountWorker

    config = AccountConfig("alice", MaildirSettings(path=str(tmp_path / "Mail")))
    stop = threading.Event()
    delays: list[float] = []
    monkeypatch.setattr(stop, "wait", lambda timeout=None: delays.append(timeout))
    lock = HomeLock(paths().lock_file)
    assert lock.acquire(DAEMON)  # as the daemon holds it for its workers
    worker = AccountWorker(config, settings_for(config), paths(), HashEmbedder(), stop, lock,
                           connect=FlakyServer(config, stop, outage=6))

    worker.run()
    lock.release()

    assert len(delays) == 8
    assert delays[5] >= 16  # six failures in a row: 0.5-1 x 32 s
    assert delays[6] <= 1  # the first drop after a healthy pass starts again at 0.5-1 s
    assert delays[7] <= 2
