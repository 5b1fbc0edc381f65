"""What a run finds beyond a tolerance: sides that answer one input twice differently (rerun), and the catalogued
framework defects' standalone reproducers (reproducers; the catalogue is cwtest.registries.defects) and how they run
(reproduce)."""
