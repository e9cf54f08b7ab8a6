"""Local state in SQLite: what was decided, what was done, what the reader did.

One database per user (WAL mode, file mode 0600) with numbered migrations. Tables:
- `folders`: sync state per (account, folder): the mailbox backend's cursor;
- `messages`: every decision, keyed by (account, folder, ref: the backend's name for the
  message) so each message is decided exactly once, with its Message-ID so it can be found again after a move, and
  the error when it could not be read or acted on (it was then passed, or left in place);
- `journal`: every action, written as an intent before it happens and confirmed after,
  so a crash between the two is reconciled and every move can be undone;
- `feedback`: the reader's reactions, with their source and the lesson each teaches
  (`gatekeeper.core.lesson`), undoable: the truth of what the gatekeeper learned, of which a
  brain's file is only a checkpoint (`gatekeeper.mail.learning`);
- `lists`: the reader's allow and block lists.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from ..core.lesson import Lesson, decode, encode
from ..errors import StorageError
from .mailbox import MessageRef

MIGRATIONS = [
    """
    CREATE TABLE folders (
        account TEXT NOT NULL, folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL DEFAULT 0,
        highest_modseq INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (account, folder));
    CREATE TABLE messages (
        account TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL, message_id TEXT NOT NULL, content_hash TEXT NOT NULL,
        sender TEXT NOT NULL, subject TEXT NOT NULL, decided_at REAL NOT NULL,
        action TEXT NOT NULL, probability REAL NOT NULL, mode TEXT NOT NULL,
        probe INTEGER NOT NULL DEFAULT 0, queue TEXT NOT NULL DEFAULT '',
        reasons TEXT NOT NULL,
        PRIMARY KEY (account, folder, uidvalidity, uid));
    CREATE INDEX messages_by_message_id ON messages (account, message_id);
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL,
        message_id TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
        target TEXT NOT NULL, state TEXT NOT NULL, created_at REAL NOT NULL,
        done_at REAL, detail TEXT NOT NULL DEFAULT '');
    CREATE INDEX journal_by_state ON journal (account, state);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL,
        message_id TEXT NOT NULL, behaviour TEXT NOT NULL, source TEXT NOT NULL,
        at REAL NOT NULL, undone INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE lists (
        kind TEXT NOT NULL CHECK (kind IN ('allow', 'block')), entry TEXT NOT NULL,
        added_at REAL NOT NULL, PRIMARY KEY (kind, entry));
    """,
    """
    CREATE TABLE tracked (
        account TEXT NOT NULL, message_id TEXT NOT NULL, folder TEXT NOT NULL,
        uid INTEGER NOT NULL, flags TEXT NOT NULL, decided_at REAL NOT NULL,
        verdict TEXT NOT NULL, learned TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (account, message_id));
    CREATE INDEX tracked_by_folder ON tracked (account, folder);
    """,
    # A reaction keeps what it teaches, and a decision the sender-memory keys its
    # arrival counts under, so a brain can be caught up or relearned from the store.
    """
    ALTER TABLE feedback ADD COLUMN lesson BLOB;
    ALTER TABLE messages ADD COLUMN sender_keys TEXT NOT NULL DEFAULT '[]';
    CREATE INDEX feedback_by_account ON feedback (account, id);
    """,
    # A message that could not be read or acted on: what went wrong, for `status`.
    """
    ALTER TABLE messages ADD COLUMN error TEXT NOT NULL DEFAULT '';
    """,
    # A message is known by its Message-ID and its content together (a different message
    # can reuse a Message-ID, and some have none), and by the UID a move gave it; a
    # folder remembers when it was last read to the end, so a new UIDVALIDITY can tell
    # the mail it had already seen from mail that came since.
    """
    ALTER TABLE journal ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
    ALTER TABLE journal ADD COLUMN target_uid INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE folders ADD COLUMN synced_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE folders ADD COLUMN history_before REAL NOT NULL DEFAULT 0;
    CREATE INDEX messages_by_identity ON messages (account, message_id, content_hash);
    """,
    # The evidence behind each decision, so `explain` shows it as it was at the time.
    """
    ALTER TABLE messages ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
    """,
    # A message is known by its backend's opaque ref, a folder's sync state by its
    # backend's cursor: no IMAP UIDs, UIDVALIDITY or MODSEQ here any more. Decision IDs
    # are the old rowids, kept in an INTEGER PRIMARY KEY (which no VACUUM renumbers). A
    # tracked message gets the ref of the decision that confirms its UID in the folder's
    # current UIDVALIDITY; any other (outside the inbox, or a UID from before a new
    # UIDVALIDITY) gets '', "not known yet", and is found again by Message-ID. A journal's
    # target UID becomes ":{uid}", a UID of the folder's current UIDVALIDITY, used only
    # after a content check. Tables are rebuilt rather than columns dropped, which SQLite
    # before 3.35 cannot do; the journal keeps its target_uid column, unread, so its
    # AUTOINCREMENT sequence is kept as it is.
    """
    CREATE TABLE tracked_v7 (
        account TEXT NOT NULL, message_id TEXT NOT NULL, folder TEXT NOT NULL,
        ref TEXT NOT NULL, flags TEXT NOT NULL, decided_at REAL NOT NULL,
        verdict TEXT NOT NULL, learned TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (account, message_id));
    INSERT INTO tracked_v7 SELECT t.account, t.message_id, t.folder,
        COALESCE((SELECT m.uidvalidity || ':' || m.uid FROM messages m JOIN folders f
                  ON f.account = m.account AND f.folder = m.folder
                     AND f.uidvalidity = m.uidvalidity
                  WHERE m.account = t.account AND m.folder = t.folder AND m.uid = t.uid
                    AND m.message_id = t.message_id AND t.uid != 0), ''),
        t.flags, t.decided_at, t.verdict, t.learned FROM tracked t;
    DROP TABLE tracked;
    ALTER TABLE tracked_v7 RENAME TO tracked;
    CREATE INDEX tracked_by_folder ON tracked (account, folder);
    ALTER TABLE journal ADD COLUMN target_ref TEXT NOT NULL DEFAULT '';
    UPDATE journal SET target_ref = ':' || target_uid WHERE target_uid != 0;
    CREATE TABLE messages_v7 (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL, folder TEXT NOT NULL, ref TEXT NOT NULL,
        message_id TEXT NOT NULL, content_hash TEXT NOT NULL,
        sender TEXT NOT NULL, subject TEXT NOT NULL, decided_at REAL NOT NULL,
        action TEXT NOT NULL, probability REAL NOT NULL, mode TEXT NOT NULL,
        probe INTEGER NOT NULL DEFAULT 0, queue TEXT NOT NULL DEFAULT '',
        reasons TEXT NOT NULL, sender_keys TEXT NOT NULL DEFAULT '[]',
        error TEXT NOT NULL DEFAULT '', evidence TEXT NOT NULL DEFAULT '',
        UNIQUE (account, folder, ref));
    INSERT INTO messages_v7 (id, account, folder, ref, message_id, content_hash, sender, subject,
        decided_at, action, probability, mode, probe, queue, reasons, sender_keys, error, evidence)
        SELECT rowid, account, folder, uidvalidity || ':' || uid, message_id, content_hash, sender,
               subject, decided_at, action, probability, mode, probe, queue, reasons, sender_keys,
               error, evidence FROM messages;
    DROP TABLE messages;
    ALTER TABLE messages_v7 RENAME TO messages;
    CREATE INDEX messages_by_message_id ON messages (account, message_id);
    CREATE INDEX messages_by_identity ON messages (account, message_id, content_hash);
    CREATE TABLE folders_v7 (
        account TEXT NOT NULL, folder TEXT NOT NULL, cursor TEXT NOT NULL,
        synced_at REAL NOT NULL DEFAULT 0, history_before REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (account, folder));
    INSERT INTO folders_v7 SELECT account, folder,
        uidvalidity || ':' || last_uid || ':' || highest_modseq, synced_at, history_before
        FROM folders;
    DROP TABLE folders;
    ALTER TABLE folders_v7 RENAME TO folders;
    """,
]

INTENT, DONE, FAILED, UNDONE = "intent", "done", "failed", "undone"
_JOURNAL_COLUMNS = ("id, account, message_id, kind, source, target, state, created_at, "
                    "content_hash, target_ref")  # a JournalEntry's fields, in order
MOVER = "by pid "  # how an intent's detail names the process that writes it


@dataclass(frozen=True)
class FolderState:
    """Where the last sync of a folder stopped."""

    cursor: str  # the mailbox's cursor: how far the folder was read ("": not at all)
    # Mail that arrived before this and was never decided is history, not new mail (set
    # when the mailbox restarted the folder, as on a new UIDVALIDITY: what the folder
    # held before was seen already).
    history_before: float = 0.0


@dataclass(frozen=True)
class Tracked:
    """A decided message as last seen: where it is and what the reader had done."""

    message_id: str
    folder: str
    ref: MessageRef  # "" when not known yet (after a move)
    flags: frozenset[str]
    decided_at: float
    verdict: str
    learned: frozenset[str]  # behaviours already learned from, so none counts twice


@dataclass(frozen=True)
class DecisionRecord:
    """One decision as recorded: what was decided about a message, and why. The fields
    are the `messages` table's columns in order, its JSON columns decoded (here only)."""

    id: int  # the decision's ID, as `status`, `review` and `explain` show it
    account: str
    folder: str
    ref: MessageRef  # the message in `folder` as its mailbox named it
    message_id: str
    content_hash: str
    sender: str
    subject: str
    decided_at: float
    action: str  # a `VerdictAction`
    probability: float
    mode: str  # a `Mode`
    probe: bool
    queue: str
    reasons: list[dict]  # `policy.Reason`s as {"code": ..., "text": ...}
    sender_keys: list[str]
    error: str  # what went wrong reading or acting on it ("" when nothing did)
    evidence: dict  # `Assessment.evidence()` at the time ({} for decisions before it was kept)

    @classmethod
    def of(cls, row: sqlite3.Row) -> DecisionRecord:
        return cls(row["id"], row["account"], row["folder"], MessageRef(row["ref"]),
                   row["message_id"], row["content_hash"], row["sender"], row["subject"],
                   row["decided_at"], row["action"], row["probability"], row["mode"],
                   bool(row["probe"]), row["queue"], json.loads(row["reasons"]),
                   json.loads(row["sender_keys"]), row["error"],
                   json.loads(row["evidence"] or "{}"))

    def as_stored(self) -> dict:
        """The row as the database holds it, JSON columns as text: what `status --json`
        prints (since schema 7 with `ref` where it had `uidvalidity` and `uid`)."""
        return asdict(self) | {
            "probe": int(self.probe), "reasons": json.dumps(self.reasons),
            "sender_keys": json.dumps(self.sender_keys), "evidence": json.dumps(self.evidence)}


