"""The pytest session: the plugin's entry point, the run it starts, its options and fixtures, progress on the
terminal, and what each xdist worker sets up and keeps."""
