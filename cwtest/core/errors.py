"""The one exception type for input a user can fix.

Everything that reads user input (options, trial tables, data folders, report paths)
raises `InputError` with a one-line message naming the input and what is wrong. The
pytest plugin turns it into `pytest.UsageError`, the command line into exit code 2.
"""


class InputError(ValueError):
    """Bad user input; the message is a single line meant for the user."""
