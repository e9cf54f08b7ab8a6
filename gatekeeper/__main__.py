"""`python -m gatekeeper` is the `gatekeeper` command."""

from .cli import main

main()
