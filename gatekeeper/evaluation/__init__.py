"""Evaluation: how well gatekeeper sorts mail, measured on corpora."""
