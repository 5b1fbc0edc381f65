"""The torch adapter: torchvision's models and the published torch definitions (adapter, models), the layer
suite's blocks (blocks) and its reference side (cases)."""
