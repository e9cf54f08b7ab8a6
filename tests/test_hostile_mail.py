"""Hostile mail never jams the pipeline or slips past it (issue 15): each stage isolates a
message that fails, the rest of the batch goes on, and the whole pipeline on a Maildir
takes a generated hostile corpus and random bytes without losing or skipping anything.

The embedder here holds texts to the real tokenizer's contract (it raises TypeError on
text it cannot encode) and fails on purpose on texts that say POISON.
"""

from __future__ import annotations

import logging
import mailbox as stdlib_mailbox
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.cli import main
from gatekeeper.core.brain import Brain
from gatekeeper.core.message import parse
from gatekeeper.core.policy import PolicySettings
from gatekeeper.errors import ConnectionLostError, MailboxError, StorageError
from gatekeeper.mail.config import AccountConfig, paths
from gatekeeper.mail.daemon import Watch
from gatekeeper.mail.feedback import Observer
from gatekeeper.mail.mailbox import MaildirMailbox, MaildirSettings, MessageRef
from gatekeeper.mail.pipeline import Pipeline, isolated
from gatekeeper.mail.store import FAILED, Store
from gatekeeper.terminal import InertFormatter
from gatekeeper.testing import HashEmbedder, build_message

import hostile_mail
from hostile_mail import ESCAPE
from reader import SPACE, unwanted_message, wanted_message

HELD = "Gatekeeper.Held"
FOLDERS = ("INBOX", HELD, "Trash")


class TokenizerLikeEmbedder(HashEmbedder):
    """HashEmbedder that takes only what the real tokenizer takes, and fails on POISON."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def embed_batch(self, texts):
        for text in texts:
            self.seen.append(text)
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                raise TypeError("TextEncodeInput must be Union[TextInputSequence, "
                                "Tuple[InputSequence, InputSequence]]") from error
            if "POISON" in text:
                raise RuntimeError("the model choked on this text")
        return super().embed_batch(texts)


def new_brain(embedder: HashEmbedder | None = None) -> Brain:
    brain = Brain(embedder or TokenizerLikeEmbedder(), settings=PolicySettings(probe_share=0.0))
    brain.set_interests([SPACE])
    return brain


def account(root: Path) -> AccountConfig:
    return AccountConfig("local", MaildirSettings(path=str(root)))


def deliver(root: Path, raw: bytes, folder: str = "INBOX") -> None:
    """As another program delivers: the bytes as they are, into new/."""
    maildir = stdlib_mailbox.Maildir(root, create=True)
    (maildir if folder == "INBOX" else maildir.get_folder(folder)).add(raw)


def stored(root: Path) -> Counter:
    """Every message in the Maildir's folders, as bytes."""
    maildir = stdlib_mailbox.Maildir(root, create=False)
    found: Counter = Counter()
    for folder in FOLDERS:
        box = maildir if folder == "INBOX" else maildir.get_folder(folder)
        found.update(box.get_bytes(key) for key in box.keys())
    return found


def poison(n: int) -> bytes:
    return build_message(subject=f"POISON {n}", body="Discount shoes and coupons.",
                         message_id=f"<poison-{n}@hostile.example>")


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "Mail"


# -- one bad message holds up no other ---------------------------------------------------------
def test_a_message_the_model_cannot_read_is_passed_unread_and_the_batch_goes_on(root, store):
    for n in range(6):
        deliver(root, poison(n) if n == 2 else unwanted_message(n))
    embedder = TokenizerLikeEmbedder()
    box = MaildirMailbox(account(root))
    delivered = box.refs("INBOX")
    pipeline = Pipeline(box, new_brain(embedder), store, "active", start_at_existing=True)

    decisions = pipeline.run_once()

    assert [d.ref for d in decisions] == delivered
    by_id = {d.message_id: d for d in decisions}
    bad = by_id["poison-2@hostile.example"]
    assert (bad.verdict, bad.error) == ("pass", "reading failed: RuntimeError: the model "
                                                "choked on this text")
    assert all(not d.error and d.verdict == "hold" for d in decisions if d is not bad)
    row = next(r for r in store.decisions() if r.message_id == "poison-2@hostile.example")
    assert row.error == bad.error and row.action == "pass"
    assert "poison-2@hostile.example" not in {t.message_id for t in store.tracked("local", "INBOX")}
    inbox = {m["Message-ID"] for m in stdlib_mailbox.Maildir(root).values()}
    assert inbox == {"<poison-2@hostile.example>"}  # passed: left where it was
    # Never tried again, by the pipeline or the observer.
    poisoned = sum("POISON" in text for text in embedder.seen)
    assert pipeline.run_once() == []
    Observer(pipeline.mailbox, pipeline.brain, store).observe(1e10)
    assert sum("POISON" in text for text in embedder.seen) == poisoned


