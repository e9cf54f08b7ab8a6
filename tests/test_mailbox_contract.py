"""The `Mailbox` contract: what every backend promises the pipeline, the observer and undo.

Each test runs over every backend: a Maildir always, Dovecot on 127.0.0.1 when it is
installed. What is in the mailbox is checked through the reader's own mail client
(`MaildirClient` over the standard library's `mailbox.Maildir`, `Reader` over its own
IMAP connection), so the checks do not go through the code under test. What only one
backend does (IMAP's IDLE, TLS, COPYUID and keywords, hostile servers; Maildir's file
names and flag letters) is tested in test_imap.py, test_imap_hostile.py and test_maildir.py.
"""

from __future__ import annotations

import mailbox as stdlib_mailbox
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main as cli
from gatekeeper.core.brain import Brain
from gatekeeper.core.message import parse
from gatekeeper.core.policy import PolicySettings
from gatekeeper.errors import FolderMissingError, MailboxError
from gatekeeper.mail import actions
from gatekeeper.mail.config import AccountConfig, paths
from gatekeeper.mail.feedback import Observer
from gatekeeper.mail.mailbox import (ANSWERED, FLAGGED, SEEN, Fetched, Mailbox,
                                     MaildirSettings, MessageRef, open_mailbox)
from gatekeeper.mail.pipeline import Pipeline
from gatekeeper.mail.store import DONE, UNDONE, Store
from gatekeeper.testing import HashEmbedder, build_message

from conftest import account_for, write_config
from reader import SPACE, Reader, unwanted_message, wanted_message
from schema6 import OldStore
import dovecot as dovecot_server

# The reader's client writes Maildir flags as letters; this table is the test's own.
LETTERS = {SEEN: "S", ANSWERED: "R", FLAGGED: "F", "\\Deleted": "T"}


class MaildirClient:
    """The reader's mail client on a Maildir tree: the `Reader` calls, over the standard
    library's `mailbox.Maildir` (moves and flags as mail clients make them)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def close(self) -> None:
        pass

    def _folder(self, name: str) -> stdlib_mailbox.Maildir:
        maildir = stdlib_mailbox.Maildir(self.root, create=True)
        return maildir if name == "INBOX" else maildir.get_folder(name)

    def _key(self, folder: str, message_id: str) -> str:
        box = self._folder(folder)
        (key,) = [k for k, m in box.items() if m["Message-ID"].strip("<>") == message_id]
        return key

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> None:
        message = stdlib_mailbox.MaildirMessage(raw)
        if flags:
            message.set_subdir("cur")
            message.set_flags("".join(LETTERS[f] for f in flags))
        self._folder(folder).add(message)

    def message_ids(self, folder: str) -> dict[str, frozenset[str]]:
        names = {letter: flag for flag, letter in LETTERS.items()}
        return {(m["Message-ID"] or "").strip("<>"): frozenset(names[f] for f in m.get_flags())
                for m in self._folder(folder).values()}

    def add_flags(self, folder: str, message_id: str, flags: list[str]) -> None:
        box, key = self._folder(folder), self._key(folder, message_id)
        message = box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("".join(LETTERS[f] for f in flags))
        box[key] = message

    def move(self, message_id: str, source: str, target: str) -> None:
        box, key = self._folder(source), self._key(source, message_id)
        self._folder(target).add(box.get_message(key))
        box.remove(key)

    def delete(self, folder: str, message_id: str) -> None:
        self._folder(folder).remove(self._key(folder, message_id))

    def folders(self) -> list[str]:
        return ["INBOX", *stdlib_mailbox.Maildir(self.root, create=True).list_folders()]


@dataclass
class Backend:
    """One backend under test: its settings, its held folder's name, the reader's client."""

    kind: str
    config: AccountConfig
    held: str
    client: MaildirClient | Reader
    opened: list[Mailbox] = field(default_factory=list)

    @property
    def account(self) -> str:
        return self.config.name

    def open(self, **changes) -> Mailbox:
        """The mailbox as gatekeeper opens it (closed after the test)."""
        box = open_mailbox(replace(self.config, **changes))
        self.opened.append(box)
        return box

    def close(self) -> None:
        for box in self.opened:
            box.close()
        self.client.close()


def _maildir(tmp_path: Path) -> Backend:
    root = tmp_path / "Mail"
    config = AccountConfig("local", MaildirSettings(path=str(root)), poll_seconds=1)
    return Backend("maildir", config, "Gatekeeper.Held", MaildirClient(root))


def _imap(start_dovecot: Callable[..., dovecot_server.Dovecot]) -> Backend:
    server = start_dovecot()
    return Backend("imap", account_for(server), "Gatekeeper/Held", Reader(server))


@pytest.fixture(params=["maildir", "imap"])
def backend(request, tmp_path) -> Iterator[Backend]:
    """Each backend in turn; Dovecot's only when it is installed."""
    if request.param == "maildir":
        chosen = _maildir(tmp_path)
    elif shutil.which("dovecot") is None:
        pytest.skip(dovecot_server.install_hint())
    else:
        chosen = _imap(request.getfixturevalue("start_dovecot"))
    yield chosen
    chosen.close()


