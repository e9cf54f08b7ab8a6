"""What mail says reaches a terminal as text: no rich markup interpreted, no escape
sequence or other control character passed through (F6, F7)."""

from __future__ import annotations

import logging
import mailbox as stdlib_mailbox
import re
import time

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.mail.config import paths
from gatekeeper.mail.mailbox import ImapMailbox, MessageRef
from gatekeeper.mail.store import DONE, Store
from gatekeeper.terminal import InertFormatter, inert, safe_console

from conftest import account_for
from hostile_mail import ESCAPE, TERMINAL_TRICKS
from reader import PASSWORD, Reader, unwanted_message
from test_imap import new_brain, pipeline_for, write_config
from test_review import run_in_terminal

SUBJECT = "[/bold][link=https://evil.example/pay]pay[/link]\x1b]0;t\x07\x1b[2J\u202e"
SENDER = "\x1b[31mceo@bank.example\x1b[0m [/red]"
MESSAGE_ID = "trick\x1b]0;title\x07@hostile.example"
HELD = "Held\x1b[2J"  # a folder name the server (or another client) chose


@pytest.mark.parametrize(("text", "shown"), [
    ("\x1b[2J", "\\x1b[2J"),
    ("bell\x07", "bell\\x07"),
    ("C1 \x9b31m", "C1 \\x9b31m"),
    ("\u202egnp.exe", "\\u202egnp.exe"),
    ("two\nlines\tand a tab", "two\\nlines\\tand a tab"),
    ("[/bold] [link=https://x.example]y[/link]", "[/bold] [link=https://x.example]y[/link]"),
    ("Grüße, 中文 and emoji 🚀", "Grüße, 中文 and emoji 🚀"),
])
def test_inert_makes_control_characters_visible_and_keeps_the_rest(text, shown):
    assert inert(text) == shown


def test_inert_keeps_the_lines_of_a_body_shown_whole():
    assert inert("line one\n\tline two\x1b[2J", lines=True) == "line one\n\tline two\\x1b[2J"


def test_the_console_prints_markup_as_written(capsys):
    safe_console().print("[/bold] :warning: [link=https://evil.example]pay[/link]")
    assert capsys.readouterr().out == "[/bold] :warning: [link=https://evil.example]pay[/link]\n"


def test_log_lines_are_inert_and_one_line_each():
    record = logging.LogRecord("gatekeeper.mail.pipeline", logging.INFO, __file__, 1,
                               "%s: learned from %s", ("alice", MESSAGE_ID + "\nforged line"), None)
    line = InertFormatter("%(levelname)s %(message)s").format(record)
    assert ESCAPE not in line and "\n" not in line and "\\x1b]0;title" in line


# -- the commands -------------------------------------------------------------------------
def record_hostile_activity() -> int:
    """A hostile message decided, held and reacted to, as the store would hold it."""
    store = Store(paths().database)
    store.record_decision("personal", "INBOX", MessageRef("7:1"), {
        "message_id": MESSAGE_ID, "content_hash": "h", "sender": SENDER, "subject": SUBJECT,
        "action": "hold", "probability": 0.3, "mode": "active",
        "reasons": [{"code": "unsure", "text": f"unsure about {SENDER}"}]})
    entry = store.journal_intent("personal", MESSAGE_ID, "hold", "INBOX", HELD)
    store.journal_finish(entry, DONE)
    store.track("personal", MESSAGE_ID, HELD, MessageRef(""), frozenset(), 1.0, "hold")
    store.record_reaction("personal", MESSAGE_ID, "deleted_unread", "flags INBOX", time.time())
    store.close()
    return entry


def personal_maildir_account(tmp_path) -> None:
    stdlib_mailbox.Maildir(tmp_path / "Mail", create=True).add_folder(HELD)
    paths().config.mkdir(parents=True, exist_ok=True)
    paths().config_file.write_text(f'[[accounts]]\nname = "personal"\nkind = "maildir"\n'
                                   f'maildir = "{tmp_path / "Mail"}"\n')