def test_the_reported_utf7_poison_is_decided_like_any_other_message(root, store):
    utf7 = (b"From: a@example.org\r\nSubject: poison\r\nMessage-ID: <p1@example.org>\r\n"
            b"Content-Type: text/plain; charset=utf-7\r\n\r\n+2D0-\r\n")
    deliver(root, utf7)
    deliver(root, unwanted_message(1))
    decisions = Pipeline(MaildirMailbox(account(root)), new_brain(), store, "active",
                         start_at_existing=True).run_once()
    assert [(d.message_id, d.error) for d in decisions] == [
        ("p1@example.org", ""), ("unwanted-1@shoes.example", "")]


class MoveFailsFor(MaildirMailbox):
    """A Maildir whose server refuses to move one message (it went away, say)."""

    def __init__(self, config: AccountConfig, refused: int) -> None:
        super().__init__(config)
        self.refused = self.refs("INBOX")[refused]  # the n-th message in the inbox

    def move(self, folder: str, ref: MessageRef, target: str) -> MessageRef | None:
        if ref == self.refused:
            raise MailboxError(f"{self.account}: NO [SERVERBUG] cannot move {ref}")
        return super().move(folder, ref, target)


def test_a_move_that_fails_leaves_the_message_in_place_with_its_error(root, store):
    for n in range(4):
        deliver(root, unwanted_message(n))
    box = MoveFailsFor(account(root), refused=1)
    pipeline = Pipeline(box, new_brain(), store, "active", start_at_existing=True)

    decisions = pipeline.run_once()

    assert [d.verdict for d in decisions] == ["hold"] * 4
    assert [bool(d.error) for d in decisions] == [False, True, False, False]
    assert f"cannot move {box.refused}" in decisions[1].error
    assert [e.state for e in store.journal()] == ["done", FAILED, "done", "done"]
    inbox = {m["Message-ID"] for m in stdlib_mailbox.Maildir(root).values()}
    assert inbox == {"<unwanted-1@shoes.example>"}
    # Where it stayed is no news: no rescue is learned from a move that never happened.
    assert Observer(box, pipeline.brain, store).observe(1e10) == []
    assert pipeline.run_once() == []


class TrackFailsFor(Store):
    """A store that fails on one message's row (a value it cannot take, say)."""

    def track(self, account, message_id, *args, **kwargs):
        if message_id == "unwanted-1@shoes.example":
            raise ValueError("cannot store this value")
        super().track(account, message_id, *args, **kwargs)


def test_a_decision_that_cannot_be_recorded_is_passed_unread_and_the_batch_goes_on(root,
                                                                                  tmp_path):
    for n in range(3):
        deliver(root, unwanted_message(n))
    store = TrackFailsFor(tmp_path / "failing.db")
    pipeline = Pipeline(MaildirMailbox(account(root)), new_brain(), store, "active",
                        start_at_existing=True)

    decisions = pipeline.run_once()

    assert [(d.verdict, d.error) for d in decisions] == [
        ("hold", ""), ("pass", "deciding failed: ValueError: cannot store this value"),
        ("hold", "")]
    assert [e.state for e in store.journal()] == ["done", "done"]  # none half-journalled
    inbox = {m["Message-ID"] for m in stdlib_mailbox.Maildir(root).values()}
    assert inbox == {"<unwanted-1@shoes.example>"}
    assert pipeline.run_once() == []
    store.close()


def test_the_observer_learns_from_the_others_when_one_cannot_be_learned(root, store):
    embedder = TokenizerLikeEmbedder()
    box = MaildirMailbox(account(root))
    pipeline = Pipeline(box, new_brain(embedder), store, "active", start_at_existing=True)
    deliver(root, wanted_message(1))
    deliver(root, wanted_message(2))
    assert [d.verdict for d in pipeline.run_once()] == ["pass", "pass"]
    # The reader reads both; the first now says POISON to the model (as a message the
    # embedder cannot take would), so learning from it fails.
    maildir = stdlib_mailbox.Maildir(root)
    for key, message in list(maildir.items()):
        if "wanted-1" in message["Message-ID"]:
            message.replace_header("Subject", "POISON read")
        message.set_subdir("cur")
        message.add_flag("S")
        maildir[key] = message

    events = Observer(box, pipeline.brain, store).observe(1e10)

    assert sorted(e.message_id for e in events) == ["wanted-1@orbital.example",
                                                    "wanted-2@orbital.example"]
    assert [(r.message_id, r.behaviour) for r in store.feedback()] == [
        ("wanted-2@orbital.example", "read")]
    assert Observer(box, pipeline.brain, store).observe(1e10) == []  # not tried again


