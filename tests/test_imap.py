"""What only the IMAP mailbox does, against a real Dovecot server: special-use folders,
TLS and login, MOVE and its fallback, IDLE, keywords (tag mode), CONDSTORE, UIDVALIDITY.

What every backend promises (reading, flags, moves, finding, the pipeline, the observer,
undo) is tested over Dovecot and a Maildir alike in test_mailbox_contract.py. The reader
(tests/reader.py) uses its own IMAP client; gatekeeper's side uses
`ImapMailbox`. The brain runs on the model-free HashEmbedder: the real model has its own
tests, and here the subject is what happens to mail on the server.
"""

from __future__ import annotations

import shutil
import signal
import threading
import time

import pytest

from gatekeeper.core.brain import Brain
from gatekeeper.core.policy import PolicySettings
from gatekeeper.errors import (
    AuthenticationError, ConnectionLostError, FolderMissingError, MailboxError)
from gatekeeper.mail.mailbox import ImapMailbox
from gatekeeper.mail.pipeline import Pipeline
from gatekeeper.testing import HashEmbedder

from conftest import account_for
from conftest import write_config as write_account_config
from reader import PASSWORD, SPACE, Reader, unwanted_message, wanted_message

HELD = "Gatekeeper/Held"


@pytest.fixture
def reader(server):
    session = Reader(server)
    yield session
    session.close()


@pytest.fixture
def mailbox(server):
    box = ImapMailbox(account_for(server), PASSWORD)
    yield box
    box.close()


def new_brain() -> Brain:
    brain = Brain(HashEmbedder(), settings=PolicySettings(probe_share=0.0))
    brain.set_interests([SPACE])
    return brain


def pipeline_for(mailbox, store, mode: str, brain: Brain | None = None) -> Pipeline:
    return Pipeline(mailbox, brain or new_brain(), store, mode, start_at_existing=True)


# -- the mailbox ----------------------------------------------------------------------------
def test_folders_are_found_by_special_use_and_held_is_created(mailbox, reader):
    folders = mailbox.folders()
    assert (folders.inbox, folders.trash, folders.junk, folders.sent, folders.archive) == \
        ("INBOX", "Trash", "Junk", "Sent", "Archive")
    assert folders.held == HELD and HELD in reader.folders()


def test_a_configured_folder_that_does_not_exist_is_a_clear_error(server):
    box = ImapMailbox(account_for(server, trash_folder="Bin"), PASSWORD)
    with pytest.raises(FolderMissingError, match="trash_folder 'Bin' does not exist"):
        box.folders()
    box.close()


def test_headers_longer_than_fetch_bytes_are_read_whole(server, reader):
    received = "".join(f"Received: from relay{n}.example by mx.example; hop {n}\r\n"
                       for n in range(60))
    reader.deliver(received.encode() + wanted_message(1))
    box = ImapMailbox(account_for(server, fetch_bytes=1024), PASSWORD)
    (fetched,) = box.fetch_new("INBOX", "", 10).messages
    box.close()
    assert len(fetched.raw) > 1024 and b"Subject: Rocket launch 1" in fetched.raw


def test_starttls_on_the_plain_port(server, reader):
    reader.deliver(wanted_message(1))
    box = ImapMailbox(account_for(server, security="starttls", port=server.imap_port), PASSWORD)
    (fetched,) = box.fetch_new("INBOX", "", 10).messages
    assert b"Subject: Rocket launch 1" in fetched.raw
    box.close()


def test_plain_imap_is_refused_for_a_remote_host(server):
    with pytest.raises(MailboxError, match="only to this machine"):
        ImapMailbox(account_for(server, host="imap.example.org", security="plain"), PASSWORD)


def test_a_wrong_password_is_a_clear_error(server):
    with pytest.raises(AuthenticationError, match="refused the login for alice.*check the login name "
                                                    "and the password in \\$GK_TEST_PASSWORD"):
        ImapMailbox(account_for(server), "wrong password")


def test_without_move_a_message_is_copied_and_only_that_uid_expunged(start_dovecot):
    server = start_dovecot(without=("MOVE",))
    reader = Reader(server)
    reader.deliver(unwanted_message(1))
    reader.deliver(unwanted_message(2))
    # Another client marked message 2 deleted but did not expunge it: it must survive.
    reader.add_flags("INBOX", "unwanted-2@shoes.example", ["\\Deleted"])
    box = ImapMailbox(account_for(server), PASSWORD)
    assert not box.has("MOVE") and box.has("UIDPLUS")
    box.move("INBOX", box.find("INBOX", "unwanted-1@shoes.example"), "Trash")
    box.close()
    assert set(reader.message_ids("Trash")) == {"unwanted-1@shoes.example"}
    assert reader.message_ids("INBOX") == {"unwanted-2@shoes.example": frozenset({"\\Deleted"})}
    reader.close()


