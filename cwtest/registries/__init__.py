"""What is tested, as data: the architectures, the layer blocks and what each draws, the optimizers, the catalogue
of semantic differences, the harmonization knobs, the catalogued framework defects and every named tolerance.
Entries name their builders by key (each adapter holds them); nothing here imports a framework or an adapter."""