@pytest.fixture
def box(backend) -> Mailbox:
    return backend.open()


@pytest.fixture
def client(backend) -> MaildirClient | Reader:
    return backend.client


def new_brain(blocked: str = "blocked.example") -> Brain:
    brain = Brain(HashEmbedder(), settings=PolicySettings(probe_share=0.0))
    brain.set_interests([SPACE])
    brain.lists.blocked.add(blocked)
    return brain


def pipeline_for(box: Mailbox, store: Store, mode: str, brain: Brain | None = None,
                 start_at_existing: bool = True) -> Pipeline:
    return Pipeline(box, brain or new_brain(), store, mode, start_at_existing=start_at_existing)


# -- folders --------------------------------------------------------------------------------
def test_the_held_folder_is_created_and_trash_is_found(backend, box, client):
    folders = box.folders()
    assert (folders.inbox, folders.held, folders.trash) == ("INBOX", backend.held, "Trash")
    assert {backend.held, "Trash"} <= set(client.folders())
    assert box.folders() == folders  # asking again changes nothing
    assert box.refs(backend.held) == [] and box.refs("Trash") == []


def test_an_unknown_folder_is_a_folder_missing_error_and_loses_nothing(box, client):
    with pytest.raises(FolderMissingError, match="Nowhere"):
        box.refs("Nowhere")
    client.deliver(wanted_message(1))
    with pytest.raises(FolderMissingError, match="Nowhere"):
        box.move("INBOX", box.refs("INBOX")[0], "Nowhere")
    assert set(client.message_ids("INBOX")) == {"wanted-1@orbital.example"}


# -- reading --------------------------------------------------------------------------------
def test_mail_is_fetched_whole_and_never_marked_read(box, client):
    raw = wanted_message(1)
    client.deliver(raw)
    (fetched,) = box.fetch_new("INBOX", "", 10).messages
    assert box.refs("INBOX") == [fetched.ref]
    assert fetched.raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert fetched.flags == frozenset()
    assert client.message_ids("INBOX") == {"wanted-1@orbital.example": frozenset()}


def test_fetch_reads_at_most_fetch_bytes(backend, client):
    client.deliver(wanted_message(1) + b"more words " * 500)
    (fetched,) = backend.open(fetch_bytes=1024).fetch_new("INBOX", "", 10).messages
    assert len(fetched.raw) == 1024


def message_id_of(fetched: Fetched) -> str:
    return parse(fetched.raw).message_id


