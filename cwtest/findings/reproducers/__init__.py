"""Standalone reproducers of the catalogued framework defects (cwtest.registries.defects), one script each."""
