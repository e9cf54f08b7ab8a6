"""The SQLite store: its file, its migrations, and each table's contract."""

from __future__ import annotations

import json
import sqlite3
import stat

import pytest

from gatekeeper.mail.mailbox import MessageRef
from gatekeeper.mail.store import (
    DONE,
    FAILED,
    INTENT,
    MIGRATIONS,
    UNDONE,
    DecisionOutcome,
    FolderState,
    JournalEntry,
    SenderBehaviour,
    Store,
    Tracked,
)

from schema6 import OldStore


@pytest.fixture
def path(tmp_path):
    return tmp_path / "state" / "gatekeeper.db"


@pytest.fixture
def store(path):
    database = Store(path)
    yield database
    database.close()


def decision(message_id: str = "m1@example.org", **changes) -> dict:
    return {"message_id": message_id, "content_hash": "hash-" + message_id,
            "sender": "alice@example.org", "subject": "Hello", "at": 1000.0,
            "action": "hold", "probability": 0.3, "mode": "active", "probe": False,
            "queue": "screener", "reasons": [{"code": "score", "text": "30% likely wanted"}],
            **changes}


def decided(store: Store, account: str, folder: str, ref: MessageRef) -> bool:
    return any((d.account, d.folder, d.ref) == (account, folder, ref) for d in store.decisions())


def file_mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the file ---------------------------------------------------------------------------------
def test_the_database_is_private_to_its_owner(store, path):
    store.add_to_list("allow", "friend@example.org")  # a write creates the WAL files
    assert file_mode(path) == 0o600
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        assert side.exists() and file_mode(side) == 0o600


def test_an_existing_database_readable_by_others_is_made_private(path):
    Store(path).close()
    path.chmod(0o644)
    Store(path).close()
    assert file_mode(path) == 0o600


