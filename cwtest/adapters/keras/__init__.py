"""The Keras adapter, on any of Keras's own backends: keras.applications' models (adapter, models), the layer
suite's blocks (blocks) and the side measured against torch (cases), the published SavedModels (published)."""
