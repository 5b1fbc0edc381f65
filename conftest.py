# The suites' shared fixtures; pytester runs the plugin in the project's own tests.
pytest_plugins = ["fixtures.sides", "pytester"]
