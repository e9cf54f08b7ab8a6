"""Passwords and OAuth2 tokens for an account, never from the settings file itself.

A password comes from an environment variable, from a command that prints it (like
mbsync's PassCmd), or from the system keyring (service "gatekeeper", the account name).
An OAuth2 access token comes from a user-configured command, asked again on expiry.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from .config import AccountConfig
from .errors import CredentialsError

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


def password(account: AccountConfig) -> str:
    """The account's password, from the first source configured."""
    if account.password_env:
        value = os.environ.get(account.password_env)
        if not value:
            raise CredentialsError(f"environment variable {account.password_env} is not set")
        return value
    if account.password_command:
        return _run(account.password_command, "password")
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, account.name)
    except Exception as error:  # no usable keyring backend on this machine
        raise CredentialsError(
            f"the system keyring is not available ({error}); set password_env or "
            "password_command for this account") from error
    if not value:
        raise CredentialsError(f"no password in the keyring for account {account.name!r}; store "
                               f"it with `keyring set {KEYRING_SERVICE} {account.name}` or set "
                               "password_command")
    return value


def store_password(account_name: str, secret: str) -> None:
    """Save a password in the system keyring."""
    import keyring

    try:
        keyring.set_password(KEYRING_SERVICE, account_name, secret)
    except Exception as error:
        raise CredentialsError(f"could not save to the system keyring ({error}); "
                               "use password_command or password_env instead") from error


def oauth_token(account: AccountConfig) -> str:
    """A current OAuth2 access token from the account's token command."""
    return _run(account.oauth_token_command, "OAuth2 token")
