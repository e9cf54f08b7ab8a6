"""The Maildir mailbox, and the whole pipeline over a Maildir (no server needed).

What is on disk is checked with the standard library's own `mailbox.Maildir`, playing
the reader's mail client, so the checks do not go through the code under test.
"""

from __future__ import annotations

import mailbox as stdlib_mailbox
from pathlib import Path

import pytest

from gatekeeper.core.brain import Brain
from gatekeeper.core.policy import PolicySettings
from gatekeeper.errors import FolderMissingError, MailboxError
from gatekeeper.mail import actions
from gatekeeper.mail.config import AccountConfig
from gatekeeper.mail.mailbox import (
    ANSWERED,
    DELETED,
    FLAGGED,
    SEEN,
    Folders,
    MaildirMailbox,
    open_mailbox,
)
from gatekeeper.mail.pipeline import Pipeline
from gatekeeper.mail.store import DONE, UNDONE
from gatekeeper.testing import HashEmbedder, build_message

from reader import SPACE, unwanted_message, wanted_message

HELD = "Gatekeeper.Held"  # "Gatekeeper/Held" with the Maildir++ separator


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "Mail"


def config_for(root: Path, **changes) -> AccountConfig:
    return AccountConfig(name="local", kind="maildir", maildir=str(root), **changes)


@pytest.fixture
def box(root) -> MaildirMailbox:
    return MaildirMailbox(config_for(root))


def client_folder(root: Path, folder: str) -> stdlib_mailbox.Maildir:
    """A folder as the reader's mail client sees it."""
    maildir = stdlib_mailbox.Maildir(root, create=False)
    return maildir if folder == "INBOX" else maildir.get_folder(folder)


def message_ids(root: Path, folder: str) -> dict[str, str]:
    """Message-ID -> Maildir flag letters of every message in a folder."""
    return {m["Message-ID"].strip("<>"): m.get_flags()
            for m in client_folder(root, folder).values()}


def add_as_client(root: Path, folder: str, raw: bytes, flags: str = "") -> str:
    """Deliver a message the way another program would; returns its Maildir key."""
    message = stdlib_mailbox.MaildirMessage(raw)
    if flags:
        message.set_subdir("cur")
        message.set_flags(flags)
    return client_folder(root, folder).add(message)


# -- folders ---------------------------------------------------------------------------------
def test_folders_creates_the_held_folder_and_trash(box, root):
    assert box.folders() == Folders(inbox="INBOX", held=HELD, trash="Trash")
    assert set(stdlib_mailbox.Maildir(root).list_folders()) == {HELD, "Trash"}
    assert box.folders() == Folders(inbox="INBOX", held=HELD, trash="Trash")  # idempotent
    assert box.uids(HELD) == [] and box.uids("Trash") == []


def test_folders_finds_existing_folders_by_their_common_names(root):
    client = stdlib_mailbox.Maildir(root, create=True)
    for name in ("Deleted Items", "Spam", "Sent", "Archive"):
        client.add_folder(name)
    folders = MaildirMailbox(config_for(root)).folders()
    assert (folders.trash, folders.junk, folders.sent, folders.archive) == (
        "Deleted Items", "Spam", "Sent", "Archive")
    assert "Trash" not in client.list_folders()


def test_configured_folders_are_used_as_named(root):
    stdlib_mailbox.Maildir(root, create=True).add_folder("Bin")
    folders = MaildirMailbox(config_for(root, trash_folder="Bin", held_folder="Review")).folders()
    assert (folders.held, folders.trash) == ("Review", "Bin")
    assert set(stdlib_mailbox.Maildir(root).list_folders()) == {"Bin", "Review"}


def test_an_unknown_folder_is_a_folder_missing_error(box):
    with pytest.raises(FolderMissingError, match="no Maildir folder 'Nowhere'"):
        box.uids("Nowhere")
    box.append("INBOX", wanted_message(1))
    with pytest.raises(FolderMissingError):
        box.move("INBOX", box.uids("INBOX")[0], "Nowhere")
    assert len(box.uids("INBOX")) == 1  # nothing lost on the way


