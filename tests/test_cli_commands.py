"""The commands that change settings and local state: mode, allow, block, status, undo,
service. Run through click's CliRunner in a private GATEKEEPER_HOME, with no server."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.mail.config import default_config_text, load_settings, paths
from gatekeeper.mail.daemon import AccountStatus
from gatekeeper.mail.homelock import DAEMON, HomeLock
from gatekeeper.mail.insight import TIME_SAVED_ASSUMPTION
from gatekeeper.mail.mailbox import MessageRef
from gatekeeper.mail.store import DONE, Store


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def stored_lists() -> tuple[set[str], set[str]]:
    store = Store(paths().database)
    try:
        return store.list_entries("allow"), store.list_entries("block")
    finally:
        store.close()


# -- mode ---------------------------------------------------------------------------------------
def test_mode_writes_the_commented_default_with_the_new_mode(runner):
    result = runner.invoke(main, ["mode", "tag"])
    assert result.exit_code == 0, result.output
    path = paths().config_file
    assert f"mode is now tag ({path})" in result.output
    assert path.read_text() == default_config_text().replace('mode = "shadow"', 'mode = "tag"')
    assert load_settings().mode == "tag"


def test_mode_changes_an_existing_file_and_keeps_the_rest(runner):
    path = paths().config_file
    path.parent.mkdir(parents=True)
    text = ('# mine\nmode = "tag"\ninterests = ["rockets"]\n\n[[accounts]]\nname = "local"\n'
            'kind = "maildir"\nmaildir = "~/Mail"\n')
    path.write_text(text)
    result = runner.invoke(main, ["mode", "active"])
    assert result.exit_code == 0, result.output
    assert path.read_text() == text.replace('mode = "tag"', 'mode = "active"')


def test_mode_refuses_an_unknown_mode_and_writes_nothing(runner):
    result = runner.invoke(main, ["mode", "loud"])
    assert result.exit_code == 2
    assert "'loud' is not one of 'shadow', 'tag', 'active'" in result.output
    assert not paths().config_file.exists()


def test_mode_does_not_write_over_a_broken_settings_file(runner):
    path = paths().config_file
    path.parent.mkdir(parents=True)
    path.write_text('mode = "shadow"\ncolour = "blue"\n')
    result = runner.invoke(main, ["mode", "active"])
    assert result.exit_code == 2
    assert "error:" in result.output and "unknown setting(s) colour" in result.output
    assert path.read_text() == 'mode = "shadow"\ncolour = "blue"\n'


# -- allow and block ------------------------------------------------------------------------------
def test_allow_puts_a_sender_on_the_allow_list(runner):
    result = runner.invoke(main, ["allow", "Friend@Example.org"])
    assert result.exit_code == 0, result.output
    assert "Friend@Example.org is on the allow list" in result.output
    assert stored_lists() == ({"friend@example.org"}, set())


def test_block_takes_a_domain_off_the_allow_list(runner):
    runner.invoke(main, ["allow", "deals.example"])
    result = runner.invoke(main, ["block", "deals.example"])
    assert result.exit_code == 0, result.output
    assert "deals.example is on the block list" in result.output
    assert stored_lists() == (set(), {"deals.example"})


@pytest.mark.parametrize("kind", ["allow", "block"])
def test_remove_takes_an_entry_off_and_says_when_it_was_not_there(runner, kind):
    runner.invoke(main, [kind, "news.example"])
    removed = runner.invoke(main, [kind, "--remove", "news.example"])
    assert removed.exit_code == 0, removed.output
    assert f"removed news.example from the {kind} list" in removed.output
    assert stored_lists() == (set(), set())
    again = runner.invoke(main, [kind, "--remove", "news.example"])
    assert again.exit_code == 0
    assert f"news.example was not on the {kind} list" in again.output


def test_allow_needs_an_entry(runner):
    result = runner.invoke(main, ["allow"])
    assert result.exit_code == 2
    assert "Missing argument 'SENDER-OR-DOMAIN'" in result.output


# -- status ---------------------------------------------------------------------------------------
def test_status_before_any_daemon_ran(runner):
    result = runner.invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    where = paths()
    assert f"mode: shadow    config: {where.config_file}    data: {where.data}" in result.output
    assert "daemon: not running" in result.output
    assert "latest decisions" not in result.output


def test_status_json_before_any_daemon_ran(runner):
    result = runner.invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"daemon": {"running": False}, "activity": {},
                                         "decisions": [], "journal": [],
                                         "failed": {"count": 0, "latest": []},
                                         "time_saved_assumption": TIME_SAVED_ASSUMPTION}


def test_status_shows_the_mode_that_was_set(runner):
    runner.invoke(main, ["mode", "active"])
    result = runner.invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "mode: active" in result.output


def record_activity() -> int:
    store = Store(paths().database)
    store.record_decision("personal", "INBOX", MessageRef("7:1"), {
        "message_id": "deals-1@shoes.example", "content_hash": "h", "at": 1000.0,
        "sender": "deals@shoes.example", "subject": "Discount shoes", "action": "delete",
        "probability": 0.02, "mode": "active"})
    entry = store.journal_intent("personal", "deals-1@shoes.example", "delete", "INBOX", "Trash")
    store.journal_finish(entry, DONE)
    store.close()
    return entry


def test_status_json_lists_decisions_and_journal_entries(runner):
    entry = record_activity()
    result = runner.invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (decision,) = report["decisions"]
    assert (decision["message_id"], decision["action"], decision["sender"]) == (
        "deals-1@shoes.example", "delete", "deals@shoes.example")
    (move,) = report["journal"]
    assert (move["id"], move["kind"], move["target"], move["state"]) == (
        entry, "delete", "Trash", DONE)
    latest = json.loads(runner.invoke(main, ["status", "--json", "--last", "0"]).output)
    assert (latest["decisions"], latest["journal"]) == ([], [])


def table_rows(output: str) -> list[list[str]]:
    """The cells of each body row of the tables rich printed."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in output.splitlines() if line.strip().startswith("│")]


