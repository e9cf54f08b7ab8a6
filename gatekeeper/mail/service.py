"""Run the daemon as a user service: a systemd user unit on Linux, a launchd agent on macOS.

The service starts with nothing of the installing shell but what the file carries: the
home (GATEKEEPER_HOME, when set) and a PATH on which this Python and the commands that
print passwords are found. It refuses an account that reads its password from an
environment variable: the service would not have it, and a password written into the
service file would be a password in plain text.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

from ..errors import ConfigError, GatekeeperError
from .config import AccountConfig
from .mailbox import ImapSettings

UNIT_NAME = "gatekeeper.service"
AGENT_LABEL = "org.gatekeeper.mail.daemon"

SYSTEMD_UNIT = """\
[Unit]
Description=gatekeeper: the local AI gatekeeper for your inbox
After=network-online.target
Wants=network-online.target

[Service]
ExecStart={command}
Restart=on-failure
RestartSec=30
{environment}
[Install]
WantedBy=default.target
"""

LAUNCHD_AGENT = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>{label}</string>
  <key>ProgramArguments</key>
  <array>{arguments}</array>
  <key>EnvironmentVariables</key>
  <dict>{environment}</dict>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
</dict>
</plist>
"""


def run_command() -> list[str]:
    """The command the service runs: this Python, this package."""
    return [sys.executable, "-m", "gatekeeper", "run"]


def service_file(platform: str = sys.platform, home: Path | None = None) -> Path:
    home = home or Path.home()
    if platform == "darwin":
        return home / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"
    if platform.startswith("linux"):
        config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        return config / "systemd" / "user" / UNIT_NAME
    raise GatekeeperError(f"no service support for {platform}; run `gatekeeper run` at login")


def service_environment() -> dict[str, str]:
    """What the service needs of this shell: the home, and a PATH that finds this Python
    first and then what this shell finds (a password_command's program)."""
    search = [str(Path(sys.executable).parent)] + os.environ.get("PATH", os.defpath).split(":")
    environment = {"PATH": ":".join(dict.fromkeys(p for p in search if p))}
    if os.environ.get("GATEKEEPER_HOME"):
        environment["GATEKEEPER_HOME"] = os.environ["GATEKEEPER_HOME"]
    return environment


def service_text(platform: str = sys.platform) -> str:
    command, environment = run_command(), service_environment()
    if platform == "darwin":
        arguments = "".join(f"<string>{escape(part)}</string>" for part in command)
        variables = "".join(f"<key>{escape(k)}</key><string>{escape(v)}</string>"
                            for k, v in environment.items())
        return LAUNCHD_AGENT.format(label=AGENT_LABEL, arguments=arguments,
                                    environment=variables)
    # Quoted: systemd splits an unquoted Environment= value at spaces.
    lines = "".join(f'Environment="{k}={v}"\n' for k, v in environment.items())
    return SYSTEMD_UNIT.format(command=shlex.join(command), environment=lines)


def check_accounts(accounts: Iterable[AccountConfig]) -> None:
    """Refuse accounts a service could not log in to, saying why and what to do instead."""
    for account in accounts:
        server = account.backend
        password_env = server.password_env if isinstance(server, ImapSettings) else ""
        if password_env:
            raise ConfigError(
                f"account {account.name!r} reads its password from ${password_env}, "
                "and a service does not inherit your shell's environment (writing the "
                "password into the service file would keep it in plain text): keep it in "
                f"the system keyring (`keyring set gatekeeper {account.name}`) or give a "
                "command that prints it (password_command, e.g. \"pass show mail\"), "
                "and remove password_env from the account")


def install(platform: str = sys.platform, home: Path | None = None,
            accounts: Iterable[AccountConfig] = ()) -> tuple[Path, str]:
    """Write the service file; returns it and the command that starts the service."""
    check_accounts(accounts)
    path = service_file(platform, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(service_text(platform))
    if platform == "darwin":
        return path, f"launchctl load -w {path}"
    return path, f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}"


def uninstall(platform: str = sys.platform, home: Path | None = None) -> tuple[Path, str]:
    """Remove the service file; returns it and the command that stops the service first."""
    path = service_file(platform, home)
    if not path.exists():
        raise GatekeeperError(f"no service file at {path}: nothing to uninstall")
    path.unlink()
    if platform == "darwin":
        return path, f"launchctl unload {path}"
    return path, f"systemctl --user disable --now {UNIT_NAME}"
