"""`gatekeeper demo`: the generated inbox, the whole run on a Maildir, and the command.

What the run left in the Maildir is checked with the standard library's own
`mailbox.Maildir`, so the checks do not go through gatekeeper's code.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import mailbox as stdlib_mailbox
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from email.header import decode_header, make_header

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.core.features import SHORTENERS
from gatekeeper.core.message import parse
from gatekeeper.demo import generate_inbox, run_demo
from gatekeeper.demo.cast import KINDS, PHISHING
from gatekeeper.demo.inbox import CALENDAR_DAYS, CALENDAR_START, SENT, kind_quotas
from gatekeeper.demo.run import prepare_folder
from gatekeeper.errors import InputError
from gatekeeper.mail.config import load_settings
from gatekeeper.testing import HashEmbedder

# Every header the generator may write: the reader's truth must never be among them.
HEADERS = {"received", "authentication-results", "dkim-signature", "from", "to", "cc",
           "subject", "date", "message-id", "in-reply-to", "references", "list-id",
           "list-unsubscribe", "list-unsubscribe-post", "precedence", "reply-to",
           "mime-version", "content-type", "content-transfer-encoding"}


@pytest.fixture(scope="module")
def inbox():
    return generate_inbox(400, seed=1)


def digest(generated) -> str:
    return hashlib.sha256(b"".join(m.raw for m in generated.received + generated.sent)).hexdigest()


# -- the generated inbox ---------------------------------------------------------------------
def test_the_same_seed_writes_the_same_inbox_and_another_seed_another(inbox):
    assert digest(generate_inbox(400, seed=1)) == digest(inbox)
    assert digest(generate_inbox(400, seed=2)) != digest(inbox)


def test_the_inbox_does_not_depend_on_the_process_hash_seed(inbox):
    script = ("import hashlib; from gatekeeper.demo import generate_inbox; i = generate_inbox(400, "
              "seed=1); print(hashlib.sha256(b''.join(m.raw for m in i.received + i.sent))"
              ".hexdigest())")
    for hash_seed in ("1", "2"):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                env={**os.environ, "PYTHONHASHSEED": hash_seed}, check=True)
        assert result.stdout.strip() == digest(inbox)


@pytest.mark.parametrize("count", [60, 199, 400, 1000])
def test_the_mix_of_kinds_is_as_promised(count):
    generated = generate_inbox(count, seed=5)
    kinds = Counter(mail.kind for mail in generated.received)
    assert sum(kinds.values()) == count
    assert kinds == kind_quotas(count) and set(kinds) == set(KINDS)
    wanted = sum(mail.wanted for mail in generated.received) / count
    assert 0.4 < wanted < 0.65


def test_messages_are_in_order_within_the_calendar(inbox):
    dates = [mail.when for mail in inbox.received]
    assert dates == sorted(dates)
    assert CALENDAR_START <= dates[0] and (dates[-1] - CALENDAR_START).days < CALENDAR_DAYS
    assert all(mail.when.weekday() < 5 for mail in inbox.received if mail.kind == "work")


def test_every_message_parses_cleanly_and_carries_real_headers(inbox):
    ids = set()
    for mail in inbox.received + inbox.sent:
        strict = email.message_from_bytes(mail.raw, policy=email.policy.strict)
        assert not strict.defects and not any(p.defects for p in strict.walk())
        assert {name.lower() for name in strict.keys()} <= HEADERS
        message = parse(mail.raw)
        assert message.defects == ()
        assert message.message_id == mail.message_id and message.subject == mail.subject
        assert message.date == mail.when.replace(microsecond=0)
        ids.add(message.message_id)
        if mail.kind != SENT:
            assert message.to == ("alex.morgan@fernmail.example",)
            assert message.auth_results.spf in ("pass", "fail", "softfail")
    assert len(ids) == len(inbox.received) + len(inbox.sent)


def test_bulk_mail_has_list_headers_and_one_click_unsubscribe(inbox):
    for mail in inbox.received:
        message = parse(mail.raw)
        bulk = mail.kind in ("newsletter", "promotion")
        assert message.is_bulk == bulk
        if bulk:
            assert message.list_id and message.list_unsubscribe
            assert message.list_unsubscribe_post == "List-Unsubscribe=One-Click"
            assert message.html and message.link_count >= 1


def test_phishing_fails_authentication_or_imitates_a_known_sender(inbox):
    phishing = [parse(m.raw) for m in inbox.received if m.kind == PHISHING]
    assert len(phishing) == kind_quotas(400)[PHISHING]
    genuine = {parse(m.raw).from_domain for m in inbox.received if m.kind != PHISHING}
    for message in phishing:
        assert message.auth_results.dmarc in ("fail", "none")
        assert message.from_domain not in genuine
        assert not message.dkim_domains
    hosts = {host for message in phishing for host in message.link_domains}
    assert hosts & SHORTENERS and any(host[0].isdigit() for host in hosts)


def test_conversations_are_threads_and_some_answer_the_reader(inbox):
    sent = {mail.message_id for mail in inbox.sent}
    replies = [parse(m.raw) for m in inbox.received if m.kind in ("personal", "work")]
    threaded = [m for m in replies if m.in_reply_to]
    assert len(threaded) > len(replies) / 3
    assert all(m.subject.startswith("Re: ") and m.in_reply_to == m.references[-1]
               for m in threaded)
    answering_the_reader = [m for m in threaded if m.in_reply_to in sent]
    assert len(answering_the_reader) >= 10
    assert all(parse(m.raw).from_address == "alex.morgan@fernmail.example" for m in inbox.sent)


def test_subjects_and_bodies_read_as_plain_english(inbox):
    for mail in inbox.received:
        message = parse(mail.raw)
        assert "{" not in message.text and "{" not in message.subject
        assert message.subject[0].isupper() or message.subject[0].isdigit()
    subjects = Counter(mail.subject for mail in inbox.received)
    assert len(subjects) > 0.6 * len(inbox.received)  # templates vary


# -- the whole run ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The demo with the fast model-free embedder: 200 messages, seed 3."""
    return run_demo(HashEmbedder(), tmp_path_factory.mktemp("demo") / "run", messages=200,
                    seed=3)