# -- reading ---------------------------------------------------------------------------------
def test_appended_mail_is_fetched_whole_and_unread(box):
    raw = wanted_message(1)
    box.append("INBOX", raw)
    (fetched,) = box.fetch_new("INBOX", 0, 10)
    assert fetched.uid == 1
    assert fetched.raw.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert fetched.flags == frozenset()


def test_uids_count_up_and_status_gives_the_next_one(box):
    for n in (1, 2, 3):
        box.append("INBOX", wanted_message(n))
        assert box.uids("INBOX") == list(range(1, n + 1))
    status = box.status("INBOX")
    assert status.uidnext == 4 and status.highest_modseq == 0
    assert [f.uid for f in box.fetch_new("INBOX", 1, 10)] == [2, 3]
    assert [f.uid for f in box.fetch_new("INBOX", 0, 2)] == [1, 2]
    assert box.fetch_new("INBOX", 3, 10) == []


def test_fetch_returns_the_messages_asked_for_and_skips_unknown_uids(box):
    for n in (1, 2):
        box.append("INBOX", wanted_message(n))
        box.uids("INBOX")
    fetched = box.fetch("INBOX", [2, 99])
    assert [f.uid for f in fetched] == [2]
    assert b"wanted-2@orbital.example" in fetched[0].raw


def test_uids_are_stable_and_never_reused(box, root):
    for n in (1, 2):
        box.append("INBOX", wanted_message(n))
        box.uids("INBOX")
    validity = box.status("INBOX").uidvalidity
    inbox = client_folder(root, "INBOX")
    first_key = next(k for k, m in inbox.items() if "wanted-1@" in m["Message-ID"])
    second_key = next(k for k in inbox.keys() if k != first_key)
    read = inbox.get_message(first_key)
    read.set_subdir("cur")
    read.add_flag("S")
    inbox[first_key] = read  # the reader's client marks it read: new/ -> cur/...:2,S
    inbox.remove(second_key)  # and deletes the other one
    assert box.uids("INBOX") == [1]
    assert box.flags("INBOX", [1]) == {1: frozenset({SEEN})}

    box.append("INBOX", wanted_message(3))
    assert box.uids("INBOX") == [1, 3]  # 2 is gone and not given out again
    again = MaildirMailbox(config_for(root))  # another process, the same numbers
    assert again.uids("INBOX") == [1, 3]
    assert again.status("INBOX").uidvalidity == validity
    assert again.find("INBOX", "wanted-3@orbital.example") == 3


def test_fetch_reads_at_most_fetch_bytes(root):
    box = MaildirMailbox(config_for(root, fetch_bytes=1024))
    box.append("INBOX", wanted_message(1)[:200] + b"x" * 5000)
    (fetched,) = box.fetch_new("INBOX", 0, 10)
    assert len(fetched.raw) == 1024


# -- flags -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("flags", "letters"), [
    ((), ""),
    ((SEEN,), "S"),
    ((ANSWERED, SEEN), "RS"),
    ((FLAGGED,), "F"),
    ((DELETED, SEEN), "ST"),
    ((SEEN, "$GkHeld"), "S"),  # Maildir has no keywords
])
def test_appended_flags_become_maildir_flag_letters(box, root, flags, letters):
    box.append("INBOX", wanted_message(1), flags)
    (message,) = client_folder(root, "INBOX").values()
    assert message.get_flags() == letters
    assert message.get_subdir() == ("cur" if SEEN in flags else "new")
    (uid,) = box.uids("INBOX")
    expected = frozenset(f for f in flags if f.startswith("\\"))
    assert box.flags("INBOX", [uid]) == {uid: expected}
    assert box.fetch("INBOX", [uid])[0].flags == expected


def test_flags_set_by_the_reader_are_read_as_imap_flags(box, root):
    add_as_client(root, "INBOX", wanted_message(1), flags="FRS")
    add_as_client(root, "INBOX", wanted_message(2))
    assert box.flags("INBOX", box.uids("INBOX")) == {
        1: frozenset({FLAGGED, ANSWERED, SEEN}), 2: frozenset()}
    assert box.changed_since("INBOX", [1, 2], modseq=5) == box.flags("INBOX", [1, 2])


