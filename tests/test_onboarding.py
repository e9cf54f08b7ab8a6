"""Setting up an account: the server found for an address, the settings written, and
`gatekeeper init` against a real Dovecot, by its flags and as a person answers it at a
terminal (plain IMAP, STARTTLS and IMAPS with a self-signed certificate)."""

from __future__ import annotations

import hashlib
import ssl
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.errors import ConfigError, InsecureConnectionError
from gatekeeper.mail import credentials
from gatekeeper.mail.config import AccountConfig, default_config_text, load_settings, parse_settings, paths
from gatekeeper.mail.discovery import (SRV_DEADLINE_SECONDS, SrvRecord, dns_srv_records,
                                  find_server)
from gatekeeper.mail.mailbox import ImapMailbox, ImapSettings
from gatekeeper.mail.onboarding import account_block, account_for_address, add_account, alternatives

from conftest import account_for
from reader import PASSWORD, Reader, wanted_message
from terminal_person import converse


@pytest.mark.parametrize("address, host, port, security, auth", [
    ("someone@gmail.com", "imap.gmail.com", 993, "tls", "oauth2"),
    ("Someone@Outlook.com", "outlook.office365.com", 993, "tls", "oauth2"),
    ("me@yahoo.com", "imap.mail.yahoo.com", 993, "tls", "password"),
    ("me@icloud.com", "imap.mail.me.com", 993, "tls", "password"),
    ("me@fastmail.com", "imap.fastmail.com", 993, "tls", "password"),
    ("me@gmx.de", "imap.gmx.net", 993, "tls", "password"),
    ("me@proton.me", "127.0.0.1", 1143, "starttls", "password"),
])
def test_a_well_known_provider_is_found_without_dns(address, host, port, security, auth):
    def no_dns(name, timeout):
        raise AssertionError(f"DNS was asked for {name}")

    server = find_server(address, no_dns)
    assert (server.host, server.port, server.security, server.auth) == (host, port, security, auth)


def srv(records: dict[str, list[SrvRecord]]):
    asked = []

    def lookup(name, timeout):
        asked.append(name)
        return records.get(name, [])
    return lookup, asked


def test_dns_srv_records_name_the_server_imaps_first():
    lookup, asked = srv({
        "_imaps._tcp.example.org": [SrvRecord(20, 0, 993, "backup.example.org."),
                                    SrvRecord(10, 5, 993, "mail.example.org.")],
        "_imap._tcp.example.org": [SrvRecord(0, 0, 143, "other.example.org.")]})
    server = find_server("me@example.org", lookup)
    assert (server.host, server.port, server.security) == ("mail.example.org", 993, "tls")
    assert server.found_by == "found in the DNS SRV record _imaps._tcp.example.org"
    assert asked == ["_imaps._tcp.example.org"]


def test_an_imap_srv_record_means_starttls_and_a_dot_means_not_offered():
    lookup, asked = srv({"_imaps._tcp.example.org": [SrvRecord(0, 0, 0, ".")],
                         "_imap._tcp.example.org": [SrvRecord(0, 0, 1143, "imap.example.net.")]})
    server = find_server("me@example.org", lookup)
    assert (server.host, server.port, server.security) == ("imap.example.net", 1143, "starttls")
    assert asked == ["_imaps._tcp.example.org", "_imap._tcp.example.org"]


def test_without_srv_records_the_guess_is_imap_dot_domain():
    lookup, _ = srv({})
    server = find_server("me@small-isp.example", lookup)
    assert (server.host, server.port, server.security) == ("imap.small-isp.example", 993, "tls")
    assert server.found_by == "guessed from the domain"


def test_a_dns_lookup_that_fails_is_silent_and_quick():
    started = time.monotonic()
    # .invalid never resolves (RFC 6761); with no network the resolver fails at once.
    assert dns_srv_records("_imaps._tcp.example.invalid", 1.0) == []
    assert time.monotonic() - started < SRV_DEADLINE_SECONDS + 1
    assert find_server("me@example.invalid").host == "imap.example.invalid"


def test_a_slow_resolver_is_given_up_on_at_the_deadline():
    waits = []

    def slow(name, timeout):
        waits.append(timeout)
        time.sleep(timeout)
        return []

    assert find_server("me@example.org", slow).host == "imap.example.org"
    assert len(waits) == 1 and waits[0] <= SRV_DEADLINE_SECONDS


