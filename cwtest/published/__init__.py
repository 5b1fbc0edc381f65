"""The CrossedWires dataset as published: its files (layout), its Keras-2 SavedModels read as arrays (savedmodel),
a writer of small roots made the published way (fixture, writer), and its Python API (dataset)."""
