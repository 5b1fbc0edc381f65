"""The shipped suites start a cwtest run (cwtest.session.run) even when no crossedwires option is given,
and share the fixtures of the run's two sides (cwtest.session.fixtures) and the hypothesis profiles
(registered before hypothesis reads --hypothesis-profile)."""

pytest_plugins = ["cwtest.session.run", "cwtest.session.fixtures", "cwtest.session.profiles"]
