"""Passwords and OAuth2 tokens for an account, never from the settings file itself.

A password comes from an environment variable, from a command that prints it (like
mbsync's PassCmd), or from the system keyring (service "gatekeeper", the account name).
An OAuth2 access token comes from a user-configured command, asked again on expiry.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from ..errors import CredentialsError
from .config import AccountConfig
from .mailbox import ImapSettings

KEYRING_SERVICE = "gatekeeper"


def _run(command: str, what: str) -> str:
    try:
        result = subprocess.run(shlex.split(command), capture_output=True, text=True,
                                timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CredentialsError(f"could not run the {what} command: {error}") from error
    if result.returncode != 0:
        raise CredentialsError(f"the {what} command exited with {result.returncode}; "
                               "check it by running it in a terminal")
    value = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    if not value:
        raise CredentialsError(f"the {what} command printed nothing")
    return value


NO_KEYRING = "there is no usable system keyring on this machine"
OTHER_ROUTES = ("give the password another way: --password-command CMD (a command that prints "
                "it, e.g. \"pass show mail\") or --password-env VAR (a variable holding it)")


def keyring_backend() -> str | None:
    """The name of the system keyring that would keep a password, None when this machine
    has none usable (a headless Linux: keyring falls back to a backend that always fails)."""
    try:
        import keyring

        backend = keyring.get_keyring()
        if backend.priority <= 0:  # keyring's fail.Keyring, or a chainer of nothing
            return None
        return getattr(backend, "name", type(backend).__name__)
    except Exception:  # noqa: BLE001 -- a broken keyring set-up is no keyring
        return None


def secret_source(account: AccountConfig) -> str:
    """Where the account's password or token comes from, for a message saying what to check."""
    server = account.section(ImapSettings)
    if server.auth == "oauth2":
        return f"the token that `{server.oauth_token_command}` prints"
    if server.password_env:
        return f"the password in ${server.password_env}"
    if server.password_command:
        return f"the password that `{server.password_command}` prints"
    return (f"the password in the system keyring (`keyring set {KEYRING_SERVICE} "
            f"{account.name}` replaces it)")


def password(account: AccountConfig) -> str:
    """The account's password, from the first source configured."""
    server = account.section(ImapSettings)
    if server.password_env:
        value = os.environ.get(server.password_env)
        if not value:
            raise CredentialsError(f"environment variable {server.password_env} is not set "
                                   "(a service started at login does not see your shell's "
                                   "variables)")
        return value
    if server.password_command:
        return _run(server.password_command, "password")
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, account.name)
    except Exception as error:  # no usable keyring backend here, or it is locked
        raise CredentialsError(
            f"{account.name}: the system keyring did not answer ({error}); {OTHER_ROUTES} to "
            "`gatekeeper init`, or as password_command or password_env in the account's "
            "settings") from error
    if not value:
        raise CredentialsError(f"no password in the keyring for account {account.name!r}; store "
                               f"it with `keyring set {KEYRING_SERVICE} {account.name}` or "
                               "run `gatekeeper init` again")
    return value


def store_password(account_name: str, secret: str) -> None:
    """Save a password in the system keyring."""
    import keyring

    try:
        keyring.set_password(KEYRING_SERVICE, account_name, secret)
    except Exception as error:
        raise CredentialsError(f"could not save to the system keyring ({error}); "
                               f"{OTHER_ROUTES}") from error


def oauth_token(account: AccountConfig) -> str:
    """A current OAuth2 access token from the account's token command."""
    return _run(account.section(ImapSettings).oauth_token_command, "OAuth2 token")
