"""The mail side: the reader's mailboxes, store, daemon and what learns from them."""
