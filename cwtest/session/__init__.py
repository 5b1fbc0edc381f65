"""The pytest session: the plugin's hooks and fixtures, its options, progress on the terminal, and
what each xdist worker sets up and keeps."""