def test_tag_changes_nothing_on_disk(box, root):
    box.append("INBOX", unwanted_message(1))
    (uid,) = box.uids("INBOX")
    before = sorted(p.name for p in root.rglob("*") if p.is_file())
    box.tag("INBOX", uid, "$GkHeld")
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == before


# -- moving and finding ----------------------------------------------------------------------
def test_move_to_held_keeps_the_message_and_its_flags(box, root):
    folders = box.folders()
    box.append("INBOX", unwanted_message(1), (FLAGGED,))
    box.append("INBOX", wanted_message(2))
    uid = box.find("INBOX", "unwanted-1@shoes.example")

    box.move("INBOX", uid, folders.held)

    assert message_ids(root, "INBOX") == {"wanted-2@orbital.example": ""}
    assert message_ids(root, HELD) == {"unwanted-1@shoes.example": "F"}
    assert box.find("INBOX", "unwanted-1@shoes.example") is None
    (held_uid,) = box.uids(HELD)
    assert box.find(HELD, "unwanted-1@shoes.example") == held_uid
    assert box.flags(HELD, [held_uid]) == {held_uid: frozenset({FLAGGED})}


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00 no headers at all", b"Subject: x\n\nbody",
                                 b"Subject: =?utf-8?B?4pyT?=\r\nX-Long: " + b"y" * 2000 + b"\r\n\r\n."])
def test_a_move_keeps_the_bytes_as_they_were(box, root, raw):
    folders = box.folders()
    key = client_folder(root, "INBOX").add(raw)  # as delivered: bytes as they are
    (uid,) = box.uids("INBOX")
    box.move("INBOX", uid, folders.held)
    assert client_folder(root, HELD).keys() == [key]
    assert client_folder(root, HELD).get_bytes(key) == raw


def test_moving_a_uid_that_is_not_there_is_a_mailbox_error(box):
    box.folders()
    with pytest.raises(MailboxError, match="message 7 is not in INBOX"):
        box.move("INBOX", 7, "Trash")


def test_find_by_message_id(box):
    for n in (1, 2, 3):
        box.append("INBOX", unwanted_message(n))
        box.uids("INBOX")
    assert box.find("INBOX", "unwanted-2@shoes.example") == 2
    assert box.find("INBOX", "unwanted-9@shoes.example") is None
    assert box.find("INBOX", "") is None


def test_find_gives_the_newest_copy_of_a_message(box):
    box.append("INBOX", unwanted_message(1))
    box.uids("INBOX")
    box.append("INBOX", unwanted_message(1))
    assert box.find("INBOX", "unwanted-1@shoes.example") == 2


def test_find_matches_the_whole_message_id(box):
    box.append("INBOX", build_message(message_id="<1@example.org>"))
    box.uids("INBOX")
    box.append("INBOX", build_message(message_id="<11@example.org>"))
    assert box.find("INBOX", "1@example.org") == 1


def test_wait_returns_at_once_when_asked_to_stop(box):
    assert box.wait("INBOX", timeout=3600, stop=lambda: True) is True


def test_open_mailbox_needs_no_credentials_for_a_maildir(root, monkeypatch):
    import gatekeeper.mail.credentials

    def refuse(account):
        raise AssertionError("credentials were asked for")

    monkeypatch.setattr(gatekeeper.mail.credentials, "password", refuse)
    box = open_mailbox(config_for(root))
    assert isinstance(box, MaildirMailbox) and box.account == "local"
    box.close()


# -- the pipeline over a Maildir ---------------------------------------------------------------
def new_brain() -> Brain:
    brain = Brain(HashEmbedder(), settings=PolicySettings(probe_share=0.0))
    brain.set_interests([SPACE])
    brain.lists.blocked.add("blocked.example")
    return brain


def deliver_three(box: MaildirMailbox) -> None:
    box.append("INBOX", wanted_message(1))
    box.append("INBOX", unwanted_message(1))
    box.append("INBOX", unwanted_message(2, sender="Spammer <spam@blocked.example>"))


EXPECTED = {"wanted-1@orbital.example": "pass", "unwanted-1@shoes.example": "hold",
            "unwanted-2@shoes.example": "delete"}


