"""The campaign side: a sender's campaign judged against a simulated audience."""
