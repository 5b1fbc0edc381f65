"""Standalone reproducers of the catalogued framework defects (cwtest.findings.defects), one script each."""
