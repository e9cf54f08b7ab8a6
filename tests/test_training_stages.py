"""Training learns the newest mail first, in stages, and each stage leaves a usable profile.

Over a Maildir with the hash embedder (no server, no model): what matters here is the
order of learning and what is recorded after each stage, checked against one training
of the whole history at once.
"""

from __future__ import annotations

import mailbox as stdlib_mailbox
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.core.brain import Brain
from gatekeeper.core.embed import EMBEDDERS
from gatekeeper.core.lesson import evidence_of
from gatekeeper.mail import training
from gatekeeper.mail.config import AccountConfig, paths
from gatekeeper.mail.mailbox import MaildirMailbox, MaildirSettings
from gatekeeper.mail.store import Store
from gatekeeper.testing import HashEmbedder, build_message

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def write_history(root, days: int = 30) -> int:
    """A month of mail as a reader left it: one message sent, space news read in the
    inbox, shop offers unread in Trash, one a day each. Returns the messages that say
    something (read or deleted unread)."""
    maildir = stdlib_mailbox.Maildir(root, create=True)
    folders = {name: maildir.add_folder(name) for name in ("Sent", "Trash")}
    sent = stdlib_mailbox.MaildirMessage(build_message(
        sender="Reader <me@home.example>", to="friend@pals.example", subject="Dinner?",
        body="Saturday?", date=NOW - timedelta(days=days), message_id="<dinner@home.example>"))
    sent.set_date((NOW - timedelta(days=days)).timestamp())
    folders["Sent"].add(sent)
    for n in range(days):
        day = NOW - timedelta(days=days - n, hours=1)
        for box, letters, raw in (
                (maildir, "S", build_message(
                    sender="Orbital Weekly <news@orbital.example>", date=day,
                    subject=f"Rocket launch report {n}", body=f"The rocket reached orbit {n}.",
                    message_id=f"<space-{n}@orbital.example>")),
                (folders["Trash"], "", build_message(
                    sender=f"Deals <promo{n}@shop.example>", date=day,
                    headers={"List-Id": "<deals.shop.example>"}, subject=f"Discount shoes {n}",
                    body=f"Cheap sneakers, coupon {n}, buy today!",
                    message_id=f"<deal-{n}@shop.example>"))):
            message = stdlib_mailbox.MaildirMessage(raw)
            message.set_date(day.timestamp())
            if letters:
                message.set_subdir("cur")
                message.set_flags(letters)
            box.add(message)
    return 2 * days


class Recorded:
    """Progress as told: each stage with its total, and what was advanced within it."""

    def __init__(self) -> None:
        self.stages: list[list] = []

    def stage(self, description: str, total: int) -> None:
        self.stages.append([description, total, 0])

    def advance(self, amount: int) -> None:
        self.stages[-1][2] += amount


def open_history(tmp_path, name: str):
    """(messages that say something, mailbox, store, brain) of a fresh history."""
    root = tmp_path / name
    said = write_history(root)
    box = MaildirMailbox(AccountConfig("local", MaildirSettings(path=str(root))))
    return said, box, Store(tmp_path / f"{name}.db"), Brain(HashEmbedder())


def run_training(tmp_path, name: str, first: int, monkeypatch, **callbacks):
    monkeypatch.setattr(training, "FIRST_STAGE", first)
    said, box, store, brain = open_history(tmp_path, name)
    report = training.train(box, brain, store, days=60, now=NOW.timestamp(), **callbacks)
    return said, store, brain, report


def lessons_in(store: Store) -> dict[str, tuple]:
    """Message-ID -> (behaviour, time, what its example holds) of each lesson training
    recorded."""
    def held(example):
        if example is None:
            return None
        return (example.label, example.weight, tuple(np.round(example.embedding, 6)),
                tuple(np.round(example.words.toarray().ravel(), 6)),
                tuple(np.round(example.signals, 6)), example.signal_names, example.note)

    return {r.message_id: (r.behaviour, r.lesson.at, held(r.lesson.example))
            for r in store.reactions("local") if r.source == training.SOURCE}


