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

from ..core.embed import EMBEDDERS
from ..core.policy import PolicySettings
from ..core.vocabulary import Mode
from ..errors import ConfigError

MODES = tuple(Mode)
SECURITY = ("tls", "starttls", "plain")
AUTH = ("password", "oauth2")


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


@dataclass(frozen=True)
class AccountConfig:
    """One mailbox to watch. See default_config.toml for every field."""

    name: str
    kind: str = "imap"  # "imap" or "maildir"
    host: str = ""
    port: int = 993
    username: str = ""
    security: str = "tls"  # tls (IMAPS), starttls, or plain (loopback only)
    ca_file: str = ""  # extra CA bundle to trust (self-signed servers)
    auth: str = "password"  # password or oauth2
    password_env: str = ""  # read the password from this environment variable
    password_command: str = ""  # or run this command and read its output
    oauth_token_command: str = ""  # prints a current OAuth2 access token
    oauth_mechanism: str = "XOAUTH2"  # or OAUTHBEARER
    maildir: str = ""  # for kind = "maildir": the Maildir root
    inbox: str = "INBOX"
    held_folder: str = "Gatekeeper/Held"
    trash_folder: str = ""  # empty: found by SPECIAL-USE, then by common names
    junk_folder: str = ""
    sent_folder: str = ""
    archive_folder: str = ""
    fetch_bytes: int = 65536  # bytes of each message read (BODY.PEEK[]<0.N>)
    idle: bool = True  # use IDLE when the server offers it
    poll_seconds: int = 60  # how often to look when IDLE is not available
    timeout_seconds: int = 60


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


def _build(cls, data: dict, where: str):
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}")
    try:
        return cls(**data)
    except TypeError as error:
        raise ConfigError(f"{where}: {error}") from error


def _account(data: dict, index: int) -> AccountConfig:
    where = f"[[accounts]] #{index + 1}"
    account = _build(AccountConfig, data, where)
    if not account.name:
        raise ConfigError(f"{where}: give the account a name")
    checks = [
        (account.kind in ("imap", "maildir"), "kind must be imap or maildir"),
        (account.security in SECURITY, f"security must be one of {', '.join(SECURITY)}"),
        (account.auth in AUTH, f"auth must be one of {', '.join(AUTH)}"),
        (account.kind != "imap" or bool(account.host and account.username),
         "an imap account needs host and username"),
        (account.kind != "maildir" or bool(account.maildir), "a maildir account needs maildir"),
        (account.auth != "oauth2" or bool(account.oauth_token_command),
         "oauth2 needs oauth_token_command"),
    ]
    for ok, problem in checks:
        if not ok:
            raise ConfigError(f"{where} ({account.name}): {problem}")
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