@pytest.mark.parametrize("address", ["me at example.org", "@example.org", "me@", "me@localhost"])
def test_not_an_address_is_a_clear_error(address):
    with pytest.raises(ConfigError, match="not an email address"):
        find_server(address)


def test_alternatives_try_the_same_port_first_and_plain_only_to_this_machine():
    def ways(account):
        return [(a.backend.port, a.backend.security) for a in alternatives(account)]

    local = AccountConfig("a", ImapSettings(host="127.0.0.1", port=1143, security="tls",
                                            username="a"))
    assert ways(local) == [(1143, "starttls"), (1143, "plain"), (993, "tls"), (143, "starttls")]
    remote = local.with_backend(host="imap.example.org", port=993)
    assert ways(remote) == [(993, "starttls"), (143, "starttls")]


def test_given_settings_override_the_guess_and_are_checked():
    account = account_for_address("me@fastmail.com", port=143, security="starttls",
                                  password_env="MAIL_PASSWORD", host=None)
    server = account.backend
    assert (account.name, server.host, server.port, server.security) == (
        "me", "imap.fastmail.com", 143, "starttls")
    with pytest.raises(ConfigError, match="oauth2 needs oauth_token_command"):
        account_for_address("someone@gmail.com")


def test_the_account_block_round_trips_and_is_added_once():
    account = account_for_address("me@fastmail.com", password_command="pass show mail")
    text = add_account(default_config_text(), account)
    assert parse_settings(text).accounts == (account,)
    assert "# What the gatekeeper does with its decisions" in text  # the comments stay
    assert account_block(account).startswith('[[accounts]]\nname = "me"\n')
    with pytest.raises(ConfigError, match="already set up; choose another with --name"):
        add_account(text, account)


def init_arguments(server, *extra: str) -> list[str]:
    return ["init", "--address", "alice@example.org", "--username", "alice",
            "--host", "127.0.0.1", "--port", str(server.imaps_port), "--ca-file",
            server.ca_file, "--password-env", "GK_TEST_PASSWORD", *extra]


def test_init_checks_the_login_lists_folders_and_writes_a_shadow_account(server):
    result = CliRunner().invoke(main, init_arguments(server))
    assert result.exit_code == 0, result.output
    assert "logged in; folders: inbox = INBOX, held = Gatekeeper/Held, trash = Trash" in result.output
    settings = load_settings()
    assert settings.mode == "shadow"
    (account,) = settings.accounts
    login = account.backend
    assert (account.name, login.host, login.port, login.username) == (
        "alice", "127.0.0.1", server.imaps_port, "alice")
    reader = Reader(server)
    assert "Gatekeeper/Held" in reader.folders()
    reader.close()
    again = CliRunner().invoke(main, init_arguments(server))
    assert again.exit_code != 0 and "already set up" in again.output


def test_init_with_a_wrong_password_writes_nothing(server, monkeypatch):
    monkeypatch.setenv("GK_TEST_PASSWORD", "wrong")
    result = CliRunner().invoke(main, init_arguments(server))
    assert result.exit_code != 0
    assert "refused the login for alice" in result.output
    assert not paths().config_file.exists()


# -- the flag route: errors that name the fix (finding 2 and 3 of issue 17) ------------------
def test_tls_to_a_starttls_port_says_to_use_starttls(server):
    result = CliRunner().invoke(main, init_arguments(server, "--port", str(server.imap_port)))
    assert result.exit_code == 2
    assert "reached, but it answered in plain text, not TLS (WRONG_VERSION_NUMBER)" in result.output
    assert "try --security starttls" in result.output and "cannot reach" not in result.output


def test_a_self_signed_certificate_says_to_give_the_ca_file(server):
    arguments = init_arguments(server)
    del arguments[arguments.index("--ca-file"):arguments.index("--ca-file") + 2]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2
    assert "its certificate is not trusted (self-signed certificate)" in result.output
    assert "try --ca-file PATH" in result.output and "cannot reach" not in result.output


def test_starttls_to_a_server_without_it_names_the_setting_that_works_here(start_dovecot):
    server = start_dovecot(tls=False)
    result = CliRunner().invoke(main, init_arguments(server, "--port", str(server.imap_port),
                                                     "--security", "starttls"))
    assert result.exit_code == 2 and "offers no STARTTLS" in result.output
    assert "try --security plain" in result.output  # to this machine only


