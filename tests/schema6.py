"""A store as gatekeeper wrote it before message refs (schema 6: IMAP UIDs, UIDVALIDITY
and MODSEQ in its rows), built with the first six migrations exactly as they are, for the
tests of migration 7 (test_store.py, and undo over every backend in
test_mailbox_contract.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from gatekeeper.mail.store import MIGRATIONS

VERSION = 6


class OldStore:
    """A schema-6 database, written row by row with its old columns."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        for number, script in enumerate(MIGRATIONS[:VERSION], start=1):
            for statement in filter(str.strip, script.split(";")):
                self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {number}")

    def close(self) -> None:
        self.db.close()

    def folder(self, account: str, folder: str, uidvalidity: int, last_uid: int,
               highest_modseq: int = 0, synced_at: float = 0.0,
               history_before: float = 0.0) -> None:
        self.db.execute("INSERT INTO folders VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (account, folder, uidvalidity, last_uid, highest_modseq, synced_at,
                         history_before))

    def decision(self, account: str, folder: str, uidvalidity: int, uid: int,
                 message_id: str, content_hash: str, action: str = "pass",
                 at: float = 1000.0) -> int:
        """A decision row; its rowid (the decision's ID)."""
        cursor = self.db.execute(
            "INSERT INTO messages (account, folder, uidvalidity, uid, message_id, content_hash, "
            "sender, subject, decided_at, action, probability, mode, probe, queue, reasons, "
            "sender_keys, error, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?)",
            (account, folder, uidvalidity, uid, message_id, content_hash, "a@example.org",
             f"subject of {message_id}", at, action, 0.4, "active", 0, "",
             json.dumps([{"code": "score", "text": "40% likely wanted"}]),
             json.dumps(["address:a@example.org"]), "", json.dumps({"history": {}})))
        return int(cursor.lastrowid or 0)

    def forget_decision(self, decision_id: int) -> None:
        """Leave a gap in the decision IDs (the IDs after it must keep their numbers)."""
        self.db.execute("DELETE FROM messages WHERE rowid = ?", (decision_id,))

    def journal(self, account: str, message_id: str, kind: str, source: str, target: str,
                state: str, content_hash: str, target_uid: int = 0,
                created_at: float = 1000.0) -> int:
        cursor = self.db.execute(
            "INSERT INTO journal (account, message_id, kind, source, target, state, created_at, "
            "done_at, detail, content_hash, target_uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)",
            (account, message_id, kind, source, target, state, created_at, created_at + 1,
             content_hash, target_uid))
        return int(cursor.lastrowid or 0)

    def reaction(self, account: str, message_id: str, behaviour: str, source: str = "review",
                 lesson: bytes | None = None) -> int:
        cursor = self.db.execute(
            "INSERT INTO feedback (account, message_id, behaviour, source, at, lesson) "
            "VALUES (?, ?, ?, ?, 1100.0, ?)", (account, message_id, behaviour, source, lesson))
        return int(cursor.lastrowid or 0)

    def tracked(self, account: str, message_id: str, folder: str, uid: int,
                flags: str = "", verdict: str = "pass", learned: str = "") -> None:
        self.db.execute("INSERT INTO tracked VALUES (?, ?, ?, ?, ?, 1000.0, ?, ?)",
                        (account, message_id, folder, uid, flags, verdict, learned))