def test_fetch_new_carries_on_from_the_cursor(backend, box, client):
    for n in (1, 2, 3):
        client.deliver(wanted_message(n))
    first = box.fetch_new("INBOX", "", 2)
    assert [message_id_of(f) for f in first.messages] == [
        "wanted-1@orbital.example", "wanted-2@orbital.example"]
    assert first.cursor == first.messages[-1].cursor and not first.restarted
    assert all(f.cursor for f in first.messages)  # each one a point to go on from
    rest = box.fetch_new("INBOX", first.cursor, 10)
    assert [message_id_of(f) for f in rest.messages] == ["wanted-3@orbital.example"]
    after_one = box.fetch_new("INBOX", first.messages[0].cursor, 10).messages
    assert [f.ref for f in after_one] == [first.messages[1].ref, rest.messages[0].ref]
    assert box.fetch_new("INBOX", rest.cursor, 10).messages == []

    client.deliver(wanted_message(4))
    again = backend.open()  # another connection or process carries on from it too
    (new,) = again.fetch_new("INBOX", rest.cursor, 10).messages
    assert message_id_of(new) == "wanted-4@orbital.example"
    assert new.ref not in box.refs("INBOX")[:3]


def test_a_cursor_at_the_end_leaves_what_is_there_and_gives_what_comes(box, client):
    box.folders()  # creates Trash
    for n in (1, 2):
        client.deliver(wanted_message(n))
    at_end = box.cursor_at_end("INBOX")
    assert box.fetch_new("INBOX", at_end, 10).messages == []
    client.deliver(wanted_message(3))
    (new,) = box.fetch_new("INBOX", at_end, 10).messages
    assert message_id_of(new) == "wanted-3@orbital.example"
    assert box.cursor_at_end("Trash") != "" and box.fetch_new("Trash", "", 10).messages == []


@pytest.mark.parametrize("cursor", ["1:2", "not a cursor", "9:9:9:9", "\x1b[31m"])
def test_a_cursor_the_mailbox_cannot_go_on_from_starts_the_folder_again(box, client, cursor):
    """Another folder's, another backend's or a damaged cursor: the mailbox says it
    restarted (the pipeline then recognises what it decided) and gives everything."""
    for n in (1, 2):
        client.deliver(wanted_message(n))
    again = box.fetch_new("INBOX", cursor, 10)
    assert again.restarted and [f.ref for f in again.messages] == box.refs("INBOX")
    assert not box.fetch_new("INBOX", again.cursor, 10).restarted


def test_fetch_returns_the_messages_asked_for_and_skips_unknown_refs(box, client):
    for n in (1, 2, 3):
        client.deliver(wanted_message(n))
    refs = box.refs("INBOX")
    client.delete("INBOX", "wanted-3@orbital.example")
    assert box.refs("INBOX") == refs[:2]  # (a server tells a session of it between commands)
    fetched = box.fetch("INBOX", [refs[1], refs[2], MessageRef("not a ref")])
    assert [f.ref for f in fetched] == [refs[1]]
    assert b"wanted-2@orbital.example" in fetched[0].raw


def test_refs_are_stable_and_never_reused(backend, box, client):
    for n in (1, 2):
        client.deliver(wanted_message(n))
    first, second = box.refs("INBOX")
    client.add_flags("INBOX", "wanted-1@orbital.example", [SEEN])
    client.delete("INBOX", "wanted-2@orbital.example")
    assert box.refs("INBOX") == [first]
    assert box.flags("INBOX", [first, second]) == {first: frozenset({SEEN})}

    client.deliver(wanted_message(3))
    third = box.find("INBOX", "wanted-3@orbital.example")
    assert third not in (None, first, second)  # the second's ref is not given out again
    assert box.refs("INBOX") == [first, third]
    again = backend.open()  # another connection or process: the same refs
    assert again.refs("INBOX") == [first, third]
    assert again.find("INBOX", "wanted-3@orbital.example") == third
    assert again.fetch("INBOX", [second]) == []


def test_a_ref_without_its_validity_is_read_but_never_changed(box, client):
    """Journal entries from before refs name a UID only (":{uid}"): such a ref may be
    fetched, for its caller to check the content, but moves nothing."""
    client.deliver(wanted_message(1))
    (ref,) = box.refs("INBOX")
    migrated = MessageRef(":" + ref.partition(":")[2])
    assert [f.ref for f in box.fetch("INBOX", [migrated])] == [ref]
    with pytest.raises(MailboxError):
        box.move("INBOX", migrated, box.folders().held)
    assert box.refs("INBOX") == [ref]