def test_the_daemon_hears_the_fix_as_a_setting(server):
    with pytest.raises(InsecureConnectionError) as failure:
        ImapMailbox(account_for(server, port=server.imap_port), PASSWORD)
    assert str(failure.value).endswith('set security = "starttls" for the account')


def test_a_refused_login_names_what_to_check(server, monkeypatch):
    monkeypatch.setenv("GK_TEST_PASSWORD", "wrong")
    result = CliRunner().invoke(main, init_arguments(server))
    assert result.exit_code == 2
    assert "check the login name and the password in $GK_TEST_PASSWORD" in result.output


def test_without_a_keyring_init_names_the_password_flags(server, monkeypatch):
    monkeypatch.setattr(credentials, "keyring_backend", lambda: None)
    arguments = init_arguments(server)
    del arguments[arguments.index("--password-env"):arguments.index("--password-env") + 2]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2
    assert "no usable system keyring" in result.output
    assert "--password-command CMD" in result.output and "--password-env VAR" in result.output
    assert "password_env" not in result.output and "password_command" not in result.output
    assert not paths().config_file.exists()


def test_the_flag_route_ends_by_naming_interests_and_train(server):
    result = CliRunner().invoke(main, init_arguments(server))
    assert result.exit_code == 0, result.output
    assert "gatekeeper interests add" in result.output and "`gatekeeper train`" in result.output


# -- at a terminal, with no flags (findings 1, 2 and 4 of issue 17) --------------------------
def first_questions(port: int) -> list[tuple[str, str]]:
    """A person setting up alice on a local Dovecot: the address, the server changed to
    this machine and its port, security left as proposed, the login name, and the
    password from an environment variable (this machine has no keyring)."""
    return [("Your email address", "alice@example.org"), ("IMAP server [imap.example.org]",
            "127.0.0.1"), ("Port [993]", str(port)), ("Security", ""), ("Login name", "alice"),
            ("Choose", "2"), ("Environment variable",
                                                       "GK_TEST_PASSWORD")]


NO_INTERESTS_NO_TRAIN = [("Interest", ""), ("Not wanted", ""), ("train)?", "n")]


def the_account() -> AccountConfig:
    (account,) = load_settings().accounts
    return account


def works(account: AccountConfig) -> bool:
    from gatekeeper.mail.onboarding import verify

    return verify(account).held == "Gatekeeper/Held"


def test_init_at_a_terminal_finds_plain_imap_on_a_local_server(start_dovecot):
    server = start_dovecot(tls=False)
    output = converse(["init"], first_questions(server.imap_port) + NO_INTERESTS_NO_TRAIN)
    assert "Proposed server: imap.example.org:993 (tls), guessed from the domain" in output
    assert "WRONG_VERSION_NUMBER" in output and "offers no STARTTLS" in output
    assert f"127.0.0.1:{server.imap_port} (plain) works (tls on port {server.imap_port} " \
           "did not): using it." in output
    account = the_account()
    login = account.backend
    assert (login.host, login.port, login.security, login.username, login.password_env) == (
        "127.0.0.1", server.imap_port, "plain", "alice", "GK_TEST_PASSWORD")
    assert works(account)


def test_init_at_a_terminal_finds_starttls_and_asks_for_the_certificate(server):
    output = converse(["init"], first_questions(server.imap_port)
                      + [("Trust this certificate?", "n"), ("empty to stop", server.ca_file)]
                      + NO_INTERESTS_NO_TRAIN)
    assert "this port expects STARTTLS" in output
    assert "its certificate is not trusted (self-signed certificate)" in output
    assert f"127.0.0.1:{server.imap_port} (starttls) works" in output
    account = the_account()
    assert (account.backend.port, account.backend.security, account.backend.ca_file) == (
        server.imap_port, "starttls", server.ca_file)
    assert works(account)


def test_init_at_a_terminal_trusts_a_self_signed_imaps_server_given_its_certificate(server):
    output = converse(["init"], first_questions(server.imaps_port)
                      + [("Trust this certificate?", ""), ("empty to stop", "/nowhere/cert.pem"),
                         ("empty to stop", server.ca_file)]
                      + NO_INTERESTS_NO_TRAIN)
    assert "no file at /nowhere/cert.pem" in output
    assert "works (" not in output  # the way proposed was the way in
    account = the_account()
    assert (account.backend.port, account.backend.security, account.backend.ca_file) == (
        server.imaps_port, "tls", server.ca_file)
    assert works(account)


