"""Run the daemon as a user service: a systemd user unit on Linux, a launchd agent on macOS."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from .errors import GatekeeperError

UNIT_NAME = "gatekeeper.service"
AGENT_LABEL = "org.gatekeeper.daemon"

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


def service_text(platform: str = sys.platform) -> str:
    command = run_command()
    if platform == "darwin":
        arguments = "".join(f"<string>{part}</string>" for part in command)
        return LAUNCHD_AGENT.format(label=AGENT_LABEL, arguments=arguments)
    home = os.environ.get("GATEKEEPER_HOME")
    # Quoted: systemd splits an unquoted Environment= value at spaces.
    environment = f'Environment="GATEKEEPER_HOME={home}"\n' if home else ""
    return SYSTEMD_UNIT.format(command=shlex.join(command), environment=environment)


def install(platform: str = sys.platform, home: Path | None = None) -> tuple[Path, str]:
    """Write the service file; returns it and the command that starts the service."""
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