def test_idle_wakes_up_when_mail_arrives(mailbox, reader):
    cursor = mailbox.fetch_new("INBOX", "", 10).cursor
    timer = threading.Timer(0.5, reader.deliver, [wanted_message(1)])
    started = time.monotonic()
    timer.start()
    # `wait` promises news only "maybe": a stray untagged response may wake it early, so
    # wait as the daemon does, again after a fetch that finds nothing. Polling dressed up
    # as IDLE would wake far more often than twice.
    for _ in range(3):
        assert mailbox.wait("INBOX", timeout=30)
        fetched = mailbox.fetch_new("INBOX", cursor, 10).messages
        if fetched:
            break
    timer.join()
    assert len(fetched) == 1 and b"Subject: Rocket launch 1" in fetched[0].raw
    assert time.monotonic() - started < 10


def idle_until_lost(box: ImapMailbox, outcome: list) -> threading.Thread:
    """Idle the way the daemon does (wait again after news) until the connection is lost."""

    def idle() -> None:
        try:
            while True:
                box.wait("INBOX", timeout=540)
                outcome.append("news")
        except ConnectionLostError as error:
            outcome.append(error)

    waiter = threading.Thread(target=idle, daemon=True)
    waiter.start()
    time.sleep(0.5)
    return waiter


def test_a_server_that_dies_during_idle_is_noticed_long_before_the_idle_renewal(server):
    box = ImapMailbox(account_for(server), PASSWORD)
    box.fetch_new("INBOX", "", 10)
    outcome: list = []
    waiter = idle_until_lost(box, outcome)
    # Its imap processes die with it: a closed socket, or a BYE first when the imap
    # process hears of the shutdown in time (the order differs between machines).
    server.stop()
    waiter.join(timeout=60)
    assert not waiter.is_alive(), "still idling on a dead connection"
    assert isinstance(outcome[-1], ConnectionLostError)


def test_a_bye_during_idle_is_a_lost_connection_at_once(server):
    box = ImapMailbox(account_for(server), PASSWORD)
    box.fetch_new("INBOX", "", 10)
    outcome: list = []
    waiter = idle_until_lost(box, outcome)
    server.signal_imap_processes(signal.SIGTERM)  # Dovecot's imap says BYE, then hangs up
    waiter.join(timeout=60)
    assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ConnectionLostError)
    assert "during IDLE" in str(outcome[0])  # noticed from the BYE, no DONE sent to it


def test_mail_that_lands_between_a_pass_and_the_idle_is_news_at_once(mailbox, reader, store):
    """The server reports it as IDLE starts, in the same read as "+ idling"."""
    Pipeline(mailbox, new_brain(), store, "active").run_once(time.time())
    reader.deliver(unwanted_message(1))
    started = time.monotonic()
    assert mailbox.wait("INBOX", timeout=20)
    assert time.monotonic() - started < 5


# -- tag mode: IMAP keywords --------------------------------------------------------------
def deliver_three(reader: Reader) -> None:
    reader.deliver(wanted_message(1))
    reader.deliver(unwanted_message(1))
    reader.deliver(unwanted_message(2, sender="Spammer <spam@blocked.example>"))


def decide_three(mailbox, reader, store, mode):
    deliver_three(reader)
    brain = new_brain()
    brain.lists.blocked.add("blocked.example")
    decisions = pipeline_for(mailbox, store, mode, brain).run_once()
    return {d.message_id: d.verdict for d in decisions}


EXPECTED = {"wanted-1@orbital.example": "pass", "unwanted-1@shoes.example": "hold",
            "unwanted-2@shoes.example": "delete"}


def test_tag_mode_sets_keywords_and_moves_nothing(mailbox, reader, store):
    assert decide_three(mailbox, reader, store, "tag") == EXPECTED
    assert reader.message_ids("INBOX") == {
        "wanted-1@orbital.example": frozenset({"$GkPassed"}),
        "unwanted-1@shoes.example": frozenset({"$GkHeld"}),
        "unwanted-2@shoes.example": frozenset({"$GkDelete"}),
    }


