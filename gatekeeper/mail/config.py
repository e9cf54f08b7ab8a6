"""Configuration: where state lives, and the settings file (TOML) that says what to do.

Paths come from platformdirs (config, data, logs); `GATEKEEPER_HOME` puts all three under
one folder, so tests and experiments never touch a real home. The file format, with every
setting explained, is `gatekeeper/default_config.toml`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Protocol, TypeVar

from ..core.embed import EMBEDDERS
from ..core.policy import PolicySettings
from ..core.vocabulary import Mode
from ..errors import ConfigError
from .mailbox import BACKENDS

MODES = tuple(Mode)


@dataclass(frozen=True)
class Paths:
    """The folders of one gatekeeper home."""

    config: Path
    data: Path
    logs: Path

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def database(self) -> Path:
        return self.data / "gatekeeper.db"

    def profile_dir(self, account: str) -> Path:
        return self.data / "profiles" / account

    @property
    def status_file(self) -> Path:
        return self.data / "status.json"

    @property
    def lock_file(self) -> Path:
        return self.data / "gatekeeper.lock"

    @classmethod
    def under(cls, root: Path) -> Paths:
        """The layout under one folder, as GATEKEEPER_HOME gives it."""
        return cls(root / "config", root / "data", root / "logs")


def paths() -> Paths:
    """Paths from GATEKEEPER_HOME when set, else the platform's user directories."""
    home = os.environ.get("GATEKEEPER_HOME")
    if home:
        return Paths.under(Path(home).expanduser())
    import platformdirs

    return Paths(Path(platformdirs.user_config_dir("gatekeeper")),
                 Path(platformdirs.user_data_dir("gatekeeper")),
                 Path(platformdirs.user_log_dir("gatekeeper")))


class BackendSettings(Protocol):
    """An account's backend section (`mailbox.BACKENDS`' settings): a frozen dataclass."""

    def problems(self) -> list[str]: ...  # what is missing or wrong, in words
    def where(self) -> str: ...  # where the mail is, for the daemon's log


Section = TypeVar("Section")


@dataclass(frozen=True)
class AccountConfig:
    """One mailbox to watch: what every backend shares, and its kind's own section.
    See default_config.toml for every field."""

    name: str
    backend: BackendSettings  # e.g. mailbox.ImapSettings: the [accounts.imap] table
    inbox: str = "INBOX"
    held_folder: str = "Gatekeeper/Held"
    trash_folder: str = ""  # empty: found by SPECIAL-USE, then by common names
    junk_folder: str = ""
    sent_folder: str = ""
    archive_folder: str = ""
    fetch_bytes: int = 65536  # bytes of each message read (BODY.PEEK[]<0.N>)
    poll_seconds: int = 60  # how often to look when the mailbox cannot say (no IDLE)

    @property
    def kind(self) -> str:
        """The name its backend is registered by ("imap", "maildir")."""
        return next(kind for kind, backend in BACKENDS.items()
                    if isinstance(self.backend, backend.settings))

    def section(self, settings: type[Section]) -> Section:
        """The backend section as that backend reads it; ConfigError for another kind."""
        if not isinstance(self.backend, settings):
            raise ConfigError(f"{self.name}: a {self.kind} account has no {settings.__name__}")
        return self.backend

    def with_backend(self, **changes) -> AccountConfig:
        """The account with these settings of its backend section changed."""
        return replace(self, backend=replace(self.backend, **changes))  # type: ignore[type-var]


@dataclass(frozen=True)
class Settings:
    """The whole settings file."""

    mode: Mode = Mode.SHADOW
    accounts: tuple[AccountConfig, ...] = ()
    policy: PolicySettings = field(default_factory=PolicySettings)
    interests: tuple[str, ...] = ()
    disinterests: tuple[str, ...] = ()
    embedder: str = "onnx"  # a name in embed.EMBEDDERS
    model: str = ""  # the embedder's model folder ("": the shipped model)
    max_length: int = 256  # tokens of each message the model reads
    threads: int = 1  # onnxruntime threads: one leaves the machine to its owner
    learn_every_seconds: int = 600  # how often behaviour is consolidated into the profile

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        raise ConfigError(f"no account named {name!r}; known: "
                          + (", ".join(a.name for a in self.accounts) or "none"))


def _build(cls, data: dict, where: str, also: str = "", **given):
    """`cls` from a table of settings and the fields `given` already built (not keys of
    the table); `also` names what else the table may hold."""
    known = {f.name for f in fields(cls)} - set(given)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}{also}")
    try:
        return cls(**data, **given)
    except TypeError as error:
        raise ConfigError(f"{where}: {error}") from error


# The account block before each backend had its own section (until 2026-12): these
# settings sat beside `name` and `kind`. Still read, so the files on users' disks keep
# working: a kind's own keys move into its section, the other kind's are dropped (they
# never did anything for it).
FLAT_KEYS = {
    "imap": {key: key for key in (
        "host", "port", "username", "security", "ca_file", "auth", "password_env",
        "password_command", "oauth_token_command", "oauth_mechanism", "idle",
        "timeout_seconds")},
    "maildir": {"maildir": "path"},
}


def _kind_of(data: dict, where: str) -> str:
    """The account's kind: as named, else the one section it has, else imap (the flat
    shape's default)."""
    sections = [kind for kind in BACKENDS if isinstance(data.get(kind), dict)]
    kind = data.pop("kind", None) or (sections[0] if len(sections) == 1 else "imap")
    if kind not in BACKENDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(BACKENDS)}, not {kind!r}")
    others = sorted(set(sections) - {kind})
    if others:
        raise ConfigError(f"{where}: the account is of kind {kind}: its section is "
                          f"[accounts.{kind}], not [accounts.{others[0]}]")
    return kind