def test_the_run_never_deletes_wanted_mail_and_removes_most_unwanted_mail(run):
    new = sum(mail.when >= run.start for mail in generate_inbox(200, seed=3).received)
    assert len(run.decided) == new == 80
    assert run.wanted_deleted == 0
    assert run.unwanted_removed >= 0.9
    assert sum(mail.right for mail in run.decided) >= 0.9 * len(run.decided)
    assert run.verdicts["delete"]["messages"] >= 5 and run.verdicts["hold"]["unwanted"] >= 5


def test_the_run_learns_from_the_history_and_from_the_readers_reactions(run):
    assert run.training.examples >= 100 and run.training.correspondents >= 3
    assert {"read", "replied", "deleted_unread"} <= set(run.training.behaviours)
    assert {"read_soon", "replied", "deleted_from_held"} <= set(run.reactions)
    assert run.examples >= run.training.examples + sum(run.reactions.values()) - 5
    # The reader takes back the wanted mail it finds held (there may be none to take).
    rescued = [mail for mail in run.decided if mail.rescued]
    assert all(mail.wanted and mail.verdict == "hold" for mail in rescued)
    assert len(rescued) == run.reactions["rescued"]
    assert len(run.hold_rates()) == 2


def test_the_maildir_shows_what_the_gatekeeper_and_the_reader_did(run):
    maildir = stdlib_mailbox.Maildir(run.folder / "Mail", create=False)

    def subjects(folder: str) -> Counter:
        box = maildir if folder == "INBOX" else maildir.get_folder(folder)
        return Counter(str(make_header(decode_header(message["Subject"]))) for message in box)

    held, trash = subjects("Gatekeeper.Held"), subjects("Trash")
    for mail in run.decided:
        if mail.rescued:
            assert subjects("INBOX")[mail.subject] >= 1
        elif mail.verdict == "delete":
            assert trash[mail.subject] >= 1
    assert sum(held.values()) <= run.verdicts["hold"]["messages"]
    assert set(held) <= {m.subject for m in run.decided if m.verdict == "hold"}


def test_the_run_keeps_to_its_folder_and_leaves_a_home_to_look_around(run, private_home):
    assert not private_home.exists()  # the user's (here: the test's) home is never touched
    settings = load_settings(run.home / "config" / "config.toml")
    assert settings.mode == "active" and settings.interests == run.persona.interests
    (account,) = settings.accounts
    assert (account.kind, account.backend.path) == ("maildir", str(run.folder / "Mail"))
    result = CliRunner().invoke(main, ["status", "--json", "--last", "5"],
                                env={"GATEKEEPER_HOME": str(run.home)})
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["decisions"]) == 5


def test_a_folder_with_other_files_is_refused_and_an_earlier_demo_replaced(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        prepare_folder(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    earlier = prepare_folder(tmp_path / "demo")
    (earlier / "Mail").mkdir()
    (earlier / "Mail" / "stale").write_text("x")
    assert prepare_folder(tmp_path / "demo") == earlier and not (earlier / "Mail").exists()


# -- the command, with the real model -----------------------------------------------------------
@pytest.mark.model
def test_demo_command_prints_the_summary_and_writes_a_well_formed_report(tmp_path):
    report = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "demo"), "--messages", "80",
                                       "--html", str(report)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for expected in ("passed", "held", "deleted", "wanted mail deleted: 0", "hold rate: week 1",
                     f"report: {report}", "GATEKEEPER_HOME="):
        assert expected in result.output
    # The closing hint works as printed from a shell whose PATH lacks this installation
    # (the quick start's case: gatekeeper lives in .venv/bin).
    hint = next(line for line in result.output.splitlines() if line.startswith("look around: "))
    shown = subprocess.run(["bash", "-c", hint.removeprefix("look around: ")],
                           capture_output=True, text=True, timeout=120,
                           env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert shown.returncode == 0, shown.stderr
    assert "demo" in shown.stdout
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>\n")
    root = ElementTree.fromstring(page.split("\n", 1)[1])
    charts = root.findall(".//{http://www.w3.org/2000/svg}svg")
    assert len(charts) == 2 and all(chart.findall(".//{*}rect") for chart in charts)
    rows = root.findall(".//table")[-1].findall("./tbody/tr")  # every decision
    assert len(rows) > 10 and all(len(row.findall("td")) == 8 for row in rows)


def test_demo_command_refuses_a_folder_that_is_not_its_own(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "not empty" in result.output


@pytest.mark.model
def test_the_demo_with_the_real_model_at_reduced_size(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path), "--messages", "200",
                                       "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    verdicts = summary["verdicts"]
    assert sum(v.get("messages", 0) for v in verdicts.values()) == len(summary["decided"]) == 89
    assert summary["wanted_deleted"] == 0
    assert summary["unwanted_removed"] >= 0.9
    assert verdicts["pass"]["wanted"] >= 40
    assert summary["trained"]["heldout_auc"] >= 0.9