def assert_inert(output: str) -> None:
    assert ESCAPE not in output and "\x9b" not in output and "\u202e" not in output, output
    assert not re.search("[\x00-\x08\x0b-\x1f]", output.replace("\r\n", "\n")), output


@pytest.mark.parametrize("arguments", [
    ["status"], ["status", "--json"], ["review", "--list"], ["review", "--list", "--json"],
    ["explain", "ENTRY"], ["explain", "ENTRY", "--json"], ["stats"], ["undo", "ENTRY"],
])
def test_commands_print_hostile_mail_as_inert_text(arguments, tmp_path):
    personal_maildir_account(tmp_path)
    entry = record_hostile_activity()
    arguments = [str(entry) if a == "ENTRY" else a for a in arguments]
    result = CliRunner().invoke(main, arguments, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert_inert(result.output)
    if arguments == ["stats"]:
        assert "\\x1b[31mceo@bank.example" in result.output
    if "--json" not in arguments and arguments[0] in ("status", "review", "explain"):
        assert "[/bold]" in result.output and "[link=https://evil.example/pay]" in result.output
        assert "\\x1b" in result.output  # shown, not hidden


def test_an_error_quoting_a_server_or_mail_says_it_inertly(tmp_path):
    personal_maildir_account(tmp_path)
    result = CliRunner().invoke(main, ["score", str(tmp_path / "no\x1b[2Jsuch.eml")])
    assert result.exit_code == 2 and "\\x1b[2J" in result.output
    assert_inert(result.output)


@pytest.mark.model
@pytest.mark.parametrize("command", ["score", "explain"])
def test_score_and_explain_print_a_hostile_message_inertly(tmp_path, command):
    personal_maildir_account(tmp_path)  # explain scores it against this account's profile
    path = tmp_path / "hostile.eml"
    path.write_bytes(f"From: {SENDER} <a@hostile.example>\r\nSubject: {SUBJECT}\r\n"
                     f"Message-ID: <{MESSAGE_ID}>\r\n\r\nbody [/bold]\r\n"
                     .replace("\r\n", "\n").replace("\r", "").replace("\n", "\r\n").encode())
    result = CliRunner().invoke(main, [command, str(path)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert_inert(result.output)
    assert "[/bold]" in result.output


@pytest.mark.model
def test_simulate_prints_a_hostile_campaign_inertly(tmp_path):
    path = tmp_path / "campaign.eml"
    path.write_bytes(f"From: Shop <news@shop.example>\r\nSubject: [/bold] {TERMINAL_TRICKS[2]}\r\n"
                     "Content-Type: text/plain\r\n\r\nBuy [/bold] now. \x1b[2J Cheap "
                     "shoes.\r\n".encode())
    result = CliRunner().invoke(main, ["simulate", str(path), "--recipients", "200"],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert_inert(result.output)
    assert "[/bold]" in result.output


@pytest.mark.model
def test_interactive_review_shows_a_hostile_held_message_inertly(server):
    write_config(server, mode="active")
    reader = Reader(server)
    reader.deliver(unwanted_message(1)
                   .replace(b"Discount shoes sale 1", TERMINAL_TRICKS[2].encode())
                   .replace(b"Cheap sneakers", TERMINAL_TRICKS[3].encode()))
    reader.close()
    store, box = Store(paths().database), ImapMailbox(account_for(server), PASSWORD)
    assert [d.verdict for d in pipeline_for(box, store, "active", new_brain()).run_once()] == \
        ["hold"]
    box.close()
    store.close()
    # open the message in full, then quit; `cat` shows the text handed to the pager as it is,
    # where `less` (installed on CI machines) would add escapes of its own
    output = run_in_terminal("oq", PAGER="cat")
    assert "subject: \\x1b]0;window title" in output  # the subject
    assert output.count("\\x9b31m C1 CSI \\u202egnp.exe") == 2  # the snippet, then the text
    assert ESCAPE not in output, output
