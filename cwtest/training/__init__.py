"""Paired training: the protocol both sides share (plans, epochs, step parity), the harmonization
knobs, and training a pair."""
