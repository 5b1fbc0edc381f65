"""The CrossedWires dataset as published: its files (layout), its Keras-2 SavedModels (savedmodel),
a writer of small roots made the published way (fixture), and its Python API (dataset)."""
