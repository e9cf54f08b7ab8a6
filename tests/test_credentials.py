"""Passwords and tokens: from the environment, from a command, from the keyring."""

from __future__ import annotations

import shlex
import sys

import keyring
import pytest

from gatekeeper.errors import CredentialsError
from gatekeeper.mail import credentials
from gatekeeper.mail.config import AccountConfig
from gatekeeper.mail.credentials import oauth_token, password, store_password
from gatekeeper.mail.mailbox import ImapSettings


def account(**fields) -> AccountConfig:
    return AccountConfig("personal", ImapSettings(host="imap.example.org", username="me", **fields))


def python_command(code: str) -> str:
    """A command line running a bit of Python with this interpreter."""
    return shlex.join([sys.executable, "-c", code])


@pytest.fixture
def no_keyring(monkeypatch):
    """Fail the test if the real keyring is asked for anything."""
    def refuse(*args):
        raise AssertionError(f"the keyring was used: {args}")

    monkeypatch.setattr(keyring, "get_password", refuse)
    monkeypatch.setattr(keyring, "set_password", refuse)


# -- environment variable ----------------------------------------------------------------------
def test_password_from_an_environment_variable(monkeypatch, no_keyring):
    monkeypatch.setenv("GK_MAIL_PASSWORD", "s3cret with spaces ")
    assert password(account(password_env="GK_MAIL_PASSWORD")) == "s3cret with spaces "


def test_a_missing_environment_variable_is_named(monkeypatch, no_keyring):
    monkeypatch.delenv("GK_NOT_SET", raising=False)
    with pytest.raises(CredentialsError, match="environment variable GK_NOT_SET is not set"):
        password(account(password_env="GK_NOT_SET"))


def test_an_empty_environment_variable_counts_as_missing(monkeypatch, no_keyring):
    monkeypatch.setenv("GK_EMPTY", "")
    with pytest.raises(CredentialsError, match="GK_EMPTY"):
        password(account(password_env="GK_EMPTY"))


def test_the_environment_variable_wins_over_the_command(monkeypatch, no_keyring):
    monkeypatch.setenv("GK_MAIL_PASSWORD", "from-env")
    assert password(account(password_env="GK_MAIL_PASSWORD",
                            password_command="printf from-command")) == "from-env"


# -- password command ----------------------------------------------------------------------------
def test_password_from_a_command(no_keyring):
    assert password(account(password_command="printf secret")) == "secret"


def test_a_command_is_split_like_a_shell_would(no_keyring):
    command = python_command("import sys; print(sys.argv[1])") + " 'two words'"
    assert password(account(password_command=command)) == "two words"


def test_only_the_first_line_of_the_output_is_the_password(no_keyring):
    command = "printf '  hunter2\\nuser: me\\n'"
    assert password(account(password_command=command)) == "hunter2"


def test_a_failing_command_gives_its_exit_code(no_keyring):
    with pytest.raises(CredentialsError, match="password command exited with 3; check it"):
        password(account(password_command="sh -c 'exit 3'"))


def test_a_command_that_prints_nothing_is_an_error(no_keyring):
    with pytest.raises(CredentialsError, match="the password command printed nothing"):
        password(account(password_command="printf ''"))


def test_a_command_that_prints_only_blank_lines_is_an_error(no_keyring):
    with pytest.raises(CredentialsError, match="printed nothing"):
        password(account(password_command="printf '\\n  \\n'"))


def test_a_command_that_does_not_exist_is_a_credentials_error(no_keyring):
    with pytest.raises(CredentialsError, match="could not run the password command"):
        password(account(password_command="/nonexistent/gk-pass-helper show"))


def test_a_command_that_hangs_is_stopped(monkeypatch, no_keyring):
    import subprocess

    def hang(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs.get("timeout"))

    monkeypatch.setattr(credentials.subprocess, "run", hang)
    with pytest.raises(CredentialsError, match="could not run the password command"):
        password(account(password_command="pass show mail"))


def test_what_the_command_prints_on_stderr_is_not_the_password(no_keyring):
    command = python_command("import sys; sys.stderr.write('warning\\n'); print('pw')")
    assert password(account(password_command=command)) == "pw"


# -- OAuth2 ----------------------------------------------------------------------------------------
def test_an_oauth_token_comes_from_its_command(no_keyring):
    config = account(auth="oauth2", oauth_token_command="printf 'ya29.token\\n'")
    assert oauth_token(config) == "ya29.token"


def test_a_failing_token_command_is_named_as_such(no_keyring):
    config = account(auth="oauth2", oauth_token_command="sh -c 'exit 1'")
    with pytest.raises(CredentialsError, match="the OAuth2 token command exited with 1"):
        oauth_token(config)


# -- keyring --------------------------------------------------------------------------------------
def test_without_env_or_command_the_keyring_is_asked(monkeypatch):
    asked = []

    def get_password(service, name):
        asked.append((service, name))
        return "from-keyring"

    monkeypatch.setattr(keyring, "get_password", get_password)
    assert password(account()) == "from-keyring"
    assert asked == [("gatekeeper", "personal")]


def test_an_unavailable_keyring_suggests_the_other_sources(monkeypatch):
    def broken(service, name):
        raise RuntimeError("No recommended backend was available")

    monkeypatch.setattr(keyring, "get_password", broken)
    with pytest.raises(CredentialsError) as raised:
        password(account())
    message = str(raised.value)
    assert "keyring did not answer (No recommended backend was available)" in message
    assert "--password-command CMD" in message and "--password-env VAR" in message


def test_no_password_in_the_keyring_says_how_to_store_one(monkeypatch):
    monkeypatch.setattr(keyring, "get_password", lambda service, name: None)
    with pytest.raises(CredentialsError,
                       match="no password in the keyring for account 'personal'.*"
                             "`keyring set gatekeeper personal`"):
        password(account())


def test_store_password_saves_under_the_gatekeeper_service(monkeypatch):
    saved = []
    monkeypatch.setattr(keyring, "set_password", lambda *args: saved.append(args))
    store_password("personal", "s3cret")
    assert saved == [("gatekeeper", "personal", "s3cret")]


def test_store_password_without_a_keyring_is_a_credentials_error(monkeypatch):
    def broken(*args):
        raise RuntimeError("locked")

    monkeypatch.setattr(keyring, "set_password", broken)
    with pytest.raises(CredentialsError, match=r"could not save .*\(locked\).*--password-command CMD"):
        store_password("personal", "s3cret")
