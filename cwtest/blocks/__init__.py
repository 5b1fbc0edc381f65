"""Layer building blocks and optimizers on two sides: the registries, the parity of one case, and
the catalogue of semantic differences."""
