"""A keyring backend in a JSON file named by $GK_TEST_KEYRING, standing in for the system
keyring a desktop has (this machine has none): a command run in a subprocess uses it
through PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring, with tests/ on PYTHONPATH."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    priority = 1
    name = "test file keyring"

    @property
    def _path(self) -> Path:
        return Path(os.environ["GK_TEST_KEYRING"])

    def _read(self) -> dict:
        return json.loads(self._path.read_text()) if self._path.exists() else {}

    def get_password(self, service, username):
        return self._read().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        self._path.write_text(json.dumps(self._read() | {f"{service}/{username}": password}))

    def delete_password(self, service, username):
        self._path.write_text(json.dumps({k: v for k, v in self._read().items()
                                          if k != f"{service}/{username}"}))
