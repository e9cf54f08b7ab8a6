"""The core: reading a message and deciding on it (pure model side)."""
