"""The demo reader's mail program: the standard library's Maildir, nothing of gatekeeper's.

What the reader does (delivering aside: that is the mail server's part) happens here,
on the files, so the gatekeeper has to notice it exactly as it would on a real mailbox.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterable
from email.parser import BytesHeaderParser
from pathlib import Path

from .inbox import DemoMail
from .persona import FLAG, READ, READ_LATER, REPLY

INBOX = "INBOX"
LETTERS = {READ: "S", READ_LATER: "S", REPLY: "RS", FLAG: "F"}  # Maildir flag letters


def letters_for(actions: Iterable[str]) -> str:
    """The Maildir flags the reader's actions leave on a message, e.g. "FRS"."""
    return "".join(sorted({letter for action in actions for letter in LETTERS.get(action, "")}))


class MailClient:
    """Delivers, flags and moves messages in a Maildir tree, found by Message-ID."""

    def __init__(self, root: Path) -> None:
        self.root = mailbox.Maildir(root, create=True)
        self._message_ids: dict[str, str] = {}  # key -> Message-ID: a key's content never changes

    def folder(self, name: str) -> mailbox.Maildir:
        if name == INBOX:
            return self.root
        if name not in self.root.list_folders():
            return self.root.add_folder(name)
        return self.root.get_folder(name)

    def deliver(self, folder: str, mail: DemoMail, letters: str = "") -> None:
        """Put a message in a folder as delivered on its date, with these flags."""
        message = mailbox.MaildirMessage(mail.raw)
        message.set_date(mail.when.timestamp())  # the delivery time train() reads
        if letters:
            message.set_subdir("cur")
            message.set_flags(letters)
        self.folder(folder).add(message)

    def mark(self, folder: str, message_id: str, letters: str) -> bool:
        """Add flags to a message (seen mail moves to cur/, as mail clients do)."""
        box = self.folder(folder)
        key = self._find(box, message_id)
        if key is None:
            return False
        message = box.get_message(key)
        message.set_subdir("cur")
        message.add_flag(letters)
        box[key] = message
        return True

    def move(self, message_id: str, source: str, target: str, letters: str = "") -> bool:
        """Move a message to another folder, adding flags on the way."""
        box = self.folder(source)
        key = self._find(box, message_id)
        if key is None:
            return False
        message = box.get_message(key)
        if letters:
            message.set_subdir("cur")
            message.add_flag(letters)
        self.folder(target).add(message)
        box.remove(key)
        return True

    def _find(self, box: mailbox.Maildir, message_id: str) -> str | None:
        for key in box.keys():
            if key not in self._message_ids:
                with box.get_file(key) as handle:
                    header = BytesHeaderParser().parsebytes(handle.read())
                self._message_ids[key] = str(header.get("Message-ID", "")).strip().strip("<>")
            if self._message_ids[key] == message_id:
                return key
        return None
