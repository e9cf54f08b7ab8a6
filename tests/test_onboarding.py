"""Setting up an account: provider guesses, the settings written, and `gatekeeper init`
against a real Dovecot."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.config import default_config_text, load_settings, parse_settings, paths
from gatekeeper.errors import ConfigError
from gatekeeper.onboarding import account_block, account_for_address, add_account, guess_provider

from reader import Reader


@pytest.mark.parametrize("address, host, auth", [
    ("someone@gmail.com", "imap.gmail.com", "oauth2"),
    ("Someone@Outlook.com", "outlook.office365.com", "oauth2"),
    ("me@fastmail.com", "imap.fastmail.com", "password"),
    ("me@small-isp.example", "imap.small-isp.example", "password"),
])
def test_the_server_is_guessed_from_the_address(address, host, auth):
    provider = guess_provider(address)
    assert (provider.host, provider.auth) == (host, auth)


def test_not_an_address_is_a_clear_error():
    with pytest.raises(ConfigError, match="not an email address"):
        guess_provider("me at example.org")


def test_given_settings_override_the_guess_and_are_checked():
    account = account_for_address("me@fastmail.com", port=143, security="starttls",
                                  password_env="MAIL_PASSWORD", host=None)
    assert (account.name, account.host, account.port, account.security) == (
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
    assert (account.name, account.host, account.port, account.username) == (
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
