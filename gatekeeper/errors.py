"""Errors raised by gatekeeper.

One base class, one subclass per failure. The library raises these; only the CLI turns
them into a message that says what to do next and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass


class GatekeeperError(Exception):
    """Base class of every error gatekeeper raises on purpose."""


class ModelError(GatekeeperError):
    """The embedding model cannot be used."""


class ModelMissingError(ModelError):
    """A file of the shipped model is not where it should be."""


class ModelCorruptError(ModelError):
    """A file of the shipped model does not match the hash in its manifest."""


class BackendUnavailableError(ModelError):
    """An optional embedding backend was asked for but its extra is not installed."""


class InputError(GatekeeperError):
    """Input given on the command line or in a file cannot be read."""


class AudienceError(InputError):
    """An audience file cannot be read, or describes personas that cannot exist; each
    mistake found is one of `problems`."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class ConfigError(GatekeeperError):
    """The settings file or a setting is wrong."""


class CredentialsError(GatekeeperError):
    """No password or token could be found for an account."""


@dataclass(frozen=True)
class Remedy:
    """An account setting that would fix a failure, e.g. security = "starttls": said as
    the settings file writes it, or as the flag of `gatekeeper init`."""

    setting: str
    value: str  # a value, or what to put there ("PATH")

    def as_setting(self) -> str:
        return f"set {self.setting} = \"{self.value}\" for the account"

    def as_flag(self) -> str:
        return f"--{self.setting.replace('_', '-')} {self.value}"


class MailboxError(GatekeeperError):
    """The mailbox refused or failed an operation."""

    def __init__(self, problem: str, remedy: Remedy | None = None) -> None:
        super().__init__(f"{problem}; {remedy.as_setting()}" if remedy else problem)
        self.problem, self.remedy = problem, remedy

    def with_flag(self) -> str:
        """The message naming `gatekeeper init`'s flag for the fix instead of the setting."""
        return f"{self.problem}; try {self.remedy.as_flag()}" if self.remedy else str(self)


class AuthenticationError(MailboxError):
    """The server refused the login: wrong user name, password or token."""


class FolderMissingError(MailboxError):
    """A folder the gatekeeper needs does not exist and cannot be created."""


class InsecureConnectionError(MailboxError):
    """No connection both encrypted and verified could be set up: the server offers no
    STARTTLS (or something on the way strips it), or its certificate is not trusted."""


class ProtocolError(MailboxError):
    """The server did not answer as an IMAP server when connecting."""


class ConnectionLostError(MailboxError):
    """The connection to the server dropped or timed out; reconnecting may help."""


class StorageError(GatekeeperError):
    """Local state cannot be written: the disk is full, or the database or its folder is
    read-only."""


class NotFittedError(GatekeeperError, ValueError, AttributeError):
    """The interest profile was used before it had statements or examples (the same
    bases as scikit-learn's NotFittedError, so code written for either catches it)."""


class ProfileFormatError(GatekeeperError):
    """A saved interest profile was written in a format this version cannot read."""


class CorpusError(GatekeeperError):
    """A labelled corpus cannot be found or read."""


class HomeLockedError(GatekeeperError):
    """Another gatekeeper process holds this home (one daemon per home)."""


class BaselineUnavailableError(GatekeeperError):
    """A filter run beside gatekeeper in an evaluation is not installed."""


class BaselineFailedError(GatekeeperError):
    """A filter run beside gatekeeper in an evaluation did not start or answer."""