def test_active_mode_holds_and_deletes_into_maildir_folders(box, root, store):
    deliver_three(box)
    pipeline = Pipeline(box, new_brain(), store, "active", start_at_existing=True)

    decisions = pipeline.run_once()

    assert {d.message_id: d.verdict for d in decisions} == EXPECTED
    assert message_ids(root, "INBOX") == {"wanted-1@orbital.example": ""}
    assert message_ids(root, HELD) == {"unwanted-1@shoes.example": ""}  # still unread
    assert message_ids(root, "Trash") == {"unwanted-2@shoes.example": ""}
    assert {(e.kind, e.source, e.target, e.state) for e in store.journal("local")} == {
        ("hold", "INBOX", HELD, DONE), ("delete", "INBOX", "Trash", DONE)}
    assert {row.message_id: row.action for row in store.decisions("local")} == EXPECTED
    assert [t.message_id for t in store.tracked("local", HELD)] == ["unwanted-1@shoes.example"]
    assert pipeline.run_once() == []  # each message is decided once


def test_shadow_mode_over_a_maildir_touches_nothing(box, root, store):
    deliver_three(box)
    decisions = Pipeline(box, new_brain(), store, "shadow", start_at_existing=True).run_once()
    assert {d.message_id: d.verdict for d in decisions} == EXPECTED
    assert set(message_ids(root, "INBOX")) == set(EXPECTED)
    assert message_ids(root, HELD) == {} and message_ids(root, "Trash") == {}
    assert store.journal() == []


def test_a_new_install_decides_only_mail_that_arrives_later(box, root, store):
    box.append("INBOX", unwanted_message(1))
    pipeline = Pipeline(box, new_brain(), store, "active")
    assert pipeline.run_once() == []
    box.append("INBOX", unwanted_message(2, sender="Spammer <spam@blocked.example>"))
    assert [d.message_id for d in pipeline.run_once()] == ["unwanted-2@shoes.example"]
    assert set(message_ids(root, "INBOX")) == {"unwanted-1@shoes.example"}


def test_a_deleted_message_is_restored_by_undo(box, root, store):
    box.append("INBOX", unwanted_message(2, sender="Spammer <spam@blocked.example>"))
    Pipeline(box, new_brain(), store, "active", start_at_existing=True).run_once()
    (entry,) = store.journal()
    assert set(message_ids(root, "Trash")) == {"unwanted-2@shoes.example"}

    assert actions.undo(box, store, entry) is True

    assert set(message_ids(root, "INBOX")) == {"unwanted-2@shoes.example"}
    assert message_ids(root, "Trash") == {}
    assert store.journal_entry(entry.id).state == UNDONE


def test_an_unconfirmed_move_is_finished_once_after_a_crash(box, root, store):
    box.append("INBOX", unwanted_message(1))
    (uid,) = box.uids("INBOX")
    action = actions.Action.for_verdict("hold", "active", "local", "INBOX", uid,
                                        "unwanted-1@shoes.example", box.folders())
    entry = action.intend(store)
    assert actions.reconcile(box, store) == 1
    assert set(message_ids(root, HELD)) == {"unwanted-1@shoes.example"}
    assert store.journal_entry(entry).state == DONE
    assert actions.reconcile(box, store) == 0


def test_mail_delivered_within_one_second_is_numbered_in_delivery_order(root, box):
    """Maildir names carry the microseconds unpadded: sorted as text, "M100000" comes before
    "M40" and "M5", and the demo's mail was decided in a different order from run to run."""
    stdlib_mailbox.Maildir(root, create=True)
    for micro, n in ((5, 1), (40, 2), (100000, 3)):
        (root / "new" / f"1700000000.M{micro}P77Q{n}.host").write_bytes(wanted_message(n))
    numbered = {f.raw.split(b"Message-ID: <")[1].split(b">")[0].decode(): f.uid
                for f in box.fetch_new("INBOX", 0, 10)}
    assert sorted(numbered, key=numbered.get) == [
        "wanted-1@orbital.example", "wanted-2@orbital.example", "wanted-3@orbital.example"]
