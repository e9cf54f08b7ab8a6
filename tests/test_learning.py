"""The learning loop's rule: reactions in the store are the truth, a brain a checkpoint.

Recorded reactions are learned once, by whichever brain catches up; a brain saved before
some of them (a daemon killed between checkpoints) learns them when it is opened again; a
reaction taken back is forgotten; a checkpoint that cannot be used is relearned from the
store, and a relearned brain scores like one that learned as it went.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from gatekeeper.core.brain import CHECKPOINT, Brain
from gatekeeper.core.lesson import decode, encode
from gatekeeper.core.message import parse
from gatekeeper.core.policy import PolicySettings
from gatekeeper.mail.account import Account, load_brain
from gatekeeper.mail.config import AccountConfig, Paths, Settings
from gatekeeper.mail.mailbox import MaildirSettings
from gatekeeper.mail.feedback import record_reaction
from gatekeeper.mail.homelock import DAEMON, HomeLock
from gatekeeper.mail.learning import ONLINE_LIMIT, catch_up
from gatekeeper.mail.store import Store
from gatekeeper.testing import HashEmbedder, build_message

ACCOUNT = "personal"
DAY = 86400.0
EMBEDDER = HashEmbedder()


def newsletter(i: int) -> bytes:
    return build_message(sender="Orbital <news@orbital.example>", subject=f"rocket launch {i}",
                         body=f"The rocket reached orbit, issue {i}.",
                         message_id=f"<n{i}@orbital.example>")


def promotion(i: int) -> bytes:
    return build_message(sender="Deals <deals@shop.example>", subject=f"discount sale {i}",
                         body="Huge discount, buy now.", message_id=f"<p{i}@shop.example>")


@pytest.fixture
def home(tmp_path) -> Paths:
    return Paths.under(tmp_path / "home")


@pytest.fixture
def settings(tmp_path) -> Settings:
    config = AccountConfig(ACCOUNT, MaildirSettings(path=str(tmp_path / "Mail")))
    return Settings(accounts=(config,), interests=("space and rockets",),
                    policy=PolicySettings(probe_share=0.0))


def react(brain: Brain, store: Store, n: int, start: int = 0) -> list[int]:
    """The reader reads `n` newsletters and deletes `n` promotions unread."""
    ids = []
    for i in range(start, start + n):
        for raw, behaviour in ((newsletter(i), "read_soon"), (promotion(i), "deleted_unread")):
            message = parse(raw)
            ids.append(record_reaction(brain, store, ACCOUNT, message, message.message_id,
                                       behaviour, "flags INBOX", i * DAY))
    return ids


def live_example_ids(store: Store) -> set[int]:
    return {r.id for r in store.reactions(ACCOUNT, undone=False) if r.lesson.example}


def test_a_lesson_survives_the_store_byte_for_byte():
    brain = Brain(EMBEDDER)
    lesson = brain.lesson(parse(promotion(1)), "junked", 5 * DAY)
    again = decode(encode(lesson))
    assert (again.behaviour, again.at, again.keys, again.message_id) == \
        (lesson.behaviour, lesson.at, lesson.keys, lesson.message_id)
    assert again.example.label == 0 and again.example.weight == 3.0
    np.testing.assert_array_equal(again.example.embedding, lesson.example.embedding)
    np.testing.assert_array_equal(again.example.signals, lesson.example.signals)
    assert (again.example.words != lesson.example.words).nnz == 0
    assert again.example.signal_names == lesson.example.signal_names


def test_recorded_reactions_are_learned_once(home, settings):
    store = Store(home.database)
    brain = load_brain(ACCOUNT, settings, home, store, EMBEDDER)
    ids = react(brain, store, 3)
    first = catch_up(brain, store, ACCOUNT)
    again = catch_up(brain, store, ACCOUNT)
    assert (first.learned, again.learned) == (6, 0)
    assert set(brain.profile.examples_.ids) == set(ids)
    assert brain.applied.reactions == ids[-1]


def test_a_brain_saved_before_some_reactions_learns_them_when_opened(home, settings):
    """A daemon killed between checkpoints: what it recorded after its last one is
    learned when the account is opened again, and nothing twice."""
    store = Store(home.database)
    brain = load_brain(ACCOUNT, settings, home, store, EMBEDDER)
    react(brain, store, 3)
    catch_up(brain, store, ACCOUNT)
    brain.save(home.profile_dir(ACCOUNT))
    later = react(brain, store, 2, start=3)  # recorded, then the process dies

    account = Account.open(settings.accounts[0], settings, home, EMBEDDER, "test")
    examples = list(account.brain.profile.examples_.ids)
    account.close()
    assert sorted(examples) == sorted(live_example_ids(store))
    assert set(later) <= set(examples)


def test_the_daemon_saving_after_a_replay_keeps_the_brain_it_decides_with(home, settings):
    """A daemon opened on a checkpoint older than the store (a replay at start) saves that
    same brain: swapping in a reloaded one would leave its pipeline deciding with a brain
    that no longer learns what commands record beside it."""
    store = Store(home.database)
    brain = load_brain(ACCOUNT, settings, home, store, EMBEDDER)
    react(brain, store, 2)
    catch_up(brain, store, ACCOUNT)
    brain.save(home.profile_dir(ACCOUNT))
    react(brain, store, 2, start=2)  # recorded after the checkpoint, replayed at open
    daemon = Account.open(settings.accounts[0], settings, home, EMBEDDER, DAEMON)
    deciding = daemon.brain
    assert daemon.lock.acquire(DAEMON)
    daemon.save()
    react(deciding, daemon.store, 1, start=4)  # what a command records beside it
    daemon.catch_up()
    daemon.save()
    daemon.lock.release()
    daemon.close()
    assert daemon.brain is deciding
    assert set(deciding.profile.examples_.ids) == live_example_ids(store)
    saved = Brain.load(home.profile_dir(ACCOUNT), EMBEDDER)
    assert set(saved.profile.examples_.ids) == live_example_ids(store)


def test_a_reaction_taken_back_is_forgotten_by_every_brain(home, settings):
    store = Store(home.database)
    brain = load_brain(ACCOUNT, settings, home, store, EMBEDDER)
    ids = react(brain, store, 3)
    catch_up(brain, store, ACCOUNT)
    brain.save(home.profile_dir(ACCOUNT))
    store.db.execute("UPDATE feedback SET undone = 1 WHERE id = ?", (ids[1],))

    caught = catch_up(brain, store, ACCOUNT)
    reopened = load_brain(ACCOUNT, settings, home, store, EMBEDDER)

    assert caught.forgotten == 1
    for learned in (brain, reopened):
        assert set(learned.profile.examples_.ids) == live_example_ids(store)
        address = learned.memory.get("address:deals@shop.example")
        assert address.count("deleted_unread", 3 * DAY) == pytest.approx(
            sum(0.5 ** ((3 - i) / 90) for i in (1, 2)), rel=1e-9)


@pytest.mark.parametrize("damage", ["schema", "unreadable"])
def test_a_checkpoint_that_cannot_be_used_is_relearned_from_the_reactions(home, settings, damage):
    store = Store(home.database)
    brain = load_brain(ACCOUNT, settings, home, store, EMBEDDER)
    react(brain, store, 4)
    catch_up(brain, store, ACCOUNT)
    brain.profile.consolidate()
    brain.save(home.profile_dir(ACCOUNT))
    path = home.profile_dir(ACCOUNT) / CHECKPOINT
    if damage == "unreadable":
        path.write_bytes(b"\x00" * 64)
    else:  # saved by a version with one signal fewer
        with np.load(path) as data:
            arrays = dict(data)
        meta = json.loads(arrays["meta"].tobytes())
        meta["profile"]["schema"]["signals"].pop()
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
        np.savez(path, **arrays)

    relearned = load_brain(ACCOUNT, settings, home, store, EMBEDDER)

    assert set(relearned.profile.examples_.ids) == live_example_ids(store)
    probe = [parse(newsletter(99)), parse(promotion(99))]
    np.testing.assert_allclose([a.probability for a in relearned.assess(probe, now=5 * DAY)],
                               [a.probability for a in brain.assess(probe, now=5 * DAY)],
                               atol=0.02)


def test_many_reactions_at_once_are_learned_by_one_refit(home, settings):
    store = Store(home.database)
    brain = load_brain(ACCOUNT, settings, home, store, EMBEDDER)
    react(brain, store, ONLINE_LIMIT)
    refits = []
    original = brain.profile.consolidate
    brain.profile.consolidate = lambda now=None: refits.append(now) or original(now)
    catch_up(brain, store, ACCOUNT)
    assert len(refits) == 1 and brain.profile.n_examples_ == 2 * ONLINE_LIMIT


def test_a_legacy_brain_takes_what_the_store_holds_to_be_learned(home, settings):
    store = Store(home.database)
    scratch = Brain(EMBEDDER)
    react(scratch, store, 2)  # recorded by a version that learned it into brain.json
    brain = Brain(EMBEDDER)
    brain.applied = None
    catch_up(brain, store, ACCOUNT)
    assert brain.applied.reactions == store.last_reaction(ACCOUNT)
    assert brain.profile.n_examples_ == 0  # not learned a second time


def test_a_command_never_saves_over_a_newer_checkpoint(home, settings):
    """A review opened before the daemon saved: its save learns on top of the daemon's."""
    store = Store(home.database)
    brain = load_brain(ACCOUNT, settings, home, store, EMBEDDER)
    react(brain, store, 2)
    review = Account.open(settings.accounts[0], settings, home, EMBEDDER, "review")
    daemon = Account.open(settings.accounts[0], settings, home, EMBEDDER, DAEMON)
    react(daemon.brain, daemon.store, 2, start=2)
    assert daemon.lock.acquire(DAEMON)
    daemon.save()
    daemon.lock.release()
    daemon.close()

    assert review.commit().by == "this command"
    review.close()
    saved = Brain.load(home.profile_dir(ACCOUNT), EMBEDDER)
    assert set(saved.profile.examples_.ids) == live_example_ids(store)


def test_a_command_beside_a_running_daemon_leaves_the_checkpoint_to_it(home, settings):
    lock = HomeLock(home.lock_file)
    assert lock.acquire(DAEMON)
    try:
        account = Account.open(settings.accounts[0], settings, home, EMBEDDER, "review")
        react(account.brain, account.store, 1)
        account_status = {"accounts": {ACCOUNT: {"learned_up_to": 0}}}
        home.status_file.write_text(json.dumps(account_status))
        committed = account.commit()
        account.close()
    finally:
        lock.release()
    assert committed.by.startswith("the daemon (pid ") and committed.pending == 2
    assert not (home.profile_dir(ACCOUNT) / CHECKPOINT).exists()
