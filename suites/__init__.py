"""The shipped suites (cwtest.suites in an installed wheel; see setup.py and cwtest.session.shipped)."""