@pytest.mark.parametrize("count, expected", [
    (0, []), (5, [range(0, 5)]), (10, [range(0, 10)]),
    (11, [range(1, 11), range(0, 1)]), (27, [range(17, 27), range(0, 17)])])
def test_stages_cover_the_history_once_newest_first(count, expected, monkeypatch):
    monkeypatch.setattr(training, "FIRST_STAGE", 10)
    assert training.stages(count) == expected


def test_each_stage_is_recorded_and_learned_before_older_mail_is_read_by_the_model(
        tmp_path, monkeypatch):
    monkeypatch.setattr(training, "FIRST_STAGE", 10)
    said, box, store, brain = open_history(tmp_path, "staged")
    seen = []

    def learned(done: int, of: int) -> None:
        # What the store and the brain hold at this moment: the newest `done` only.
        recorded = [r for r in store.reactions("local") if r.behaviour != "sent"]
        seen.append((done, of, len(recorded), brain.profile.n_examples_,
                     min(r.lesson.at for r in recorded)))

    training.train(box, brain, store, days=60, now=NOW.timestamp(), learned=learned)
    assert said == 60
    assert [entry[:4] for entry in seen] == [(10, 60, 10, 10), (60, 60, 60, 60)]
    # Newest first: the first stage is the last five days (two messages a day).
    assert seen[0][4] == (NOW - timedelta(days=5, hours=1)).timestamp()
    assert seen[1][4] == (NOW - timedelta(days=30, hours=1)).timestamp()


def test_staged_training_records_exactly_what_one_training_of_everything_does(
        tmp_path, monkeypatch):
    _, staged_store, staged_brain, staged = run_training(tmp_path, "staged", 7, monkeypatch)
    _, whole_store, whole_brain, whole = run_training(tmp_path, "whole", 1000, monkeypatch)
    assert lessons_in(staged_store) == lessons_in(whole_store)
    assert staged.examples == whole.examples == 60
    assert staged.heldout_auc == whole.heldout_auc
    assert staged.last_week == whole.last_week
    # The same examples, fitted in another order (calibration folds interleave by order):
    # the same profile to well within what any threshold could tell apart.
    examples = evidence_of([r.lesson.example for r in whole_store.reactions("local")
                            if r.lesson is not None and r.lesson.example is not None])
    staged_p = staged_brain.profile.predict_proba(examples)[:, 1]
    whole_p = whole_brain.profile.predict_proba(examples)[:, 1]
    assert np.abs(staged_p - whole_p).max() < 1e-3


def test_progress_counts_what_it_says(tmp_path, monkeypatch):
    progress = Recorded()
    said, *_ = run_training(tmp_path, "counted", 10, monkeypatch, progress=progress)
    # Every message in the folders is read (one sent, 30 read, 30 in Trash); the ones that
    # say something are learned; each bar ends at its own total.
    assert progress.stages == [["reading your mail", 61, 61],
                               ["learning, newest first", said, said]]


def test_train_says_when_the_profile_is_usable_and_saves_it_then(tmp_path, monkeypatch):
    monkeypatch.setattr(training, "FIRST_STAGE", 10)
    write_history(tmp_path / "Mail")
    where = paths()
    where.config_file.parent.mkdir(parents=True, exist_ok=True)
    where.config_file.write_text(f'mode = "shadow"\n[[accounts]]\nname = "local"\n'
                                 f'kind = "maildir"\nmaildir = "{tmp_path / "Mail"}"\n')
    saves = []
    original = Brain.save

    def counted_save(self, folder):
        saves.append(self.profile.n_examples_)
        original(self, folder)

    monkeypatch.setattr(Brain, "save", counted_save)
    monkeypatch.setitem(EMBEDDERS, "onnx", lambda model, max_length, threads: HashEmbedder())
    result = CliRunner().invoke(main, ["train", "--days", "3650"])
    assert result.exit_code == 0, result.output
    assert "local: learned the newest 10 of 60 messages after" in result.output
    assert "saved the profile; learning older mail" in result.output
    assert saves == [10, 60]  # usable after the first stage, whole at the end