def test_init_at_a_terminal_offers_only_the_password_routes_this_machine_has(server):
    output = converse(["init"], first_questions(server.imaps_port)
                      + [("Trust this certificate?", "n"), ("empty to stop", "")])
    assert "There is no system keyring on this machine" in output
    assert "(--password-command)" in output and "(--password-env)" in output
    assert "keyring (" not in output
    assert not paths().config_file.exists()  # the person stopped: nothing written


def test_init_at_a_terminal_trusts_the_certificate_the_server_shows_once_compared(server):
    der = ssl.PEM_cert_to_DER_cert(Path(server.ca_file).read_text())
    fingerprint = hashlib.sha256(der).hexdigest().upper()
    output = converse(["init"], first_questions(server.imaps_port)
                      + [("Trust this certificate?", "y")] + NO_INTERESTS_NO_TRAIN)
    assert ":".join(fingerprint[i:i + 2] for i in range(0, 64, 2)) in output
    account = the_account()
    saved = paths().config / "certificates" / f"127.0.0.1-{server.imaps_port}.pem"
    assert account.backend.ca_file == str(saved)
    assert ssl.PEM_cert_to_DER_cert(saved.read_text()) == der
    assert works(account)


def test_init_at_a_terminal_asks_again_when_the_login_is_refused(server):
    questions = first_questions(server.imaps_port)[:-1] + [
        ("Environment variable", "GK_WRONG_PASSWORD"), ("Trust this certificate?", "y"),
        ("Login name [alice]", ""),
        ("Choose", "2"), ("Environment variable", "GK_TEST_PASSWORD")]
    output = converse(["init"], questions + NO_INTERESTS_NO_TRAIN, GK_WRONG_PASSWORD="wrong")
    assert "check the login name and the password in $GK_WRONG_PASSWORD" in output
    account = the_account()
    assert account.backend.password_env == "GK_TEST_PASSWORD" and works(account)


def test_init_at_a_terminal_takes_a_password_command(server, tmp_path):
    script = tmp_path / "password"
    script.write_text("#!/bin/sh\necho \"$GK_TEST_PASSWORD\"\n")
    script.chmod(0o700)
    questions = first_questions(server.imaps_port)[:-2] + [("Choose", "1"), (
        "Command that prints the password", str(script)), ("Trust this certificate?", "y")]
    converse(["init"], questions + NO_INTERESTS_NO_TRAIN)
    account = the_account()
    assert account.backend.password_command == str(script) and works(account)


def test_init_at_a_terminal_keeps_a_typed_password_in_the_keyring(server, tmp_path,
                                                                     monkeypatch):
    import keyring

    from file_keyring import FileKeyring

    store = tmp_path / "keyring.json"
    environment = {"GK_TEST_KEYRING": str(store), "PYTHONPATH": str(Path(__file__).parent),
                   "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring"}
    questions = first_questions(server.imaps_port)[:-2] + [
        ("system keyring (test file keyring)", ""), ("Choose [1]", ""),
        ("Password", "not it"), ("Trust this certificate?", "y"),
        ("Login name [alice]", ""), ("Password", PASSWORD)]
    output = converse(["init"], questions + NO_INTERESTS_NO_TRAIN, **environment)
    assert "password kept in the system keyring (test file keyring)" in output
    assert "not it" not in output and PASSWORD not in output  # typed unseen
    account = the_account()
    assert not (account.backend.password_env or account.backend.password_command)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GK_TEST_PASSWORD")
    monkeypatch.setattr(keyring.core, "_keyring_backend", FileKeyring())
    assert works(account)


@pytest.mark.model
def test_init_at_a_terminal_ends_with_interests_and_training(server):
    reader = Reader(server)
    for n in range(3):
        reader.deliver(wanted_message(n), flags=("\\Seen",))
    reader.close()
    output = converse(["init"], first_questions(server.imaps_port)
                      + [("Trust this certificate?", "n"), ("empty to stop", server.ca_file),
                         ("Interest", "space exploration"),
                         ("Interest", "rockets"), ("Interest", ""),
                         ("Not wanted", "shoe sales"), ("Not wanted", ""), ("train)?", "")],
                      timeout=300)
    assert "Next: gatekeeper run" not in output
    settings = load_settings()
    assert settings.interests == ("space exploration", "rockets")
    assert settings.disinterests == ("shoe sales",)
    assert "alice: read 3 messages" in output
    assert "Next: `gatekeeper run`" in output