@dataclass(frozen=True)
class DecisionOutcome:
    """A decision as `status` and `stats` count it."""

    account: str
    decided_at: float
    action: str  # a `VerdictAction`
    mode: str  # a `Mode`
    probability: float
    reversed: bool  # the reader undid its move or rescued it from Held


@dataclass(frozen=True)
class SenderBehaviour:
    """How many times the reader did one thing with one sender's decided mail."""

    sender: str
    behaviour: str  # a `Behaviour`
    times: int


@dataclass(frozen=True)
class Reaction:
    """What the reader did with a message, and what it teaches."""

    id: int
    account: str
    message_id: str
    behaviour: str
    source: str  # how it was observed: "review", "train", "flags INBOX", ...
    at: float
    undone: bool
    encoded_lesson: bytes | None = field(default=None, repr=False)

    @cached_property
    def lesson(self) -> Lesson | None:
        """What it teaches (None: recorded before reactions kept their lessons); read
        only when asked for, as most reactions a query passes over are not learned again."""
        return None if self.encoded_lesson is None else decode(self.encoded_lesson)


@dataclass(frozen=True)
class Arrival:
    """A decided message as the sender memory counts it."""

    row: int  # the decision's row id: decisions are counted in this order
    keys: tuple[str, ...]
    held: bool
    at: float


