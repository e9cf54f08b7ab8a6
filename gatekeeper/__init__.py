"""gatekeeper: a local-first AI gatekeeper for your inbox."""

__version__ = "0.1.0"
