# The suites' shared fixtures, the hypothesis profiles (registered before hypothesis reads
# --hypothesis-profile), and pytester for the project's own tests.
pytest_plugins = ["fixtures.sides", "cwtest.session.profiles", "pytester"]
