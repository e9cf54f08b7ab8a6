"""Hostile mail and hostile circumstances against a real Dovecot (issue 15): Message-IDs
no IMAP command can carry as they are (F2), folders the reader renames or deletes (F5),
huge headers (F10), and a server that strips STARTTLS (F16)."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.core.message import MAX_HEADER_BYTES, parse
from gatekeeper.mail.actions import Action
from gatekeeper.mail.config import paths
from gatekeeper.mail.feedback import Observer
from gatekeeper.mail.mailbox import ImapMailbox, _read_message_id
from gatekeeper.mail.pipeline import Pipeline
from gatekeeper.mail.store import DONE, Store
from gatekeeper.testing import build_message

from conftest import account_for
from reader import PASSWORD, Reader, unwanted_message, wait_for
from test_daemon import RunningDaemon, settings_for
from test_imap import HELD, mailbox, new_brain, pipeline_for, reader  # noqa: F401 (fixtures)

HOSTILE_IDS = [
    b"nul\x00id@hostile.example",  # Dovecot stores the NUL as 0x80
    b"8bit\x80\xff@hostile.example",
    b"utf8-caf\xc3\xa9@hostile.example",
    b"esc\x1b[2J@hostile.example",
    b'q"uo\\te@hostile.example',
    b"paren(s){5}%*]@hostile.example",
    b"with space@hostile.example",
    b"\x80\x81\x82",  # nothing an IMAP atom can carry
    b"long-" + b"x" * 6000 + b"@hostile.example",  # past what a bulk read of ids takes
]


def with_raw_id(raw_id: bytes, n: int = 1) -> bytes:
    message = build_message(subject=f"Hostile id {n}", body="Cheap shoes, buy now.",
                            message_id=f"<placeholder-{n}@hostile.example>")
    return message.replace(f"<placeholder-{n}@hostile.example>".encode(), b"<" + raw_id + b">")


# -- F2: every IMAP command that carries message data takes any bytes ---------------------------
_ID_BYTES = st.binary(max_size=40) | st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=40).map(str.encode)


@settings(max_examples=500)
@given(st.one_of(st.binary(max_size=120), st.builds(
    lambda name, gap, value, end: name + b":" + gap + value + end,
    st.sampled_from([b"Message-ID", b"message-id", b"MESSAGE-ID", b"Message-Id ", b"X-Id"]),
    st.sampled_from([b"", b" ", b"\t", b"\r\n ", b"\x00"]),
    st.one_of(_ID_BYTES, st.builds(lambda v: b"<" + v + b">", _ID_BYTES)),
    st.sampled_from([b"\r\n\r\n", b"\r\n", b"", b"\n\n", b" \r\n\r\n", b"\r\n\r\n\r\n",
                     b"\r\nMessage-ID: <second@x>\r\n\r\n"]))))
def test_a_message_id_read_back_in_bulk_is_what_parse_reads(header):
    assert _read_message_id(header) == parse(header).message_id


@pytest.mark.parametrize("raw_id", HOSTILE_IDS)
def test_a_message_is_found_by_its_message_id_whatever_bytes_it_holds(mailbox, reader, raw_id):
    reader.deliver(build_message(message_id="<decoy@hostile.example>"))
    reader.deliver(with_raw_id(raw_id))
    fetched = mailbox.fetch_new("INBOX", "", 10).messages
    message_id = parse(fetched[1].raw).message_id
    assert message_id  # as the pipeline reads it

    assert mailbox.find("INBOX", message_id) == fetched[1].ref
    if len(raw_id) < 4000:
        assert mailbox.message_ids("INBOX", [f.ref for f in fetched])[fetched[1].ref] == \
            message_id
    assert mailbox.find("Trash", message_id) is None


@pytest.mark.parametrize("raw_id", HOSTILE_IDS)
def test_the_observer_follows_a_message_whatever_bytes_its_message_id_holds(mailbox, reader,
                                                                          store, raw_id):
    brain = new_brain()
    reader.deliver(with_raw_id(raw_id, 1))
    reader.deliver(with_raw_id(b"plain-2@hostile.example", 2))
    pipeline_for(mailbox, store, "shadow", brain).run_once()
    reader.client.select_folder("INBOX")
    reader.client.move(reader.client.search("ALL"), "Trash")  # the reader deletes both unread

    events = Observer(mailbox, brain, store).observe(time.time())

    assert sorted(e.behaviour for e in events) == ["deleted_unread", "deleted_unread"]
    assert len(store.feedback()) == 2


# -- F10: a header block is fetched only as far as parse reads it ------------------------------
def with_huge_header(megabytes: float, n: int = 1) -> bytes:
    head, _, body = build_message(subject=f"Huge header {n}", body="Short body.",
                                  message_id=f"<huge-{n}@hostile.example>").partition(b"\n\n")
    line = b"X-Filler: " + b"a" * 988 + b"\r\n"  # 1,000 bytes: within the 998-octet line limit
    return head + b"\n" + line * int(megabytes * 1000) + b"\n" + body


def test_a_huge_header_block_is_fetched_only_as_far_as_parse_reads_it(mailbox, reader, store):
    reader.deliver(with_huge_header(megabytes=3))
    (fetched,) = mailbox.fetch_new("INBOX", "", 10).messages
    assert 65536 < len(fetched.raw) <= MAX_HEADER_BYTES
    (decision,) = pipeline_for(mailbox, store, "shadow").run_once()
    assert (decision.subject, decision.error) == ("Huge header 1", "")


# -- F5: folders the reader renames or deletes ------------------------------------------------
def gone(reader: Reader, folder: str, how: str) -> None:
    """The reader renames or deletes a folder in their mail client."""
    reader.client.select_folder("INBOX")  # not the folder that goes
    if how == "renamed":
        reader.client.rename_folder(folder, f"{folder} {time.monotonic_ns()}")
    else:
        reader.client.delete_folder(folder)


@pytest.mark.parametrize("how", ["renamed", "deleted"])
def test_a_held_folder_the_reader_removes_is_created_again_and_the_account_goes_on(server, reader,
                                                                                 how):
    running = RunningDaemon(settings_for(account_for(server)))
    wait_for(lambda: running.state("alice") == "watching", what="the daemon to watch")
    reader.deliver(unwanted_message(1))
    wait_for(lambda: "unwanted-1@shoes.example" in reader.message_ids(HELD), what="a hold")
    gone(reader, HELD, how)
    reader.deliver(unwanted_message(2))
    wait_for(lambda: "unwanted-2@shoes.example" in held_if_there(reader), timeout=20,
             what="the next hold, into a new held folder")
    wait_for(lambda: running.state("alice") == "watching", what="the account to go on")
    running.stop()

    gone(reader, HELD, how)  # and again while it is not running: a restart copes too
    reader.deliver(unwanted_message(3))
    running = RunningDaemon(settings_for(account_for(server)))
    wait_for(lambda: "unwanted-3@shoes.example" in held_if_there(reader), timeout=20,
             what="a hold after the restart")
    wait_for(lambda: running.state("alice") == "watching", what="the account to go on")
    running.stop()
    assert all(not row.error for row in Store(paths().database).decisions())


def held_if_there(reader: Reader) -> dict:
    return reader.message_ids(HELD) if HELD in reader.folders() else {}


@pytest.mark.parametrize("how", ["renamed", "deleted"])
def test_a_move_left_open_by_a_crash_is_finished_though_its_folder_was_removed(server, reader,
                                                                             store, how):
    reader.deliver(unwanted_message(1))
    box = ImapMailbox(account_for(server), PASSWORD)
    action = Action.for_verdict("hold", "active", "alice", "INBOX", 1, "unwanted-1@shoes.example",
                                box.folders())
    action.intend(store)  # then killed before the move
    box.close()
    gone(reader, HELD, how)

    box = ImapMailbox(account_for(server), PASSWORD)  # the restart
    pipeline_for(box, store, "active").recover()
    box.close()

    assert set(reader.message_ids(HELD)) == {"unwanted-1@shoes.example"}
    assert [e.state for e in store.journal()] == [DONE]


@pytest.mark.parametrize(("renamed_to", "trash_after"), [
    ("Deleted Items", "Deleted Items"),  # found again by its common name
    ("Old stuff", "Trash"),  # none left: created again
    (None, "Trash"),  # deleted: created again
])
def test_a_trash_folder_the_reader_removes_is_found_or_made_again(start_dovecot, store,
                                                                 renamed_to, trash_after):
    server = start_dovecot(without=("SPECIAL-USE",))  # Trash known only by its name
    reader = Reader(server)
    reader.client.create_folder("Trash")
    reader.deliver(build_message(message_id="<old@example.org>"), folder="Trash")
    box = ImapMailbox(account_for(server), PASSWORD)
    brain = new_brain()
    brain.lists.blocked.add("shoes.example")
    pipeline = pipeline_for(box, store, "active", brain)
    pipeline.run_once()
    if renamed_to:
        reader.client.rename_folder("Trash", renamed_to)
    else:
        reader.client.delete_folder("Trash")
    reader.deliver(unwanted_message(1))

    (decision,) = pipeline.run_once()
    Observer(box, brain, store).observe(time.time())
    box.close()
    restarted = ImapMailbox(account_for(server), PASSWORD)
    assert restarted.folders().trash == trash_after  # a restart finds it too
    restarted.close()

    assert (decision.verdict, decision.error) == ("delete", "")
    assert "unwanted-1@shoes.example" in reader.message_ids(trash_after)
    assert [e.target for e in store.journal()] == [trash_after]
    reader.close()


# -- F16: a connection that cannot be made secure stops the account, once ---------------------
class StrippingProxy:
    """A man in the middle between client and server that strips STARTTLS from what the
    server offers, and records what the client sends."""

    def __init__(self, port: int) -> None:
        self.server_port = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = b""
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(("127.0.0.1", self.server_port))
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, server, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_server: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_server:
                    data = data.replace(b" STARTTLS", b"")
                else:
                    self.sent += data
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                end.close()

    def close(self) -> None:
        self.listener.close()


def test_a_server_that_strips_starttls_stops_the_account_with_a_clear_message(server):
    proxy = StrippingProxy(server.imap_port)
    running = RunningDaemon(settings_for(account_for(server, security="starttls",
                                                     port=proxy.port)))
    running.thread.join(timeout=30)
    proxy.close()

    assert running.exit_code == 1
    status = json.loads(paths().status_file.read_text())["accounts"]["alice"]
    assert status["state"] == "failed"
    assert "offers no STARTTLS" in status["error"] and "never logs in unencrypted" in status["error"]
    assert proxy.connections == 1  # no retries
    assert b"LOGIN" not in proxy.sent.upper() and PASSWORD.encode() not in proxy.sent


def test_an_untrusted_certificate_stops_the_account_with_a_clear_message(server):
    running = RunningDaemon(settings_for(account_for(server, ca_file="")))
    running.thread.join(timeout=30)
    assert running.exit_code == 1
    status = json.loads(paths().status_file.read_text())["accounts"]["alice"]
    assert status["state"] == "failed" and "certificate is not trusted" in status["error"]


# -- F3, F14: a message is what it is, not its Message-ID alone ---------------------------------
def spam_copy(n: int, message_id: str | None = "<fixed@bulk.example>") -> bytes:
    raw = build_message(sender="Bulk <promo@bulk.example>", subject=f"Cheap watches, offer {n}",
                        body=f"Discount watches today only, coupon {n}.",
                        message_id=message_id or "<drop-me@bulk.example>")
    if message_id is None:  # mail from a sender that writes no Message-ID at all
        raw = raw.replace(b"Message-ID: <drop-me@bulk.example>\n", b"")
    return raw


def test_copies_reusing_one_message_id_are_each_decided_and_undone_as_themselves(mailbox, reader,
                                                                                store):
    """Seen: a bulk sender with a fixed Message-ID passed every send after the first."""
    for n in range(3):
        reader.deliver(spam_copy(n))
    decided = pipeline_for(mailbox, store, "active").run_once()
    assert [d.verdict for d in decided] == ["hold"] * 3
    assert len(reader.message_ids(HELD)) <= 1  # one Message-ID: count by subject instead
    reader.client.select_folder(HELD, readonly=True)
    assert len(reader.client.search("ALL")) == 3 and reader.message_ids("INBOX") == {}

    middle = store.journal()[1]
    assert actions_undo(mailbox, store, middle)
    reader.client.select_folder("INBOX", readonly=True)
    (uid,) = reader.client.search("ALL")
    subject = reader.client.fetch([uid], ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])[uid]
    assert b"offer 1" in next(v for k, v in subject.items() if k.startswith(b"BODY"))


def actions_undo(mailbox, store, entry) -> bool:
    from gatekeeper.mail.actions import undo

    return undo(mailbox, store, entry)


def test_a_message_without_a_message_id_can_be_undone(mailbox, reader, store):
    reader.deliver(spam_copy(1, message_id=None))
    (decision,) = pipeline_for(mailbox, store, "active").run_once()
    assert decision.verdict == "hold" and decision.message_id == ""
    (entry,) = store.journal()
    assert entry.state == DONE and entry.target_ref  # the server said where it went
    assert actions_undo(mailbox, store, entry)
    reader.client.select_folder("INBOX", readonly=True)
    assert len(reader.client.search("ALL")) == 1
    reader.client.select_folder(HELD, readonly=True)
    assert reader.client.search("ALL") == []


# -- F4: a new UIDVALIDITY is a re-sync, not new mail ----------------------------------------------
def test_after_a_uidvalidity_change_the_readers_old_mail_is_history_not_new_mail(server, store):
    reader = Reader(server)
    old = time.time() - 30 * 86400
    for n in range(5):  # read and answered long before gatekeeper came
        reader.client.append("INBOX", build_message(subject=f"Old thread {n}",
                                                    message_id=f"<old-{n}@pals.example>"),
                             flags=["\\Seen", "\\Answered"],
                             msg_time=datetime.fromtimestamp(old, timezone.utc))
    box = ImapMailbox(account_for(server), PASSWORD)
    pipeline = Pipeline(box, new_brain(), store, "active")  # a new install: the old is history
    assert pipeline.run_once() == []
    reader.deliver(unwanted_message(1))
    assert [d.message_id for d in pipeline.run_once()] == ["unwanted-1@shoes.example"]
    box.close()
    reader.close()

    server.stop()  # the server loses its UID list: a restore, a migration
    time.sleep(1.1)  # Dovecot takes the new UIDVALIDITY from the clock
    (server.root / "mail" / "alice" / "dovecot-uidlist").unlink()
    for index in (server.root / "mail" / "alice").glob("dovecot.index*"):
        index.unlink()
    server.start()
    reader = Reader(server)
    reader.deliver(unwanted_message(2))  # came while the UIDs changed

    box = ImapMailbox(account_for(server), PASSWORD)
    decided = Pipeline(box, new_brain(), store, "active").run_once()
    box.close()
    assert [d.message_id for d in decided] == ["unwanted-2@shoes.example"]
    assert {f"old-{n}@pals.example" for n in range(5)} <= set(reader.message_ids("INBOX"))
    reader.close()
