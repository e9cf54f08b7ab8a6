"""A full disk or a read-only database stops the account with a clear message and loses
nothing; `gatekeeper status` still reads a database it cannot write (F13, F15). The disk
is a small tmpfs, really filled or remounted read-only (this needs root, as the Dovecot
tests do)."""

from __future__ import annotations

import errno
import mailbox as stdlib_mailbox
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.errors import StorageError
from gatekeeper.mail.config import AccountConfig, paths
from gatekeeper.mail.mailbox import MaildirSettings
from gatekeeper.mail.store import Store, storage_failure

from reader import unwanted_message, wait_for
from test_cli_commands import record_activity
from test_daemon import RunningDaemon, decided, settings_for


def mount_small_disk(where: Path, megabytes: int = 4) -> None:
    where.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs",
                             str(where)], capture_output=True, text=True)
    if result.returncode:
        pytest.fail(f"cannot mount a small tmpfs to fill ({result.stderr.strip()}): run the "
                    "tests as root, as ./scripts/test does", pytrace=False)


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB disk holding the gatekeeper home's data folder."""
    where = paths().data
    mount_small_disk(where)
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte; returns the file that does it."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    return filler


def maildir_account(tmp_path) -> AccountConfig:
    return AccountConfig("local", MaildirSettings(path=str(tmp_path / "Mail")), poll_seconds=1)


def all_mail(tmp_path) -> set[str]:
    maildir = stdlib_mailbox.Maildir(tmp_path / "Mail", create=False)
    folders = [maildir, *(maildir.get_folder(name) for name in maildir.list_folders())]
    return {message["Message-ID"] for folder in folders for message in folder.values()}


@pytest.fixture
def thread_crashes(monkeypatch) -> list:
    crashes: list = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    return crashes


def test_a_full_disk_stops_the_account_clearly_and_loses_nothing(small_disk, tmp_path,
                                                                thread_crashes):
    settings = settings_for(maildir_account(tmp_path))
    box = stdlib_mailbox.Maildir(tmp_path / "Mail", create=True)
    for n in range(3):
        box.add(unwanted_message(n))
    running = RunningDaemon(settings, start_at_existing=True)
    wait_for(lambda: len(decided()) == 3, what="the first decisions")
    running.stop()  # saves the profile, which the full disk must not spoil
    running = RunningDaemon(settings)
    wait_for(lambda: running.state("local") == "watching", what="the daemon to watch")
    filler = fill(small_disk)

    for n in range(3, 6):
        box.add(unwanted_message(n))

    wait_for(lambda: running.state("local") == "failed", timeout=20, what="the account to stop")
    running.thread.join(timeout=15)
    error = next(w.status.error for w in running.daemon.workers)
    assert "the disk is full: free some space" in error and "Nothing is lost" in error
    assert running.exit_code == 1 and thread_crashes == []
    assert all_mail(tmp_path) == {f"<unwanted-{n}@shoes.example>" for n in range(6)}

    filler.unlink()  # space again: a restart decides the rest, each message once
    running = RunningDaemon(settings)
    wait_for(lambda: len(decided()) == 6, timeout=20, what="the rest to be decided")
    running.stop()
    store = Store(paths().database)
    assert len(store.decisions()) == 6
    store.close()
    assert all_mail(tmp_path) == {f"<unwanted-{n}@shoes.example>" for n in range(6)}
    assert thread_crashes == []


def test_a_read_only_database_is_a_clear_message_and_status_still_reads_it(small_disk,
                                                                          tmp_path):
    paths().config.mkdir(parents=True)
    paths().config_file.write_text(f'[[accounts]]\nname = "local"\nkind = "maildir"\n'
                                   f'maildir = "{tmp_path / "Mail"}"\n')
    record_activity()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)

    for arguments in (["status"], ["status", "--json"], ["stats"], ["review", "--list"]):
        result = CliRunner().invoke(main, arguments, env={"COLUMNS": "200"})
        assert result.exit_code == 0, (arguments, result.output)
        assert "deals@shoes.example" in result.output or arguments[0] != "status"
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 2, result.output
    assert "it is read-only: make it writable" in result.output
    assert "Traceback" not in result.output


def test_a_database_that_cannot_be_written_is_a_storage_error(tmp_path):
    record_activity()
    reader = sqlite3.connect(f"{paths().database.as_uri()}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as raised:
        reader.execute("DELETE FROM messages")
    reader.close()
    assert "it is read-only" in str(storage_failure(raised.value, paths().database))

    store = Store(paths().database)
    store.db.execute("PRAGMA max_page_count = 1")  # SQLite's own "database or disk is full"
    with pytest.raises(sqlite3.OperationalError) as raised:
        store.db.execute("INSERT INTO lists VALUES ('allow', ?, 1.0)", ("x" * 9000,))
    store.close()
    assert isinstance(storage_failure(raised.value, paths().database), StorageError)
    assert "the disk is full" in str(storage_failure(raised.value, paths().database))
    assert storage_failure(ValueError("a bug"), paths().database) is None


def learned_brain(examples: int):
    from gatekeeper.core.brain import Brain
    from gatekeeper.core.message import parse
    from gatekeeper.testing import HashEmbedder

    brain = Brain(HashEmbedder())
    brain.set_interests(["rockets and space"])
    messages = [parse(unwanted_message(n)) for n in range(examples)]
    brain.learn_history(messages, brain.embed(messages), ["deleted_unread"] * examples,
                        [1e9 + n for n in range(examples)])
    return brain


def test_a_profile_saved_on_a_full_disk_keeps_the_last_copy_whole(small_disk):
    from gatekeeper.core.brain import Brain
    from gatekeeper.testing import HashEmbedder

    folder = small_disk / "profiles" / "local"
    learned_brain(5).save(folder)
    fill(small_disk)
    with pytest.raises(OSError):
        learned_brain(400).save(folder)  # more to write than the disk has
    assert Brain.load(folder, HashEmbedder()).profile.n_examples_ == 5
