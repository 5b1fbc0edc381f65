# The hypothesis profiles (registered before hypothesis reads --hypothesis-profile), and pytester for
# the project's own tests; the suites load their own plugins (suites/conftest.py).
pytest_plugins = ["cwtest.session.profiles", "pytester"]
