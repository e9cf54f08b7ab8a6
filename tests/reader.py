"""The reader of a test mailbox, acting through its own IMAP client (not gatekeeper's).

Tests deliver mail and play the person at the mail client with this, so what they check
on the server is independent of the code under test.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import imapclient

from gatekeeper.testing import build_message

import dovecot as dovecot_server

PASSWORD = "correct horse"
SPACE = "rockets launch orbit space mission"  # the test reader's interest


def wanted_message(n: int, sender: str = "Orbital Weekly <news@orbital.example>") -> bytes:
    return build_message(sender=sender, subject=f"Rocket launch {n}: orbit and space mission",
                         body=f"The rockets launch into orbit; space mission report {n}.",
                         message_id=f"<wanted-{n}@orbital.example>")


def unwanted_message(n: int, sender: str = "Shoe Deals <deals@shoes.example>") -> bytes:
    return build_message(sender=sender, subject=f"Discount shoes sale {n}",
                         body=f"Cheap sneakers and boots, coupon code {n}, buy today.",
                         message_id=f"<unwanted-{n}@shoes.example>")


class Reader:
    """An IMAP session as the mailbox's owner."""

    def __init__(self, server: dovecot_server.Dovecot, user: str = "alice") -> None:
        context = ssl.create_default_context(cafile=server.ca_file)
        self.client = imapclient.IMAPClient("127.0.0.1", port=server.imaps_port,
                                            ssl_context=context, timeout=10)
        self.client.login(user, PASSWORD)

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:
            pass

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> None:
        self.client.append(folder, raw, flags=flags)

    def message_ids(self, folder: str) -> dict[str, frozenset[str]]:
        """Message-ID -> flags of every message in a folder."""
        self.client.select_folder(folder, readonly=True)
        uids = self.client.search("ALL")
        if not uids:
            return {}
        response = self.client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        result = {}
        for data in response.values():
            header = next(v for k, v in data.items() if k.startswith(b"BODY"))
            _, _, value = header.decode().partition(":")  # "" for mail without a Message-ID
            message_id = value.strip().strip("<>")
            result[message_id] = frozenset(f.decode() for f in data[b"FLAGS"]) - {"\\Recent"}
        return result

    def uid_of(self, folder: str, message_id: str) -> int:
        self.client.select_folder(folder)
        (uid,) = self.client.search(["HEADER", "Message-ID", f"<{message_id}>"])
        return uid

    def move(self, message_id: str, source: str, target: str) -> None:
        uid = self.uid_of(source, message_id)
        self.client.move([uid], target)

    def add_flags(self, folder: str, message_id: str, flags: list[str]) -> None:
        uid = self.uid_of(folder, message_id)
        self.client.add_flags([uid], flags)

    def delete(self, folder: str, message_id: str) -> None:
        """Delete and expunge one message, as a client emptying it from a folder does."""
        uid = self.uid_of(folder, message_id)
        self.client.delete_messages([uid])
        self.client.uid_expunge([uid])

    def folders(self) -> list[str]:
        return [name for _, _, name in self.client.list_folders()]

    def where_is(self) -> dict[str, str]:
        """Message-ID -> the folder it is in, over every folder on the server; fails when
        a message is in two places."""
        folders = [name for flags, _, name in self.client.list_folders()
                   if not {b"\\Noselect", b"\\NonExistent"} & set(flags)]
        found = [(mid, folder) for folder in folders for mid in self.message_ids(folder)]
        assert len(found) == len(dict(found)), f"a message is in two places: {found}"
        return dict(found)


class ImapMailClient:
    """The demo's simulated reader at an IMAP mail client: the `deliver`, `mark`, `move`
    and `folder` of `gatekeeper.demo.mailclient.MailClient`, on a real server."""

    FLAGS = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged"}

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.dates_moved_by = None  # a timedelta: delivered mail arrives this much later

    def _flags(self, letters: str) -> list[str]:
        return [self.FLAGS[letter] for letter in letters]

    def folder(self, name: str) -> str:
        if name not in self.reader.folders():
            self.reader.client.create_folder(name)
        return name

    def deliver(self, folder: str, mail, letters: str = "") -> None:
        """Deliver a demo message with these flags: now, or on its date moved by
        `dates_moved_by` (history, as it would have arrived)."""
        when = None if self.dates_moved_by is None else mail.when + self.dates_moved_by
        self.reader.client.append(folder, mail.raw, flags=self._flags(letters), msg_time=when)

    def mark(self, folder: str, message_id: str, letters: str) -> bool:
        try:
            self.reader.add_flags(folder, message_id, self._flags(letters))
        except ValueError:  # not there (any more)
            return False
        return True

    def move(self, message_id: str, source: str, target: str, letters: str = "") -> bool:
        try:
            if letters:
                self.reader.add_flags(source, message_id, self._flags(letters))
            self.reader.move(message_id, source, target)
        except ValueError:
            return False
        return True


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition"):
    """Poll until `condition()` is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
