"""The run's report: writing and reading it, the end-of-run table, the regression gate, the
baseline, and the CrossedWires export."""