def test_status_shows_the_messages_it_could_not_read(root):
    deliver(root, poison(1))
    store = Store(paths().database)
    Pipeline(MaildirMailbox(account(root)), new_brain(), store, "active",
             start_at_existing=True).run_once()
    store.close()
    result = CliRunner().invoke(main, ["status"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "1 messages it could not read or move" in result.output
    assert "reading failed: RuntimeError: the model choked on this text" in result.output
    report = CliRunner().invoke(main, ["status", "--json"]).output
    assert '"count": 1' in report and "POISON 1" in report


@pytest.mark.parametrize(("error", "one_message"), [
    (RuntimeError("the model choked"), True), (TypeError("TextEncodeInput must be"), True),
    (MailboxError("NO [SERVERBUG]"), True), (sqlite3.IntegrityError("NOT NULL failed"), True),
    (ConnectionLostError("connection lost"), False),
    (sqlite3.OperationalError("database or disk is full"), False),
    (sqlite3.DatabaseError("database disk image is malformed"), False),
    (StorageError("cannot write"), False),
])
def test_what_concerns_one_message_and_what_stops_the_pass(error, one_message):
    assert isolated(error) is one_message


# -- the whole pipeline on hostile and random mail --------------------------------------------
class TerminalLines(logging.Handler):
    """Log lines as a terminal would get them from `gatekeeper run`."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(InertFormatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def run_everything(home: Path, mails: list[bytes]) -> None:
    """Deliver `mails`, run the daemon's wake-up twice in active mode, look at the result
    with every command a reader would use, and check the promises of issue 15."""
    root = home / "Mail"
    home.mkdir(parents=True, exist_ok=True)
    MaildirMailbox(account(root)).folders()
    for raw in mails:
        deliver(root, raw)
    delivered = stored(root)
    lines = TerminalLines()
    logger = logging.getLogger("gatekeeper")
    logger.addHandler(lines)
    logger.setLevel(logging.DEBUG)
    store = Store(paths().database)
    try:
        watch = Watch(MaildirMailbox(account(root)), new_brain(), store, "active",
                      start_at_existing=True)
        decisions = watch.step(now=2e9)
        assert watch.step(now=2e9 + 60) == []  # nothing decided twice
    finally:
        logger.removeHandler(lines)
        store.close()
    assert len({d.ref for d in decisions}) == len(decisions) == len(mails)  # every one, once
    assert stored(root) == delivered  # none lost, none changed
    output = lines.lines
    for arguments in (["status"], ["review", "--list"], ["stats"],
                      *(["explain", str(n)] for n in range(1, 4))):
        result = CliRunner().invoke(main, arguments, env={"COLUMNS": "200"})
        assert result.exit_code in (0, 2), result.output  # 2: no such journal ID
        output += result.output.splitlines()
    assert not [line for line in output if ESCAPE in line]


def unique_ids(mails: list[bytes]) -> bool:
    """Whether no two messages share a Message-ID (sharing one is F3, tested apart)."""
    ids = [parse(raw).message_id for raw in mails]
    ids = [i for i in ids if i]
    return len(ids) == len(set(ids))


def test_every_kind_of_hostile_mail_in_one_batch(tmp_path, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_HOME", str(tmp_path / "home"))
    mails = [raw for _, raw in hostile_mail.corpus(copies=2)] + [wanted_message(1)]
    assert unique_ids(mails)
    run_everything(tmp_path / "home", mails)


_examples = iter(range(10**9))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.one_of(
    st.binary(max_size=3000),
    st.tuples(st.sampled_from(hostile_mail.KINDS), st.integers(0, 10**6)).map(
        lambda kind_n: hostile_mail.kind(*kind_n)),
    st.builds(lambda head, tail: head + b"\r\n\r\n" + tail,
              st.binary(max_size=300), st.binary(max_size=2000))), min_size=1, max_size=10))
def test_random_and_hostile_mail_is_decided_once_never_lost_and_printed_inertly(
        tmp_path, monkeypatch, mails):
    if not unique_ids(mails):
        return  # one Message-ID for two messages: F3, tested apart
    home = tmp_path / f"example-{next(_examples)}"
    monkeypatch.setenv("GATEKEEPER_HOME", str(home))
    run_everything(home, mails)


def test_a_different_message_reusing_a_message_id_is_decided_like_any_other(root, store):
    pipeline = Pipeline(MaildirMailbox(account(root)), new_brain(), store, "active",
                        start_at_existing=True)
    deliver(root, build_message(subject="Your order", body="Thanks for your order.",
                                message_id="<fixed@bulk.example>"))
    (first,) = pipeline.run_once()
    deliver(root, build_message(subject="Cheap pills", body="Buy cheap pills now.",
                                message_id="<fixed@bulk.example>"))
    (second,) = pipeline.run_once()
    assert second.ref != first.ref