# -- flags ----------------------------------------------------------------------------------
def test_flags_set_by_the_reader_are_read(box, client):
    client.deliver(wanted_message(1), flags=(FLAGGED, ANSWERED, SEEN))
    client.deliver(wanted_message(2))
    first, second = box.refs("INBOX")
    assert box.flags("INBOX", [first, second]) == {
        first: frozenset({FLAGGED, ANSWERED, SEEN}), second: frozenset()}
    assert box.fetch("INBOX", [first])[0].flags == frozenset({FLAGGED, ANSWERED, SEEN})


def test_appended_mail_keeps_its_flags(box, client):
    box.append("INBOX", wanted_message(1), (SEEN, FLAGGED))
    box.append("INBOX", wanted_message(2))
    assert client.message_ids("INBOX") == {"wanted-1@orbital.example": frozenset({SEEN, FLAGGED}),
                                           "wanted-2@orbital.example": frozenset()}


def test_changes_gives_at_least_every_changed_flag(box, client):
    for n in (1, 2, 3):
        client.deliver(wanted_message(n))
    refs = box.refs("INBOX")
    everything, cursor = box.changes("INBOX", refs, "")  # no cursor yet: every flag
    assert everything == dict.fromkeys(refs, frozenset())
    client.add_flags("INBOX", "wanted-2@orbital.example", [FLAGGED])
    changed, later = box.changes("INBOX", refs, cursor)
    assert changed[refs[1]] == frozenset({FLAGGED})
    assert all(changed[ref] == frozenset() for ref in set(changed) - {refs[1]})
    client.add_flags("INBOX", "wanted-3@orbital.example", [SEEN])
    assert box.changes("INBOX", refs, later)[0][refs[2]] == frozenset({SEEN})


# -- moving and finding ---------------------------------------------------------------------
def test_move_to_held_keeps_the_message_and_its_flags(backend, box, client):
    folders = box.folders()
    client.deliver(unwanted_message(1), flags=(FLAGGED,))
    client.deliver(wanted_message(2))
    ref = box.find("INBOX", "unwanted-1@shoes.example")

    moved_to = box.move("INBOX", ref, folders.held)

    assert client.message_ids("INBOX") == {"wanted-2@orbital.example": frozenset()}
    assert client.message_ids(backend.held) == {"unwanted-1@shoes.example": frozenset({FLAGGED})}
    assert box.find("INBOX", "unwanted-1@shoes.example") is None
    (held,) = box.refs(backend.held)
    # The ref it got there, when the backend can tell: Dovecot can (UIDPLUS).
    assert moved_to == held if backend.kind == "imap" else moved_to in (None, held)
    assert box.find(backend.held, "unwanted-1@shoes.example") == held
    assert box.flags(backend.held, [held]) == {held: frozenset({FLAGGED})}


def test_find_by_message_id(box, client):
    for n in (1, 2, 3):
        client.deliver(unwanted_message(n))
    assert box.find("INBOX", "unwanted-2@shoes.example") == box.refs("INBOX")[1]
    assert box.find("INBOX", "unwanted-9@shoes.example") is None
    assert box.find("INBOX", "") is None
    assert box.find("Nowhere", "unwanted-2@shoes.example") is None


def test_find_gives_the_newest_copy_of_a_message(box, client):
    client.deliver(unwanted_message(1))
    box.refs("INBOX")
    client.deliver(unwanted_message(1))
    assert box.find("INBOX", "unwanted-1@shoes.example") == box.refs("INBOX")[1]


def test_find_matches_the_whole_message_id(box, client):
    client.deliver(build_message(message_id="<1@example.org>"))
    box.refs("INBOX")
    client.deliver(build_message(message_id="<11@example.org>"))
    first, second = box.refs("INBOX")
    assert box.find("INBOX", "1@example.org") == first
    assert box.message_ids("INBOX", [first, second]) == {first: "1@example.org",
                                                         second: "11@example.org"}