def test_status_table_shows_decisions_and_journal_ids_to_undo(runner):
    entry = record_activity()
    result = runner.invoke(main, ["status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "latest decisions (explain one with `gatekeeper explain ID`)" in result.output
    assert "latest actions (undo one with `gatekeeper undo ID`)" in result.output
    decision, move = table_rows(result.output)
    assert decision[0] == "1"  # the decision's ID, for `explain`
    assert decision[2:] == ["delete", "0.02", "deals@shoes.example", "Discount shoes"]
    assert [move[0], *move[2:]] == [str(entry), "delete", "INBOX", "Trash", DONE,
                                    "Discount shoes"]


def test_status_fits_80_columns_with_long_subjects(runner):
    store = Store(paths().database)
    for n in range(3):
        store.record_decision("personal", "INBOX", MessageRef(f"7:{n + 1}"), {
            "message_id": f"m{n}@shoes.example", "content_hash": f"h{n}", "at": 1000.0 + n,
            "sender": f"a-very-long-sender-address-{n}@marketing.shoes-and-boots.example",
            "subject": f"Discount shoes and boots, a subject that goes on and on {n} " * 3,
            "action": "hold", "probability": 0.3, "mode": "shadow"})
    store.close()
    result = runner.invoke(main, ["status"], env={"COLUMNS": "80"})
    rows = table_rows(result.output)
    assert [row[0] for row in rows] == ["1", "2", "3"]  # one line each: nothing wrapped
    assert all(len(line) <= 80 for line in result.output.splitlines() if "│" in line)
    assert all(row[-1].endswith("…") for row in rows)


def write_daemon_status(updated: float, **account) -> None:
    status = {"pid": 4242, "running": True, "updated": updated, "mode": "active",
              "accounts": {"personal": {**AccountStatus().__dict__, **account}}}
    paths().status_file.parent.mkdir(parents=True, exist_ok=True)
    paths().status_file.write_text(json.dumps(status))


def test_status_shows_a_running_daemon_and_its_accounts(runner):
    write_daemon_status(time.time(), state="watching", decided={"pass": 5, "hold": 3})
    lock = HomeLock(paths().lock_file)
    assert lock.acquire(DAEMON)  # as `gatekeeper run` holds it
    try:
        result = runner.invoke(main, ["status"])
        report = json.loads(runner.invoke(main, ["status", "--json"]).output)
    finally:
        lock.release()
    assert result.exit_code == 0, result.output
    assert f"daemon: running, pid {os.getpid()}" in result.output
    assert "  personal: watching; decided since start: 3 hold, 5 pass" in result.output
    assert report["daemon"]["running"] is True


def test_status_of_a_killed_daemon_says_it_is_not_running(runner):
    """A daemon killed with SIGKILL leaves a status file that says it runs; its lock,
    which the system let go of, says otherwise."""
    write_daemon_status(time.time(), state="watching")
    result = runner.invoke(main, ["status"])
    assert "daemon: not running" in result.output
    assert json.loads(runner.invoke(main, ["status", "--json"]).output)["daemon"]["running"] \
        is False


def test_status_shows_an_account_error(runner):
    write_daemon_status(time.time(), state="failed", error="the server refused the login")
    result = runner.invoke(main, ["status"])
    assert "  personal: failed (the server refused the login); decided since start: none" \
        in result.output


def test_status_of_a_daemon_that_stopped_updating_is_not_running(runner):
    write_daemon_status(0.0, state="watching")
    result = runner.invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "daemon: not running" in result.output


# -- undo -----------------------------------------------------------------------------------------
def test_undo_without_arguments_says_what_to_give(runner):
    result = runner.invoke(main, ["undo"])
    assert result.exit_code == 2
    assert "error: say what to undo: journal entry IDs, or --since TIME" in result.output


def test_undo_of_an_unknown_entry_has_nothing_to_undo(runner):
    result = runner.invoke(main, ["undo", "404"])
    assert result.exit_code == 0, result.output
    assert "nothing to undo" in result.output


def test_undo_since_a_time_that_cannot_be_read_is_an_error(runner):
    result = runner.invoke(main, ["undo", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "--since 'yesterday': give 30m, 2h, 3d or a date" in result.output


# -- service --------------------------------------------------------------------------------------
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the systemd user unit is written on Linux")


@pytest.fixture
def user_home(tmp_path, monkeypatch):
    """A private HOME and XDG config folder, and no program may be run."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    ran = []

    def refuse(*args, **kwargs):
        ran.append(args)
        raise AssertionError(f"a program was run: {args}")

    for name in ("run", "call", "check_call", "check_output", "Popen"):
        monkeypatch.setattr(subprocess, name, refuse)
    yield home
    assert ran == []


def unit_file(home):
    return home / "xdg-config" / "systemd" / "user" / "gatekeeper.service"


def unit_settings(text: str) -> dict[str, str]:
    """The unit's settings; its Environment= lines as one value each, joined by spaces."""
    settings: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            settings[key] = f"{settings[key]} {value}" if key in settings else value
    return settings


def unit_environment(home) -> dict[str, str]:
    value = unit_settings(unit_file(home).read_text()).get("Environment", "")
    return dict(item.split("=", 1) for item in shlex.split(value))


@linux_only
def test_service_install_writes_a_systemd_user_unit(runner, user_home, private_home):
    result = runner.invoke(main, ["service", "install"])
    assert result.exit_code == 0, result.output
    path = unit_file(user_home)
    assert f"wrote {path}" in result.output
    assert "systemctl --user daemon-reload && systemctl --user enable --now gatekeeper.service" \
        in result.output
    settings = unit_settings(path.read_text())
    assert shlex.split(settings["ExecStart"]) == [sys.executable, "-m", "gatekeeper", "run"]
    assert unit_environment(user_home)["GATEKEEPER_HOME"] == str(private_home)
    assert settings["WantedBy"] == "default.target"
    assert settings["Restart"] == "on-failure"


@linux_only
def test_the_unit_runs_a_module_that_exists():
    import importlib.util

    assert importlib.util.find_spec("gatekeeper.__main__") is not None


@linux_only
def test_service_install_without_xdg_config_home_uses_dot_config(runner, user_home, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    result = runner.invoke(main, ["service", "install"])
    assert result.exit_code == 0, result.output
    assert (user_home / ".config" / "systemd" / "user" / "gatekeeper.service").is_file()


@linux_only
def test_service_install_without_gatekeeper_home_sets_no_home(runner, user_home,
                                                                     monkeypatch):
    monkeypatch.delenv("GATEKEEPER_HOME")
    assert runner.invoke(main, ["service", "install"]).exit_code == 0
    assert "GATEKEEPER_HOME" not in unit_environment(user_home)


@linux_only
def test_a_gatekeeper_home_with_a_space_survives_in_the_unit(runner, user_home, monkeypatch,
                                                             tmp_path):
    home = tmp_path / "My Mail"
    monkeypatch.setenv("GATEKEEPER_HOME", str(home))
    assert runner.invoke(main, ["service", "install"]).exit_code == 0
    # systemd's own splitting rule
    assert unit_environment(user_home)["GATEKEEPER_HOME"] == str(home)


@linux_only
def test_the_unit_finds_this_python_and_the_password_command(runner, user_home, monkeypatch):
    monkeypatch.setenv("PATH", "/opt/pass/bin:/usr/bin")
    assert runner.invoke(main, ["service", "install"]).exit_code == 0
    path = unit_environment(user_home)["PATH"].split(":")
    assert path == [os.path.dirname(sys.executable), "/opt/pass/bin", "/usr/bin"]


def test_the_launchd_agent_carries_the_same_environment(monkeypatch, private_home):
    import plistlib

    from gatekeeper.mail.service import service_text

    monkeypatch.setenv("PATH", "/opt/pass/bin:/usr/bin")
    agent = plistlib.loads(service_text("darwin").encode())
    assert agent["ProgramArguments"] == [sys.executable, "-m", "gatekeeper", "run"]
    assert agent["EnvironmentVariables"] == {
        "PATH": f"{os.path.dirname(sys.executable)}:/opt/pass/bin:/usr/bin",
        "GATEKEEPER_HOME": str(private_home)}


def write_account(**settings: str) -> None:
    account = "".join(f'{key} = "{value}"\n' for key, value in settings.items())
    paths().config.mkdir(parents=True, exist_ok=True)
    paths().config_file.write_text(f'[[accounts]]\nname = "alice"\nhost = "127.0.0.1"\n'
                                   f'username = "alice"\n{account}')


@linux_only
def test_service_install_refuses_an_account_whose_password_is_in_the_environment(
        runner, user_home):
    write_account(password_env="MAIL_PASSWORD")
    result = runner.invoke(main, ["service", "install"])
    assert result.exit_code == 2
    assert "account 'alice' reads its password from $MAIL_PASSWORD" in result.output
    assert "a service does not inherit your shell's environment" in result.output
    assert "keyring set gatekeeper alice" in result.output and "password_command" in result.output
    assert not unit_file(user_home).exists()


@linux_only
def test_service_install_takes_an_account_with_a_password_command(runner, user_home):
    write_account(password_command="pass show mail")
    result = runner.invoke(main, ["service", "install"])
    assert result.exit_code == 0, result.output
    assert "MAIL" not in unit_file(user_home).read_text()  # no secret, no variable of it


@linux_only
def test_service_uninstall_removes_the_unit(runner, user_home):
    runner.invoke(main, ["service", "install"])
    result = runner.invoke(main, ["service", "uninstall"])
    assert result.exit_code == 0, result.output
    assert f"removed {unit_file(user_home)}" in result.output
    assert "systemctl --user disable --now gatekeeper.service" in result.output
    assert not unit_file(user_home).exists()


@linux_only
def test_service_uninstall_without_a_unit_says_so(runner, user_home):
    result = runner.invoke(main, ["service", "uninstall"])
    assert result.exit_code == 2
    assert f"error: no service file at {unit_file(user_home)}: nothing to uninstall" \
        in result.output


# -- interests ---------------------------------------------------------------------------
def test_interests_add_list_remove_round_trip(runner):
    assert runner.invoke(main, ["interests", "add", "space exploration, rockets"]).exit_code == 0
    assert runner.invoke(main, ["interests", "add", "crypto promotions", "--disinterest"]).exit_code == 0
    assert runner.invoke(main, ["interests", "add", 'the "Mars" rover ünïcode']).exit_code == 0
    listed = json.loads(runner.invoke(main, ["interests", "list", "--json"]).output)
    assert listed == {"interests": ["space exploration, rockets", 'the "Mars" rover ünïcode'],
                      "disinterests": ["crypto promotions"]}
    result = runner.invoke(main, ["interests", "remove", "space exploration, rockets"])
    assert result.exit_code == 0, result.output
    settings = load_settings()
    assert settings.interests == ('the "Mars" rover ünïcode',)
    assert settings.disinterests == ("crypto promotions",)
    text = paths().config_file.read_text()
    assert "# Plain-language interests and disinterests" in text  # comments kept


def test_removing_an_unknown_interest_says_how_to_see_them(runner):
    result = runner.invoke(main, ["interests", "remove", "knitting"])
    assert result.exit_code != 0
    assert "gatekeeper interests list" in result.output


def test_interests_list_when_there_are_none(runner):
    result = runner.invoke(main, ["interests", "list"])
    assert result.exit_code == 0
    assert "interests:\n  (none)\ndisinterests:\n  (none)" in result.output