def test_the_database_uses_write_ahead_logging(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_new_database_has_every_migration(store):
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    tables = {row[0] for row in store.db.execute("SELECT name FROM sqlite_master "
                                                 "WHERE type = 'table'")}
    assert {"folders", "messages", "journal", "feedback", "lists", "tracked"} <= tables


def test_reopening_keeps_the_data_and_does_not_migrate_again(path):
    first = Store(path)
    first.record_decision("acct", "INBOX", MessageRef("7:1"), decision())
    first.add_to_list("block", "deals.example")
    first.close()

    again = Store(path)  # re-running migration 1 would fail: its tables exist
    assert again.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert decided(again, "acct", "INBOX", MessageRef("7:1"))
    assert again.list_entries("block") == {"deals.example"}
    again.close()


def test_a_database_at_an_older_version_gets_only_the_missing_migrations(path):
    path.parent.mkdir(parents=True)
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    old.execute("INSERT INTO lists VALUES ('allow', 'kept@example.org', 1.0)")
    old.commit()
    old.close()

    store = Store(path)
    assert store.list_entries("allow") == {"kept@example.org"}
    assert store.tracked("acct", "INBOX") == []  # migration 2 made the table
    assert store.reactions("acct") == []  # migration 3 gave reactions their lessons
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    store.close()


def test_migration_7_keeps_every_decision_journal_entry_reaction_and_tracked_message(path):
    """A schema-6 store (UIDs, UIDVALIDITY, MODSEQ) opened by today's code: every row is
    still there, decisions under their old IDs (a gap included) and known by their refs."""
    old = OldStore(path)
    old.folder("acct", "INBOX", 7, 41, highest_modseq=900, synced_at=1500.0,
               history_before=1200.0)
    old.folder("other", "INBOX", 3, 5)
    ids = {(account, uidvalidity, uid): old.decision(account, "INBOX", uidvalidity, uid,
                                                     f"m{uid}@{account}", f"h{uid}", action)
           for account, uidvalidity, uid, action in [
               ("acct", 7, 1, "pass"), ("acct", 7, 2, "hold"), ("acct", 7, 3, "delete"),
               ("acct", 6, 9, "pass"), ("other", 3, 5, "hold")]}
    old.forget_decision(ids.pop(("acct", 7, 1)))  # IDs after a gap keep their numbers
    entries = [old.journal("acct", "m2@acct", "hold", "INBOX", "Held", "done", "h2", 4),
               old.journal("acct", "m3@acct", "delete", "INBOX", "Trash", "done", "h3"),
               old.journal("other", "m5@other", "tag", "INBOX", "INBOX", "failed", "h5")]
    reactions = [old.reaction("acct", "m2@acct", "rescued", lesson=b"\x00lesson"),
                 old.reaction("other", "m5@other", "read", "flags INBOX")]
    old.tracked("acct", "m2@acct", "Held", 4, verdict="hold", learned="rescued")
    old.tracked("acct", "m3@acct", "INBOX", 3, flags="\\Seen", verdict="delete")
    old.tracked("acct", "m0@acct", "INBOX", 0)
    old.tracked("acct", "stale@acct", "INBOX", 2)  # UID 2 is another message now
    old.tracked("acct", "m9@acct", "INBOX", 9)  # UID 9 of UIDVALIDITY 6, not of 7
    old.close()

    store = Store(path)

    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    for (account, uidvalidity, uid), decision_id in ids.items():
        record = store.decision(decision_id)
        assert (record.account, record.folder, record.ref, record.message_id) == (
            account, "INBOX", f"{uidvalidity}:{uid}", f"m{uid}@{account}")
        assert (record.reasons, record.sender_keys, record.evidence) == (
            [{"code": "score", "text": "40% likely wanted"}], ["address:a@example.org"],
            {"history": {}})
        # decided once: the same (account, folder, ref) is not recorded again
        assert decided(store, account, "INBOX", record.ref)
        assert store.record_decision(account, "INBOX", record.ref, decision()) is False
    assert store.decision(1) is None and store.last_arrival("acct") == max(
        i for (account, _, _), i in ids.items() if account == "acct")
    assert [a.row for a in store.arrivals_after("acct", 0)] == sorted(
        i for (account, _, _), i in ids.items() if account == "acct")
    assert store.record_decision("acct", "INBOX", MessageRef("7:42"), decision("new"))
    assert store.decision_for("acct", "new").id > max(ids.values())

    assert [(e.id, e.kind, e.state, e.target_ref) for e in store.journal()] == [
        (entries[0], "hold", DONE, ":4"), (entries[1], "delete", DONE, ""),
        (entries[2], "tag", FAILED, "")]
    assert [(r.id, r.behaviour, r.encoded_lesson) for r in store.feedback()] == [
        (reactions[0], "rescued", b"\x00lesson"), (reactions[1], "read", None)]
    # In the inbox the folder's UIDVALIDITY is known; elsewhere a ref is found again.
    assert store.where_tracked("acct", "m3@acct") == Tracked(
        "m3@acct", "INBOX", MessageRef("7:3"), frozenset({"\\Seen"}), 1000.0, "delete",
        frozenset())
    assert (store.where_tracked("acct", "m2@acct").ref,
            store.where_tracked("acct", "m2@acct").learned) == ("", frozenset({"rescued"}))
    for stale in ("m0@acct", "stale@acct", "m9@acct"):
        assert store.where_tracked("acct", stale).ref == ""
    assert store.tracked("acct", "INBOX")  # the folder's index was made again
    assert store.folder_state("acct", "INBOX") == FolderState("7:41:900", 1200.0)
    assert store.synced_at("acct", "INBOX") == 1500.0
    assert store.folder_state("other", "INBOX") == FolderState("3:5:0", 0.0)
    store.close()


def test_a_failed_transaction_leaves_nothing_behind(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.record_decision("acct", "INBOX", MessageRef("7:1"), decision())
            raise RuntimeError("crash between decision and journal")
    assert not decided(store, "acct", "INBOX", MessageRef("7:1"))
    with store.transaction():  # and the connection is usable again
        store.record_decision("acct", "INBOX", MessageRef("7:1"), decision())
    assert decided(store, "acct", "INBOX", MessageRef("7:1"))


# -- decisions ----------------------------------------------------------------------------------
def test_a_decision_is_recorded_once_per_message(store):
    assert store.record_decision("acct", "INBOX", MessageRef("7:1"), decision()) is True
    assert store.record_decision("acct", "INBOX", MessageRef("7:1"),
                                 decision(action="delete", probability=0.01)) is False
    (row,) = store.decisions()
    assert (row.action, row.probability) == ("hold", 0.3)  # the first one stands


@pytest.mark.parametrize("key", [("other", "INBOX", "7:1"), ("acct", "Archive", "7:1"),
                                 ("acct", "INBOX", "8:1"), ("acct", "INBOX", "7:2")])
def test_any_part_of_the_key_makes_another_message(store, key):
    store.record_decision("acct", "INBOX", MessageRef("7:1"), decision())
    assert not decided(store, *key)
    assert store.record_decision(*key, decision()) is True
    assert decided(store, *key) and len(store.decisions()) == 2


def test_a_decision_row_holds_what_was_decided(store):
    store.record_decision("acct", "INBOX", MessageRef("7:1"), decision(probe=True))
    record = store.decision_for("acct", "m1@example.org")
    assert (record.folder, record.ref, record.sender, record.subject) == (
        "INBOX", "7:1", "alice@example.org", "Hello")
    assert (record.probe, record.queue, record.mode, record.decided_at) == (
        True, "screener", "active", 1000.0)
    assert record.reasons == [{"code": "score", "text": "30% likely wanted"}]
    assert store.decision(record.id) == record
    assert store.decision_for("acct", "unknown@example.org") is None


def test_a_decision_as_stored_is_its_database_row_so_status_json_keeps_its_shape(store):
    store.record_decision("acct", "INBOX", MessageRef("7:1"), decision(
        probe=True, sender_keys=["address:alice@example.org"], evidence={"history": {}}))
    (record,) = store.decisions()
    assert (record.ref, record.sender_keys, record.evidence) == (
        "7:1", ["address:alice@example.org"], {"history": {}})
    row = dict(store.db.execute("SELECT * FROM messages").fetchone())
    assert list(record.as_stored().items()) == list(row.items())


def test_outcomes_and_sender_behaviours_are_typed_rows(store):
    store.record_decision("acct", "INBOX", MessageRef("7:1"), decision(action="hold", mode="active"))
    store.record_reaction("acct", "m1@example.org", "rescued", "review", 1100.0)
    store.record_reaction("acct", "m1@example.org", "read", "flags INBOX", 1200.0)
    assert store.decision_outcomes() == [
        DecisionOutcome("acct", 1000.0, "hold", "active", 0.3, reversed=True)]
    assert store.sender_behaviours() == [SenderBehaviour("alice@example.org", "read", 1),
                                         SenderBehaviour("alice@example.org", "rescued", 1)]


def test_decisions_filter_by_account_time_and_action(store):
    store.record_decision("a", "INBOX", MessageRef("1:1"), decision("m1", at=100.0, action="pass"))
    store.record_decision("a", "INBOX", MessageRef("1:2"), decision("m2", at=200.0, action="hold"))
    store.record_decision("b", "INBOX", MessageRef("1:1"), decision("m3", at=300.0, action="hold"))
    ids = lambda rows: [row.message_id for row in rows]  # noqa: E731
    assert ids(store.decisions()) == ["m1", "m2", "m3"]
    assert ids(store.decisions(account="a")) == ["m1", "m2"]
    assert ids(store.decisions(since=150.0)) == ["m2", "m3"]
    assert ids(store.decisions(action="hold")) == ["m2", "m3"]
    assert ids(store.decisions(account="a", action="hold")) == ["m2"]


def test_decided_message_ids_leave_out_messages_without_one(store):
    store.record_decision("a", "INBOX", MessageRef("1:1"), decision("m1"))
    store.record_decision("a", "INBOX", MessageRef("1:2"), decision(""))
    store.record_decision("b", "INBOX", MessageRef("1:3"), decision("m3"))
    assert store.decided_message_ids("a") == {"m1"}


def test_decision_for_gives_the_latest_of_a_message_seen_twice(store):
    store.record_decision("a", "INBOX", MessageRef("1:1"), decision("m1", at=100.0, action="hold"))
    store.record_decision("a", "INBOX", MessageRef("2:1"), decision("m1", at=200.0, action="pass"))
    assert store.decision_for("a", "m1").action == "pass"


# -- the journal ----------------------------------------------------------------------------------
def test_an_intent_is_written_then_finished(store):
    entry = store.journal_intent("acct", "m1", "hold", "INBOX", "Held")
    (written,) = store.journal(state=INTENT)
    assert written == JournalEntry(entry, "acct", "m1", "hold", "INBOX", "Held", INTENT,
                                   written.created_at)
    store.journal_finish(entry, DONE)
    assert store.journal(state=INTENT) == []
    assert store.journal_entry(entry).state == DONE


def test_finishing_one_entry_leaves_the_others_open(store):
    first = store.journal_intent("acct", "m1", "hold", "INBOX", "Held")
    second = store.journal_intent("acct", "m2", "delete", "INBOX", "Trash")
    assert second > first
    store.journal_finish(first, FAILED, "message no longer in source")
    assert [e.id for e in store.journal(state=INTENT)] == [second]
    assert [e.id for e in store.journal(state=FAILED)] == [first]
    detail = store.db.execute("SELECT detail, done_at FROM journal WHERE id = ?", (first,))
    text, done_at = detail.fetchone()
    assert text == "message no longer in source" and done_at is not None


def test_journal_filters_by_account_and_state(store):
    a = store.journal_intent("a", "m1", "hold", "INBOX", "Held")
    b = store.journal_intent("b", "m2", "delete", "INBOX", "Trash")
    store.journal_finish(b, UNDONE)
    assert [e.id for e in store.journal("a")] == [a]
    assert [e.id for e in store.journal("b", state=UNDONE)] == [b]
    assert store.journal("a", state=UNDONE) == []
    assert [e.id for e in store.journal()] == [a, b]
    assert store.journal(since=store.journal_entry(b).created_at + 3600) == []


def test_an_unknown_journal_entry_is_none(store):
    assert store.journal_entry(404) is None


# -- feedback ------------------------------------------------------------------------------------
def test_feedback_is_recorded_and_undone(store):
    read = store.record_reaction("acct", "m1", "read_soon", "observer", 10.0)
    rescued = store.record_reaction("acct", "m2", "rescued", "observer", 20.0)
    store.record_reaction("other", "m3", "junked", "observer", 30.0)
    assert [(r.message_id, r.behaviour, r.at) for r in store.feedback("acct")] == [
        ("m1", "read_soon", 10.0), ("m2", "rescued", 20.0)]

    assert store.undo_feedback_of("acct", "m1", "observer", 10.0) == 1

    assert [r.id for r in store.feedback("acct")] == [rescued]
    everything = store.feedback("acct", include_undone=True)
    assert [(r.id, r.undone) for r in everything] == [(read, 1), (rescued, 0)]
    assert len(store.feedback()) == 2


# -- tracked messages ------------------------------------------------------------------------------
def test_a_tracked_message_is_found_by_its_folder(store):
    store.track("acct", "m1", "INBOX", MessageRef("1:5"), frozenset({"\\Seen", "$GkHeld"}), 100.0, "hold")
    store.track("acct", "m2", "Held", MessageRef(""), frozenset(), 100.0, "hold")
    assert store.tracked("acct", "INBOX") == [
        Tracked("m1", "INBOX", MessageRef("1:5"), frozenset({"\\Seen", "$GkHeld"}), 100.0, "hold", frozenset())]
    assert [t.message_id for t in store.tracked("acct", "Held")] == ["m2"]
    assert store.tracked("other", "INBOX") == []


def test_tracking_again_replaces_the_row(store):
    store.track("acct", "m1", "INBOX", MessageRef("1:5"), frozenset(), 100.0, "pass")
    store.track("acct", "m1", "Held", MessageRef("1:9"), frozenset(), 200.0, "hold")
    assert store.tracked("acct", "INBOX") == []
    assert [(t.ref, t.verdict) for t in store.tracked("acct", "Held")] == [("1:9", "hold")]


def test_update_tracked_changes_only_what_is_given(store):
    store.track("acct", "m1", "Held", MessageRef(""), frozenset({"\\Seen"}), 100.0, "hold")
    store.update_tracked("acct", "m1", ref=MessageRef("1:12"))
    store.update_tracked("acct", "m1", learned=frozenset({"read_soon", "flagged"}))
    (row,) = store.tracked("acct", "Held")
    assert row == Tracked("m1", "Held", MessageRef("1:12"), frozenset({"\\Seen"}), 100.0, "hold",
                          frozenset({"read_soon", "flagged"}))

    store.update_tracked("acct", "m1", folder="INBOX", ref=MessageRef(""), flags=frozenset())
    assert store.tracked("acct", "Held") == []
    (moved,) = store.tracked("acct", "INBOX")
    assert (moved.ref, moved.flags, moved.learned) == ("", frozenset(),
                                                       frozenset({"read_soon", "flagged"}))


def test_update_tracked_touches_no_other_message(store):
    store.track("acct", "m1", "INBOX", MessageRef("1:1"), frozenset(), 100.0, "pass")
    store.track("acct", "m2", "INBOX", MessageRef("1:2"), frozenset(), 100.0, "pass")
    store.track("other", "m1", "INBOX", MessageRef("1:3"), frozenset(), 100.0, "pass")
    store.update_tracked("acct", "m1", folder="Trash")
    assert [t.message_id for t in store.tracked("acct", "INBOX")] == ["m2"]
    assert [t.ref for t in store.tracked("other", "INBOX")] == ["1:3"]


# -- allow and block lists ------------------------------------------------------------------
def test_list_entries_are_kept_in_lower_case_without_spaces(store):
    store.add_to_list("allow", "  Friend@Example.ORG ")
    store.add_to_list("allow", "friend@example.org")
    store.add_to_list("block", "deals.example")
    assert store.list_entries("allow") == {"friend@example.org"}
    assert store.list_entries("block") == {"deals.example"}


def test_adding_to_one_list_takes_the_entry_off_the_other(store):
    store.add_to_list("allow", "news.example")
    store.add_to_list("block", "News.Example")
    assert store.list_entries("allow") == set()
    assert store.list_entries("block") == {"news.example"}
    store.add_to_list("allow", "news.example")
    assert (store.list_entries("allow"), store.list_entries("block")) == ({"news.example"}, set())


def test_removing_says_whether_the_entry_was_there(store):
    store.add_to_list("block", "deals.example")
    assert store.remove_from_list("allow", "deals.example") is False
    assert store.remove_from_list("block", " DEALS.example") is True
    assert store.remove_from_list("block", "deals.example") is False
    assert store.list_entries("block") == set()


def test_only_allow_and_block_lists_exist(store):
    with pytest.raises(sqlite3.IntegrityError):
        store.add_to_list("maybe", "x.example")


# -- folder state ------------------------------------------------------------------------------
def test_folder_state_is_saved_and_loaded_per_account_and_folder(store):
    assert store.folder_state("acct", "INBOX") is None
    store.save_folder_state("acct", "INBOX", FolderState("7:41:900"))
    store.save_folder_state("acct", "Held", FolderState("3:2:0"))
    assert store.folder_state("acct", "INBOX") == FolderState("7:41:900")
    assert store.folder_state("acct", "Held") == FolderState("3:2:0")
    assert store.folder_state("other", "INBOX") is None


def test_saving_folder_state_again_overwrites_it(store, path):
    store.save_folder_state("acct", "INBOX", FolderState("7:41:900"))
    store.save_folder_state("acct", "INBOX", FolderState("8:0:0"))
    assert store.folder_state("acct", "INBOX") == FolderState("8:0:0")
    store.close()
    reopened = Store(path)
    assert reopened.folder_state("acct", "INBOX") == FolderState("8:0:0")
    reopened.close()


def test_processes_opening_a_new_database_at_once_create_it_once(tmp_path):
    """The daemon and a `gatekeeper status` may both be first to open it."""
    import multiprocessing

    path = tmp_path / "race.db"
    context = multiprocessing.get_context("spawn")
    with context.Pool(6) as pool:
        results = pool.map(_open_and_count_tables, [path] * 12)
    assert len(set(results)) == 1 and results[0] > 0


def _open_and_count_tables(path):
    store = Store(path)
    try:
        return store.db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    finally:
        store.close()
