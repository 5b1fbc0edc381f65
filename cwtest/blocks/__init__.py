"""The layer suite's harness: one registry case run on two sides and measured (layer_parity), and an optimizer
case stepped on both (optimizer_paths). The registries themselves are cwtest.registries."""