def test_wait_returns_promptly_when_asked_to_stop(box):
    box.folders()
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    box.wait("INBOX", timeout=30, stop=stop.is_set)
    assert time.monotonic() - started < 5


# -- the pipeline ---------------------------------------------------------------------------
def deliver_three(client) -> None:
    client.deliver(wanted_message(1))
    client.deliver(unwanted_message(1))
    client.deliver(unwanted_message(2, sender="Spammer <spam@blocked.example>"))


EXPECTED = {"wanted-1@orbital.example": "pass", "unwanted-1@shoes.example": "hold",
            "unwanted-2@shoes.example": "delete"}


def test_shadow_mode_decides_and_touches_nothing(backend, box, client, store):
    deliver_three(client)
    decisions = pipeline_for(box, store, "shadow").run_once()
    assert {d.message_id: d.verdict for d in decisions} == EXPECTED
    assert client.message_ids("INBOX") == dict.fromkeys(EXPECTED, frozenset())
    assert client.message_ids(backend.held) == {} and client.message_ids("Trash") == {}
    assert len(store.decisions()) == 3 and store.journal() == []


def test_active_mode_holds_and_deletes_without_marking_read(backend, box, client, store):
    deliver_three(client)
    pipeline = pipeline_for(box, store, "active")

    decisions = pipeline.run_once()

    assert {d.message_id: d.verdict for d in decisions} == EXPECTED
    assert client.message_ids("INBOX") == {"wanted-1@orbital.example": frozenset()}
    assert client.message_ids(backend.held) == {"unwanted-1@shoes.example": frozenset()}
    assert client.message_ids("Trash") == {"unwanted-2@shoes.example": frozenset()}
    assert {(e.kind, e.source, e.target, e.state) for e in store.journal(backend.account)} == {
        ("hold", "INBOX", backend.held, DONE), ("delete", "INBOX", "Trash", DONE)}
    assert {row.message_id: row.action for row in store.decisions(backend.account)} == EXPECTED
    assert [t.message_id for t in store.tracked(backend.account, backend.held)] == [
        "unwanted-1@shoes.example"]


def test_each_message_is_decided_once_across_passes(box, client, store):
    pipeline = pipeline_for(box, store, "active")
    client.deliver(wanted_message(1))
    assert len(pipeline.run_once()) == 1
    assert pipeline.run_once() == []
    client.deliver(wanted_message(2))
    assert [d.message_id for d in pipeline.run_once()] == ["wanted-2@orbital.example"]
    assert pipeline_for(box, store, "active").run_once() == []  # and by a new pipeline


def test_a_new_install_decides_only_mail_that_arrives_later(box, client, store):
    client.deliver(unwanted_message(1))
    pipeline = pipeline_for(box, store, "active", start_at_existing=False)
    assert pipeline.run_once() == []
    client.deliver(unwanted_message(2, sender="Spammer <spam@blocked.example>"))
    assert [d.message_id for d in pipeline.run_once()] == ["unwanted-2@shoes.example"]
    assert set(client.message_ids("INBOX")) == {"unwanted-1@shoes.example"}


# -- learning from the reader ---------------------------------------------------------------
def test_a_rescue_from_held_is_learned_by_profile_and_sender_memory(backend, box, client, store):
    brain = new_brain()
    client.deliver(unwanted_message(1))
    (decision,) = pipeline_for(box, store, "active", brain).run_once()
    assert decision.verdict == "hold"

    client.move("unwanted-1@shoes.example", backend.held, "INBOX")
    events = Observer(box, brain, store).observe(time.time())

    assert [(e.message_id, e.behaviour) for e in events] == [("unwanted-1@shoes.example", "rescued")]
    ref = box.find("INBOX", "unwanted-1@shoes.example")
    (again,) = brain.assess([parse(box.fetch("INBOX", [ref])[0].raw)])
    assert again.probability > decision.probability
    stats = brain.memory.get("address:deals@shoes.example")
    assert stats is not None and stats.count("rescued", time.time()) > 0
    assert [row.behaviour for row in store.feedback()] == ["rescued"]
    assert Observer(box, brain, store).observe(time.time()) == []  # learned once