@dataclass(frozen=True)
class JournalEntry:
    """One action: moved (or tagged) a message from `source` to `target`."""

    id: int
    account: str
    message_id: str
    kind: str  # "hold", "delete", "tag", "restore"
    source: str
    target: str
    state: str  # INTENT, DONE, FAILED or UNDONE
    created_at: float
    content_hash: str = ""  # with the Message-ID, which message it is
    target_ref: MessageRef = MessageRef("")  # its ref in `target` once moved, when the
    # server said ("": unknown; ":{uid}": a UID from before refs, of the current UIDVALIDITY)


_DISK_FULL = "the disk is full: free some space, then start gatekeeper again. Nothing is " \
    "lost: mail not decided yet stays where it is and is decided then"
_READ_ONLY = "it is read-only: make it writable (its owner, its permissions, the file " \
    "system), then start gatekeeper again; `gatekeeper status` works meanwhile"
_SQLITE_FAILURES = {"SQLITE_FULL": _DISK_FULL, "SQLITE_READONLY": _READ_ONLY,
                    "SQLITE_PERM": _READ_ONLY, "SQLITE_CANTOPEN": _READ_ONLY,
                    "SQLITE_IOERR": "the disk failed to read or write"}
_OS_FAILURES = {errno.ENOSPC: _DISK_FULL, errno.EDQUOT: _DISK_FULL, errno.EROFS: _READ_ONLY,
                errno.EACCES: _READ_ONLY, errno.EPERM: _READ_ONLY}


