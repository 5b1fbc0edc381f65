"""Standalone reproducers of the catalogued framework defects (cwtest.defects), one script each."""
