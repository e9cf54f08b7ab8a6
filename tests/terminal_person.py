"""A person at a terminal, for tests of commands that ask questions: the command runs on a
pseudo-terminal, and each answer is typed once the question it answers has been shown."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time


def converse(arguments: list[str], answers: list[tuple[str, str]], timeout: float = 120,
             **environment: str) -> str:
    """Run `gatekeeper ARGUMENTS` on a pty; for each (question, answer) in turn, wait until
    the output since the last answer shows `question`, then type `answer` and Enter.
    Everything the terminal showed, once the command has ended."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "gatekeeper", *arguments],
                               stdin=follower, stdout=follower, stderr=follower,
                               env=dict(os.environ) | environment, close_fds=True)
    os.close(follower)
    output, seen, pending = b"", 0, list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the command ended and closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                while pending and pending[0][0].encode() in output[seen:]:
                    seen = output.index(pending[0][0].encode(), seen) + len(pending[0][0])
                    time.sleep(0.1)  # a person reads the question first
                    os.write(leader, pending.pop(0)[1].encode() + b"\r")
            elif process.poll() is not None:
                break
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    finally:
        os.close(leader)
    text = output.decode(errors="replace").replace("\r\n", "\n")
    assert process.returncode is not None, f"it did not finish; it showed: {text[-3000:]}"
    assert not pending, f"never asked {pending[0][0]!r}; it showed: {text[-3000:]}"
    return text