def test_reading_flagging_and_deleting_are_observed(box, client, store):
    brain = new_brain()
    for n in (1, 2):
        client.deliver(wanted_message(n))
    client.deliver(unwanted_message(3, sender="Orbital Weekly <news@orbital.example>"))
    pipeline_for(box, store, "active", brain).run_once()
    client.add_flags("INBOX", "wanted-1@orbital.example", [SEEN, FLAGGED])
    client.move("wanted-2@orbital.example", "INBOX", "Trash")
    observed = Observer(box, brain, store).observe(time.time())
    assert sorted((e.message_id, e.behaviour) for e in observed) == [
        ("wanted-1@orbital.example", "flagged"), ("wanted-1@orbital.example", "read_soon"),
        ("wanted-2@orbital.example", "deleted_unread")]


def test_a_later_look_learns_flag_changes_since_the_last_one(box, client, store):
    brain = new_brain()
    pipeline_for(box, store, "active", brain).run_once()
    client.deliver(wanted_message(1))
    pipeline_for(box, store, "active", brain).run_once()
    observer = Observer(box, brain, store)
    assert observer.observe(time.time()) == []
    client.add_flags("INBOX", "wanted-1@orbital.example", [ANSWERED])
    assert [e.behaviour for e in observer.observe(time.time())] == ["replied"]
    assert observer.observe(time.time()) == []


# -- undo and recovery ----------------------------------------------------------------------
def test_a_deleted_message_is_restored_by_gatekeeper_undo(backend, client):
    write_config(backend.config)
    store = Store(paths().database)
    client.deliver(unwanted_message(2, sender="Spammer <spam@blocked.example>"))
    (decision,) = pipeline_for(backend.open(), store, "active").run_once()
    assert decision.verdict == "delete"
    assert set(client.message_ids("Trash")) == {"unwanted-2@shoes.example"}
    (entry,) = store.journal()
    store.close()

    result = CliRunner().invoke(cli, ["undo", str(entry.id)])

    assert result.exit_code == 0, result.output
    assert f"{entry.id}: restored to INBOX" in result.output
    assert set(client.message_ids("INBOX")) == {"unwanted-2@shoes.example"}
    assert client.message_ids("Trash") == {}
    store = Store(paths().database)
    assert store.journal_entry(entry.id).state == UNDONE
    store.close()


def test_undo_of_a_message_that_is_gone_says_so(box, client, store):
    client.deliver(unwanted_message(1, sender="Spammer <spam@blocked.example>"))
    pipeline_for(box, store, "active").run_once()
    client.delete("Trash", "unwanted-1@shoes.example")
    (entry,) = store.journal()
    assert actions.undo(box, store, entry) is False
    assert store.journal_entry(entry.id).state == DONE


def test_an_unconfirmed_move_is_finished_once_after_a_crash(backend, box, client, store):
    """A crash after the intent was journalled but before the move: reconcile moves it."""
    client.deliver(unwanted_message(1))
    (ref,) = box.refs("INBOX")
    action = actions.Action.for_verdict("hold", "active", backend.account, "INBOX", ref,
                                        "unwanted-1@shoes.example", box.folders())
    entry = action.intend(store)
    assert actions.reconcile(box, store) == 1
    assert set(client.message_ids(backend.held)) == {"unwanted-1@shoes.example"}
    assert store.journal_entry(entry).state == DONE
    assert actions.reconcile(box, store) == 0


def without_message_id(raw: bytes) -> bytes:
    head, blank, body = raw.partition(b"\n\n")
    kept = [line for line in head.split(b"\n") if not line.startswith(b"Message-ID:")]
    return b"\n".join(kept) + blank + body


def uid_of(ref: MessageRef) -> int:
    """The UID in a ref of these backends ("{uidvalidity}:{uid}"), as a schema-6 row held it."""
    return int(ref.split(":")[1])


