"""Whole models on two sides: the architectures, their structure check, weight transfer, output and
gradient parity, per-layer localization, tolerances, and checkpoints."""