def _backend_section(data: dict, kind: str, where: str) -> dict:
    """The account's section for its kind, the flat shape's keys moved into it."""
    section = data.pop(kind) if isinstance(data.get(kind), dict) else {}
    for old_kind, renames in FLAT_KEYS.items():
        for flat, key in renames.items():
            if flat not in data:
                continue
            value = data.pop(flat)
            if old_kind != kind:
                continue
            if key in section:
                raise ConfigError(f"{where}: {flat} is given twice, beside the account and "
                                  f"in [accounts.{kind}]; keep the one in [accounts.{kind}]")
            section[key] = value
    return section


def _account(data: dict, index: int) -> AccountConfig:
    where = f"[[accounts]] #{index + 1}"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: an account is a table of settings")
    data = dict(data)
    kind = _kind_of(data, where)
    section = _backend_section(data, kind, where)
    backend = _build(BACKENDS[kind].settings, section, f"{where} [accounts.{kind}]")
    sections = " or ".join(f"[accounts.{kind}]" for kind in BACKENDS)
    account = _build(AccountConfig, data, where, f"; and its section, {sections}",
                     backend=backend)
    if not account.name:
        raise ConfigError(f"{where}: give the account a name")
    problems = backend.problems()
    if problems:
        raise ConfigError(f"{where} ({account.name}): {'; '.join(problems)}")
    return account


def parse_settings(text: str, source: str = "config") -> Settings:
    """Settings from TOML text; ConfigError says exactly what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source} is not valid TOML: {error}") from error
    raw_accounts = data.pop("accounts", [])
    if not isinstance(raw_accounts, list):
        raise ConfigError(f"{source}: write each account as an [[accounts]] block "
                          "(two brackets), not [accounts]")
    accounts = tuple(_account(a, i) for i, a in enumerate(raw_accounts))
    names = [a.name for a in accounts]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: account names must be unique")
    policy_data = data.pop("policy", {})
    if not isinstance(policy_data, dict):
        raise ConfigError(f"{source}: policy must be a [policy] table of settings")
    if "screener_band" in policy_data:
        policy_data["screener_band"] = tuple(policy_data["screener_band"])
    policy = _build(PolicySettings, policy_data, f"{source} [policy]")
    for key in ("interests", "disinterests"):
        if key in data:
            if not (isinstance(data[key], list) and all(isinstance(v, str) for v in data[key])):
                raise ConfigError(f'{source}: {key} must be a list of strings, like '
                                  f'{key} = ["space exploration", "cycling"]')
            data[key] = tuple(data[key])
    settings = _build(Settings, {**data, "accounts": accounts, "policy": policy}, source)
    if settings.mode not in MODES:
        raise ConfigError(f"{source}: mode must be one of {', '.join(MODES)}, not {settings.mode!r}")
    if settings.embedder not in EMBEDDERS:
        raise ConfigError(f"{source}: embedder must be one of {', '.join(EMBEDDERS)}, "
                          f"not {settings.embedder!r}")
    if not isinstance(settings.model, str):
        raise ConfigError(f"{source}: model must be the path of a folder, as a string")
    return replace(settings, mode=Mode(settings.mode))


def settings_file_state(path: Path) -> list | None:
    """What tells one version of the settings file from another: its modification time
    and size (None when there is no file). The daemon reports the one it applied."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_mtime_ns, stat.st_size]


def default_config_text() -> str:
    return (resources.files("gatekeeper") / "default_config.toml").read_text()


def load_settings(path: Path | None = None) -> Settings:
    """The settings file, or the defaults (no accounts) when there is none yet."""
    path = path or paths().config_file
    if not path.exists():
        return parse_settings(default_config_text(), "default config")
    return parse_settings(path.read_text(), str(path))


def set_mode(text: str, mode: str) -> str:
    """The settings text with its top-level `mode` changed, comments kept."""
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}")
    return set_top_level(text, "mode", json.dumps(mode))


def set_statements(text: str, interests: Sequence[str], disinterests: Sequence[str]) -> str:
    """The settings text with its interest and disinterest statements replaced."""
    for key, values in (("interests", interests), ("disinterests", disinterests)):
        text = set_top_level(text, key, json.dumps(list(values), ensure_ascii=False))
    return text


def set_top_level(text: str, key: str, value: str) -> str:
    """The settings text with top-level `key` set to `value` (TOML), all else kept.

    The key is looked for before the first table, at any indentation, with a string or
    (possibly multi-line) array value; when it is not there, a line is added on top.
    """
    tables = re.search(r"^\s*\[", text, re.M)
    top_level = text[: tables.start() if tables else len(text)]
    found = re.search(rf"^(\s*){re.escape(key)}\s*=\s*", top_level, re.M)
    if not found:
        return f"{key} = {value}\n" + text
    end = _value_end(text, found.end())
    return text[: found.start()] + f"{found[1]}{key} = {value}" + text[end:]


def _value_end(text: str, start: int) -> int:
    """Where the TOML string or array starting at `start` ends (past its last character)."""
    depth, quote, index = 0, "", start
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 1
            elif char == quote:
                quote = ""
                if not depth:
                    return index + 1
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if not depth:
                return index + 1
        elif char in "#\n" and not depth:
            break
        index += 1
    return index
