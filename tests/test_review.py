"""`gatekeeper review` against a real Dovecot: listing, passing and deleting held mail,
with flags and with keystrokes through a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.mail.config import paths
from gatekeeper.mail.feedback import Observer
from gatekeeper.mail.mailbox import ImapMailbox
from gatekeeper.mail.store import DONE, Store

from conftest import account_for
from reader import PASSWORD, Reader, unwanted_message
from test_imap import HELD, new_brain, pipeline_for, write_config

pytestmark = pytest.mark.model


def hold_two(server) -> Reader:
    """Two messages held by a real pass in active mode; the reader's session returned."""
    write_config(server, mode="active")
    reader = Reader(server)
    for n in (1, 2):
        reader.deliver(unwanted_message(n))
    store = Store(paths().database)
    box = ImapMailbox(account_for(server), PASSWORD)
    assert [d.verdict for d in pipeline_for(box, store, "active", new_brain()).run_once()] == \
        ["hold", "hold"]
    box.close()
    store.close()
    return reader


def listed() -> list[dict]:
    result = CliRunner().invoke(main, ["review", "--list", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_listing_held_mail_needs_no_connection_to_the_server(server, monkeypatch):
    hold_two(server)

    def no_server(*args, **kwargs):
        raise AssertionError("review --list connected to the server")

    monkeypatch.setattr("gatekeeper.mail.mailbox.open_mailbox", no_server)
    assert [item["message_id"] for item in listed()] == [
        "unwanted-1@shoes.example", "unwanted-2@shoes.example"]


def test_review_lists_passes_and_deletes_held_mail_and_learns_once(server):
    reader = hold_two(server)
    first, second = listed()
    assert (first["message_id"], second["message_id"]) == (
        "unwanted-1@shoes.example", "unwanted-2@shoes.example")
    assert first["reasons"] and 0 <= first["probability"] < 0.8

    result = CliRunner().invoke(main, ["review", "--pass", str(first["id"]),
                                       "--delete", str(second["id"])])

    assert result.exit_code == 0, result.output
    assert f"{first['id']}: passed" in result.output and f"{second['id']}: deleted" in result.output
    assert set(reader.message_ids("INBOX")) == {"unwanted-1@shoes.example"}
    assert set(reader.message_ids("Trash")) == {"unwanted-2@shoes.example"}
    assert reader.message_ids(HELD) == {} and listed() == []
    store = Store(paths().database)
    assert [(r.behaviour, r.source) for r in store.feedback()] == [
        ("rescued", "review"), ("deleted_from_held", "review")]
    box = ImapMailbox(account_for(server), PASSWORD)
    assert Observer(box, new_brain(), store).observe(time.time()) == []  # not learned twice
    box.close()
    store.close()
    reader.close()


def test_undoing_a_delete_made_in_review_puts_it_back_in_review_and_takes_back_the_learning(server):
    reader = hold_two(server)
    first, _ = listed()
    assert CliRunner().invoke(main, ["review", "--delete", str(first["id"])]).exit_code == 0
    store = Store(paths().database)
    delete = next(e for e in store.journal(state=DONE) if e.kind == "delete")
    store.close()

    result = CliRunner().invoke(main, ["undo", str(delete.id)])

    assert result.exit_code == 0, result.output
    assert set(reader.message_ids(HELD)) == {"unwanted-1@shoes.example",
                                             "unwanted-2@shoes.example"}
    assert [item["message_id"] for item in listed()] == [
        "unwanted-1@shoes.example", "unwanted-2@shoes.example"]
    store = Store(paths().database)
    assert store.feedback() == []  # the review's deleted_from_held is undone
    box = ImapMailbox(account_for(server), PASSWORD)
    assert Observer(box, new_brain(), store).observe(time.time()) == []  # the move back is no news
    box.close()
    store.close()
    reader.close()


def test_review_of_an_unknown_id_says_how_to_list(server):
    hold_two(server).close()
    result = CliRunner().invoke(main, ["review", "--pass", "999"])
    assert result.exit_code != 0 and "gatekeeper review --list" in result.output


def run_in_terminal(keys: str, timeout: float = 60, **environment: str) -> str:
    """`gatekeeper review` on a pseudo-terminal, typing each key when it asks."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "gatekeeper", "review"], stdin=follower,
                               stdout=follower, stderr=follower,
                               env=dict(os.environ) | environment, close_fds=True)
    os.close(follower)
    output, pending = b"", list(keys)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if pending and output.rstrip().endswith(b"[q]uit:"):
                # A person reads first: click switches the terminal to raw mode after the
                # prompt, flushing anything typed before that.
                time.sleep(0.5)
                os.write(leader, pending.pop(0).encode())
        elif process.poll() is not None:
            break
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"review did not finish; it printed: {output[-2000:]!r}")
    finally:
        os.close(leader)
    return output.decode(errors="replace")


def test_interactive_review_takes_one_key_per_message(server):
    reader = hold_two(server)
    output = run_in_terminal("xpb")  # x is not a choice: asked again
    assert "[1/2]" in output and "[2/2]" in output and "Discount shoes sale 1" in output
    assert "reviewed: 1 passed, 0 deleted, 1 blocked and deleted, 0 skipped" in output
    assert "passed: back in INBOX" in output and "is on the block list" in output
    # Costs are unitless: counted in junk messages, never shown as money.
    assert "counted in junk messages left in your inbox" in output and "$" not in output
    assert set(reader.message_ids("INBOX")) == {"unwanted-1@shoes.example"}
    assert set(reader.message_ids("Trash")) == {"unwanted-2@shoes.example"}
    store = Store(paths().database)
    assert "deals@shoes.example" in store.list_entries("block")
    store.close()
    reader.close()


def test_opening_a_held_message_pages_its_text_and_review_goes_on(server, tmp_path):
    hold_two(server).close()
    paged = tmp_path / "paged.txt"
    output = run_in_terminal("ossq", PAGER=f"tee {paged}")
    assert "Cheap sneakers and boots, coupon code 1" in paged.read_text()
    assert "[2/2]" in output  # after the pager, the same message asks again, then the next


def test_explain_shows_a_held_decision_and_scores_a_file(server, tmp_path):
    hold_two(server).close()
    (first, _) = listed()
    result = CliRunner().invoke(main, ["explain", str(first["id"]), "--json"])
    assert result.exit_code == 0, result.output
    details = json.loads(result.output)
    assert (details["action"], details["subject"]) == ("hold", "Discount shoes sale 1")
    assert details["moves"] == [f"1: hold INBOX -> {HELD} (done)"] and details["reasons"]
    assert details["evidence_log_odds"]  # what the evidence added, as it was then
    assert {"history", "nearest_examples", "expected_costs"} <= set(details)

    path = tmp_path / "space.eml"
    path.write_bytes(unwanted_message(9))
    result = CliRunner().invoke(main, ["explain", str(path)])
    assert result.exit_code == 0, result.output
    assert "evidence_log_odds:" in result.output and "interests:" in result.output
    assert "action: hold" in result.output and "history:" in result.output


def test_a_shadow_decision_has_an_id_beside_its_subject_and_explains_as_it_was(server):
    write_config(server, mode="shadow")
    reader = Reader(server)
    reader.deliver(unwanted_message(1))
    store, box = Store(paths().database), ImapMailbox(account_for(server), PASSWORD)
    (decision,) = pipeline_for(box, store, "shadow", new_brain()).run_once()
    box.close()
    store.close()
    status = CliRunner().invoke(main, ["status"], env={"COLUMNS": "80"})
    row = next(line for line in status.output.splitlines() if "Discount shoes sale 1" in line)
    decision_id = row.strip("│ ").split()[0]
    assert decision_id.isdigit() and decision.verdict in row
    result = CliRunner().invoke(main, ["explain", decision_id, "--json"])
    assert result.exit_code == 0, result.output
    details = json.loads(result.output)
    assert (details["action"], details["mode"]) == (decision.verdict, "shadow")
    assert details["moves"] == []  # shadow moves nothing
    assert details["evidence_log_odds"] and details["expected_costs"]
    assert set(reader.message_ids("INBOX")) == {"unwanted-1@shoes.example"}
    reader.close()


def test_explain_an_unknown_id_says_where_ids_come_from(server):
    write_config(server)
    result = CliRunner().invoke(main, ["explain", "42"])
    assert result.exit_code != 0 and "gatekeeper status" in result.output
