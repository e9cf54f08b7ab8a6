"""Learning from the mailbox history: behaviours read from folders and flags, and
`gatekeeper train` against a real Dovecot with the real model."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.core.brain import Brain
from gatekeeper.core.message import parse
from gatekeeper.mail.config import paths
from gatekeeper.mail.training import behaviour_of
from gatekeeper.testing import build_message

from reader import Reader
from test_imap import write_config

NEWSLETTER = build_message(headers={"List-Id": "<deals.shop.example>"})


@pytest.mark.parametrize("role, flags, raw, age, expected", [
    ("junk", set(), NEWSLETTER, 1, "junked"),
    ("trash", set(), NEWSLETTER, 1, "deleted_unread"),
    ("trash", {"\\Seen"}, NEWSLETTER, 1, None),
    ("inbox", {"\\Seen", "\\Answered"}, NEWSLETTER, 1, "replied"),
    ("archive", {"\\Flagged"}, NEWSLETTER, 1, "flagged"),
    ("inbox", {"\\Seen"}, NEWSLETTER, 1, "read"),
    ("inbox", set(), NEWSLETTER, 30, "ignored"),
    ("inbox", set(), NEWSLETTER, 3, None),
    ("inbox", set(), build_message(), 30, None),  # personal mail not yet read: no verdict
])
def test_behaviour_is_read_from_folder_flags_and_age(role, flags, raw, age, expected):
    assert behaviour_of(role, frozenset(flags), parse(raw), age) == expected


def history(reader: Reader) -> None:
    now = datetime.now(timezone.utc)
    reader.deliver(build_message(sender="Alice <alice@example.org>", to="friend@pals.example",
                                 subject="Dinner?", body="Saturday at eight?"), "Sent")
    for n in range(8):
        day = now - timedelta(days=40 - 4 * n)
        reader.deliver(build_message(
            sender="Orbital Weekly <news@orbital.example>", date=day,
            subject=f"Rocket launch report {n}", body=f"The rocket reached orbit on mission {n}.",
            message_id=f"<space-{n}@orbital.example>"), flags=("\\Seen",))
        reader.deliver(build_message(
            sender=f"Deals <promo{n}@shop.example>", date=day, headers={"List-Id": "<deals.shop.example>"},
            subject=f"Discount shoes {n}", body=f"Cheap sneakers, coupon {n}, buy today!",
            message_id=f"<deal-{n}@shop.example>"), "Trash")


@pytest.mark.model
def test_train_learns_the_mailbox_history_and_reports_it(server):
    write_config(server, mode="shadow")
    reader = Reader(server)
    history(reader)
    reader.close()
    result = CliRunner().invoke(main, ["train", "--json", "--threads", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["alice"]
    assert report["messages"] == 17
    assert report["behaviours"] == {"read": 8, "deleted_unread": 8}
    assert report["examples"] == 16 and report["correspondents"] == 1
    assert report["heldout_auc"] == 1.0 and report["heldout_examples"] == 4
    from gatekeeper.core.embed import OnnxEmbedder

    brain = Brain.load(paths().profile_dir("alice"), OnnxEmbedder())
    assert brain.memory.is_correspondent("friend@pals.example")
    assert brain.profile.n_examples_ == 16
    keep, junk = brain.assess([
        parse(build_message(sender="Orbital Weekly <news@orbital.example>",
                            subject="Rocket launch report 9", body="The rocket reached orbit.")),
        parse(build_message(sender="Deals <promo9@shop.example>", subject="Discount shoes 9",
                            headers={"List-Id": "<deals.shop.example>"},
                            body="Cheap sneakers, coupon 9, buy today!"))])
    assert keep.probability > 0.5 > junk.probability


def test_train_refuses_zero_threads():
    result = CliRunner().invoke(main, ["train", "--threads", "0"])
    assert result.exit_code == 2 and "--threads" in result.output


def test_train_without_accounts_says_to_run_init():
    result = CliRunner().invoke(main, ["train"])
    assert result.exit_code != 0 and "gatekeeper init" in result.output