def test_a_hold_and_a_delete_journalled_before_refs_are_undone_after_migration_7(
        backend, box, client, tmp_path):
    """A store written with UIDs (schema 6) about moves made then, opened by today's code:
    `undo` puts each message back, the one without a Message-ID by the UID its move got."""
    folders, account = box.folders(), backend.account
    client.deliver(unwanted_message(1))
    client.deliver(without_message_id(unwanted_message(2)))
    held_ref, bare_ref = box.refs("INBOX")
    held_hash, bare_hash = (parse(f.raw).content_hash
                            for f in box.fetch("INBOX", [held_ref, bare_ref]))
    in_held = box.move("INBOX", held_ref, folders.held) or box.refs(folders.held)[0]
    in_trash = box.move("INBOX", bare_ref, folders.trash) or box.refs(folders.trash)[0]
    validity = int(held_ref.split(":")[0])
    old = OldStore(tmp_path / "old.db")
    old.folder(account, "INBOX", validity, uid_of(bare_ref))
    hold_id = old.decision(account, "INBOX", validity, uid_of(held_ref),
                           "unwanted-1@shoes.example", held_hash, "hold")
    delete_id = old.decision(account, "INBOX", validity, uid_of(bare_ref), "", bare_hash,
                             "delete")
    hold = old.journal(account, "unwanted-1@shoes.example", "hold", "INBOX", folders.held,
                       DONE, held_hash, uid_of(in_held))
    delete = old.journal(account, "", "delete", "INBOX", folders.trash, DONE, bare_hash,
                         uid_of(in_trash))
    old.tracked(account, "unwanted-1@shoes.example", folders.held, 0, verdict="hold")
    old.close()

    store = Store(tmp_path / "old.db")
    assert (store.decision(hold_id).ref, store.decision(delete_id).ref) == (held_ref, bare_ref)
    for entry in (hold, delete):
        assert actions.undo(box, store, store.journal_entry(entry))

    assert client.message_ids("INBOX") == {"unwanted-1@shoes.example": frozenset(),
                                           "": frozenset()}
    assert client.message_ids(backend.held) == {} and client.message_ids("Trash") == {}
    assert [store.journal_entry(entry).state for entry in (hold, delete)] == [UNDONE, UNDONE]
    store.close()


def test_the_loop_goes_on_after_migration_7_where_schema_6_left_it(backend, box, client,
                                                                    tmp_path):
    """An upgrade as a person meets it: the daemon's pass and the observer run on a store
    schema 6 wrote. Mail decided then is not decided again, mail that came since is, and
    what the reader does with a message decided then is still noticed."""
    account = backend.account
    for n in (1, 2):
        client.deliver(wanted_message(n))
    refs = box.refs("INBOX")
    hashes = [parse(f.raw).content_hash for f in box.fetch("INBOX", refs)]
    validity = int(refs[0].split(":")[0])
    old = OldStore(tmp_path / "old.db")
    old.folder(account, "INBOX", validity, uid_of(refs[1]))
    for n, (ref, content_hash) in enumerate(zip(refs, hashes), start=1):
        old.decision(account, "INBOX", validity, uid_of(ref), f"wanted-{n}@orbital.example",
                     content_hash)
        old.tracked(account, f"wanted-{n}@orbital.example", "INBOX", uid_of(ref))
    old.close()
    client.deliver(wanted_message(3))

    store, brain = Store(tmp_path / "old.db"), new_brain()
    decided = pipeline_for(box, store, "active", brain).run_once()
    client.add_flags("INBOX", "wanted-1@orbital.example", [SEEN])
    observed = Observer(box, brain, store).observe(time.time())

    assert [d.message_id for d in decided] == ["wanted-3@orbital.example"]
    assert [(e.message_id, e.behaviour) for e in observed] == [
        ("wanted-1@orbital.example", "read")]  # decided long ago (schema6's time): read late
    assert pipeline_for(box, store, "active", brain).run_once() == []
    store.close()
