"""The transfer suite's harness, whole models on two sides: their structure check, weight transfer, output and
gradient parity, per-layer localization, checkpoints, and your own models (yours)."""