# -- flag changes: CONDSTORE ---------------------------------------------------------------
@pytest.mark.parametrize("without", [(), ("CONDSTORE", "QRESYNC")])
def test_changes_gives_only_changed_flags_with_condstore(start_dovecot, without):
    server = start_dovecot(without=without)
    reader = Reader(server)
    for n in (1, 2, 3):
        reader.deliver(wanted_message(n))
    box = ImapMailbox(account_for(server), PASSWORD)
    refs = box.refs("INBOX")
    _, cursor = box.changes("INBOX", refs, "")
    reader.add_flags("INBOX", "wanted-2@orbital.example", ["\\Flagged"])
    changed, _ = box.changes("INBOX", refs, cursor)
    box.close()
    reader.close()
    modseq = int(cursor.split(":")[2])  # an IMAP cursor: "{uidvalidity}:{last_uid}:{modseq}"
    if without:
        assert modseq == 0 and set(changed) == set(refs)
    else:
        assert modseq > 0 and changed == {refs[1]: frozenset({"\\Flagged"})}


# -- a config file for the command tests (test_daemon, test_review, ...) -------------------
def write_config(server, mode: str = "active", **account) -> None:
    """The settings file with alice's account on `server` (`account`: changed settings)."""
    write_account_config(account_for(server, **account), mode)


# -- recovery --------------------------------------------------------------------------------
def test_a_uidvalidity_change_resyncs_by_message_id_without_acting_twice(server, reader, store):
    box = ImapMailbox(account_for(server), PASSWORD)
    brain = new_brain()
    for n in (1, 2):
        reader.deliver(unwanted_message(n))
    decided = pipeline_for(box, store, "tag", brain).run_once()
    assert len(decided) == 2
    before = store.folder_state(box.account, "INBOX").cursor
    assert not box.fetch_new("INBOX", before, 10).restarted
    box.close()
    reader.close()

    # The server loses its UID list (a restore from backup, a migration): new UIDVALIDITY.
    server.stop()
    time.sleep(1.1)  # Dovecot takes the new UIDVALIDITY from the clock
    (server.root / "mail" / "alice" / "dovecot-uidlist").unlink()
    for index in (server.root / "mail" / "alice").glob("dovecot.index*"):
        index.unlink()
    server.start()

    reader = Reader(server)
    reader.deliver(unwanted_message(3))
    box = ImapMailbox(account_for(server), PASSWORD)
    restarted = box.fetch_new("INBOX", before, 10)
    assert restarted.restarted and len(restarted.messages) == 3  # all of them again
    assert not box.fetch_new("INBOX", restarted.cursor, 10).restarted
    old_ref = store.decisions()[0].ref  # a ref of the old UIDVALIDITY names nothing now
    assert box.fetch("INBOX", [old_ref]) == [] and box.flags("INBOX", [old_ref]) == {}
    decided = pipeline_for(box, store, "tag", brain).run_once()
    box.close()
    assert [d.message_id for d in decided] == ["unwanted-3@shoes.example"]
    assert len(store.decisions()) == 3
    keywords = {mid: flags for mid, flags in reader.message_ids("INBOX").items()}
    assert all(flags == frozenset({"$GkHeld"}) for flags in keywords.values()), keywords
    reader.close()


def test_the_dovecot_fixture_is_private(server):
    """Guard for the fixture itself: its own folder, ports, and no system service."""
    assert str(server.root).startswith("/tmp/gk-dovecot-")
    assert server.imaps_port not in (143, 993) and shutil.which("doveconf")


def test_oauth2_asks_the_token_command_again_on_every_connect(monkeypatch, tmp_path):
    """An expired token is replaced by reconnecting: each connect runs the command anew."""
    from gatekeeper.mail import mailbox as mailbox_module
    from gatekeeper.mail.config import AccountConfig

    counter = tmp_path / "count"
    command = f"sh -c 'echo x >> {counter}; echo token-$(wc -l < {counter})'"
    account = AccountConfig("work", mailbox_module.ImapSettings(
        host="imap.example.org", username="me@example.org", auth="oauth2",
        oauth_token_command=command))
    secrets = []
    monkeypatch.setattr(mailbox_module.ImapMailbox, "connect", lambda self: secrets.append(self._secret))
    for _ in range(2):
        mailbox_module.open_mailbox(account)
    assert secrets == ["token-1", "token-2"]
