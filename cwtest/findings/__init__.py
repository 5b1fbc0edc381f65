"""What a run finds beyond a tolerance: catalogued framework defects with their reproducers, and
sides that answer one input twice differently."""