def storage_failure(error: BaseException, where: Path) -> StorageError | None:
    """The StorageError a failure to write local state means (a full disk, a read-only
    database or folder), or None when `error` is something else."""
    if isinstance(error, StorageError):
        return error
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "")
        advice = next((text for code, text in _SQLITE_FAILURES.items()
                       if name == code or name.startswith(code + "_")), None)
    elif isinstance(error, OSError):
        advice = _OS_FAILURES.get(error.errno) if error.errno is not None else None
        where = Path(error.filename) if error.filename else where
    else:
        advice = None
    return StorageError(f"cannot write {where} ({error}): {advice}") if advice else None


class Store:
    """The SQLite database of one gatekeeper home: read and written, or with `read_only`
    only read (what `for_reading` falls back to when it cannot be written)."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        try:
            self.db = self._connect_read_only() if read_only else self._connect()
            if not read_only:
                self._migrate()
        except (sqlite3.Error, OSError) as error:
            raise storage_failure(error, path) or error

    @classmethod
    def for_reading(cls, path: Path) -> Store:
        """The store for commands that only read it: read-only when it cannot be written
        (a full disk, a read-only file or file system), so they still work."""
        try:
            return cls(path)
        except StorageError:
            if not path.exists():
                raise
            return cls(path, read_only=True)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self.path.touch(mode=0o600)
        os.chmod(self.path, 0o600)  # a database made by an older version, readable by others
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _connect_read_only(self) -> sqlite3.Connection:
        # A WAL database on a read-only file system opens only as immutable (nothing can
        # write it there anyway); elsewhere read-only mode sees the daemon's commits.
        for mode in ("mode=ro", "mode=ro&immutable=1"):
            db = sqlite3.connect(f"{self.path.as_uri()}?{mode}", uri=True, timeout=30,
                                 isolation_level=None)
            db.row_factory = sqlite3.Row
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.OperationalError as error:
                db.close()
                failure = error
                continue
            if version != len(MIGRATIONS):
                db.close()
                raise StorageError(f"{self.path} is read-only and was written by another "
                                   "version of gatekeeper; make it writable to upgrade it")
            return db
        raise failure

    def _migrate(self) -> None:
        # The version is read inside the write lock: two processes opening a new database
        # at once (the daemon and `gatekeeper status`, say) must not both create it.
        with self.transaction():  # executescript would commit on its own: one by one
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")  # may fail too: a full disk
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the database."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    # -- folders ---------------------------------------------------------------------
    def folder_state(self, account: str, folder: str) -> FolderState | None:
        row = self.db.execute(
            "SELECT cursor, history_before FROM folders WHERE account = ? AND folder = ?",
            (account, folder)).fetchone()
        return FolderState(*row) if row else None

    def save_folder_state(self, account: str, folder: str, state: FolderState) -> None:
        self.db.execute(
            "INSERT INTO folders (account, folder, cursor, history_before) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (account, folder) DO UPDATE SET cursor = excluded.cursor, "
            "history_before = excluded.history_before",
            (account, folder, state.cursor, state.history_before))

    def mark_synced(self, account: str, folder: str, looked_at: float) -> None:
        """Everything that had arrived in the folder by `looked_at` has been seen."""
        self.db.execute("UPDATE folders SET synced_at = ? WHERE account = ? AND folder = ?",
                        (looked_at, account, folder))

    def synced_at(self, account: str, folder: str) -> float:
        """When the folder was last read to the end (0: never; then the last decision)."""
        row = self.db.execute("SELECT synced_at FROM folders WHERE account = ? AND folder = ?",
                              (account, folder)).fetchone()
        if row and row[0]:
            return float(row[0])
        last = self.db.execute("SELECT MAX(decided_at) FROM messages WHERE account = ? AND "
                               "folder = ?", (account, folder)).fetchone()[0]
        return float(last or 0.0)

    # -- decisions -------------------------------------------------------------------
    def decided_identities(self, account: str) -> set[tuple[str, str]]:
        """(Message-ID, content hash) of every message decided: what each one is."""
        rows = self.db.execute("SELECT message_id, content_hash FROM messages WHERE account = ?",
                               (account,))
        return {(row[0], row[1]) for row in rows}

    def decided_message_ids(self, account: str) -> set[str]:
        rows = self.db.execute("SELECT message_id FROM messages WHERE account = ? AND "
                               "message_id != ''", (account,))
        return {row[0] for row in rows}

    def record_decision(self, account: str, folder: str, ref: MessageRef,
                        decision: dict) -> bool:
        """Record a decision once; False when this message was already decided."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO messages (account, folder, ref, message_id, "
            "content_hash, sender, subject, decided_at, action, probability, mode, probe, "
            "queue, reasons, sender_keys, error, evidence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (account, folder, ref, decision["message_id"], decision["content_hash"],
             decision["sender"], decision["subject"], decision.get("at", time.time()),
             decision["action"], decision["probability"], decision["mode"],
             int(decision.get("probe", False)), decision.get("queue", ""),
             json.dumps(decision.get("reasons", [])), json.dumps(decision.get("sender_keys", [])),
             decision.get("error", ""), json.dumps(decision.get("evidence", {}))))
        return cursor.rowcount == 1

    def arrivals_after(self, account: str, row: int) -> list[Arrival]:
        """The account's decisions after row id `row`, in order, as arrivals to count."""
        rows = self.db.execute(
            "SELECT id, sender_keys, action, decided_at FROM messages WHERE account = ? "
            "AND id > ? ORDER BY id", (account, row))
        return [Arrival(r[0], tuple(json.loads(r[1])), r[2] == "hold", r[3]) for r in rows]

    def last_arrival(self, account: str) -> int:
        row = self.db.execute("SELECT MAX(id) FROM messages WHERE account = ?",
                              (account,)).fetchone()
        return row[0] or 0

    def record_decision_error(self, account: str, folder: str, ref: MessageRef,
                              error: str) -> None:
        """Note what went wrong after a message was decided (its move failed, say)."""
        self.db.execute("UPDATE messages SET error = ? WHERE account = ? AND folder = ? AND "
                        "ref = ?", (error, account, folder, ref))

    def failed_decisions(self, limit: int = 10) -> tuple[int, list[DecisionRecord]]:
        """How many messages could not be read or acted on, and the latest `limit` of them."""
        count = self.db.execute("SELECT COUNT(*) FROM messages WHERE error != ''").fetchone()[0]
        rows = self.db.execute("SELECT * FROM messages WHERE error != '' "
                               "ORDER BY decided_at DESC LIMIT ?", (limit,))
        return count, [DecisionRecord.of(row) for row in rows]

    def decisions(self, account: str | None = None, since: float = 0.0,
                  action: str | None = None) -> list[DecisionRecord]:
        """Decisions since a time (of one account, of one action), oldest first."""
        query = "SELECT * FROM messages WHERE decided_at >= ?"
        params: list = [since]
        if account:
            query, params = query + " AND account = ?", params + [account]
        if action:
            query, params = query + " AND action = ?", params + [action]
        return [DecisionRecord.of(row)
                for row in self.db.execute(query + " ORDER BY decided_at", params)]

    def decision_for(self, account: str, message_id: str,
                     content_hash: str | None = None) -> DecisionRecord | None:
        """The latest decision about a message (its content too, when given)."""
        row = self.db.execute(
            "SELECT * FROM messages WHERE account = ? AND message_id = ? "
            "AND (? IS NULL OR content_hash = ?) ORDER BY decided_at DESC LIMIT 1",
            (account, message_id, content_hash, content_hash)).fetchone()
        return None if row is None else DecisionRecord.of(row)

    def decision(self, decision_id: int) -> DecisionRecord | None:
        """A decision by its ID (what `status`, `review` and `explain` show)."""
        row = self.db.execute("SELECT * FROM messages WHERE id = ?",
                              (decision_id,)).fetchone()
        return None if row is None else DecisionRecord.of(row)

    def hold_of(self, decision: DecisionRecord) -> JournalEntry | None:
        """The completed hold of a decided message, None when it was not held (or not
        yet, or no more)."""
        row = self.db.execute(
            f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE account = ? AND message_id = ? "
            "AND content_hash IN (?, '') AND kind = 'hold' AND state = ? ORDER BY id DESC LIMIT 1",
            (decision.account, decision.message_id, decision.content_hash, DONE)).fetchone()
        return JournalEntry(*row) if row else None

    def accounts(self) -> list[str]:
        """Every account with a recorded decision, by name."""
        return [row[0] for row in self.db.execute(
            "SELECT DISTINCT account FROM messages ORDER BY account")]

    def decision_outcomes(self, account: str | None = None,
                          since: float = 0.0) -> list[DecisionOutcome]:
        """Decisions since a time, each with whether the reader undid its move or
        rescued it from Held, oldest first."""
        query = (
            "SELECT m.account, m.decided_at, m.action, m.mode, m.probability, "
            "r.message_id IS NOT NULL AS reversed FROM messages m LEFT JOIN ("
            "  SELECT account, message_id, kind AS action FROM journal WHERE state = ?"
            "  UNION SELECT account, message_id, 'hold' FROM feedback"
            "  WHERE behaviour = 'rescued' AND undone = 0) r "
            "ON r.account = m.account AND r.message_id = m.message_id AND r.action = m.action "
            "AND m.message_id != '' WHERE m.decided_at >= ?")
        params: list = [UNDONE, since]
        if account:
            query, params = query + " AND m.account = ?", params + [account]
        return [DecisionOutcome(row[0], row[1], row[2], row[3], row[4], bool(row[5]))
                for row in self.db.execute(query + " ORDER BY m.decided_at", params)]

    def sender_behaviours(self, account: str | None = None,
                          since: float = 0.0) -> list[SenderBehaviour]:
        """What the reader did with each sender's decided mail, learned since a time and
        not undone."""
        query = (
            "SELECT m.sender, f.behaviour, COUNT(*) AS times FROM feedback f JOIN ("
            "  SELECT DISTINCT account, message_id, sender FROM messages WHERE message_id != ''"
            ") m ON m.account = f.account AND m.message_id = f.message_id "
            "WHERE f.undone = 0 AND f.at >= ?")
        params: list = [since]
        if account:
            query, params = query + " AND f.account = ?", params + [account]
        return [SenderBehaviour(*row) for row in self.db.execute(
            query + " GROUP BY m.sender, f.behaviour ORDER BY m.sender", params)]

    def waiting_holds(self, account: str) -> list[JournalEntry]:
        """Completed holds whose message is still where the hold put it, as far as the
        store knows: the mail waiting in review, oldest first."""
        rows = self.db.execute(
            f"SELECT {', '.join(f'j.{column}' for column in _JOURNAL_COLUMNS.split(', '))} "
            "FROM journal j JOIN tracked t ON t.account = j.account "
            "AND t.message_id = j.message_id AND t.folder = j.target "
            "WHERE j.account = ? AND j.kind = 'hold' AND j.state = ? ORDER BY j.id",
            (account, DONE))
        return [JournalEntry(*row) for row in rows]

    # -- journal ---------------------------------------------------------------------
    def journal_intent(self, account: str, message_id: str, kind: str, source: str,
                       target: str, content_hash: str = "") -> int:
        """Write what is about to happen, before it happens (and which process does it)."""
        cursor = self.db.execute(
            "INSERT INTO journal (account, message_id, kind, source, target, state, created_at, "
            "detail, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (account, message_id, kind, source, target, INTENT, time.time(),
             f"{MOVER}{os.getpid()}", content_hash))
        return _inserted_id(cursor)

    def moves_in_flight(self, account: str) -> set[int]:
        """Journal entries whose intent another process that is still running wrote: a
        command moving mail right now, not a move a crash cut short."""
        rows = self.db.execute("SELECT id, detail FROM journal WHERE account = ? AND state = ?",
                               (account, INTENT))
        return {entry for entry, detail in rows if _running_elsewhere(detail)}

    def journal_finish(self, entry_id: int, state: str, detail: str = "",
                       target_ref: MessageRef | None = None) -> None:
        """Settle an intent; `target_ref` is the message's ref where it was moved to."""
        self.db.execute("UPDATE journal SET state = ?, done_at = ?, detail = ?, "
                        "target_ref = COALESCE(?, target_ref) WHERE id = ?",
                        (state, time.time(), detail, target_ref, entry_id))

    def journal_retarget(self, entry_id: int, target: str) -> None:
        """The folder an action moves to changed before it happened (found again by
        SPECIAL-USE after the reader renamed it)."""
        self.db.execute("UPDATE journal SET target = ? WHERE id = ?", (target, entry_id))

    def journal(self, account: str | None = None, state: str | None = None,
                since: float = 0.0) -> list[JournalEntry]:
        query = f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE created_at >= ?"
        params: list = [since]
        if account:
            query, params = query + " AND account = ?", params + [account]
        if state:
            query, params = query + " AND state = ?", params + [state]
        return [JournalEntry(*row) for row in self.db.execute(query + " ORDER BY id", params)]

    def moving(self, account: str) -> set[str]:
        """Message-IDs of messages a move is under way for (an open intent): where they
        are is in flux, and their move is not the reader's."""
        rows = self.db.execute("SELECT message_id FROM journal WHERE account = ? AND state = ?",
                               (account, INTENT))
        return {row[0] for row in rows}

    def moves_of(self, entry: JournalEntry) -> list[JournalEntry]:
        """The completed moves of the message `entry` moved, from it on, in order."""
        rows = self.db.execute(
            f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE account = ? AND message_id = ? "
            "AND content_hash = ? AND id >= ? AND state = ? AND kind != 'tag' ORDER BY id",
            (entry.account, entry.message_id, entry.content_hash, entry.id, DONE))
        return [JournalEntry(*row) for row in rows]

    def journal_entry(self, entry_id: int) -> JournalEntry | None:
        row = self.db.execute(f"SELECT {_JOURNAL_COLUMNS} FROM journal WHERE id = ?",
                              (entry_id,)).fetchone()
        return JournalEntry(*row) if row else None

    # -- reactions (the feedback table) --------------------------------------------------
    def record_reaction(self, account: str, message_id: str, behaviour: str, source: str,
                        at: float, lesson: Lesson | None = None) -> int:
        """Record what the reader did and what it teaches; its id orders the learning."""
        cursor = self.db.execute(
            "INSERT INTO feedback (account, message_id, behaviour, source, at, lesson) "
            "VALUES (?, ?, ?, ?, ?, ?)", (account, message_id, behaviour, source, at,
                                          None if lesson is None else encode(lesson)))
        return _inserted_id(cursor)

    def reactions(self, account: str, after: int = 0, up_to: int | None = None,
                  undone: bool | None = None, source: str | None = None) -> list[Reaction]:
        """The account's reactions with ids in (after, up_to], oldest first; only undone
        or only live ones when `undone` says so, only from `source` when given."""
        query = "SELECT * FROM feedback WHERE account = ? AND id > ?"
        params: list = [account, after]
        for clause, value in (("id <= ?", up_to), ("undone = ?", undone), ("source = ?", source)):
            if value is not None:
                query, params = f"{query} AND {clause}", params + [value]
        return [_reaction(row) for row in self.db.execute(query + " ORDER BY id", params)]

    def last_reaction(self, account: str) -> int:
        row = self.db.execute("SELECT MAX(id) FROM feedback WHERE account = ?",
                              (account,)).fetchone()
        return row[0] or 0

    def take_back(self, account: str, source: str) -> int:
        """Mark every live reaction from `source` undone (a new `train` replaces the
        last one's); how many."""
        return self.db.execute("UPDATE feedback SET undone = 1 WHERE account = ? AND "
                               "source = ? AND undone = 0", (account, source)).rowcount

    def feedback(self, account: str | None = None,
                 include_undone: bool = False) -> list[Reaction]:
        """Reactions of one account or all, live ones only unless told, oldest first."""
        query = "SELECT * FROM feedback WHERE (? OR undone = 0)"
        params: list = [int(include_undone)]
        if account:
            query, params = query + " AND account = ?", params + [account]
        return [_reaction(row) for row in self.db.execute(query + " ORDER BY id", params)]

    def undo_feedback_of(self, account: str, message_id: str, source: str, since: float) -> int:
        """Mark what `source` recorded about a message since a time as undone; how many."""
        cursor = self.db.execute(
            "UPDATE feedback SET undone = 1 WHERE account = ? AND message_id = ? AND "
            "source = ? AND at >= ? AND undone = 0", (account, message_id, source, since))
        return cursor.rowcount

    # -- where decided messages are now ---------------------------------------------------
    def track(self, account: str, message_id: str, folder: str, ref: MessageRef,
              flags: frozenset[str], decided_at: float, verdict: str) -> None:
        """Remember where a decided message is, to notice what the reader does with it."""
        self.db.execute(
            "INSERT OR REPLACE INTO tracked (account, message_id, folder, ref, flags, "
            "decided_at, verdict) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (account, message_id, folder, ref, " ".join(sorted(flags)), decided_at, verdict))

    def where_tracked(self, account: str, message_id: str) -> Tracked | None:
        """Where a decided message was last seen, None when it is not tracked."""
        row = self.db.execute(
            "SELECT message_id, folder, ref, flags, decided_at, verdict, learned FROM tracked "
            "WHERE account = ? AND message_id = ?", (account, message_id)).fetchone()
        return None if row is None else _tracked(row)

    def tracked(self, account: str, folder: str) -> list[Tracked]:
        rows = self.db.execute(
            "SELECT message_id, folder, ref, flags, decided_at, verdict, learned FROM tracked "
            "WHERE account = ? AND folder = ?", (account, folder))
        return [_tracked(row) for row in rows]

    def update_tracked(self, account: str, message_id: str, *, folder: str | None = None,
                       ref: MessageRef | None = None, flags: frozenset[str] | None = None,
                       learned: frozenset[str] | None = None) -> None:
        changes = {"folder": folder, "ref": ref,
                   "flags": " ".join(sorted(flags)) if flags is not None else None,
                   "learned": " ".join(sorted(learned)) if learned is not None else None}
        for column, value in changes.items():
            if value is not None:
                self.db.execute(f"UPDATE tracked SET {column} = ? WHERE account = ? AND "
                                "message_id = ?", (value, account, message_id))

    def add_learned(self, account: str, message_id: str, behaviour: str) -> None:
        """Mark a behaviour as learned for a tracked message, so it never counts twice."""
        row = self.db.execute("SELECT learned FROM tracked WHERE account = ? AND message_id = ?",
                              (account, message_id)).fetchone()
        if row is not None:
            learned = frozenset(row[0].split()) | {behaviour}
            self.update_tracked(account, message_id, learned=learned)

    # -- allow and block lists ---------------------------------------------------------
    def add_to_list(self, kind: str, entry: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO lists VALUES (?, ?, ?)",
                        (kind, entry.strip().lower(), time.time()))
        other = "block" if kind == "allow" else "allow"
        self.db.execute("DELETE FROM lists WHERE kind = ? AND entry = ?",
                        (other, entry.strip().lower()))

    def remove_from_list(self, kind: str, entry: str) -> bool:
        cursor = self.db.execute("DELETE FROM lists WHERE kind = ? AND entry = ?",
                                 (kind, entry.strip().lower()))
        return cursor.rowcount > 0

    def list_entries(self, kind: str) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT entry FROM lists WHERE kind = ?",
                                                  (kind,))}


def _running_elsewhere(detail: str) -> bool:
    """Whether the process named in an intent's detail is another one that still runs."""
    pid = int(detail[len(MOVER):]) if detail.startswith(MOVER) and \
        detail[len(MOVER):].isdigit() else 0
    if pid in (0, os.getpid()):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True


def _inserted_id(cursor: sqlite3.Cursor) -> int:
    """The row id an INSERT gave its row."""
    if cursor.lastrowid is None:
        raise RuntimeError("sqlite gave no row id for an INSERT")
    return cursor.lastrowid


def _tracked(row) -> Tracked:
    return Tracked(row[0], row[1], MessageRef(row[2]), frozenset(row[3].split()), row[4], row[5],
                   frozenset(row[6].split()))


def _reaction(row: sqlite3.Row) -> Reaction:
    return Reaction(row["id"], row["account"], row["message_id"], row["behaviour"],
                    row["source"], row["at"], bool(row["undone"]), row["lesson"])
