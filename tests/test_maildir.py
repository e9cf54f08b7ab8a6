"""What only the Maildir mailbox does: folder names, flag letters, file names, bytes.

What every backend promises (reading, flags, moves, finding, the pipeline, the observer,
undo) is tested over a Maildir and Dovecot alike in test_mailbox_contract.py. What is on
disk is checked with the standard library's own `mailbox.Maildir`, playing the reader's
mail client, so the checks do not go through the code under test.
"""

from __future__ import annotations

import mailbox as stdlib_mailbox
import time
from pathlib import Path

import pytest

from gatekeeper.errors import MailboxError
from gatekeeper.mail.config import AccountConfig
from gatekeeper.mail.mailbox import (
    ANSWERED,
    DELETED,
    FLAGGED,
    SEEN,
    MaildirMailbox,
    MaildirSettings,
    MessageRef,
    open_mailbox,
)
from gatekeeper.testing import build_message

from reader import unwanted_message, wanted_message

HELD = "Gatekeeper.Held"  # "Gatekeeper/Held" with the Maildir++ separator


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "Mail"


def config_for(root: Path, **changes) -> AccountConfig:
    return AccountConfig("local", MaildirSettings(path=str(root)), **changes)


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
    (ref,) = box.refs("INBOX")
    expected = frozenset(f for f in flags if f.startswith("\\"))
    assert box.flags("INBOX", [ref]) == {ref: expected}
    assert box.fetch("INBOX", [ref])[0].flags == expected


def test_flag_letters_are_read_as_imap_flags_and_every_flag_counts_as_changed(box, root):
    add_as_client(root, "INBOX", wanted_message(1), flags="FRS")
    add_as_client(root, "INBOX", wanted_message(2))
    first, second = box.refs("INBOX")
    assert box.flags("INBOX", [first, second]) == {
        first: frozenset({FLAGGED, ANSWERED, SEEN}), second: frozenset()}
    _, cursor = box.changes("INBOX", [first, second], "")
    # Maildir keeps no modification sequences: every flag, whatever the cursor
    assert box.changes("INBOX", [first, second], cursor)[0] == box.flags("INBOX", [first, second])


def test_tag_changes_nothing_on_disk(box, root):
    box.append("INBOX", unwanted_message(1))
    (ref,) = box.refs("INBOX")
    before = sorted(p.name for p in root.rglob("*") if p.is_file())
    box.tag("INBOX", ref, "$GkHeld")
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == before


# -- moving and finding ----------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"\xff\xfe\x00 no headers at all", b"Subject: x\n\nbody",
                                 b"Subject: =?utf-8?B?4pyT?=\r\nX-Long: " + b"y" * 2000 + b"\r\n\r\n."])
def test_a_move_keeps_the_bytes_as_they_were(box, root, raw):
    folders = box.folders()
    key = client_folder(root, "INBOX").add(raw)  # as delivered: bytes as they are
    (ref,) = box.refs("INBOX")
    box.move("INBOX", ref, folders.held)
    assert client_folder(root, HELD).keys() == [key]
    assert client_folder(root, HELD).get_bytes(key) == raw


def test_moving_a_message_that_is_not_there_is_a_mailbox_error(box):
    box.folders()
    validity = box.cursor_at_end("INBOX").partition(":")[0]  # a ref of this folder, no UID 7
    with pytest.raises(MailboxError, match=f"message {validity}:7 is not in INBOX"):
        box.move("INBOX", MessageRef(f"{validity}:7"), "Trash")


def test_open_mailbox_needs_no_credentials_for_a_maildir(root, monkeypatch):
    import gatekeeper.mail.credentials

    def refuse(account):
        raise AssertionError("credentials were asked for")

    monkeypatch.setattr(gatekeeper.mail.credentials, "password", refuse)
    box = open_mailbox(config_for(root))
    assert isinstance(box, MaildirMailbox) and box.account == "local"
    box.close()


# -- numbering ------------------------------------------------------------------------------
def test_mail_delivered_within_one_second_is_numbered_in_delivery_order(root, box):
    """Maildir names carry the microseconds unpadded: sorted as text, "M100000" comes before
    "M40" and "M5", and the demo's mail was decided in a different order from run to run."""
    stdlib_mailbox.Maildir(root, create=True)
    for micro, n in ((5, 1), (40, 2), (100000, 3)):
        (root / "new" / f"1700000000.M{micro}P77Q{n}.host").write_bytes(wanted_message(n))
    in_order = [f.raw.split(b"Message-ID: <")[1].split(b">")[0].decode()
                for f in box.fetch_new("INBOX", "", 10).messages]  # in the order numbered
    assert in_order == [
        "wanted-1@orbital.example", "wanted-2@orbital.example", "wanted-3@orbital.example"]


def test_the_side_file_is_written_only_when_the_folder_changed(root, box):
    """Looking is read-only: the refs' side file is rewritten (whole, through a temporary
    file) only when mail came or went, and a ref stays the same across looks."""
    add_as_client(root, "INBOX", build_message(message_id="<a@x.example>"))
    (first,) = box.refs("INBOX")
    side = root / ".gatekeeper-uids.json"
    written = side.stat().st_mtime_ns, side.read_bytes()
    time.sleep(0.01)
    assert box.refs("INBOX") == [first] and box.flags("INBOX", [first])
    assert (side.stat().st_mtime_ns, side.read_bytes()) == written
    add_as_client(root, "INBOX", build_message(message_id="<b@x.example>"))
    assert box.refs("INBOX")[0] == first and len(box.refs("INBOX")) == 2
    assert side.read_bytes() != written[1]
    assert not side.with_name(side.name + ".tmp").exists()
